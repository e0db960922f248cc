"""Themes across a partnership's audits, as pure functions.

An audit's partnership judgement is summarised once, when it can change
(:func:`summarise`); the summary is counted into rows keyed by what the
dashboard filters on (:func:`section_counts`, :func:`agency_counts`), and a
refresh applies only the difference between the old and the new counts
(:func:`difference`). The dashboard then adds up a few thousand counted rows
instead of merging a hundred thousand audits.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Literal

import msgspec

from merging import OVERALL, PartnershipJudgement
from server.db.themes import (
    AgencyKey,
    AgencyRow,
    AgencySectionGrade,
    AuditSummaryRow,
    QuarterRow,
    SectionKey,
    SectionRow,
    SectionSummary,
    SectionValues,
)
from toolkits.model import Toolkit

NOT_GRADED = 0  # the grade recorded for a section no agency has graded yet
EVERY_AUDIT = "*"  # participating_kind of the rows that count every audit
STATUSES = ("draft", "open", "in-review", "closed")


def quarter_of(day: datetime.date) -> datetime.date:
    """The first day of the quarter ``day`` falls in."""
    return datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_name(first_day: datetime.date) -> str:
    return f"{first_day.year}-Q{(first_day.month - 1) // 3 + 1}"


_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def parse_quarter(text: str) -> datetime.date | None:
    """``2025-Q2`` → 2025-04-01; None when it is not a quarter."""
    match = _QUARTER.match(text.strip())
    if match is None:
        return None
    return datetime.date(int(match[1]), 3 * (int(match[2]) - 1) + 1, 1)


def quarter_after(quarter: datetime.date) -> datetime.date:
    """The first day after the quarter starting on ``quarter`` (the last
    representable day for 9999-Q4, which has no next quarter)."""
    if quarter >= datetime.date(9999, 10, 1):
        return datetime.date(9999, 12, 31)
    month = quarter.month + 3
    return datetime.date(quarter.year + (month > 12), (month - 1) % 12 + 1, 1)


def summarise(
    judgement: PartnershipJudgement,
    *,
    audit_id: str,
    partnership_id: str,
    status: str,
    created: datetime.date,
    participating_kinds: Iterable[str],
) -> AuditSummaryRow:
    concerns = Counter(concern.section_id for concern in judgement.immediate_concerns)
    sections = [
        SectionSummary(
            section_id=s.section_id,
            grade=s.grade,
            computed_grade=s.computed_grade,
            disagreement=s.disagreement is not None,
            moderated=s.moderation is not None,
            provisional=s.provisional,
            concerns=concerns.get(s.section_id, 0),
        )
        for s in judgement.sections
    ]
    overall = judgement.overall
    sections.append(
        SectionSummary(
            section_id=OVERALL,
            grade=overall.grade,
            computed_grade=overall.computed_grade,
            disagreement=overall.disagreement is not None,
            moderated=overall.moderation is not None,
            provisional=judgement.provisional,
            concerns=len(judgement.immediate_concerns),
        )
    )
    agency_grades = [
        AgencySectionGrade(
            organisation_id=a.organisation_id, agency_kind=a.agency_kind, section_id=s.section_id, grade=a.grade
        )
        for s in judgement.sections
        for a in s.agencies
    ] + [
        AgencySectionGrade(
            organisation_id=a.organisation_id, agency_kind=a.agency_kind, section_id=OVERALL, grade=a.grade
        )
        for a in overall.agencies
    ]
    return AuditSummaryRow(
        audit_id=audit_id,
        partnership_id=partnership_id,
        toolkit_id=judgement.toolkit_id,
        status=status,
        quarter=quarter_of(created),
        provisional=judgement.provisional,
        overall_grade=overall.grade,
        immediate_concerns=len(judgement.immediate_concerns),
        sections=tuple(sections),
        agency_grades=tuple(agency_grades),
        participating_kinds=tuple(sorted(set(participating_kinds))),
    )


# --- counting ----------------------------------------------------------------


def section_counts(summary: AuditSummaryRow | None) -> dict[SectionKey, SectionValues]:
    """The audit's rows of ``theme_section_counts``: each section once for
    every audit ('*') and once for each agency kind that took part."""
    if summary is None:
        return {}
    counts: dict[SectionKey, SectionValues] = {}
    for kind in (EVERY_AUDIT, *summary.participating_kinds):
        for s in summary.sections:
            key = (
                summary.partnership_id,
                kind,
                summary.quarter,
                summary.toolkit_id,
                summary.status,
                s.section_id,
                NOT_GRADED if s.grade is None else s.grade,
            )
            counts[key] = (1, int(s.disagreement), int(s.moderated), int(s.provisional), s.concerns)
    return counts


def agency_counts(summary: AuditSummaryRow | None) -> dict[AgencyKey, int]:
    if summary is None:
        return {}
    counts: Counter[AgencyKey] = Counter()
    for g in summary.agency_grades:
        key = (
            summary.partnership_id,
            summary.quarter,
            summary.toolkit_id,
            summary.status,
            g.organisation_id,
            g.agency_kind,
            g.section_id,
            g.grade,
        )
        counts[key] += 1
    return dict(counts)


def add_section_counts(
    total: dict[SectionKey, SectionValues], more: Mapping[SectionKey, SectionValues], sign: int = 1
) -> None:
    for key, values in more.items():
        before = total.get(key, (0, 0, 0, 0, 0))
        total[key] = tuple(b + sign * v for b, v in zip(before, values, strict=True))  # type: ignore[assignment]


def add_agency_counts(total: dict[AgencyKey, int], more: Mapping[AgencyKey, int], sign: int = 1) -> None:
    for key, value in more.items():
        total[key] = total.get(key, 0) + sign * value


def difference(
    old: AuditSummaryRow | None, new: AuditSummaryRow | None
) -> tuple[list[tuple[SectionKey, SectionValues]], list[tuple[AgencyKey, int]]]:
    """What to add to the counted rows to replace ``old`` by ``new``, in key
    order (concurrent refreshes then lock rows in the same order and cannot
    deadlock); rows whose counts do not change are left out."""
    sections: dict[SectionKey, SectionValues] = {}
    add_section_counts(sections, section_counts(new))
    add_section_counts(sections, section_counts(old), sign=-1)
    agencies: dict[AgencyKey, int] = {}
    add_agency_counts(agencies, agency_counts(new))
    add_agency_counts(agencies, agency_counts(old), sign=-1)
    return (
        sorted((k, v) for k, v in sections.items() if any(v)),
        sorted((k, v) for k, v in agencies.items() if v),
    )


# --- the dashboard -------------------------------------------------------------


class Filters(msgspec.Struct, frozen=True, kw_only=True):
    period_from: str | None = None  # "2025-Q1"
    period_to: str | None = None
    toolkit: str | None = None
    agency_kind: str | None = None
    status: str | None = None
    programme: str | None = None  # a programme's id: only its audits


class GradeCount(msgspec.Struct, frozen=True, kw_only=True):
    grade: int | None  # None: not graded yet
    label: str
    count: int


class SectionTheme(msgspec.Struct, frozen=True, kw_only=True):
    """The partnership's grades of one section across the audits."""

    toolkit_id: str
    section_id: str
    title: str
    audits: int
    grades: tuple[GradeCount, ...]
    disagreed: int
    moderated: int
    provisional: int
    immediate_concerns: int


