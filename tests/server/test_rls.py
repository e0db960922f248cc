"""Row-level security as a wall the database keeps by itself (migration
0011), tried as the application's own login role, maca_app, exactly as the
pool connects, and as the tables' owner.

The partnership's people build an audit through the API, as they would:
the coordinator creates and distributes it (case details: the child's
initials, the case identifier), health saves a draft, police submits (its answer that the child is not safe
now raises an immediate concern, and the coordinator is written to), the
reviewer moderates, the coordinator agrees an action, and police's
submission is sent with an Idempotency-Key (so its stored response holds
the whole contribution). Another partnership has an audit of its own.
Then a connection of maca_app's asks for all of it, saying who it is in
every way an injected statement could: not at all, with the settings it
used to write for itself, with seals it forged, and with the server's real
seal for someone else. Only the last sees anything, and only what that
person may.
"""

from __future__ import annotations

import asyncio
import datetime
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from litestar.datastructures import State

from server.auth.principal import Principal
from server.db import identity
from server.db.identity import Sealer, seal
from server.db.pool import APP_ROLE, UnsafeApplicationRole, app_database_url, check_role, create_pool
from server.db.verify import verify
from server.platform.transactions import unit_of_work
from server.settings import Settings, load_settings
from tests.server.audit_fixtures import (
    CASE_DETAILS,
    People,
    an_open_audit,
    complete_answers,
    contribution_url,
    people_fixture,  # noqa: F401 - fixture
    read_audit,
    request,
    save_draft,
)

CASE_IDENTIFIER = CASE_DETAILS["answers"]["case-identifier"]["value"]

# Every table that holds case data or people's data, and what is in it here.
CASE_DATA_TABLES = (
    "audits",
    "audit_participants",
    "contributions",
    "contribution_versions",
    "moderations",
    "remedial_actions",
    "events",
    "idempotency_keys",
    "sessions",
    "users",
    "audit_summaries",
    "theme_section_counts",
    "theme_agency_counts",
    "theme_versions",
    "remedial_action_updates",
    "programmes",
    "programme_agencies",
    "panel_records",
    "learning_themes",
    "learning_tags",
    "concerns",
    "notifications",
    "audit_counts",
)

# Tables without row-level security, and why. A new table is refused by
# test_every_table_has_row_level_security_or_a_stated_reason until it has
# policies (README, "Database roles": the recipe) or a reason here.
WITHOUT_ROW_LEVEL_SECURITY = {
    # The migrator's own record: version numbers and checksums, nobody's
    # data; maca_app may only read it.
    "schema_migrations",
    # Sign-in attempts counted per client address, kept only as a SHA-256:
    # counted before anyone is known (there is no identity to key a policy
    # to), and they say how often someone tried, never who.
    "sign_in_attempts",
}


@dataclass(frozen=True)
class Person:
    user_id: uuid.UUID
    organisation_id: uuid.UUID
    partnership_id: uuid.UUID
    roles: tuple[str, ...]


@dataclass(frozen=True)
class World:
    audit: uuid.UUID
    other_audit: uuid.UUID  # another partnership's
    people: dict[str, Person]
    health_contribution: uuid.UUID
    police_contribution: uuid.UUID


@pytest.fixture
async def as_app(settings: Settings, database_url: str) -> AsyncIterator[asyncpg.Connection[Any]]:
    """A connection logged in as maca_app (a login of its own, not SET ROLE)."""
    connection = await asyncpg.connect(app_database_url(settings, database_url))
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
async def sealer(db: asyncpg.Connection[Any]) -> Sealer:
    """The server's sealer, with the key `maca migrate` stored."""
    key = await identity.stored_key(db)
    assert key is not None, "migrate stored no identity key"
    return Sealer(configured=key, owner_dsn=None)


def person(people: People, persona: str) -> Person:
    me = people.me[persona]  # type: ignore[attr-defined]
    return Person(
        user_id=uuid.UUID(me["user_id"]),
        organisation_id=uuid.UUID(me["organisation_id"]),
        partnership_id=uuid.UUID(me["partnership_id"]),
        roles=tuple(me["roles"]),
    )


