"""One agency's contribution to an audit over HTTP.

An auditor reads and writes only their own organisation's contribution
(another organisation's is "not found"): drafts while the audit is open,
a submission checked in full, amendments with a reason afterwards — every
submitted and amended version stays readable. A coordinator may return a
submitted contribution for more work; coordinators and reviewers read
submitted contributions, never drafts.

The organisation in the path is its id or its code (``demo-health``, an ODS
code), as ``POST /api/audits`` takes it. Writes:

- ``PUT`` replaces the whole contribution (``application/json``);
- ``PATCH`` changes part of it and keeps the rest: a JSON Merge Patch
  (RFC 7396, ``application/merge-patch+json``) of the document ``PUT`` sends
  (:mod:`server.audits.contribution_patches`);
- ``PUT …/fhir`` takes it from an agency's system as a FHIR
  ``QuestionnaireResponse`` (``application/fhir+json``): a draft, a
  submission or an amendment, as its status says
  (:mod:`server.audits.fhir_responses`).

Each takes the contribution's own ``ETag`` (``GET`` here; the audit's is
another) in ``If-Match``.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, patch, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import Body, FromPath, JSONBody, Parameter

from server.api.preconditions import IDEMPOTENCY_KEY, IF_MATCH, preconditions
from server.audits import contributions as steps
from server.audits import exports
from server.audits.contribution_patches import patch_contribution
from server.audits.contributions import check_return_comment
from server.audits.facts import contribution_content
from server.audits.fhir_responses import save_questionnaire_response
from server.audits.views import ContributionView, VersionView, contribution_view
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
from server.platform.bodies import MERGE_PATCH_JSON
from server.platform.problems import FHIR_JSON, Problem, as_fhir
from server.platform.transactions import etag, expected_version, idempotent, json_response, unit_of_work
from server.reports.fhir_import import QuestionnaireResponseIn
from toolkits.answers import Answer, ContributionContent, EvidenceReference, Judgement, NotInvolved, SignificantFailure

__all__ = ["ContributionDraft", "ContributionPatch", "Organisation", "ReturnRequest", "route_handlers"]

# The organisation a contribution belongs to, as a path names it.
Organisation = Annotated[
    str,
    Parameter(
        description="the organisation's id or its code (as POST /api/audits takes it)", min_length=1, max_length=200
    ),
]


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


class AnswerPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Part of an answer: what is sent changes, ``null`` removes, the rest stays."""

    value: Any = msgspec.UNSET
    comments: str | msgspec.UnsetType | None = msgspec.UNSET
    evidence: tuple[EvidenceReference, ...] | msgspec.UnsetType | None = msgspec.UNSET


class JudgementPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    grade: int | msgspec.UnsetType | None = msgspec.UNSET
    impact: str | msgspec.UnsetType | None = msgspec.UNSET
    # Feature id → the grade at which it was found evident (null removes one).
    features: dict[str, int | None] | msgspec.UnsetType | None = msgspec.UNSET
    override_reason: str | msgspec.UnsetType | None = msgspec.UNSET


class NotInvolvedPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: str | msgspec.UnsetType = msgspec.UNSET


class SignificantFailurePatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    description: str | msgspec.UnsetType = msgspec.UNSET


class ContributionPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A JSON Merge Patch (RFC 7396) of the contribution: only what is sent
    changes; ``null`` removes an answer, a judgement or a part of one.
    ``reason`` is not part of the contribution: an amendment's reason."""

    answers: dict[str, AnswerPatch | None] | msgspec.UnsetType = msgspec.UNSET
    judgements: dict[str, JudgementPatch | None] | msgspec.UnsetType = msgspec.UNSET
    overall: JudgementPatch | msgspec.UnsetType | None = msgspec.UNSET
    # Section id → not involved at this stage (null: involved after all).
    not_involved: dict[str, NotInvolvedPatch | None] | msgspec.UnsetType = msgspec.UNSET
    # Section id → a significant failure (null: none recorded there).
    significant_failures: dict[str, SignificantFailurePatch | None] | msgspec.UnsetType = msgspec.UNSET
    reason: str | msgspec.UnsetType | None = msgspec.UNSET


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


# Restricted data: not cached on the way.
NO_STORE = {"Cache-Control": "no-store"}


def _fhir(resource: dict[str, Any], row_version: int) -> Response[bytes]:
    return Response(msgspec.json.encode(resource), media_type=FHIR_JSON, headers={"ETag": etag(row_version)})


