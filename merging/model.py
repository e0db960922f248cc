"""What goes into a merge and what comes out: immutable Structs the server
encodes straight to JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import msgspec

from toolkits.answers import ContributionContent

ContributionStatus = Literal["not-started", "in-progress", "submitted", "returned"]

OVERALL = "overall"  # the moderation target for the overall judgement


class _Value(msgspec.Struct, frozen=True, kw_only=True):
    pass


# --- input -------------------------------------------------------------------


class AgencyContribution(_Value, frozen=True, kw_only=True):
    """One participating organisation's part of an audit."""

    organisation_id: str
    organisation_name: str
    agency_kind: str
    status: ContributionStatus
    content: ContributionContent = ContributionContent()


class CaseFacts(_Value, frozen=True, kw_only=True):
    """What merging needs to know about the case itself."""

    referring_organisation_id: str | None = None
    case_details: Mapping[str, Any] = {}


class Moderation(_Value, frozen=True, kw_only=True):
    """A grade the partnership agreed, with its reason (DESIGN: moderation)."""

    target: str  # a section id, or OVERALL
    grade: int
    reason: str
    moderated_by: str
    moderated_at: str  # ISO 8601


# --- output ------------------------------------------------------------------


class AgencyGrade(_Value, frozen=True, kw_only=True):
    organisation_id: str
    organisation_name: str
    agency_kind: str
    grade: int
    label: str


class Disagreement(_Value, frozen=True, kw_only=True):
    """Agencies two or more grades apart on one section: for moderation."""

    spread: int
    best: tuple[AgencyGrade, ...]
    worst: tuple[AgencyGrade, ...]


class AgreedGrade(_Value, frozen=True, kw_only=True):
    grade: int
    label: str
    reason: str
    moderated_by: str
    moderated_at: str


class SectionResult(_Value, frozen=True, kw_only=True):
    section_id: str
    title: str
    counts_towards_overall: bool
    # The partnership's grade: the agreed one where moderated, else computed.
    grade: int | None
    label: str | None
    computed_grade: int | None
    computed_label: str | None
    rule: str
    agencies: tuple[AgencyGrade, ...]
    disagreement: Disagreement | None
    moderation: AgreedGrade | None


class OverallCounts(_Value, frozen=True, kw_only=True):
    areas: int
    outstanding: int
    good_or_better: int
    adequate_or_better: int
    inadequate: int


class OverallResult(_Value, frozen=True, kw_only=True):
    grade: int | None
    label: str | None
    computed_grade: int | None
    computed_label: str | None
    trace: tuple[str, ...]
    counts: OverallCounts
    agencies: tuple[AgencyGrade, ...]  # each agency's own overall judgement
    moderation: AgreedGrade | None


class ImmediateConcern(_Value, frozen=True, kw_only=True):
    """An answer that must reach the partnership at once ("if there are
    immediate concerns the manager must be notified")."""

    organisation_id: str
    organisation_name: str
    agency_kind: str
    kind: str  # child-not-safe, significant-failure, escalation
    question_id: str
    message: str
    submitted: bool  # False: raised from a draft, not yet submitted


class AwaitingAgency(_Value, frozen=True, kw_only=True):
    organisation_id: str
    organisation_name: str
    agency_kind: str
    status: ContributionStatus


class PartnershipJudgement(_Value, frozen=True, kw_only=True):
    toolkit_id: str
    toolkit_version: int
    policy: str
    policy_description: str
    provisional: bool  # some invited agencies have not submitted
    awaiting: tuple[AwaitingAgency, ...]
    sections: tuple[SectionResult, ...]
    overall: OverallResult
    immediate_concerns: tuple[ImmediateConcern, ...]
