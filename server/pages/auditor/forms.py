"""An agency's section of an audit as an HTML form, and back: pure
functions, no I/O.

Each question's inputs are named after its id: ``q-<id>`` for the answer
(date questions: ``q-<id>-day``/``-month``/``-year``; rows:
``q-<id>-<row>-<column>``), ``q-<id>-comments`` and ``q-<id>-evidence``
(one document a line, optionally ending with its date). A section's
judgement is ``judgement-grade`` and ``judgement-impact``, its features
(seed 000) ``feature-<id>`` and the reason for a grade other than the one
they suggest ``judgement-override-reason``; the overall judgement
``overall-grade``, ``overall-impact``, ``overall-feature-<id>`` and
``overall-override-reason``. "Not involved at this stage" is
``not-involved`` (ticked ``yes``) with ``not-involved-reason``; a
significant failure ``significant-failure`` with
``significant-failure-description``.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from server.pages.rendering import Form, FormErrors, grade_label
from toolkits.answers import (
    Answer,
    ContributionContent,
    EvidenceReference,
    Judgement,
    NotInvolved,
    SignificantFailure,
)
from toolkits.grading import marks_allowed
from toolkits.model import FIXED_CHOICES, Feature, Grade, Question, Section, Toolkit
from toolkits.text import isolated
from toolkits.validation import FieldProblem, is_answered

# Rows offered beyond those already filled in (no JavaScript needed to add one).
SPARE_ROWS = 2
MAX_ROWS = 50
SHORT_TEXT = 90

_DATE_AT_END = re.compile(r"^(?P<document>.+?)[,;\s]+(?P<date>\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4})\s*$")


def input_id(question: Question) -> str:
    return f"q-{question.id}"


def value_input_id(question: Question) -> str:
    """The input an error about the answer links to (a date's day field)."""
    return f"q-{question.id}-day" if question.kind == "date" else input_id(question)


def short_text(text: str, limit: int = SHORT_TEXT) -> str:
    """The first line of a question, cut at a word before ``limit``."""
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0].rstrip(",;:–-") + "…"


def has_comments(section: Section, question: Question) -> bool:
    return question.comments != "none" or section.comments_label is not None


def comments_label(section: Section, question: Question) -> str:
    return question.comments_label or section.comments_label or "Comments"


def evidence_label(section: Section) -> str:
    return section.evidence_label or "Evidenced by: name and date of relevant document"


# --- from the stored contribution to the form's values --------------------------


def _date_parts(value: object) -> dict[str, str]:
    if isinstance(value, str):
        try:
            day = datetime.date.fromisoformat(value)
        except ValueError:
            return {}
        return {"day": str(day.day), "month": str(day.month), "year": str(day.year)}
    return {}


def _evidence_text(references: Iterable[EvidenceReference] | object) -> str:
    lines: list[str] = []
    for reference in references if isinstance(references, list | tuple) else ():
        if isinstance(reference, EvidenceReference):
            document, date = reference.document, reference.date
        elif isinstance(reference, dict):
            document, date = str(reference.get("document", "")), reference.get("date")
        else:
            continue
        lines.append(f"{document}, {date}" if date else document)
    return "\n".join(lines)


def section_values(section: Section, content: ContributionContent) -> dict[str, Any]:
    """The form's values for what is saved: input name → value."""
    values: dict[str, Any] = {}
    for question in section.questions:
        answer = content.answers.get(question.id)
        if answer is None:
            continue
        name = input_id(question)
        value = answer.value
        if question.kind == "date":
            for part, text in _date_parts(value).items():
                values[f"{name}-{part}"] = text
        elif question.kind == "grade":
            values[name] = "" if value is None else str(value)
        elif question.kind == "tick":
            values[name] = "yes" if value is True else ""
        elif question.kind == "multiple-choice":
            values[name] = list(value) if isinstance(value, list) else []
        elif question.kind == "evidence":
            values[name] = _evidence_text(value)
        elif question.kind == "rows":
            for r, row in enumerate(value if isinstance(value, list) else []):
                for column_id, cell in row.items() if isinstance(row, dict) else []:
                    values[f"{name}-{r}-{column_id}"] = (
                        "yes" if cell is True else "" if cell in (False, None) else str(cell)
                    )
        elif value is not None:
            values[name] = str(value)
        if answer.comments:
            values[f"{name}-comments"] = answer.comments
        if answer.evidence:
            values[f"{name}-evidence"] = _evidence_text(answer.evidence)
    judgement = content.judgements.get(section.id)
    if judgement is not None:
        values["judgement-grade"] = "" if judgement.grade is None else str(judgement.grade)
        values["judgement-impact"] = judgement.impact or ""
        values["judgement-override-reason"] = judgement.override_reason or ""
        for feature_id, mark in judgement.features.items():
            values[f"feature-{feature_id}"] = str(mark)
    not_involved = content.not_involved.get(section.id)
    if not_involved is not None:
        values["not-involved"] = "yes"
        values["not-involved-reason"] = not_involved.reason
    failure = content.significant_failures.get(section.id)
    if failure is not None:
        values["significant-failure"] = "yes"
        values["significant-failure-description"] = failure.description
    return values