@pytest.fixture
async def world(people: People, db: asyncpg.Connection[Any]) -> World:
    audit = await an_open_audit(people, participants=["health", "police"])
    health_draft = complete_answers(await read_audit(people, "health", audit))
    saved = await save_draft(people, "health", audit, health_draft)
    assert saved.status_code == 200, saved.text
    police_answers = complete_answers(await read_audit(people, "police", audit))
    # An immediate concern (issue 20), and the message that tells the coordinator.
    police_answers["answers"]["child-currently-safe"] = {"value": "no", "comments": "Seen in the records"}
    assert (await save_draft(people, "police", audit, police_answers)).status_code == 200
    url = contribution_url(audit, people, "police")
    current = await request(people, "police", "GET", url)
    submitted = await request(
        people,
        "police",
        "POST",
        f"{url}/submit",
        headers={"If-Match": current.headers["etag"], "Idempotency-Key": "police-submits-once"},
    )
    assert submitted.status_code == 200, submitted.text
    action = await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{audit['id']}/actions",
        json={
            "action": "Share the plan with school",
            "responsible_organisation_id": str(people.organisation_id("police")),
        },
    )
    assert action.status_code == 201, action.text
    # Police, responsible for it, records progress (kept as an update).
    progress = await request(
        people,
        "police",
        "POST",
        f"/api/actions/{action.json()['id']}/updates",
        json={"status": "in-progress", "date_reviewed": datetime.date.today().isoformat(), "comments": "Asked"},
        headers={"If-Match": f'"{action.json()["row_version"]}"'},
    )
    assert progress.status_code == 201, progress.text
    # The round the audit belongs to, its panel's record, and learning tagged.
    programme = await request(
        people,
        "coordinator",
        "POST",
        "/api/programmes",
        json={"name": "Neglect, Q1", "toolkit": "multi-agency-cp", "agencies": [str(people.organisation_id("police"))]},
    )
    assert programme.status_code == 201, programme.text
    await db.execute(
        "UPDATE audits SET programme_id = $2 WHERE id = $1", audit["id"], uuid.UUID(programme.json()["id"])
    )
    await db.execute(
        "INSERT INTO panel_records (audit_id, overall_narrative) VALUES ($1, 'The plan was followed')", audit["id"]
    )
    theme = await db.fetchval(
        "INSERT INTO learning_themes (partnership_id, name) VALUES ($1, 'Voice of the child') RETURNING id",
        uuid.UUID(people.me["coordinator"]["partnership_id"]),  # type: ignore[attr-defined]
    )
    await db.execute(
        "INSERT INTO learning_tags (audit_id, organisation_id, question_id, theme_id) VALUES ($1, $2, 'overall', $3)",
        audit["id"],
        people.organisation_id("police"),
        theme,
    )
    judgement = await request(people, "reviewer", "GET", f"/api/audits/{audit['id']}/judgement")
    moderated = await request(
        people,
        "reviewer",
        "PUT",
        f"/api/audits/{audit['id']}/judgement/sections/overall",
        json={"grade": 3, "reason": "The panel agreed requires improvement"},
        headers={"If-Match": judgement.headers["etag"]},
    )
    assert moderated.status_code == 200, moderated.text

    # Another partnership, with an audit and a coordinator of its own.
    elsewhere = await db.fetchval(
        "INSERT INTO partnerships (code, name) VALUES ('elsewhere', 'Elsewhere') RETURNING id"
    )
    their_csc = await db.fetchval(
        "INSERT INTO organisations (partnership_id, code, name, agency_kind) "
        "VALUES ($1, 'elsewhere-csc', 'Elsewhere CSC', 'childrens-social-care') RETURNING id",
        elsewhere,
    )
    their_coordinator = await db.fetchval(
        "INSERT INTO users (issuer, subject, organisation_id, roles) "
        "VALUES ('https://idp.elsewhere', 'them', $1, '{coordinator,reviewer}') RETURNING id",
        their_csc,
    )
    other_audit = await db.fetchval(
        "INSERT INTO audits (partnership_id, toolkit_id, toolkit_version, status, case_details) "
        "VALUES ($1, 'multi-agency-cp', 1, 'open', $2::text::jsonb) RETURNING id",
        elsewhere,
        '{"answers": {"child-initials": {"value": "ZZ"}}}',
    )
    known = {name: person(people, name) for name in ("coordinator", "health", "police", "reviewer", "education")}
    known["elsewhere"] = Person(their_coordinator, their_csc, elsewhere, ("coordinator", "reviewer"))
    contributions = {
        row["organisation_id"]: row["id"]
        for row in await db.fetch("SELECT id, organisation_id FROM contributions WHERE audit_id = $1", audit["id"])
    }
    # A browser session for health, as signing in makes one.
    await db.execute(
        "INSERT INTO sessions (key_hash, user_id, csrf_token, expires_at) VALUES ($1, $2, 'csrf', now() + '1 hour')",
        b"\x01" * 32,
        known["health"].user_id,
    )
    return World(
        audit=uuid.UUID(audit["id"]),
        other_audit=other_audit,
        people=known,
        health_contribution=contributions[known["health"].organisation_id],
        police_contribution=contributions[known["police"].organisation_id],
    )


async def as_person(connection: asyncpg.Connection[Any], sealer: Sealer, who: Person) -> None:
    """What unit_of_work says, for the current transaction only."""
    await connection.execute(
        "SELECT set_config('maca.identity', $1, true)",
        sealer.identity(who.user_id, who.organisation_id, who.partnership_id, who.roles),
    )


async def rows_in(connection: asyncpg.Connection[Any], table: str) -> int:
    count: int = await connection.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608 - a constant name
    return count


async def everything_visible(connection: asyncpg.Connection[Any]) -> dict[str, int]:
    return {table: await rows_in(connection, table) for table in CASE_DATA_TABLES}


async def case_details_visible(connection: asyncpg.Connection[Any]) -> list[str]:
    rows = await connection.fetch("SELECT case_details::text AS details FROM audits")
    return [row["details"] for row in rows]


# --- the role ------------------------------------------------------------------------------


async def test_the_application_role_owns_nothing_and_cannot_bypass_row_level_security(
    as_app: asyncpg.Connection[Any],
) -> None:
    row = await as_app.fetchrow(
        "SELECT current_user AS name, r.rolsuper, r.rolbypassrls, "
        "pg_has_role(c.relowner, 'USAGE') AS owns FROM pg_roles r, pg_class c "
        "WHERE r.rolname = current_user AND c.oid = 'contributions'::regclass"
    )
    assert dict(row) == {"name": APP_ROLE, "rolsuper": False, "rolbypassrls": False, "owns": False}
    # Its own login: there is no owner's session underneath to go back to.
    await as_app.execute("RESET ROLE")
    assert await as_app.fetchval("SELECT current_user") == APP_ROLE


