"""Migration 0013's tables tried as maca_app (README "Database roles"): a
partnership's concerns are its coordinators' and reviewers' (and the
raising organisation's own), never another partnership's; anyone of the
partnership writes a message to the outbox but only its staff read who
was told what, and nobody but the owner changes one; the job queue's
schema is not maca_app's at all; whom to tell is read only for one's own
partnership."""

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


async def carrying(
    connection: asyncpg.Connection[Any], partnership: uuid.UUID, organisation: uuid.UUID, roles: str
) -> None:
    await connection.execute(
        "SELECT set_config('maca.organisation_id', $1, true), set_config('maca.partnership_id', $2, true), "
        "set_config('maca.roles', $3, true)",
        str(organisation),
        str(partnership),
        roles,
    )


async def test_concerns_notifications_and_the_queue_as_maca_app(
    db: asyncpg.Connection[Any], as_app: asyncpg.Connection[Any]
) -> None:
    ids: dict[str, Any] = {}
    for side in ("ours", "theirs"):
        partnership = await db.fetchval("INSERT INTO partnerships (code, name) VALUES ($1, $1) RETURNING id", side)
        police = await db.fetchval(
            "INSERT INTO organisations (partnership_id, code, name, agency_kind) VALUES ($1, $2, $2, 'police') "
            "RETURNING id",
            partnership,
            f"{side}-police",
        )
        await db.execute(
            "INSERT INTO users (issuer, subject, organisation_id, roles, email) VALUES ('i', $1, $2, '{reviewer}', $3)",
            side,
            police,
            f"reviewer@{side}.example",
        )
        audit = await db.fetchval(
            "INSERT INTO audits (partnership_id, toolkit_id, toolkit_version) VALUES ($1, 'multi-agency-cp', 1) "
            "RETURNING id",
            partnership,
        )
        await db.execute(
            "INSERT INTO concerns (partnership_id, audit_id, organisation_id, kind, section_id, question_id) "
            "VALUES ($1, $2, $3, 'child-not-safe', 's', 'q')",
            partnership,
            audit,
            police,
        )
        await db.execute(
            "INSERT INTO notifications (key, partnership_id, message, recipient, recipient_role, subject, body) "
            "VALUES ($1, $2, 'concern-raised', 'a@b.example', 'r', 's', 'b')",
            f"k-{side}",
            partnership,
        )
        ids[side] = (partnership, police)
    ours, our_police = ids["ours"]
    elsewhere = uuid.uuid4()

    async with as_app.transaction():
        await carrying(as_app, ours, elsewhere, "reviewer")
        assert await as_app.fetchval("SELECT count(*) FROM concerns") == 1
        assert await as_app.fetchval("SELECT count(*) FROM notifications") == 1
        people = await as_app.fetch("SELECT email FROM maca_people_to_tell($1, NULL, '{reviewer}')", ids["theirs"][0])
        assert people == []
        assert [
            r["email"] for r in await as_app.fetch("SELECT email FROM maca_people_to_tell($1, NULL, NULL)", ours)
        ] == ["reviewer@ours.example"]
    async with as_app.transaction():
        # An auditor of another organisation of the partnership: no concern, no record of who was told.
        await carrying(as_app, ours, elsewhere, "auditor")
        assert await as_app.fetchval("SELECT count(*) FROM concerns") == 0
        assert await as_app.fetchval("SELECT count(*) FROM notifications") == 0
        # ... but it may write a message (its change tells someone).
        await as_app.execute(
            "INSERT INTO notifications (key, partnership_id, message, recipient, recipient_role, subject, body) "
            "VALUES ('k-new', $1, 'audit-distributed', 'c@d.example', 'r', 's', 'b') ON CONFLICT (key) DO NOTHING",
            ours,
        )
    async with as_app.transaction():
        await carrying(as_app, ours, our_police, "auditor")
        assert await as_app.fetchval("SELECT count(*) FROM concerns") == 1
    for statement in (
        "UPDATE notifications SET status = 'sent'",
        "DELETE FROM notifications",
        "DELETE FROM concerns",
        "SELECT count(*) FROM maca_queue.pgqueuer",
        "INSERT INTO maca_queue.pgqueuer (priority, entrypoint, status) VALUES (0, 'deliver', 'queued')",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with as_app.transaction():
                await carrying(as_app, ours, elsewhere, "coordinator,reviewer,admin")
                await as_app.execute(statement)
    # A message written is a job queued, in the same transaction.
    assert await db.fetchval("SELECT count(*) FROM maca_queue.pgqueuer WHERE entrypoint = 'deliver'") == 3
