"""The submit's and the amendment's pgbench scripts run against Maca's own
schema and write what the server's submit and amendment write (a kept
version of the right kind, an event, the audit's summary, the dashboard's
counted rows and its version), into the bench's own tables: the ceiling
``make bench`` prints is of the same work, and a migration that changes
those tables breaks this test rather than the benchmark."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.bench.figures import AMENDMENT, SUBMIT, draft_content
from tests.bench.load import (
    BENCH_TABLES,
    CEILING_TABLES,
    COUNTED_ROWS,
    WRITING,
    Plan,
    Runner,
    amendments,
    pgbench_binary,
    read_row,
)
from tests.server.audit_fixtures import (
    People,
    an_open_audit,
    contribution_url,
    people_fixture,  # noqa: F401 - fixture
    read_audit,
    request,
)

CLIENTS = 2


async def health_submitted(people: People) -> tuple[dict[str, Any], bytes]:
    """An audit of the bench's three agencies, health's ~9 KB contribution
    submitted, as the bench's amendments start from; and that contribution."""
    audit = await an_open_audit(people, participants=list(WRITING))
    seen = await read_audit(people, "health", audit)
    body = draft_content(seen["questions"])
    url = contribution_url(audit, people, "health")
    current = await request(people, "health", "GET", url)
    saved = await request(people, "health", "PUT", url, json=body, headers={"If-Match": current.headers["etag"]})
    assert saved.status_code == 200, saved.text
    submitted = await request(people, "health", "POST", f"{url}/submit", headers={"If-Match": saved.headers["etag"]})
    assert submitted.status_code == 200, submitted.text
    return audit, json.dumps(body).encode()


async def counts(db: asyncpg.Connection[Any], *tables: str) -> dict[str, int]:
    return {table: await db.fetchval(f"SELECT count(*) FROM {table}") for table in tables}  # noqa: S608 - our names


@pytest.mark.parametrize(("write", "kind"), [(SUBMIT, "submitted"), (AMENDMENT, "amended")])
async def test_the_pgbench_script_writes_what_the_server_writes_into_the_benchs_own_rows(
    people: People, db: asyncpg.Connection[Any], database_url: str, tmp_path: Path, write: str, kind: str
) -> None:
    if not pgbench_binary().exists():
        pytest.skip("pgbench is not in this PostgreSQL build")
    audit, body = await health_submitted(people)
    plan = Plan(
        headers={},
        auditors=[],
        draft_paths=[],
        draft_body=body,
        amend_paths=[],
        amend_bodies=amendments(json.loads(body)),
        submit_body=body,
        read_audit=str(audit["id"]),
        audit_paths=[],
        judgement_paths=[],
        themes_paths=[],
        section_page=None,
        organisation_id=str(people.organisation_id("health")),
        user_id=str(people.user_id("health")),
    )
    await db.execute(CEILING_TABLES)
    real = ("theme_section_counts", "theme_agency_counts", "audit_summaries", "contribution_versions")
    before = await counts(db, *real)
    read = await read_row(database_url, plan, CLIENTS)
    events_before = await db.fetchval("SELECT max(id) FROM events")

    measured = Runner("", database_url, tmp_path, 1).pgbench(plan, CLIENTS, write=write, read=read)

    assert measured.requests >= CLIENTS
    assert measured.errors == 0
    kept = await db.fetch("SELECT kind, reason FROM bench_contribution_versions")
    assert len(kept) == measured.requests
    assert {row["kind"] for row in kept} == {kind}
    assert {row["reason"] for row in kept} == ({None} if write == SUBMIT else {"Corrected after the panel met"})
    section_rows, agency_rows = COUNTED_ROWS[write]
    bench = await counts(db, "bench_theme_section_counts", "bench_theme_agency_counts", "bench_audit_summaries")
    assert bench == {
        "bench_theme_section_counts": section_rows,
        "bench_theme_agency_counts": agency_rows,
        "bench_audit_summaries": CLIENTS,
    }
    assert await db.fetchval("SELECT count(*) FROM bench_theme_versions") == 1
    events = await db.fetch("SELECT action FROM events WHERE id > $1", events_before)
    assert [e["action"] for e in events] == [f"contribution.{kind}"] * len(kept)
    # Maca's own counted rows, summaries and versions are not the bench's to change.
    assert await counts(db, *real) == before
    await db.execute(f"DROP TABLE {BENCH_TABLES}")
