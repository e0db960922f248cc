"""What changed between two versions of an agency's contribution: each
answer, comment, grade and judgement that differs, in the toolkit's words
and order (the report's own reading of a contribution, so a change reads as
the report reads the answer)."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

from server.reports.report import ReportSection, contribution_sections
from toolkits.answers import ContributionContent, Judgement
from toolkits.model import Toolkit

__all__ = ["Change", "contribution_changes"]

NOTHING = "Nothing recorded"


class Change(msgspec.Struct, frozen=True, kw_only=True):
    section: str  # the section's title ("Overall" for the overall judgement)
    what: str  # the question, or "Grade", "Impact", "Not involved", …
    before: str
    after: str


def _grade(section: ReportSection) -> str:
    if section.grade is None:
        return NOTHING
    return f"{section.grade_label} ({section.grade})" if section.grade_label else str(section.grade)


def _section_changes(title: str, before: ReportSection | None, after: ReportSection | None) -> Iterator[Change]:
    def field(what: str, old: str | None, new: str | None) -> Iterator[Change]:
        if (old or "") != (new or ""):
            yield Change(section=title, what=what, before=old or NOTHING, after=new or NOTHING)

    yield from field(
        "Not involved at this stage",
        before.not_involved if before else None,
        after.not_involved if after else None,
    )
    old_answers = {a.question_id: a for a in (before.answers if before else ())}
    new_answers = {a.question_id: a for a in (after.answers if after else ())}
    for question_id in dict.fromkeys([*old_answers, *new_answers]):
        old, new = old_answers.get(question_id), new_answers.get(question_id)
        either = new or old
        question = either.question if either is not None else question_id
        yield from field(question, old.answer if old else None, new.answer if new else None)
        yield from field(f"{question}: comments", old.comments if old else None, new.comments if new else None)
    yield from field(
        "Grade",
        _grade(before) if before and before.grade is not None else None,
        _grade(after) if after and after.grade is not None else None,
    )
    yield from field("Impact", before.impact if before else None, after.impact if after else None)
    yield from field(
        "Significant failure",
        before.significant_failure if before else None,
        after.significant_failure if after else None,
    )
    yield from field(
        "Why not the suggested grade",
        before.override_reason if before else None,
        after.override_reason if after else None,
    )


def contribution_changes(toolkit: Toolkit, before: ContributionContent, after: ContributionContent) -> list[Change]:
    """Every difference between ``before`` and ``after``, section by
    section in the toolkit's order, then the overall judgement."""
    old = {s.section_id: s for s in contribution_sections(toolkit, before)}
    new = {s.section_id: s for s in contribution_sections(toolkit, after)}
    changes: list[Change] = []
    for section in toolkit.sections:
        if section.id in old or section.id in new:
            changes += _section_changes(section.title, old.get(section.id), new.get(section.id))
    labels = {g.value: g.label for g in toolkit.scale.grades}
    was, now = before.overall or Judgement(), after.overall or Judgement()

    def grade(value: int | None) -> str | None:
        return None if value is None else f"{labels.get(value, value)} ({value})"

    for what, old_text, new_text in (
        ("Overall grade", grade(was.grade), grade(now.grade)),
        ("Overall: impact", was.impact, now.impact),
        ("Overall: why not the suggested grade", was.override_reason, now.override_reason),
    ):
        if (old_text or "") != (new_text or ""):
            changes.append(Change(section="Overall", what=what, before=old_text or NOTHING, after=new_text or NOTHING))
    return changes
