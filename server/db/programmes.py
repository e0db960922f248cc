"""Audit programmes: a partnership's named rounds of audits, the agencies
each expects, and the progress of its audits."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec


class ProgrammeRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    partnership_id: UUID
    name: str
    focus: str | None
    period_start: datetime.date | None
    period_end: datetime.date | None
    toolkit_id: str
    selection_criteria: str | None
    agency_ids: list[UUID]
    audits: int
    row_version: int
    created_at: datetime.datetime


class ProgrammeAuditRow(msgspec.Struct, frozen=True, kw_only=True):
    """One audit of a programme with its progress."""

    id: UUID
    status: str
    toolkit_id: str
    toolkit_version: int
    local_toolkit_version_id: UUID | None
    case_details: dict[str, Any]
    referring_organisation_id: UUID | None
    due_date: datetime.date | None
    agencies: int
    submitted: int


class AgencyProgressRow(msgspec.Struct, frozen=True, kw_only=True):
    organisation_id: UUID
    organisation_name: str
    audits: int
    submitted: int


_SELECT = """
    SELECT p.id, p.partnership_id, p.name, p.focus, p.period_start, p.period_end, p.toolkit_id,
           p.selection_criteria, p.row_version, p.created_at,
           coalesce((SELECT array_agg(pa.organisation_id ORDER BY pa.organisation_id)
                       FROM programme_agencies pa WHERE pa.programme_id = p.id), '{}') AS agency_ids,
           (SELECT count(*) FROM audits a WHERE a.programme_id = p.id)::int AS audits
      FROM programmes p
"""


async def create(
    connection: asyncpg.Connection[Any],
    *,
    partnership_id: UUID,
    name: str,
    focus: str | None,
    period_start: datetime.date | None,
    period_end: datetime.date | None,
    toolkit_id: str,
    selection_criteria: str | None,
    agency_ids: list[UUID],
    user_id: UUID,
) -> UUID | None:
    """The new programme's id; None if the partnership has one of that name."""
    programme_id: UUID | None = await connection.fetchval(
        """
        INSERT INTO programmes (partnership_id, name, focus, period_start, period_end, toolkit_id,
                                selection_criteria, created_by, updated_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
        ON CONFLICT (partnership_id, name) DO NOTHING
        RETURNING id
        """,
        partnership_id,
        name,
        focus,
        period_start,
        period_end,
        toolkit_id,
        selection_criteria,
        user_id,
    )
    if programme_id is not None and agency_ids:
        await connection.executemany(
            "INSERT INTO programme_agencies (programme_id, organisation_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            [(programme_id, a) for a in agency_ids],
        )
    return programme_id


async def of_partnership(connection: asyncpg.Connection[Any], partnership_id: UUID) -> list[ProgrammeRow]:
    rows = await connection.fetch(
        f"{_SELECT} WHERE p.partnership_id = $1 ORDER BY p.period_start DESC NULLS LAST, p.name",
        partnership_id,
    )
    return [msgspec.convert(dict(r), ProgrammeRow) for r in rows]


async def get(connection: asyncpg.Connection[Any], partnership_id: UUID, programme_id: UUID) -> ProgrammeRow | None:
    row = await connection.fetchrow(
        f"{_SELECT} WHERE p.partnership_id = $1 AND p.id = $2",
        partnership_id,
        programme_id,
    )
    return None if row is None else msgspec.convert(dict(row), ProgrammeRow)


async def case_references(connection: asyncpg.Connection[Any], programme_id: UUID, question_id: str) -> set[str]:
    """The case references of the programme's audits (the answer to ``question_id``)."""
    rows = await connection.fetch(
        "SELECT case_details -> 'answers' -> $2 ->> 'value' AS reference FROM audits WHERE programme_id = $1",
        programme_id,
        question_id,
    )
    return {str(r["reference"]).strip().casefold() for r in rows if r["reference"]}


async def assign(connection: asyncpg.Connection[Any], audit_id: UUID, programme_id: UUID) -> None:
    await connection.execute("UPDATE audits SET programme_id = $2 WHERE id = $1", audit_id, programme_id)


async def audits_of(connection: asyncpg.Connection[Any], programme_id: UUID) -> list[ProgrammeAuditRow]:
    """The programme's audits, each with how many agencies take part and how many have submitted."""
    rows = await connection.fetch(
        """
        SELECT a.id, a.status, a.toolkit_id, a.toolkit_version, a.local_toolkit_version_id, a.case_details,
               a.referring_organisation_id, a.due_date,
               count(p.organisation_id)::int AS agencies,
               count(c.id) FILTER (WHERE c.status = 'submitted')::int AS submitted
          FROM audits a
          LEFT JOIN audit_participants p ON p.audit_id = a.id AND p.removed_at IS NULL
          LEFT JOIN contributions c ON c.audit_id = a.id AND c.organisation_id = p.organisation_id
         WHERE a.programme_id = $1
         GROUP BY a.id
         ORDER BY a.created_at, a.id
        """,
        programme_id,
    )
    return [msgspec.convert(dict(r), ProgrammeAuditRow) for r in rows]


async def agency_progress(connection: asyncpg.Connection[Any], programme_id: UUID) -> list[AgencyProgressRow]:
    """Per organisation taking part: in how many of the programme's audits, and how many it has submitted."""
    rows = await connection.fetch(
        """
        SELECT o.id AS organisation_id, o.name AS organisation_name,
               count(*)::int AS audits,
               count(c.id) FILTER (WHERE c.status = 'submitted')::int AS submitted
          FROM audits a
          JOIN audit_participants p ON p.audit_id = a.id AND p.removed_at IS NULL
          JOIN organisations o ON o.id = p.organisation_id
          LEFT JOIN contributions c ON c.audit_id = a.id AND c.organisation_id = p.organisation_id
         WHERE a.programme_id = $1
         GROUP BY o.id, o.name
         ORDER BY o.name
        """,
        programme_id,
    )
    return [msgspec.convert(dict(r), AgencyProgressRow) for r in rows]
