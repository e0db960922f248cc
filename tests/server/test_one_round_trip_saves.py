"""A contribution is read for saving in one round trip and written in one
more (migration 0019, issue 24), and the wall row-level security keeps is
the same as before: the two functions are maca_app's own, so they read and
write only what the sealed identity may, and the seal they set is checked
by the policies as any other.

Tried as maca_app (exactly as the pool connects) on the world test_rls
builds, and through the API as the personas save and submit.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.datastructures import State

from server.auth.principal import Principal
from server.db import identity
from server.db.identity import Sealer
from server.db.pool import create_pool
from server.platform.transactions import unit_of_work
from server.settings import Settings
from tests.server.audit_fixtures import (
    People,
    an_open_audit,
    complete_answers,
    contribution_url,
    people_fixture,  # noqa: F401 - fixture
    read_audit,
    request,
    save_draft,
)
from tests.server.test_rls import World, as_app, as_person, sealer, world
from tests.web.test_list_queries import counted

# test_rls's world and its maca_app connection, as fixtures here too.
FIXTURES = (as_app, sealer, world)

OPEN = "SELECT * FROM maca_open_contribution($1, $2, $3)"
SAVE = "SELECT * FROM maca_save_contribution($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
OPEN_AUDIT = "SELECT * FROM maca_open_audit($1, $2, $3)"


def sealed_for(sealer: Sealer, world: World, persona: str) -> str:
    who = world.people[persona]
    return sealer.identity(who.user_id, who.organisation_id, who.partnership_id, who.roles)


# --- the reading function -------------------------------------------------------------------


async def test_opening_with_no_seal_or_a_forged_or_stale_one_reads_nothing(
    as_app: asyncpg.Connection[Any], world: World, db: asyncpg.Connection[Any]
) -> None:
    health = world.people["health"]
    who = (health.user_id, health.organisation_id, health.partnership_id, ["auditor"])
    forged = Sealer(configured=b"not the key the database keeps!!", owner_dsn=None).identity(*who)
    key = await identity.stored_key(db)
    old_seal = Sealer(configured=key, owner_dsn=None, clock=lambda: time.time() - 3600).identity(*who)
    for sealed in (None, "", forged, old_seal):
        async with as_app.transaction():
            assert await as_app.fetch(OPEN, sealed, world.audit, health.organisation_id) == []
            # …and left the transaction seeing nothing either.
            assert await as_app.fetchval("SELECT count(*) FROM contributions") == 0


async def test_opening_reads_the_audit_and_the_agencys_own_contribution_only(
    as_app: asyncpg.Connection[Any], sealer: Sealer, world: World
) -> None:
    health = world.people["health"]
    police = world.people["police"]
    async with as_app.transaction():
        (row,) = await as_app.fetch(OPEN, sealed_for(sealer, world, "health"), world.audit, health.organisation_id)
        assert (row["id"], row["participates"], row["c_id"]) == (world.audit, True, world.health_contribution)
        assert row["participant_kind"] == "health"
        # The seal stays for the rest of the transaction, as unit_of_work's would.
        assert await as_app.fetchval("SELECT array_agg(organisation_id) FROM contributions") == [health.organisation_id]
    async with as_app.transaction():
        # Health asking for police's part sees the audit, never police's draft.
        (row,) = await as_app.fetch(OPEN, sealed_for(sealer, world, "health"), world.audit, police.organisation_id)
        assert row["c_id"] is None and row["c_content"] is None
    async with as_app.transaction():
        # Another partnership's coordinator: not even the audit.
        assert (
            await as_app.fetch(OPEN, sealed_for(sealer, world, "elsewhere"), world.audit, health.organisation_id) == []
        )


async def test_opening_without_a_seal_keeps_the_identity_already_set(
    as_app: asyncpg.Connection[Any], sealer: Sealer, world: World
) -> None:
    health = world.people["health"]
    async with as_app.transaction():
        await as_person(as_app, sealer, health)
        (row,) = await as_app.fetch(OPEN, None, world.audit, health.organisation_id)
        assert row["c_id"] == world.health_contribution


# --- reading an audit alone (migration 0021) --------------------------------------------------


async def test_opening_an_audit_with_no_seal_or_a_forged_or_stale_one_reads_nothing(
    as_app: asyncpg.Connection[Any], world: World, db: asyncpg.Connection[Any]
) -> None:
    coordinator = world.people["coordinator"]
    who = (coordinator.user_id, coordinator.organisation_id, coordinator.partnership_id, ["coordinator"])
    forged = Sealer(configured=b"not the key the database keeps!!", owner_dsn=None).identity(*who)
    key = await identity.stored_key(db)
    old_seal = Sealer(configured=key, owner_dsn=None, clock=lambda: time.time() - 3600).identity(*who)
    for sealed in (None, "", forged, old_seal):
        async with as_app.transaction():
            assert await as_app.fetch(OPEN_AUDIT, sealed, world.audit, coordinator.organisation_id) == []
            assert await as_app.fetchval("SELECT count(*) FROM audits") == 0


async def test_opening_an_audit_reads_what_the_sealed_identity_may_see_with_its_participation(
    as_app: asyncpg.Connection[Any], sealer: Sealer, world: World
) -> None:
    health, education = world.people["health"], world.people["education"]
    async with as_app.transaction():
        (row,) = await as_app.fetch(
            OPEN_AUDIT, sealed_for(sealer, world, "health"), world.audit, health.organisation_id
        )
        assert (row["id"], row["participates"], row["participant_kind"]) == (world.audit, True, "health")
        # The seal stays for the transaction's next statements.
        assert await as_app.fetchval("SELECT count(*) FROM contributions") == 1
        # Another partnership's audit is not there for it.
        assert await as_app.fetch(OPEN_AUDIT, None, world.other_audit, health.organisation_id) == []
    async with as_app.transaction():
        # An organisation that takes no part sees no audit.
        assert (
            await as_app.fetch(
                OPEN_AUDIT, sealed_for(sealer, world, "education"), world.audit, education.organisation_id
            )
            == []
        )
    async with as_app.transaction():
        # The partnership's coordinator reads it, taking part or not.
        (row,) = await as_app.fetch(OPEN_AUDIT, sealed_for(sealer, world, "coordinator"), world.audit, None)
        assert row["id"] == world.audit and row["participates"] is False


# --- the writing function -------------------------------------------------------------------


async def save_args(db: asyncpg.Connection[Any], contribution: uuid.UUID, audit_status: str) -> list[Any]:
    version = await db.fetchval("SELECT row_version FROM contributions WHERE id = $1", contribution)
    # jsonb as JSON text: a bare maca_app connection has no codec for it.
    return [contribution, version, audit_status, "in-progress", '{"sections": {}}', 0, 1, None, None,
            "contribution.saved", '{"status": "in-progress", "answered": 0}']  # fmt: skip


async def test_saving_without_identity_or_as_anyone_else_writes_nothing(
    as_app: asyncpg.Connection[Any], sealer: Sealer, world: World, db: asyncpg.Connection[Any]
) -> None:
    before = await db.fetchrow(
        "SELECT row_version, content FROM contributions WHERE id = $1", world.health_contribution
    )
    events_before = await db.fetchval("SELECT count(*) FROM events")
    for persona in (None, "police", "elsewhere"):
        async with as_app.transaction():
            if persona is not None:
                await as_person(as_app, sealer, world.people[persona])
            args = await save_args(db, world.health_contribution, "open")
            assert await as_app.fetch(SAVE, *args) == []
    after = await db.fetchrow("SELECT row_version, content FROM contributions WHERE id = $1", world.health_contribution)
    assert after == before
    assert await db.fetchval("SELECT count(*) FROM events") == events_before


async def test_saving_refuses_a_version_or_an_audit_status_that_moved_on(
    as_app: asyncpg.Connection[Any], sealer: Sealer, world: World, db: asyncpg.Connection[Any]
) -> None:
    health = world.people["health"]
    args = await save_args(db, world.health_contribution, "open")
    async with as_app.transaction():
        await as_person(as_app, sealer, health)
        # The audit was read open; a coordinator has since moved it on.
        assert await as_app.fetch(SAVE, *args[:2], "in-review", *args[3:]) == []
        # The contribution was read at an older version.
        assert await as_app.fetch(SAVE, args[0], args[1] - 1, *args[2:]) == []
        (saved,) = await as_app.fetch(SAVE, *args)
        assert (saved["row_version"], saved["updated_by"], saved["kept_version"]) == (args[1] + 1, health.user_id, None)
    event = await db.fetchrow("SELECT user_id, action, detail FROM events ORDER BY id DESC LIMIT 1")
    assert (event["user_id"], event["action"]) == (health.user_id, "contribution.saved")


# --- through the API ------------------------------------------------------------------------


async def test_a_draft_save_is_four_statements(app: Litestar, people: People) -> None:
    audit = await an_open_audit(people, participants=["health", "police"])
    answers = complete_answers(await read_audit(people, "health", audit))
    assert (await save_draft(people, "health", audit, answers)).status_code == 200
    url = contribution_url(audit, people, "health")
    current = await request(people, "health", "GET", url)
    with counted(app) as pool:
        saved = await request(people, "health", "PUT", url, json=answers, headers={"If-Match": current.headers["etag"]})
        await asyncio.sleep(0)
    assert saved.status_code == 200, saved.text
    # The test server records the token's bearer on every request (its
    # recorder keeps nobody: server/auth/wiring.py), in a transaction of its
    # own before the save's; the save's unit of work is the rest.
    work = pool.statements[pool.statements.index("BEGIN") :]
    assert [s.split()[0] for s in work] == ["BEGIN", "SELECT", "SELECT", "COMMIT"], work
    assert "maca_open_contribution" in work[1] and "maca_save_contribution" in work[2]


async def test_an_amendment_keeps_its_version_and_names_it_in_the_event(
    people: People, db: asyncpg.Connection[Any]
) -> None:
    audit = await an_open_audit(people, participants=["health", "police"])
    answers = complete_answers(await read_audit(people, "health", audit))
    saved = await save_draft(people, "health", audit, answers)
    url = contribution_url(audit, people, "health")
    submitted = await request(people, "health", "POST", f"{url}/submit", headers={"If-Match": saved.headers["etag"]})
    assert submitted.status_code == 200, submitted.text
    amended = await request(
        people,
        "health",
        "PUT",
        url,
        json={**answers, "reason": "The chronology was corrected"},
        headers={"If-Match": submitted.headers["etag"]},
    )
    assert amended.status_code == 200, amended.text
    rows = await db.fetch(
        "SELECT action, detail FROM events WHERE audit_id = $1 AND action LIKE 'contribution.%' "
        "AND action <> 'contribution.read' ORDER BY id",
        uuid.UUID(audit["id"]),
    )
    kept = await db.fetch(
        "SELECT v.version, v.kind, v.reason FROM contribution_versions v JOIN contributions c "
        "ON c.id = v.contribution_id WHERE c.audit_id = $1 AND c.organisation_id = $2 ORDER BY v.version",
        uuid.UUID(audit["id"]),
        people.organisation_id("health"),
    )
    assert [tuple(r) for r in kept] == [(1, "submitted", None), (2, "amended", "The chronology was corrected")]
    details = {r["action"]: msgspec.json.decode(r["detail"]) for r in rows}
    assert details["contribution.submitted"]["version"] == 1
    assert details["contribution.amended"] == {
        "status": "submitted",
        "answered": details["contribution.submitted"]["answered"],
        "version": 2,
        "reason": "The chronology was corrected",
    }


async def test_a_seal_left_unset_dies_with_its_transaction(settings: Settings, database_url: str, world: World) -> None:
    health = world.people["health"]
    principal = Principal(
        issuer="https://idp.example",
        subject="s",
        user_id=health.user_id,
        display_name=None,
        organisation_id=health.organisation_id,
        organisation_code="demo-health",
        organisation_name="Demo NHS Foundation Trust",
        agency_kind="health",
        partnership_id=health.partnership_id,
        roles=frozenset({"auditor"}),
    )
    # One connection, so the next transaction is on the same one.
    pool = await create_pool(msgspec.structs.replace(settings, db_pool_max=1), database_url)
    try:
        state = State({"pool": pool})
        with pytest.raises(RuntimeError):
            async with unit_of_work(state, principal, identity_with_first_statement=True) as connection:
                # Nothing has set the seal yet: the transaction sees nothing.
                assert await connection.fetchval("SELECT count(*) FROM contributions") == 0
                raise RuntimeError("the work failed before its first read")
        async with pool.acquire() as connection:
            assert identity.pending_seal(connection) is None
        async with unit_of_work(state, principal, identity_with_first_statement=True) as connection:
            await identity.declare_pending(connection)
            assert await connection.fetchval("SELECT array_agg(organisation_id) FROM contributions") == [
                health.organisation_id
            ]
    finally:
        await pool.close()


async def test_an_audit_read_and_a_judgement_read_seal_who_is_asking_with_their_first_read(
    app: Litestar, people: People
) -> None:
    audit = await an_open_audit(people, participants=["health", "police"])
    for persona, path in (
        ("health", f"/api/audits/{audit['id']}"),
        ("coordinator", f"/api/audits/{audit['id']}"),
        ("reviewer", f"/api/audits/{audit['id']}/judgement"),
    ):
        with counted(app) as pool:
            read = await request(people, persona, "GET", path)
            await asyncio.sleep(0)
        assert read.status_code == 200, read.text
        work = pool.statements[pool.statements.index("BEGIN") :]
        assert work[1].startswith("SELECT * FROM maca_open_audit("), (persona, work)
        assert not any("set_config('maca.identity'" in s for s in work), (persona, work)
        assert work[-1] == "COMMIT"
        if path.endswith("/judgement"):
            # The API's judgement carries no voices, so it reads none: kept
            # (read once before), the audit, the read's event and the state.
            assert not any("contribution_voices" in s for s in work), work
            again = await request(people, persona, "GET", path)
            assert again.status_code == 200
            with counted(app) as pool:
                await request(people, persona, "GET", path)
                await asyncio.sleep(0)
            kept = pool.statements[pool.statements.index("BEGIN") :]
            assert len(kept) == 5, kept


async def test_the_audit_list_seals_who_is_asking_with_its_plan_setting(app: Litestar, people: People) -> None:
    """The list's first statement asks for plans made for its filters'
    values; the seal rides with it (server/db/plans.py)."""
    audit = await an_open_audit(people, participants=["health", "police"])
    for persona in ("coordinator", "health"):
        with counted(app) as pool:
            listed = await request(people, persona, "GET", "/api/audits")
            await asyncio.sleep(0)
        assert listed.status_code == 200, listed.text
        assert [a["id"] for a in listed.json()["audits"]] == [str(audit["id"])]
        work = pool.statements[pool.statements.index("BEGIN") :]
        assert work[1].startswith("SELECT set_config('maca.identity', $1, true), set_config('plan_cache_mode'"), work
        assert len(work) == 5, work
