"""The audit cycle's tables behind row-level security (migration 0014),
tried as the application's own login role, maca_app: an action's progress
updates are read and added only by its partnership's coordinators and
reviewers or by the organisation responsible for the action, and never
changed or removed once kept; programmes, learning themes and tags are read
in their partnership, the panel's record only by its coordinators and
reviewers, who alone write it and the tags; the administrator keeps the
themes and programmes; a transaction that carries nothing sees nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from server.db.pool import app_database_url
from server.settings import Settings


@pytest.fixture
async def as_app(settings: Settings, database_url: str) -> AsyncIterator[asyncpg.Connection[Any]]:
    connection = await asyncpg.connect(app_database_url(settings, database_url))
    try:
        yield connection
    finally:
        await connection.close()


class Cycle:
    partnership: uuid.UUID
    other_partnership: uuid.UUID
    police: uuid.UUID
    health: uuid.UUID
    officer: uuid.UUID
    action: uuid.UUID


@pytest.fixture
async def cycle(db: asyncpg.Connection[Any]) -> Cycle:
    """A partnership whose audit has an action the police are responsible
    for, with one progress update kept; another partnership."""
    found = Cycle()
    found.partnership = await db.fetchval("INSERT INTO partnerships (code, name) VALUES ('p', 'p') RETURNING id")
    found.other_partnership = await db.fetchval("INSERT INTO partnerships (code, name) VALUES ('q', 'q') RETURNING id")
    for kind in ("police", "health"):
        organisation = await db.fetchval(
            "INSERT INTO organisations (partnership_id, code, name, agency_kind) VALUES ($1, $2, $2, $2) RETURNING id",
            found.partnership,
            kind,
        )
        setattr(found, kind, organisation)
    found.officer = await db.fetchval(
        "INSERT INTO users (issuer, subject, organisation_id) VALUES ('i', 's', $1) RETURNING id", found.police
    )
    audit = await db.fetchval(
        "INSERT INTO audits (partnership_id, toolkit_id, toolkit_version) VALUES ($1, 'multi-agency-cp', 1) "
        "RETURNING id",
        found.partnership,
    )
    found.action = await db.fetchval(
        "INSERT INTO remedial_actions (audit_id, action, responsible_organisation_id) VALUES ($1, 'Share the log', $2) "
        "RETURNING id",
        audit,
        found.police,
    )
    await db.execute(
        "INSERT INTO remedial_action_updates (action_id, status, date_reviewed, comments, recorded_by) "
        "VALUES ($1, 'in-progress', current_date, 'Asked', $2)",
        found.action,
        found.officer,
    )
    return found


async def carrying(
    connection: asyncpg.Connection[Any], partnership: uuid.UUID | None, organisation: uuid.UUID | None, roles: str
) -> None:
    await connection.execute(
        "SELECT set_config('maca.organisation_id', $1, true), set_config('maca.partnership_id', $2, true), "
        "set_config('maca.roles', $3, true)",
        str(organisation or ""),
        str(partnership or ""),
        roles,
    )


async def updates_seen(connection: asyncpg.Connection[Any]) -> int:
    count: int = await connection.fetchval("SELECT count(*) FROM remedial_action_updates")
    return count


async def test_an_actions_updates_are_seen_by_its_organisation_and_the_partnership_staff_only(
    as_app: asyncpg.Connection[Any], cycle: Cycle
) -> None:
    expected = [
        (None, None, "", 0),
        (cycle.partnership, cycle.police, "auditor", 1),
        (cycle.partnership, cycle.health, "auditor", 0),
        (cycle.partnership, uuid.uuid4(), "reviewer", 1),
        (cycle.other_partnership, uuid.uuid4(), "coordinator", 0),
    ]
    for partnership, organisation, roles, count in expected:
        async with as_app.transaction():
            await carrying(as_app, partnership, organisation, roles)
            assert await updates_seen(as_app) == count, (roles, organisation)


async def test_only_the_organisation_responsible_or_the_staff_add_an_update(
    as_app: asyncpg.Connection[Any], cycle: Cycle
) -> None:
    insert = (
        "INSERT INTO remedial_action_updates (action_id, status, date_reviewed, comments, recorded_by) "
        "VALUES ($1, 'completed', current_date, 'Done', $2)"
    )
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with as_app.transaction():
            await carrying(as_app, cycle.partnership, cycle.health, "auditor")
            await as_app.execute(insert, cycle.action, cycle.officer)
    async with as_app.transaction():
        await carrying(as_app, cycle.partnership, cycle.police, "auditor")
        assert await as_app.execute(insert, cycle.action, cycle.officer) == "INSERT 0 1"


async def test_a_kept_update_is_never_changed_or_removed(as_app: asyncpg.Connection[Any], cycle: Cycle) -> None:
    for statement in (
        "UPDATE remedial_action_updates SET comments = 'rewritten'",
        "DELETE FROM remedial_action_updates",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with as_app.transaction():
                await carrying(as_app, cycle.partnership, uuid.uuid4(), "coordinator")
                await as_app.execute(statement)


@pytest.fixture
async def rounds(db: asyncpg.Connection[Any], cycle: Cycle) -> uuid.UUID:
    """A programme, a panel record, a learning theme and a tag in the
    partnership's audit."""
    audit = await db.fetchval("SELECT audit_id FROM remedial_actions WHERE id = $1", cycle.action)
    programme = await db.fetchval(
        "INSERT INTO programmes (partnership_id, name, toolkit_id) VALUES ($1, 'Neglect', 'multi-agency-cp') "
        "RETURNING id",
        cycle.partnership,
    )
    await db.execute("INSERT INTO programme_agencies VALUES ($1, $2)", programme, cycle.police)
    await db.execute("INSERT INTO panel_records (audit_id, overall_narrative) VALUES ($1, 'Agreed')", audit)
    theme = await db.fetchval(
        "INSERT INTO learning_themes (partnership_id, name) VALUES ($1, 'Voice') RETURNING id", cycle.partnership
    )
    await db.execute(
        "INSERT INTO learning_tags (audit_id, organisation_id, question_id, theme_id) VALUES ($1, $2, 'q', $3)",
        audit,
        cycle.police,
        theme,
    )
    return audit


