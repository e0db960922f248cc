"""An agency's practitioner and family voice over HTTP
(:mod:`server.audits.voices`): its auditors read and replace it, with its
own ``ETag`` (``"0"`` before anything is recorded) in ``If-Match``; the
partnership's coordinators and reviewers read it once the agency's
contribution is submitted. Every save is kept; ``…/voice/versions`` lists
them. A retried ``PUT`` with the same ``Idempotency-Key`` gets the first
answer again rather than a 412 for the version its first sending made.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from server.api.preconditions import IDEMPOTENCY_KEY, IF_MATCH, preconditions
from server.audits import voices as steps
from server.audits.voices import VoiceContent, VoiceView
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
from server.platform.transactions import etag, expected_version, idempotent, json_response, unit_of_work

__all__ = ["route_handlers"]

# The organisation whose voice it is, as a path names it (as a contribution's).
Organisation = Annotated[
    str,
    Parameter(
        description="the organisation's id or its code (as POST /api/audits takes it)", min_length=1, max_length=200
    ),
]
# What a practitioner or a family said: not cached on the way.
NO_STORE = {"Cache-Control": "no-store"}


class VoiceController(Controller):
    path = "/api/audits/{audit_id:uuid}/contributions/{organisation:str}/voice"
    tags = ("contributions",)

    @get(
        "/",
        summary="The practitioner and family voice of a contribution, with its own ETag",
        description=(
            "Whether the findings were discussed with the practitioner and their manager and what they said; "
            "whether the family's views were sought and what they were. Optional; never needed to submit. "
            "Your agency's own at any time (version 0 before anything is recorded); coordinators and reviewers "
            "once the agency's contribution is submitted."
        ),
        opt=needs(Permission.CONTRIBUTION_READ),
    )
    async def show_voice(
        self,
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        organisation: Organisation,
    ) -> Response[VoiceView]:
        async with unit_of_work(state, principal) as connection:
            read = await steps.read_voice(connection, principal, audit_id, organisation)
        return json_response(read.voice, headers={"ETag": etag(read.voice.version), **NO_STORE})

    @put(
        "/",
        summary="Record your agency's practitioner and family voice (kept as a new version)",
        description=(
            'Send the ETag you read in If-Match ("0" for the first). findings_discussed: yes | no; '
            "family_views_sought: given | declined | not-sought; practitioner_views, manager_views, family_views: "
            f"up to {steps.MAX_VOICE} characters each. Every field may be left out."
        ),
        opt=needs(Permission.CONTRIBUTION_WRITE) | preconditions(IF_MATCH, IDEMPOTENCY_KEY),
    )
    async def save_voice(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        organisation: Organisation,
        data: JSONBody[VoiceContent],
    ) -> Response[VoiceView]:
        expected = expected_version(request)
        async with unit_of_work(state, principal) as connection:

            async def write() -> Response[VoiceView]:
                saved = await steps.save_voice(
                    connection, principal, audit_id, organisation, data, seen_version=expected
                )
                return json_response(saved, headers={"ETag": etag(saved.version), **NO_STORE})

            return await idempotent(request, connection, principal, write)

    @get(
        "/versions",
        summary="Every kept version of a contribution's practitioner and family voice, oldest first",
        opt=needs(Permission.CONTRIBUTION_READ),
    )
    async def voice_versions(
        self,
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        organisation: Organisation,
    ) -> Response[list[VoiceView]]:
        async with unit_of_work(state, principal) as connection:
            kept = await steps.read_voice_versions(connection, principal, audit_id, organisation)
        return json_response(kept, headers=NO_STORE)


route_handlers: list[Any] = [VoiceController]
