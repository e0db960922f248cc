"""Audits of a case and the organisations taking part in them."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from server.db import identity, plans


class AuditRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    partnership_id: UUID
    toolkit_id: str
    toolkit_version: int
    case_details: dict[str, Any]
    period_start: datetime.date | None
    period_end: datetime.date | None
    referring_organisation_id: UUID | None
    due_date: datetime.date | None
    status: str
    row_version: int
    created_by: UUID | None
    created_at: datetime.datetime
    updated_by: UUID | None
    updated_at: datetime.datetime
    # A partnership's own toolkit version the audit was created with (None:
    # the shipped version toolkit_version), and the merge policy the
    # partnership had chosen for the toolkit then (None: the definition's).
    local_toolkit_version_id: UUID | None = None
    merge_policy: str | None = None
    # The edition of the judgement rules the audit is judged by (migration 0010).
    judgement_rules: int = 1
    # The coordinator's reference for the audit (migration 0018; None for
    # audits made before it, until a coordinator gives them one).
    reference: str | None = None
    # (an organisation, whether it currently takes part), when :func:`get`
    # was asked about it in the same read; None otherwise.
    participation: tuple[UUID, bool] | None = None
    # That organisation's agency kind as it was when it was added to the
    # audit (an administrator may have corrected its kind since), if it
    # ever took part.
    participant_kind: str | None = None


class ParticipantRow(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation taking part in an audit, with its contribution's state."""

    organisation_id: UUID
    organisation_code: str
    organisation_name: str
    agency_kind: str
    added_at: datetime.datetime
    removed_at: datetime.datetime | None
    removal_reason: str | None
    contribution_status: str
    answered: int
    submitted_at: datetime.datetime | None
    updated_at: datetime.datetime
    # The sections its contribution marks "not involved at this stage":
    # they ask it nothing, so its progress leaves them out.
    not_involved: list[str] = []


class OrganisationRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    code: str
    name: str
    agency_kind: str


class AuditListRow(msgspec.Struct, frozen=True, kw_only=True):
    """An audit as a list shows it, with its participants counted."""

    id: UUID
    toolkit_id: str
    toolkit_version: int
    status: str
    case_details: dict[str, Any]
    referring_organisation_id: UUID | None
    due_date: datetime.date | None
    period_start: datetime.date | None
    period_end: datetime.date | None
    participants: int
    submitted: int
    # The status of the listing organisation's own contribution, when the
    # list is of one organisation's audits (None otherwise).
    own_status: str | None
    row_version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    local_toolkit_version_id: UUID | None = None
    reference: str | None = None


_AUDIT_COLUMNS = """
    id, partnership_id, toolkit_id, toolkit_version, case_details, period_start, period_end,
    referring_organisation_id, due_date, status, row_version, created_by, created_at, updated_by, updated_at,
    local_toolkit_version_id, merge_policy, judgement_rules, reference
"""


def _audit(row: asyncpg.Record | None) -> AuditRow | None:
    return None if row is None else msgspec.convert(dict(row), AuditRow)


async def create(
    connection: asyncpg.Connection[Any],
    *,
    partnership_id: UUID,
    toolkit_id: str,
    toolkit_version: int,
    case_details: dict[str, Any],
    period_start: datetime.date | None,
    period_end: datetime.date | None,
    referring_organisation_id: UUID | None,
    due_date: datetime.date | None,
    judgement_rules: int,
    user_id: UUID,
    local_toolkit_version_id: UUID | None = None,
    merge_policy: str | None = None,
    reference: str | None = None,
) -> AuditRow:
    row = await connection.fetchrow(
        f"""
        INSERT INTO audits (partnership_id, toolkit_id, toolkit_version, case_details, period_start, period_end,
                            referring_organisation_id, due_date, created_by, updated_by, local_toolkit_version_id,
                            merge_policy, judgement_rules, reference)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13)
        RETURNING {_AUDIT_COLUMNS}
        """,  # noqa: S608 - a constant column list, no input
        partnership_id,
        toolkit_id,
        toolkit_version,
        case_details,
        period_start,
        period_end,
        referring_organisation_id,
        due_date,
        user_id,
        local_toolkit_version_id,
        merge_policy,
        judgement_rules,
        reference,
    )
    audit = _audit(row)
    assert audit is not None
    return audit


