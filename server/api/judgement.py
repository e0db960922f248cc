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
from server.audits import events
from server.audits import workflow as audit_workflow
from server.audits.events import EventName
from server.audits.judgement import PartnershipResult, judgement_of, partnership_result
from server.audits.workflow import (
    MAX_MODERATION_REASON,
    audit_toolkit,
    check_moderation_reason,
    is_partnership_staff,
    require_reviewer,
    visible_audit,
)
from server.auth.principal import Principal
from server.db import judgements
from server.platform.problems import Forbidden, PreconditionRequired
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
    )
    async def read(
        self, state: State, principal: NamedDependency[Principal], audit_id: FromPath[UUID]
    ) -> Response[PartnershipJudgement | PartnershipResult]:
        async with unit_of_work(state, principal) as connection:
            audit = await visible_audit(connection, principal, audit_id)
            staff = is_partnership_staff(principal)
            if not staff and audit.status != "closed":
                raise Forbidden("the partnership's judgement is shared with agencies when the audit is closed")
            toolkit = audit_toolkit(state.toolkits, audit)
            await events.record(connection, principal, EventName.JUDGEMENT_READ, audit_id=audit_id)
            if staff:
                judgement = await judgement_of(connection, toolkit, audit)
                tag = await judgements.judgement_etag(connection, audit_id)
                return Response(judgement, headers={"ETag": tag})
        # Row-level security lets a participant's transaction read every
        # contribution of a closed audit (migration 0005); only the
        # partnership's grades leave this function.
        async with unit_of_work(state, principal) as connection:
            judgement = await judgement_of(connection, toolkit, audit)
        return Response(partnership_result(judgement))

    @put(
        "/sections/{section_id:str}",
        summary="Moderate a section (or 'overall'): the agreed grade with its reason",
        description="Reviewers only. Send the judgement's ETag in If-Match: 412 if anything changed since.",
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
        require_reviewer(principal)
        if_match = request.headers.get("if-match")
        if not if_match:
            raise PreconditionRequired("send the judgement's ETag in If-Match, so you moderate what you have seen")
        check_moderation_reason(data.reason)
        async with unit_of_work(state, principal) as connection:
            audit = await audit_workflow.moderate(
                connection,
                principal,
                state.toolkits,
                audit_id,
                section_id,
                data.grade,
                data.reason,
                seen_judgement=if_match.strip(),
            )
            judgement = await judgement_of(connection, audit_toolkit(state.toolkits, audit), audit)
            tag = await judgements.judgement_etag(connection, audit_id)
        return Response(judgement, headers={"ETag": tag})


route_handlers: list[Any] = [JudgementController]
