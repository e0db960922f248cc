"""The partnership's audits counted per status (migration 0020): the count
the coordinator's list shows as its total, kept by the database itself, is
always the number of audits, whatever happened to them — created, opened,
sent for review, closed, reopened, purged, deleted — in either of two
partnerships, and when two people create audits or move them at the same
moment (no lost update, no deadlock)."""

from __future__ import annotations

import asyncio
import datetime
import itertools
import json
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from litestar.datastructures import State

from server.audits.retention import purge
from server.auth.principal import Principal
from server.db import audits
from server.db.pool import create_pool
from server.platform.transactions import unit_of_work
from server.settings import Settings
from tests.server.audit_fixtures import People, a_draft_audit, an_open_audit, request
from tests.server.test_purge import a_closed_audit, closed_long_ago, move

pytest_plugins = ["tests.server.audit_fixtures"]

STATUSES = ("draft", "open", "in-review", "closed")


async def kept(db: asyncpg.Connection[Any]) -> dict[tuple[UUID, str], int]:
    rows = await db.fetch("SELECT partnership_id, status, audits FROM audit_counts WHERE audits <> 0")
    return {(row["partnership_id"], row["status"]): row["audits"] for row in rows}


async def counted(db: asyncpg.Connection[Any]) -> dict[tuple[UUID, str], int]:
    rows = await db.fetch("SELECT partnership_id, status, count(*) AS audits FROM audits GROUP BY 1, 2")
    return {(row["partnership_id"], row["status"]): row["audits"] for row in rows}


async def the_counts_are_right(db: asyncpg.Connection[Any]) -> dict[tuple[UUID, str], int]:
    found = await counted(db)
    assert await kept(db) == found
    return found


async def listed_totals(people: People) -> dict[str | None, int]:
    """What the coordinator's list says there are, in all and per status."""
    totals: dict[str | None, int] = {}
    for status in (None, *STATUSES):
        url = "/api/audits" + (f"?status={status}" if status else "")
        page = await request(people, "coordinator", "GET", url)
        assert page.status_code == 200, page.text
        totals[status] = page.json()["total"]
    return totals


async def another_partnership(db: asyncpg.Connection[Any]) -> UUID:
    partnership: UUID = await db.fetchval(
        "INSERT INTO partnerships (code, name) VALUES ('elsewhere', 'Elsewhere') RETURNING id"
    )
    return partnership


async def an_audit_of(db: asyncpg.Connection[Any], partnership: UUID, status: str = "draft") -> UUID:
    audit: UUID = await db.fetchval(
        "INSERT INTO audits (partnership_id, toolkit_id, toolkit_version, status, case_details) "
        "VALUES ($1, 'multi-agency-cp', 1, $2, $3::text::jsonb) RETURNING id",
        partnership,
        status,
        json.dumps({"answers": {"child-initials": {"value": "ZZ"}}}),
    )
    return audit


async def test_the_kept_counts_follow_every_change_in_two_partnerships(
    people: People, db: asyncpg.Connection[Any]
) -> None:
    ours = UUID(people.me["coordinator"]["partnership_id"])  # type: ignore[attr-defined]
    elsewhere = await another_partnership(db)

    drafts = [await a_draft_audit(people, participants=["health"]) for _ in range(2)]
    opened = await an_open_audit(people, participants=["health", "police"])
    await an_audit_of(db, elsewhere)
    their_open = await an_audit_of(db, elsewhere, "open")
    found = await the_counts_are_right(db)
    assert found == {(ours, "draft"): 2, (ours, "open"): 1, (elsewhere, "draft"): 1, (elsewhere, "open"): 1}
    assert await listed_totals(people) == {None: 3, "draft": 2, "open": 1, "in-review": 0, "closed": 0}

    # Sent for review, closed, reopened: each move counted out of one status and into the next.
    reviewed = await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{opened['id']}/status",
        json={"status": "in-review", "reason": "The panel meets tomorrow"},
        headers={"If-Match": f'"{opened["row_version"]}"'},
    )
    assert reviewed.status_code == 200, reviewed.text
    assert (await the_counts_are_right(db))[(ours, "in-review")] == 1
    closed = await move(people, reviewed.json(), "closed")
    assert (await the_counts_are_right(db))[(ours, "closed")] == 1
    assert await listed_totals(people) == {None: 3, "draft": 2, "open": 0, "in-review": 0, "closed": 1}
    reopened = await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{closed['id']}/status",
        json={"status": "open", "reason": "Police found more records"},
        headers={"If-Match": f'"{closed["row_version"]}"'},
    )
    assert reopened.status_code == 200, reopened.text
    await the_counts_are_right(db)
    assert await listed_totals(people) == {None: 3, "draft": 2, "open": 1, "in-review": 0, "closed": 0}
    await db.execute("UPDATE audits SET status = 'in-review' WHERE id = $1", their_open)
    await the_counts_are_right(db)

    # A change that keeps the status (the case details, a participant) moves no count.
    changed = await request(
        people,
        "coordinator",
        "PATCH",
        f"/api/audits/{drafts[0]['id']}",
        json={"due_date": "2030-01-31"},
        headers={"If-Match": f'"{drafts[0]["row_version"]}"'},
    )
    assert changed.status_code == 200, changed.text
    await the_counts_are_right(db)

    # A draft deleted (as the tables' owner: no request deletes an audit),
    # several at once, and closed audits purged past retention.
    gone = await an_audit_of(db, elsewhere)
    await db.execute("DELETE FROM audits WHERE id = $1", gone)
    await the_counts_are_right(db)
    extra = [await an_audit_of(db, elsewhere) for _ in range(3)]
    await db.execute("DELETE FROM audits WHERE id = ANY($1::uuid[])", extra)
    await the_counts_are_right(db)
    purged = await a_closed_audit(people)
    await closed_long_ago(db, purged["id"], 2200)
    assert (await the_counts_are_right(db))[(ours, "closed")] == 1
    await purge(db, 2192)
    found = await the_counts_are_right(db)
    assert (ours, "closed") not in found
    assert await listed_totals(people) == {None: 3, "draft": 2, "open": 1, "in-review": 0, "closed": 0}


