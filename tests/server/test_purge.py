"""Retention: `maca purge` removes closed audits older than
MACA_RETENTION_DAYS with everything that refers to them, records that it
did (ids and counts, nothing personal), and leaves the event trail whole."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from server.audits.retention import purge
from server.cli.main import main
from server.db.verify import verify
from tests.server.audit_fixtures import CASE_DETAILS, People, an_open_audit, draft_and_submit, request

pytest_plugins = ["tests.server.audit_fixtures"]


async def move(people: People, audit: dict[str, Any], status: str) -> dict[str, Any]:
    current = await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}")
    response = await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{audit['id']}/status",
        # Closing confirms what is outstanding (no overall grade agreed here).
        json={"status": status, "reason": "testing retention", "confirm_outstanding": status == "closed"},
        headers={"If-Match": current.headers["etag"]},
    )
    assert response.status_code == 200, response.text
    moved: dict[str, Any] = response.json()
    return moved


async def a_closed_audit(people: People) -> dict[str, Any]:
    """Through HTTP, as people do it: distributed, both agencies submit, a
    remedial action agreed, reviewed, closed."""
    audit = await an_open_audit(people, participants=["health", "police"])
    for persona in ("health", "police"):
        await draft_and_submit(people, persona, audit)
    action = await request(
        people,
        "reviewer",
        "POST",
        f"/api/audits/{audit['id']}/actions",
        json={"action": "Share the plan with the school", "who": "CD", "timescale": "1 month"},
    )
    assert action.status_code == 201, action.text
    await move(people, audit, "in-review")
    return await move(people, audit, "closed")


async def closed_long_ago(db: asyncpg.Connection[Any], audit_id: str, days: int) -> None:
    await db.execute(
        "UPDATE audits SET closed_at = now() - make_interval(days => $2) WHERE id = $1", UUID(audit_id), days
    )


async def rows_referring_to(db: asyncpg.Connection[Any], audit_id: UUID) -> dict[str, int]:
    """Rows in every table with an audit_id column (whoever added it)."""
    tables = await db.fetch(
        "SELECT table_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND column_name = 'audit_id' AND table_name <> 'events'"
    )
    counts = {}
    for row in tables:
        name = row["table_name"]
        counts[name] = await db.fetchval(f'SELECT count(*) FROM "{name}" WHERE audit_id = $1', audit_id)  # noqa: S608
    counts["audits"] = await db.fetchval("SELECT count(*) FROM audits WHERE id = $1", audit_id)
    return counts


async def test_closing_records_when_and_reopening_forgets_it(people: People, db: asyncpg.Connection[Any]) -> None:
    audit = await a_closed_audit(people)
    audit_id = UUID(audit["id"])
    assert await db.fetchval("SELECT closed_at IS NOT NULL FROM audits WHERE id = $1", audit_id)
    await move(people, audit, "open")
    assert await db.fetchval("SELECT closed_at FROM audits WHERE id = $1", audit_id) is None


async def test_purge_removes_only_closed_audits_past_retention_and_records_it(
    people: People, db: asyncpg.Connection[Any]
) -> None:
    old, recent = await a_closed_audit(people), await a_closed_audit(people)
    still_open = await an_open_audit(people, participants=["health"])
    await closed_long_ago(db, old["id"], 3000)
    await closed_long_ago(db, recent["id"], 10)
    await db.execute("UPDATE audits SET updated_at = now() - interval '9 years' WHERE id = $1", UUID(still_open["id"]))
    old_id = UUID(old["id"])
    before = await rows_referring_to(db, old_id)
    assert before["contributions"] == 2 and before["remedial_actions"] == 1 and before["audit_participants"] == 2
    events_before = await db.fetchval("SELECT count(*) FROM events WHERE audit_id = $1", old_id)

    dry = await purge(db, 2192, dry_run=True)
    assert dry.audit_ids == (old_id,)
    assert dry.rows["contributions"] == 2 and dry.rows["contribution_versions"] == 2
    assert await rows_referring_to(db, old_id) == before, "a dry run removes nothing"
    assert await db.fetchval("SELECT count(*) FROM events WHERE action = 'audits.purged'") == 0

    done = await purge(db, 2192)
    assert done.audit_ids == (old_id,)
    assert set((await rows_referring_to(db, old_id)).values()) == {0}
    for kept in (recent, still_open):
        assert await db.fetchval("SELECT count(*) FROM audits WHERE id = $1", UUID(kept["id"])) == 1
    assert await db.fetchval("SELECT count(*) FROM contributions WHERE audit_id = $1", UUID(recent["id"])) == 2

    # Recorded: how many, which ids; nothing from the case.
    event = await db.fetchrow("SELECT id, detail::text AS detail FROM events WHERE action = 'audits.purged'")
    assert event["id"] == done.event_id
    detail = json.loads(event["detail"])
    assert detail["audits"] == 1 and detail["audit_ids"] == [str(old_id)] and detail["retention_days"] == 2192
    assert detail["rows"]["contributions"] == 2
    for personal in ("AB", "C-1001", "CD", "Share the plan"):
        assert personal not in event["detail"]
    # The purged audit's events stay, and the chain still verifies.
    assert await db.fetchval("SELECT count(*) FROM events WHERE audit_id = $1", old_id) == events_before
    assert (await verify(db)).intact


async def test_purged_audits_leave_the_dashboards_counts(people: People, db: asyncpg.Connection[Any]) -> None:
    """The counted rows have no foreign key to an audit: the purge takes a
    removed audit's counts away and says the themes changed."""
    old, recent = await a_closed_audit(people), await a_closed_audit(people)
    await closed_long_ago(db, old["id"], 3000)
    counted = (
        "SELECT coalesce(sum(audits), 0) FROM theme_section_counts "
        "WHERE section_id = 'overall' AND participating_kind = '*'"
    )
    assert await db.fetchval(counted) == 2
    version = await db.fetchval("SELECT version FROM theme_versions")

    await purge(db, 2192)

    assert await db.fetchval(counted) == 1
    assert await db.fetchval("SELECT coalesce(sum(grades), 0) FROM theme_agency_counts") == await db.fetchval(
        "SELECT count(*) FROM audit_summaries s, jsonb_array_elements(s.agency_grades) WHERE s.audit_id = $1",
        UUID(recent["id"]),
    )
    assert await db.fetchval("SELECT version FROM theme_versions") != version


async def test_maca_purge_dry_run_then_purge_from_the_command_line(
    people: People,
    db: asyncpg.Connection[Any],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    audit = await a_closed_audit(people)
    await closed_long_ago(db, audit["id"], 40)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MACA_RETENTION_DAYS", "30")

    def run(*args: str) -> tuple[int, str]:
        status = main(["purge", *args])
        return status, capsys.readouterr().out

    status, output = await asyncio.to_thread(run, "--dry-run")
    assert status == 0
    assert "would remove 1 closed audit(s)" in output and f"audit {audit['id']}" in output
    assert await db.fetchval("SELECT count(*) FROM audits") == 1

    status, output = await asyncio.to_thread(run)
    assert status == 0
    assert "removed 1 closed audit(s)" in output and "recorded as event" in output
    assert await db.fetchval("SELECT count(*) FROM audits") == 0
    assert CASE_DETAILS["answers"]["child-initials"]["value"] not in output

    status, output = await asyncio.to_thread(run)
    assert (status, output.splitlines()[0].startswith("removed 0 closed audit(s)")) == (0, True)