async def get(
    connection: asyncpg.Connection[Any],
    audit_id: UUID,
    *,
    for_update: bool = False,
    participant: UUID | None = None,
) -> AuditRow | None:
    """The audit; with ``participant``, also whether that organisation
    currently takes part (``AuditRow.participation``), in the same round trip.
    A transaction opened to set who is asking with its first statement
    (``identity.seal_for_first_statement``) sets it with this read
    (``maca_open_audit``, migration 0021): a round trip fewer."""
    lock = " FOR UPDATE OF audits" if for_update else ""
    sealed = None if for_update else identity.pending_seal(connection)
    if sealed is not None:
        row = await connection.fetchrow("SELECT * FROM maca_open_audit($1, $2, $3)", sealed, audit_id, participant)
    else:
        # A lock is taken by the plain statement, after the seal's own.
        await identity.declare_pending(connection)
        if participant is None:
            plain = f"SELECT {_AUDIT_COLUMNS} FROM audits WHERE id = $1{lock}"  # noqa: S608 - constant columns and lock
            return _audit(await connection.fetchrow(plain, audit_id))
        row = await connection.fetchrow(
            f"""
            SELECT {_AUDIT_COLUMNS}, p.removed_at IS NULL AND p.audit_id IS NOT NULL AS participates,
                   p.agency_kind AS participant_kind
              FROM audits
              LEFT JOIN audit_participants p ON p.audit_id = audits.id AND p.organisation_id = $2
             WHERE audits.id = $1{lock}
            """,  # noqa: S608 - a constant column list and lock clause, no input
            audit_id,
            participant,
        )
    if row is None:
        return None
    fields = dict(row)
    participates = bool(fields.pop("participates"))
    if participant is None:  # maca_open_audit's row, asked for no one's participation
        fields.pop("participant_kind")
        return msgspec.convert(fields, AuditRow)
    return msgspec.convert({**fields, "participation": (participant, participates)}, AuditRow)


async def update(
    connection: asyncpg.Connection[Any],
    audit_id: UUID,
    row_version: int,
    *,
    case_details: dict[str, Any],
    period_start: datetime.date | None,
    period_end: datetime.date | None,
    referring_organisation_id: UUID | None,
    due_date: datetime.date | None,
    status: str,
    user_id: UUID,
    reference: str | None,
) -> AuditRow | None:
    """Write the audit's fields if nobody changed it since ``row_version``;
    ``None`` when someone did (or it does not exist)."""
    row = await connection.fetchrow(
        f"""
        UPDATE audits
        SET case_details = $3, period_start = $4, period_end = $5, referring_organisation_id = $6,
            due_date = $7, status = $8, updated_by = $9, updated_at = now(), row_version = row_version + 1,
            reference = $10
        WHERE id = $1 AND row_version = $2
        RETURNING {_AUDIT_COLUMNS}
        """,  # noqa: S608
        audit_id,
        row_version,
        case_details,
        period_start,
        period_end,
        referring_organisation_id,
        due_date,
        status,
        user_id,
        reference,
    )
    return _audit(row)


async def touch(connection: asyncpg.Connection[Any], audit_id: UUID, user_id: UUID) -> None:
    """A change to a part of the audit (a participant) changes its version."""
    await connection.execute(
        "UPDATE audits SET row_version = row_version + 1, updated_by = $2, updated_at = now() WHERE id = $1",
        audit_id,
        user_id,
    )


async def participants(connection: asyncpg.Connection[Any], audit_id: UUID) -> list[ParticipantRow]:
    """Every organisation ever added to the audit, removed ones included."""
    rows = await connection.fetch(
        """
        SELECT o.id AS organisation_id, o.code AS organisation_code, o.name AS organisation_name, p.agency_kind,
               p.added_at, p.removed_at, p.removal_reason,
               coalesce(c.status, 'not-started') AS contribution_status, coalesce(c.answered, 0) AS answered,
               c.submitted_at, coalesce(c.updated_at, p.added_at) AS updated_at,
               ARRAY(SELECT jsonb_object_keys(coalesce(c.content -> 'not_involved', '{}'::jsonb))) AS not_involved
        FROM audit_participants p
        JOIN organisations o ON o.id = p.organisation_id
        LEFT JOIN contributions c ON c.audit_id = p.audit_id AND c.organisation_id = p.organisation_id
        WHERE p.audit_id = $1
        ORDER BY o.name, o.code
        """,
        audit_id,
    )
    return [msgspec.convert(dict(row), ParticipantRow) for row in rows]


