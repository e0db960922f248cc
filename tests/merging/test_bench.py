"""The benchmark `make bench` runs still runs, on the size it claims."""

from __future__ import annotations

from tests.bench import merge as bench


def test_the_benchmark_merges_12_agencies_9_sections_50_questions_each() -> None:
    figures = bench.run(repeat=3)
    assert (figures["agencies"], figures["sections"], figures["questions"]) == (12, 9, 450)
    assert figures["answers"] == 12 * 450
    assert 0 < figures["median_us"] <= figures["p95_us"]
