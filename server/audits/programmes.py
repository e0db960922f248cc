"""Audit programmes: a partnership's themed rounds ("neglect, Q1").

DESIGN's cycle begins with a programme: a focus, a period, the toolkit, the
criteria cases were selected by and the agencies expected (seed 003: the
tool "can be customised e.g. to provide a specific focus"). Its cases are
added one by one or in bulk from a CSV file of case references and the
agencies involved: every line is checked and every problem reported by its
line number, and nothing is added unless every line is right (one
transaction), so a file is never half-imported. Each case becomes a draft
audit of the programme's toolkit, its case reference filled in, for the
coordinator to complete and distribute. Administrators and coordinators
set programmes up; cases are added by coordinators, who create audits. The programme then shows its
progress per audit and per agency, and filters the action plan.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass
from typing import Any, Final
from uuid import UUID

import asyncpg
import msgspec

from server.audits import events
from server.audits.audits import NewAudit, create_draft
from server.audits.catalogue import catalogue_of
from server.audits.checks import MAX_REASON
from server.audits.events import EventName
from server.audits.facts import audit_toolkit, case_details_of
from server.audits.views import case_reference, case_reference_question
from server.auth.permissions import Permission, require
from server.auth.principal import Principal
from server.db import audits, organisations, programmes
from server.db.programmes import AgencyProgressRow, ProgrammeRow
from server.platform.problems import Conflict, FieldError, InvalidInput, NotFound
from toolkits.answers import Answer, CaseDetails
from toolkits.registry import Registry

__all__ = [
    "CSV_HEADER",
    "MAX_CASES",
    "CaseLine",
    "NewProgramme",
    "ProgrammeAudit",
    "ProgrammeRead",
    "add_cases",
    "create_programme",
    "import_cases_csv",
    "list_programmes",
    "parse_cases_csv",
    "read_programme",
]

MAX_CASES: Final = 500
MAX_REFERENCE: Final = 100
CSV_HEADER: Final = ("case_reference", "agencies")


class NewProgramme(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str
    toolkit: str
    focus: str | None = None
    period_start: datetime.date | None = None
    period_end: datetime.date | None = None
    selection_criteria: str | None = None
    agencies: list[str] = msgspec.field(default_factory=list)  # organisation ids or codes


class CaseLine(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One case to add: its own reference and the agencies involved (ids or codes)."""

    case_reference: str
    agencies: list[str]
    line: int | None = None  # its line in the CSV file, when it came from one


def parse_cases_csv(text: str) -> tuple[list[CaseLine], list[FieldError]]:
    """The cases of a CSV file with the header ``case_reference,agencies``
    (agencies separated by ``;``), and every problem by line number."""
    errors: list[FieldError] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows = list(reader)
    if not rows or [c.strip().lower() for c in rows[0]] != list(CSV_HEADER):
        return [], [FieldError(field="$.csv", message="line 1: the header must be case_reference,agencies")]
    cases: list[CaseLine] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(CSV_HEADER):
            errors.append(
                FieldError(field=f"$.lines[{number}]", message=f"line {number}: has {len(row)} columns, not 2")
            )
            continue
        agencies = [a.strip() for a in row[1].split(";") if a.strip()]
        cases.append(CaseLine(case_reference=row[0].strip(), agencies=agencies, line=number))
    if len(cases) > MAX_CASES:
        errors.append(FieldError(field="$.csv", message=f"at most {MAX_CASES} cases in one file"))
    return cases, errors


def _where(case: CaseLine, index: int, part: str) -> tuple[str, str]:
    """(field, prefix of the message) for a problem with ``case``."""
    if case.line is not None:
        return f"$.lines[{case.line}].{part}", f"line {case.line}: "
    return f"$.cases[{index}].{part}", ""


async def _organisations(
    connection: asyncpg.Connection[Any], partnership_id: UUID, references: list[str]
) -> dict[str, UUID]:
    known = await audits.partnership_organisations(connection, partnership_id, references)
    return {reference: row.id for reference, row in known.items()}