def overall_values(content: ContributionContent) -> dict[str, Any]:
    """The overall judgement form's values for what is saved."""
    given = content.overall
    if given is None:
        return {}
    values: dict[str, Any] = {
        "overall-grade": "" if given.grade is None else str(given.grade),
        "overall-impact": given.impact or "",
        "overall-override-reason": given.override_reason or "",
    }
    for feature_id, mark in given.features.items():
        values[f"overall-feature-{feature_id}"] = str(mark)
    return values


def feature_items(grades: Sequence[Grade], feature: Feature, chosen: object) -> list[dict[str, Any]]:
    """A feature's choices (seed 000): the seed's clause at each grade it is
    described at (one choice where two grades say the same words), and
    "None of these" where it has no Inadequate description of its own."""
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    for grade in marks_allowed(feature):
        text = feature.texts.get(grade)
        if text is not None and text in seen:
            continue
        if text is not None:
            seen.add(text)
            words = text[:1].upper() + text[1:]
            hint = grade_label(grades, grade)
        else:
            words, hint = "None of these", None
        items.append(
            {
                "value": str(grade),
                "text": words,
                "hint": {"text": hint} if hint else None,
                "checked": str(chosen) == str(grade),
            }
        )
    return items


def row_count(question: Question, values: Mapping[str, Any]) -> int:
    """Rows to show: those with something in them, plus spare ones."""
    used = -1
    prefix = f"{input_id(question)}-"
    for name, value in values.items():
        if name.startswith(prefix) and value:
            index = name[len(prefix) :].split("-", 1)[0]
            if index.isdigit():
                used = max(used, int(index))
    return min(used + 1 + SPARE_ROWS, MAX_ROWS)


# --- from the submitted form to answers ------------------------------------------------


@dataclass
class SectionAnswers:
    """What a section's form said: the answers and judgement to store (or
    that the agency was not involved), a significant failure, and the
    problems found reading it (before the toolkit's own checks)."""

    answers: dict[str, Answer] = field(default_factory=dict)
    judgement: Judgement | None = None
    not_involved: NotInvolved | None = None
    failure: SignificantFailure | None = None
    errors: FormErrors = field(default_factory=FormErrors)


def _parse_date(form: Form, name: str, question_text: str, errors: FormErrors) -> str | None:
    day, month, year = (form.text(f"{name}-{part}") for part in ("day", "month", "year"))
    if not (day or month or year):
        return None
    missing = [part for part, text in (("day", day), ("month", month), ("year", year)) if not text]
    if missing:
        errors.add(f"{name}-{missing[0]}", f"“{question_text}” must include a {missing[0]}")
        return None
    if not (day.isdigit() and month.isdigit() and year.isdigit() and len(year) == 4):
        errors.add(f"{name}-day", f"“{question_text}” must be a real date, like 27 3 2025")
        return None
    try:
        return datetime.date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        errors.add(f"{name}-day", f"“{question_text}” must be a real date, like 27 3 2025")
        return None


def _parse_number(text: str) -> int | float | None:
    cleaned = text.replace(",", "").strip()
    try:
        number = float(cleaned)
    except ValueError:
        return None
    return int(number) if number.is_integer() and "." not in cleaned else number


def parse_evidence(text: str) -> list[EvidenceReference] | str:
    """One reference a line: "Case conference minutes, 2025-03-01" (or
    1/3/2025); the date is optional. A message when a date is not real."""
    references: list[EvidenceReference] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        match = _DATE_AT_END.match(line)
        if match is None:
            references.append(EvidenceReference(document=line))
            continue
        written = match.group("date")
        try:
            if "/" in written:
                day, month, year = (int(part) for part in written.split("/"))
                date = datetime.date(year, month, day)
            else:
                date = datetime.date.fromisoformat(written)
        except ValueError:
            return f"the date {written} is not a real date"
        references.append(EvidenceReference(document=match.group("document").strip(), date=date.isoformat()))
    return references


