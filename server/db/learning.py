"""Learning: the partnership's themes (a list its administrator keeps) and
reviewers' tags on passages of learning, counted for the dashboard."""

from __future__ import annotations

import datetime
import json
from typing import Any
from uuid import UUID

import asyncpg
import msgspec


class ThemeRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    name: str
    description: str | None
    active: bool
    row_version: int
    updated_at: datetime.datetime


class TagRow(msgspec.Struct, frozen=True, kw_only=True):
    audit_id: UUID
    organisation_id: UUID | None  # None: the panel's record
    question_id: str
    theme_id: UUID


class ThemeCountRow(msgspec.Struct, frozen=True, kw_only=True):
    theme_id: UUID
    name: str
    passages: int
    audits: int


_THEME = "id, name, description, active, row_version, updated_at"


async def themes(connection: asyncpg.Connection[Any], partnership_id: UUID) -> list[ThemeRow]:
    rows = await connection.fetch(
        f"SELECT {_THEME} FROM learning_themes WHERE partnership_id = $1 ORDER BY active DESC, name",  # noqa: S608
        partnership_id,
    )
    return [msgspec.convert(dict(r), ThemeRow) for r in rows]


async def add_theme(
    connection: asyncpg.Connection[Any], partnership_id: UUID, name: str, description: str | None, user_id: UUID
) -> ThemeRow | None:
    """The new theme; None if the partnership has one of that name."""
    row = await connection.fetchrow(
        f"""
        INSERT INTO learning_themes (partnership_id, name, description, updated_by) VALUES ($1, $2, $3, $4)
        ON CONFLICT (partnership_id, name) DO NOTHING
        RETURNING {_THEME}
        """,  # noqa: S608
        partnership_id,
        name,
        description,
        user_id,
    )
    return None if row is None else msgspec.convert(dict(row), ThemeRow)


async def set_active(
    connection: asyncpg.Connection[Any], partnership_id: UUID, theme_id: UUID, active: bool, user_id: UUID
) -> ThemeRow | None:
    row = await connection.fetchrow(
        f"""
        UPDATE learning_themes SET active = $3, updated_by = $4, updated_at = now(), row_version = row_version + 1
        WHERE partnership_id = $1 AND id = $2
        RETURNING {_THEME}
        """,  # noqa: S608
        partnership_id,
        theme_id,
        active,
        user_id,
    )
    return None if row is None else msgspec.convert(dict(row), ThemeRow)


async def tags_of(connection: asyncpg.Connection[Any], audit_id: UUID) -> list[TagRow]:
    rows = await connection.fetch(
        "SELECT audit_id, organisation_id, question_id, theme_id FROM learning_tags WHERE audit_id = $1", audit_id
    )
    return [msgspec.convert(dict(r), TagRow) for r in rows]


async def replace_tags(
    connection: asyncpg.Connection[Any],
    audit_id: UUID,
    organisation_id: UUID | None,
    question_id: str,
    theme_ids: list[UUID],
    user_id: UUID,
) -> None:
    """The passage's themes become ``theme_ids``."""
    await connection.execute(
        """
        DELETE FROM learning_tags
        WHERE audit_id = $1 AND organisation_id IS NOT DISTINCT FROM $2 AND question_id = $3
          AND NOT (theme_id = ANY($4::uuid[]))
        """,
        audit_id,
        organisation_id,
        question_id,
        theme_ids,
    )
    await connection.executemany(
        """
        INSERT INTO learning_tags (audit_id, organisation_id, question_id, theme_id, tagged_by)
        VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING
        """,
        [(audit_id, organisation_id, question_id, t, user_id) for t in theme_ids],
    )


async def theme_counts(
    connection: asyncpg.Connection[Any], partnership_id: UUID, *, programme_id: UUID | None = None
) -> list[ThemeCountRow]:
    """Each theme of the partnership with how many passages and audits are
    tagged with it (a programme's only, when given): per theme, one scan of
    the (theme, audit) index in audit order, so an audit is counted once
    without sorting the tags (sorting 53,020 tags of 100,000 audits on disk
    was most of a 250 ms count)."""
    rows = await connection.fetch(
        """
        SELECT t.id AS theme_id, t.name, c.passages, c.audits
          FROM learning_themes t
          CROSS JOIN LATERAL (
                SELECT coalesce(sum(per_audit.n), 0)::int AS passages, count(*)::int AS audits
                  FROM (SELECT g.audit_id, count(*) AS n
                          FROM learning_tags g
                         WHERE g.theme_id = t.id
                           AND ($2::uuid IS NULL
                                OR g.audit_id IN (SELECT a.id FROM audits a WHERE a.programme_id = $2))
                         GROUP BY g.audit_id) per_audit) c
         WHERE t.partnership_id = $1
         ORDER BY c.passages DESC, t.name
        """,
        partnership_id,
        programme_id,
    )
    return [msgspec.convert(dict(r), ThemeCountRow) for r in rows]


class TaggedPassageRow(msgspec.Struct, frozen=True, kw_only=True):
    """A passage tagged with a theme, with what showing it needs: its
    audit's toolkit and case details (for the case reference), its
    organisation's name, the words tagged, and every theme it carries."""

    audit_id: UUID
    organisation_id: UUID | None  # None: the panel's record
    question_id: str
    toolkit_id: str
    toolkit_version: int
    local_toolkit_version_id: UUID | None
    case_details: dict[str, Any]
    referring_organisation_id: UUID | None
    organisation_name: str | None
    words: str | None  # the answer's words, or the panel's agreed narrative; None when gone
    theme_ids: list[UUID]