async def create_programme(
    connection: asyncpg.Connection[Any], principal: Principal, registry: Registry, new: NewProgramme
) -> ProgrammeRow:
    """A new programme of the caller's partnership (coordinators,
    administrators); 422 naming every problem, 409 for a name in use."""
    require(principal, Permission.PROGRAMME_MANAGE)
    errors: list[FieldError] = []
    if not new.name.strip() or len(new.name) > 200:
        errors.append(FieldError(field="$.name", message="name the programme in 1 to 200 characters"))
    catalogue = await catalogue_of(connection, registry, principal.partnership_id)
    if new.toolkit not in catalogue.registry.ids() or not catalogue.offered(new.toolkit):
        errors.append(FieldError(field="$.toolkit", message="is not a toolkit your partnership offers"))
    for name in ("focus", "selection_criteria"):
        value = getattr(new, name)
        if value is not None and len(value) > MAX_REASON:
            errors.append(FieldError(field=f"$.{name}", message=f"is longer than {MAX_REASON} characters"))
    if new.period_start and new.period_end and new.period_start > new.period_end:
        errors.append(FieldError(field="$.period_end", message="must be on or after the start of the period"))
    known = await _organisations(connection, principal.partnership_id, new.agencies)
    errors += [
        FieldError(field=f"$.agencies[{i}]", message="is not an organisation of the partnership")
        for i, reference in enumerate(new.agencies)
        if reference not in known
    ]
    if errors:
        raise InvalidInput(errors=errors)
    created = await programmes.create(
        connection,
        partnership_id=principal.partnership_id,
        name=new.name.strip(),
        focus=(new.focus or "").strip() or None,
        period_start=new.period_start,
        period_end=new.period_end,
        toolkit_id=new.toolkit,
        selection_criteria=(new.selection_criteria or "").strip() or None,
        agency_ids=list(dict.fromkeys(known[r] for r in new.agencies)),
        user_id=principal.user_id,
    )
    if created is None:
        raise Conflict("your partnership has a programme of that name already")
    await events.record(connection, principal, EventName.PROGRAMME_CREATED, detail={"programme_id": str(created)})
    found = await programmes.get(connection, principal.partnership_id, created)
    assert found is not None
    return found


async def list_programmes(connection: asyncpg.Connection[Any], principal: Principal) -> list[ProgrammeRow]:
    require(principal, Permission.PROGRAMME_READ)
    return await programmes.of_partnership(connection, principal.partnership_id)


async def check_programme_filter(
    connection: asyncpg.Connection[Any], principal: Principal, programme_id: UUID | None
) -> None:
    """A programme named as a filter (themes, grades export) must be one of
    the caller's partnership: 422 naming ``programme`` otherwise."""
    if programme_id is not None and await programmes.get(connection, principal.partnership_id, programme_id) is None:
        raise InvalidInput(
            errors=[FieldError(field="programme", message="no programme of your partnership has this id")]
        )


async def _programme(connection: asyncpg.Connection[Any], principal: Principal, programme_id: UUID) -> ProgrammeRow:
    found = await programmes.get(connection, principal.partnership_id, programme_id)
    if found is None:
        raise NotFound("no such programme")
    return found


