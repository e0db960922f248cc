"""Migration 0015's tables tried as maca_app (README "Database roles"),
carrying a seal as unit_of_work does (migration 0011): a partnership's
concerns are its coordinators' and reviewers' (and the raising
organisation's own), never another partnership's; anyone of the
partnership writes a message to the outbox, as its own organisation, but
only its coordinators, reviewers and administrators read who was told what,
and nobody but the owner changes one; the job queue's schema is not
maca_app's at all; whom to tell, and whether everyone has submitted, are
answered only for one's own partnership; a person's address is written only
as their sealed token gives it, and their choice of mail only by them."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from server.db import identity
from server.db.identity import Sealer, seal
from server.db.pool import app_database_url
from server.settings import Settings


@pytest.fixture
async def as_app(settings: Settings, database_url: str) -> AsyncIterator[asyncpg.Connection[Any]]:
    connection = await asyncpg.connect(app_database_url(settings, database_url))
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
async def sealer(db: asyncpg.Connection[Any]) -> Sealer:
    """The server's sealer, with the key `maca migrate` stored."""
    key = await identity.stored_key(db)
    assert key is not None
    return Sealer(configured=key, owner_dsn=None)


@dataclass(frozen=True)
class Someone:
    user_id: uuid.UUID
    organisation_id: uuid.UUID
    partnership_id: uuid.UUID
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Side:
    partnership: uuid.UUID
    police: uuid.UUID
    health: uuid.UUID
    audit: uuid.UUID
    reviewer: Someone
    police_auditor: Someone
    health_auditor: Someone
    admin: Someone


@pytest.fixture
async def sides(db: asyncpg.Connection[Any]) -> dict[str, Side]:
    """Two partnerships, each with police and health, a reviewer, an
    auditor of each agency and an administrator; an open audit both
    agencies take part in, police's concern on it and one message."""
    found = {}
    for side in ("ours", "theirs"):
        partnership = await db.fetchval("INSERT INTO partnerships (code, name) VALUES ($1, $1) RETURNING id", side)
        organisations = {}
        for kind in ("police", "health"):
            organisations[kind] = await db.fetchval(
                "INSERT INTO organisations (partnership_id, code, name, agency_kind) VALUES ($1, $2, $2, $3) "
                "RETURNING id",
                partnership,
                f"{side}-{kind}",
                kind,
            )

        async def person(subject: str, organisation: uuid.UUID, roles: tuple[str, ...], email: str | None) -> Someone:
            user = await db.fetchval(
                "INSERT INTO users (issuer, subject, organisation_id, roles, email) VALUES ('i', $1, $2, $3, $4) "
                "RETURNING id",
                subject,
                organisation,
                list(roles),
                email,
            )
            return Someone(user, organisation, partnership, roles)  # noqa: B023 - called in this iteration

        reviewer = await person(f"{side}-reviewer", organisations["police"], ("reviewer",), f"reviewer@{side}.example")
        police_auditor = await person(f"{side}-police", organisations["police"], ("auditor",), None)
        health_auditor = await person(f"{side}-health", organisations["health"], ("auditor",), None)
        admin = await person(f"{side}-admin", organisations["health"], ("admin",), None)
        audit = await db.fetchval(
            "INSERT INTO audits (partnership_id, toolkit_id, toolkit_version, status) "
            "VALUES ($1, 'multi-agency-cp', 2, 'open') RETURNING id",
            partnership,
        )
        for organisation in organisations.values():
            await db.execute(
                "INSERT INTO audit_participants (audit_id, organisation_id) VALUES ($1, $2)", audit, organisation
            )
        await db.execute(
            "INSERT INTO concerns (partnership_id, audit_id, organisation_id, kind, section_id, question_id) "
            "VALUES ($1, $2, $3, 'child-not-safe', 's', 'q')",
            partnership,
            audit,
            organisations["police"],
        )
        await db.execute(
            "INSERT INTO notifications (key, partnership_id, message, recipient, recipient_role, subject, body) "
            "VALUES ($1, $2, 'concern-raised', 'a@b.example', 'r', 's', 'b')",
            f"k-{side}",
            partnership,
        )
        found[side] = Side(
            partnership,
            organisations["police"],
            organisations["health"],
            audit,
            reviewer,
            police_auditor,
            health_auditor,
            admin,
        )
    return found


async def as_someone(connection: asyncpg.Connection[Any], sealer: Sealer, who: Someone) -> None:
    """What unit_of_work says, for the current transaction only."""
    await connection.execute(
        "SELECT set_config('maca.identity', $1, true)",
        sealer.identity(who.user_id, who.organisation_id, who.partnership_id, who.roles),
    )


async def counts(connection: asyncpg.Connection[Any]) -> tuple[int, int]:
    return (
        await connection.fetchval("SELECT count(*) FROM concerns"),
        await connection.fetchval("SELECT count(*) FROM notifications"),
    )