async def tagged_passages(
    connection: asyncpg.Connection[Any],
    partnership_id: UUID,
    theme_id: UUID,
    *,
    programme_id: UUID | None = None,
    limit: int = 20,
) -> list[TaggedPassageRow]:
    """The passages most recently tagged with a theme (a programme's, when
    given), each with its audit, its submitted words and its themes: one
    statement for the lot. Reading each audit's contributions, panel
    record and tags in turn took four statements an audit (1.0 s at p95
    for 20 passages over 100,000 audits)."""
    rows = await connection.fetch(
        """
        WITH wanted AS (
            SELECT g.audit_id, g.organisation_id, g.question_id, g.tagged_at
              FROM learning_tags g
             WHERE g.theme_id = $2
               AND ($3::uuid IS NULL OR g.audit_id IN (SELECT a.id FROM audits a WHERE a.programme_id = $3))
             ORDER BY g.tagged_at DESC
             LIMIT $4
        )
        SELECT w.audit_id, w.organisation_id, w.question_id, a.toolkit_id, a.toolkit_version,
               a.local_toolkit_version_id, a.case_details, a.referring_organisation_id,
               o.name AS organisation_name,
               CASE WHEN w.organisation_id IS NULL THEN p.overall_narrative
                    WHEN jsonb_typeof(c.content -> 'answers' -> w.question_id -> 'value') = 'string'
                    THEN c.content -> 'answers' -> w.question_id ->> 'value' END AS words,
               ARRAY(SELECT t.theme_id FROM learning_tags t
                      WHERE t.audit_id = w.audit_id
                        AND coalesce(t.organisation_id, '00000000-0000-0000-0000-000000000000'::uuid)
                            = coalesce(w.organisation_id, '00000000-0000-0000-0000-000000000000'::uuid)
                        AND t.question_id = w.question_id
                      ORDER BY t.theme_id::text) AS theme_ids
          FROM wanted w
          JOIN audits a ON a.id = w.audit_id AND a.partnership_id = $1
          LEFT JOIN organisations o ON o.id = w.organisation_id
          LEFT JOIN contributions c
                 ON c.audit_id = w.audit_id AND c.organisation_id = w.organisation_id AND c.status = 'submitted'
          LEFT JOIN panel_records p ON p.audit_id = w.audit_id AND w.organisation_id IS NULL
         ORDER BY w.tagged_at DESC, w.audit_id, w.question_id
        """,
        partnership_id,
        theme_id,
        programme_id,
        limit,
    )
    return [msgspec.convert(_decoded(dict(r)), TaggedPassageRow) for r in rows]


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    # The pool decodes jsonb itself; a bare connection (benchmarks) hands
    # over text.
    if isinstance(row["case_details"], str):
        row["case_details"] = json.loads(row["case_details"])
    return row


class FoundContributionRow(msgspec.Struct, frozen=True, kw_only=True):
    audit_id: UUID
    organisation_id: UUID
    organisation_name: str
    content: dict[str, Any]


async def search_submitted(
    connection: asyncpg.Connection[Any],
    partnership_id: UUID,
    question_ids: list[str],
    words: str,
    *,
    programme_id: UUID | None = None,
    limit: int = 50,
) -> list[FoundContributionRow]:
    """Submitted contributions of the partnership (a programme's, when
    given) whose answer to one of ``question_ids`` holds ``words``."""
    pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = await connection.fetch(
        """
        SELECT c.audit_id, c.organisation_id, o.name AS organisation_name, c.content
          FROM contributions c
          JOIN audits a ON a.id = c.audit_id
          JOIN organisations o ON o.id = c.organisation_id
         WHERE a.partnership_id = $1 AND c.status = 'submitted'
           AND ($4::uuid IS NULL OR a.programme_id = $4)
           AND EXISTS (SELECT 1 FROM unnest($2::text[]) q
                        WHERE c.content -> 'answers' -> q ->> 'value' ILIKE $3)
         ORDER BY c.submitted_at DESC NULLS LAST
         LIMIT $5
        """,
        partnership_id,
        question_ids,
        pattern,
        programme_id,
        limit,
    )
    return [msgspec.convert(dict(r), FoundContributionRow) for r in rows]


async def report_audit_ids(
    connection: asyncpg.Connection[Any],
    partnership_id: UUID,
    *,
    programme_id: UUID | None,
    created_from: datetime.date | None,
    created_to: datetime.date | None,
    limit: int,
) -> list[UUID]:
    """The audits a learning report covers: a programme's, or those created
    in a period (both ends included), oldest first."""
    rows = await connection.fetch(
        """
        SELECT id FROM audits
         WHERE partnership_id = $1 AND status <> 'draft'
           AND ($2::uuid IS NULL OR programme_id = $2)
           AND ($3::date IS NULL OR created_at >= $3::date)
           AND ($4::date IS NULL OR created_at < $4::date + 1)
         ORDER BY created_at, id
         LIMIT $5
        """,
        partnership_id,
        programme_id,
        created_from,
        created_to,
        limit,
    )
    return [r["id"] for r in rows]
