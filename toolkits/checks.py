"""Checks on a decoded toolkit that its types cannot express.

Each problem names where it is (a path inside the definition, in the same
``$.sections[2].questions[0].id`` form msgspec uses for type errors) so that
whoever edits a definition file can find it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator

import msgspec

from toolkits.model import FIXED_CHOICES, Choice, Condition, Feature, Question, Toolkit

SCALE_VALUES = (1, 2, 3, 4)
# The grades a feature is described at: seed 000's Good, Adequate and
# Inadequate columns (its Outstanding cell is an overall rule, no feature).
FEATURE_GRADES = (2, 3, 4)
# The kinds of answer the partnership's judgement merges beside the sections.
MERGED_KINDS = ("grade", "yes-no", "date")


class DefinitionProblem(msgspec.Struct, frozen=True, kw_only=True):
    """What is wrong in a toolkit definition, at a JSON path of its file."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def choice_values(question: Question) -> tuple[str, ...]:
    """The answer values a choice-like question accepts."""
    if question.kind in FIXED_CHOICES:
        return tuple(value for value, _ in FIXED_CHOICES[question.kind])
    if question.kind == "tick":
        return ("ticked",)
    return tuple(choice.value for choice in question.choices)


def check_toolkit(
    toolkit: Toolkit,
    *,
    agency_kinds: Collection[str] | None = None,
    merge_policies: Collection[str] | None = None,
) -> list[DefinitionProblem]:
    """Every problem in ``toolkit``; an empty list means it may be loaded.

    ``agency_kinds`` and ``merge_policies`` are the vocabularies selectors and
    the default policy must come from; they live in the packages that own
    them (``agencies``, ``merging``), which depend on this one.
    """
    return list(_problems(toolkit, agency_kinds, merge_policies))


def _problems(
    toolkit: Toolkit,
    agency_kinds: Collection[str] | None,
    merge_policies: Collection[str] | None,
) -> Iterator[DefinitionProblem]:
    yield from _text("$.id", toolkit.id)
    yield from _text("$.title", toolkit.title)
    if toolkit.version < 1:
        yield DefinitionProblem(path="$.version", message="must be 1 or more")
    if merge_policies is not None and toolkit.merge_policy not in merge_policies:
        yield DefinitionProblem(
            path="$.merge_policy",
            message=f"unknown policy {toolkit.merge_policy!r}; known: {', '.join(sorted(merge_policies))}",
        )

    values = tuple(grade.value for grade in toolkit.scale.grades)
    if values != SCALE_VALUES:
        yield DefinitionProblem(path="$.scale.grades", message=f"must be the grades 1, 2, 3, 4 in order, not {values}")
    for i, grade in enumerate(toolkit.scale.grades):
        yield from _text(f"$.scale.grades[{i}].label", grade.label)

    for name, selector in toolkit.selectors.items():
        path = f"$.selectors.{name}"
        yield from _text(f"{path}.label", selector.label)
        if not selector.agencies and not selector.referrer:
            yield DefinitionProblem(path=path, message="selects no agency: give agencies or referrer")
        if agency_kinds is not None:
            for kind in (*selector.agencies, *selector.except_agencies):
                if kind != "*" and kind not in agency_kinds:
                    yield DefinitionProblem(path=path, message=f"unknown agency kind {kind!r}")
    if toolkit.default_applies_to is not None and toolkit.default_applies_to not in toolkit.selectors:
        yield DefinitionProblem(path="$.default_applies_to", message=f"unknown selector {toolkit.default_applies_to!r}")

    if not toolkit.sections:
        yield DefinitionProblem(path="$.sections", message="a toolkit needs at least one section")
    seen_sections: set[str] = set()
    seen_questions: dict[str, str] = {}
    section_ids = {section.id for section in toolkit.sections}
    for s, section in enumerate(toolkit.sections):
        path = f"$.sections[{s}]"
        yield from _identifier(f"{path}.id", section.id)
        if section.id in seen_sections:
            yield DefinitionProblem(path=f"{path}.id", message=f"duplicate section id {section.id!r}")
        seen_sections.add(section.id)
        yield from _text(f"{path}.title", section.title)
        yield from _selector_ref(toolkit, f"{path}.applies_to", section.applies_to)
        if not section.questions and section.judgement is None:
            yield DefinitionProblem(path=path, message="a section needs questions or a judgement")
        if section.judgement is not None:
            yield from _text(f"{path}.judgement.prompt", section.judgement.prompt)
            yield from _text(f"{path}.judgement.impact_label", section.judgement.impact_label)
            yield from _descriptors(f"{path}.judgement.descriptors", section.judgement.descriptors)
            if section.completed_by == "coordinator":
                yield DefinitionProblem(
                    path=f"{path}.judgement", message="sections completed by the coordinator are not graded"
                )
        if section.condition is not None:
            yield from _condition(toolkit, f"{path}.condition", section.condition)
        if section.judgement is not None:
            yield from _features(f"{path}.judgement.features", section.judgement.features)
        for q, question in enumerate(section.questions):
            qpath = f"{path}.questions[{q}]"
            if question.id in seen_questions:
                yield DefinitionProblem(
                    path=f"{qpath}.id",
                    message=f"duplicate question id {question.id!r} (first at {seen_questions[question.id]})",
                )
            seen_questions.setdefault(question.id, qpath)
            if question.id in section_ids:
                # Sections and questions share one namespace as FHIR linkIds.
                yield DefinitionProblem(path=f"{qpath}.id", message=f"{question.id!r} is already a section id")
            yield from _question(toolkit, qpath, question)
            if question.in_judgement and section.completed_by != "agency":
                yield DefinitionProblem(
                    path=f"{qpath}.in_judgement", message="only the agencies' answers are merged into the judgement"
                )

    if toolkit.overall is not None:
        yield from _text("$.overall.prompt", toolkit.overall.prompt)
        yield from _descriptors("$.overall.descriptors", toolkit.overall.descriptors)
        yield from _features("$.overall.features", toolkit.overall.features)
    if toolkit.not_involved is not None:
        yield from _text("$.not_involved.label", toolkit.not_involved.label)
        yield from _text("$.not_involved.reason_label", toolkit.not_involved.reason_label)