class ContributionController(Controller):
    path = "/api/audits/{audit_id:uuid}/contributions/{organisation:str}"
    tags = ("contributions",)

    @get(
        "/",
        summary="A contribution, with its own ETag: your own draft, or (coordinator, reviewer) what was submitted",
        opt=needs(Permission.CONTRIBUTION_READ),
    )
    async def show_contribution(
        self,
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        organisation: Organisation,
    ) -> Response[ContributionView]:
        async with unit_of_work(state, principal) as connection:
            view = await steps.read_contribution(connection, principal, state.toolkits, audit_id, organisation)
        return json_response(view, headers={"ETag": etag(view.row_version)})

    @put(
        "/",
        summary="Save your agency's whole contribution (replacing it): a draft, or an amendment with a reason",
        description="To change part of it and keep the rest, PATCH a JSON Merge Patch instead.",
        opt=needs(Permission.CONTRIBUTION_WRITE) | preconditions(IF_MATCH),
    )
    async def save_contribution(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        organisation: Organisation,
        data: JSONBody[ContributionDraft],
    ) -> Response[ContributionView]:
        expected = expected_version(request)
        content = _content(data)
        async with unit_of_work(state, principal, identity_with_first_statement=True) as connection:
            saved = await steps.save_contribution(
                connection,
                principal,
                state.toolkits,
                audit_id,
                organisation,
                content,
                data.reason,
                seen_version=expected,
            )
        return json_response(
            contribution_view(saved, content, saved.applicable), headers={"ETag": etag(saved.row_version)}
        )

    @patch(
        "/",
        summary="Save part of your agency's contribution, keeping the rest (JSON Merge Patch, RFC 7396)",
        description=(
            "Send application/merge-patch+json: what is sent changes, null removes, everything else stays. "
            "Lists (evidence, rows) are replaced whole. After submission the result is an amendment: complete, "
            "with a reason."
        ),
        opt=needs(Permission.CONTRIBUTION_WRITE) | preconditions(IF_MATCH),
    )
    async def patch_contribution(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        organisation: Organisation,
        data: Annotated[ContributionPatch, Body(media_type=MERGE_PATCH_JSON)],
    ) -> Response[ContributionView]:
        expected = expected_version(request)
        document = msgspec.to_builtins(data)
        reason = document.pop("reason", None)
        async with unit_of_work(state, principal, identity_with_first_statement=True) as connection:
            saved, content = await patch_contribution(
                connection, principal, state.toolkits, audit_id, organisation, document, reason, seen_version=expected
            )
        return json_response(
            contribution_view(saved, content, saved.applicable), headers={"ETag": etag(saved.row_version)}
        )

    @get(
        "/fhir",
        summary="A contribution as an HL7 FHIR R4 QuestionnaireResponse of the toolkit's Questionnaire",
        description=(
            "An agency's auditor: its own contribution as it stands (status in-progress until submitted). "
            "Coordinators and reviewers: the last submitted version; 404 until there is one."
        ),
        media_type=FHIR_JSON,
        # The body is encoded here (bytes), so say what it is: a JSON object,
        # not the string Litestar would document for bytes.
        responses={200: ResponseSpec(data_container=dict[str, Any], media_type=FHIR_JSON, description="OK")},
        opt=needs(Permission.EXPORT_DOWNLOAD),
    )
    async def contribution_fhir(
        self,
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        organisation: Organisation,
    ) -> Response[bytes]:
        async with unit_of_work(state, principal) as connection:
            resource = await exports.read_contribution_fhir(
                connection, principal, state.toolkits, audit_id, organisation
            )
        return Response(msgspec.json.encode(resource), media_type=FHIR_JSON, headers=NO_STORE)

    @put(
        "/fhir",
        summary="Save, submit or amend your agency's contribution as a FHIR R4 QuestionnaireResponse",
        description=(
            "Send application/fhir+json: a QuestionnaireResponse of the audit's Questionnaire "
            "(GET /api/toolkits/{id}/fhir). Its status says what to do: in-progress saves a draft (the whole "
            "contribution), completed submits it, amended amends a submitted one with its reason in the "
            "extension urn:maca:amendment-reason. Problems come back as an OperationOutcome whose issues "
            "point at the items by linkId. The answer is the contribution as saved, as a QuestionnaireResponse."
        ),
        media_type=FHIR_JSON,
        responses={200: ResponseSpec(data_container=dict[str, Any], media_type=FHIR_JSON, description="OK")},
        opt=needs(Permission.CONTRIBUTION_WRITE) | preconditions(IF_MATCH),
    )
    async def save_fhir_response(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        organisation: Organisation,
        data: Annotated[QuestionnaireResponseIn, Body(media_type=FHIR_JSON)],
    ) -> Response[bytes]:
        try:
            expected = expected_version(request)
            async with unit_of_work(state, principal, identity_with_first_statement=True) as connection:
                saved = await save_questionnaire_response(
                    connection, principal, state.toolkits, audit_id, organisation, data, seen_version=expected
                )
        except Problem as problem:
            # A FHIR client is answered in FHIR: an OperationOutcome.
            raise as_fhir(problem, "QuestionnaireResponse") from None
        return _fhir(saved.resource, saved.row_version)

    @post(
        "/submit",
        summary="Submit your agency's contribution: checked in full",
        status_code=200,
        opt=needs(Permission.CONTRIBUTION_WRITE) | preconditions(IF_MATCH, IDEMPOTENCY_KEY),
    )
    async def submit_contribution(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        organisation: Organisation,
    ) -> Response[ContributionView]:
        expected = expected_version(request)
        async with unit_of_work(state, principal, identity_with_first_statement=True) as connection:

            async def write() -> Response[ContributionView]:
                saved = await steps.submit_contribution(
                    connection, principal, state.toolkits, audit_id, organisation, seen_version=expected
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
        opt=needs(Permission.CONTRIBUTION_RETURN) | preconditions(IF_MATCH, IDEMPOTENCY_KEY),
    )
    async def return_contribution(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        organisation: Organisation,
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
                    organisation,
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
        organisation: Organisation,
    ) -> list[VersionView]:
        async with unit_of_work(state, principal) as connection:
            return await steps.read_versions(connection, principal, audit_id, organisation)


route_handlers: list[Any] = [ContributionController]