def _cell(kind: str, text: str) -> object:
    if kind == "tick":
        return text == "yes"
    if kind == "number":
        number = _parse_number(text)
        return text if number is None else number  # validation names a bad number
    return text


def _value(question: Question, form: Form, errors: FormErrors) -> object:
    name = input_id(question)
    label = short_text(question.text, 60)
    kind = question.kind
    if kind == "date":
        return _parse_date(form, name, label, errors)
    if kind == "grade":
        text = form.text(name)
        return int(text) if text.isdigit() else (text or None)
    if kind == "tick":
        return form.text(name) == "yes"
    if kind == "multiple-choice":
        chosen = [v for v in form.all(name) if v]
        return chosen or None
    if kind == "number":
        text = form.text(name)
        if not text:
            return None
        number = _parse_number(text)
        if number is None:
            errors.add(name, f"“{label}” must be a number")
        return number
    if kind == "evidence":
        parsed = parse_evidence(form.raw(name))
        if isinstance(parsed, str):
            errors.add(name, f"“{label}”: {parsed}")
            return None
        return [msgspec.to_builtins(r) for r in parsed] or None
    if kind == "rows":
        rows: list[dict[str, object]] = []
        for r in range(MAX_ROWS):
            cells = {c.id: form.text(f"{name}-{r}-{c.id}") for c in question.columns}
            if not any(f"{name}-{r}-{c.id}" in form.data for c in question.columns):
                continue
            if any(cells.values()):
                rows.append({c.id: _cell(c.kind, cells[c.id]) for c in question.columns if cells[c.id]})
        return rows or None
    text = form.raw(name) if kind == "text" else form.text(name)
    return text if text.strip() else None


def _marks(form: Form, features: Sequence[Feature], prefix: str) -> dict[str, int]:
    marks: dict[str, int] = {}
    for feature in features:
        text = form.text(f"{prefix}{feature.id}")
        if text.isdigit():
            marks[feature.id] = int(text)
    return marks


def read_section(
    section: Section, form: Form, *, toolkit: Toolkit, offers_not_involved: bool = False, is_area: bool = False
) -> SectionAnswers:
    """The section's answers and judgement as the form gives them. A section
    marked "not involved at this stage" keeps only its reason: its answers
    and judgement are not kept, as the toolkit's checks require."""
    result = SectionAnswers()
    if offers_not_involved and form.text("not-involved") == "yes":
        result.not_involved = NotInvolved(reason=form.raw("not-involved-reason").strip())
        return result
    if is_area and form.text("significant-failure") == "yes":
        result.failure = SignificantFailure(description=form.raw("significant-failure-description").strip())
    for question in section.questions:
        name = input_id(question)
        value = _value(question, form, result.errors)
        comments = form.raw(f"{name}-comments") if has_comments(section, question) else ""
        evidence: list[EvidenceReference] = []
        if question.evidence != "none":
            parsed = parse_evidence(form.raw(f"{name}-evidence"))
            if isinstance(parsed, str):
                result.errors.add(f"{name}-evidence", f"Evidence for “{short_text(question.text, 60)}”: {parsed}")
            else:
                evidence = parsed
        answer = Answer(value=value, comments=comments if comments.strip() else None, evidence=tuple(evidence))
        # A tick box left unticked is an answer (not ticked) only once the
        # section has been saved with it; an empty answer is not stored.
        if is_answered(answer) or answer.comments or answer.evidence:
            result.answers[question.id] = answer
    if section.judgement is not None:
        grade_text = form.text("judgement-grade")
        impact = form.raw("judgement-impact")
        reason = form.raw("judgement-override-reason")
        marks = _marks(form, section.judgement.features, "feature-")
        if grade_text or impact.strip() or marks or reason.strip():
            result.judgement = Judgement(
                grade=int(grade_text) if grade_text.isdigit() else None,
                impact=impact if impact.strip() else None,
                features=marks,
                override_reason=reason.strip() or None,
            )
    return result


def read_overall(form: Form, toolkit: Toolkit) -> Judgement | None:
    """The overall judgement as its form gives it (None when empty)."""
    grade = form.text("overall-grade")
    impact = form.raw("overall-impact")
    reason = form.raw("overall-override-reason")
    marks = _marks(form, toolkit.overall.features if toolkit.overall is not None else (), "overall-feature-")
    if not (grade or impact.strip() or marks or reason.strip()):
        return None
    return Judgement(
        grade=int(grade) if grade.isdigit() else None,
        impact=impact if impact.strip() else None,
        features=marks,
        override_reason=reason.strip() or None,
    )


