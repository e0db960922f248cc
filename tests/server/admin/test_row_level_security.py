"""The administration's tables behind row-level security (migration 0012,
keyed to the sealed identity by 0013), tried as the application's own
login role, maca_app, carrying a seal as unit_of_work does: a transaction reads
only its own partnership's contacts, settings, toolkit choices and
versions; only its administrators change them; nobody changes a kept
toolkit version; a machine client's registration is read before anyone is
known only through the function made for that; and a transaction that
carries nothing sees nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from server.db import identity
from server.db.identity import Sealer
from server.db.pool import app_database_url
from server.settings import Settings


@pytest.fixture
async def as_app(settings: Settings, database_url: str) -> AsyncIterator[asyncpg.Connection[Any]]:
    connection = await asyncpg.connect(app_database_url(settings, database_url))
    try:
        yield connection
    finally:
        await connection.close()


class Partnerships:
    ours: uuid.UUID
    theirs: uuid.UUID
    our_trust: uuid.UUID
    their_trust: uuid.UUID


@pytest.fixture
async def partnerships(db: asyncpg.Connection[Any]) -> Partnerships:
    """Two partnerships, each with a trust that has a safeguarding lead, a
    setting, a toolkit choice and a toolkit version of its own; a machine
    client of ours."""
    found = Partnerships()
    for side in ("ours", "theirs"):
        partnership = await db.fetchval("INSERT INTO partnerships (code, name) VALUES ($1, $1) RETURNING id", side)
        trust = await db.fetchval(
            "INSERT INTO organisations (partnership_id, code, name, agency_kind) VALUES ($1, $2, $2, 'health') "
            "RETURNING id",
            partnership,
            f"{side}-trust",
        )
        await db.execute(
            "INSERT INTO organisation_contacts (organisation_id, kind, name, email) "
            "VALUES ($1, 'safeguarding-lead', 'Lead', $2)",
            trust,
            f"lead@{side}.example",
        )
        await db.execute(
            "INSERT INTO partnership_settings (partnership_id, default_due_days) VALUES ($1, 28)", partnership
        )
        version = await db.fetchval(
            "INSERT INTO local_toolkit_versions (partnership_id, toolkit_id, version, title, file_name, source, "
            "definition) VALUES ($1, 'multi-agency-cp', 2, 't', 'v2.yaml', 'x', '{}') RETURNING id",
            partnership,
        )
        await db.execute(
            "INSERT INTO partnership_toolkits (partnership_id, toolkit_id, local_version_id) "
            "VALUES ($1, 'multi-agency-cp', $2)",
            partnership,
            version,
        )
        setattr(found, side, partnership)
        setattr(found, f"{'our' if side == 'ours' else 'their'}_trust", trust)
    await db.execute(
        "INSERT INTO machine_clients (client_id, organisation_id, roles) VALUES ('records', $1, '{auditor}')",
        found.our_trust,
    )
    return found


@pytest.fixture
async def sealer(db: asyncpg.Connection[Any]) -> Sealer:
    """The server's sealer, with the key `maca migrate` stored."""
    key = await identity.stored_key(db)
    assert key is not None
    return Sealer(configured=key, owner_dsn=None)


async def carrying(connection: asyncpg.Connection[Any], sealer: Sealer, partnership: uuid.UUID, roles: str) -> None:
    """What unit_of_work says for someone of ``partnership`` with ``roles``."""
    await connection.execute(
        "SELECT set_config('maca.identity', $1, true)",
        sealer.identity(uuid.uuid4(), uuid.uuid4(), partnership, roles.split(",")),
    )


async def seen(connection: asyncpg.Connection[Any]) -> dict[str, int]:
    return {
        table: await connection.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608 - constant names
        for table in (
            "organisation_contacts",
            "partnership_settings",
            "partnership_toolkits",
            "local_toolkit_versions",
            "machine_clients",
        )
    }


async def test_a_transaction_carrying_nothing_sees_nothing(
    as_app: asyncpg.Connection[Any], partnerships: Partnerships
) -> None:
    async with as_app.transaction():
        assert set((await seen(as_app)).values()) == {0}