async def participants_of(
    connection: asyncpg.Connection[Any], audit_ids: Sequence[UUID]
) -> dict[UUID, list[ParticipantRow]]:
    """The organisations currently taking part in each of the audits, in
    one statement (a list page's progress column)."""
    rows = await connection.fetch(
        """
        SELECT p.audit_id, o.id AS organisation_id, o.code AS organisation_code, o.name AS organisation_name,
               p.agency_kind, p.added_at, p.removed_at, p.removal_reason,
               coalesce(c.status, 'not-started') AS contribution_status, coalesce(c.answered, 0) AS answered,
               c.submitted_at, coalesce(c.updated_at, p.added_at) AS updated_at,
               ARRAY(SELECT jsonb_object_keys(coalesce(c.content -> 'not_involved', '{}'::jsonb))) AS not_involved
        FROM audit_participants p
        JOIN organisations o ON o.id = p.organisation_id
        LEFT JOIN contributions c ON c.audit_id = p.audit_id AND c.organisation_id = p.organisation_id
        WHERE p.audit_id = ANY($1::uuid[]) AND p.removed_at IS NULL
        ORDER BY p.audit_id, o.name, o.code
        """,
        list(audit_ids),
    )
    found: dict[UUID, list[ParticipantRow]] = {audit_id: [] for audit_id in audit_ids}
    for row in rows:
        fields = dict(row)
        found[fields.pop("audit_id")].append(msgspec.convert(fields, ParticipantRow))
    return found


async def is_participant(connection: asyncpg.Connection[Any], audit_id: UUID, organisation_id: UUID) -> bool:
    return bool(
        await connection.fetchval(
            """
            SELECT EXISTS (SELECT 1 FROM audit_participants
                           WHERE audit_id = $1 AND organisation_id = $2 AND removed_at IS NULL)
            """,
            audit_id,
            organisation_id,
        )
    )


async def add_participant(
    connection: asyncpg.Connection[Any], audit_id: UUID, organisation_id: UUID, user_id: UUID
) -> None:
    """Add an organisation (again, if it was removed) and its empty contribution."""
    await connection.execute(
        """
        INSERT INTO audit_participants (audit_id, organisation_id, added_by)
        VALUES ($1, $2, $3)
        ON CONFLICT (audit_id, organisation_id) DO UPDATE
        SET removed_at = NULL, removed_by = NULL, removal_reason = NULL, added_by = $3, added_at = now()
        """,
        audit_id,
        organisation_id,
        user_id,
    )
    await connection.execute(
        """
        INSERT INTO contributions (audit_id, organisation_id, updated_by) VALUES ($1, $2, $3)
        ON CONFLICT (audit_id, organisation_id) DO NOTHING
        """,
        audit_id,
        organisation_id,
        user_id,
    )


async def remove_participant(
    connection: asyncpg.Connection[Any], audit_id: UUID, organisation_id: UUID, user_id: UUID, reason: str
) -> bool:
    """Remove an organisation from the audit; its contribution is kept."""
    result = await connection.execute(
        """
        UPDATE audit_participants SET removed_at = now(), removed_by = $3, removal_reason = $4
        WHERE audit_id = $1 AND organisation_id = $2 AND removed_at IS NULL
        """,
        audit_id,
        organisation_id,
        user_id,
        reason,
    )
    return result.endswith(" 1")


async def participant_kind(connection: asyncpg.Connection[Any], audit_id: UUID, organisation_id: UUID) -> str | None:
    """The agency kind ``organisation_id`` takes part in the audit as (as
    it was when it was added), if it ever took part."""
    kind: str | None = await connection.fetchval(
        "SELECT agency_kind FROM audit_participants WHERE audit_id = $1 AND organisation_id = $2",
        audit_id,
        organisation_id,
    )
    return kind


async def any_contribution_started(connection: asyncpg.Connection[Any], audit_id: UUID) -> bool:
    return bool(
        await connection.fetchval(
            "SELECT EXISTS (SELECT 1 FROM contributions WHERE audit_id = $1 AND status <> 'not-started')",
            audit_id,
        )
    )