async def test_the_application_role_cannot_read_the_identity_key(as_app: asyncpg.Connection[Any]) -> None:
    assert not await as_app.fetchval("SELECT has_schema_privilege('maca_private', 'USAGE')")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_app.fetchval("SELECT key FROM maca_private.signing_key")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_app.fetchval("SELECT maca_private.claims('x', 'identity', now())")


async def test_every_table_has_row_level_security_or_a_stated_reason(db: asyncpg.Connection[Any]) -> None:
    """Every table of the schema, those later migrations add included: a
    table that holds anything of a case or a person must have policies."""
    rows = await db.fetch(
        "SELECT c.relname, c.relrowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
    )
    tables = {row["relname"]: row["relrowsecurity"] for row in rows}
    assert set(CASE_DATA_TABLES) <= set(tables)
    without = {name for name, secured in tables.items() if not secured}
    assert without == WITHOUT_ROW_LEVEL_SECURITY, (
        f"tables without row-level security: {sorted(without - WITHOUT_ROW_LEVEL_SECURITY)}; give each policies "
        "keyed to the verified identity (README, Database roles) or a reason in WITHOUT_ROW_LEVEL_SECURITY"
    )


# --- who is asking ---------------------------------------------------------------------


async def test_the_world_is_there_for_its_owner(db: asyncpg.Connection[Any], world: World) -> None:
    """What the application role is refused below is really there."""
    counts = await everything_visible(db)
    assert all(counts[table] > 0 for table in CASE_DATA_TABLES), counts
    assert any(CASE_IDENTIFIER in details for details in await case_details_visible(db))
    stored = await db.fetchval("SELECT response_body FROM idempotency_keys WHERE key = 'police-submits-once'")
    assert stored is not None and b"answers" in stored, "the stored response holds the whole contribution"


async def test_no_identity_sees_nothing(as_app: asyncpg.Connection[Any], world: World) -> None:
    async with as_app.transaction():
        assert await everything_visible(as_app) == dict.fromkeys(CASE_DATA_TABLES, 0)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_app.fetch("SELECT * FROM sign_in_requests")


async def test_the_settings_maca_app_used_to_write_for_itself_show_nothing(
    as_app: asyncpg.Connection[Any], world: World
) -> None:
    coordinator = world.people["coordinator"]
    async with as_app.transaction():
        await as_app.execute(
            "SELECT set_config('maca.organisation_id', $1, true), set_config('maca.partnership_id', $2, true), "
            "set_config('maca.roles', 'coordinator,reviewer', true), set_config('maca.summarising_audit_id', $3, true)",
            str(coordinator.organisation_id),
            str(coordinator.partnership_id),
            str(world.audit),
        )
        assert await everything_visible(as_app) == dict.fromkeys(CASE_DATA_TABLES, 0)


def forgeries(sealer: Sealer, who: Person, db_key_holder: bytes) -> dict[str, str]:
    """Every way an injected statement might say it is ``who`` without the key."""
    claims = {
        "k": "identity",
        "t": time.time(),
        "u": str(who.user_id),
        "o": str(who.organisation_id),
        "p": str(who.partnership_id),
        "r": sorted(who.roles),
    }
    real = sealer.identity(who.user_id, who.organisation_id, who.partnership_id, who.roles)
    mac, _, payload = real.partition(".")
    return {
        "unsealed claims": payload,
        "no MAC": "." + payload,
        "a made-up MAC": "0" * 64 + "." + payload,
        "sealed with another key": seal(b"k" * 32, claims),
        "the real seal, its roles altered": mac + "." + payload.replace('"r":[', '"r":["coordinator",'),
        "the real seal of someone else, another organisation spliced in": mac
        + "."
        + payload.replace(str(who.organisation_id), str(uuid.uuid4())),
        "a seal two minutes old": seal(db_key_holder, {**claims, "t": time.time() - 120}),
        "a seal from two minutes ahead": seal(db_key_holder, {**claims, "t": time.time() + 120}),
        "a seal of another kind": seal(db_key_holder, {**claims, "k": "recording"}),
        "a probe's seal": sealer.probe(),
        "a summarising grant": sealer.summarising(uuid.uuid4(), who.user_id),
    }


async def test_a_forged_identity_sees_nothing(
    as_app: asyncpg.Connection[Any], world: World, sealer: Sealer, db: asyncpg.Connection[Any]
) -> None:
    key = await identity.stored_key(db)
    assert key is not None
    for who in ("coordinator", "reviewer", "health"):
        for how, forged in forgeries(sealer, world.people[who], key).items():
            async with as_app.transaction():
                await as_app.execute("SELECT set_config('maca.identity', $1, true)", forged)
                seen = await everything_visible(as_app)
                assert seen == dict.fromkeys(CASE_DATA_TABLES, 0), f"{how} as {who}: {seen}"


