"""The grade a grading guidance suggests from the features an auditor found
evident: seed 000's rule, as written.

Seed 000 (Early Intervention – grading guidance) describes each area of
analysis at Good, Adequate and Inadequate, feature by feature, and judges a
case by counting them (its "Overall judgement" row):

- "The case can only be judged as outstanding overall if every area of
  analysis has been judged good or better." — and its Outstanding cell: "If
  every area of analysis on a case is consistently good or better, the case
  can be judged outstanding overall."
- "The case should be judged as good if at least 75% of the features above
  are evident; providing the child has been effectively safeguarded and
  their welfare promoted throughout the work."
- "The case should be judged as adequate if at least 75% of the features
  above are evident (or better); providing the child has been safeguarded
  and their welfare generally promoted throughout the work. However, any
  significant failings will render the case inadequate."
- "If 25% or more of the features above are evident, or if there is a
  significant failure which has impacted on the safety of the child, the
  case should be considered inadequate."

"The features above" of a column are the features that column describes;
a feature counts as evident at Adequate "(or better)" when the auditor
found it at Adequate or at Good. The auditor marks, for each feature, the
grade whose description fits the work (:class:`toolkits.model.Feature`);
a mark of 4 on a feature the guidance does not describe at Inadequate
means "none of the better descriptions is evident".

Each choice the seed leaves open is marked **Choice**:

- **Choice:** the rule is applied in this order — inadequate, outstanding,
  good, adequate — so exactly 25% inadequate features is inadequate even
  when 75% are adequate or better (the safer reading).
- **Choice:** a case (or area) that meets none of the sentences is
  inadequate: it is not adequate, and the scale has nothing between.
- **Choice:** outstanding is suggested only for the whole case, when every
  area is graded good or better, the case is good by the features, and
  every feature is evident at Good ("consistently good"); the seed
  describes no area at Outstanding.
- **Choice:** an area's grade is suggested by the same sentences over that
  area's features, without the case's safeguarding conditions (they are
  about the whole of the work), and a significant failure recorded in the
  area makes the area inadequate too.

Pure functions; :mod:`agencies.contributions` checks a contribution against
the suggestion (a grade other than the suggested one needs a reason), and
:mod:`merging` shows it beside each agency's stated grades.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import msgspec

from toolkits.model import Feature, Section, SectionJudgement, Toolkit

__all__ = [
    "FeatureCounts",
    "Suggestion",
    "at_least",
    "count_features",
    "featured_areas",
    "marks_allowed",
    "percent",
    "share",
    "suggest_area",
    "suggest_overall",
]

OUTSTANDING, GOOD, ADEQUATE, INADEQUATE = 1, 2, 3, 4
DEFAULT_LABELS: Final[Mapping[int, str]] = {1: "Outstanding", 2: "Good", 3: "Adequate", 4: "Inadequate"}


def at_least(count: int, total: int, percent: int) -> bool:
    """``count`` is at least ``percent``% of ``total`` (exactly, in integers:
    3 of 4 is 75%, 2 of 3 is not)."""
    return total > 0 and 100 * count >= percent * total


def percent(count: int, total: int) -> str:
    """ "75%", or "33.3%" where the share is not whole."""
    whole, rest = divmod(100 * count, total)
    return f"{whole}%" if rest == 0 else f"{100 * count / total:.1f}%"


def share(count: int, total: int) -> str:
    """ "3 of 4 (75%)"; one decimal where the share is not whole, so 73.3%
    never reads as a rounded-up 75% beside a 75% threshold."""
    if total == 0:
        return "0 of 0"
    whole, rest = divmod(100 * count, total)
    return f"{count} of {total} ({whole}%)" if rest == 0 else f"{count} of {total} ({100 * count / total:.1f}%)"


def marks_allowed(feature: Feature) -> tuple[int, ...]:
    """The grades an auditor may mark a feature at: those the guidance
    describes it at, and 4 ("none of these") where it has no Inadequate
    description of its own."""
    return tuple(sorted({*feature.texts, INADEQUATE}))


class FeatureCounts(msgspec.Struct, frozen=True, kw_only=True):
    """How many of the features each column describes are evident."""

    good: int  # evident at Good
    good_of: int  # described at Good
    adequate: int  # evident at Adequate or better
    adequate_of: int  # described at Adequate
    inadequate: int  # evident at Inadequate
    inadequate_of: int  # described at Inadequate
    all_good: bool  # every feature evident at Good ("consistently good")


class Suggestion(msgspec.Struct, frozen=True, kw_only=True):
    """The grade the guidance suggests, and why, one plain sentence a step;
    ``grade`` is None until every feature is marked."""

    grade: int | None
    steps: tuple[str, ...]
    counts: FeatureCounts | None = None


def count_features(features: tuple[Feature, ...], marks: Mapping[str, int]) -> FeatureCounts:
    good = adequate = inadequate = good_of = adequate_of = inadequate_of = 0
    for feature in features:
        mark = marks.get(feature.id)
        if GOOD in feature.texts:
            good_of += 1
            good += mark == GOOD
        if ADEQUATE in feature.texts:
            adequate_of += 1
            adequate += mark in (GOOD, ADEQUATE)
        if INADEQUATE in feature.texts:
            inadequate_of += 1
            inadequate += mark == INADEQUATE
    all_good = all(marks.get(f.id) == GOOD for f in features if GOOD in f.texts)
    return FeatureCounts(
        good=good,
        good_of=good_of,
        adequate=adequate,
        adequate_of=adequate_of,
        inadequate=inadequate,
        inadequate_of=inadequate_of,
        all_good=all_good,
    )


def _unmarked(features: tuple[Feature, ...], marks: Mapping[str, int]) -> int:
    return sum(1 for f in features if marks.get(f.id) not in marks_allowed(f))


def _yes(holds: bool) -> str:
    return "yes" if holds else "no"


def _ladder(
    counts: FeatureCounts,
    labels: Mapping[int, str],
    *,
    good_condition: tuple[bool, str] | None = None,
    adequate_condition: tuple[bool, str] | None = None,
    outstanding: tuple[bool, str] | None = None,
) -> tuple[int, list[str]]:
    """The seed's sentences in order over ``counts``; each condition is
    (whether it holds, how to say it)."""
    i, g, a, o = (labels[v] for v in (INADEQUATE, GOOD, ADEQUATE, OUTSTANDING))
    steps: list[str] = []
    is_inadequate = at_least(counts.inadequate, counts.inadequate_of, 25)
    steps.append(
        f"{i} if 25% or more of the features described as {i.lower()} are evident: "
        f"{share(counts.inadequate, counts.inadequate_of)} are — {_yes(is_inadequate)}."
    )
    if is_inadequate:
        return INADEQUATE, steps
    is_good = at_least(counts.good, counts.good_of, 75)
    if outstanding is not None:
        holds, words = outstanding
        met = holds and is_good and counts.all_good and (good_condition is None or good_condition[0])
        steps.append(
            f"{o} only if every area is {g.lower()} or better and every feature is evident as {g.lower()} "
            f"({words}): {_yes(met)}."
        )
        if met:
            return OUTSTANDING, steps
    good_words = f"{share(counts.good, counts.good_of)} are"
    if good_condition is not None:
        good_words += f", and {good_condition[1]}"
        is_good = is_good and good_condition[0]
    steps.append(
        f"{g} if at least 75% of the features described as {g.lower()} are evident: {good_words} — {_yes(is_good)}."
    )
    if is_good:
        return GOOD, steps
    is_adequate = at_least(counts.adequate, counts.adequate_of, 75)
    adequate_words = f"{share(counts.adequate, counts.adequate_of)} are"
    if adequate_condition is not None:
        adequate_words += f", and {adequate_condition[1]}"
        is_adequate = is_adequate and adequate_condition[0]
    steps.append(
        f"{a} if at least 75% of the features described as {a.lower()} are evident (or better): "
        f"{adequate_words} — {_yes(is_adequate)}."
    )
    if is_adequate:
        return ADEQUATE, steps
    steps.append(f"None of these holds, so {i.lower()}.")
    return INADEQUATE, steps


def suggest_area(
    judgement: SectionJudgement,
    marks: Mapping[str, int],
    *,
    significant_failure: bool = False,
    labels: Mapping[int, str] = DEFAULT_LABELS,
) -> Suggestion:
    """The grade the guidance suggests for one area from the features
    marked in it (the seed's sentences over that area's features)."""
    features = judgement.features
    if not features:
        return Suggestion(grade=None, steps=())
    missing = _unmarked(features, marks)
    if missing:
        return Suggestion(
            grade=None, steps=(f"Mark every feature to see the suggested grade: {missing} not marked yet.",)
        )
    counts = count_features(features, marks)
    if significant_failure:
        return Suggestion(
            grade=INADEQUATE,
            steps=(
                "A significant failure which has impacted on the safety of the child is recorded in this area, "
                f"so it is {labels[INADEQUATE].lower()}.",
            ),
            counts=counts,
        )
    grade, steps = _ladder(counts, labels)
    return Suggestion(grade=grade, steps=tuple(steps), counts=counts)


def featured_areas(toolkit: Toolkit) -> tuple[Section, ...]:
    """The agency sections graded by features that count towards the overall."""
    return tuple(
        s
        for s in toolkit.sections
        if s.completed_by == "agency" and s.counts_towards_overall and s.judgement is not None and s.judgement.features
    )


def suggest_overall(
    toolkit: Toolkit,
    area_marks: Mapping[str, Mapping[str, int]],
    area_grades: Mapping[str, int | None],
    overall_marks: Mapping[str, int],
    *,
    significant_failure: bool = False,
    labels: Mapping[int, str] | None = None,
    areas: tuple[Section, ...] | None = None,
) -> Suggestion:
    """The overall grade the guidance suggests from every area's features
    (``area_marks``: section id → marks), the areas' grades as the auditor
    gave them (``area_grades``, for outstanding), the overall conditions
    the auditor marked, and whether it recorded a significant failure.
    ``areas``: the areas of this agency's part (default: every featured
    area of the toolkit)."""
    labels = labels or {g.value: g.label for g in toolkit.scale.grades}
    overall = toolkit.overall
    areas = featured_areas(toolkit) if areas is None else areas
    if overall is None or not areas:
        return Suggestion(grade=None, steps=())
    # Feature ids are unique within an area, not across areas: count per area.
    missing = sum(_unmarked(s.judgement.features, area_marks.get(s.id, {})) for s in areas if s.judgement)
    missing += _unmarked(overall.features, overall_marks)
    if missing:
        return Suggestion(
            grade=None, steps=(f"Mark every feature to see the suggested grade: {missing} not marked yet.",)
        )
    per_area = [count_features(s.judgement.features, area_marks.get(s.id, {})) for s in areas if s.judgement]
    counts = FeatureCounts(
        good=sum(c.good for c in per_area),
        good_of=sum(c.good_of for c in per_area),
        adequate=sum(c.adequate for c in per_area),
        adequate_of=sum(c.adequate_of for c in per_area),
        inadequate=sum(c.inadequate for c in per_area),
        inadequate_of=sum(c.inadequate_of for c in per_area),
        all_good=all(c.all_good for c in per_area),
    )
    if significant_failure:
        return Suggestion(
            grade=INADEQUATE,
            steps=(
                "A significant failure which has impacted on the safety of the child is recorded, so the case is "
                f"{labels[INADEQUATE].lower()} (“any significant failings will render the case inadequate”).",
            ),
            counts=counts,
        )
    good_condition = adequate_condition = None
    for condition in overall.features:
        mark = overall_marks.get(condition.id)
        if GOOD in condition.texts:
            good_condition = (mark == GOOD, f"{_lower_first(condition.texts[GOOD])}: {_yes(mark == GOOD)}")
        if ADEQUATE in condition.texts:
            holds = mark in (GOOD, ADEQUATE)
            adequate_condition = (holds, f"{_lower_first(condition.texts[ADEQUATE])}: {_yes(holds)}")
    given = [area_grades.get(s.id) for s in areas]
    every_area_good = all(g is not None and g <= GOOD for g in given)
    grade, steps = _ladder(
        counts,
        labels,
        good_condition=good_condition,
        adequate_condition=adequate_condition,
        outstanding=(every_area_good, f"every area graded {labels[GOOD].lower()} or better: {_yes(every_area_good)}"),
    )
    return Suggestion(grade=grade, steps=tuple(steps), counts=counts)


def _lower_first(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[:1].lower() + text[1:]
