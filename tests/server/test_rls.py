"""Row-level security as a second wall (issue 9), tried as the application's
own login role, maca_app, exactly as the pool connects: whatever a query
forgets, PostgreSQL itself shows a transaction only what its principal may
see, and nothing at all without one."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from litestar.datastructures import State

from server.auth.principal import Principal, Role
from server.db.pool import APP_ROLE, UnsafeApplicationRole, app_database_url, check_role, create_pool
from server.platform.transactions import unit_of_work
from server.settings import Settings


@pytest.fixture
async def as_app(settings: Settings, database_url: str) -> AsyncIterator[asyncpg.Connection[Any]]:
    """A connection logged in as maca_app (a login of its own, not SET ROLE)."""
    connection = await asyncpg.connect(app_database_url(settings, database_url))
    try:
        yield connection
    finally:
        await connection.close()


class World:
    def __init__(self, **ids: uuid.UUID) -> None:
        self.__dict__.update(ids)

    partnership: uuid.UUID
    other_partnership: uuid.UUID
    health: uuid.UUID
    police: uuid.UUID
    elsewhere: uuid.UUID
    audit: uuid.UUID


@pytest.fixture
async def world(db: asyncpg.Connection[Any]) -> World:
    """One audit with a health and a police contribution (each with a
    version) in one partnership, and an organisation in another."""

    async def partnership(code: str) -> uuid.UUID:
        value: uuid.UUID = await db.fetchval("INSERT INTO partnerships (code, name) VALUES ($1, $1) RETURNING id", code)
        return value

    async def organisation(partnership_id: uuid.UUID, code: str) -> uuid.UUID:
        value: uuid.UUID = await db.fetchval(
            "INSERT INTO organisations (partnership_id, code, name, agency_kind) VALUES ($1, $2, $2, 'health') "
            "RETURNING id",
            partnership_id,
            code,
        )
        return value

    ours, theirs = await partnership("ours"), await partnership("theirs")
    health, police, elsewhere = (
        await organisation(ours, "health"),
        await organisation(ours, "police"),
        await organisation(theirs, "elsewhere"),
    )
    audit = await db.fetchval(
        "INSERT INTO audits (partnership_id, toolkit_id, toolkit_version, status) VALUES ($1, 't', 1, 'open') "
        "RETURNING id",
        ours,
    )
    for organisation_id in (health, police):
        await db.execute(
            "INSERT INTO audit_participants (audit_id, organisation_id) VALUES ($1, $2)", audit, organisation_id
        )
        contribution = await db.fetchval(
            "INSERT INTO contributions (audit_id, organisation_id, status) VALUES ($1, $2, 'in-progress') RETURNING id",
            audit,
            organisation_id,
        )
        await db.execute(
            "INSERT INTO contribution_versions (contribution_id, version, kind, content) "
            "VALUES ($1, 1, 'submitted', '{}')",
            contribution,
        )
    return World(
        partnership=ours, other_partnership=theirs, health=health, police=police, elsewhere=elsewhere, audit=audit
    )


async def as_principal(
    connection: asyncpg.Connection[Any], organisation: uuid.UUID | None, partnership: uuid.UUID | None, roles: str
) -> None:
    """What unit_of_work sets, for the current transaction only."""
    await connection.execute(
        "SELECT set_config('maca.organisation_id', $1, true), set_config('maca.partnership_id', $2, true), "
        "set_config('maca.roles', $3, true)",
        str(organisation or ""),
        str(partnership or ""),
        roles,
    )


async def visible(connection: asyncpg.Connection[Any]) -> tuple[set[uuid.UUID], int]:
    organisations = {r["organisation_id"] for r in await connection.fetch("SELECT organisation_id FROM contributions")}
    versions: int = await connection.fetchval("SELECT count(*) FROM contribution_versions")
    return organisations, versions


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


async def test_no_principal_sees_nothing(as_app: asyncpg.Connection[Any], world: World) -> None:
    async with as_app.transaction():
        assert await visible(as_app) == (set(), 0)


async def test_an_agency_sees_only_its_own_contribution(as_app: asyncpg.Connection[Any], world: World) -> None:
    async with as_app.transaction():
        await as_principal(as_app, world.health, world.partnership, "auditor")
        assert await visible(as_app) == ({world.health}, 1)


async def test_the_wrong_organisation_sees_nothing(as_app: asyncpg.Connection[Any], world: World) -> None:
    async with as_app.transaction():
        await as_principal(as_app, world.elsewhere, world.partnership, "auditor")
        assert await visible(as_app) == (set(), 0)
    async with as_app.transaction():
        await as_principal(as_app, uuid.uuid4(), world.partnership, "auditor")
        assert await visible(as_app) == (set(), 0)


async def test_a_coordinator_of_another_partnership_sees_nothing(as_app: asyncpg.Connection[Any], world: World) -> None:
    async with as_app.transaction():
        await as_principal(as_app, world.elsewhere, world.other_partnership, "coordinator,reviewer")
        assert await visible(as_app) == (set(), 0)


@pytest.mark.parametrize("roles", ["coordinator", "reviewer", "auditor,reviewer"])
async def test_the_partnerships_coordinators_and_reviewers_see_every_contribution(
    as_app: asyncpg.Connection[Any], world: World, roles: str
) -> None:
    async with as_app.transaction():
        await as_principal(as_app, uuid.uuid4(), world.partnership, roles)
        assert await visible(as_app) == ({world.health, world.police}, 2)


async def test_an_auditor_role_alone_is_not_partnership_staff(as_app: asyncpg.Connection[Any], world: World) -> None:
    async with as_app.transaction():
        await as_principal(as_app, uuid.uuid4(), world.partnership, "auditor,admin")
        assert await visible(as_app) == (set(), 0)


async def test_an_agency_cannot_write_another_agencys_contribution(
    as_app: asyncpg.Connection[Any], world: World
) -> None:
    async with as_app.transaction():
        await as_principal(as_app, world.health, world.partnership, "auditor")
        assert await as_app.execute(
            "UPDATE contributions SET answered = 9 WHERE organisation_id = $1", world.police
        ) == ("UPDATE 0")
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with as_app.transaction():
            await as_principal(as_app, world.health, world.partnership, "auditor")
            await as_app.execute(
                "UPDATE contributions SET organisation_id = $1 WHERE organisation_id = $2", world.police, world.health
            )


async def test_participants_may_read_but_not_write_a_closed_audits_contributions(
    as_app: asyncpg.Connection[Any], world: World, db: asyncpg.Connection[Any]
) -> None:
    await db.execute("UPDATE audits SET status = 'closed' WHERE id = $1", world.audit)
    async with as_app.transaction():
        await as_principal(as_app, world.health, world.partnership, "auditor")
        organisations, versions = await visible(as_app)
        assert organisations == {world.health, world.police}
        assert versions == 1, "another agency's versions stay hidden"
        assert await as_app.execute(
            "UPDATE contributions SET answered = 9 WHERE organisation_id = $1", world.police
        ) == ("UPDATE 0")
    async with as_app.transaction():
        await as_principal(as_app, world.elsewhere, world.other_partnership, "auditor")
        assert await visible(as_app) == (set(), 0)


async def test_an_audit_being_summarised_may_be_read_not_written(
    as_app: asyncpg.Connection[Any], world: World, db: asyncpg.Connection[Any]
) -> None:
    """The themes summary names the audit it summarises (migration 0009):
    an agency's transaction may then read that audit's contributions — not
    their versions, not another audit's, and never write them."""
    other_audit = await db.fetchval(
        "INSERT INTO audits (partnership_id, toolkit_id, toolkit_version, status) VALUES ($1, 't', 1, 'open') "
        "RETURNING id",
        world.partnership,
    )
    await db.execute(
        "INSERT INTO contributions (audit_id, organisation_id, status) VALUES ($1, $2, 'in-progress')",
        other_audit,
        world.police,
    )
    async with as_app.transaction():
        await as_principal(as_app, world.health, world.partnership, "auditor")
        await as_app.execute("SELECT set_config('maca.summarising_audit_id', $1, true)", str(world.audit))
        rows = await as_app.fetch("SELECT audit_id, organisation_id FROM contributions")
        assert {(r["audit_id"], r["organisation_id"]) for r in rows} == {
            (world.audit, world.health),
            (world.audit, world.police),
        }
        assert await as_app.fetchval("SELECT count(*) FROM contribution_versions") == 1
        assert await as_app.execute(
            "UPDATE contributions SET answered = 9 WHERE organisation_id = $1", world.police
        ) == ("UPDATE 0")
        await as_app.execute("SELECT set_config('maca.summarising_audit_id', '', true)")
        assert await visible(as_app) == ({world.health}, 1)