async def organisations_of_partnership(
    connection: asyncpg.Connection[Any], partnership_id: UUID
) -> list[OrganisationRow]:
    """Every active organisation of the partnership, by name: the agencies a
    coordinator can invite to an audit."""
    rows = await connection.fetch(
        "SELECT id, code, name, agency_kind FROM organisations WHERE partnership_id = $1 AND active "
        "ORDER BY name, code",
        partnership_id,
    )
    return [msgspec.convert(dict(row), OrganisationRow) for row in rows]


async def partnership_organisations(
    connection: asyncpg.Connection[Any], partnership_id: UUID, references: list[str]
) -> dict[str, OrganisationRow]:
    """Organisations of the partnership named by id or code, by the reference used."""
    ids: list[UUID] = []
    for reference in references:
        try:
            ids.append(UUID(reference))
        except ValueError:
            continue
    rows = await connection.fetch(
        """
        SELECT id, code, name, agency_kind FROM organisations
        WHERE partnership_id = $1 AND (code = ANY($2::text[]) OR id = ANY($3::uuid[]))
        """,
        partnership_id,
        references,
        ids,
    )
    found: dict[str, OrganisationRow] = {}
    for row in rows:
        organisation = msgspec.convert(dict(row), OrganisationRow)
        for reference in references:
            if reference in (organisation.code, str(organisation.id)):
                found[reference] = organisation
    return found


# Which audits a list holds: $1 the partnership; $2 one organisation's own
# audits (distributed ones it takes part in); $3 a status; $4 a toolkit;
# $5 due before; $6 overdue on; $7 words of the reference (the
# coordinator's, or the case identifier the toolkit collected); $8 an
# agency taking part. (A programme filter goes here, beside the agency's.)
_LIST_FILTER = """
        a.partnership_id = $1
          AND ($2::uuid IS NULL OR (a.status <> 'draft' AND a.taking_part @> ARRAY[$2::uuid]))
          AND ($3::text IS NULL OR a.status = $3)
          AND ($4::text IS NULL OR a.toolkit_id = $4)
          AND ($5::date IS NULL OR a.due_date < $5)
          AND ($6::date IS NULL OR (a.due_date < $6 AND a.status IN ('draft', 'open')))
          AND ($7::text IS NULL OR strpos(lower(concat_ws(' ', a.reference,
                a.case_details #>> '{answers,case-identifier,value}', a.case_details #>> '{answers,case-id,value}',
                a.case_details #>> '{answers,cf-ecins-id,value}')), lower($7)) > 0)
          AND ($8::uuid IS NULL OR a.taking_part @> ARRAY[$8::uuid])
          AND ($9::uuid IS NULL OR a.programme_id = $9)
"""