def _question(toolkit: Toolkit, path: str, question: Question) -> Iterator[DefinitionProblem]:
    yield from _identifier(f"{path}.id", question.id)
    yield from _text(f"{path}.text", question.text)
    yield from _selector_ref(toolkit, f"{path}.applies_to", question.applies_to)
    yield from _descriptors(f"{path}.descriptors", question.descriptors)
    if question.descriptors and question.kind != "grade":
        yield DefinitionProblem(path=f"{path}.descriptors", message="only grade questions have grade descriptors")
    for p, point in enumerate(question.points):
        yield from _text(f"{path}.points[{p}]", point)

    wants_choices = question.kind in ("single-choice", "multiple-choice")
    if wants_choices and not question.choices:
        yield DefinitionProblem(path=f"{path}.choices", message=f"a {question.kind} question needs choices")
    if question.choices and not wants_choices:
        yield DefinitionProblem(path=f"{path}.choices", message=f"a {question.kind} question has no choices of its own")
    yield from _choices(f"{path}.choices", question.choices)

    if question.kind == "rows":
        if not question.columns:
            yield DefinitionProblem(path=f"{path}.columns", message="a rows question needs columns")
        seen: set[str] = set()
        for c, column in enumerate(question.columns):
            cpath = f"{path}.columns[{c}]"
            yield from _identifier(f"{cpath}.id", column.id)
            yield from _text(f"{cpath}.label", column.label)
            if column.id in seen:
                yield DefinitionProblem(path=f"{cpath}.id", message=f"duplicate column id {column.id!r}")
            seen.add(column.id)
            if column.kind == "single-choice" and not column.choices:
                yield DefinitionProblem(path=f"{cpath}.choices", message="a single-choice column needs choices")
            yield from _choices(f"{cpath}.choices", column.choices)
    elif question.columns:
        yield DefinitionProblem(path=f"{path}.columns", message="only rows questions have columns")

    if (question.min is not None or question.max is not None) and question.kind != "number":
        yield DefinitionProblem(path=path, message="only number questions have min and max")
    if question.min is not None and question.max is not None and question.min > question.max:
        yield DefinitionProblem(path=f"{path}.min", message="min is above max")

    if question.condition is not None:
        yield from _condition(toolkit, f"{path}.condition", question.condition)
    if question.in_judgement and question.kind not in MERGED_KINDS:
        yield DefinitionProblem(
            path=f"{path}.in_judgement",
            message=f"a {question.kind} answer cannot be merged; only {', '.join(MERGED_KINDS)}",
        )

    if question.alert is not None:
        allowed = choice_values(question)
        if not allowed:
            yield DefinitionProblem(path=f"{path}.alert", message=f"a {question.kind} question cannot raise an alert")
        for value in question.alert.when:
            if value not in allowed:
                yield DefinitionProblem(
                    path=f"{path}.alert.when",
                    message=f"{value!r} is not an answer to this question; answers: {', '.join(allowed)}",
                )
        yield from _text(f"{path}.alert.message", question.alert.message)


