"""The partnership's judgement of an audit, and its moderation.

The judgement is computed on every read from the contributions
(``merging.merge``), so it can never fall behind them; what is stored is only
what reviewers agreed (moderations).
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, put
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from merging import OVERALL, CaseFacts, PartnershipJudgement, merge
from server.audits_api import audit_toolkit, case_details_of, is_partnership_staff, visible_audit
from server.auth.principal import Principal
from server.concurrency import provide_principal, unit_of_work
from server.db import audits, events, judgements, themes
from server.problems import FieldError, Forbidden, InvalidInput, NotFound, PreconditionFailed, PreconditionRequired
from toolkits.model import Toolkit


class PartnershipSectionResult(msgspec.Struct, frozen=True, kw_only=True):
    section_id: str
    title: str
    grade: int | None
    label: str | None
    moderated: bool


class PartnershipResult(msgspec.Struct, frozen=True, kw_only=True):
    """What an agency auditor sees once an audit is closed: the partnership's
    grades, not the other agencies' own."""

    toolkit_id: str
    toolkit_version: int
    sections: tuple[PartnershipSectionResult, ...]
    overall_grade: int | None
    overall_label: str | None


class ModerationRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    grade: Annotated[int, msgspec.Meta(ge=1, le=4, description="the agreed grade, 1 best … 4 worst")]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=5000, description="why the panel agreed it")]


def _case_facts(audit: audits.Audit) -> CaseFacts:
    details = case_details_of(audit)
    return CaseFacts(
        referring_organisation_id=str(audit.referring_organisation_id) if audit.referring_organisation_id else None,
        case_details={question_id: answer.value for question_id, answer in details.answers.items()},
    )


async def _judgement(
    connection: asyncpg.Connection[Any], toolkit: Toolkit, audit: audits.Audit
) -> PartnershipJudgement:
    contributions = await judgements.agency_contributions(connection, audit.id)
    agreed = [judgements.as_moderation(row) for row in await judgements.moderations(connection, audit.id)]
    return merge(toolkit, _case_facts(audit), contributions, moderations=agreed)


def _partnership_result(judgement: PartnershipJudgement) -> PartnershipResult:
    return PartnershipResult(
        toolkit_id=judgement.toolkit_id,
        toolkit_version=judgement.toolkit_version,
        sections=tuple(
            PartnershipSectionResult(
                section_id=s.section_id,
                title=s.title,
                grade=s.grade,
                label=s.label,
                moderated=s.moderation is not None,
            )
            for s in judgement.sections
        ),
        overall_grade=judgement.overall.grade,
        overall_label=judgement.overall.label,
    )


class JudgementController(Controller):
    path = "/api/audits/{audit_id:uuid}/judgement"
    tags = ("judgement",)
    dependencies = {"principal": Provide(provide_principal)}  # noqa: RUF012 - Litestar's declaration style

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
            await events.record(connection, principal, "judgement.read", audit_id=audit_id)
            if staff:
                judgement = await _judgement(connection, toolkit, audit)
                tag = await judgements.judgement_etag(connection, audit_id)
                return Response(judgement, headers={"ETag": tag})
        # Row-level security lets a participant's transaction read every
        # contribution of a closed audit (migration 0005); only the
        # partnership's grades leave this function.
        async with unit_of_work(state, principal) as connection:
            judgement = await _judgement(connection, toolkit, audit)
        return Response(_partnership_result(judgement))

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
        if not principal.has_role("reviewer"):
            raise Forbidden("only a partnership reviewer may moderate")
        if_match = request.headers.get("if-match")
        if not if_match:
            raise PreconditionRequired("send the judgement's ETag in If-Match, so you moderate what you have seen")
        if not data.reason.strip():
            raise InvalidInput(errors=[FieldError(field="$.reason", message="give the reason the panel agreed")])
        async with unit_of_work(state, principal) as connection:
            audit = await visible_audit(connection, principal, audit_id, for_update=True)
            toolkit = audit_toolkit(state.toolkits, audit)
            graded = {s.id for s in toolkit.sections if s.judgement is not None and s.completed_by == "agency"}
            if section_id != OVERALL and section_id not in graded:
                raise NotFound(f"no graded section {section_id!r} in {toolkit.id}")
            if if_match.strip() != await judgements.judgement_etag(connection, audit_id):
                raise PreconditionFailed("the judgement changed since you read it; read it again before moderating")
            await judgements.set_moderation(
                connection, audit_id, section_id, data.grade, data.reason, principal.user_id
            )
            await events.record(
                connection,
                principal,
                "judgement.moderated",
                audit_id=audit_id,
                # The reason is the panel's words about the work, recorded as
                # every other reason for a change is; it names no child.
                detail={"section": section_id, "grade": data.grade, "reason": data.reason},
            )
            await themes.refresh_audit_summary(connection, state.toolkits, audit_id)
            judgement = await _judgement(connection, toolkit, audit)
            tag = await judgements.judgement_etag(connection, audit_id)
        return Response(judgement, headers={"ETag": tag})
