"""An agency's system sending its contribution as FHIR: a
``QuestionnaireResponse`` of the audit's ``Questionnaire``.

The response's status says what the agency means: ``in-progress`` saves a
draft (the whole contribution, as ``PUT`` does), ``completed`` submits it,
``amended`` amends a submitted one (its reason in the extension
``urn:maca:amendment-reason``). The response is read back into a
contribution (:mod:`server.reports.fhir_import`) and checked by the very
functions the JSON API's saves and submissions use
(:func:`~server.audits.contributions.save_problems`,
:func:`~server.audits.contributions.submission_problems`); every problem is
answered at once as a FHIR ``OperationOutcome`` whose issues point at the
items by ``linkId``. The answer is the contribution as saved, as a
``QuestionnaireResponse`` again.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from uuid import UUID

import asyncpg

from server.audits.access import OrganisationReference
from server.audits.contributions import (
    load_own_contribution,
    save_own,
    save_problems,
    submission_problems,
    submit_own,
)
from server.auth.principal import Principal
from server.platform.problems import Conflict, FhirProblem
from server.reports.fhir_import import AMENDMENT_REASON, QuestionnaireResponseIn, read_questionnaire_response
from server.reports.fhir_response import questionnaire_response
from toolkits.registry import Registry

__all__ = ["SavedResponse", "save_questionnaire_response"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class SavedResponse:
    resource: dict[str, Any]
    row_version: int


async def save_questionnaire_response(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    audit_id: UUID,
    organisation: OrganisationReference,
    resource: QuestionnaireResponseIn,
    *,
    seen_version: int | None,
) -> SavedResponse:
    """Save, submit or amend the caller's organisation's contribution as the
    response's status says; 422 as an ``OperationOutcome`` naming every
    problem by the item's ``linkId``."""
    own = await load_own_contribution(connection, principal, registry, audit_id, organisation)
    reading = read_questionnaire_response(own.toolkit, resource)
    amending = reading.status == "amended"
    if reading.status in ("in-progress", "completed") and own.submitted:
        raise Conflict(
            f"this contribution is submitted: send status amended, with the reason in the extension {AMENDMENT_REASON}"
        )
    if amending and not own.submitted:
        raise Conflict("this contribution is not submitted yet: send status completed to submit it")
    problems = save_problems(own, reading.content, reading.reason if amending else None)
    if reading.status == "completed":
        problems += [p for p in submission_problems(own, reading.content) if p not in problems]
    issues = reading.problems + reading.issues((p.field, p.message) for p in problems)
    if issues:
        raise FhirProblem(422, "The response cannot be saved", issues)
    saved = await save_own(
        connection,
        principal,
        registry,
        own,
        reading.content,
        reading.reason if amending else None,
        seen_version=seen_version,
    )
    if reading.status == "completed":
        saved = await submit_own(
            connection, principal, registry, dataclasses.replace(own, row=saved), seen_version=saved.row_version
        )
    return SavedResponse(
        resource=questionnaire_response(
            own.toolkit,
            reading.content,
            response_id=str(saved.id),
            status=saved.status,
            authored=saved.submitted_at or saved.updated_at,
            organisation_code=principal.organisation_code,
            organisation_name=principal.organisation_name,
            amended=amending,
        ),
        row_version=saved.row_version,
    )
