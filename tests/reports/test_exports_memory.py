"""Long exports stream: the grades export of twenty times as many audits
takes no more memory than a small one, because rows go out as they come
from the cursor (``tests/bench/exports.py`` measures the same at 100,000
audits and prints the rates)."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar.datastructures import State

from server.cli.demo import generate
from server.db.exports import GradeFilters
from server.db.pool import create_pool
from server.settings import Settings
from tests.bench.exports import measure, reviewer_of
from toolkits.registry import Registry

SMALL = 10
LARGE = 200
# Participants per round trip: fewer than the small export has, so both
# exports hold a full batch at their peak and only their length differs.
PREFETCH = 20
CHUNK_ROWS = 50  # rows per CSV chunk sent and per XLSX chunk written, likewise


async def test_a_large_export_takes_no_more_memory_than_a_small_one(
    db: asyncpg.Connection[Any], database_url: str, settings: Settings, toolkits: Registry
) -> None:
    await generate(db, toolkits, audits=SMALL, partnership="export-small")
    await generate(db, toolkits, audits=LARGE, partnership="export-large")
    pool = await create_pool(settings, database_url)
    try:
        state = State({"pool": pool})
        figures = {}
        for partnership in ("export-small", "export-large"):
            principal = await reviewer_of(db, partnership)
            for kind in ("csv", "xlsx"):
                # Once untraced first, so imports and caches are not counted.
                await measure(
                    state,
                    toolkits,
                    principal,
                    kind,
                    GradeFilters(),
                    trace_memory=False,
                    prefetch=PREFETCH,
                    chunk_rows=CHUNK_ROWS,
                )
                figures[partnership, kind] = await measure(
                    state,
                    toolkits,
                    principal,
                    kind,
                    GradeFilters(),
                    trace_memory=True,
                    prefetch=PREFETCH,
                    chunk_rows=CHUNK_ROWS,
                )
    finally:
        await pool.close()
    for kind in ("csv", "xlsx"):
        small, large = figures["export-small", kind], figures["export-large", kind]
        assert large.rows >= 15 * small.rows > 0
        assert small.peak_mib is not None and large.peak_mib is not None
        # Twenty times the rows, about the same memory: one batch at a time.
        assert large.peak_mib < 1.5 * small.peak_mib + 0.25, (kind, small, large)