async def test_the_settings_maca_app_used_to_write_for_itself_show_nothing(
    as_app: asyncpg.Connection[Any], partnerships: Partnerships
) -> None:
    """Migration 0012's policies first read maca.partnership_id and
    maca.roles, which maca_app could write for itself; 0013 keyed them to
    the seal, so those settings, even an administrator's, show nothing."""
    async with as_app.transaction():
        await as_app.execute(
            "SELECT set_config('maca.partnership_id', $1, true), set_config('maca.roles', 'admin', true)",
            str(partnerships.ours),
        )
        assert set((await seen(as_app)).values()) == {0}
        assert await as_app.execute("UPDATE partnership_settings SET default_due_days = 1") == "UPDATE 0"


async def test_the_partnerships_people_read_its_own_rows_and_only_its_administrators_its_clients(
    as_app: asyncpg.Connection[Any], partnerships: Partnerships, sealer: Sealer
) -> None:
    async with as_app.transaction():
        await carrying(as_app, sealer, partnerships.ours, "auditor")
        assert await seen(as_app) == {
            "organisation_contacts": 1,
            "partnership_settings": 1,
            "partnership_toolkits": 1,
            "local_toolkit_versions": 1,
            "machine_clients": 0,
        }
        assert await as_app.fetchval("SELECT email FROM organisation_contacts") == "lead@ours.example"
    async with as_app.transaction():
        await carrying(as_app, sealer, partnerships.ours, "admin")
        assert (await seen(as_app))["machine_clients"] == 1


async def test_only_an_administrator_of_the_partnership_changes_its_rows(
    as_app: asyncpg.Connection[Any], partnerships: Partnerships, sealer: Sealer
) -> None:
    for roles, partnership in (("coordinator,reviewer", partnerships.ours), ("admin", partnerships.theirs)):
        async with as_app.transaction():
            await carrying(as_app, sealer, partnership, roles)
            changed = [
                await as_app.execute(
                    "UPDATE partnership_settings SET default_due_days = 1 WHERE partnership_id = $1", partnerships.ours
                ),
                await as_app.execute(
                    "DELETE FROM organisation_contacts WHERE organisation_id = $1", partnerships.our_trust
                ),
                await as_app.execute(
                    "UPDATE partnership_toolkits SET offered = false WHERE partnership_id = $1", partnerships.ours
                ),
            ]
            assert changed == ["UPDATE 0", "DELETE 0", "UPDATE 0"], roles
    async with as_app.transaction():
        await carrying(as_app, sealer, partnerships.ours, "admin")
        assert await as_app.execute("UPDATE partnership_settings SET default_due_days = 1") == "UPDATE 1"
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with as_app.transaction():
            await carrying(as_app, sealer, partnerships.ours, "coordinator")
            await as_app.execute(
                "INSERT INTO organisation_contacts (organisation_id, kind, email) "
                "VALUES ($1, 'audit-contact', 'a@b.c')",
                partnerships.our_trust,
            )


async def test_a_kept_toolkit_version_is_never_changed_even_by_an_administrator(
    as_app: asyncpg.Connection[Any], partnerships: Partnerships, sealer: Sealer
) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with as_app.transaction():
            await carrying(as_app, sealer, partnerships.ours, "admin")
            await as_app.execute("UPDATE local_toolkit_versions SET source = 'changed'")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with as_app.transaction():
            await carrying(as_app, sealer, partnerships.ours, "admin")
            await as_app.execute("DELETE FROM local_toolkit_versions")


async def test_a_machine_clients_registration_is_read_before_anyone_is_known_only_through_its_function(
    as_app: asyncpg.Connection[Any], partnerships: Partnerships
) -> None:
    async with as_app.transaction():
        assert await as_app.fetchval("SELECT count(*) FROM machine_clients") == 0
        row = await as_app.fetchrow("SELECT organisation_id, roles, active FROM maca_machine_client('records')")
        assert (row["organisation_id"], list(row["roles"]), row["active"]) == (
            partnerships.our_trust,
            ["auditor"],
            True,
        )
        assert await as_app.fetchrow("SELECT * FROM maca_machine_client('nobody')") is None
