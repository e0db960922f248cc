"""The load benchmark's pure parts: the draft it saves is one Maca accepts,
and the figures it prints are the ones wrk and pgbench reported."""

from __future__ import annotations

import json

import msgspec
import pytest

from agencies.applicability import Participant, view_for
from agencies.contributions import validate_contribution
from server.app import load_toolkits
from tests.bench.figures import (
    AMENDMENT,
    AMENDMENT_CEILING,
    CEILING,
    DRAFT_SAVE,
    NO_OP,
    OWN_STATEMENTS,
    SUBMIT,
    SUBMIT_CEILING,
    Measurement,
    Memory,
    ceiling_ratios,
    draft_content,
    error_notes,
    errors_cell,
    from_pgbench,
    from_wrk,
    own_statement_ratios,
    percentile,
    table,
    targets,
)
from toolkits.answers import CaseDetails, ContributionContent
from toolkits.validation import case_detail_values

HEALTH_REFERRER = Participant(agency_kind="health", is_referrer=True)
CASE = CaseDetails(answers={})


def test_the_draft_is_about_nine_kilobytes_of_answers_and_comments_and_maca_accepts_it() -> None:
    toolkit = load_toolkits().current("multi-agency-cp")
    view = view_for(toolkit, HEALTH_REFERRER, case_detail_values(CASE))
    draft = draft_content(msgspec.to_builtins(view))

    size = len(json.dumps(draft))
    assert 8_500 <= size <= 9_500
    assert len(draft["answers"]) >= 45
    assert sum("comments" in answer for answer in draft["answers"].values()) >= 5
    content = msgspec.convert(draft, ContributionContent)
    assert validate_contribution(toolkit, HEALTH_REFERRER, content, case_details=case_detail_values(CASE)) == []


def test_a_view_with_nothing_for_the_agency_to_answer_is_refused() -> None:
    with pytest.raises(ValueError, match="answers no questions"):
        draft_content({"sections": [{"id": "case-details", "completed_by": "coordinator", "questions": []}]})


WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:8000
  2 threads and 8 connections
