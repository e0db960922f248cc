"""Immediate concerns over HTTP (the rules: :mod:`server.audits.concerns`):
the partnership's open concerns, one concern, acknowledging and closing."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from server.api.preconditions import IF_MATCH, preconditions
from server.audits import concerns as steps
from server.audits.concerns import ConcernView, concern_view
from server.audits.facts import audit_toolkit
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
from server.platform.transactions import etag, expected_version, json_response, unit_of_work


class ConcernList(msgspec.Struct, frozen=True, kw_only=True):
    concerns: list[ConcernView]


class ConcernDocument(ConcernView, frozen=True, kw_only=True):
    question: str | None
    section: str | None


class Closure(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    action_taken: str | None = None
    outcome: str | None = None


class ConcernController(Controller):
    path = "/api/concerns"
    tags = ("immediate concerns",)

    @get("/", summary="The partnership's open immediate concerns, oldest first", opt=needs(Permission.CONCERN_READ))
    async def list_concerns(self, state: State, principal: NamedDependency[Principal]) -> ConcernList:
        async with unit_of_work(state, principal) as connection:
            found = await steps.list_open(connection, principal)
        return ConcernList(concerns=[concern_view(c) for c in found])

    @get("/{concern_id:uuid}", summary="An immediate concern and its ETag", opt=needs(Permission.CONCERN_READ))
    async def read_concern(
        self, state: State, principal: NamedDependency[Principal], concern_id: FromPath[UUID]
    ) -> Response[ConcernDocument]:
        registry = state.toolkits

        async def toolkit_of(connection: Any, audit: Any) -> Any:
            return await audit_toolkit(connection, registry, audit)

        async with unit_of_work(state, principal) as connection:
            read = await steps.read_concern(connection, principal, toolkit_of, concern_id)
        view = concern_view(read.concern)
        document = ConcernDocument(**msgspec.structs.asdict(view), question=read.question, section=read.section)
        return json_response(document, headers={"ETag": etag(read.concern.row_version)})

    @post(
        "/{concern_id:uuid}/acknowledgement",
        summary="Acknowledge an immediate concern: you have it in hand (escalation stops)",
        status_code=200,
        opt=needs(Permission.CONCERN_HANDLE) | preconditions(IF_MATCH),
    )
    async def acknowledge(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        concern_id: FromPath[UUID],
    ) -> Response[ConcernView]:
        expected = expected_version(request)
        async with unit_of_work(state, principal) as connection:
            done = await steps.acknowledge(connection, principal, concern_id, seen_version=expected)
        return json_response(concern_view(done), headers={"ETag": etag(done.row_version)})

    @post(
        "/{concern_id:uuid}/closure",
        summary="Close an immediate concern with what was done and the outcome",
        status_code=200,
        opt=needs(Permission.CONCERN_HANDLE) | preconditions(IF_MATCH),
    )
    async def close(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        concern_id: FromPath[UUID],
        data: JSONBody[Closure],
    ) -> Response[ConcernView]:
        expected = expected_version(request)
        async with unit_of_work(state, principal) as connection:
            done = await steps.close(
                connection,
                principal,
                concern_id,
                action_taken=data.action_taken,
                outcome=data.outcome,
                seen_version=expected,
            )
        return json_response(concern_view(done), headers={"ETag": etag(done.row_version)})


route_handlers: list[Any] = [ConcernController]
