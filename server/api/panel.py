"""The multi-agency panel's record of an audit over HTTP (the rules:
:mod:`server.audits.panel`): read by those who oversee the partnership,
written by its coordinators and reviewers while the audit is in review."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from server.api.preconditions import IF_MATCH, preconditions
from server.audits import panel as steps
from server.audits.panel import Attendee, Decision, PanelContent
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
from server.platform.transactions import etag, expected_version, json_response, unit_of_work


class PanelView(msgspec.Struct, frozen=True, kw_only=True):
    audit_id: UUID
    # whether it can still be written: the audit is in review (closed: final)
    editable: bool
    held_on: datetime.date | None
    attendees: list[Attendee]
    section_narratives: dict[str, str]
    overall_narrative: str | None
    decisions: list[Decision]
    row_version: int  # 0: not written yet
    updated_at: datetime.datetime | None


def _view(read: steps.PanelRead) -> PanelView:
    record = read.record
    return PanelView(
        audit_id=read.audit.id,
        editable=read.editable,
        held_on=None if record is None else record.held_on,
        attendees=[] if record is None else msgspec.convert(record.attendees, list[Attendee]),
        section_narratives={} if record is None else record.section_narratives,
        overall_narrative=None if record is None else record.overall_narrative,
        decisions=[] if record is None else msgspec.convert(record.decisions, list[Decision]),
        row_version=read.row_version,
        updated_at=None if record is None else record.updated_at,
    )


class PanelController(Controller):
    path = "/api/audits/{audit_id:uuid}/panel"
    tags = ("panel",)

    @get("/", summary="The multi-agency panel's record of the audit", opt=needs(Permission.PARTNERSHIP_OVERSEE))
    async def show_panel(
        self, state: State, principal: NamedDependency[Principal], audit_id: FromPath[UUID]
    ) -> Response[PanelView]:
        async with unit_of_work(state, principal) as connection:
            read = await steps.read_panel(connection, principal, state.toolkits, audit_id)
        return json_response(_view(read), headers={"ETag": etag(read.row_version)})

    @put(
        "/",
        summary="Write the panel's record while the audit is in review (coordinator, reviewer)",
        opt=needs(Permission.PANEL_RECORD) | preconditions(IF_MATCH),
    )
    async def record_panel(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        data: JSONBody[PanelContent],
    ) -> Response[PanelView]:
        expected = expected_version(request)
        async with unit_of_work(state, principal) as connection:
            read = await steps.record_panel(
                connection, principal, state.toolkits, audit_id, data, seen_version=expected
            )
        return json_response(_view(read), headers={"ETag": etag(read.row_version)})


route_handlers: list[Any] = [PanelController]