def with_section(content: ContributionContent, section: Section, answers: SectionAnswers) -> ContributionContent:
    """``content`` with ``section``'s answers, judgement, "not involved" and
    significant failure replaced."""
    kept = {k: v for k, v in content.answers.items() if k not in {q.id for q in section.questions}}
    judgements = {k: v for k, v in content.judgements.items() if k != section.id}
    if answers.judgement is not None:
        judgements[section.id] = answers.judgement
    not_involved = {k: v for k, v in content.not_involved.items() if k != section.id}
    if answers.not_involved is not None:
        not_involved[section.id] = answers.not_involved
    failures = {k: v for k, v in content.significant_failures.items() if k != section.id}
    if answers.failure is not None:
        failures[section.id] = answers.failure
    return ContributionContent(
        answers={**kept, **answers.answers},
        judgements=judgements,
        overall=content.overall,
        not_involved=not_involved,
        significant_failures=failures,
    )


# --- problems, in the person's words ------------------------------------------------------


@dataclass(frozen=True)
class PlacedProblem:
    """A problem with the section (or overall judgement) it belongs to, the
    input it is about and a message for people."""

    section_id: str | None  # None: the overall judgement
    input_id: str
    message: str


def place_problems(
    toolkit: Toolkit, sections: Iterable[Section], problems: Iterable[FieldProblem]
) -> list[PlacedProblem]:
    """Validation problems (JSON paths) placed on the pages and inputs they
    concern, with GOV.UK-style messages."""
    by_question = {q.id: (s, q) for s in sections for q in s.questions}
    sections_by_id = {s.id: s for s in toolkit.sections}
    placed: list[PlacedProblem] = []
    for problem in problems:
        parts = problem.field.removeprefix("$.").split(".")
        if parts[0] == "answers" and len(parts) >= 2 and parts[1] in by_question:
            section, question = by_question[parts[1]]
            label = short_text(question.text, 70)
            what = parts[2] if len(parts) > 2 else "value"
            name = input_id(question)
            if what.startswith("comments"):
                target, message = (
                    f"{name}-comments",
                    (
                        f"Enter {comments_label(section, question).rstrip(':').lower()} for “{label}”"
                        if "required" in problem.message
                        else f"{comments_label(section, question).rstrip(':')}: {problem.message}"
                    ),
                )
            elif what.startswith("evidence"):
                target, message = (
                    f"{name}-evidence",
                    (
                        f"Say what evidence supports “{label}”"
                        if "required" in problem.message
                        else f"Evidence for “{label}”: {problem.message}"
                    ),
                )
            else:
                target = value_input_id(question)
                if "required" in problem.message:
                    verb = "Enter" if question.kind in ("text", "number", "date", "evidence", "rows") else "Select"
                    message = f"{verb} an answer to “{label}”"
                else:
                    message = f"“{label}” {problem.message}"
            placed.append(PlacedProblem(section_id=section.id, input_id=target, message=message))
        elif parts[0] == "answers" and len(parts) >= 2:
            owner = next((s for s in toolkit.sections for q in s.questions if q.id == parts[1]), None)
            placed.append(
                PlacedProblem(
                    section_id=owner.id if owner is not None else None,
                    input_id="not-involved" if "not involved" in problem.message else "main-content",
                    message=problem.message[:1].upper() + problem.message[1:],
                )
            )
        elif parts[0] == "not_involved" and len(parts) >= 2:
            target = "not-involved-reason" if parts[-1] == "reason" else "not-involved"
            message = (
                "Say why your agency was not involved at this stage"
                if problem.message.startswith("give")
                else problem.message[:1].upper() + problem.message[1:]
            )
            placed.append(PlacedProblem(section_id=parts[1], input_id=target, message=message))
        elif parts[0] == "significant_failures" and len(parts) >= 2:
            target = "significant-failure-description" if parts[-1] == "description" else "significant-failure"
            message = (
                "Describe the significant failure"
                if problem.message.startswith("give")
                else problem.message[:1].upper() + problem.message[1:]
            )
            placed.append(PlacedProblem(section_id=parts[1], input_id=target, message=message))
        elif parts[0] == "judgements" and len(parts) >= 2 and parts[1] in sections_by_id:
            section = sections_by_id[parts[1]]
            what = parts[2] if len(parts) > 2 else "grade"
            if what == "features" and len(parts) > 3:
                index = next(
                    (
                        i
                        for i, f in enumerate(section.judgement.features if section.judgement else (), start=1)
                        if f.id == parts[3]
                    ),
                    0,
                )
                message = (
                    f"Select how far feature {index} of {section.title} is evident"
                    if "before submitting" in problem.message
                    else f"Feature {index} of {section.title}: {problem.message}"
                )
                placed.append(PlacedProblem(section_id=section.id, input_id=f"feature-{parts[3]}", message=message))
            elif what == "override_reason":
                message = (
                    f"Say why you give {section.title} a grade other than the suggested one"
                    if "before submitting" in problem.message
                    else f"The reason {problem.message}"
                )
                placed.append(
                    PlacedProblem(section_id=section.id, input_id="judgement-override-reason", message=message)
                )
            elif what == "impact":
                label = section.judgement.impact_label if section.judgement else "Impact"
                message = f"Enter {the_words(label)}" if "required" in problem.message else problem.message
                placed.append(PlacedProblem(section_id=section.id, input_id="judgement-impact", message=message))
            else:
                # The page is the section, and the task list and check page
                # put its title before the message ("3. Referral: select a grade").
                message = "Select a grade" if "required" in problem.message else f"The grade {problem.message}"
                placed.append(PlacedProblem(section_id=section.id, input_id="judgement-grade", message=message))
        elif parts[0] == "overall" and len(parts) > 2 and parts[1] == "features":
            message = (
                "Select which of these holds"
                if "before submitting" in problem.message
                else problem.message[:1].upper() + problem.message[1:]
            )
            placed.append(PlacedProblem(section_id=None, input_id=f"overall-feature-{parts[2]}", message=message))
        elif parts[0] == "overall" and parts[-1] == "override_reason":
            message = (
                "Say why you give an overall grade other than the suggested one"
                if "before submitting" in problem.message
                else f"The reason {problem.message}"
            )
            placed.append(PlacedProblem(section_id=None, input_id="overall-override-reason", message=message))
        elif parts[0] == "overall":
            message = "Select the overall judgement" if "required" in problem.message else problem.message
            target = "overall-impact" if parts[-1] == "impact" else "overall-grade"
            placed.append(PlacedProblem(section_id=None, input_id=target, message=message))
        elif parts[0] == "reason":
            message = (
                "Enter why you are changing a submitted contribution"
                if "required" in problem.message
                else (f"The reason {problem.message}")
            )
            placed.append(PlacedProblem(section_id=None, input_id="reason", message=message))
        else:
            placed.append(PlacedProblem(section_id=None, input_id="main-content", message=problem.message))
    return placed


