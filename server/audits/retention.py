"""Retention: ``maca purge`` removes closed audits older than the
retention period, with every row that refers to them
(``server/db/purge.py``), in one transaction: their counts are first taken
away from the dashboard's counted rows (which hold no foreign key to an
audit), and the purge is recorded as one event — how many audits, their
ids, the period and the rows removed; nothing personal. Events stay, so
the hash chain still verifies.
"""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from server.audits import events, summaries
from server.audits.events import EventName
from server.db import purge as stored

__all__ = ["PurgeResult", "purge"]


class PurgeResult(msgspec.Struct, frozen=True, kw_only=True):
    audit_ids: tuple[UUID, ...]
    closed_before: datetime.datetime
    rows: dict[str, int]  # table → rows removed (or that would be)
    dry_run: bool
    event_id: int | None = None


async def purge(connection: asyncpg.Connection[Any], retention_days: int, *, dry_run: bool = False) -> PurgeResult:
    """Remove (or, ``dry_run``, only count) closed audits whose closure is
    more than their partnership's retention period (its administrator's, or
    else ``retention_days``) ago, in one transaction. Run as the
    tables' owner, which row-level security does not confine."""
    async with connection.transaction():
        closed_before, audit_ids = await stored.closed_audits(connection, retention_days)
        rows: dict[str, int] = {}
        if audit_ids:
            if not dry_run:
                await summaries.forget(connection, audit_ids)
            rows = await stored.remove(connection, list(audit_ids), dry_run=dry_run)
        event_id: int | None = None
        if not dry_run:
            event_id = await events.record_unattributed(
                connection,
                EventName.AUDITS_PURGED,
                {
                    "audits": len(audit_ids),
                    "audit_ids": [str(audit_id) for audit_id in audit_ids],
                    "retention_days": retention_days,
                    # Partnerships that keep their audits for a period of their own.
                    "partnership_retention_days": await stored.own_retention(connection),
                    "closed_before": closed_before.isoformat(),
                    "rows": rows,
                },
            )
    return PurgeResult(audit_ids=audit_ids, closed_before=closed_before, rows=rows, dry_run=dry_run, event_id=event_id)