WRITE = (
    "INSERT INTO notifications (key, partnership_id, message, recipient, recipient_role, subject, body{extra}) "
    "VALUES ($1, $2, 'audit-distributed', 'c@d.example', 'r', 's', 'b'{value}) ON CONFLICT (key) DO NOTHING"
)
RAISE = (
    "INSERT INTO concerns (partnership_id, audit_id, organisation_id, kind, section_id, question_id) "
    "VALUES ($1, $2, $3, 'significant-failure', 's2', NULL)"
)


async def test_without_a_real_seal_nothing_is_seen(
    as_app: asyncpg.Connection[Any], sides: dict[str, Side], sealer: Sealer, db: asyncpg.Connection[Any]
) -> None:
    ours = sides["ours"]
    async with as_app.transaction():
        assert await counts(as_app) == (0, 0)
        assert await as_app.fetch("SELECT * FROM maca_people_to_tell($1, NULL, NULL)", ours.partnership) == []
        assert not await as_app.fetchval("SELECT maca_all_submitted($1)", ours.audit)
    async with as_app.transaction():
        # The settings maca_app used to write for itself (before 0011).
        await as_app.execute(
            "SELECT set_config('maca.organisation_id', $1, true), set_config('maca.partnership_id', $2, true), "
            "set_config('maca.roles', 'coordinator,reviewer,admin', true)",
            str(ours.police),
            str(ours.partnership),
        )
        assert await counts(as_app) == (0, 0)
        assert await as_app.fetch("SELECT * FROM maca_people_to_tell($1, NULL, NULL)", ours.partnership) == []
    key = await identity.stored_key(db)
    assert key is not None
    reviewer = ours.reviewer
    claims = {
        "k": "identity",
        "u": str(reviewer.user_id),
        "o": str(reviewer.organisation_id),
        "p": str(reviewer.partnership_id),
        "r": ["reviewer"],
    }
    for forged in (seal(b"k" * 32, {**claims, "t": time.time()}), seal(key, {**claims, "t": time.time() - 120})):
        async with as_app.transaction():
            await as_app.execute("SELECT set_config('maca.identity', $1, true)", forged)
            assert await counts(as_app) == (0, 0)


async def test_a_partnerships_reviewers_read_its_concerns_and_who_was_told_and_nothing_of_anothers(
    as_app: asyncpg.Connection[Any], sides: dict[str, Side], sealer: Sealer
) -> None:
    ours, theirs = sides["ours"], sides["theirs"]
    async with as_app.transaction():
        await as_someone(as_app, sealer, ours.reviewer)
        assert await counts(as_app) == (1, 1)
        assert await as_app.fetchval("SELECT partnership_id FROM concerns") == ours.partnership
        people = "SELECT email FROM maca_people_to_tell($1, NULL, $2::text[])"
        assert [r["email"] for r in await as_app.fetch(people, ours.partnership, None)] == ["reviewer@ours.example"]
        assert await as_app.fetch(people, theirs.partnership, ["reviewer"]) == []
        assert await as_app.fetchval("SELECT maca_all_submitted($1)", ours.audit) is False
        assert not await as_app.fetchval("SELECT maca_all_submitted($1)", theirs.audit)
        # Acknowledging: theirs is out of reach.
        acknowledge = "UPDATE concerns SET acknowledged_at = now(), acknowledged_by = $1 WHERE audit_id = $2"
        assert await as_app.execute(acknowledge, ours.reviewer.user_id, theirs.audit) == "UPDATE 0"
        assert await as_app.execute(acknowledge, ours.reviewer.user_id, ours.audit) == "UPDATE 1"


async def test_an_agency_sees_and_raises_only_its_own_concerns(
    as_app: asyncpg.Connection[Any], sides: dict[str, Side], sealer: Sealer, db: asyncpg.Connection[Any]
) -> None:
    ours, theirs = sides["ours"], sides["theirs"]
    async with as_app.transaction():
        await as_someone(as_app, sealer, ours.police_auditor)
        assert await counts(as_app) == (1, 0), "police's own concern; who was told is the partnership staff's"
    async with as_app.transaction():
        await as_someone(as_app, sealer, ours.health_auditor)
        assert await counts(as_app) == (0, 0), "police's concern is not health's"
        assert await as_app.execute("UPDATE concerns SET closed_because = NULL") == "UPDATE 0"
        # A section's significant failure, no question: stored as NULL.
        await as_app.execute(RAISE, ours.partnership, ours.audit, ours.health)
    assert await db.fetchval(
        "SELECT question_id IS NULL FROM concerns WHERE organisation_id = $1 AND section_id = 's2'", ours.health
    )
    for how, values in {
        "in another agency's name": (ours.partnership, ours.audit, ours.police),
        "in another partnership": (theirs.partnership, theirs.audit, ours.health),
        "on another partnership's audit": (ours.partnership, theirs.audit, ours.health),
    }.items():
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
            async with as_app.transaction():
                await as_someone(as_app, sealer, ours.health_auditor)
                await as_app.execute(RAISE, *values)
        assert await db.fetchval("SELECT count(*) FROM concerns WHERE section_id = 's2'") == 1, how


