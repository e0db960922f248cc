"""The partnership's settings, its toolkits and its own toolkit versions
over HTTP, for its administrator, and the administration trail.

A toolkit version is uploaded as its YAML text (``Content-Type:
application/yaml``; ``?file_name=`` names it in messages): a version with
problems is refused with every one of them, each at its line, as ``maca
toolkits validate`` prints them; one with none is kept, to be previewed as
each agency would see it and activated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import FromPath, JSONBody, Parameter

from server.api.preconditions import IDEMPOTENCY_KEY, IF_MATCH, preconditions
from server.audits.administration import partnership, toolkits
from server.audits.administration.partnership import PartnershipSettings, PartnershipSettingsView, TrailEntryView
from server.audits.administration.toolkits import (
    LocalVersionView,
    PreviewView,
    ToolkitChoice,
    ToolkitChoiceView,
    ToolkitsView,
)
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
from server.platform.transactions import etag, expected_version, idempotent, json_response, unit_of_work

__all__ = ["Activation", "AdminPartnershipController", "AdminToolkitController", "route_handlers"]

MAX_BIGINT = 2**63 - 1
YAML = "application/yaml"


class Activation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The partnership's own version new audits take (null: the newest
    shipped version again)."""

    version_id: UUID | None


@dataclass
class _YamlBody(Operation):
    """The upload's document says its body: the definition's YAML text."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            content={YAML: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))},
            description="the definition, in the YAML format of the shipped definitions (toolkits/definitions)",
            required=True,
        )


class AdminPartnershipController(Controller):
    path = "/api/admin"
    tags = ("administration",)

    @get("/partnership", summary="The partnership's settings", opt=needs(Permission.PARTNERSHIP_ADMINISTER))
    async def read_settings(
        self, state: State, principal: NamedDependency[Principal]
    ) -> Response[PartnershipSettingsView]:
        async with unit_of_work(state, principal) as connection:
            view = await partnership.read_settings(
                connection, principal, default_retention_days=state.settings.retention_days
            )
        return json_response(view, headers={"ETag": etag(view.row_version)})

    @put(
        "/partnership",
        summary="Set the partnership's name and code, due period, reminder schedule and retention period",
        opt=needs(Permission.PARTNERSHIP_ADMINISTER) | preconditions(IF_MATCH),
    )
    async def change_settings(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        data: JSONBody[PartnershipSettings],
    ) -> Response[PartnershipSettingsView]:
        seen = expected_version(request)
        async with unit_of_work(state, principal) as connection:
            view = await partnership.change_settings(
                connection,
                principal,
                data,
                seen_version=seen,
                default_retention_days=state.settings.retention_days,
            )
        state.identity_recorder.forget()  # principals carry the partnership's code and name
        return json_response(view, headers={"ETag": etag(view.row_version)})

    @get(
        "/events",
        summary="The partnership's administration trail, newest first",
        opt=needs(Permission.PARTNERSHIP_ADMINISTER),
    )
    async def trail(
        self,
        state: State,
        principal: NamedDependency[Principal],
        before: int | None = Parameter(default=None, ge=1, le=MAX_BIGINT, description="events older than this id"),
        limit: int = Parameter(default=50, ge=1, le=200),
    ) -> list[TrailEntryView]:
        async with unit_of_work(state, principal) as connection:
            return await partnership.read_trail(connection, principal, before=before, limit=limit)


class AdminToolkitController(Controller):
    path = "/api/admin"
    tags = ("administration",)

    @get(
        "/toolkits",
        summary="The partnership's toolkits: offered or not, merge policy, versions",
        opt=needs(Permission.TOOLKIT_ADMINISTER),
    )
    async def read_toolkits(self, state: State, principal: NamedDependency[Principal]) -> ToolkitsView:
        async with unit_of_work(state, principal) as connection:
            return await toolkits.read_toolkits(connection, principal, state.toolkits)

    @put(
        "/toolkits/{toolkit_id:str}",
        summary="Offer a toolkit for new audits or not, and choose its merge policy",
        opt=needs(Permission.TOOLKIT_ADMINISTER) | preconditions(IF_MATCH),
    )
    async def change_choice(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        toolkit_id: FromPath[str],
        data: JSONBody[ToolkitChoice],
    ) -> Response[ToolkitChoiceView]:
        seen = expected_version(request)
        async with unit_of_work(state, principal) as connection:
            view = await toolkits.change_choice(
                connection, principal, state.toolkits, toolkit_id, data, seen_version=seen
            )
        return json_response(view, headers={"ETag": etag(view.row_version)})

    @post(
        "/toolkits/{toolkit_id:str}/activation",
        summary="Make new audits take one of the partnership's own versions (or the shipped one again)",
        status_code=200,
        opt=needs(Permission.TOOLKIT_ADMINISTER) | preconditions(IF_MATCH),
    )
    async def activate(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        toolkit_id: FromPath[str],
        data: JSONBody[Activation],
    ) -> Response[ToolkitChoiceView]:
        seen = expected_version(request)
        async with unit_of_work(state, principal) as connection:
            view = await toolkits.activate_version(
                connection, principal, state.toolkits, toolkit_id, data.version_id, seen_version=seen
            )
        return json_response(view, headers={"ETag": etag(view.row_version)})

    @post(
        "/toolkit-versions",
        summary="Upload a toolkit version (YAML, as the shipped definitions): kept if it has no problem",
        status_code=201,
        operation_class=_YamlBody,
        opt=needs(Permission.TOOLKIT_ADMINISTER) | preconditions(IDEMPOTENCY_KEY),
    )
    async def upload(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        file_name: str = Parameter(default="upload.yaml", max_length=200, description="named in the problems"),
    ) -> Response[LocalVersionView]:
        # The YAML as it was written (Litestar reads a body parameter as JSON).
        text = await request.body()
        async with unit_of_work(state, principal) as connection:

            async def write() -> Response[LocalVersionView]:
                view = await toolkits.upload_version(connection, principal, state.toolkits, file_name, text)
                return json_response(
                    view, status=201, headers={"Location": f"/api/admin/toolkit-versions/{view.id}/preview"}
                )

            return await idempotent(request, connection, principal, write)

    @get(
        "/toolkit-versions/{version_id:uuid}/preview",
        summary="A toolkit version as one agency would see it, and how much each agency answers",
        opt=needs(Permission.TOOLKIT_ADMINISTER),
    )
    async def preview(
        self,
        state: State,
        principal: NamedDependency[Principal],
        version_id: FromPath[UUID],
        agency: str = Parameter(default="childrens-social-care", description="agency kind"),
        referrer: bool = Parameter(default=False, description="the agency referred the case"),
    ) -> PreviewView:
        async with unit_of_work(state, principal) as connection:
            return await toolkits.preview_version(
                connection, principal, state.toolkits, version_id, agency_kind=agency, is_referrer=referrer
            )

    @get(
        "/toolkits/{toolkit_id:str}/shipped/{version:int}",
        summary="A version shipped with Maca, as YAML: where a version of the partnership's own starts from",
        media_type=YAML,
        opt=needs(Permission.TOOLKIT_ADMINISTER),
    )
    async def shipped(
        self, state: State, principal: NamedDependency[Principal], toolkit_id: FromPath[str], version: FromPath[int]
    ) -> Response[str]:
        file_name, text = toolkits.shipped_source(principal, state.toolkits, toolkit_id, version)
        return Response(
            content=text, media_type=YAML, headers={"Content-Disposition": f'attachment; filename="{file_name}"'}
        )

    @get(
        "/toolkit-versions/{version_id:uuid}/source",
        summary="A toolkit version's YAML, as uploaded",
        media_type=YAML,
        opt=needs(Permission.TOOLKIT_ADMINISTER),
    )
    async def source(
        self, state: State, principal: NamedDependency[Principal], version_id: FromPath[UUID]
    ) -> Response[str]:
        async with unit_of_work(state, principal) as connection:
            file_name, text = await toolkits.version_source(connection, principal, version_id)
        safe = "".join(c for c in file_name if c.isalnum() or c in "._-") or "toolkit.yaml"
        return Response(
            content=text, media_type=YAML, headers={"Content-Disposition": f'attachment; filename="{safe}"'}
        )


route_handlers: list[Any] = [AdminPartnershipController, AdminToolkitController]
