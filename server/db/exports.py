"""What the analysts' exports and the combined report read.

The grades export walks every participant of every matching audit with a
server-side cursor (asyncpg ``Connection.cursor``, which must run inside a
transaction), a few hundred rows at a time, so an export of a hundred
thousand audits never holds more than one batch in memory.

Only what an export shows leaves the database: no case details (just the
values of the few case details that decide which conditional sections a
case has), no answers, and a contribution's grades only once it is
submitted — never a draft's.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from server.db import plans

# Rows fetched from the cursor per round trip: large enough that the round
# trips cost little, small enough that a batch is a few hundred kilobytes.
PREFETCH = 500


class GradeFilters(msgspec.Struct, frozen=True, kw_only=True):
    """The dashboard's filters: audits created from ``created_from`` and
    before ``created_before`` (the first day of the quarters asked for, and
    the first day after them), of a toolkit, an agency kind, a status."""

    created_from: datetime.date | None = None
    created_before: datetime.date | None = None
    toolkit: str | None = None
    agency_kind: str | None = None
    status: str | None = None


class ParticipantGradesRow(msgspec.Struct, frozen=True, kw_only=True):
    """One organisation's part in one audit, as the grades export sees it."""

    audit_id: UUID
    toolkit_id: str
    toolkit_version: int
    audit_status: str
    period_start: datetime.date | None
    period_end: datetime.date | None
    organisation_code: str
    agency_kind: str
    is_referrer: bool
    contribution_status: str
    submitted_at: datetime.datetime | None
    # Section id → {"grade", "impact"}, only for a submitted contribution.
    judgements: dict[str, Any] | None
    # Only the case details that decide conditional sections (question id → value).
    conditions: dict[str, Any] | None
    # The partnership's judgement of each section as last summarised
    # (audit_summaries.sections: section_id, grade, computed_grade,
    # moderated…); None when the caller may not see it yet.
    partnership: list[dict[str, Any]] | None = None
    # Created with one of the partnership's own toolkit versions.
    local_toolkit: bool = False
    # Section id → {"reason"}: the sections the agency was not involved in,
    # only for a submitted contribution (their rows have no grade).
    not_involved: dict[str, Any] | None = None


def _json(value: Any) -> Any:
    # The pool decodes jsonb itself; a bare connection (benchmarks) hands
    # over text.
    return json.loads(value) if isinstance(value, str) else value


_GRADES = """
    SELECT a.id, a.toolkit_id, a.toolkit_version, a.status, a.period_start, a.period_end,
           o.code, p.agency_kind, coalesce(a.referring_organisation_id = o.id, false),
           coalesce(c.status, 'not-started'), c.submitted_at,
           CASE WHEN c.status = 'submitted' THEN c.content -> 'judgements' END,
           (SELECT jsonb_object_agg(e.key, e.value -> 'value')
              FROM jsonb_each(a.case_details -> 'answers') AS e
             WHERE e.key = ANY($8::text[])),
           -- An agency sees the partnership's grades once the audit is closed,
           -- as GET …/judgement shows them.
           CASE WHEN $2::uuid IS NULL OR a.status = 'closed' THEN s.sections END,
           a.local_toolkit_version_id IS NOT NULL,
           CASE WHEN c.status = 'submitted' THEN c.content -> 'not_involved' END
      FROM audits a
      JOIN audit_participants p ON p.audit_id = a.id AND p.removed_at IS NULL
      JOIN organisations o ON o.id = p.organisation_id
      LEFT JOIN contributions c ON c.audit_id = a.id AND c.organisation_id = p.organisation_id
      LEFT JOIN audit_summaries s ON s.audit_id = a.id
     WHERE a.partnership_id = $1
       AND ($2::uuid IS NULL OR (p.organisation_id = $2 AND a.status <> 'draft'))
       AND ($3::text IS NULL OR a.status = $3)
       AND ($4::text IS NULL OR a.toolkit_id = $4)
       AND ($5::text IS NULL OR p.agency_kind = $5)
       AND ($6::date IS NULL OR a.created_at >= $6::date::timestamp AT TIME ZONE 'UTC')
       AND ($7::date IS NULL OR a.created_at < $7::date::timestamp AT TIME ZONE 'UTC')
     ORDER BY a.created_at, a.id, o.code
"""


async def participant_grades(
    connection: asyncpg.Connection[Any],
    *,
    partnership_id: UUID,
    organisation_id: UUID | None,
    filters: GradeFilters,
    condition_details: Sequence[str],
    prefetch: int = PREFETCH,
) -> AsyncIterator[ParticipantGradesRow]:
    """Every current participant of the partnership's matching audits, in a
    stable order. ``organisation_id``: only that organisation's part, of
    audits that have been distributed (an agency's auditor). Must be
    iterated inside a transaction."""
    await plans.plan_for_the_values_given(connection)
    cursor = connection.cursor(
        _GRADES,
        partnership_id,
        organisation_id,
        filters.status,
        filters.toolkit,
        filters.agency_kind,
        filters.created_from,
        filters.created_before,
        list(condition_details),
        prefetch=prefetch,
    )
    async for row in cursor:
        yield ParticipantGradesRow(
            audit_id=row[0],
            toolkit_id=row[1],
            toolkit_version=row[2],
            audit_status=row[3],
            period_start=row[4],
            period_end=row[5],
            organisation_code=row[6],
            agency_kind=row[7],
            is_referrer=row[8],
            contribution_status=row[9],
            submitted_at=row[10],
            judgements=_json(row[11]),
            conditions=_json(row[12]),
            partnership=_json(row[13]),
            local_toolkit=row[14],
            not_involved=_json(row[15]),
        )


class SubmittedContributionRow(msgspec.Struct, frozen=True, kw_only=True):
    """A participant with its contribution's last submitted (or amended)
    version; ``content`` is None until it has submitted one."""

    contribution_id: UUID | None
    organisation_id: UUID
    organisation_code: str
    organisation_name: str
    agency_kind: str
    status: str
    submitted_at: datetime.datetime | None
    version: int | None
    version_kind: str | None
    content: dict[str, Any] | None


async def submitted_contributions(
    connection: asyncpg.Connection[Any], audit_id: UUID, *, organisation_id: UUID | None = None
) -> list[SubmittedContributionRow]:
    """Each current participant (or only ``organisation_id``) with what it
    last submitted. The content is only read from the kept versions, so a
    draft — even one in progress after a return — never appears."""
    rows = await connection.fetch(
        """
        SELECT c.id AS contribution_id, o.id AS organisation_id, o.code AS organisation_code,
               o.name AS organisation_name, p.agency_kind, coalesce(c.status, 'not-started') AS status,
               c.submitted_at, v.version, v.kind AS version_kind, v.content
          FROM audit_participants p
          JOIN organisations o ON o.id = p.organisation_id
          LEFT JOIN contributions c ON c.audit_id = p.audit_id AND c.organisation_id = p.organisation_id
          LEFT JOIN LATERAL (
                SELECT version, kind, content FROM contribution_versions
                 WHERE contribution_id = c.id ORDER BY version DESC LIMIT 1) v ON true
         WHERE p.audit_id = $1 AND p.removed_at IS NULL AND ($2::uuid IS NULL OR p.organisation_id = $2)
         ORDER BY o.name, o.code
        """,
        audit_id,
        organisation_id,
    )
    return [msgspec.convert({**dict(row), "content": _json(row["content"])}, SubmittedContributionRow) for row in rows]
