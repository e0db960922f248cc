"""The themes dashboard over 100,000 audits: p50/p95 of
``GET /api/reports/themes`` through the whole application (token checked,
event recorded), for a reviewer, with and without filters: "computed" is
the first read after a change of the partnership's themes (its version
bumped before each request, so every one adds up the counted rows again),
"kept" a read while nothing changed (the process's kept dashboard).

The audits are generated once (``maca demo``'s generator, seed 1) into a
bench database kept under ``MACA_DATA_DIR/bench/themes`` and reused by later
runs. Knobs: ``BENCH_THEMES_AUDITS`` (100000), ``BENCH_THEMES_REQUESTS``
(200 per filter set).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient

from server.app import create_app, load_toolkits
from server.cli.demo import generate
from server.db import embedded, theme_versions
from server.db.migrate import migrate
from server.settings import load_settings
from tests.identity import bearer, token_for

QUERIES = {
    "everything": "",
    "one toolkit, closed": "?toolkit=multi-agency-cp&status=closed",
    "police, one year": "?agency_kind=police&from=2025-Q1&to=2025-Q4",
}

PLANS = {
    "sections": "SELECT toolkit_id, section_id, grade, sum(audits) FROM theme_section_counts "
    "WHERE partnership_id = $1 AND participating_kind = '*' GROUP BY 1, 2, 3",
    "trend": "SELECT quarter, grade, sum(audits) FROM theme_section_counts "
    "WHERE partnership_id = $1 AND participating_kind = '*' AND section_id = 'overall' GROUP BY 1, 2",
    "agencies": "SELECT toolkit_id, agency_kind, section_id, grade, sum(grades) FROM theme_agency_counts "
    "WHERE partnership_id = $1 GROUP BY 1, 2, 3, 4",
    "overdue": "SELECT o.agency_kind, count(*) FROM remedial_actions r JOIN audits a ON a.id = r.audit_id "
    "LEFT JOIN organisations o ON o.id = r.responsible_organisation_id "
    "WHERE a.partnership_id = $1 AND NOT r.completed AND r.due_date < current_date GROUP BY 1",
}


async def _prepare(url: str, audits: int) -> dict[str, Any]:
    connection = await asyncpg.connect(url)
    try:
        await migrate(connection)
        have = await connection.fetchval("SELECT count(*) FROM audit_summaries")
        generated: dict[str, Any] = {"audits": have}
        if have < audits:
            plan = await generate(connection, load_toolkits(), audits=audits, seed=1)
            generated = {"audits": audits, "generated_now": plan.audits, "generate_seconds": plan.seconds}
        partnership = await connection.fetchval("SELECT id FROM partnerships WHERE code = 'demo-partnership'")
        for name, sql in PLANS.items():
            lines = [r[0] for r in await connection.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, partnership)]
            generated[f"plan_{name}"] = lines[-1]  # "Execution Time: … ms"
            print(f"  EXPLAIN ANALYZE {name}:\n    " + "\n    ".join(lines), flush=True)
        return generated
    finally:
        await connection.close()


async def _measure(url: str, requests: int) -> dict[str, Any]:
    settings = load_settings({**os.environ, "MACA_ENV": "development", "MACA_LOG_LEVEL": "warning"})
    app = create_app(settings, database_url=url)
    figures: dict[str, Any] = {}
    owner = await asyncpg.connect(url)
    async with AsyncTestClient(app=app) as client:
        headers = bearer(await token_for(app, "reviewer"))
        assert (await client.get("/api/me", headers=headers)).status_code == 200
        partnership = await owner.fetchval("SELECT id FROM partnerships WHERE code = 'demo-partnership'")

        for name, query in QUERIES.items():
            for _ in range(10):  # warm the pool and the caches
                await client.get("/api/reports/themes" + query, headers=headers)
            for kind in ("computed", "kept"):
                timings = []
                for _ in range(requests):
                    if kind == "computed":
                        await theme_versions.bump(owner, partnership)
                    started = time.perf_counter()
                    response = await client.get("/api/reports/themes" + query, headers=headers)
                    timings.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, response.text
                cuts = statistics.quantiles(timings, n=100)
                figures[f"{name}, {kind}"] = {"p50_ms": round(cuts[49], 1), "p95_ms": round(cuts[94], 1)}
                audits = response.json()["audits"]
                print(f"  {name}, {kind}: {audits} audits, p50 {cuts[49]:.1f} ms, p95 {cuts[94]:.1f} ms", flush=True)
    await owner.close()
    return figures


def run() -> dict[str, Any]:
    audits = int(os.environ.get("BENCH_THEMES_AUDITS", "100000"))
    requests = int(os.environ.get("BENCH_THEMES_REQUESTS", "200"))
    base = load_settings()
    folder = base.data_path / "bench" / "themes"
    server = None
    url = base.database_url
    if url is None:
        server = embedded.start(folder)
        url = server.url()
    try:
        prepared = asyncio.run(_prepare(url, audits))
        figures = asyncio.run(_measure(url, requests))
    finally:
        if server is not None:
            server.stop()
    summary: dict[str, Any] = {**prepared, "requests": requests}
    for name, values in figures.items():
        summary[f"{name} p50_ms"] = values["p50_ms"]
        summary[f"{name} p95_ms"] = values["p95_ms"]
    return summary