def the_words(label: str) -> str:
    """A box's label inside a sentence: ``"Impact (What has changed/ improved
    and is this sustainable):"`` → ``"the impact"``, ``"Evaluative Summary"``
    → ``"the evaluative summary"`` (the seeds' labels end in colons and
    carry their guidance in brackets; the box itself shows both)."""
    words = label.split("(", 1)[0].strip().rstrip(":?").strip()
    return f"the {words.lower()}" if words else "an answer"


def input_order(section: Section | None) -> list[str]:
    """The ids of a page's inputs in the order the page shows them, so
    its problems are listed top to bottom (GOV.UK error summary)."""
    ids = ["main-content", "not-involved", "not-involved-reason"]
    for question in section.questions if section is not None else ():
        name = input_id(question)
        ids += [name, f"{name}-day", f"{name}-month", f"{name}-year", f"{name}-comments", f"{name}-evidence"]
    ids += ["significant-failure", "significant-failure-description"]
    if section is not None and section.judgement is not None:
        ids += [f"feature-{f.id}" for f in section.judgement.features]
    ids += ["judgement-grade", "judgement-override-reason", "judgement-impact"]
    ids += ["overall-grade", "overall-override-reason", "overall-impact", "reason"]
    return ids


def in_page_order(sections: Sequence[Section], placed: Iterable[PlacedProblem]) -> list[PlacedProblem]:
    """``placed`` sorted as the pages show them: sections in task list
    order (the overall judgement last), each page's inputs top to bottom."""
    position = {s.id: i for i, s in enumerate(sections)}
    orders = {s.id: {name: i for i, name in enumerate(input_order(s))} for s in sections}
    overall = {name: i for i, name in enumerate(input_order(None))}

    def key(problem: PlacedProblem) -> tuple[int, int]:
        order = orders.get(problem.section_id or "", overall)
        index = order.get(problem.input_id)
        if index is None and problem.input_id.startswith("overall-feature-"):
            index = overall["overall-grade"]
        if index is None:  # a row's cell: with its question
            index = next((i for name, i in order.items() if problem.input_id.startswith(f"{name}-")), len(order))
        return (position.get(problem.section_id or "", len(position)), index)

    return sorted(placed, key=key)


