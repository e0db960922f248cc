"""One agency's contribution to an audit over HTTP.

An auditor reads and writes only their own organisation's contribution
(another organisation's is "not found"): drafts while the audit is open,
a submission checked in full, amendments with a reason afterwards — every
submitted and amended version stays readable. A coordinator may return a
submitted contribution for more work; coordinators and reviewers read
submitted contributions, never drafts.
"""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from server.api.audits import ContributionView, contribution_view
from server.audits import events
from server.audits import workflow as audit_workflow
from server.audits.events import EventName
from server.audits.workflow import (
    audit_toolkit,
    case_details_of,
    check_return_comment,
    contribution_content,
    is_partnership_staff,
    own_contribution_row,
    participant_of,
    require_coordinator,
    visible_audit,
)
from server.auth.principal import Principal
from server.db import audits, contributions
from server.platform.problems import NotFound
from server.platform.transactions import etag, expected_version, idempotent, json_response, unit_of_work
from toolkits.answers import Answer, ContributionContent, Judgement
from toolkits.validation import case_detail_values, contribution_progress


class ContributionDraft(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The whole contribution as the agency has it now (PUT replaces it).
    After submission a change is an amendment and needs a ``reason``."""

    answers: dict[str, Answer] = msgspec.field(default_factory=dict)
    judgements: dict[str, Judgement] = msgspec.field(default_factory=dict)
    overall: Judgement | None = None
    reason: str | None = None


class ReturnRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    comment: str


class VersionView(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    kind: str
    reason: str | None
    content: ContributionContent
    created_by: UUID | None
    created_at: datetime.datetime


def _content(draft: ContributionDraft) -> ContributionContent:
    return ContributionContent(answers=draft.answers, judgements=draft.judgements, overall=draft.overall)


class ContributionController(Controller):
    path = "/api/audits/{audit_id:uuid}/contributions/{organisation_id:uuid}"
    tags = ("contributions",)

    @get("/", summary="A contribution: your own draft, or (coordinator, reviewer) what was submitted")
    async def show_contribution(
        self,
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        organisation_id: FromPath[UUID],
    ) -> Response[ContributionView]:
        async with unit_of_work(state, principal) as connection:
            audit = await visible_audit(connection, principal, audit_id)
            toolkit = audit_toolkit(state.toolkits, audit)
            values = case_detail_values(case_details_of(audit))
            if organisation_id == principal.organisation_id and principal.has_role("auditor"):
                contribution = await own_contribution_row(connection, principal, audit, organisation_id)
                content: ContributionContent | None = contribution_content(contribution)
            elif is_partnership_staff(principal):
                found = await contributions.get(connection, audit.id, organisation_id)
                if found is None:
                    raise NotFound("no such contribution")
                contribution = found
                # Never another agency's draft: the last version it submitted.
                latest = await contributions.latest_version(connection, contribution.id)
                content = None if latest is None else msgspec.convert(latest.content, ContributionContent)
            else:
                raise NotFound("no such contribution")
            kind = await audits.agency_kind_of(connection, organisation_id)
            who = participant_of(audit, organisation_id, kind or "")
            applicable = contribution_progress(toolkit, who, ContributionContent(), case_details=values).applicable
            await events.record(
                connection,
                principal,
                EventName.CONTRIBUTION_READ,
                audit_id=audit.id,
                target_organisation_id=organisation_id,
            )
        return json_response(
            contribution_view(contribution, content, applicable), headers={"ETag": etag(contribution.row_version)}
        )

    @put("/", summary="Save your agency's contribution: a draft, or an amendment with a reason")
    async def save_contribution(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        organisation_id: FromPath[UUID],
        data: JSONBody[ContributionDraft],
    ) -> Response[ContributionView]:
        expected = expected_version(request)
        content = _content(data)
        async with unit_of_work(state, principal) as connection:
            saved = await audit_workflow.save_contribution(
                connection,
                principal,
                state.toolkits,
                audit_id,
                organisation_id,
                content,
                data.reason,
                seen_version=expected,
            )
        return json_response(
            contribution_view(saved, content, saved.applicable), headers={"ETag": etag(saved.row_version)}
        )

    @post("/submit", summary="Submit your agency's contribution: checked in full", status_code=200)
    async def submit_contribution(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        organisation_id: FromPath[UUID],
    ) -> Response[ContributionView]:
        expected = expected_version(request)
        async with unit_of_work(state, principal) as connection:

            async def write() -> Response[ContributionView]:
                saved = await audit_workflow.submit_contribution(
                    connection, principal, state.toolkits, audit_id, organisation_id, seen_version=expected
                )
                return json_response(
                    contribution_view(saved, contribution_content(saved), saved.applicable),
                    headers={"ETag": etag(saved.row_version)},
                )

            return await idempotent(request, connection, principal, write)

    @post(
        "/return", summary="Return a submitted contribution to its agency for more work (coordinator)", status_code=200
    )
    async def return_contribution(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        organisation_id: FromPath[UUID],
        data: JSONBody[ReturnRequest],
    ) -> Response[ContributionView]:
        require_coordinator(principal)
        expected = expected_version(request)
        check_return_comment(data.comment)
        async with unit_of_work(state, principal) as connection:

            async def write() -> Response[ContributionView]:
                returned = await audit_workflow.return_contribution(
                    connection,
                    principal,
                    state.toolkits,
                    audit_id,
                    organisation_id,
                    data.comment,
                    seen_version=expected,
                )
                return json_response(
                    contribution_view(returned, None, returned.applicable), headers={"ETag": etag(returned.row_version)}
                )

            return await idempotent(request, connection, principal, write)

    @get("/versions", summary="Every submitted and amended version of a contribution")
    async def contribution_versions(
        self,
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        organisation_id: FromPath[UUID],
    ) -> list[VersionView]:
        async with unit_of_work(state, principal) as connection:
            audit = await visible_audit(connection, principal, audit_id)
            if organisation_id == principal.organisation_id and principal.has_role("auditor"):
                contribution = await own_contribution_row(connection, principal, audit, organisation_id)
            elif is_partnership_staff(principal):
                found = await contributions.get(connection, audit.id, organisation_id)
                if found is None:
                    raise NotFound("no such contribution")
                contribution = found
            else:
                raise NotFound("no such contribution")
            kept = await contributions.versions(connection, contribution.id)
            await events.record(
                connection,
                principal,
                EventName.CONTRIBUTION_VERSIONS_READ,
                audit_id=audit.id,
                target_organisation_id=organisation_id,
            )
        return [
            VersionView(
                version=v.version,
                kind=v.kind,
                reason=v.reason,
                content=msgspec.convert(v.content, ContributionContent),
                created_by=v.created_by,
                created_at=v.created_at,
            )
            for v in kept
        ]


route_handlers: list[Any] = [ContributionController]
