"""Audits over HTTP: the coordinator creates, corrects, distributes and
closes them; auditors read the ones their organisation takes part in;
reviewers follow progress and the event log.

Each handler parses the request, calls one step of
:mod:`server.audits.audits` (who may see what is decided there) and shapes
the answer: the ETag of the audit's version, ``Idempotency-Key`` replays.
"""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter

from server.api.preconditions import IDEMPOTENCY_KEY, IF_MATCH, preconditions
from server.audits import audits as steps
from server.audits.audits import AuditChanges, AuditStatus, NewAudit
from server.audits.views import AuditListItem, AuditPage, AuditView, EventView, ProgressView
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
from server.platform.transactions import etag, expected_version, idempotent, json_response, unit_of_work

__all__ = ["AuditChanges", "AuditController", "NewAudit", "StatusChange", "route_handlers"]

# The largest number a PostgreSQL bigint holds (offsets, event ids).
MAX_BIGINT = 2**63 - 1


class StatusChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    status: AuditStatus
    reason: str | None = None
    # Closing with something outstanding (the audit's ``outstanding``, or
    # the 422 that lists it) needs this and a reason.
    confirm_outstanding: bool = False


def audit_headers(row_version: int) -> dict[str, str]:
    return {"ETag": etag(row_version)}


class AuditController(Controller):
    path = "/api/audits"
    tags = ("audits",)

    @post(
        "/",
        summary="Create an audit of a case (coordinator)",
        status_code=201,
        opt=needs(Permission.AUDIT_CREATE) | preconditions(IDEMPOTENCY_KEY),
    )
    async def create_audit(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        data: JSONBody[NewAudit],
    ) -> Response[AuditView]:
        async with unit_of_work(state, principal) as connection:

            async def write() -> Response[AuditView]:
                audit = await steps.create_audit(connection, principal, state.toolkits, data)
                read = await steps.view_of(connection, principal, state.toolkits, audit)
                return json_response(
                    read.view(),
                    status=201,
                    headers={**audit_headers(audit.row_version), "Location": f"/api/audits/{audit.id}"},
                )

            return await idempotent(request, connection, principal, write)

    @get("/", summary="Audits you may see, soonest due first", opt=needs(Permission.AUDIT_READ))
    async def list_audits(
        self,
        state: State,
        principal: NamedDependency[Principal],
        status: FromQuery[AuditStatus | None] = None,
        toolkit: FromQuery[str | None] = None,
        due_before: FromQuery[datetime.date | None] = None,
        overdue: FromQuery[bool] = False,
        programme: FromQuery[UUID | None] = None,
        limit: int = Parameter(default=20, ge=1, le=100),
        # Bounded by PostgreSQL's bigint: a larger number was a 500.
        offset: int = Parameter(default=0, ge=0, le=MAX_BIGINT),
    ) -> AuditPage:
        async with unit_of_work(state, principal, identity_with_first_statement=True) as connection:
            found, total = await steps.list_audits(
                connection,
                principal,
                state.toolkits,
                status=status,
                toolkit_id=toolkit,
                due_before=due_before,
                overdue=overdue,
                limit=limit,
                offset=offset,
                programme_id=programme,
            )
        return AuditPage(audits=[AuditListItem.of(a) for a in found], total=total, limit=limit, offset=offset)

    @get(
        "/{audit_id:uuid}",
        summary="An audit: case details and, for an auditor, what their agency answers",
        opt=needs(Permission.AUDIT_READ),
    )
    async def show_audit(
        self, state: State, principal: NamedDependency[Principal], audit_id: FromPath[UUID]
    ) -> Response[AuditView]:
        async with unit_of_work(state, principal, identity_with_first_statement=True) as connection:
            read = await steps.read_audit(connection, principal, state.toolkits, audit_id)
        return json_response(read.view(), headers=audit_headers(read.audit.row_version))

    @patch(
        "/{audit_id:uuid}",
        summary="Correct an audit: case details, participants, dates (coordinator)",
        opt=needs(Permission.AUDIT_EDIT) | preconditions(IF_MATCH),
    )
    async def change_audit(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        data: JSONBody[AuditChanges],
    ) -> Response[AuditView]:
        expected = expected_version(request)
        async with unit_of_work(state, principal) as connection:
            updated = await steps.change_audit(
                connection, principal, state.toolkits, audit_id, data, seen_version=expected
            )
            read = await steps.view_of(connection, principal, state.toolkits, updated)
        return json_response(read.view(), headers=audit_headers(updated.row_version))

    # 200, not POST's default 201: it changes the audit, creating nothing
    # (the OpenAPI document said 201 while Maca answered 200).
    @post(
        "/{audit_id:uuid}/status",
        summary="Move an audit on: distribute, review, close, reopen (coordinator)",
        status_code=200,
        opt=needs(Permission.AUDIT_MOVE) | preconditions(IF_MATCH, IDEMPOTENCY_KEY),
    )
    async def change_status(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        data: JSONBody[StatusChange],
    ) -> Response[AuditView]:
        expected = expected_version(request)
        async with unit_of_work(state, principal) as connection:

            async def write() -> Response[AuditView]:
                updated = await steps.move_audit(
                    connection,
                    principal,
                    state.toolkits,
                    audit_id,
                    data.status,
                    data.reason,
                    seen_version=expected,
                    confirm_outstanding=data.confirm_outstanding,
                )
                read = await steps.view_of(connection, principal, state.toolkits, updated)
                return json_response(read.view(), headers=audit_headers(updated.row_version))

            return await idempotent(request, connection, principal, write)

    @get(
        "/{audit_id:uuid}/progress",
        summary="Who has done what on an audit (coordinator, reviewer)",
        opt=needs(Permission.PARTNERSHIP_OVERSEE),
    )
    async def progress(
        self, state: State, principal: NamedDependency[Principal], audit_id: FromPath[UUID]
    ) -> ProgressView:
        async with unit_of_work(state, principal) as connection:
            return await steps.read_progress(connection, principal, state.toolkits, audit_id)

    @get(
        "/{audit_id:uuid}/events",
        summary="What happened to an audit, oldest first (coordinator, reviewer)",
        opt=needs(Permission.PARTNERSHIP_OVERSEE),
    )
    async def audit_events(
        self,
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        after: int = Parameter(default=0, ge=0, le=MAX_BIGINT, description="only events after this event id"),
        limit: int = Parameter(default=100, ge=1, le=1000),
    ) -> list[EventView]:
        async with unit_of_work(state, principal) as connection:
            return await steps.read_events(connection, principal, audit_id, after=after, limit=limit)


route_handlers: list[Any] = [AuditController]
