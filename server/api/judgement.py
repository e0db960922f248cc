"""The partnership's judgement of an audit, and its moderation.

The judgement is computed on every read from the contributions
(``merging.merge``), so it can never fall behind them; what is stored is only
what reviewers agreed (moderations).
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from merging import PartnershipJudgement
from server.api.preconditions import IF_MATCH, preconditions
from server.audits import moderation
from server.audits.judgement import KeptJudgements, PartnershipResult, read_judgement
from server.audits.moderation import MAX_MODERATION_REASON, check_moderation_reason
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
from server.platform.problems import PreconditionRequired
from server.platform.transactions import unit_of_work


class ModerationRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    grade: Annotated[int, msgspec.Meta(ge=1, le=4, description="the agreed grade, 1 best … 4 worst")]
    reason: Annotated[
        str, msgspec.Meta(min_length=1, max_length=MAX_MODERATION_REASON, description="why the panel agreed it")
    ]


class JudgementController(Controller):
    path = "/api/audits/{audit_id:uuid}/judgement"
    tags = ("judgement",)

    @get(
        "/",
        summary="The partnership judgement: per section and overall, with reasons, disagreements and concerns",
        description=(
            "Coordinators and reviewers see the whole judgement: every agency's grade beside the partnership's, "
            "the rule that produced it, disagreements, immediate concerns, and whether it is provisional. An "
            "agency auditor sees only the partnership's grades, once the audit is closed."
        ),
        opt=needs(Permission.JUDGEMENT_READ),
    )
    async def read(
        self, state: State, principal: NamedDependency[Principal], audit_id: FromPath[UUID]
    ) -> Response[PartnershipJudgement | PartnershipResult]:
        async with unit_of_work(state, principal, identity_with_first_statement=True) as connection:
            read = await read_judgement(
                connection, principal, state.toolkits, audit_id, KeptJudgements.of(state), with_voices=False
            )
        if read.result is not None:
            return Response(read.result)
        assert read.judgement is not None and read.version is not None
        return Response(read.judgement, headers={"ETag": read.version})

    @put(
        "/sections/{section_id:str}",
        summary="Moderate a section (or 'overall'): the agreed grade with its reason",
        description="Reviewers only. Send the judgement's ETag in If-Match: 412 if anything changed since.",
        opt=needs(Permission.JUDGEMENT_MODERATE) | preconditions(IF_MATCH),
    )
    async def moderate(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        section_id: FromPath[str],
        data: JSONBody[ModerationRequest],
    ) -> Response[PartnershipJudgement]:
        if_match = request.headers.get("if-match")
        if not if_match:
            raise PreconditionRequired("send the judgement's ETag in If-Match, so you moderate what you have seen")
        check_moderation_reason(data.reason)
        async with unit_of_work(state, principal) as connection:
            moderated = await moderation.moderate(
                connection,
                principal,
                state.toolkits,
                audit_id,
                section_id,
                data.grade,
                data.reason,
                seen_judgement=if_match.strip(),
            )
        return Response(moderated.judgement, headers={"ETag": moderated.version})


route_handlers: list[Any] = [JudgementController]
