"""The outbox (migration 0015): the messages Maca sends, written in the
transaction of the change that causes them, and what became of each. SQL
only; what a message says is ``server/audits/notifications.py``, sending
it ``server/platform/mail.py`` and the worker ``server/platform/queue.py``.

Writing a row queues its delivery in the same transaction (the trigger
``notifications_enqueue``): no change without its message, no message
without its change."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

__all__ = [
    "NotificationRow",
    "Outgoing",
    "Person",
    "claim_for_sending",
    "failed_in_partnership",
    "get",
    "mark_attempt_failed",
    "mark_failed",
    "mark_sent",
    "of_audit",
    "people_to_tell",
    "write",
]


class Outgoing(msgspec.Struct, frozen=True, kw_only=True):
    """A message to write to the outbox."""

    key: str
    partnership_id: UUID
    audit_id: UUID | None
    concern_id: UUID | None
    message: str
    urgent: bool
    recipient: str
    recipient_user_id: UUID | None
    recipient_role: str
    subject: str
    body: str
    link: str | None


class NotificationRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    key: str
    partnership_id: UUID
    audit_id: UUID | None
    concern_id: UUID | None
    message: str
    urgent: bool
    recipient: str
    recipient_role: str
    subject: str
    body: str
    link: str | None
    created_at: datetime.datetime
    status: str
    attempts: int
    last_error: str | None
    last_attempt_at: datetime.datetime | None
    sent_at: datetime.datetime | None
    channel: str | None


class Person(msgspec.Struct, frozen=True, kw_only=True):
    user_id: UUID
    email: str
    non_urgent_mail: bool


_COLUMNS = """id, key, partnership_id, audit_id, concern_id, message, urgent, recipient, recipient_role, subject, body,
              link, created_at, status, attempts, last_error, last_attempt_at, sent_at, channel"""


def _rows(rows: Sequence[asyncpg.Record]) -> list[NotificationRow]:
    return [msgspec.convert(dict(row), NotificationRow) for row in rows]


async def write(connection: asyncpg.Connection[Any], outgoing: Sequence[Outgoing]) -> int:
    """Write the messages (one statement); a key already written is skipped
    (the same change does not tell the same person twice). How many were new."""
    if not outgoing:
        return 0
    # No RETURNING: an agency's transaction may write a message it may not
    # read back (row-level security, migration 0015).
    status = await connection.execute(
        """
        INSERT INTO notifications (key, partnership_id, audit_id, concern_id, message, urgent, recipient,
                                   recipient_user_id, recipient_role, subject, body, link)
        SELECT * FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::boolean[], $7::text[],
                             $8::uuid[], $9::text[], $10::text[], $11::text[], $12::text[])
        ON CONFLICT (key) DO NOTHING
        """,
        [o.key for o in outgoing],
        [o.partnership_id for o in outgoing],
        [o.audit_id for o in outgoing],
        [o.concern_id for o in outgoing],
        [o.message for o in outgoing],
        [o.urgent for o in outgoing],
        [o.recipient for o in outgoing],
        [o.recipient_user_id for o in outgoing],
        [o.recipient_role for o in outgoing],
        [o.subject for o in outgoing],
        [o.body for o in outgoing],
        [o.link for o in outgoing],
    )
    return int(status.rsplit(" ", 1)[-1])


async def people_to_tell(
    connection: asyncpg.Connection[Any], partnership_id: UUID, organisation_id: UUID | None, roles: Sequence[str]
) -> list[Person]:
    """People who signed in with an address, of the partnership (and the
    organisation, if named) holding any of ``roles``."""
    rows = await connection.fetch(
        "SELECT user_id, email, non_urgent_mail FROM maca_people_to_tell($1, $2, $3::text[])",
        partnership_id,
        organisation_id,
        list(roles),
    )
    return [msgspec.convert(dict(row), Person) for row in rows]


async def user_email(connection: asyncpg.Connection[Any], partnership_id: UUID, user_id: UUID) -> Person | None:
    """One person of the partnership, if they signed in with an address."""
    row = await connection.fetchrow(
        "SELECT user_id, email, non_urgent_mail FROM maca_people_to_tell($1, NULL, NULL) WHERE user_id = $2",
        partnership_id,
        user_id,
    )
    return None if row is None else msgspec.convert(dict(row), Person)


async def of_audit(connection: asyncpg.Connection[Any], audit_id: UUID) -> list[NotificationRow]:
    """Who was told what about the audit, newest first."""
    return _rows(
        await connection.fetch(
            f"SELECT {_COLUMNS} FROM notifications WHERE audit_id = $1 ORDER BY created_at DESC, recipient",  # noqa: S608
            audit_id,
        )
    )


async def failed_in_partnership(
    connection: asyncpg.Connection[Any], partnership_id: UUID, limit: int = 200
) -> list[NotificationRow]:
    """Messages not (yet) delivered after trying: failed for good, or queued
    with an error from their last attempt; newest first."""
    return _rows(
        await connection.fetch(
            f"SELECT {_COLUMNS} FROM notifications WHERE partnership_id = $1 "  # noqa: S608
            "AND (status = 'failed' OR (status = 'queued' AND last_error IS NOT NULL)) "
            "ORDER BY created_at DESC LIMIT $2",
            partnership_id,
            limit,
        )
    )


async def get(connection: asyncpg.Connection[Any], notification_id: UUID) -> NotificationRow | None:
    found = _rows(
        await connection.fetch(f"SELECT {_COLUMNS} FROM notifications WHERE id = $1", notification_id)  # noqa: S608
    )
    return found[0] if found else None


async def claim_for_sending(connection: asyncpg.Connection[Any], notification_id: UUID) -> NotificationRow | None:
    """The notification to send, counted as an attempt; None when it was
    sent already (a job run again after its worker died past the send)."""
    found = _rows(
        await connection.fetch(
            f"""
            UPDATE notifications SET attempts = attempts + 1, last_attempt_at = now()
             WHERE id = $1 AND status <> 'sent'
            RETURNING {_COLUMNS}
            """,  # noqa: S608
            notification_id,
        )
    )
    return found[0] if found else None


async def mark_sent(connection: asyncpg.Connection[Any], notification_id: UUID, channel: str) -> None:
    await connection.execute(
        "UPDATE notifications SET status = 'sent', sent_at = now(), channel = $2, last_error = NULL WHERE id = $1",
        notification_id,
        channel,
    )


async def mark_attempt_failed(connection: asyncpg.Connection[Any], notification_id: UUID, error: str) -> None:
    await connection.execute(
        "UPDATE notifications SET last_error = $2 WHERE id = $1 AND status <> 'sent'", notification_id, error[:500]
    )


async def mark_failed(connection: asyncpg.Connection[Any], notification_id: UUID, error: str) -> None:
    await connection.execute(
        "UPDATE notifications SET status = 'failed', last_error = $2 WHERE id = $1 AND status <> 'sent'",
        notification_id,
        error[:500],
    )


async def wants_non_urgent_mail(connection: asyncpg.Connection[Any], user_id: UUID) -> tuple[bool, str | None]:
    row = await connection.fetchrow("SELECT non_urgent_mail, email FROM users WHERE id = $1", user_id)
    return (True, None) if row is None else (row["non_urgent_mail"], row["email"])


async def set_non_urgent_mail(connection: asyncpg.Connection[Any], user_id: UUID, wanted: bool) -> None:
    """Whether the transaction's own person wants non-urgent mail: only
    their own row, through ``maca_set_mail_preference`` (migration 0015),
    which changes nothing else of it."""
    changed = await connection.fetchval("SELECT maca_set_mail_preference($1)", wanted)
    assert changed, f"no person {user_id} to change: the transaction is sealed for someone else"