async def test_another_partnerships_coordinator_sees_none_of_ours(
    as_app: asyncpg.Connection[Any], world: World, sealer: Sealer
) -> None:
    async with as_app.transaction():
        await as_person(as_app, sealer, world.people["elsewhere"])
        assert await as_app.fetchval("SELECT array_agg(id) FROM audits") == [world.other_audit]
        assert not any(CASE_IDENTIFIER in details for details in await case_details_visible(as_app))
        # Their own partnership's count of audits, none of ours.
        counts = await as_app.fetch("SELECT partnership_id, status, audits FROM audit_counts")
        assert [tuple(row) for row in counts] == [(world.people["elsewhere"].partnership_id, "open", 1)]
        for table in CASE_DATA_TABLES:
            if table in ("users",):  # themselves
                assert await rows_in(as_app, table) == 1
            elif table not in ("audits", "audit_counts"):
                assert await rows_in(as_app, table) == 0, table


async def test_an_agency_sees_its_own_part_and_no_one_elses(
    as_app: asyncpg.Connection[Any], world: World, sealer: Sealer
) -> None:
    health = world.people["health"]
    async with as_app.transaction():
        await as_person(as_app, sealer, health)
        assert await as_app.fetchval("SELECT array_agg(id) FROM audits") == [world.audit]
        assert await as_app.fetchval("SELECT array_agg(organisation_id) FROM contributions") == [health.organisation_id]
        assert await rows_in(as_app, "contribution_versions") == 0, "police's submitted version is police's"
        assert await rows_in(as_app, "remedial_actions") == 0, "the action is police's to progress"
        assert await rows_in(as_app, "remedial_action_updates") == 0, "seen with police's action"
        assert await rows_in(as_app, "panel_records") == 0, "the partnership's overseers'"
        assert await rows_in(as_app, "programmes") == 1, "the partnership's rounds are no one's case data"
        assert await rows_in(as_app, "moderations") == 0, "shared with agencies once the audit is closed"
        assert await rows_in(as_app, "idempotency_keys") == 0, "police's stored response"
        assert await rows_in(as_app, "audit_summaries") == 0
        assert await rows_in(as_app, "theme_section_counts") == 0
        # Its own events, and the audit's moves (migration 0018: the history
        # page shows an agency the moves of an audit it takes part in, as the
        # coordinator's form tells it); never another agency's work.
        seen = await as_app.fetch("SELECT user_id, action FROM events")
        assert {r["user_id"] for r in seen if r["action"] != "audit.status-changed"} == {health.user_id}
        assert {r["action"] for r in seen if r["user_id"] != health.user_id} == {"audit.status-changed"}
        assert await as_app.fetchval("SELECT array_agg(user_id) FROM sessions") == [health.user_id]
        assert await rows_in(as_app, "concerns") == 0, "police's concern is police's and the partnership's"
        assert await rows_in(as_app, "notifications") == 0, "who was told is the partnership staff's"
        assert await rows_in(as_app, "audit_counts") == 0, "the partnership's counts count drafts: its overseers'"
    police = world.people["police"]
    async with as_app.transaction():
        await as_person(as_app, sealer, police)
        assert await rows_in(as_app, "contribution_versions") == 1
        assert await rows_in(as_app, "remedial_actions") == 1
        assert await rows_in(as_app, "remedial_action_updates") == 1
        assert await rows_in(as_app, "idempotency_keys") == 1
        assert await rows_in(as_app, "sessions") == 0
        assert await as_app.fetchval("SELECT array_agg(organisation_id) FROM concerns") == [police.organisation_id]
        assert await rows_in(as_app, "notifications") >= 1, "the message its own save wrote"
        assert await as_app.fetchval(
            "SELECT bool_and(written_by_organisation = $1) FROM notifications", police.organisation_id
        )
    async with as_app.transaction():
        await as_person(as_app, sealer, world.people["education"])
        assert await rows_in(as_app, "audits") == 0, "education does not take part"
        assert await rows_in(as_app, "contributions") == 0
        assert await rows_in(as_app, "concerns") == 0
        assert await rows_in(as_app, "notifications") == 0


async def test_who_takes_part_is_kept_by_the_database_not_written_by_a_request(
    as_app: asyncpg.Connection[Any], world: World, sealer: Sealer, db: asyncpg.Connection[Any]
) -> None:
    """An agency sees an audit by audits.taking_part, which only the
    participants' triggers write: naming education in it shows education
    nothing; adding education as a participant does, and removing it again
    takes the audit away."""
    coordinator, education = world.people["coordinator"], world.people["education"]

    async def education_sees() -> int:
        async with as_app.transaction():
            await as_person(as_app, sealer, education)
            return await rows_in(as_app, "audits")

    async with as_app.transaction():
        await as_person(as_app, sealer, coordinator)
        named = "UPDATE audits SET taking_part = taking_part || $2::uuid WHERE id = $1"
        assert await as_app.execute(named, world.audit, education.organisation_id) == "UPDATE 1"
    assert education.organisation_id not in await db.fetchval(
        "SELECT taking_part FROM audits WHERE id = $1", world.audit
    )
    assert await education_sees() == 0

    async with as_app.transaction():
        await as_person(as_app, sealer, coordinator)
        await as_app.execute(
            "INSERT INTO audit_participants (audit_id, organisation_id, added_by) VALUES ($1, $2, $3)",
            world.audit,
            education.organisation_id,
            coordinator.user_id,
        )
    assert await education_sees() == 1
    async with as_app.transaction():
        await as_person(as_app, sealer, coordinator)
        await as_app.execute(
            "UPDATE audit_participants SET removed_at = now(), removed_by = $3, removal_reason = 'added in error' "
            "WHERE audit_id = $1 AND organisation_id = $2",
            world.audit,
            education.organisation_id,
            coordinator.user_id,
        )
    assert await education_sees() == 0
    assert sorted(await db.fetchval("SELECT taking_part FROM audits WHERE id = $1", world.audit)) == sorted(
        [world.people["health"].organisation_id, world.people["police"].organisation_id]
    )


