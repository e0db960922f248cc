"""Audit programmes over HTTP (the rules: :mod:`server.audits.programmes`):
the partnership's themed rounds, their cases added one by one or from a CSV
file (every line or none, problems by line), and their progress."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from server.api.preconditions import IDEMPOTENCY_KEY, preconditions
from server.audits import programmes as steps
from server.audits.programmes import CaseLine, NewProgramme, ProgrammeRead
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
from server.platform.transactions import idempotent, json_response, unit_of_work


class ProgrammeView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    name: str
    focus: str | None
    period_start: datetime.date | None
    period_end: datetime.date | None
    toolkit_id: str
    selection_criteria: str | None
    agency_ids: list[UUID]  # the agencies expected to take part
    audits: int


class ProgrammeAuditView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    case_reference: str | None
    status: str
    agencies: int
    submitted: int


class AgencyProgressView(msgspec.Struct, frozen=True, kw_only=True):
    organisation_id: UUID
    organisation_name: str
    audits: int
    submitted: int


class ProgrammeProgress(msgspec.Struct, frozen=True, kw_only=True):
    programme: ProgrammeView
    audits_by_case: list[ProgrammeAuditView]
    agencies: list[AgencyProgressView]
    invited: int  # contributions asked for across the programme
    submitted: int


class NewCases(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    cases: list[CaseLine]


class AddedCases(msgspec.Struct, frozen=True, kw_only=True):
    audit_ids: list[UUID]


def _programme_view(row: Any) -> ProgrammeView:
    return ProgrammeView(
        id=row.id,
        name=row.name,
        focus=row.focus,
        period_start=row.period_start,
        period_end=row.period_end,
        toolkit_id=row.toolkit_id,
        selection_criteria=row.selection_criteria,
        agency_ids=row.agency_ids,
        audits=row.audits,
    )


def _progress(read: ProgrammeRead) -> ProgrammeProgress:
    return ProgrammeProgress(
        programme=_programme_view(read.programme),
        audits_by_case=[
            ProgrammeAuditView(
                id=a.id, case_reference=a.reference, status=a.status, agencies=a.agencies, submitted=a.submitted
            )
            for a in read.audits
        ],
        agencies=[
            AgencyProgressView(
                organisation_id=a.organisation_id,
                organisation_name=a.organisation_name,
                audits=a.audits,
                submitted=a.submitted,
            )
            for a in read.agencies
        ],
        invited=read.invited,
        submitted=read.submitted,
    )


class ProgrammeController(Controller):
    path = "/api/programmes"
    tags = ("programmes",)

    @get("/", summary="The partnership's audit programmes", opt=needs(Permission.PROGRAMME_READ))
    async def list_programmes(self, state: State, principal: NamedDependency[Principal]) -> list[ProgrammeView]:
        async with unit_of_work(state, principal) as connection:
            found = await steps.list_programmes(connection, principal)
        return [_programme_view(p) for p in found]

    @post(
        "/",
        summary="Set up an audit programme (coordinator, administrator)",
        status_code=201,
        opt=needs(Permission.PROGRAMME_MANAGE) | preconditions(IDEMPOTENCY_KEY),
    )
    async def create_programme(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        data: JSONBody[NewProgramme],
    ) -> Response[ProgrammeView]:
        async with unit_of_work(state, principal) as connection:

            async def write() -> Response[ProgrammeView]:
                created = await steps.create_programme(connection, principal, state.toolkits, data)
                return json_response(
                    _programme_view(created), status=201, headers={"Location": f"/api/programmes/{created.id}"}
                )

            return await idempotent(request, connection, principal, write)

    @get(
        "/{programme_id:uuid}",
        summary="A programme with its progress per audit and per agency",
        opt=needs(Permission.PROGRAMME_READ),
    )
    async def show_programme(
        self, state: State, principal: NamedDependency[Principal], programme_id: FromPath[UUID]
    ) -> ProgrammeProgress:
        async with unit_of_work(state, principal) as connection:
            read = await steps.read_programme(connection, principal, state.toolkits, programme_id)
        return _progress(read)

    @post(
        "/{programme_id:uuid}/cases",
        summary="Add cases to a programme, each a draft audit (coordinator): all of them or none, problems named",
        status_code=201,
        # Cases are audits: those who create audits (who also manage programmes).
        opt=needs(Permission.AUDIT_CREATE) | preconditions(IDEMPOTENCY_KEY),
    )
    async def add_cases(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        programme_id: FromPath[UUID],
        data: JSONBody[NewCases],
    ) -> Response[AddedCases]:
        async with unit_of_work(state, principal) as connection:

            async def write() -> Response[AddedCases]:
                created = await steps.add_cases(connection, principal, state.toolkits, programme_id, data.cases)
                return json_response(AddedCases(audit_ids=created), status=201)

            return await idempotent(request, connection, principal, write)

    @post(
        "/{programme_id:uuid}/cases.csv",
        summary="Import a programme's cases from CSV, case_reference,agencies (coordinator): every line or none",
        status_code=201,
        opt=needs(Permission.AUDIT_CREATE) | preconditions(IDEMPOTENCY_KEY),
    )
    async def import_cases(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        programme_id: FromPath[UUID],
    ) -> Response[AddedCases]:
        body = await request.body()
        async with unit_of_work(state, principal) as connection:

            async def write() -> Response[AddedCases]:
                created = await steps.import_cases_csv(connection, principal, state.toolkits, programme_id, body)
                return json_response(AddedCases(audit_ids=created), status=201)

            return await idempotent(request, connection, principal, write)


route_handlers: list[Any] = [ProgrammeController]