class AgencyKindTheme(msgspec.Struct, frozen=True, kw_only=True):
    """One agency kind's own submitted grades of one section."""

    agency_kind: str
    toolkit_id: str
    section_id: str
    title: str
    grades: tuple[GradeCount, ...]
    average: float | None


class QuarterTheme(msgspec.Struct, frozen=True, kw_only=True):
    """The partnership's overall grades of the audits started in one quarter."""

    quarter: str
    audits: int
    grades: tuple[GradeCount, ...]
    average: float | None


class OverdueActions(msgspec.Struct, frozen=True, kw_only=True):
    agency_kind: str  # of the responsible organisation; "unassigned" when none is named
    overdue: int


class Themes(msgspec.Struct, frozen=True, kw_only=True):
    """The dashboard. ``scope`` says whose view it is: the partnership's
    (coordinators, reviewers) or one organisation's (an agency's auditor,
    who sees only its own submitted grades and its own overdue actions; the
    partnership-wide parts are null)."""

    scope: Literal["partnership", "organisation"]
    filters: Filters
    audits: int | None
    sections: tuple[SectionTheme, ...] | None
    agency_kinds: tuple[AgencyKindTheme, ...]
    trend: tuple[QuarterTheme, ...] | None
    immediate_concerns: int | None
    overdue_actions: tuple[OverdueActions, ...]
    overdue_total: int


Titles = Mapping[tuple[str, str], str]  # (toolkit id, section id) → title
Labels = Mapping[str, Mapping[int, str]]  # toolkit id → grade value → label