@pytest.mark.parametrize("persona", ["coordinator", "reviewer"])
async def test_the_partnerships_coordinators_and_reviewers_see_every_agencys_part(
    as_app: asyncpg.Connection[Any], world: World, sealer: Sealer, persona: str, db: asyncpg.Connection[Any]
) -> None:
    who = world.people[persona]
    async with as_app.transaction():
        await as_person(as_app, sealer, who)
        assert await as_app.fetchval("SELECT array_agg(id) FROM audits") == [world.audit]
        assert await rows_in(as_app, "contributions") == 2
        assert await rows_in(as_app, "contribution_versions") == 1
        assert await rows_in(as_app, "remedial_actions") == 1
        assert await rows_in(as_app, "moderations") == 1
        assert await rows_in(as_app, "remedial_action_updates") == 1
        assert await rows_in(as_app, "panel_records") == 1
        assert await rows_in(as_app, "learning_tags") == 1
        assert await rows_in(as_app, "audit_summaries") == 1
        assert await as_app.fetchval("SELECT count(*) FROM events WHERE audit_id = $1", world.audit) > 0
        assert await rows_in(as_app, "idempotency_keys") == 0, "stored responses are their senders' only"
        assert await rows_in(as_app, "sessions") == 0
        assert await as_app.fetchval("SELECT array_agg(kind) FROM concerns") == ["child-not-safe"]
        assert await rows_in(as_app, "notifications") == await db.fetchval("SELECT count(*) FROM notifications")
        counts = await as_app.fetch("SELECT partnership_id, status, audits FROM audit_counts WHERE audits <> 0")
        assert [tuple(row) for row in counts] == [(who.partnership_id, "open", 1)]


async def test_the_audit_counts_are_written_by_the_database_never_by_a_request(
    as_app: asyncpg.Connection[Any], world: World, sealer: Sealer, db: asyncpg.Connection[Any]
) -> None:
    """The partnership's counts of audits per status (migration 0020), the
    total its list shows: the coordinator's own statements cannot change
    them, only the triggers that count the audits it creates and moves."""
    coordinator = world.people["coordinator"]
    writes = (
        "INSERT INTO audit_counts (partnership_id, status, audits) VALUES ($1, 'closed', 1000)",
        "UPDATE audit_counts SET audits = 1000 WHERE partnership_id = $1",
        "DELETE FROM audit_counts WHERE partnership_id = $1",
    )
    for write in writes:
        async with as_app.transaction():
            await as_person(as_app, sealer, coordinator)
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await as_app.execute(write, coordinator.partnership_id)
    async with as_app.transaction():
        await as_person(as_app, sealer, coordinator)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await as_app.execute("TRUNCATE audit_counts")
    async with as_app.transaction():
        await as_person(as_app, sealer, coordinator)
        await as_app.execute(
            "INSERT INTO audits (partnership_id, toolkit_id, toolkit_version, case_details, created_by) "
            "VALUES ($1, 'multi-agency-cp', 1, '{}'::jsonb, $2)",
            coordinator.partnership_id,
            coordinator.user_id,
        )
        await as_app.execute(
            "UPDATE audits SET status = 'in-review' WHERE id = $1 AND partnership_id = $2",
            world.audit,
            coordinator.partnership_id,
        )
        counts = await as_app.fetch("SELECT status, audits FROM audit_counts WHERE audits <> 0 ORDER BY status")
        assert [tuple(row) for row in counts] == [("draft", 1), ("in-review", 1)]
    assert (
        await db.fetchval(
            "SELECT count(*) FROM audit_counts k WHERE k.audits <> "
            "(SELECT count(*) FROM audits a WHERE a.partnership_id = k.partnership_id AND a.status = k.status)"
        )
        == 0
    )


async def test_the_verified_identity_functions_answer_for_the_seal_only(
    as_app: asyncpg.Connection[Any], world: World, sealer: Sealer
) -> None:
    """What a new table's policies are written with (README, Database roles)."""
    reviewer = world.people["reviewer"]
    ask = (
        "SELECT maca_user() AS u, maca_organisation() AS o, maca_partnership() AS p, "
        "maca_overseen_partnership() AS overseen, maca_holds_role('reviewer') AS reviews, "
        "maca_holds_role('admin') AS administers"
    )
    async with as_app.transaction():
        await as_person(as_app, sealer, reviewer)
        assert dict(await as_app.fetchrow(ask)) == {
            "u": reviewer.user_id,
            "o": reviewer.organisation_id,
            "p": reviewer.partnership_id,
            "overseen": reviewer.partnership_id,
            "reviews": True,
            "administers": False,
        }
    async with as_app.transaction():
        await as_app.execute("SELECT set_config('maca.identity', 'coordinator', true)")
        assert dict(await as_app.fetchrow(ask)) == {
            "u": None,
            "o": None,
            "p": None,
            "overseen": None,
            "reviews": False,
            "administers": False,
        }


# --- what a statement outside a step cannot do --------------------------------------------


