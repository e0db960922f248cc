"""Storage of the themes: each audit's summary and the counted rows the
dashboard adds up (migration 0006). SQL only: what a summary holds and how
it is counted is ``server/reports/themes.py``; when an audit is summarised
is ``server/audits/summaries.py``."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from server.db.identity import grant_summarising

# --- rows ------------------------------------------------------------------------


class SectionSummary(msgspec.Struct, frozen=True, kw_only=True):
    section_id: str  # a section id, or "overall"
    grade: int | None
    computed_grade: int | None
    disagreement: bool
    moderated: bool
    provisional: bool
    concerns: int


class AgencySectionGrade(msgspec.Struct, frozen=True, kw_only=True):
    organisation_id: str
    agency_kind: str
    section_id: str
    grade: int


class AuditSummaryRow(msgspec.Struct, frozen=True, kw_only=True):
    """A row of ``audit_summaries``: what one audit contributes to the
    themes. No answers, no case details."""

    audit_id: str
    partnership_id: str
    toolkit_id: str
    status: str
    quarter: datetime.date
    provisional: bool
    overall_grade: int | None
    immediate_concerns: int
    sections: tuple[SectionSummary, ...]
    agency_grades: tuple[AgencySectionGrade, ...]
    participating_kinds: tuple[str, ...]


# The key columns of the counted rows, in the tables' order.
# (partnership_id, participating_kind, quarter, toolkit_id, status, section_id, grade)
SectionKey = tuple[str, str, datetime.date, str, str, str, int]
# (audits, disagreed, moderated, provisional, concerns)
SectionValues = tuple[int, int, int, int, int]
# (partnership_id, quarter, toolkit_id, status, organisation_id, agency_kind, section_id, grade)
AgencyKey = tuple[str, datetime.date, str, str, str, str, str, int]


class SectionRow(msgspec.Struct, frozen=True, kw_only=True):
    """A section's summed counts over the period (``theme_section_counts``)."""

    toolkit_id: str
    section_id: str
    grade: int
    audits: int
    disagreed: int
    moderated: int
    provisional: int
    concerns: int


class QuarterRow(msgspec.Struct, frozen=True, kw_only=True):
    """The overall judgement's grade of the audits started in a quarter, counted."""

    quarter: datetime.date
    grade: int
    audits: int


class AgencyRow(msgspec.Struct, frozen=True, kw_only=True):
    toolkit_id: str
    agency_kind: str
    section_id: str
    grade: int
    grades: int


_UPSERT_SECTIONS = """
    INSERT INTO theme_section_counts (partnership_id, participating_kind, quarter, toolkit_id, status, section_id,
                                      grade, audits, disagreed, moderated, provisional, concerns)
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::date[], $4::text[], $5::text[], $6::text[], $7::smallint[],
                         $8::int[], $9::int[], $10::int[], $11::int[], $12::int[])
    ON CONFLICT (partnership_id, participating_kind, quarter, toolkit_id, status, section_id, grade) DO UPDATE
       SET audits = theme_section_counts.audits + excluded.audits,
           disagreed = theme_section_counts.disagreed + excluded.disagreed,
           moderated = theme_section_counts.moderated + excluded.moderated,
           provisional = theme_section_counts.provisional + excluded.provisional,
           concerns = theme_section_counts.concerns + excluded.concerns
"""

_UPSERT_AGENCIES = """
    INSERT INTO theme_agency_counts (partnership_id, quarter, toolkit_id, status, organisation_id, agency_kind,
                                     section_id, grade, grades)
    SELECT * FROM unnest($1::uuid[], $2::date[], $3::text[], $4::text[], $5::uuid[], $6::text[], $7::text[],
                         $8::smallint[], $9::int[])
    ON CONFLICT (partnership_id, quarter, toolkit_id, status, organisation_id, agency_kind, section_id, grade)
    DO UPDATE SET grades = theme_agency_counts.grades + excluded.grades
"""


async def add_counts(
    connection: asyncpg.Connection[Any],
    sections: Sequence[tuple[SectionKey, SectionValues]],
    agencies: Sequence[tuple[AgencyKey, int]],
) -> None:
    """Add (or with negative values, take away) counted rows, in one
    statement per table; the rows must come in key order."""
    if sections:
        columns = list(zip(*((UUID(key[0]), *key[1:], *values) for key, values in sections), strict=True))
        await connection.execute(_UPSERT_SECTIONS, *[list(c) for c in columns])
    if agencies:
        columns = list(zip(*((UUID(k[0]), *k[1:4], UUID(k[4]), *k[5:], value) for k, value in agencies), strict=True))
        await connection.execute(_UPSERT_AGENCIES, *[list(c) for c in columns])