# --- long sections: groups of questions --------------------------------------------

# A section with more boxes than GROUP_ABOVE shows its questions in groups
# of about GROUP_BOXES boxes (a question's answer, its comments and its
# evidence are three), each a GOV.UK details element that opens without
# JavaScript: the multi-agency tool's "6. Planning and Implementing Plan"
# was 29 boxes on one page, some 4,000 px tall at 1280 px.
GROUP_ABOVE = 12
GROUP_BOXES = 9


def boxes(section: Section, question: Question) -> int:
    """The inputs a question shows: its answer, comments and evidence."""
    return 1 + has_comments(section, question) + (question.evidence != "none")


def question_groups(section: Section, content: ContributionContent, errors: FormErrors | None) -> list[dict[str, Any]]:
    """The section's questions in groups: each with its questions, how
    many are answered, and whether it starts open (it holds a problem, or
    is the first with questions still to answer). One open group, without
    a summary, for a short section."""
    questions = list(section.questions)
    if sum(boxes(section, q) for q in questions) <= GROUP_ABOVE:
        return [{"questions": questions, "open": True, "summary": None}]
    chunks: list[list[Question]] = [[]]
    for question in questions:
        if chunks[-1] and sum(boxes(section, q) for q in chunks[-1]) + boxes(section, question) > GROUP_BOXES:
            chunks.append([])
        chunks[-1].append(question)
    groups: list[dict[str, Any]] = []
    first_unanswered = True
    start = 0
    for chunk in chunks:
        answered = sum(1 for q in chunk if is_answered(content.answers.get(q.id)))
        names = [input_id(q) for q in chunk]
        has_error = errors is not None and any(
            field_id == name or field_id.startswith(f"{name}-") for field_id in errors.messages for name in names
        )
        opened = has_error or (answered < len(chunk) and first_unanswered)
        if answered < len(chunk):
            first_unanswered = False
        span = f"Question {start + 1}" if len(chunk) == 1 else f"Questions {start + 1} to {start + len(chunk)}"
        groups.append(
            {
                "questions": chunk,
                "open": opened,
                "summary": f"{span} of {len(questions)}",
                "status": "All answered" if answered == len(chunk) else f"{answered} of {len(chunk)} answered",
                "first": short_text(chunk[0].text, 60),
            }
        )
        start += len(chunk)
    return groups


# --- answers as text, for "check your answers" -------------------------------------------


def answer_text(toolkit: Toolkit, question: Question, answer: Answer | None) -> list[str]:
    """An answer as lines of text for people to read."""
    if answer is None or not is_answered(answer):
        return []
    value = answer.value
    kind = question.kind
    if kind == "grade":
        return [grade_label(toolkit.scale.grades, value)]
    if kind in FIXED_CHOICES:
        return [dict(FIXED_CHOICES[kind]).get(str(value), str(value))]
    if kind == "single-choice":
        return [next((c.label for c in question.choices if c.value == value), str(value))]
    if kind == "multiple-choice":
        labels = {c.value: c.label for c in question.choices}
        return [labels.get(v, str(v)) for v in value] if isinstance(value, list) else [str(value)]
    if kind == "tick":
        return ["Yes" if value else "No"]
    if kind == "date":
        return [long_date(value)]
    if kind == "evidence":
        return _evidence_text(value).splitlines()
    if kind == "rows":
        columns = {c.id: c.label for c in question.columns}
        return [
            "; ".join(
                f"{columns.get(k, k)}: {'Yes' if v is True else isolated(str(v))}"
                for k, v in row.items()
                if v not in ("", None)
            )
            for row in (value if isinstance(value, list) else [])
            if isinstance(row, dict)
        ]
    return str(value).splitlines()


def long_date(value: object) -> str:
    """``2025-03-01`` → ``1 March 2025`` (GOV.UK style)."""
    if isinstance(value, datetime.date):
        day = value
    else:
        try:
            day = datetime.date.fromisoformat(str(value))
        except ValueError:
            return str(value)
    return f"{day.day} {day.strftime('%B %Y')}"
