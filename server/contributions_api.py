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

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from server.audits_api import (
    MAX_REASON,
    ContributionView,
    audit_toolkit,
    case_details_of,
    check_reason,
    contribution_content,
    contribution_view,
    invalid,
    is_partnership_staff,
    participant_of,
    require_coordinator,
    visible_audit,
)
from server.auth.principal import Principal
from server.concurrency import (
    check_version,
    etag,
    expected_version,
    idempotent,
    json_response,
    provide_principal,
    unit_of_work,
)
from server.db import audits, contributions, events, themes
from server.problems import Conflict, FieldError, InvalidInput, NotFound, PreconditionFailed
from toolkits.answers import Answer, ContributionContent, Judgement
from toolkits.validation import FieldProblem, case_detail_values, contribution_progress, validate_contribution


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


async def _own_contribution(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    audit: audits.Audit,
    organisation_id: UUID,
) -> contributions.Contribution:
    """The caller's organisation's contribution; 404 for anyone else's."""
    if organisation_id != principal.organisation_id or not principal.has_role("auditor"):
        raise NotFound("no such contribution")
    if not await audits.is_participant(connection, audit.id, organisation_id):
        raise NotFound("no such contribution")
    contribution = await contributions.get(connection, audit.id, organisation_id)
    if contribution is None:
        raise NotFound("no such contribution")
    return contribution


class ContributionController(Controller):
    path = "/api/audits/{audit_id:uuid}/contributions/{organisation_id:uuid}"
    tags = ("contributions",)
    dependencies = {"principal": Provide(provide_principal)}  # noqa: RUF012 - Litestar's declaration style

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
                contribution = await _own_contribution(connection, principal, audit, organisation_id)
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
                connection, principal, "contribution.read", audit_id=audit.id, target_organisation_id=organisation_id
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
            audit = await visible_audit(connection, principal, audit_id)
            contribution = await _own_contribution(connection, principal, audit, organisation_id)
            check_version(expected, contribution.row_version)
            amending = contribution.status == "submitted"
            if amending and audit.status not in ("open", "in-review"):
                raise Conflict(f"the audit is {audit.status}; a submitted contribution cannot be amended now")
            if not amending and audit.status != "open":
                raise Conflict(f"the audit is {audit.status}; drafts are saved while it is open")
            toolkit = audit_toolkit(state.toolkits, audit)
            values = case_detail_values(case_details_of(audit))
            who = participant_of(audit, organisation_id, principal.agency_kind)
            problems = validate_contribution(toolkit, who, content, case_details=values, complete=amending)
            problems += check_reason(data.reason, required=amending, why="to amend a submitted contribution")
            if data.reason is not None and not amending:
                problems.append(
                    FieldProblem(field="$.reason", message="only an amendment after submission has a reason")
                )
            if problems:
                raise invalid(problems, "an amendment must be complete" if amending else None)
            progress = contribution_progress(toolkit, who, content, case_details=values)
            stored = msgspec.to_builtins(content)
            saved = await contributions.save(
                connection,
                contribution.id,
                contribution.row_version,
                status="submitted" if amending else "in-progress",
                content=stored,
                answered=progress.answered,
                applicable=progress.applicable,
                user_id=principal.user_id,
            )
            if saved is None:
                raise PreconditionFailed("someone changed this since you read it")
            detail: dict[str, Any] = {"status": saved.status, "answered": progress.answered}
            if amending:
                detail["version"] = await contributions.add_version(
                    connection,
                    contribution.id,
                    kind="amended",
                    reason=data.reason,
                    content=stored,
                    user_id=principal.user_id,
                )
                detail["reason"] = data.reason
            await events.record(
                connection,
                principal,
                "contribution.amended" if amending else "contribution.saved",
                audit_id=audit.id,
                target_organisation_id=organisation_id,
                detail=detail,
            )
            # A draft counts in the partnership's judgement only by its status;
            # re-merging on every keystroke-save would cost each save a merge.
            if saved.status != contribution.status or amending:
                await themes.refresh_audit_summary(connection, state.toolkits, audit.id)
        return json_response(
            contribution_view(saved, content, progress.applicable), headers={"ETag": etag(saved.row_version)}
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
                audit = await visible_audit(connection, principal, audit_id)
                contribution = await _own_contribution(connection, principal, audit, organisation_id)
                check_version(expected, contribution.row_version)
                if contribution.status == "submitted":
                    raise Conflict("already submitted; amend it with a reason instead")
                if audit.status != "open":
                    raise Conflict(f"the audit is {audit.status}; contributions are submitted while it is open")
                toolkit = audit_toolkit(state.toolkits, audit)
                values = case_detail_values(case_details_of(audit))
                who = participant_of(audit, organisation_id, principal.agency_kind)
                content = contribution_content(contribution)
                problems = validate_contribution(toolkit, who, content, case_details=values, complete=True)
                if problems:
                    raise invalid(problems, "the contribution is not complete")
                progress = contribution_progress(toolkit, who, content, case_details=values)
                saved = await contributions.save(
                    connection,
                    contribution.id,
                    contribution.row_version,
                    status="submitted",
                    content=contribution.content,
                    answered=progress.answered,
                    applicable=progress.applicable,
                    user_id=principal.user_id,
                )
                if saved is None:
                    raise PreconditionFailed("someone changed this since you read it")
                version = await contributions.add_version(
                    connection,
                    contribution.id,
                    kind="submitted",
                    reason=None,
                    content=contribution.content,
                    user_id=principal.user_id,
                )
                await events.record(
                    connection,
                    principal,
                    "contribution.submitted",
                    audit_id=audit.id,
                    target_organisation_id=organisation_id,
                    detail={"version": version, "answered": progress.answered, "applicable": progress.applicable},
                )
                await themes.refresh_audit_summary(connection, state.toolkits, audit.id)
                return json_response(
                    contribution_view(saved, content, progress.applicable), headers={"ETag": etag(saved.row_version)}
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
        if not data.comment.strip() or len(data.comment) > MAX_REASON:
            raise InvalidInput(
                errors=[FieldError(field="$.comment", message=f"say what is needed, in 1 to {MAX_REASON} characters")]
            )
        async with unit_of_work(state, principal) as connection:

            async def write() -> Response[ContributionView]:
                audit = await visible_audit(connection, principal, audit_id)
                contribution = await contributions.get(connection, audit.id, organisation_id)
                if contribution is None or not await audits.is_participant(connection, audit.id, organisation_id):
                    raise NotFound("no such contribution")
                check_version(expected, contribution.row_version)
                if contribution.status != "submitted":
                    raise Conflict(f"only a submitted contribution can be returned; this one is {contribution.status}")
                if audit.status != "open":
                    raise Conflict(f"the audit is {audit.status}; reopen it to return a contribution")
                returned = await contributions.mark_returned(
                    connection, contribution.id, contribution.row_version, data.comment, principal.user_id
                )
                if returned is None:
                    raise PreconditionFailed("someone changed this since you read it")
                await events.record(
                    connection,
                    principal,
                    "contribution.returned",
                    audit_id=audit.id,
                    target_organisation_id=organisation_id,
                )
                await themes.refresh_audit_summary(connection, state.toolkits, audit.id)
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
                contribution = await _own_contribution(connection, principal, audit, organisation_id)
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
                "contribution.versions-read",
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
