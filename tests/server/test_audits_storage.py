"""What the database itself guarantees about audits, whatever the code above it does."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest

from server.db import identity


async def an_event(db: asyncpg.Connection[Any]) -> int:
    event_id: int = await db.fetchval("INSERT INTO events (action) VALUES ('audit.read') RETURNING id")
    return event_id


async def test_events_cannot_be_changed_or_deleted(db: asyncpg.Connection[Any]) -> None:
    event_id = await an_event(db)
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await db.execute("UPDATE events SET action = 'nothing' WHERE id = $1", event_id)
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await db.execute("DELETE FROM events WHERE id = $1", event_id)
    assert await db.fetchval("SELECT action FROM events WHERE id = $1", event_id) == "audit.read"


async def test_statuses_are_checked(db: asyncpg.Connection[Any]) -> None:
    partnership = await db.fetchval("INSERT INTO partnerships (code, name) VALUES ('p', 'P') RETURNING id")
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute(
            "INSERT INTO audits (partnership_id, toolkit_id, toolkit_version, status) VALUES ($1, 't', 1, 'lost')",
            partnership,
        )
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute(
            "INSERT INTO audits (partnership_id, toolkit_id, toolkit_version, period_start, period_end) "
            "VALUES ($1, 't', 1, '2025-02-01', '2025-01-01')",
            partnership,
        )


async def test_an_agency_transaction_sees_only_its_own_contributions(db: asyncpg.Connection[Any]) -> None:
    """Row-level security, as a role that is not a superuser (superusers
    bypass it, and the test database is reached as one)."""
    partnership = await db.fetchval("INSERT INTO partnerships (code, name) VALUES ('p', 'P') RETURNING id")
    health, police = [
        await db.fetchval(
            "INSERT INTO organisations (partnership_id, code, name, agency_kind) VALUES ($1, $2, $2, $2) RETURNING id",
            partnership,
            code,
        )
        for code in ("health", "police")
    ]
    audit = await db.fetchval(
        "INSERT INTO audits (partnership_id, toolkit_id, toolkit_version) VALUES ($1, 't', 1) RETURNING id",
        partnership,
    )
    for organisation in (health, police):
        contribution = await db.fetchval(
            "INSERT INTO contributions (audit_id, organisation_id) VALUES ($1, $2) RETURNING id", audit, organisation
        )
        await db.execute(
            "INSERT INTO contribution_versions (contribution_id, version, kind, content) "
            "VALUES ($1, 1, 'submitted', '{}')",
            contribution,
        )
    key = await identity.stored_key(db)
    assert key is not None
    sealer = identity.Sealer(configured=key, owner_dsn=None)
    async with db.transaction():
        # The application's own role (migration 0005).
        await db.execute("SET LOCAL ROLE maca_app")
        # No principal set: nothing at all (tests/server/test_rls.py).
        assert len(await db.fetch("SELECT 1 FROM contributions")) == 0
        # Naming the organisation in a setting is no longer believed
        # (migration 0011): the database needs the server's seal.
        await db.execute("SELECT set_config('maca.organisation_id', $1, true)", str(health))
        assert len(await db.fetch("SELECT 1 FROM contributions")) == 0
        sealed = sealer.identity(uuid.uuid4(), health, partnership, ["auditor"])
        await db.execute("SELECT set_config('maca.identity', $1, true)", sealed)
        assert [r["organisation_id"] for r in await db.fetch("SELECT organisation_id FROM contributions")] == [health]
        assert await db.fetchval("SELECT count(*) FROM contribution_versions") == 1
