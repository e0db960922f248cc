"""The coordinator's case details as an HTML form: the toolkit's centrally
filled questions ("To be completed centrally prior to distribution to agency
auditors", seed 000) turned into GOV.UK inputs, and the submitted form back
into :class:`CaseDetails`.

Pure: no I/O. The form's names and ids are ``case-<question id>`` (dates add
``-day``, ``-month``, ``-year``; rows ``-<row>-<column>``), so an error names
the very input it is about and the error summary links to it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from server.pages.rendering import grade_label
from toolkits.answers import Answer, CaseDetails
from toolkits.model import FIXED_CHOICES, Choice, Question, Section, Toolkit
from toolkits.text import is_identifier, isolated
from toolkits.validation import is_answered

# Blank rows offered for a repeating question (family members): enough for
# most households without JavaScript to add more; more rows come back when
# the form is shown again.
ROWS_OFFERED = 4

# What a coordinator gives for a detail the case file does not say (a
# family's religion, who lives in the household): stored as the answer, so
# every page, export and report reads it as it is meant.
NOT_KNOWN = "Not known"

# Days, months and years as people type them (GOV.UK date input pattern).
_MAX_YEAR = 2200
_MIN_YEAR = 1900


class FormLike(Protocol):
    """What this module reads of a submitted form (``server.pages.rendering.Form``)."""

    def text(self, name: str) -> str: ...

    def all(self, name: str) -> list[str]: ...


@dataclass(frozen=True)
class InputProblem:
    """What is wrong with one input of the case details form: the input's id
    (the error summary links to it) and the message."""

    field_id: str
    message: str


def case_questions(toolkit: Toolkit) -> list[tuple[Section, Question]]:
    """The questions the coordinator answers once, in the toolkit's order."""
    return [(s, q) for s in toolkit.sections if s.completed_by == "coordinator" for q in s.questions]


def input_id(question: Question) -> str:
    """The id of the input an error about ``question`` links to."""
    base = f"case-{question.id}"
    if question.kind == "date":
        return f"{base}-day"
    if question.kind == "rows" and question.columns:
        return f"{base}-0-{question.columns[0].id}"
    return base


def label(question: Question) -> str:
    """The question as a label: the seeds' form labels end in a colon
    ("Language:", "Case ID:"), which GOV.UK labels do not."""
    return question.text.strip().rstrip(":").strip()


def short_label(question: Question) -> str:
    """ "Language:" → "language": the question's words inside a sentence,
    without its colon or question mark ("Enter …?" reads badly)."""
    text = label(question).rstrip("?").strip()
    # Keep capitals that start an abbreviation ("D.O.B", "CF/ECINS ID").
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def sentence(text: str) -> str:
    """The first letter a capital, the rest as written ("Date of initial
    Child Protection (CP) Plan", never str.capitalize's "…(cp) plan")."""
    return text[:1].upper() + text[1:]


def may_be_not_known(question: Question) -> bool:
    """Whether the coordinator may answer "Not known": a describing detail
    in words (religion, language, family members), never the case's
    reference or the child's initials, which identify the case."""
    return question.kind in ("text", "rows") and not is_identifier(question.id)


def is_not_known(question: Question, value: object) -> bool:
    if question.kind == "rows":
        return (
            isinstance(value, list)
            and len(value) == 1
            and isinstance(value[0], dict)
            and bool(value[0])
            and all(cell == NOT_KNOWN for cell in value[0].values())
        )
    return value == NOT_KNOWN


def _not_known_value(question: Question) -> object:
    if question.kind == "rows":
        # One row that says so in the columns a row must have (a family
        # member's relationship), as every export reads rows.
        return [{c.id: NOT_KNOWN for i, c in enumerate(question.columns) if i == 0 or c.required}]
    return NOT_KNOWN


def choices_of(question: Question) -> tuple[Choice, ...]:
    if question.kind in FIXED_CHOICES:
        return tuple(Choice(value=v, label=label) for v, label in FIXED_CHOICES[question.kind])
    return question.choices


def rows_offered(question: Question, values: Mapping[str, Any]) -> int:
    """How many rows to show: what was typed, and at least one blank row."""
    used = 0
    for r in range(100):
        if any(values.get(f"case-{question.id}-{r}-{c.id}") for c in question.columns):
            used = r + 1
    return max(ROWS_OFFERED, used + 1)


# --- reading the form ----------------------------------------------------------------


def parse_date(form: FormLike, name: str) -> tuple[datetime.date | None, str | None]:
    """A GOV.UK date input's three parts as a date: ``(None, None)`` when all
    are blank; ``(None, message)`` when they do not make a real date."""
    day, month, year = (form.text(f"{name}-{part}") for part in ("day", "month", "year"))
    if not (day or month or year):
        return None, None
    missing = [part for part, text in (("day", day), ("month", month), ("year", year)) if not text]
    if missing:
        return None, f"must include a {' and a '.join(missing)}"
    if not (day.isdigit() and month.isdigit() and year.isdigit()) or len(year) != 4:
        return None, "must be a real date, like 27 3 2025"
    try:
        value = datetime.date(int(year), int(month), int(day))
    except ValueError:
        return None, "must be a real date, like 27 3 2025"
    if not _MIN_YEAR <= value.year <= _MAX_YEAR:
        return None, "must be a real date, like 27 3 2025"
    return value, None


