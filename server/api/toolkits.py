"""Toolkit definitions over HTTP. No sign-in needed: they hold no personal data."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import FromPath, Parameter

from agencies.applicability import Participant, view_for
from agencies.kinds import AGENCY_KIND_CODES
from server.auth.permissions import PUBLIC, needs
from server.platform.problems import FieldError, InvalidInput, NotFound
from toolkits.fhir import questionnaire
from toolkits.model import Toolkit
from toolkits.registry import Registry, UnknownToolkit


class GradeSummary(msgspec.Struct, frozen=True, kw_only=True):
    value: int
    label: str


class ToolkitCounts(msgspec.Struct, frozen=True, kw_only=True):
    sections: int
    questions: int
    graded_sections: int


class ToolkitSummary(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    version: int
    versions: list[int]
    title: str
    scale: list[GradeSummary]
    merge_policy: str
    counts: ToolkitCounts


def summarise(registry: Registry, toolkit: Toolkit) -> ToolkitSummary:
    return ToolkitSummary(
        id=toolkit.id,
        version=toolkit.version,
        versions=registry.versions(toolkit.id),
        title=toolkit.title,
        scale=[GradeSummary(value=g.value, label=g.label) for g in toolkit.scale.grades],
        merge_policy=toolkit.merge_policy,
        counts=ToolkitCounts(
            sections=len(toolkit.sections),
            questions=sum(len(s.questions) for s in toolkit.sections),
            graded_sections=sum(1 for s in toolkit.sections if s.judgement is not None),
        ),
    )


def find_toolkit(registry: Registry, toolkit_id: str, version: int | None) -> Toolkit:
    try:
        return registry.current(toolkit_id) if version is None else registry.get(toolkit_id, version)
    except UnknownToolkit as error:
        if version is not None and toolkit_id in registry.ids():
            versions = ", ".join(str(v) for v in registry.versions(toolkit_id))
            raise NotFound(f"{error}; the versions of {toolkit_id} are: {versions}") from None
        raise NotFound(f"{error}; the toolkits are: {', '.join(registry.ids())}") from None


def _agency_kind(name: str, value: str) -> str:
    if value not in AGENCY_KIND_CODES:
        raise InvalidInput(
            errors=[
                FieldError(field=name, message=f"unknown agency kind; known: {', '.join(sorted(AGENCY_KIND_CODES))}")
            ]
        )
    return value


class ToolkitController(Controller):
    path = "/api/toolkits"
    tags = ("toolkits",)

    @get("/", summary="Every toolkit, current version", opt=needs(PUBLIC))
    async def list_toolkits(self, state: State) -> list[ToolkitSummary]:
        registry: Registry = state.toolkits
        return [summarise(registry, toolkit) for toolkit in registry]

    @get(
        "/{toolkit_id:str}",
        summary="A toolkit definition, optionally as one agency sees it on a case",
        opt=needs(PUBLIC),
    )
    async def show_toolkit(
        self,
        state: State,
        toolkit_id: FromPath[str],
        version: int | None = Parameter(default=None, ge=1, description="a past version; default the current"),
        agency: str | None = Parameter(default=None, description="agency kind: only what it answers"),
        referrer: str | None = Parameter(default=None, description="agency kind that referred the case"),
    ) -> Toolkit:
        toolkit = find_toolkit(state.toolkits, toolkit_id, version)
        if agency is None:
            if referrer is not None:
                raise InvalidInput(errors=[FieldError(field="referrer", message="only makes sense with agency")])
            return toolkit
        kind = _agency_kind("agency", agency)
        referring = _agency_kind("referrer", referrer) if referrer is not None else None
        return view_for(toolkit, Participant(agency_kind=kind, is_referrer=referring == kind))

    @get(
        "/{toolkit_id:str}/fhir",
        summary="A toolkit as an HL7 FHIR R4 Questionnaire",
        media_type="application/fhir+json",
        opt=needs(PUBLIC),
    )
    async def toolkit_fhir(
        self,
        state: State,
        toolkit_id: FromPath[str],
        version: int | None = Parameter(default=None, ge=1),
    ) -> dict[str, Any]:
        return questionnaire(find_toolkit(state.toolkits, toolkit_id, version))


route_handlers: list[Any] = [ToolkitController]