def titles_and_labels(toolkits: Iterable[Toolkit]) -> tuple[dict[tuple[str, str], str], dict[str, dict[int, str]]]:
    titles = {(t.id, s.id): s.title for t in toolkits for s in t.sections}
    titles.update({(t.id, OVERALL): "Overall judgement" for t in toolkits})
    labels = {t.id: {g.value: g.label for g in t.scale.grades} for t in toolkits}
    return titles, labels


def _grades(counts: Mapping[int, int], labels: Mapping[int, str], *, with_not_graded: bool) -> tuple[GradeCount, ...]:
    # A grade is named by its toolkit's label; a toolkit no longer installed
    # has none, and its grades are still words ("Grade 2"), never a bare "2".
    graded = [GradeCount(grade=g, label=labels.get(g, f"Grade {g}"), count=counts.get(g, 0)) for g in (1, 2, 3, 4)]
    if with_not_graded:
        graded.append(GradeCount(grade=None, label="Not graded yet", count=counts.get(NOT_GRADED, 0)))
    return tuple(graded)


def _average(counts: Mapping[int, int]) -> float | None:
    graded = {g: n for g, n in counts.items() if g != NOT_GRADED and n}
    total = sum(graded.values())
    return round(sum(g * n for g, n in graded.items()) / total, 2) if total else None


def _section_order(key: tuple[str, str], titles: Titles) -> tuple[str, int, str]:
    # Toolkit order, then the toolkit's own section order (titles are listed
    # in it), the overall judgement last.
    toolkit_id, section_id = key
    positions = _positions(tuple(titles))
    position = positions.get(key, len(positions))
    return (toolkit_id, position if section_id != OVERALL else 10_000_000, section_id)


@functools.lru_cache(maxsize=8)
def _positions(keys: tuple[tuple[str, str], ...]) -> dict[tuple[str, str], int]:
    return {key: i for i, key in enumerate(keys)}


def section_themes(rows: Iterable[SectionRow], titles: Titles, labels: Labels) -> tuple[SectionTheme, ...]:
    by_section: dict[tuple[str, str], list[SectionRow]] = {}
    for row in rows:
        by_section.setdefault((row.toolkit_id, row.section_id), []).append(row)
    themes = []
    for key in sorted(by_section, key=lambda k: _section_order(k, titles)):
        found = by_section[key]
        grades: Counter[int] = Counter()
        for row in found:
            grades[row.grade] += row.audits
        themes.append(
            SectionTheme(
                toolkit_id=key[0],
                section_id=key[1],
                title=titles.get(key, key[1]),
                audits=sum(r.audits for r in found),
                grades=_grades(grades, labels.get(key[0], {}), with_not_graded=True),
                disagreed=sum(r.disagreed for r in found),
                moderated=sum(r.moderated for r in found),
                provisional=sum(r.provisional for r in found),
                immediate_concerns=sum(r.concerns for r in found),
            )
        )
    return tuple(themes)


def quarter_themes(rows: Iterable[QuarterRow], labels: Labels) -> tuple[QuarterTheme, ...]:
    """The overall judgement's grades per quarter. Labels of mixed toolkits
    differ in words, not in value, so the first toolkit's words are used."""
    by_quarter: dict[datetime.date, Counter[int]] = {}
    for row in rows:
        by_quarter.setdefault(row.quarter, Counter())[row.grade] += row.audits
    words = next(iter(labels.values()), {})
    return tuple(
        QuarterTheme(
            quarter=quarter_name(quarter),
            audits=sum(counts.values()),
            grades=_grades(counts, words, with_not_graded=True),
            average=_average(counts),
        )
        for quarter, counts in sorted(by_quarter.items())
    )


def agency_kind_themes(rows: Iterable[AgencyRow], titles: Titles, labels: Labels) -> tuple[AgencyKindTheme, ...]:
    by_key: dict[tuple[str, str, str], Counter[int]] = {}
    for row in rows:
        by_key.setdefault((row.agency_kind, row.toolkit_id, row.section_id), Counter())[row.grade] += row.grades
    ordered = sorted(by_key, key=lambda k: (k[0], *_section_order((k[1], k[2]), titles)))
    return tuple(
        AgencyKindTheme(
            agency_kind=kind,
            toolkit_id=toolkit_id,
            section_id=section_id,
            title=titles.get((toolkit_id, section_id), section_id),
            grades=_grades(by_key[(kind, toolkit_id, section_id)], labels.get(toolkit_id, {}), with_not_graded=False),
            average=_average(by_key[(kind, toolkit_id, section_id)]),
        )
        for kind, toolkit_id, section_id in ordered
    )