async def test_anyone_of_the_partnership_writes_a_message_as_themselves_and_only_staff_read_them(
    as_app: asyncpg.Connection[Any], sides: dict[str, Side], sealer: Sealer, db: asyncpg.Connection[Any]
) -> None:
    ours, theirs = sides["ours"], sides["theirs"]
    async with as_app.transaction():
        await as_someone(as_app, sealer, ours.health_auditor)
        await as_app.execute(WRITE.format(extra="", value=""), "k-health", ours.partnership)
        assert await counts(as_app) == (0, 1), "the message it wrote, and no other"
    assert await db.fetchval("SELECT written_by_organisation FROM notifications WHERE key = 'k-health'") == ours.health
    for how, (key, partnership, extra, value, args) in {
        "in another organisation's name": ("k-1", ours.partnership, ", written_by_organisation", ", $3", [ours.police]),
        "for another partnership": ("k-2", theirs.partnership, "", "", []),
    }.items():
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
            async with as_app.transaction():
                await as_someone(as_app, sealer, ours.health_auditor)
                await as_app.execute(WRITE.format(extra=extra, value=value), key, partnership, *args)
        assert await db.fetchval("SELECT count(*) FROM notifications WHERE key = $1", key) == 0, how
    async with as_app.transaction():
        await as_someone(as_app, sealer, ours.admin)
        assert await counts(as_app) == (0, 2), "the administrator sees what could not be delivered"
    async with as_app.transaction():
        await as_someone(as_app, sealer, theirs.reviewer)
        assert await counts(as_app) == (1, 1)
        assert await as_app.fetchval("SELECT partnership_id FROM notifications") == theirs.partnership
    for statement in (
        "UPDATE notifications SET status = 'sent'",
        "DELETE FROM notifications",
        "DELETE FROM concerns",
        "SELECT count(*) FROM maca_queue.pgqueuer",
        "INSERT INTO maca_queue.pgqueuer (priority, entrypoint, status) VALUES (0, 'deliver', 'queued')",
        "SELECT maca_private.enqueue_delivery()",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with as_app.transaction():
                await as_someone(as_app, sealer, ours.reviewer)
                await as_app.execute(statement)
    # A message written is a job queued, in the same transaction.
    assert await db.fetchval("SELECT count(*) FROM maca_queue.pgqueuer WHERE entrypoint = 'deliver'") == 3


async def test_a_persons_address_is_the_sealed_tokens_and_their_mail_choice_is_theirs_alone(
    as_app: asyncpg.Connection[Any], sides: dict[str, Side], sealer: Sealer, db: asyncpg.Connection[Any]
) -> None:
    ours = sides["ours"]
    claims = {
        "issuer": "https://idp.example",
        "subject": "newcomer",
        "organisation": "ours-police",
        "name": "New Person",
        "roles": ["auditor"],
        "email": "new@ours.example",
    }
    insert = (
        "INSERT INTO users (issuer, subject, organisation_id, display_name, roles, email) "
        "VALUES ('https://idp.example', 'newcomer', $1, 'New Person', '{auditor}', $2)"
    )
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with as_app.transaction():
            await as_app.execute("SELECT set_config('maca.recording', $1, true)", sealer.recording(claims))
            await as_app.execute(insert, ours.police, "someone-else@elsewhere.example")
    async with as_app.transaction():
        await as_app.execute("SELECT set_config('maca.recording', $1, true)", sealer.recording(claims))
        await as_app.execute(insert, ours.police, "new@ours.example")
    assert await db.fetchval("SELECT email FROM users WHERE subject = 'newcomer'") == "new@ours.example"

    # Turning off non-urgent mail: one's own, through the function only.
    reviewer, health = ours.reviewer, ours.health_auditor
    async with as_app.transaction():
        await as_someone(as_app, sealer, health)
        assert await as_app.execute("UPDATE users SET non_urgent_mail = false") == "UPDATE 0"
        assert await as_app.fetchval("SELECT maca_set_mail_preference(false)")
    async with as_app.transaction():
        assert not await as_app.fetchval("SELECT maca_set_mail_preference(false)"), "nobody sealed: nobody changed"
    wants = await db.fetch("SELECT id FROM users WHERE NOT non_urgent_mail")
    assert [r["id"] for r in wants] == [health.user_id]
    assert reviewer.user_id not in {r["id"] for r in wants}
