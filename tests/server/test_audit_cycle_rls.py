"""The audit cycle's tables behind row-level security (migration 0016),
tried as the application's own login role, maca_app, with the identity
sealed as the server seals it (migration 0011): an action's progress
updates are read with the action (its partnership's coordinators and
reviewers, or the organisation responsible for it) and added only by those
and only in the signed-in person's own name, never changed or removed once
kept; an agency's submission may track its own action table's rows and no
one else's; programmes, learning themes and tags are read in their
partnership, the panel's record only by its coordinators and reviewers,
who alone write it and the tags; the administrator keeps the themes and
programmes; a closed audit's panel record is held until it is reopened; a
transaction sealed for no one, or for another partnership, sees nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from server.db import identity
from server.db.identity import Sealer
from server.db.pool import app_database_url
from server.settings import Settings

CYCLE_TABLES = ("programmes", "programme_agencies", "panel_records", "learning_themes", "learning_tags")


@pytest.fixture
async def as_app(settings: Settings, database_url: str) -> AsyncIterator[asyncpg.Connection[Any]]:
    connection = await asyncpg.connect(app_database_url(settings, database_url))
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
async def sealer(db: asyncpg.Connection[Any]) -> Sealer:
    key = await identity.stored_key(db)
    assert key is not None, "migrate stored no identity key"
    return Sealer(configured=key, owner_dsn=None)


@dataclass(frozen=True)
class Someone:
    user: uuid.UUID
    organisation: uuid.UUID
    partnership: uuid.UUID
    roles: tuple[str, ...]


@dataclass
class Cycle:
    audit: uuid.UUID
    action: uuid.UUID
    police_contribution: uuid.UUID
    health_contribution: uuid.UUID
    people: dict[str, Someone]


@pytest.fixture
async def cycle(db: asyncpg.Connection[Any]) -> Cycle:
    """A partnership's open audit that police and health take part in, with
    an action police are responsible for and one progress update kept on it;
    another partnership with a coordinator of its own."""
    partnership = await db.fetchval("INSERT INTO partnerships (code, name) VALUES ('p', 'p') RETURNING id")
    elsewhere = await db.fetchval("INSERT INTO partnerships (code, name) VALUES ('q', 'q') RETURNING id")
    organisations: dict[str, uuid.UUID] = {}
    for code, where in (("police", partnership), ("health", partnership), ("csc", partnership), ("q-csc", elsewhere)):
        organisations[code] = await db.fetchval(
            "INSERT INTO organisations (partnership_id, code, name, agency_kind) VALUES ($1, $2, $2, 'police') "
            "RETURNING id",
            where,
            code,
        )
    people: dict[str, Someone] = {}
    for name, organisation, roles in (
        ("police", "police", ("auditor",)),
        ("health", "health", ("auditor",)),
        ("reviewer", "csc", ("reviewer",)),
        ("coordinator", "csc", ("coordinator",)),
        ("admin", "csc", ("admin",)),
        ("elsewhere", "q-csc", ("coordinator", "reviewer", "admin")),
    ):
        user = await db.fetchval(
            "INSERT INTO users (issuer, subject, organisation_id, roles) VALUES ('i', $1, $2, $3) RETURNING id",
            name,
            organisations[organisation],
            list(roles),
        )
        where = elsewhere if organisation == "q-csc" else partnership
        people[name] = Someone(user, organisations[organisation], where, roles)
    audit = await db.fetchval(
        "INSERT INTO audits (partnership_id, toolkit_id, toolkit_version, status) "
        "VALUES ($1, 'multi-agency-cp', 2, 'open') RETURNING id",
        partnership,
    )
    contributions = {}
    for code in ("police", "health"):
        await db.execute(
            "INSERT INTO audit_participants (audit_id, organisation_id) VALUES ($1, $2)", audit, organisations[code]
        )
        contributions[code] = await db.fetchval(
            "INSERT INTO contributions (audit_id, organisation_id) VALUES ($1, $2) RETURNING id",
            audit,
            organisations[code],
        )
    action = await db.fetchval(
        "INSERT INTO remedial_actions (audit_id, action, responsible_organisation_id) VALUES ($1, 'Share the log', $2) "
        "RETURNING id",
        audit,
        organisations["police"],
    )
    await db.execute(
        "INSERT INTO remedial_action_updates (action_id, status, date_reviewed, comments, recorded_by, "
        "recorded_by_organisation) VALUES ($1, 'in-progress', current_date, 'Asked', $2, $3)",
        action,
        people["police"].user,
        organisations["police"],
    )
    return Cycle(audit, action, contributions["police"], contributions["health"], people)


async def as_someone(connection: asyncpg.Connection[Any], sealer: Sealer, who: Someone) -> None:
    """What unit_of_work says, for the current transaction only."""
    await connection.execute(
        "SELECT set_config('maca.identity', $1, true)",
        sealer.identity(who.user, who.organisation, who.partnership, who.roles),
    )


async def counted(connection: asyncpg.Connection[Any], table: str) -> int:
    count: int = await connection.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608 - constant names
    return count


async def test_an_actions_updates_are_seen_with_the_action_by_its_organisation_and_the_overseers_only(
    as_app: asyncpg.Connection[Any], cycle: Cycle, sealer: Sealer
) -> None:
    async with as_app.transaction():  # no one
        assert await counted(as_app, "remedial_action_updates") == 0
    expected = {"police": 1, "health": 0, "reviewer": 1, "coordinator": 1, "admin": 0, "elsewhere": 0}
    for name, count in expected.items():
        async with as_app.transaction():
            await as_someone(as_app, sealer, cycle.people[name])
            assert await counted(as_app, "remedial_actions") == count, name
            assert await counted(as_app, "remedial_action_updates") == count, name


async def test_the_responsible_organisations_auditor_sees_its_action_with_its_audit_as_the_action_plan_reads_it(
    as_app: asyncpg.Connection[Any], cycle: Cycle, sealer: Sealer
) -> None:
    """The action plan (server/db/actions.py, plan) joins each action to its
    audit for the case reference: under 0011's audits and remedial_actions
    policies the organisation responsible, taking part, finds its own
    action there, and another agency taking part finds none."""
    plan = (
        "SELECT r.id FROM remedial_actions r JOIN audits a ON a.id = r.audit_id "
        "WHERE a.partnership_id = $1 AND r.responsible_organisation_id = $2"
    )
    police, health = cycle.people["police"], cycle.people["health"]
    async with as_app.transaction():
        await as_someone(as_app, sealer, police)
        assert [r["id"] for r in await as_app.fetch(plan, police.partnership, police.organisation)] == [cycle.action]
    async with as_app.transaction():
        await as_someone(as_app, sealer, health)
        assert await as_app.fetch(plan, health.partnership, police.organisation) == []


async def test_only_the_organisation_responsible_or_the_overseers_add_an_update_and_only_as_themselves(
    as_app: asyncpg.Connection[Any], cycle: Cycle, sealer: Sealer
) -> None:
    insert = (
        "INSERT INTO remedial_action_updates (action_id, status, date_reviewed, comments, recorded_by, "
        "recorded_by_organisation) VALUES ($1, 'completed', current_date, 'Done', $2, $3)"
    )
    police, health, reviewer = cycle.people["police"], cycle.people["health"], cycle.people["reviewer"]
    refused = [
        (health, health),  # not health's action
        (police, health),  # in health's name
        (police, reviewer),  # in a reviewer's name
        (cycle.people["elsewhere"], cycle.people["elsewhere"]),
    ]
    for sealed_as, written_as in refused:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
            async with as_app.transaction():
                await as_someone(as_app, sealer, sealed_as)
                await as_app.execute(insert, cycle.action, written_as.user, written_as.organisation)
    for who in (police, reviewer):
        async with as_app.transaction():
            await as_someone(as_app, sealer, who)
            assert await as_app.execute(insert, cycle.action, who.user, who.organisation) == "INSERT 0 1"


async def test_a_kept_update_is_never_changed_or_removed(
    as_app: asyncpg.Connection[Any], cycle: Cycle, sealer: Sealer
) -> None:
    for statement in (
        "UPDATE remedial_action_updates SET comments = 'rewritten'",
        "DELETE FROM remedial_action_updates",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with as_app.transaction():
                await as_someone(as_app, sealer, cycle.people["coordinator"])
                await as_app.execute(statement)


async def test_an_agency_tracks_its_own_action_tables_rows_and_no_one_elses(
    as_app: asyncpg.Connection[Any], cycle: Cycle, sealer: Sealer
) -> None:
    """A submission turns the rows of the agency's own action table into
    actions it is responsible for (0011 lets only overseers agree one)."""
    insert = (
        "INSERT INTO remedial_actions (audit_id, action, responsible_organisation_id, source_contribution_id, "
        "source_question_id, source_row) VALUES ($1, 'From the table', $2, $3, 'remedial-actions', 0)"
    )
    police, health = cycle.people["police"], cycle.people["health"]
    for responsible, contribution in (
        (health.organisation, cycle.police_contribution),  # health's action from police's table
        (police.organisation, cycle.health_contribution),  # police's action from health's table
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
            async with as_app.transaction():
                await as_someone(as_app, sealer, police)
                await as_app.execute(insert, cycle.audit, responsible, contribution)
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with as_app.transaction():  # an action of no table: the overseers agree those
            await as_someone(as_app, sealer, police)
            await as_app.execute(
                "INSERT INTO remedial_actions (audit_id, action, responsible_organisation_id) VALUES ($1, 'x', $2)",
                cycle.audit,
                police.organisation,
            )
    async with as_app.transaction():
        await as_someone(as_app, sealer, police)
        assert await as_app.execute(insert, cycle.audit, police.organisation, cycle.police_contribution) == (
            "INSERT 0 1"
        )


@pytest.fixture
async def rounds(db: asyncpg.Connection[Any], cycle: Cycle) -> uuid.UUID:
    """A programme, a panel record, a learning theme and a tag in the
    partnership's audit; returns the theme."""
    partnership = cycle.people["police"].partnership
    programme = await db.fetchval(
        "INSERT INTO programmes (partnership_id, name, toolkit_id) VALUES ($1, 'Neglect', 'multi-agency-cp') "
        "RETURNING id",
        partnership,
    )
    await db.execute("INSERT INTO programme_agencies VALUES ($1, $2)", programme, cycle.people["police"].organisation)
    await db.execute("INSERT INTO panel_records (audit_id, overall_narrative) VALUES ($1, 'Agreed')", cycle.audit)
    theme: uuid.UUID = await db.fetchval(
        "INSERT INTO learning_themes (partnership_id, name) VALUES ($1, 'Voice') RETURNING id", partnership
    )
    await db.execute(
        "INSERT INTO learning_tags (audit_id, organisation_id, question_id, theme_id) VALUES ($1, $2, 'q', $3)",
        cycle.audit,
        cycle.people["police"].organisation,
        theme,
    )
    return theme