def _number(text: str) -> int | float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    if number != number or number in (float("inf"), float("-inf")):  # NaN or infinite
        return None
    return int(number) if number.is_integer() else number


def _value(question: Question, form: FormLike, problems: list[InputProblem]) -> Any:
    name = f"case-{question.id}"
    kind = question.kind
    if kind in ("text",):
        return form.text(name) or None
    if kind == "number":
        text = form.text(name)
        if not text:
            return None
        number = _number(text)
        if number is None:
            problems.append(InputProblem(name, f"Enter {short_label(question)} as a number, like 7"))
        return number
    if kind == "date":
        value, message = parse_date(form, name)
        if message:
            problems.append(InputProblem(f"{name}-day", f"{sentence(short_label(question))} {message}"))
        return value.isoformat() if value else None
    if kind == "grade":
        text = form.text(name)
        return int(text) if text.isdigit() else (text or None)
    if kind in FIXED_CHOICES or kind == "single-choice":
        return form.text(name) or None
    if kind == "multiple-choice":
        return form.all(name) or None
    if kind == "tick":
        return form.text(name) == "true"
    if kind == "rows":
        rows: list[dict[str, Any]] = []
        for r in range(100):
            cells = {c.id: form.text(f"{name}-{r}-{c.id}") for c in question.columns}
            if not any(cells.values()):
                if not any(form.text(f"{name}-{later}-{c.id}") for later in range(r, 100) for c in question.columns):
                    break
                continue
            row: dict[str, Any] = {}
            for column in question.columns:
                cell = cells[column.id]
                if not cell:
                    continue
                if column.kind == "number":
                    number = _number(cell)
                    if number is None:
                        problems.append(
                            InputProblem(f"{name}-{r}-{column.id}", f"Enter the {column.label.lower()} as a number")
                        )
                        continue
                    row[column.id] = number
                else:
                    row[column.id] = cell
            rows.append(row)
        return rows or None
    return None  # evidence: no toolkit asks the coordinator for it


def case_details_from_form(toolkit: Toolkit, form: FormLike) -> tuple[CaseDetails, list[InputProblem]]:
    """The case details typed into the form, and what could not be read
    (a number or date that is not one)."""
    problems: list[InputProblem] = []
    answers: dict[str, Answer] = {}
    for _section, question in case_questions(toolkit):
        value = _value(question, form, problems)
        if may_be_not_known(question) and form.text(f"case-{question.id}-not-known") == "yes":
            if value is not None and not is_not_known(question, value):
                problems.append(
                    InputProblem(
                        input_id(question), f"Enter {short_label(question)}, or select “Not known”, but not both"
                    )
                )
                continue
            value = _not_known_value(question)
        if value is not None:
            answers[question.id] = Answer(value=value)
    return CaseDetails(answers=answers), problems


def missing_answers(toolkit: Toolkit, details: CaseDetails) -> list[InputProblem]:
    """Every required case detail not given, in the GOV.UK way of saying so."""
    problems: list[InputProblem] = []
    for _section, question in case_questions(toolkit):
        if not question.required or is_answered(details.answers.get(question.id)):
            continue
        verb = "Enter" if question.kind in ("text", "number", "date", "rows") else "Select"
        unknown = ", or select “Not known”" if may_be_not_known(question) else ""
        problems.append(InputProblem(input_id(question), f"{verb} {short_label(question)}{unknown}"))
    return problems


def page_order(toolkit: Toolkit, field_ids: Iterable[str], after: Iterable[str] = ()) -> list[str]:
    """``field_ids`` in the order the form shows its inputs: the case
    details in the toolkit's order, then the ids of ``after`` (who takes
    part, the dates), so the error summary reads top to bottom."""
    order = [f"case-{q.id}" for _s, q in case_questions(toolkit)] + list(after)

    def key(field_id: str) -> tuple[int, str]:
        for i, start in enumerate(order):
            if field_id == start or field_id.startswith(f"{start}-"):
                return (i, field_id)
        return (len(order), field_id)

    return sorted(field_ids, key=key)


def problem_paths(toolkit: Toolkit, prefix: str = "$.case_details") -> dict[str, str]:
    """JSON path of a validation problem → the input id it is about."""
    paths: dict[str, str] = {}
    for _section, question in case_questions(toolkit):
        base = f"{prefix}.answers.{question.id}"
        paths[base] = input_id(question)
        paths[f"{base}.value"] = input_id(question)
        for r in range(100 if question.kind == "rows" else 0):
            for column in question.columns:
                paths[f"{base}.value[{r}].{column.id}"] = f"case-{question.id}-{r}-{column.id}"
    return paths