async def test_case_details_cannot_be_changed_outside_a_coordinators_transaction(
    as_app: asyncpg.Connection[Any], world: World, sealer: Sealer, db: asyncpg.Connection[Any]
) -> None:
    wipe = "UPDATE audits SET case_details = '{}' WHERE id = $1"
    async with as_app.transaction():
        assert await as_app.execute(wipe, world.audit) == "UPDATE 0"
    for persona in ("health", "elsewhere"):
        async with as_app.transaction():
            await as_person(as_app, sealer, world.people[persona])
            assert await as_app.execute(wipe, world.audit) == "UPDATE 0"
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with as_app.transaction():
            await as_person(as_app, sealer, world.people["elsewhere"])
            await as_app.execute(
                "INSERT INTO audits (partnership_id, toolkit_id, toolkit_version) VALUES ($1, 't', 1)",
                world.people["coordinator"].partnership_id,
            )
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_app.execute("DELETE FROM audits WHERE id = $1", world.audit)
    assert CASE_IDENTIFIER in await db.fetchval("SELECT case_details::text FROM audits WHERE id = $1", world.audit)


async def test_an_agency_cannot_write_another_agencys_contribution(
    as_app: asyncpg.Connection[Any], world: World, sealer: Sealer
) -> None:
    health, police = world.people["health"], world.people["police"]
    async with as_app.transaction():
        await as_person(as_app, sealer, health)
        assert await as_app.execute(
            "UPDATE contributions SET answered = 9 WHERE organisation_id = $1", police.organisation_id
        ) == ("UPDATE 0")
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with as_app.transaction():
            await as_person(as_app, sealer, health)
            await as_app.execute(
                "UPDATE contributions SET organisation_id = $1 WHERE organisation_id = $2",
                police.organisation_id,
                health.organisation_id,
            )


async def test_no_one_is_given_another_role_or_organisation_by_a_statement(
    as_app: asyncpg.Connection[Any], world: World, sealer: Sealer, db: asyncpg.Connection[Any]
) -> None:
    """A browser session's principal is read from users: a statement that
    could rewrite it could make anyone a coordinator anywhere."""
    health = world.people["health"]
    async with as_app.transaction():
        await as_person(as_app, sealer, health)
        promote = "UPDATE users SET roles = '{coordinator,reviewer}' WHERE id = $1"
        assert await as_app.execute(promote, health.user_id) == "UPDATE 0"
    # Administrators change organisations (migration 0013), so maca_app may
    # update them; no one else's statement reaches a row: not without an
    # identity, not as the organisation's own auditor, not as another
    # partnership's coordinator.
    move = "UPDATE organisations SET partnership_id = $1 WHERE id = $2"
    elsewhere = world.people["elsewhere"]
    assert await as_app.execute(move, elsewhere.partnership_id, health.organisation_id) == "UPDATE 0"
    for who in (health, elsewhere):
        async with as_app.transaction():
            await as_person(as_app, sealer, who)
            assert await as_app.execute(move, elsewhere.partnership_id, health.organisation_id) == "UPDATE 0"
    assert await db.fetchval("SELECT partnership_id FROM organisations WHERE id = $1", health.organisation_id) == (
        health.partnership_id
    )
    # A recording seal for one person lets the transaction write that
    # person exactly as the token said, and nothing else.
    claims = {
        "issuer": "https://idp.example",
        "subject": "newcomer",
        "organisation": "demo-health",
        "organisation_name": None,
        "agency_kind": "health",
        "partnership": "demo-partnership",
        "name": "New Person",
        "roles": ["auditor"],
    }
    insert = (
        "INSERT INTO users (issuer, subject, organisation_id, display_name, roles) "
        "VALUES ('https://idp.example', 'newcomer', $1, 'New Person', $2)"
    )
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with as_app.transaction():
            await as_app.execute("SELECT set_config('maca.recording', $1, true)", sealer.recording(claims))
            await as_app.execute(insert, health.organisation_id, ["coordinator"])
    async with as_app.transaction():
        await as_app.execute("SELECT set_config('maca.recording', $1, true)", sealer.recording(claims))
        await as_app.execute(insert, health.organisation_id, ["auditor"])
    assert await db.fetchval("SELECT roles FROM users WHERE subject = 'newcomer'") == ["auditor"]


async def test_a_session_is_opened_only_for_oneself_and_found_only_by_its_key(
    as_app: asyncpg.Connection[Any], world: World, sealer: Sealer
) -> None:
    health, police = world.people["health"], world.people["police"]
    plant = "INSERT INTO sessions (key_hash, user_id, csrf_token, expires_at) VALUES ($1, $2, 'x', now() + '1 hour')"
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with as_app.transaction():
            await as_person(as_app, sealer, police)
            await as_app.execute(plant, b"\x02" * 32, health.user_id)
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        await as_app.execute(plant, b"\x03" * 32, health.user_id)
    # Whoever holds the cookie's key finds its session; nobody lists them.
    assert await as_app.fetchval("SELECT id FROM maca_session($1)", b"\x01" * 32) == health.user_id
    assert await as_app.fetchval("SELECT count(*) FROM maca_session($1)", b"\x09" * 32) == 0


