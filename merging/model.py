"""What goes into a merge and what comes out: immutable Structs the server
encodes straight to JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal
from uuid import UUID

import msgspec

from toolkits.answers import CaseDetails, ContributionContent
from toolkits.model import AlertKind
from toolkits.validation import case_detail_values

ContributionStatus = Literal["not-started", "in-progress", "submitted", "returned"]

OVERALL = "overall"  # the moderation target for the overall judgement


class _Value(msgspec.Struct, frozen=True, kw_only=True):
    pass


# --- input -------------------------------------------------------------------


class AgencyContribution(_Value, frozen=True, kw_only=True):
    """One participating organisation's part of an audit. Only a
    ``submitted`` contribution's grades count; every contribution's answers
    (and significant failures) can raise an immediate concern."""

    organisation_id: str
    organisation_name: str
    agency_kind: str
    status: ContributionStatus
    content: ContributionContent = ContributionContent()


class CaseFacts(_Value, frozen=True, kw_only=True):
    """What merging needs to know about the case itself: who referred it
    (some sections are judged by the referring agency only, seed 003's
    "Referring agency + children's social care") and the case details
    (question id → answer value) that decide which conditional sections are
    part of this case (seed 001's CIN/CP and looked-after variants). Empty
    case details show every section, as in :mod:`agencies.applicability`."""

    referring_organisation_id: str | None = None
    case_details: Mapping[str, Any] = {}

    @classmethod
    def of(cls, details: CaseDetails, *, referring_organisation_id: UUID | str | None) -> CaseFacts:
        """The facts of a case from the coordinator's case details and the
        referring organisation's id (``None``: no referrer recorded), named
        as the contributions name their organisations. The one way the
        server builds them, so the judgement shown and the one the themes
        count read a case alike."""
        return cls(
            referring_organisation_id=str(referring_organisation_id) if referring_organisation_id else None,
            case_details=case_detail_values(details),
        )


class Moderation(_Value, frozen=True, kw_only=True):
    """A grade the partnership agreed, with its reason (DESIGN: moderation)."""

    target: str  # a section id, or OVERALL
    grade: int
    reason: str
    moderated_by: str
    moderated_at: str  # ISO 8601


# --- output ------------------------------------------------------------------


class AgencyGrade(_Value, frozen=True, kw_only=True):
    """One agency's grade, beside the partnership's (provenance)."""

    organisation_id: str
    organisation_name: str
    agency_kind: str
    grade: int
    label: str


class NotInvolvedAgency(_Value, frozen=True, kw_only=True):
    """An agency that said it was not involved at this stage, and why: left
    out of the section's grade, and named beside it (provenance)."""

    organisation_id: str
    organisation_name: str
    agency_kind: str
    reason: str


class Disagreement(_Value, frozen=True, kw_only=True):
    """Agencies two or more grades apart: for moderation (seed 003: "where
    consensus amongst agencies … has not been reached")."""

    spread: int  # worst grade − best grade
    best: tuple[AgencyGrade, ...]  # the agencies at the better end
    worst: tuple[AgencyGrade, ...]  # the agencies at the worse end


class AgreedGrade(_Value, frozen=True, kw_only=True):
    """What reviewers agreed, as they recorded it."""

    grade: int
    label: str
    reason: str
    moderated_by: str
    moderated_at: str


class AwaitingAgency(_Value, frozen=True, kw_only=True):
    """An invited agency whose contribution is not (or no longer) submitted."""

    organisation_id: str
    organisation_name: str
    agency_kind: str
    status: ContributionStatus


class SectionResult(_Value, frozen=True, kw_only=True):
    section_id: str
    title: str
    counts_towards_overall: bool
    # The partnership's grade: the agreed one where moderated, else computed.
    grade: int | None
    label: str | None
    computed_grade: int | None
    computed_label: str | None
    rule: str  # how the grade came about, in plain words
    agencies: tuple[AgencyGrade, ...]  # every submitted grade, best first
    disagreement: Disagreement | None
    moderation: AgreedGrade | None
    # Invited agencies that judge this section and have not submitted: the
    # section's grade may still change.
    provisional: bool
    awaiting: tuple[AwaitingAgency, ...]
    # Submitting agencies that were not involved at this stage: left out.
    not_involved: tuple[NotInvolvedAgency, ...] = ()
    # Significant failures submitted in this section (each also an
    # immediate concern, and the reason the case is inadequate).
    significant_failures: tuple[SignificantFailureRecord, ...] = ()


class OverallCounts(_Value, frozen=True, kw_only=True):
    """The areas the overall rule counted (sections that count towards the
    overall judgement and have a partnership grade)."""

    areas: int
    outstanding: int
    good_or_better: int
    adequate_or_better: int
    inadequate: int
    not_yet_graded: int  # areas of this case no agency has graded yet
    not_involved: int = 0  # areas no submitting agency was involved in (left out)


class StatedJudgement(_Value, frozen=True, kw_only=True):
    """One submitting agency's own overall judgement beside what its own
    grades compute (seed 002: "include here where individual judgements may
    not appear to align with the overall judgement"): by the toolkit's
    grading guidance where it counts features (seed 000), else by the
    policy's overall rule over the agency's own section grades."""

    organisation_id: str
    organisation_name: str
    agency_kind: str
    stated_grade: int | None
    stated_label: str | None
    computed_grade: int | None
    computed_label: str | None
    computed_by: str  # how, in words: "its own section grades, under the weakest-link rule"
    differs: bool
    note: str | None  # the difference, said in a sentence, when there is one


class OverallResult(_Value, frozen=True, kw_only=True):
    grade: int | None
    label: str | None
    computed_grade: int | None
    computed_label: str | None
    trace: tuple[str, ...]  # the rule, step by step, in plain words
    counts: OverallCounts
    agencies: tuple[AgencyGrade, ...]  # each submitted agency's own overall judgement
    disagreement: Disagreement | None  # between those own judgements
    moderation: AgreedGrade | None
    # Each submitted agency's stated overall beside what its grades compute.
    stated: tuple[StatedJudgement, ...] = ()


class SignificantFailureRecord(_Value, frozen=True, kw_only=True):
    """A significant failure an agency recorded in a section of its work."""

    organisation_id: str
    organisation_name: str
    agency_kind: str
    section_id: str
    section_title: str
    description: str
    submitted: bool
    status: ContributionStatus


class ImmediateConcern(_Value, frozen=True, kw_only=True):
    """What must reach the partnership at once (seed 002: "If there are
    immediate concerns the manager must be notified"), from a draft as much
    as from a submitted contribution: an answer that raises an alert, or a
    significant failure an agency recorded in a section (then
    ``description`` holds its words and there is no question)."""

    organisation_id: str
    organisation_name: str
    agency_kind: str
    kind: AlertKind  # child-not-safe, significant-failure, escalation
    section_id: str
    question_id: str | None  # None: a significant failure recorded in the section
    question: str | None  # the question's text
    answer: str | None  # the answer that raised it
    message: str
    submitted: bool  # False: raised from a contribution not (yet) submitted
    status: ContributionStatus
    section_title: str = ""
    description: str | None = None  # a significant failure's description


class AgencyAnswer(_Value, frozen=True, kw_only=True):
    """One agency's answer to a question merged into the judgement."""

    organisation_id: str
    organisation_name: str
    agency_kind: str
    value: int | str
    label: str  # the grade's or the choice's label, or the date as written
    comments: str | None = None


class ItemResult(_Value, frozen=True, kw_only=True):
    """A question the partnership's judgement merges beside the sections
    (003's Every Child Matters outcome grades and key questions, 002's
    graded items outside a section judgement): each agency's answer, the
    partnership's, and whether they disagree."""

    section_id: str
    section_title: str
    question_id: str
    question: str
    kind: str  # grade, yes-no, date
    value: int | str | None  # the partnership's answer
    label: str | None
    rule: str  # how the partnership's answer came about
    agencies: tuple[AgencyAnswer, ...]
    disagreement: bool  # grades two or more apart, or answers that differ
    spread: int | None = None  # for grades: worst − best
    not_involved: tuple[NotInvolvedAgency, ...] = ()


class PartnershipJudgement(_Value, frozen=True, kw_only=True):
    toolkit_id: str
    toolkit_version: int
    policy: str  # the policy's id (for machines)
    policy_description: str
    # Some invited agencies have not submitted: a partial view, not the
    # agreed one. Never once the audit is closed (``final``).
    provisional: bool
    awaiting: tuple[AwaitingAgency, ...]
    sections: tuple[SectionResult, ...]
    overall: OverallResult
    immediate_concerns: tuple[ImmediateConcern, ...]
    policy_title: str = ""  # the policy in plain words: "the partnership's 75% / 25% rule"
    rules_edition: int = 1  # the edition of the rules the audit is judged by
    # The audit is closed: the judgement is final, and these agencies never
    # submitted (their work is not part of it).
    final: bool = False
    never_submitted: tuple[AwaitingAgency, ...] = ()
    items: tuple[ItemResult, ...] = ()  # answers merged beside the sections