# --- showing answers -----------------------------------------------------------------


def date_text(value: datetime.date | str | None) -> str:
    """``2025-06-01`` → ``1 June 2025`` (GOV.UK style)."""
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            day = datetime.date.fromisoformat(value)
        except ValueError:
            return value
    else:
        day = value
    return f"{day.day} {day:%B %Y}"


def answer_text(question: Question, answer: Answer | None) -> str:
    """An answer as a person reads it: choices by their label, dates written out."""
    if answer is None or answer.value is None:
        return "Not given"
    value = answer.value
    if is_not_known(question, value):
        return NOT_KNOWN
    labels = {c.value: c.label for c in choices_of(question)}
    if question.kind == "multiple-choice" and isinstance(value, list):
        return ", ".join(labels.get(v, str(v)) for v in value)
    if question.kind in FIXED_CHOICES or question.kind == "single-choice":
        return labels.get(value, str(value))
    if question.kind == "tick":
        return "Yes" if value is True else "No"
    if question.kind == "date":
        return date_text(value)
    if question.kind == "rows" and isinstance(value, list):
        return "; ".join(
            ", ".join(isolated(str(row.get(c.id))) for c in question.columns if row.get(c.id) not in (None, ""))
            for row in value
            if isinstance(row, dict)
        )
    return str(value)


def summary(toolkit: Toolkit, details: CaseDetails) -> list[tuple[Question, str]]:
    """Each case detail with its answer as text, for a summary list (its
    key: :func:`label`, its change link: ``#`` + :func:`input_id`)."""
    return [(q, answer_text(q, details.answers.get(q.id))) for _s, q in case_questions(toolkit)]


def form_values(toolkit: Toolkit, details: CaseDetails) -> dict[str, Any]:
    """The form's values for stored case details (the inverse of reading it)."""
    values: dict[str, Any] = {}
    for _section, question in case_questions(toolkit):
        answer = details.answers.get(question.id)
        if answer is None or answer.value is None:
            continue
        name = f"case-{question.id}"
        value = answer.value
        if may_be_not_known(question) and is_not_known(question, value):
            values[f"{name}-not-known"] = "yes"
            continue
        if question.kind == "date" and isinstance(value, str):
            try:
                day = datetime.date.fromisoformat(value)
            except ValueError:
                continue
            values |= {f"{name}-day": str(day.day), f"{name}-month": str(day.month), f"{name}-year": str(day.year)}
        elif question.kind == "rows" and isinstance(value, list):
            for r, row in enumerate(value):
                for column in question.columns:
                    if isinstance(row, dict) and row.get(column.id) is not None:
                        values[f"{name}-{r}-{column.id}"] = str(row[column.id])
        elif question.kind == "tick":
            values[name] = "true" if value is True else ""
        elif isinstance(value, list):
            values[name] = [str(v) for v in value]
        else:
            values[name] = str(value)
    return values


def hidden_fields(values: Mapping[str, Any], skip: Iterable[str] = ()) -> list[tuple[str, str]]:
    """(name, value) pairs that carry a form on to the next page."""
    skipped = set(skip)
    pairs: list[tuple[str, str]] = []
    for name, value in values.items():
        if name in skipped:
            continue
        for one in value if isinstance(value, list) else [value]:
            if isinstance(one, str) and one != "":
                pairs.append((name, one))
    return pairs


# --- the inputs a template draws -------------------------------------------------------


def _listed(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def fields(toolkit: Toolkit, values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One entry per case detail, with what the template needs to draw its
    input: kind, name, label, hint, and choices marked as typed."""
    drawn: list[dict[str, Any]] = []
    for _section, question in case_questions(toolkit):
        name = f"case-{question.id}"
        chosen = _listed(values.get(name))
        entry: dict[str, Any] = {
            "question": question,
            "kind": question.kind,
            "name": name,
            "label": label(question) + ("" if question.required else " (optional)"),
            "hint": {"text": question.guidance} if question.guidance else None,
            "not_known": may_be_not_known(question),
            "not_known_checked": values.get(f"{name}-not-known") == "yes",
            "inline": question.kind in ("yes-no", "yes-partly-no", "yes-sometimes-no"),
        }
        if question.kind == "grade":
            entry["items"] = [
                {
                    "value": str(g.value),
                    "text": grade_label(toolkit.scale.grades, g.value),
                    "checked": str(g.value) in chosen,
                }
                for g in toolkit.scale.grades
            ]
        else:
            entry["items"] = [
                {"value": c.value, "text": c.label, "checked": c.value in chosen} for c in choices_of(question)
            ]
        if question.kind == "rows":
            entry["rows"] = range(rows_offered(question, values))
        drawn.append(entry)
    return drawn
