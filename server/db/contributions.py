"""One organisation's contribution to an audit, and its kept versions."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from server.db import identity
from server.db.audits import AuditRow


class ContributionRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    audit_id: UUID
    organisation_id: UUID
    status: str
    content: dict[str, Any]
    answered: int
    applicable: int
    row_version: int
    submitted_at: datetime.datetime | None
    returned_at: datetime.datetime | None
    returned_comment: str | None
    updated_by: UUID | None
    updated_at: datetime.datetime
    # Whether the organisation has an immediate concern open on the audit,
    # when the read that found the row asked (:func:`open_own`); None: not asked.
    open_concerns: bool | None = None


class ContributionVersionRow(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    kind: str  # submitted | amended
    reason: str | None
    content: dict[str, Any]
    created_by: UUID | None
    created_at: datetime.datetime


_COLUMNS = """
    id, audit_id, organisation_id, status, content, answered, applicable, row_version,
    submitted_at, returned_at, returned_comment, updated_by, updated_at
"""


def _contribution(row: asyncpg.Record | None) -> ContributionRow | None:
    return None if row is None else msgspec.convert(dict(row), ContributionRow)


async def get(connection: asyncpg.Connection[Any], audit_id: UUID, organisation_id: UUID) -> ContributionRow | None:
    row = await connection.fetchrow(
        f"SELECT {_COLUMNS} FROM contributions WHERE audit_id = $1 AND organisation_id = $2",  # noqa: S608
        audit_id,
        organisation_id,
    )
    return _contribution(row)


_AUDIT_FIELDS = (
    "id", "partnership_id", "toolkit_id", "toolkit_version", "case_details", "period_start", "period_end",
    "referring_organisation_id", "due_date", "status", "row_version", "created_by", "created_at", "updated_by",
    "updated_at", "local_toolkit_version_id", "merge_policy", "judgement_rules", "reference", "participant_kind",
)  # fmt: skip
_OWN_FIELDS = (
    "id", "status", "content", "answered", "applicable", "row_version", "submitted_at", "returned_at",
    "returned_comment", "updated_by", "updated_at", "open_concerns",
)  # fmt: skip


async def open_own(
    connection: asyncpg.Connection[Any], audit_id: UUID, organisation_id: UUID
) -> tuple[AuditRow | None, ContributionRow | None]:
    """The audit (with whether ``organisation_id`` takes part, as
    :func:`server.db.audits.get` with ``participant`` reads it) and that
    organisation's contribution, in one round trip that also sets the
    transaction's sealed identity if it is not set yet
    (``maca_open_contribution``, migration 0019). Row-level security
    confines what it reads as it confines any statement."""
    row = await connection.fetchrow(
        "SELECT * FROM maca_open_contribution($1, $2, $3)", identity.pending_seal(connection), audit_id, organisation_id
    )
    if row is None:
        return None, None
    audit = AuditRow(
        **{name: row[name] for name in _AUDIT_FIELDS},
        participation=(organisation_id, bool(row["participates"])),
    )
    if row["c_id"] is None:
        return audit, None
    contribution = ContributionRow(
        audit_id=audit_id, organisation_id=organisation_id, **{name: row[f"c_{name}"] for name in _OWN_FIELDS}
    )
    return audit, contribution


class SavedContribution(msgspec.Struct, frozen=True, kw_only=True):
    row: ContributionRow
    kept_version: int | None  # the kept version's number, when one was kept


async def save_recorded(
    connection: asyncpg.Connection[Any],
    contribution_id: UUID,
    row_version: int,
    *,
    audit_status: str,
    status: str,
    content: dict[str, Any],
    answered: int,
    applicable: int,
    keep: str | None,
    reason: str | None,
    action: str,
    detail: dict[str, Any],
) -> SavedContribution | None:
    """Write content and status, keep a version (``keep``: submitted or
    amended) and append the event ``action`` with ``detail`` (and the kept
    version's number as ``version``), in one round trip
    (``maca_save_contribution``, migration 0019); ``None`` when someone
    changed the contribution since ``row_version`` or the audit left
    ``audit_status`` since it was read. The writer is the transaction's
    verified identity."""
    row = await connection.fetchrow(
        "SELECT * FROM maca_save_contribution($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::text::jsonb)",
        contribution_id,
        row_version,
        audit_status,
        status,
        content,
        answered,
        applicable,
        keep,
        reason,
        action,
        msgspec.json.encode(detail).decode(),
    )
    if row is None:
        return None
    fields = dict(row)
    kept = fields.pop("kept_version")
    return SavedContribution(row=msgspec.convert(fields, ContributionRow), kept_version=kept)


async def save(
    connection: asyncpg.Connection[Any],
    contribution_id: UUID,
    row_version: int,
    *,
    status: str,
    content: dict[str, Any],
    answered: int,
    applicable: int,
    user_id: UUID,
) -> ContributionRow | None:
    """Write content and status if nobody changed the contribution since
    ``row_version``; ``None`` when someone did."""
    row = await connection.fetchrow(
        f"""
        UPDATE contributions
        SET status = $3, content = $4, answered = $5, applicable = $6, updated_by = $7, updated_at = now(),
            submitted_at = CASE WHEN $3 = 'submitted' AND status <> 'submitted' THEN now() ELSE submitted_at END,
            row_version = row_version + 1
        WHERE id = $1 AND row_version = $2
        RETURNING {_COLUMNS}
        """,  # noqa: S608
        contribution_id,
        row_version,
        status,
        content,
        answered,
        applicable,
        user_id,
    )
    return _contribution(row)


async def mark_returned(
    connection: asyncpg.Connection[Any], contribution_id: UUID, row_version: int, comment: str, user_id: UUID
) -> ContributionRow | None:
    """Send a submitted contribution back to its agency for more work."""
    row = await connection.fetchrow(
        f"""
        UPDATE contributions
        SET status = 'returned', returned_comment = $3, returned_at = now(), updated_by = $4, updated_at = now(),
            row_version = row_version + 1
        WHERE id = $1 AND row_version = $2
        RETURNING {_COLUMNS}
        """,  # noqa: S608
        contribution_id,
        row_version,
        comment,
        user_id,
    )
    return _contribution(row)


async def add_version(
    connection: asyncpg.Connection[Any],
    contribution_id: UUID,
    *,
    kind: str,
    reason: str | None,
    content: dict[str, Any],
    user_id: UUID,
) -> int:
    """Keep a submitted or amended version; returns its number."""
    return int(
        await connection.fetchval(
            """
            INSERT INTO contribution_versions (contribution_id, version, kind, reason, content, created_by)
            SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5
            FROM contribution_versions WHERE contribution_id = $1
            RETURNING version
            """,
            contribution_id,
            kind,
            reason,
            content,
            user_id,
        )
    )


async def versions(connection: asyncpg.Connection[Any], contribution_id: UUID) -> list[ContributionVersionRow]:
    rows = await connection.fetch(
        """
        SELECT version, kind, reason, content, created_by, created_at
        FROM contribution_versions WHERE contribution_id = $1 ORDER BY version
        """,
        contribution_id,
    )
    return [msgspec.convert(dict(row), ContributionVersionRow) for row in rows]


async def latest_version(connection: asyncpg.Connection[Any], contribution_id: UUID) -> ContributionVersionRow | None:
    row = await connection.fetchrow(
        """
        SELECT version, kind, reason, content, created_by, created_at
        FROM contribution_versions WHERE contribution_id = $1 ORDER BY version DESC LIMIT 1
        """,
        contribution_id,
    )
    return None if row is None else msgspec.convert(dict(row), ContributionVersionRow)