async def test_stored_responses_are_their_senders_only(
    as_app: asyncpg.Connection[Any], world: World, sealer: Sealer
) -> None:
    police = world.people["police"]
    async with as_app.transaction():
        await as_person(as_app, sealer, police)
        body = await as_app.fetchval("SELECT response_body FROM idempotency_keys WHERE key = 'police-submits-once'")
        assert body is not None and b"answers" in body
    for persona in ("coordinator", "reviewer", "health"):
        async with as_app.transaction():
            await as_person(as_app, sealer, world.people[persona])
            assert await as_app.fetchval("SELECT count(*) FROM idempotency_keys") == 0
            assert await as_app.execute("UPDATE idempotency_keys SET response_body = NULL") == "UPDATE 0"


# --- the summary refresh ------------------------------------------------------------------


async def test_naming_an_audit_being_summarised_reveals_nothing(
    as_app: asyncpg.Connection[Any], world: World, sealer: Sealer, db: asyncpg.Connection[Any]
) -> None:
    """Migration 0009 let a transaction that named the audit it was
    summarising read every agency's draft of it. Now only the server's seal
    for that audit and that transaction's user does."""
    health, police = world.people["health"], world.people["police"]
    key = await identity.stored_key(db)
    assert key is not None
    attempts = {
        "the old setting": ("maca.summarising_audit_id", str(world.audit)),
        "the audit named, unsealed": ("maca.summarising", str(world.audit)),
        "a grant sealed for another person": ("maca.summarising", sealer.summarising(world.audit, police.user_id)),
        "a grant sealed with another key": (
            "maca.summarising",
            seal(b"k" * 32, {"k": "summarising", "t": time.time(), "a": str(world.audit), "u": str(health.user_id)}),
        ),
        "a stale grant": (
            "maca.summarising",
            seal(key, {"k": "summarising", "t": time.time() - 120, "a": str(world.audit), "u": str(health.user_id)}),
        ),
    }
    for how, (setting, value) in attempts.items():
        async with as_app.transaction():
            await as_person(as_app, sealer, health)
            await as_app.execute("SELECT set_config($1, $2, true)", setting, value)
            seen = await as_app.fetchval("SELECT array_agg(organisation_id) FROM contributions")
            assert seen == [health.organisation_id], how
            assert await rows_in(as_app, "moderations") == 0, how
            assert await rows_in(as_app, "audit_summaries") == 0, how


async def test_a_grant_to_summarise_reads_one_audit_and_writes_only_its_summary(
    as_app: asyncpg.Connection[Any], world: World, sealer: Sealer
) -> None:
    health, police = world.people["health"], world.people["police"]
    async with as_app.transaction():
        await as_person(as_app, sealer, health)
        await as_app.execute(
            "SELECT set_config('maca.summarising', $1, true)", sealer.summarising(world.audit, health.user_id)
        )
        rows = await as_app.fetch("SELECT organisation_id FROM contributions")
        assert {r["organisation_id"] for r in rows} == {health.organisation_id, police.organisation_id}
        assert await rows_in(as_app, "moderations") == 1
        assert await rows_in(as_app, "remedial_action_updates") == 0, "the grant is for the summary only"
        assert await rows_in(as_app, "panel_records") == 0, "the grant is for the summary only"
        assert await rows_in(as_app, "audit_summaries") == 1
        assert await rows_in(as_app, "contribution_versions") == 0, "versions are never part of it"
        assert await as_app.execute(
            "UPDATE contributions SET answered = 9 WHERE organisation_id = $1", police.organisation_id
        ) == ("UPDATE 0")
        assert await as_app.execute("UPDATE audit_summaries SET provisional = provisional") == "UPDATE 1"


# --- events ----------------------------------------------------------------------------


async def test_an_event_is_recorded_only_for_the_verified_identity(
    as_app: asyncpg.Connection[Any], world: World, sealer: Sealer, db: asyncpg.Connection[Any]
) -> None:
    coordinator, health = world.people["coordinator"], world.people["health"]
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_app.execute(
            "INSERT INTO events (user_id, organisation_id, action, audit_id) VALUES ($1, $2, 'audit.closed', $3)",
            coordinator.user_id,
            coordinator.organisation_id,
            world.audit,
        )
    record = "SELECT maca_record_event('audit.read', $1, NULL, '{}')"
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="verified identity"):
        await as_app.fetchval(record, world.audit)
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="verified identity"):
        async with as_app.transaction():
            await as_app.execute("SELECT set_config('maca.identity', $1, true)", "0" * 64 + '.{"k":"identity"}')
            await as_app.fetchval(record, world.audit)
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="partnership"):
        async with as_app.transaction():
            await as_person(as_app, sealer, health)
            await as_app.fetchval(record, world.other_audit)
    async with as_app.transaction():
        await as_person(as_app, sealer, health)
        event_id = await as_app.fetchval(record, world.audit)
    actor = await db.fetchrow("SELECT user_id, organisation_id FROM events WHERE id = $1", event_id)
    assert (actor["user_id"], actor["organisation_id"]) == (health.user_id, health.organisation_id)
    assert (await verify(db)).intact


async def test_the_application_role_never_changes_or_deletes_events(
    as_app: asyncpg.Connection[Any], world: World
) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_app.execute("UPDATE events SET action = 'nothing'")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_app.execute("DELETE FROM events")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_app.execute("TRUNCATE events")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_app.execute("UPDATE event_strand_heads SET position = 0")


# --- closed is closed ------------------------------------------------------------------


