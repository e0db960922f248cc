"""Remedial actions agreed on an audit over HTTP.

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

from server.api.audits import MAX_REASON, is_partnership_staff, today, visible_audit
from server.audits import events
from server.audits.events import EventName
from server.audits.workflow import agree_action, store_action_change
from server.auth.principal import Principal
from server.db import actions, audits
from server.platform.problems import FieldError, Forbidden, InvalidInput, NotFound, PreconditionFailed
from server.platform.transactions import check_version, etag, expected_version, idempotent, json_response, unit_of_work

MAX_FIELD = MAX_REASON


class NewAction(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    action: str
    who: str | None = None
    timescale: str | None = None
    responsible_organisation_id: UUID | None = None
    due_date: datetime.date | None = None


class ActionChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Absent fields stay as they are. The responsible organisation records
    progress (date reviewed, completed, comments, initials); what the action
    is and who owns it only a coordinator changes."""

    action: str | msgspec.UnsetType = msgspec.UNSET
    who: str | msgspec.UnsetType | None = msgspec.UNSET
    timescale: str | msgspec.UnsetType | None = msgspec.UNSET
    responsible_organisation_id: UUID | msgspec.UnsetType | None = msgspec.UNSET
    due_date: datetime.date | msgspec.UnsetType | None = msgspec.UNSET
    date_reviewed: datetime.date | msgspec.UnsetType | None = msgspec.UNSET
    completed: bool | msgspec.UnsetType = msgspec.UNSET
    comments: str | msgspec.UnsetType | None = msgspec.UNSET
    initials: str | msgspec.UnsetType | None = msgspec.UNSET


COORDINATOR_FIELDS = ("action", "who", "timescale", "responsible_organisation_id", "due_date")
PROGRESS_FIELDS = ("date_reviewed", "completed", "comments", "initials")


class ActionView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    audit_id: UUID
    action: str
    who: str | None
    timescale: str | None
    responsible_organisation_id: UUID | None
    due_date: datetime.date | None
    date_reviewed: datetime.date | None
    completed: bool
    comments: str | None
    initials: str | None
    overdue: bool
    row_version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


def _view(action: actions.RemedialAction) -> ActionView:
    return ActionView(
        id=action.id,
        audit_id=action.audit_id,
        action=action.action,
        who=action.who,
        timescale=action.timescale,
        responsible_organisation_id=action.responsible_organisation_id,
        due_date=action.due_date,
        date_reviewed=action.date_reviewed,
        completed=action.completed,
        comments=action.comments,
        initials=action.initials,
        overdue=not action.completed and action.due_date is not None and action.due_date < today(),
        row_version=action.row_version,
        created_at=action.created_at,
        updated_at=action.updated_at,
    )


def _text_problems(values: dict[str, object]) -> list[FieldError]:
    return [
        FieldError(field=f"$.{name}", message=f"is longer than {MAX_FIELD} characters")
        for name, value in values.items()
        if isinstance(value, str) and len(value) > MAX_FIELD
    ]


class ActionController(Controller):
    path = "/api/audits/{audit_id:uuid}/actions"
    tags = ("remedial actions",)

    @get("/", summary="An audit's remedial actions (yours only, for an auditor)")
    async def list_actions(
        self, state: State, principal: NamedDependency[Principal], audit_id: FromPath[UUID]
    ) -> list[ActionView]:
        async with unit_of_work(state, principal) as connection:
            audit = await visible_audit(connection, principal, audit_id)
            only = None if is_partnership_staff(principal) else principal.organisation_id
            found = await actions.for_audit(connection, audit.id, organisation_id=only)
            await events.record(connection, principal, EventName.ACTIONS_READ, audit_id=audit.id)
        return [_view(a) for a in found]

    @post("/", summary="Agree a remedial action (coordinator, reviewer)", status_code=201)
    async def create_action(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        data: JSONBody[NewAction],
    ) -> Response[ActionView]:
        if not is_partnership_staff(principal):
            raise Forbidden("only coordinators and reviewers agree remedial actions")
        errors = _text_problems({"action": data.action, "who": data.who, "timescale": data.timescale})
        if not data.action.strip():
            errors.append(FieldError(field="$.action", message="say what is to be done"))
        async with unit_of_work(state, principal) as connection:

            async def write() -> Response[ActionView]:
                audit = await visible_audit(connection, principal, audit_id)
                organisation = data.responsible_organisation_id
                if organisation is not None and not await audits.is_participant(connection, audit.id, organisation):
                    errors.append(
                        FieldError(field="$.responsible_organisation_id", message="is not an organisation taking part")
                    )
                if errors:
                    raise InvalidInput(errors=errors)
                created = await agree_action(
                    connection,
                    principal,
                    audit,
                    action=data.action,
                    who=data.who,
                    timescale=data.timescale,
                    responsible_organisation_id=organisation,
                    due_date=data.due_date,
                )
                return json_response(
                    _view(created),
                    status=201,
                    headers={
                        "ETag": etag(created.row_version),
                        "Location": f"/api/audits/{audit.id}/actions/{created.id}",
                    },
                )

            return await idempotent(request, connection, principal, write)

    @patch("/{action_id:uuid}", summary="Record progress on, or change, a remedial action")
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
            audit = await visible_audit(connection, principal, audit_id)
            current = await actions.get(connection, audit.id, action_id)
            coordinator = principal.has_role("coordinator")
            responsible = (
                current is not None
                and principal.has_role("auditor")
                and current.responsible_organisation_id == principal.organisation_id
            )
            if current is None or not (coordinator or responsible or is_partnership_staff(principal)):
                raise NotFound("no such action")
            if not (coordinator or responsible):
                raise Forbidden("only the organisation responsible or a coordinator changes an action")
            check_version(expected, current.row_version)
            errors = _text_problems(given)
            if not coordinator:
                errors += [
                    FieldError(field=f"$.{name}", message="only a coordinator changes this")
                    for name in given
                    if name in COORDINATOR_FIELDS
                ]
            if "action" in given and not str(given["action"]).strip():
                errors.append(FieldError(field="$.action", message="say what is to be done"))
            organisation = given.get("responsible_organisation_id")
            if isinstance(organisation, UUID) and not await audits.is_participant(connection, audit.id, organisation):
                errors.append(
                    FieldError(field="$.responsible_organisation_id", message="is not an organisation taking part")
                )
            if errors:
                raise InvalidInput(errors=errors)
            changed = msgspec.structs.replace(current, **given)
            updated = await store_action_change(connection, principal, audit, current, changed, given)
            if updated is None:
                raise PreconditionFailed("someone changed this since you read it")
        return json_response(_view(updated), headers={"ETag": etag(updated.row_version)})


route_handlers: list[Any] = [ActionController]
