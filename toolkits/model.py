"""The typed model of an audit toolkit: what an audit asks, and of whom.

A toolkit definition is data (one YAML file per toolkit version under
``toolkits/definitions/<id>/<version>.yaml``). These Structs are what such a
file decodes into; :mod:`toolkits.checks` then checks what the types cannot
(unique ids, references between parts, non-empty text).

Nothing here knows about any particular seed tool.
"""

from __future__ import annotations

from typing import Literal

import msgspec

AnswerKind = Literal[
    "grade",  # the toolkit's 4-point scale, 1 best … 4 worst
    "yes-no",
    "yes-partly-no",
    "yes-sometimes-no",
    "always-sometimes-never",
    "tick",  # a box that is ticked or not ("Is the child … tick as appropriate")
    "date",
    "text",
    "evidence",  # references to documents: document + date
    "single-choice",
    "multiple-choice",
    "number",
    "rows",  # repeating rows of columns: family members, remedial actions
]

# Kinds allowed as a column of a repeating row.
ColumnKind = Literal["text", "date", "number", "yes-no", "tick", "single-choice"]

# The fixed answer choices of the kinds that have them. The labels are the
# seeds' own words (e.g. 004: "Yes / Sometimes / No", "Always / Sometimes /
# Never").
FIXED_CHOICES: dict[str, tuple[tuple[str, str], ...]] = {
    "yes-no": (("yes", "Yes"), ("no", "No")),
    "yes-partly-no": (("yes", "Yes"), ("partly", "Partly"), ("no", "No")),
    "yes-sometimes-no": (("yes", "Yes"), ("sometimes", "Sometimes"), ("no", "No")),
    "always-sometimes-never": (
        ("always", "Always"),
        ("sometimes", "Sometimes"),
        ("never", "Never"),
    ),
}

Requirement = Literal["none", "optional", "required"]

# Who fills a section in: the coordinator once, centrally, before the audit
# is distributed (case details, the Tier 2 header), or each agency auditor.
CompletedBy = Literal["coordinator", "agency"]

# What an answer tells the partnership straight away (DESIGN: immediate
# concern). ``child-not-safe``: "Is the child currently safe…" answered no;
# ``significant-failure``: 000's "significant failure which has impacted on
# the safety of the child"; ``escalation``: 004's "Case to be escalated".
AlertKind = Literal["child-not-safe", "significant-failure", "escalation"]


