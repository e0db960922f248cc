"""The partnership's action plan over HTTP (the rules:
:mod:`server.audits.action_plan`): every audit's actions in one list, one
action with its kept history, and recording progress as a new update.

Coordinators and reviewers see the whole plan; an agency's auditors (and
its systems) see the actions their organisation is responsible for and
record progress on them.
"""

from __future__ import annotations

import datetime
from typing import Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter

from server.api.preconditions import IDEMPOTENCY_KEY, IF_MATCH, preconditions
from server.audits import action_plan as steps
from server.audits.action_plan import ActionUpdateRow, PlannedAction
from server.audits.views import ActionView, action_view
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
from server.platform.transactions import etag, expected_version, idempotent, json_response, unit_of_work

ActionStatus = Literal["open", "in-progress", "completed", "not-taken-forward"]


class PlannedActionView(msgspec.Struct, frozen=True, kw_only=True):
    action: ActionView
    # the case's own reference (case identifier), never the child's initials
    case_reference: str | None
    organisation_name: str | None
    programme_id: UUID | None


class ActionPlanPage(msgspec.Struct, frozen=True, kw_only=True):
    actions: list[PlannedActionView]
    total: int
    limit: int
    offset: int
    # true for an agency's auditor: only the actions its organisation owns
    only_own: bool


class ActionUpdateView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    status: str
    date_reviewed: datetime.date
    comments: str
    evidence: str | None
    # the signed-in person who recorded it, and their organisation
    recorded_by: UUID
    recorded_by_name: str | None
    recorded_by_organisation_id: UUID | None
    recorded_by_organisation_name: str | None
    recorded_at: datetime.datetime


class ActionWithHistory(msgspec.Struct, frozen=True, kw_only=True):
    action: ActionView
    case_reference: str | None
    organisation_name: str | None
    programme_id: UUID | None
    updates: list[ActionUpdateView]  # oldest first, every one kept


class ProgressUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One review of an action. Who recorded it is the signed-in person:
    there is nothing to type for it."""

    status: ActionStatus
    date_reviewed: datetime.date
    comments: str
    evidence: str | None = None


def _planned_view(planned: PlannedAction) -> PlannedActionView:
    return PlannedActionView(
        action=action_view(planned.action),
        case_reference=planned.reference,
        organisation_name=planned.organisation_name,
        programme_id=planned.programme_id,
    )


def _update_view(update: ActionUpdateRow) -> ActionUpdateView:
    return ActionUpdateView(
        id=update.id,
        status=update.status,
        date_reviewed=update.date_reviewed,
        comments=update.comments,
        evidence=update.evidence,
        recorded_by=update.recorded_by,
        recorded_by_name=update.recorded_by_name,
        recorded_by_organisation_id=update.recorded_by_organisation,
        recorded_by_organisation_name=update.recorded_by_organisation_name,
        recorded_at=update.recorded_at,
    )


class ActionPlanController(Controller):
    path = "/api/actions"
    tags = ("action plan",)

    @get(
        "/",
        summary="The partnership's action plan (an auditor: your organisation's actions)",
        opt=needs(Permission.ACTION_READ),
    )
    async def list_plan(
        self,
        state: State,
        principal: NamedDependency[Principal],
        organisation: FromQuery[UUID | None] = None,
        status: FromQuery[ActionStatus | None] = None,
        programme: FromQuery[UUID | None] = None,
        limit: int = Parameter(default=100, ge=1, le=200),
        offset: int = Parameter(default=0, ge=0, le=1_000_000),
    ) -> ActionPlanPage:
        async with unit_of_work(state, principal) as connection:
            plan = await steps.read_plan(
                connection,
                principal,
                state.toolkits,
                organisation_id=organisation,
                status=status,
                programme_id=programme,
                limit=limit,
                offset=offset,
            )
        return ActionPlanPage(
            actions=[_planned_view(p) for p in plan.actions],
            total=plan.total,
            limit=limit,
            offset=offset,
            only_own=plan.only_own,
        )

    @get(
        "/{action_id:uuid}", summary="An action and every progress update kept on it", opt=needs(Permission.ACTION_READ)
    )
    async def show_action(
        self, state: State, principal: NamedDependency[Principal], action_id: FromPath[UUID]
    ) -> Response[ActionWithHistory]:
        async with unit_of_work(state, principal) as connection:
            read = await steps.read_action(connection, principal, state.toolkits, action_id)
        planned = read.planned
        return json_response(
            ActionWithHistory(
                action=action_view(planned.action),
                case_reference=planned.reference,
                organisation_name=planned.organisation_name,
                programme_id=planned.programme_id,
                updates=[_update_view(u) for u in read.updates],
            ),
            headers={"ETag": etag(planned.action.row_version)},
        )

    @post(
        "/{action_id:uuid}/updates",
        summary="Record progress on an action (its organisation's auditors, a coordinator); every update is kept",
        status_code=201,
        opt=needs(Permission.ACTION_PROGRESS) | preconditions(IF_MATCH, IDEMPOTENCY_KEY),
    )
    async def record_progress(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        action_id: FromPath[UUID],
        data: JSONBody[ProgressUpdate],
    ) -> Response[ActionView]:
        expected = expected_version(request)
        async with unit_of_work(state, principal) as connection:

            async def write() -> Response[ActionView]:
                updated = await steps.record_progress(
                    connection,
                    principal,
                    action_id,
                    status=data.status,
                    date_reviewed=data.date_reviewed,
                    comments=data.comments,
                    evidence=data.evidence,
                    seen_version=expected,
                )
                return json_response(
                    action_view(updated),
                    status=201,
                    headers={"ETag": etag(updated.row_version), "Location": f"/api/actions/{updated.id}"},
                )

            return await idempotent(request, connection, principal, write)


route_handlers: list[Any] = [ActionPlanController]