async def test_a_page_past_the_last_still_says_how_many_there_are(people: People) -> None:
    for _ in range(3):
        await a_draft_audit(people, participants=["health"])
    past = await request(people, "coordinator", "GET", "/api/audits?offset=20")
    assert past.status_code == 200, past.text
    assert past.json()["audits"] == [] and past.json()["total"] == 3
    past = await request(people, "coordinator", "GET", "/api/audits?status=draft&offset=3")
    assert past.json()["audits"] == [] and past.json()["total"] == 3
    past = await request(people, "coordinator", "GET", "/api/audits?status=open&offset=3")
    assert past.json()["audits"] == [] and past.json()["total"] == 0


@pytest.fixture
async def second(database_url: str) -> Any:
    connection = await asyncpg.connect(database_url)
    try:
        yield connection
    finally:
        await connection.close()


async def test_two_audits_created_at_once_are_both_counted(
    db: asyncpg.Connection[Any], second: asyncpg.Connection[Any]
) -> None:
    """Each waits for the other's count row, then adds to what is there
    when it gets it: neither overwrites the other's addition. Once when
    neither count row exists yet, and once when both do."""
    elsewhere = await another_partnership(db)
    for _ in range(2):
        first = db.transaction()
        await first.start()
        await an_audit_of(db, elsewhere)
        other = second.transaction()
        await other.start()
        waiting = asyncio.create_task(an_audit_of(second, elsewhere))
        await asyncio.sleep(0.2)
        assert not waiting.done(), "the second creation waits for the first's count"
        await first.commit()
        await waiting
        await other.commit()
        await the_counts_are_right(db)
    assert await kept(db) == {(elsewhere, "draft"): 4}


async def test_two_status_changes_the_other_way_round_at_once_neither_deadlocks(
    db: asyncpg.Connection[Any], second: asyncpg.Connection[Any]
) -> None:
    """One audit sent for review while another is reopened from review:
    each touches the same two counts, in the same order, so the second
    waits for the first instead of PostgreSQL ending one of them."""
    elsewhere = await another_partnership(db)
    one = await an_audit_of(db, elsewhere, "open")
    two = await an_audit_of(db, elsewhere, "in-review")
    first = db.transaction()
    await first.start()
    await db.execute("UPDATE audits SET status = 'in-review' WHERE id = $1", one)
    other = second.transaction()
    await other.start()
    waiting = asyncio.create_task(second.execute("UPDATE audits SET status = 'open' WHERE id = $1", two))
    await asyncio.sleep(0.2)
    assert not waiting.done()
    await first.commit()
    await waiting
    await other.commit()
    assert await the_counts_are_right(db) == {(elsewhere, "open"): 1, (elsewhere, "in-review"): 1}


# --- the same pages as before ----------------------------------------------------------