def _json_text(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def summary_record(summary: AuditSummaryRow, json: Callable[[Any], Any] = _json_text) -> tuple[Any, ...]:
    """The summary as a row of ``audit_summaries``, in ``SUMMARY_COLUMNS``'
    order; ``json`` writes the jsonb columns (text for a statement's
    parameters, bytes for ``maca demo``'s binary COPY)."""
    return (
        UUID(summary.audit_id),
        UUID(summary.partnership_id),
        summary.toolkit_id,
        summary.status,
        summary.quarter,
        summary.provisional,
        summary.overall_grade,
        summary.immediate_concerns,
        json(summary.sections),
        json(summary.agency_grades),
        list(summary.participating_kinds),
    )


SUMMARY_COLUMNS = (
    "audit_id",
    "partnership_id",
    "toolkit_id",
    "status",
    "quarter",
    "provisional",
    "overall_grade",
    "immediate_concerns",
    "sections",
    "agency_grades",
    "participating_kinds",
)


async def store_summaries(connection: asyncpg.Connection[Any], summaries: Sequence[AuditSummaryRow]) -> None:
    """Insert or replace summaries (the counted rows are the caller's)."""
    await connection.executemany(
        """
        INSERT INTO audit_summaries (audit_id, partnership_id, toolkit_id, status, quarter, provisional,
                                     overall_grade, immediate_concerns, sections, agency_grades, participating_kinds)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::jsonb, $10::text::jsonb, $11)
        ON CONFLICT (audit_id) DO UPDATE
           SET status = excluded.status, toolkit_id = excluded.toolkit_id, quarter = excluded.quarter,
               provisional = excluded.provisional, overall_grade = excluded.overall_grade,
               immediate_concerns = excluded.immediate_concerns, sections = excluded.sections,
               agency_grades = excluded.agency_grades, participating_kinds = excluded.participating_kinds,
               refreshed_at = now()
        """,
        [summary_record(s) for s in summaries],
    )


async def stored_summary(connection: asyncpg.Connection[Any], audit_id: UUID) -> AuditSummaryRow | None:
    row = await connection.fetchrow(
        """
        SELECT audit_id::text, partnership_id::text, toolkit_id, status, quarter, provisional, overall_grade,
               immediate_concerns, sections::text, agency_grades::text, participating_kinds
          FROM audit_summaries WHERE audit_id = $1
        """,
        audit_id,
    )
    return None if row is None else _summary_from(row)


def _summary_from(row: asyncpg.Record) -> AuditSummaryRow:
    fields = dict(row)
    fields["sections"] = msgspec.json.decode(fields["sections"])
    fields["agency_grades"] = msgspec.json.decode(fields["agency_grades"])
    return msgspec.convert(fields, AuditSummaryRow)


async def stored_summaries(connection: asyncpg.Connection[Any], audit_ids: Sequence[UUID]) -> list[AuditSummaryRow]:
    """The audits' summaries, in audit id order (rows are then locked in
    the same order by whoever changes their counts)."""
    rows = await connection.fetch(
        """
        SELECT audit_id::text, partnership_id::text, toolkit_id, status, quarter, provisional, overall_grade,
               immediate_concerns, sections::text, agency_grades::text, participating_kinds
          FROM audit_summaries WHERE audit_id = ANY($1::uuid[]) ORDER BY audit_id
        """,
        list(audit_ids),
    )
    return [_summary_from(row) for row in rows]


async def participating_kinds(connection: asyncpg.Connection[Any], audit_id: UUID) -> list[str]:
    """The agency kinds of the organisations currently taking part."""
    rows = await connection.fetch(
        """
        SELECT DISTINCT p.agency_kind FROM audit_participants p
         WHERE p.audit_id = $1 AND p.removed_at IS NULL
        """,
        audit_id,
    )
    return [row["agency_kind"] for row in rows]


@asynccontextmanager
async def summarising(connection: asyncpg.Connection[Any], audit_id: UUID) -> AsyncIterator[None]:
    """While inside: the only refresh of ``audit_id``'s summary (a second
    waits, then reads what the first committed), and a transaction allowed
    to read that audit's contributions, whoever it belongs to.

    An agency auditor's transaction sees only its own contribution
    (row-level security), but the partnership's judgement is made from all
    of them: for this computation alone the server seals a grant naming the
    audit and the transaction's user (``maca.summarising``, migration 0011),
    which lets it read that audit's contributions and moderations and write
    its summary and counts; the grant is taken away on the way out. Naming
    an audit without the server's seal shows nothing."""
    await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended('themes:' || $1::text, 0))", str(audit_id))
    await grant_summarising(connection, audit_id)
    try:
        yield
    finally:
        await grant_summarising(connection, None)


# --- the dashboard's reads -----------------------------------------------------