async def test_the_application_role_can_add_events_but_never_change_or_delete_them(
    as_app: asyncpg.Connection[Any],
) -> None:
    event_id = await as_app.fetchval("INSERT INTO events (action) VALUES ('audit.read') RETURNING id")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_app.execute("UPDATE events SET action = 'nothing' WHERE id = $1", event_id)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_app.execute("DELETE FROM events WHERE id = $1", event_id)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_app.execute("TRUNCATE events")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_app.execute("UPDATE event_strand_heads SET position = 0")
    assert await as_app.fetchval("SELECT action FROM events WHERE id = $1", event_id) == "audit.read"


async def test_unit_of_work_runs_as_the_application_role_with_the_principals_settings(
    settings: Settings, database_url: str, world: World
) -> None:
    roles: frozenset[Role] = frozenset({"auditor"})
    principal = Principal(
        issuer="https://idp.example",
        subject="s",
        user_id=uuid.uuid4(),
        display_name=None,
        organisation_id=world.health,
        organisation_code="health",
        organisation_name="health",
        agency_kind="health",
        partnership_id=world.partnership,
        roles=roles,
    )
    pool = await create_pool(settings, database_url)
    try:
        state = State({"pool": pool})
        async with unit_of_work(state, principal) as connection:
            assert await connection.fetchval("SELECT current_user") == APP_ROLE
            assert await visible(connection) == ({world.health}, 1)
        # The settings were the transaction's only: the connection, back in
        # the pool, carries nobody's.
        async with pool.acquire() as connection, connection.transaction():
            assert await connection.fetchval("SELECT current_setting('maca.organisation_id', true)") in ("", None)
            assert await connection.fetchval("SELECT count(*) FROM contributions") == 0
    finally:
        await pool.close()


async def test_the_pool_refuses_a_role_that_could_bypass_row_level_security(db: asyncpg.Connection[Any]) -> None:
    # The test database is reached as a superuser.
    with pytest.raises(UnsafeApplicationRole, match="bypass row-level security"):
        await check_role(db)