# What the list held and how it was ordered and counted before migration
# 0020 (server/db/audits.py at 4bcd295): every match sorted and counted.
BEFORE = """
    SELECT a.id, count(*) OVER () AS total
      FROM audits a
     WHERE a.partnership_id = $1
       AND ($2::uuid IS NULL OR (a.status <> 'draft' AND EXISTS (
             SELECT 1 FROM audit_participants p
             WHERE p.audit_id = a.id AND p.organisation_id = $2 AND p.removed_at IS NULL)))
       AND ($3::text IS NULL OR a.status = $3)
       AND ($4::text IS NULL OR a.toolkit_id = $4)
       AND ($5::date IS NULL OR a.due_date < $5)
       AND ($6::date IS NULL OR (a.due_date < $6 AND a.status IN ('draft', 'open')))
       AND ($7::text IS NULL OR strpos(lower(concat_ws(' ', a.reference,
             a.case_details #>> '{answers,case-identifier,value}', a.case_details #>> '{answers,case-id,value}',
             a.case_details #>> '{answers,cf-ecins-id,value}')), lower($7)) > 0)
       AND ($8::uuid IS NULL OR EXISTS (
             SELECT 1 FROM audit_participants p
             WHERE p.audit_id = a.id AND p.organisation_id = $8 AND p.removed_at IS NULL))
       AND ($9::uuid IS NULL OR a.programme_id = $9)
     ORDER BY a.due_date NULLS LAST, a.created_at, a.id
     LIMIT $10 OFFSET $11
"""


def principal_of(people: People, persona: str) -> Principal:
    me = people.me[persona]  # type: ignore[attr-defined]
    return Principal(
        issuer="https://idp.example",
        subject=persona,
        user_id=UUID(me["user_id"]),
        display_name=None,
        organisation_id=UUID(me["organisation_id"]),
        organisation_code=persona,
        organisation_name=persona,
        agency_kind="health",
        partnership_id=UUID(me["partnership_id"]),
        roles=frozenset(me["roles"]),
    )


async def test_every_filter_lists_the_same_pages_and_totals_as_sorting_and_counting_every_match(
    people: People, db: asyncpg.Connection[Any], settings: Settings, database_url: str
) -> None:
    """Audits of every status, due on the same days (ties broken by
    creation, then id) or undated, of two toolkits, with agencies taking
    part, removed, or never added: for every combination of the list's
    filters, each page and its total are what sorting and counting every
    match gave, for the coordinator and for an agency's own list."""
    ours = UUID(people.me["coordinator"]["partnership_id"])  # type: ignore[attr-defined]
    health, police = people.organisation_id("health"), people.organisation_id("police")
    today = datetime.date.today()
    for i in range(26):
        audit = await db.fetchval(
            "INSERT INTO audits (partnership_id, toolkit_id, toolkit_version, status, case_details, due_date, "
            "reference) VALUES ($1, $2, 1, $3, $4::text::jsonb, $5, $6) RETURNING id",
            ours,
            "multi-agency-cp" if i % 3 else "single-agency-cp",
            STATUSES[i % 4],
            json.dumps({"answers": {"case-identifier": {"value": f"C-{i}"}}}),
            None if i % 5 == 0 else today + datetime.timedelta(days=i % 7 - 3),
            f"R-{i}" if i % 4 else None,
        )
        for organisation, takes_part in ((health, i % 2 == 0), (police, i % 3 == 0)):
            if takes_part:
                await db.execute(
                    "INSERT INTO audit_participants (audit_id, organisation_id) VALUES ($1, $2)", audit, organisation
                )
        if i % 8 == 0:
            await db.execute(
                "UPDATE audit_participants SET removed_at = now(), removal_reason = 'added in error' "
                "WHERE audit_id = $1 AND organisation_id = $2",
                audit,
                health,
            )
    await the_counts_are_right(db)

    compared = 0
    pool = await create_pool(settings, database_url)
    try:
        for persona, organisation in (("coordinator", None), ("coordinator", health), ("health", health)):
            async with unit_of_work(State({"pool": pool}), principal_of(people, persona)) as connection:
                for status, toolkit, due_before, overdue_on, search, agency, (limit, offset) in itertools.product(
                    (None, *STATUSES),
                    (None, "multi-agency-cp"),
                    (None, today),
                    (None, today + datetime.timedelta(days=1)),
                    (None, "r-1", "c-2"),
                    (None, police),
                    ((5, 0), (5, 5), (20, 0), (5, 40)),
                ):
                    filters = (ours, organisation, status, toolkit, due_before, overdue_on, search, agency, None)
                    expected = await connection.fetch(BEFORE, *filters, limit, offset)
                    rows, total = await audits.list_audits(
                        connection,
                        partnership_id=ours,
                        organisation_id=organisation,
                        status=status,
                        toolkit_id=toolkit,
                        due_before=due_before,
                        overdue_on=overdue_on,
                        limit=limit,
                        offset=offset,
                        search=search,
                        agency_id=agency,
                    )
                    assert [row.id for row in rows] == [row["id"] for row in expected], filters
                    if expected:
                        assert total == expected[0]["total"], filters
                    else:
                        assert total == await connection.fetchval(
                            f"SELECT count(*) FROM ({BEFORE.replace('LIMIT $10 OFFSET $11', '')}) AS m",  # noqa: S608
                            *filters,
                        ), filters
                    compared += 1
    finally:
        await pool.close()
    assert compared == 3 * 5 * 2 * 2 * 2 * 3 * 2 * 4