async def test_the_cycles_tables_are_read_in_their_partnership_and_the_panel_only_by_its_overseers(
    as_app: asyncpg.Connection[Any], cycle: Cycle, sealer: Sealer, rounds: uuid.UUID
) -> None:
    async with as_app.transaction():  # no one
        assert {t: await counted(as_app, t) for t in CYCLE_TABLES} == dict.fromkeys(CYCLE_TABLES, 0)
    everything = dict.fromkeys(CYCLE_TABLES, 1)
    expected = {
        "police": {**everything, "panel_records": 0},
        "admin": {**everything, "panel_records": 0},
        "reviewer": everything,
        "coordinator": everything,
        "elsewhere": dict.fromkeys(CYCLE_TABLES, 0),
    }
    for name, counts in expected.items():
        async with as_app.transaction():
            await as_someone(as_app, sealer, cycle.people[name])
            assert {t: await counted(as_app, t) for t in CYCLE_TABLES} == counts, name


async def test_only_the_right_people_change_the_cycles_tables(
    as_app: asyncpg.Connection[Any], cycle: Cycle, sealer: Sealer, rounds: uuid.UUID
) -> None:
    async with as_app.transaction():
        await as_someone(as_app, sealer, cycle.people["police"])
        changed = [
            await as_app.execute("UPDATE programmes SET name = 'x'"),
            await as_app.execute("UPDATE panel_records SET overall_narrative = 'x'"),
            await as_app.execute("UPDATE learning_themes SET name = 'x'"),
            await as_app.execute("DELETE FROM learning_tags"),
        ]
        assert changed == ["UPDATE 0", "UPDATE 0", "UPDATE 0", "DELETE 0"]
    async with as_app.transaction():
        await as_someone(as_app, sealer, cycle.people["reviewer"])
        assert await as_app.execute("UPDATE panel_records SET overall_narrative = 'Agreed again'") == "UPDATE 1"
        assert await as_app.execute("UPDATE learning_themes SET name = 'x'") == "UPDATE 0"  # the administrator's
    async with as_app.transaction():
        await as_someone(as_app, sealer, cycle.people["admin"])
        assert await as_app.execute("UPDATE learning_themes SET name = 'Voice of the child'") == "UPDATE 1"
        assert await as_app.execute("UPDATE programmes SET focus = 'Neglect of under fives'") == "UPDATE 1"
        assert await as_app.execute("UPDATE panel_records SET overall_narrative = 'x'") == "UPDATE 0"
    async with as_app.transaction():
        await as_someone(as_app, sealer, cycle.people["elsewhere"])
        assert await as_app.execute("UPDATE programmes SET focus = 'x'") == "UPDATE 0"
        assert await as_app.execute("UPDATE learning_themes SET name = 'x'") == "UPDATE 0"
    for table in ("programmes", "panel_records", "learning_themes"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with as_app.transaction():
                await as_someone(as_app, sealer, cycle.people["admin"])
                await as_app.execute(f"DELETE FROM {table}")  # noqa: S608 - constant names


async def test_a_tag_names_only_a_theme_of_the_partnership(
    as_app: asyncpg.Connection[Any], cycle: Cycle, sealer: Sealer, rounds: uuid.UUID, db: asyncpg.Connection[Any]
) -> None:
    theirs = await db.fetchval(
        "INSERT INTO learning_themes (partnership_id, name) VALUES ($1, 'Theirs') RETURNING id",
        cycle.people["elsewhere"].partnership,
    )
    insert = (
        "INSERT INTO learning_tags (audit_id, organisation_id, question_id, theme_id) VALUES ($1, NULL, 'overall', $2)"
    )
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with as_app.transaction():
            await as_someone(as_app, sealer, cycle.people["reviewer"])
            await as_app.execute(insert, cycle.audit, theirs)
    async with as_app.transaction():
        await as_someone(as_app, sealer, cycle.people["reviewer"])
        assert await as_app.execute(insert, cycle.audit, rounds) == "INSERT 0 1"


async def test_a_closed_audits_panel_record_is_held_until_it_is_reopened(
    as_app: asyncpg.Connection[Any], cycle: Cycle, sealer: Sealer, rounds: uuid.UUID, db: asyncpg.Connection[Any]
) -> None:
    await db.execute("UPDATE audits SET status = 'closed' WHERE id = $1", cycle.audit)
    with pytest.raises(asyncpg.PostgresError, match="the audit is closed") as refused:
        async with as_app.transaction():
            await as_someone(as_app, sealer, cycle.people["reviewer"])
            await as_app.execute("UPDATE panel_records SET overall_narrative = 'Changed after closing'")
    assert refused.value.sqlstate == "55M01"
    await db.execute("UPDATE audits SET status = 'open' WHERE id = $1", cycle.audit)
    async with as_app.transaction():
        await as_someone(as_app, sealer, cycle.people["reviewer"])
        assert await as_app.execute("UPDATE panel_records SET overall_narrative = 'Agreed again'") == "UPDATE 1"