class _Definition(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every part of a definition: immutable, and a typo in a data
    file is an error rather than a silently ignored key."""


class Grade(_Definition, frozen=True, kw_only=True):
    """One point of a 4-point scale."""

    value: int  # 1 = best … 4 = worst
    label: str  # "Outstanding", "Requires improvement", …
    code: str | None = None  # 001's letters: "O", "G", "R", "I"
    description: str | None = None  # what the grade means, in the seed's words


class Scale(_Definition, frozen=True, kw_only=True):
    id: str
    grades: tuple[Grade, ...]


class Choice(_Definition, frozen=True, kw_only=True):
    value: str  # stable code stored in answers
    label: str  # the seed's wording


class Column(_Definition, frozen=True, kw_only=True):
    """One column of a repeating-rows question (family members, remedial actions)."""

    id: str
    label: str
    kind: ColumnKind = "text"
    required: bool = False
    choices: tuple[Choice, ...] = ()


class Alert(_Definition, frozen=True, kw_only=True):
    """An answer that must reach the partnership at once."""

    kind: AlertKind
    when: tuple[str, ...]  # answer values that raise it, e.g. ("no",)
    message: str


class Selector(_Definition, frozen=True, kw_only=True):
    """Who answers a question, as written in the seed (003 prefixes questions
    with "All relevant agencies:", "Children's Social Care only:",
    "Referring agency + children's social care:" …).

    An agency answers when its kind is in ``agencies`` (``"*"`` = every
    agency), or ``referrer`` is true and it referred the case; and its kind is
    not in ``except_agencies``.
    """

    label: str  # the seed's wording
    agencies: tuple[str, ...] = ()
    referrer: bool = False
    except_agencies: tuple[str, ...] = ()


class Condition(_Definition, frozen=True, kw_only=True):
    """Ask a section or a question only when a case detail has one of some
    values: 001's two variants of planning and review (CIN/CP, and looked
    after), its criteria only a looked-after child's work has ("Placement
    finding", "Life Story work"), 002's items that say so themselves ("If
    CP, …", "For CwD …"). The case details decide; with none known yet,
    everything is shown."""

    case_detail: str  # id of a question in a coordinator section
    any_of: tuple[str, ...]


class Feature(_Definition, frozen=True, kw_only=True):
    """One feature of an area of work, as a grading guidance's descriptors
    describe it at each grade (seed 000: the Good, Adequate and Inadequate
    cells of one area say the same things at three levels, clause by
    clause: "The child's needs were identified accurately" / "The child's
    needs were identified" / "The child's needs were not fully
    identified"). ``texts`` maps the grade to the seed's clause; a feature
    the seed describes at only some grades has only those. The auditor
    marks which of them is evident; :mod:`toolkits.grading` counts them."""

    id: str
    texts: dict[int, str]  # grade value (2, 3, 4) → the seed's clause


class Question(_Definition, frozen=True, kw_only=True):
    id: str  # stable: stored in answers, used as FHIR linkId
    text: str
    kind: AnswerKind
    required: bool = True  # must be answered before an agency submits
    applies_to: str | None = None  # a selector id; None = the section's
    guidance: str | None = None  # "What are you looking for?" and similar
    points: tuple[str, ...] = ()  # the seed's bullet points under the question
    descriptors: dict[int, str] = {}  # grade value → what that grade looks like
    choices: tuple[Choice, ...] = ()  # single- and multiple-choice only
    columns: tuple[Column, ...] = ()  # rows only
    comments: Requirement = "none"  # the "Auditor comments" box
    comments_label: str | None = None  # overrides the section's label
    evidence: Requirement = "none"  # the "Evidenced by" references
    min: float | None = None  # number only
    max: float | None = None
    alert: Alert | None = None
    condition: Condition | None = None  # asked only on some cases (see Condition)
    # Merged into the partnership's judgement beside the sections: each
    # agency's answer, the partnership's, and whether they disagree (003's
    # Every Child Matters outcome grades and key questions, 002's graded
    # items outside a section judgement). None: a grade question of an
    # agency section that has no judgement of its own is merged, nothing
    # else is.
    in_judgement: bool | None = None


class SectionJudgement(_Definition, frozen=True, kw_only=True):
    """A section's overall judgement: a grade and the impact/evidence text
    ("Overall judgement on Assessment work?" / "Impact (What has changed/
    improved and is this sustainable):")."""

    prompt: str
    impact_label: str
    descriptors: dict[int, str] = {}  # grade value → descriptor (001, 004)
    impact_required: bool = True
    # The area's features, when the guidance grades by counting them (seed
    # 000): the auditor marks each, is given the grade the guidance
    # suggests, and confirms it or gives another with a reason.
    features: tuple[Feature, ...] = ()


class Section(_Definition, frozen=True, kw_only=True):
    id: str
    title: str
    completed_by: CompletedBy = "agency"
    guidance: str | None = None
    applies_to: str | None = None  # default selector of its questions
    condition: Condition | None = None
    comments_label: str | None = None  # e.g. "Auditor comments"
    evidence_label: str | None = None  # e.g. "Evidenced by: name and date…"
    questions: tuple[Question, ...] = ()
    judgement: SectionJudgement | None = None
    # Whether the section's judgement counts as an "area" in the overall
    # judgement (ECM outcomes, for instance, are graded but are not an area
    # of the audited work).
    counts_towards_overall: bool = True


class OverallJudgement(_Definition, frozen=True, kw_only=True):
    prompt: str
    descriptors: dict[int, str] = {}
    rationale_label: str | None = None
    # The overall rule's conditions an auditor states (seed 000: good
    # "providing the child has been effectively safeguarded and their
    # welfare promoted throughout the work", adequate "providing the child
    # has been safeguarded and their welfare generally promoted"), as
    # features marked like an area's: with them, and areas that have
    # features, the overall grade is suggested by :mod:`toolkits.grading`.
    features: tuple[Feature, ...] = ()


class NotInvolvedOption(_Definition, frozen=True, kw_only=True):
    """Whether an agency may say, section by section, that it was not
    involved in that stage of the work instead of grading it (seed 003 "is
    to be completed by each of the agencies involved with the child"; its
    questions are for "All relevant agencies"). Offered on every graded
    agency section of a toolkit that has it."""

    label: str  # "Not involved at this stage"
    reason_label: str  # the prompt for the short reason


class Toolkit(_Definition, frozen=True, kw_only=True):
    id: str
    version: int
    title: str
    source: str  # the seed the definition encodes
    marking: str | None = None  # "RESTRICTED WHEN COMPLETED…"
    introduction: str | None = None
    audit_period_guidance: str | None = None
    scale: Scale
    merge_policy: str  # default policy name; a partnership may choose another
    selectors: dict[str, Selector] = {}
    default_applies_to: str | None = None  # selector id; None = every agency
    sections: tuple[Section, ...]
    overall: OverallJudgement | None = None
    # Agencies may mark a graded section "not involved" (multi-agency tools).
    not_involved: NotInvolvedOption | None = None