async def test_a_closed_audit_refuses_changes_until_it_is_reopened(
    as_app: asyncpg.Connection[Any], world: World, sealer: Sealer, db: asyncpg.Connection[Any]
) -> None:
    await db.execute("UPDATE audits SET status = 'closed' WHERE id = $1", world.audit)
    reviewer, police, coordinator = world.people["reviewer"], world.people["police"], world.people["coordinator"]
    changes = [
        (reviewer, "UPDATE moderations SET grade = 1 WHERE audit_id = $1"),
        (
            reviewer,
            "INSERT INTO moderations (audit_id, target, grade, reason) VALUES ($1, 'agency-working', 1, 'Changed')",
        ),
        (police, "UPDATE contributions SET answered = 0 WHERE audit_id = $1"),
        (coordinator, "UPDATE contributions SET status = 'returned' WHERE audit_id = $1"),
        (coordinator, "UPDATE audit_participants SET removed_at = now(), removal_reason = 'x' WHERE audit_id = $1"),
        (coordinator, "UPDATE audits SET case_details = '{}' WHERE id = $1"),
    ]
    for who, statement in changes:
        with pytest.raises(asyncpg.PostgresError, match="the audit is closed") as refused:
            async with as_app.transaction():
                await as_person(as_app, sealer, who)
                await as_app.execute(statement, world.audit)
        assert refused.value.sqlstate == "55M01", statement
    with pytest.raises(asyncpg.PostgresError, match="the audit is closed"):
        async with as_app.transaction():
            await as_person(as_app, sealer, police)
            await as_app.execute(
                "INSERT INTO contribution_versions (contribution_id, version, kind, content) "
                "VALUES ($1, 9, 'amended', '{}')",
                world.police_contribution,
            )
    assert await db.fetchval("SELECT grade FROM moderations WHERE audit_id = $1", world.audit) == 3
    # Reopening is the way back, and then a change is allowed again.
    async with as_app.transaction():
        await as_person(as_app, sealer, coordinator)
        assert await as_app.execute("UPDATE audits SET status = 'open' WHERE id = $1", world.audit) == "UPDATE 1"
    async with as_app.transaction():
        await as_person(as_app, sealer, reviewer)
        assert await as_app.execute("UPDATE moderations SET grade = 1 WHERE audit_id = $1", world.audit) == "UPDATE 1"


async def test_a_reviewer_cannot_moderate_a_closed_audit_through_the_api(
    people: People, world: World, db: asyncpg.Connection[Any]
) -> None:
    await db.execute("UPDATE audits SET status = 'closed' WHERE id = $1", world.audit)
    judgement = await request(people, "reviewer", "GET", f"/api/audits/{world.audit}/judgement")
    response = await request(
        people,
        "reviewer",
        "PUT",
        f"/api/audits/{world.audit}/judgement/sections/overall",
        json={"grade": 1, "reason": "Changed after closing"},
        headers={"If-Match": judgement.headers["etag"]},
    )
    assert response.status_code == 409, response.text
    assert await db.fetchval("SELECT grade FROM moderations WHERE audit_id = $1", world.audit) == 3


# --- the server's side: unit_of_work and the pool ----------------------------------------


async def test_unit_of_work_runs_as_the_application_role_with_a_sealed_identity(
    settings: Settings, database_url: str, world: World, db: asyncpg.Connection[Any]
) -> None:
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
    pool = await create_pool(settings, database_url)
    try:
        state = State({"pool": pool})
        async with unit_of_work(state, principal) as connection:
            assert await connection.fetchval("SELECT current_user") == APP_ROLE
            assert await connection.fetchval("SELECT array_agg(organisation_id) FROM contributions") == [
                health.organisation_id
            ]
            # The seal went as a parameter: no session of the role can read
            # it in the statement text pg_stat_activity shows.
            seal_sent = await connection.fetchval("SELECT current_setting('maca.identity')")
            shown = await db.fetch("SELECT query FROM pg_stat_activity WHERE usename = $1", APP_ROLE)
            assert shown and not any(seal_sent[:64] in row["query"] for row in shown)
        # The identity was the transaction's only: the connection, back in
        # the pool, carries nobody's.
        async with pool.acquire() as connection, connection.transaction():
            assert await connection.fetchval("SELECT current_setting('maca.identity', true)") in ("", None)
            assert await connection.fetchval("SELECT count(*) FROM contributions") == 0
    finally:
        await pool.close()


async def test_a_server_whose_key_the_database_does_not_accept_is_unavailable(database_url: str, tmp_path: Any) -> None:
    """Another MACA_DB_IDENTITY_KEY than the one `maca migrate` stored would
    show every page empty; instead the pool refuses to hand out connections
    (503, with a log line saying why)."""
    wrong = load_settings({}, env="test", data_dir=str(tmp_path), db_identity_key="not the key migrate stored" * 2)
    pool = await create_pool(wrong, database_url)
    try:
        with pytest.raises(identity.SigningKeyUnavailable, match="MACA_DB_IDENTITY_KEY"):
            await asyncio.wait_for(pool.acquire(), 10)
    finally:
        await pool.close()


async def test_the_pool_refuses_a_role_that_could_bypass_row_level_security(db: asyncpg.Connection[Any]) -> None:
    # The test database is reached as a superuser.
    with pytest.raises(UnsafeApplicationRole, match="bypass row-level security"):
        await check_role(db)
