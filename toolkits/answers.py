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
    """A grade on the toolkit's scale with the words that justify it."""

    grade: int | None = None
    impact: str | None = None


class ContributionContent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Everything one agency records on one audit."""

    answers: dict[str, Answer] = {}
    judgements: dict[str, Judgement] = {}  # section id → section judgement
    overall: Judgement | None = None


class CaseDetails(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the coordinator fills in once, centrally: answers to the
    toolkit's coordinator sections."""

    answers: dict[str, Answer] = {}