async def section_rows(
    connection: asyncpg.Connection[Any],
    partnership_id: UUID,
    *,
    participating_kind: str,
    first: datetime.date,
    last: datetime.date,
    toolkit_id: str | None,
    status: str | None,
) -> tuple[list[SectionRow], list[QuarterRow]]:
    """Each section's counts over the period, and the overall judgement's
    grades per quarter (the trend), added up by PostgreSQL: a few hundred
    rows come back, whatever the number of audits and quarters."""
    rows = await connection.fetch(
        """
        SELECT NULL::date AS quarter, toolkit_id, section_id, grade, sum(audits)::int AS audits,
               sum(disagreed)::int AS disagreed, sum(moderated)::int AS moderated,
               sum(provisional)::int AS provisional, sum(concerns)::int AS concerns
          FROM theme_section_counts
         WHERE partnership_id = $1 AND participating_kind = $2 AND quarter BETWEEN $3 AND $4
           AND ($5::text IS NULL OR toolkit_id = $5) AND ($6::text IS NULL OR status = $6)
         GROUP BY toolkit_id, section_id, grade
        HAVING sum(audits) > 0
        UNION ALL
        SELECT quarter, NULL, NULL, grade, sum(audits)::int, 0, 0, 0, 0
          FROM theme_section_counts
         WHERE partnership_id = $1 AND participating_kind = $2 AND quarter BETWEEN $3 AND $4
           AND ($5::text IS NULL OR toolkit_id = $5) AND ($6::text IS NULL OR status = $6)
           AND section_id = 'overall'
         GROUP BY quarter, grade
        HAVING sum(audits) > 0
        """,
        partnership_id,
        participating_kind,
        first,
        last,
        toolkit_id,
        status,
    )
    sections = [
        SectionRow(
            toolkit_id=r[1],
            section_id=r[2],
            grade=r[3],
            audits=r[4],
            disagreed=r[5],
            moderated=r[6],
            provisional=r[7],
            concerns=r[8],
        )
        for r in rows
        if r[0] is None
    ]
    trend = [QuarterRow(quarter=r[0], grade=r[3], audits=r[4]) for r in rows if r[0] is not None]
    return sections, trend


async def agency_rows(
    connection: asyncpg.Connection[Any],
    partnership_id: UUID,
    *,
    first: datetime.date,
    last: datetime.date,
    toolkit_id: str | None,
    status: str | None,
    agency_kind: str | None,
    organisation_id: UUID | None,
) -> list[AgencyRow]:
    rows = await connection.fetch(
        """
        SELECT toolkit_id, agency_kind, section_id, grade, sum(grades)::int AS grades
          FROM theme_agency_counts
         WHERE partnership_id = $1 AND quarter BETWEEN $2 AND $3
           AND ($4::text IS NULL OR toolkit_id = $4) AND ($5::text IS NULL OR status = $5)
           AND ($6::text IS NULL OR agency_kind = $6) AND ($7::uuid IS NULL OR organisation_id = $7)
         GROUP BY toolkit_id, agency_kind, section_id, grade
        HAVING sum(grades) > 0
        """,
        partnership_id,
        first,
        last,
        toolkit_id,
        status,
        agency_kind,
        organisation_id,
    )
    return [AgencyRow(toolkit_id=r[0], agency_kind=r[1], section_id=r[2], grade=r[3], grades=r[4]) for r in rows]


async def overdue_actions(
    connection: asyncpg.Connection[Any],
    partnership_id: UUID,
    *,
    today: datetime.date,
    first: datetime.date,
    after_last: datetime.date,
    toolkit_id: str | None,
    status: str | None,
    agency_kind: str | None,
    organisation_id: UUID | None,
) -> list[tuple[str, int]]:
    """Open actions past their due date, by the responsible organisation's
    agency kind, of the audits created in the period. With
    ``organisation_id``: only that organisation's, of audits it takes part in."""
    rows = await connection.fetch(
        """
        SELECT coalesce(o.agency_kind, 'unassigned') AS agency_kind, count(*)::int AS overdue
          FROM remedial_actions r
          JOIN audits a ON a.id = r.audit_id
          LEFT JOIN organisations o ON o.id = r.responsible_organisation_id
         WHERE a.partnership_id = $1 AND NOT r.completed AND r.due_date < $2
           AND a.created_at >= $3::date::timestamp AT TIME ZONE 'UTC'
           AND a.created_at < $4::date::timestamp AT TIME ZONE 'UTC'
           AND ($5::text IS NULL OR a.toolkit_id = $5) AND ($6::text IS NULL OR a.status = $6)
           AND ($7::text IS NULL OR o.agency_kind = $7)
           AND ($8::uuid IS NULL OR (r.responsible_organisation_id = $8 AND EXISTS (
                SELECT 1 FROM audit_participants p
                 WHERE p.audit_id = a.id AND p.organisation_id = $8 AND p.removed_at IS NULL)))
         GROUP BY 1
         ORDER BY 1
        """,
        partnership_id,
        today,
        first,
        after_last,
        toolkit_id,
        status,
        agency_kind,
        organisation_id,
    )
    return [(row["agency_kind"], row["overdue"]) for row in rows]
