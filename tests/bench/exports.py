"""The grades export over many audits: rows per second and peak memory of
the CSV and XLSX exports, through the code the API streams from
(``server.api.exports.stream_grades``: a cursor in the caller's
transaction, rows written as they come), for a reviewer.

Peak memory is Python's own allocations (tracemalloc) while one export is
consumed chunk by chunk and thrown away, as a client downloading it would;
a small export beside a large one shows that memory does not grow with
the number of rows. Rates are measured without tracemalloc (it slows
Python several times over).

The audits are ``maca demo``'s (seed 1) in the database the themes
benchmark keeps under ``MACA_DATA_DIR/bench/themes``, so both benchmarks
share one generation. Knobs: ``BENCH_EXPORT_AUDITS`` (100000).
"""

from __future__ import annotations

import asyncio
import os
import time
import tracemalloc
import uuid
from typing import Any, cast

import asyncpg
import msgspec
from litestar.datastructures import State

from server.api.exports import grade_filters, stream_grades
from server.app import load_toolkits
from server.auth.principal import Principal
from server.cli.demo import generate
from server.db import embedded
from server.db.exports import PREFETCH, GradeFilters
from server.db.migrate import migrate
from server.db.pool import create_pool
from server.reports import exports
from server.settings import Settings, load_settings
from toolkits.registry import Registry

WRITERS = {"csv": exports.csv_chunks, "xlsx": exports.xlsx_chunks}


class ExportFigures(msgspec.Struct, frozen=True, kw_only=True):
    rows: int
    megabytes: float
    seconds: float
    rows_per_second: int
    peak_mib: float | None  # Python's peak allocations while exporting (tracemalloc)


async def measure(
    state: State,
    registry: Registry,
    principal: Principal,
    kind: str,
    filters: GradeFilters,
    *,
    trace_memory: bool,
    prefetch: int = PREFETCH,
    chunk_rows: int = exports.CHUNK_ROWS,
) -> ExportFigures:
    """Consume one export chunk by chunk, keeping nothing but counts."""
    rows = 0
    size = 0

    async def counted(source: Any) -> Any:
        nonlocal rows
        async for row in source:
            rows += 1
            yield row

    def write(source: Any) -> Any:
        return WRITERS[kind](counted(source), chunk_rows=chunk_rows)

    if trace_memory:
        tracemalloc.start()
        tracemalloc.reset_peak()
    started = time.perf_counter()
    try:
        async for chunk in stream_grades(state, registry, principal, filters, write, prefetch=prefetch):
            size += len(chunk)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if trace_memory else None
    finally:
        if trace_memory:
            tracemalloc.stop()
    return ExportFigures(
        rows=rows,
        megabytes=round(size / 1e6, 1),
        seconds=round(seconds, 2),
        rows_per_second=round(rows / seconds) if seconds else 0,
        peak_mib=None if peak is None else round(peak / 2**20, 2),
    )


async def reviewer_of(connection: asyncpg.Connection[Any], partnership: str = "demo-partnership") -> Principal:
    """A reviewer of ``partnership``, as a token for one would be read."""
    row = await connection.fetchrow(
        """
        SELECT p.id AS partnership_id, o.id AS organisation_id, o.code, o.name, o.agency_kind
          FROM partnerships p JOIN organisations o ON o.partnership_id = p.id
         WHERE p.code = $1 ORDER BY (o.code = 'demo-partnership-team') DESC, o.code LIMIT 1
        """,
        partnership,
    )
    assert row is not None, f"no partnership {partnership}"
    return Principal(
        issuer="bench",
        subject="bench-reviewer",
        user_id=uuid.uuid4(),
        display_name=None,
        organisation_id=row["organisation_id"],
        organisation_code=row["code"],
        organisation_name=row["name"],
        agency_kind=row["agency_kind"],
        partnership_id=row["partnership_id"],
        roles=frozenset({"reviewer"}),
    )


async def _prepare(url: str, registry: Registry, audits: int) -> dict[str, Any]:
    connection = await asyncpg.connect(url)
    try:
        await migrate(connection)
        have = await connection.fetchval("SELECT count(*) FROM audits")
        if have < audits:
            await generate(connection, registry, audits=audits, seed=1)
        return {"audits": await connection.fetchval("SELECT count(*) FROM audits")}
    finally:
        await connection.close()


async def _measure(settings: Settings, url: str, registry: Registry) -> dict[str, Any]:
    pool = await create_pool(settings, url)
    state = State({"pool": pool})
    try:
        async with pool.acquire() as connection:
            principal = await reviewer_of(cast("asyncpg.Connection[Any]", connection))
            newest = await connection.fetchval("SELECT max(created_at) FROM audits")
        quarter = f"{newest.year}-Q{(newest.month - 1) // 3 + 1}"

        def only(**given: str) -> GradeFilters:
            wanted: dict[str, str | None] = {"toolkit": None, "agency_kind": None, "status": None, **given}
            return grade_filters(registry, period_from=quarter, period_to=quarter, **wanted)

        every = GradeFilters()
        # XlsxWriter makes about ten thousand rows a second here, several
        # times fewer than the CSV's: the XLSX runs take one toolkit's audits
        # of one quarter, so the whole benchmark stays within minutes at
        # 100,000 audits.
        runs = {
            # rates: no tracemalloc
            "csv all": ("csv", every, False),
            "xlsx quarter toolkit": ("xlsx", only(toolkit="multi-agency-cp"), False),
            # memory: a small export beside a large one
            "csv quarter toolkit (traced)": ("csv", only(toolkit="multi-agency-cp"), True),
            "csv quarter (traced)": ("csv", only(), True),
            "xlsx quarter toolkit police (traced)": (
                "xlsx",
                only(toolkit="multi-agency-cp", agency_kind="police"),
                True,
            ),
            "xlsx quarter toolkit (traced)": ("xlsx", only(toolkit="multi-agency-cp"), True),
        }
        figures: dict[str, Any] = {}
        for name, (kind, filters, traced) in runs.items():
            result = await measure(state, registry, principal, kind, filters, trace_memory=traced)
            print(
                f"  {name}: {result.rows} rows, {result.megabytes} MB in {result.seconds} s, "
                f"{result.rows_per_second} rows/s" + (f", peak {result.peak_mib} MiB" if traced else ""),
                flush=True,
            )
            if traced:
                figures[f"{name} rows"] = result.rows
                figures[f"{name} peak_mib"] = result.peak_mib
            else:
                figures[f"{name} rows"] = result.rows
                figures[f"{name} rows_per_s"] = result.rows_per_second
        return figures
    finally:
        await pool.close()


def run() -> dict[str, Any]:
    audits = int(os.environ.get("BENCH_EXPORT_AUDITS", "100000"))
    settings = load_settings({**os.environ, "MACA_LOG_LEVEL": "warning"})
    registry = load_toolkits()
    folder = settings.data_path / "bench" / "themes"
    server = None
    url = settings.database_url
    if url is None:
        server = embedded.start(folder)
        url = server.url()
    try:
        prepared = asyncio.run(_prepare(url, registry, audits))
        figures = asyncio.run(_measure(settings, url, registry))
    finally:
        if server is not None:
            server.stop()
    return {**prepared, **figures}