async def counted(connection: asyncpg.Connection[Any]) -> dict[str, int]:
    return {
        table: await connection.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608 - constant names
        for table in ("programmes", "programme_agencies", "panel_records", "learning_themes", "learning_tags")
    }


async def test_the_cycles_tables_are_read_in_their_partnership_and_the_panel_only_by_its_staff(
    as_app: asyncpg.Connection[Any], cycle: Cycle, rounds: uuid.UUID
) -> None:
    expected = [
        (
            (None, None, ""),
            dict.fromkeys(("programmes", "programme_agencies", "panel_records", "learning_themes", "learning_tags"), 0),
        ),
        (
            (cycle.partnership, cycle.police, "auditor"),
            {"programmes": 1, "programme_agencies": 1, "panel_records": 0, "learning_themes": 1, "learning_tags": 1},
        ),
        (
            (cycle.partnership, uuid.uuid4(), "reviewer"),
            {"programmes": 1, "programme_agencies": 1, "panel_records": 1, "learning_themes": 1, "learning_tags": 1},
        ),
        (
            (cycle.other_partnership, uuid.uuid4(), "coordinator,reviewer,admin"),
            dict.fromkeys(("programmes", "programme_agencies", "panel_records", "learning_themes", "learning_tags"), 0),
        ),
    ]
    for (partnership, organisation, roles), counts in expected:
        async with as_app.transaction():
            await carrying(as_app, partnership, organisation, roles)
            assert await counted(as_app) == counts, roles


async def test_only_the_right_people_change_the_cycles_tables(
    as_app: asyncpg.Connection[Any], cycle: Cycle, rounds: uuid.UUID
) -> None:
    async with as_app.transaction():
        await carrying(as_app, cycle.partnership, cycle.police, "auditor")
        changed = [
            await as_app.execute("UPDATE programmes SET name = 'x'"),
            await as_app.execute("UPDATE panel_records SET overall_narrative = 'x'"),
            await as_app.execute("UPDATE learning_themes SET name = 'x'"),
            await as_app.execute("DELETE FROM learning_tags"),
        ]
        assert changed == ["UPDATE 0", "UPDATE 0", "UPDATE 0", "DELETE 0"]
    async with as_app.transaction():
        await carrying(as_app, cycle.partnership, uuid.uuid4(), "reviewer")
        assert await as_app.execute("UPDATE panel_records SET overall_narrative = 'Agreed again'") == "UPDATE 1"
        assert await as_app.execute("UPDATE learning_themes SET name = 'x'") == "UPDATE 0"  # the administrator's
    async with as_app.transaction():
        await carrying(as_app, cycle.partnership, uuid.uuid4(), "admin")
        assert await as_app.execute("UPDATE learning_themes SET name = 'Voice of the child'") == "UPDATE 1"
        assert await as_app.execute("UPDATE programmes SET focus = 'Neglect of under fives'") == "UPDATE 1"
        assert await as_app.execute("UPDATE panel_records SET overall_narrative = 'x'") == "UPDATE 0"