async def add_cases(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    programme_id: UUID,
    cases: list[CaseLine],
    *,
    problems: list[FieldError] | None = None,
) -> list[UUID]:
    """Add cases to the programme, each as a draft audit of its toolkit with
    its case reference and agencies; all of them or, if any line is wrong
    (``problems``: those found reading the file), none — 422 naming every
    problem by line. The new audits' ids, in order. Adding a case creates
    an audit, which a coordinator does (``audit:create``): an
    administrator sets programmes up but, as row-level security keeps
    them out of contributions, creates no audit."""
    require(principal, Permission.PROGRAMME_MANAGE)
    require(principal, Permission.AUDIT_CREATE)
    programme = await _programme(connection, principal, programme_id)
    errors = list(problems or [])
    catalogue = await catalogue_of(connection, registry, principal.partnership_id)
    toolkit = catalogue.registry.current(programme.toolkit_id)
    question = case_reference_question(toolkit)
    if question is None:
        raise Conflict(f"the toolkit {toolkit.title} asks no case reference; add its audits one by one")
    if not cases and not errors:
        errors.append(FieldError(field="$.cases", message="there are no cases to add"))
    taken = await programmes.case_references(connection, programme.id, question)
    known = await _organisations(
        connection, principal.partnership_id, sorted({a for case in cases for a in case.agencies})
    )
    seen: dict[str, int] = {}
    for index, case in enumerate(cases):
        reference = case.case_reference.strip()
        field, prefix = _where(case, index, "case_reference")
        if not reference or len(reference) > MAX_REFERENCE:
            errors.append(
                FieldError(field=field, message=f"{prefix}give the case reference in 1 to {MAX_REFERENCE} characters")
            )
        elif reference.casefold() in taken:
            errors.append(FieldError(field=field, message=f"{prefix}{reference} is in the programme already"))
        elif reference.casefold() in seen:
            errors.append(
                FieldError(
                    field=field, message=f"{prefix}{reference} is given twice (also line {seen[reference.casefold()]})"
                )
            )
        else:
            seen[reference.casefold()] = case.line or index
        field, prefix = _where(case, index, "agencies")
        if not case.agencies:
            errors.append(FieldError(field=field, message=f"{prefix}name at least one agency, by its code"))
        for agency in case.agencies:
            if agency not in known:
                errors.append(
                    FieldError(field=field, message=f"{prefix}{agency} is not an organisation of the partnership")
                )
    if errors:
        raise InvalidInput(errors=errors)
    created: list[UUID] = []
    for case in cases:
        audit = await create_draft(
            connection,
            principal,
            registry,
            NewAudit(
                toolkit=toolkit.id,
                participants=[str(known[a]) for a in case.agencies],
                case_details=CaseDetails(answers={question: Answer(value=case.case_reference.strip())}),
                period_start=programme.period_start,
                period_end=programme.period_end,
            ),
        )
        await programmes.assign(connection, audit.id, programme.id)
        created.append(audit.id)
    await events.record(
        connection,
        principal,
        EventName.PROGRAMME_CASES_ADDED,
        detail={"programme_id": str(programme.id), "audits": len(created)},
    )
    return created


async def import_cases_csv(
    connection: asyncpg.Connection[Any], principal: Principal, registry: Registry, programme_id: UUID, data: bytes
) -> list[UUID]:
    """Add the cases of a CSV file (:func:`parse_cases_csv`): every line or
    none, 422 naming every problem by its line."""
    require(principal, Permission.PROGRAMME_MANAGE)
    require(principal, Permission.AUDIT_CREATE)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(errors=[FieldError(field="$.csv", message="the file must be CSV in UTF-8")]) from None
    cases, problems = parse_cases_csv(text)
    return await add_cases(connection, principal, registry, programme_id, cases, problems=problems)


@dataclass(frozen=True, kw_only=True)
class ProgrammeAudit:
    id: UUID
    reference: str | None
    status: str
    agencies: int
    submitted: int


@dataclass(frozen=True, kw_only=True)
class ProgrammeRead:
    programme: ProgrammeRow
    audits: list[ProgrammeAudit]
    agencies: list[AgencyProgressRow]
    expected: dict[UUID, str]  # the agencies expected, by id: name

    @property
    def submitted(self) -> int:
        return sum(a.submitted for a in self.audits)

    @property
    def invited(self) -> int:
        return sum(a.agencies for a in self.audits)


async def read_programme(
    connection: asyncpg.Connection[Any], principal: Principal, registry: Registry, programme_id: UUID
) -> ProgrammeRead:
    """A programme with its progress, per audit and per agency; the read recorded."""
    require(principal, Permission.PROGRAMME_READ)
    programme = await _programme(connection, principal, programme_id)
    found = []
    for row in await programmes.audits_of(connection, programme.id):
        toolkit = await audit_toolkit(connection, registry, row)
        found.append(
            ProgrammeAudit(
                id=row.id,
                reference=case_reference(toolkit, case_details_of(row)),
                status=row.status,
                agencies=row.agencies,
                submitted=row.submitted,
            )
        )
    found.sort(key=lambda a: (a.reference is None, a.reference or "", str(a.id)))  # by case reference
    names = {o.id: o.name for o in await organisations.of_partnership(connection, principal.partnership_id)}
    await events.record(connection, principal, EventName.PROGRAMME_READ, detail={"programme_id": str(programme.id)})
    return ProgrammeRead(
        programme=programme,
        audits=found,
        agencies=await programmes.agency_progress(connection, programme.id),
        expected={i: names.get(i, "another organisation") for i in programme.agency_ids},
    )