async def list_audits(
    connection: asyncpg.Connection[Any],
    *,
    partnership_id: UUID,
    organisation_id: UUID | None,
    status: str | None,
    toolkit_id: str | None,
    due_before: datetime.date | None,
    overdue_on: datetime.date | None,
    limit: int,
    offset: int,
    programme_id: UUID | None = None,
    search: str | None = None,
    agency_id: UUID | None = None,
) -> tuple[list[AuditListRow], int]:
    """A page of the partnership's audits, soonest due first, and how many
    match in all: one statement, whatever the page's length (a second only
    to count the matches when asked for a page past the last).
    ``organisation_id``: only audits it takes part in (and that have been
    distributed), with its own contribution's status. ``overdue_on``: due
    before that day and not yet in review or closed. ``search``: the
    reference contains these characters (any case). ``agency_id``: only
    audits that agency takes part in now. ``programme_id``: only the audits
    of that programme (the partial index audits_programme).

    What it costs (migration 0020): the page is cut by walking an index in
    the list's order (audits_partnership_list, or with a status
    audits_partnership_status_list) until it is full, not by sorting every
    match. A list filtered by nothing but its status (the coordinator's
    list, its status tabs) takes its total from the partnership's counts
    per status, kept by triggers (audit_counts): the partnership's whole
    count, which is what its overseers see, the only callers without an
    organisation. Any other filter reads and counts every match before it
    sorts the page from them, which grows with the matches: an
    organisation's own list with its participations (found through
    audits_taking_part), a search or a toolkit with the partnership's
    audits."""
    await plans.plan_for_the_values_given(connection)
    filters = (
        partnership_id, organisation_id, status, toolkit_id, due_before, overdue_on, search, agency_id, programme_id
    )  # fmt: skip
    kept = organisation_id is None and all(
        value is None for value in (toolkit_id, due_before, overdue_on, search, agency_id, programme_id)
    )
    # The per-audit counts are read for the page's rows only, after it is chosen.
    rows = await connection.fetch(
        f"""
        WITH {_KEPT_PAGE if kept else _COUNTED_PAGE}
        SELECT a.id, a.toolkit_id, a.toolkit_version, a.local_toolkit_version_id, a.status, a.case_details,
               a.referring_organisation_id, a.reference,
               a.due_date, a.period_start, a.period_end, a.row_version, a.created_at, a.updated_at,
               (SELECT count(*) FROM audit_participants p
                 WHERE p.audit_id = a.id AND p.removed_at IS NULL) AS participants,
               (SELECT count(*) FROM contributions c JOIN audit_participants p
                   ON p.audit_id = c.audit_id AND p.organisation_id = c.organisation_id AND p.removed_at IS NULL
                 WHERE c.audit_id = a.id AND c.status = 'submitted') AS submitted,
               (SELECT c.status FROM contributions c
                 WHERE c.audit_id = a.id AND c.organisation_id = $2) AS own_status,
               {_KEPT_TOTAL if kept else "page.total"} AS total
        FROM page JOIN audits a ON a.id = page.id
        ORDER BY a.due_date NULLS LAST, a.created_at, a.id
        """,  # noqa: S608 - a constant filter and count, no input
        *filters,
        limit,
        offset,
    )
    found_total = int(rows[0]["total"]) if rows else 0
    if not rows and offset > 0:
        if kept:
            counted = await connection.fetchval(f"SELECT {_KEPT_TOTAL}", *filters)
        else:
            counted = await connection.fetchval(
                f"SELECT count(*) FROM audits a WHERE {_LIST_FILTER}",  # noqa: S608 - a constant filter
                *filters,
            )
        found_total = int(counted)
    found = [msgspec.convert({k: v for k, v in dict(row).items() if k != "total"}, AuditListRow) for row in rows]
    return found, found_total


# The page, cut by walking audits_partnership_list (or, with a status,
# audits_partnership_status_list) until it is full: flat.
_KEPT_PAGE = f"""page AS (
            SELECT a.id
              FROM audits a
             WHERE {_LIST_FILTER}
             ORDER BY a.due_date NULLS LAST, a.created_at, a.id
             LIMIT $10 OFFSET $11
        )"""  # noqa: S608 - a constant filter

# Every match is counted, so every match is read first, by whatever scan
# finds them cheapest, then the page sorted from them: walking the index in
# the list's order instead (which PostgreSQL chooses for a LIMIT, not seeing
# that count(*) OVER () reads every match) visited each match's row one by
# one, 101,826 buffers for a search over 100,000 audits against 10,878.
_COUNTED_PAGE = f"""matches AS MATERIALIZED (
            SELECT a.id, a.due_date, a.created_at
              FROM audits a
             WHERE {_LIST_FILTER}
        ), page AS (
            SELECT m.id, (SELECT count(*) FROM matches) AS total
              FROM matches m
             ORDER BY m.due_date NULLS LAST, m.created_at, m.id
             LIMIT $10 OFFSET $11
        )"""  # noqa: S608 - a constant filter

# The partnership's audits ($1) of a status ($3; every status when NULL),
# from the counts the triggers of migration 0020 keep: at most four rows.
# The other parameters of _LIST_FILTER are NULL whenever it is used.
_KEPT_TOTAL = """(SELECT coalesce(sum(k.audits), 0) FROM audit_counts k
                   WHERE k.partnership_id = $1 AND ($3::text IS NULL OR k.status = $3)
                     AND $2::uuid IS NULL AND $4::text IS NULL AND $5::date IS NULL AND $6::date IS NULL
                     AND $7::text IS NULL AND $8::uuid IS NULL AND $9::uuid IS NULL)"""


async def all_submitted(connection: asyncpg.Connection[Any], audit_id: UUID) -> bool:
    """Whether every organisation taking part has submitted (at least one
    takes part). Counted by a function that sees every participant's status
    only, whoever asks (an agency's transaction sees only its own
    contribution: row-level security)."""
    return bool(await connection.fetchval("SELECT maca_all_submitted($1)", audit_id))
