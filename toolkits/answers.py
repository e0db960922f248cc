"""What an agency (or the coordinator) puts into a toolkit: answers, section
judgements and the overall judgement, as they are sent and stored.

The value of an answer depends on its question's kind, so it is decoded as
plain JSON here and checked against the toolkit by :mod:`toolkits.validation`,
which can then name every wrong field at once.
"""

from __future__ import annotations

from typing import Any

import msgspec


class EvidenceReference(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """ "Evidenced by: name and date of relevant document; recorded decision;
    or other evidence." (seed 003)"""

    document: str
    date: str | None = None  # ISO 8601 date, checked by validation


class Answer(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    # grade → int 1–4; choice kinds → the choice's value; multiple-choice →
    # list of values; tick → true/false; date → "YYYY-MM-DD"; number → number;
    # text → string; evidence → list of {document, date}; rows → list of
    # {column id: value}.
    value: Any = None
    comments: str | None = None
    evidence: tuple[EvidenceReference, ...] = ()


class Judgement(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A grade on the toolkit's scale with the words that justify it.

    Where the toolkit grades by features (seed 000), ``features`` holds the
    grade at which the auditor found each feature evident (feature id →
    2, 3 or 4), and ``override_reason`` why the grade given is not the one
    the features suggest (:mod:`toolkits.grading`)."""

    grade: int | None = None
    impact: str | None = None
    features: dict[str, int] = {}
    override_reason: str | None = None


class NotInvolved(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An agency's "not involved at this stage", for one section, instead
    of grading it: its questions there are not asked of it, and the
    partnership's grade of that section leaves it out."""

    reason: str


class SignificantFailure(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Seed 000: "a significant failure which has impacted on the safety of
    the child", recorded by an agency in one section of its work. Submitted,
    it makes the case inadequate; in a draft as much as submitted, it is an
    immediate concern."""

    description: str


class ContributionContent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Everything one agency records on one audit."""

    answers: dict[str, Answer] = {}
    judgements: dict[str, Judgement] = {}  # section id → section judgement
    overall: Judgement | None = None
    not_involved: dict[str, NotInvolved] = {}  # section id → why the agency was not involved
    significant_failures: dict[str, SignificantFailure] = {}  # section id → the failure


class CaseDetails(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the coordinator fills in once, centrally: answers to the
    toolkit's coordinator sections."""

    answers: dict[str, Answer] = {}