def _condition(toolkit: Toolkit, path: str, condition: Condition) -> Iterator[DefinitionProblem]:
    target = next(
        (
            question
            for other in toolkit.sections
            if other.completed_by == "coordinator"
            for question in other.questions
            if question.id == condition.case_detail
        ),
        None,
    )
    if target is None:
        yield DefinitionProblem(
            path=f"{path}.case_detail",
            message=f"{condition.case_detail!r} is not a case detail filled by the coordinator",
        )
        return
    allowed = choice_values(target)
    for value in condition.any_of:
        if value not in allowed:
            yield DefinitionProblem(path=f"{path}.any_of", message=f"{value!r} is not an answer to {target.id!r}")


def _features(path: str, features: tuple[Feature, ...]) -> Iterator[DefinitionProblem]:
    seen: set[str] = set()
    for f, feature in enumerate(features):
        fpath = f"{path}[{f}]"
        yield from _identifier(f"{fpath}.id", feature.id)
        if feature.id in seen:
            yield DefinitionProblem(path=f"{fpath}.id", message=f"duplicate feature id {feature.id!r}")
        seen.add(feature.id)
        if not feature.texts:
            yield DefinitionProblem(path=f"{fpath}.texts", message="a feature is described at one grade at least")
        for grade, text in feature.texts.items():
            if grade not in FEATURE_GRADES:
                yield DefinitionProblem(
                    path=f"{fpath}.texts.{grade}", message="features are described at grades 2, 3 and 4"
                )
            yield from _text(f"{fpath}.texts.{grade}", text)


def _choices(path: str, choices: tuple[Choice, ...]) -> Iterator[DefinitionProblem]:
    seen: set[str] = set()
    for i, choice in enumerate(choices):
        value = choice.value
        yield from _identifier(f"{path}[{i}].value", value)
        yield from _text(f"{path}[{i}].label", choice.label)
        if value in seen:
            yield DefinitionProblem(path=f"{path}[{i}].value", message=f"duplicate choice {value!r}")
        seen.add(value)


def _descriptors(path: str, descriptors: dict[int, str]) -> Iterator[DefinitionProblem]:
    for grade, text in descriptors.items():
        if grade not in SCALE_VALUES:
            yield DefinitionProblem(path=f"{path}.{grade}", message="grade must be 1, 2, 3 or 4")
        yield from _text(f"{path}.{grade}", text)


def _selector_ref(toolkit: Toolkit, path: str, name: str | None) -> Iterator[DefinitionProblem]:
    if name is not None and name not in toolkit.selectors:
        known = ", ".join(sorted(toolkit.selectors)) or "none defined"
        yield DefinitionProblem(path=path, message=f"unknown selector {name!r}; known: {known}")


def _text(path: str, value: str) -> Iterator[DefinitionProblem]:
    if not value.strip():
        yield DefinitionProblem(path=path, message="must not be empty")


def _identifier(path: str, value: str) -> Iterator[DefinitionProblem]:
    """Ids appear in URLs, answers and FHIR linkIds: lower-case letters,
    digits and hyphens keep them safe in all three."""
    if not value or not all(c.islower() or c.isdigit() or c == "-" for c in value) or value[0] == "-":
        yield DefinitionProblem(
            path=path, message=f"{value!r} is not an id: use lower-case letters, digits and hyphens"
        )
