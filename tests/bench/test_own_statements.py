"""The draft save's second ceiling (``tests/bench/own_sql.py``): pgbench
sends Maca's own statements as the server sends them, as maca_app under a
sealed identity, and each of its transactions is a real save — a new row
version written by the sealed person and its event — so the ceiling
``make bench`` prints is of the very work a save does. A migration that
changes the functions' signatures, or a seal the database stops accepting,
breaks this test rather than the benchmark."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.bench import own_sql
from tests.bench.figures import draft_content
from tests.bench.load import WRITING, pgbench_binary
from tests.server.audit_fixtures import (
    People,
    an_open_audit,
    contribution_url,
    people_fixture,  # noqa: F401 - fixture
    read_audit,
    request,
)


async def test_each_transaction_of_the_own_statements_script_is_a_save_by_the_sealed_person(
    people: People, db: asyncpg.Connection[Any], database_url: str, tmp_path: Path
) -> None:
    if not pgbench_binary().exists():
        pytest.skip("pgbench is not in this PostgreSQL build")
    audit = await an_open_audit(people, participants=list(WRITING))
    body = draft_content((await read_audit(people, "health", audit))["questions"])
    url = contribution_url(audit, people, "health")
    current = await request(people, "health", "GET", url)
    saved = await request(people, "health", "PUT", url, json=body, headers={"If-Match": current.headers["etag"]})
    assert saved.status_code == 200, saved.text
    me = (await request(people, "health", "GET", "/api/me")).json()
    mine = "SELECT row_version FROM contributions WHERE audit_id = $1 AND organisation_id = $2"
    saves = "SELECT count(*) FROM events WHERE audit_id = $1 AND action = 'contribution.saved' AND user_id = $2"
    before = await db.fetchval(mine, audit["id"], people.organisation_id("health"))
    saves_before = await db.fetchval(saves, audit["id"], people.user_id("health"))

    logs = tmp_path / "logs"
    logs.mkdir()
    sealed = await own_sql.prepare(database_url, [str(audit["id"])], me)
    try:
        argv = own_sql.command(pgbench_binary(), database_url, sealed, me, json.dumps(body), 1, 1, logs)
        output, lines = own_sql.run_pgbench(argv, logs)
    finally:
        await own_sql.forget(database_url)

    assert lines, output
    assert await db.fetchval(mine, audit["id"], people.organisation_id("health")) == before + len(lines)
    assert await db.fetchval(saves, audit["id"], people.user_id("health")) == saves_before + len(lines)
    # pgbench logged in as maca_app, not as the owner (row-level security on).
    assert "maca_app" in argv[-1]