BENCH {"requests": 10000, "duration_us": 5000000, "status": 3, "connect": 0, "read": 1, "write": 0, "timeout": 0, \
"p50_us": 2500, "p95_us": 7000, "p99_us": 12000, "max_us": 40000}
"""


def test_wrk_figures_count_error_responses_and_socket_errors() -> None:
    measured = from_wrk("audit (GET)", 8, WRK_OUTPUT)

    assert measured.per_second == 2_000
    assert measured.errors == 4
    assert measured.error_kinds == {"status": 3, "read": 1}
    assert (measured.p50_ms, measured.p95_ms, measured.p99_ms) == (2.5, 7.0, 12.0)


def test_wrk_output_without_figures_is_an_error_not_a_zero() -> None:
    with pytest.raises(ValueError, match="no figures"):
        from_wrk("audit (GET)", 8, "unable to connect to 127.0.0.1:8000 Connection refused")


PGBENCH_OUTPUT = """transaction type: save_draft.sql
number of clients: 8
duration: 5 s
number of transactions actually processed: 4
number of failed transactions: 0 (0.000%)
latency average = 2.000 ms
tps = 2.000000 (without initial connection time)
"""


def test_pgbench_figures_come_from_its_rate_and_its_transaction_log() -> None:
    log = ["0 1 1000 0 1700000000 1", "1 1 2000 0 1700000000 2", "0 2 3000 0 1700000001 3", "1 2 40000 0 1700000001 4"]
    measured = from_pgbench(CEILING, 8, PGBENCH_OUTPUT, log)

    assert measured.requests == 4
    assert measured.per_second == pytest.approx(2.0)
    assert (measured.p50_ms, measured.p99_ms) == (2.0, 40.0)
    assert measured.errors == 0


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([], 99) == 0


def _measured(name: str, concurrency: int, per_second: float, p99_ms: float = 10.0) -> Measurement:
    return Measurement(
        name=name,
        concurrency=concurrency,
        requests=int(per_second * 5),
        seconds=5.0,
        errors=0,
        p50_ms=1.0,
        p95_ms=p99_ms / 2,
        p99_ms=p99_ms,
    )


def test_the_table_shows_draft_saves_against_the_ceiling_and_each_target_met_or_missed() -> None:
    measured = [
        _measured(DRAFT_SAVE, 32, 1_200, p99_ms=80.0),
        _measured(CEILING, 32, 3_000),
        _measured("judgement (GET)", 32, 2_500),
    ]
    memory = Memory(peak_total_mb=300, peak_worker_mb=120, end_total_mb=290, end_worker_mb=118, workers=2)

    assert ceiling_ratios(measured) == {32: pytest.approx(0.4)}
    verdicts = dict(targets(measured, memory))
    assert verdicts["draft save at c=32 ≥ 50% of pgbench (40%)"] is False
    assert verdicts["draft save (PUT) p99 < 50 ms (80.0)"] is False
    assert verdicts["judgement (GET) ≥ 2,000/s (2,500)"] is True
    assert verdicts["RSS per worker < 200 MB (120 at peak)"] is True
    printed = table(measured, memory)
    assert "| draft save (PUT) | 32 | 1,200 | 1.0 | 40.0 | 80.0 | 0 | 40% |" in printed
    assert "| draft save at c=32 ≥ 50% of pgbench (40%) | MISSED | 0.80 |" in printed
    assert "| judgement (GET) ≥ 2,000/s (2,500) | met | 1.25 |" in printed


def test_the_draft_save_is_also_shown_over_pgbench_sending_macas_own_statements() -> None:
    measured = [
        _measured(DRAFT_SAVE, 8, 300),
        _measured(CEILING, 8, 3_000),
        _measured(OWN_STATEMENTS, 8, 600),
        _measured(DRAFT_SAVE, 32, 200),
        _measured(CEILING, 32, 2_000),
    ]
    assert own_statement_ratios(measured) == {8: pytest.approx(0.5)}
    printed = table(measured, None)
    assert "Draft save over pgbench sending Maca's own statements" in printed and "50% at c=8." in printed
    # The target stays the share of the plain ceiling.
    assert dict(targets(measured, None))["draft save at c=8 ≥ 50% of pgbench (10%)"] is False


def test_the_no_op_request_is_a_yardstick_shown_in_the_table_not_a_target() -> None:
    measured = [_measured(NO_OP, 32, 2_400, p99_ms=70.0), _measured("judgement (GET)", 32, 900, p99_ms=60.0)]
    verdicts = dict(targets(measured, None))
    assert not any(NO_OP in what for what in verdicts), verdicts
    assert verdicts["judgement (GET) ≥ 2,000/s (900)"] is False
    assert "| no-op (GET /healthz) | 32 | 2,400 |" in table(measured, None)


WRK_OUTPUT_BY_STATUS = """Running 5s test @ http://127.0.0.1:8000
BENCH {"requests": 5000, "duration_us": 5000000, "status": 349, "connect": 0, "read": 0, "write": 0, "timeout": 2, \
"p50_us": 2500, "p95_us": 7000, "p99_us": 12000, "max_us": 40000, "statuses": {"200": 4651, "412": 2, "503": 347}}
"""


def test_wrk_errors_are_told_apart_by_status_code_and_shed_load_is_named_as_such() -> None:
    measured = from_wrk(DRAFT_SAVE, 32, WRK_OUTPUT_BY_STATUS)

    assert measured.errors == 351
    assert measured.error_kinds == {"412": 2, "503": 347, "timeout": 2}
    assert errors_cell(measured) == "351 (412: 2; 503: 347; timeout: 2)"
    notes = error_notes([measured])
    assert notes[0].startswith("412: a stale ETag")
    assert notes[1].startswith("503: shed load, not a failure")
    printed = table([measured], None)
    assert "| draft save (PUT) | 32 | 1,000 | 2.5 | 7.0 | 12.0 | 351 (412: 2; 503: 347; timeout: 2) |  |" in printed
    assert "Errors: 503: shed load, not a failure" in printed


def test_a_run_without_errors_shows_none_and_explains_none() -> None:
    measured = _measured(DRAFT_SAVE, 8, 900)

    assert errors_cell(measured) == "0"
    assert error_notes([measured]) == []
    assert "Errors:" not in table([measured], None)


def test_submit_and_amendment_are_each_measured_against_their_own_pgbench_script() -> None:
    measured = [
        _measured(DRAFT_SAVE, 8, 900),
        _measured(CEILING, 8, 3_600),
        _measured(SUBMIT, 8, 300),
        _measured(SUBMIT_CEILING, 8, 500),
        _measured(AMENDMENT, 32, 400, p99_ms=120.0),
        _measured(AMENDMENT_CEILING, 32, 1_000),
    ]

    assert ceiling_ratios(measured, SUBMIT) == {8: pytest.approx(0.6)}
    assert ceiling_ratios(measured, AMENDMENT) == {32: pytest.approx(0.4)}
    verdicts = dict(targets(measured, None))
    assert verdicts["draft save at c=8 ≥ 50% of pgbench (25%)"] is False
    assert verdicts["submit at c=8 ≥ 50% of pgbench (60%)"] is True
    assert verdicts["amendment at c=32 ≥ 50% of pgbench (40%)"] is False
    assert verdicts["amendment (PUT) p99 < 50 ms (120.0)"] is False
    printed = table(measured, None)
    assert "| submit (POST) | 8 | 300 | 1.0 | 5.0 | 10.0 | 0 | 60% |" in printed
    assert "| pgbench submit | 8 | 500 | 1.0 | 5.0 | 10.0 | 0 |  |" in printed
    assert "| amendment (PUT) | 32 | 400 | 1.0 | 60.0 | 120.0 | 0 | 40% |" in printed
    assert "| submit at c=8 ≥ 50% of pgbench (60%) | met | 1.20 |" in printed
    assert "| amendment at c=32 ≥ 50% of pgbench (40%) | MISSED | 0.80 |" in printed
