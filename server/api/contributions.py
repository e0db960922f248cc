"""One agency's contribution to an audit over HTTP.

An auditor reads and writes only their own organisation's contribution
(another organisation's is "not found"): drafts while the audit is open,
a submission checked in full, amendments with a reason afterwards — every
submitted and amended version stays readable. A coordinator may return a
submitted contribution for more work; coordinators and reviewers read
submitted contributions, never drafts.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from server.audits import contributions as steps
from server.audits.contributions import check_return_comment
from server.audits.facts import contribution_content
from server.audits.views import ContributionView, VersionView, contribution_view
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
from server.platform.transactions import etag, expected_version, idempotent, json_response, unit_of_work
from toolkits.answers import Answer, ContributionContent, Judgement, NotInvolved, SignificantFailure


class ContributionDraft(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The whole contribution as the agency has it now (PUT replaces it).
    After submission a change is an amendment and needs a ``reason``."""

    answers: dict[str, Answer] = msgspec.field(default_factory=dict)
    judgements: dict[str, Judgement] = msgspec.field(default_factory=dict)
    overall: Judgement | None = None
    # Section id → why the agency was not involved at this stage (instead of grading it).
    not_involved: dict[str, NotInvolved] = msgspec.field(default_factory=dict)
    # Section id → a significant failure which has impacted on the safety of the child.
    significant_failures: dict[str, SignificantFailure] = msgspec.field(default_factory=dict)
    reason: str | None = None


class ReturnRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    comment: str


def _content(draft: ContributionDraft) -> ContributionContent:
    return ContributionContent(
        answers=draft.answers,
        judgements=draft.judgements,
        overall=draft.overall,
        not_involved=draft.not_involved,
        significant_failures=draft.significant_failures,
    )


class ContributionController(Controller):
    path = "/api/audits/{audit_id:uuid}/contributions/{organisation_id:uuid}"
    tags = ("contributions",)

    @get(
        "/",
        summary="A contribution: your own draft, or (coordinator, reviewer) what was submitted",
        opt=needs(Permission.CONTRIBUTION_READ),
    )
    async def show_contribution(
        self,
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        organisation_id: FromPath[UUID],
    ) -> Response[ContributionView]:
        async with unit_of_work(state, principal) as connection:
            view = await steps.read_contribution(connection, principal, state.toolkits, audit_id, organisation_id)
        return json_response(view, headers={"ETag": etag(view.row_version)})

    @put(
        "/",
        summary="Save your agency's contribution: a draft, or an amendment with a reason",
        opt=needs(Permission.CONTRIBUTION_WRITE),
    )
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
            saved = await steps.save_contribution(
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

    @post(
        "/submit",
        summary="Submit your agency's contribution: checked in full",
        status_code=200,
        opt=needs(Permission.CONTRIBUTION_WRITE),
    )
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
                saved = await steps.submit_contribution(
                    connection, principal, state.toolkits, audit_id, organisation_id, seen_version=expected
                )
                return json_response(
                    contribution_view(saved, contribution_content(saved), saved.applicable),
                    headers={"ETag": etag(saved.row_version)},
                )

            return await idempotent(request, connection, principal, write)

    @post(
        "/return",
        summary="Return a submitted contribution to its agency for more work (coordinator)",
        status_code=200,
        opt=needs(Permission.CONTRIBUTION_RETURN),
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
        expected = expected_version(request)
        check_return_comment(data.comment)
        async with unit_of_work(state, principal) as connection:

            async def write() -> Response[ContributionView]:
                returned = await steps.return_contribution(
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

    @get(
        "/versions",
        summary="Every submitted and amended version of a contribution",
        opt=needs(Permission.CONTRIBUTION_READ),
    )
    async def contribution_versions(
        self,
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        organisation_id: FromPath[UUID],
    ) -> list[VersionView]:
        async with unit_of_work(state, principal) as connection:
            return await steps.read_versions(connection, principal, audit_id, organisation_id)


route_handlers: list[Any] = [ContributionController]
