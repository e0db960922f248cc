"""The dashboard's learning view over 100,000 audits: p50/p95 of
``GET /api/learning`` through the whole application (token checked, event
recorded), for a reviewer: the themes with their counts for the whole
partnership and for one programme, and the passages behind one theme.

The audits are generated once (``maca demo``'s generator, seed 1, with its
programmes, panels and learning tags) into a bench database kept under
``MACA_DATA_DIR/bench/learning`` and reused by later runs. Knobs:
``BENCH_LEARNING_AUDITS`` (100000), ``BENCH_LEARNING_REQUESTS`` (200).
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
from server.db import embedded
from server.db.migrate import migrate
from server.settings import load_settings
from tests.identity import bearer, token_for

COUNTS = (
    "SELECT t.id, t.name, c.passages, c.audits FROM learning_themes t CROSS JOIN LATERAL ("
    "SELECT coalesce(sum(p.n), 0) AS passages, count(*) AS audits FROM (SELECT g.audit_id, count(*) AS n "
    "FROM learning_tags g WHERE g.theme_id = t.id GROUP BY g.audit_id) p) c WHERE t.partnership_id = $1"
)


async def _prepare(url: str, audits: int) -> dict[str, Any]:
    connection = await asyncpg.connect(url)
    try:
        await migrate(connection)
        have = await connection.fetchval("SELECT count(*) FROM audits")
        generated: dict[str, Any] = {"audits": have}
        if have < audits:
            plan = await generate(connection, load_toolkits(), audits=audits, seed=1)
            generated = {"audits": audits, "generated_now": plan.audits, "generate_seconds": plan.seconds}
        generated["learning_tags"] = await connection.fetchval("SELECT count(*) FROM learning_tags")
        partnership = await connection.fetchval("SELECT id FROM partnerships WHERE code = 'demo-partnership'")
        lines = [r[0] for r in await connection.fetch("EXPLAIN (ANALYZE, BUFFERS) " + COUNTS, partnership)]
        generated["plan_counts"] = lines[-1]
        print("  EXPLAIN ANALYZE counts:\n    " + "\n    ".join(lines), flush=True)
        return generated
    finally:
        await connection.close()


async def _measure(url: str, requests: int) -> dict[str, Any]:
    settings = load_settings({**os.environ, "MACA_ENV": "development", "MACA_LOG_LEVEL": "warning"})
    app = create_app(settings, database_url=url)
    figures: dict[str, Any] = {}
    owner = await asyncpg.connect(url)
    programme = await owner.fetchval(
        "SELECT programme_id FROM audits WHERE programme_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    )
    theme = await owner.fetchval("SELECT theme_id FROM learning_tags GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
    await owner.close()
    queries = {
        "themes, whole partnership": "",
        "themes, one programme": f"?programme={programme}",
        "passages behind a theme": f"?theme={theme}",
    }
    async with AsyncTestClient(app=app) as client:
        headers = bearer(await token_for(app, "reviewer"))
        assert (await client.get("/api/me", headers=headers)).status_code == 200
        for name, query in queries.items():
            for _ in range(10):  # warm the pool and the caches
                await client.get("/api/learning" + query, headers=headers)
            timings = []
            # The passages behind a count read each audit's contributions:
            # a drill-down, measured with fewer requests.
            for _ in range(requests if "theme=" not in query else max(20, requests // 10)):
                started = time.perf_counter()
                response = await client.get("/api/learning" + query, headers=headers)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.text
            cuts = statistics.quantiles(timings, n=100)
            figures[name] = {"p50_ms": round(cuts[49], 1), "p95_ms": round(cuts[94], 1)}
            passages = len(response.json()["passages"])
            print(f"  {name}: {passages} passages, p50 {cuts[49]:.1f} ms, p95 {cuts[94]:.1f} ms", flush=True)
    return figures


def run() -> dict[str, Any]:
    audits = int(os.environ.get("BENCH_LEARNING_AUDITS", "100000"))
    requests = int(os.environ.get("BENCH_LEARNING_REQUESTS", "200"))
    base = load_settings()
    folder = base.data_path / "bench" / "learning"
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
