"""Remedial actions agreed on an audit over HTTP (the rules:
:mod:`server.audits.actions`).

Coordinators and reviewers set actions; the organisation responsible for
one (its auditors) records progress on it; a coordinator may change any.
An action not completed by its due date is flagged overdue.
"""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from server.api.preconditions import IDEMPOTENCY_KEY, IF_MATCH, preconditions
from server.audits import actions as steps
from server.audits.actions import COORDINATOR_FIELDS, PROGRESS_FIELDS
from server.audits.views import ActionView, action_view
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
from server.platform.transactions import etag, expected_version, idempotent, json_response, unit_of_work


class NewAction(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    action: str
    who: str | None = None
    timescale: str | None = None
    responsible_organisation_id: UUID | None = None
    due_date: datetime.date | None = None


class ActionChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Absent fields stay as they are; what the action is and who owns it
    only a coordinator changes. Progress (date reviewed, completed,
    comments) is refused here, naming the field: it is recorded with
    ``POST /api/actions/{id}/updates``, which keeps every update."""

    action: str | msgspec.UnsetType = msgspec.UNSET
    who: str | msgspec.UnsetType | None = msgspec.UNSET
    timescale: str | msgspec.UnsetType | None = msgspec.UNSET
    responsible_organisation_id: UUID | msgspec.UnsetType | None = msgspec.UNSET
    due_date: datetime.date | msgspec.UnsetType | None = msgspec.UNSET
    date_reviewed: datetime.date | msgspec.UnsetType | None = msgspec.UNSET
    completed: bool | msgspec.UnsetType = msgspec.UNSET
    comments: str | msgspec.UnsetType | None = msgspec.UNSET
    initials: str | msgspec.UnsetType | None = msgspec.UNSET


class ActionController(Controller):
    path = "/api/audits/{audit_id:uuid}/actions"
    tags = ("remedial actions",)

    @get("/", summary="An audit's remedial actions (yours only, for an auditor)", opt=needs(Permission.ACTION_READ))
    async def list_actions(
        self, state: State, principal: NamedDependency[Principal], audit_id: FromPath[UUID]
    ) -> list[ActionView]:
        async with unit_of_work(state, principal) as connection:
            found = await steps.list_actions(connection, principal, audit_id)
        return [action_view(a) for a in found]

    @post(
        "/",
        summary="Agree a remedial action (coordinator, reviewer)",
        status_code=201,
        opt=needs(Permission.ACTION_AGREE) | preconditions(IDEMPOTENCY_KEY),
    )
    async def create_action(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        data: JSONBody[NewAction],
    ) -> Response[ActionView]:
        async with unit_of_work(state, principal) as connection:

            async def write() -> Response[ActionView]:
                created = await steps.agree_action(
                    connection,
                    principal,
                    audit_id,
                    action=data.action,
                    who=data.who,
                    timescale=data.timescale,
                    responsible_organisation_id=data.responsible_organisation_id,
                    due_date=data.due_date,
                )
                return json_response(
                    action_view(created),
                    status=201,
                    headers={
                        "ETag": etag(created.row_version),
                        "Location": f"/api/audits/{created.audit_id}/actions/{created.id}",
                    },
                )

            return await idempotent(request, connection, principal, write)

    # Those who record progress reach the route (a reviewer does not); which
    # action each may change, and which of its fields, is the step's
    # (action:change any field of any action; action:progress the progress
    # of an action one's organisation is responsible for, else 404).
    @patch(
        "/{action_id:uuid}",
        summary="Change what a remedial action is and who owns it (coordinator)",
        opt=needs(Permission.ACTION_PROGRESS) | preconditions(IF_MATCH),
    )
    async def change_action(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        action_id: FromPath[UUID],
        data: JSONBody[ActionChanges],
    ) -> Response[ActionView]:
        expected = expected_version(request)
        given = {
            name: getattr(data, name)
            for name in (*COORDINATOR_FIELDS, *PROGRESS_FIELDS)
            if not isinstance(getattr(data, name), msgspec.UnsetType)
        }
        async with unit_of_work(state, principal) as connection:
            updated = await steps.change_action(
                connection, principal, audit_id, action_id, given, seen_version=expected
            )
        return json_response(action_view(updated), headers={"ETag": etag(updated.row_version)})


route_handlers: list[Any] = [ActionController]
