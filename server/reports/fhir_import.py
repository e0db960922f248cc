"""An agency system's ``QuestionnaireResponse`` read back into a contribution:
the inverse of :mod:`server.reports.fhir_response`, so that what Maca
exports an agency's system can send back unchanged.

An agency's own record system (a health trust's, say) speaks FHIR R4. It
answers the toolkit's ``Questionnaire`` (``GET /api/toolkits/{id}/fhir``)
with a ``QuestionnaireResponse`` whose items keep the Questionnaire's
``linkId``: a section's group holds its questions, ``{section}.judgement``
and ``{section}.impact`` its judgement (with, where the toolkit grades by
features, ``{section}.features.{feature}`` and ``{section}.override-reason``),
``{section}.not-involved`` the agency's "not involved at this stage" with its
reason, ``{section}.significant-failure`` a significant failure recorded
there, ``overall`` (and ``overall.impact``, ``overall.features.{feature}``,
``overall.override-reason``) the overall judgement; a question's comments and
evidence references are items nested under its answer (or under the item
itself, before there is an answer); rows and evidence questions repeat
their item, one per row. Questions may also come without their section's
group: a linkId is unique in the whole Questionnaire.

Reading is lenient about the form and strict about nothing else: every
value goes into the contribution as it is, and the contribution is then
checked exactly as the JSON API checks one (``agencies.contributions``).
Its problems are named by JSON path (``$.answers.age.value``);
:func:`ResponseReading.expression` turns each into the FHIRPath of the item
it is about, by ``linkId``, for an ``OperationOutcome``
(:func:`server.platform.problems.operation_outcome`).

Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import Any, Final, Literal

import msgspec

from server.platform.problems import OutcomeIssue
from toolkits.answers import ContributionContent
from toolkits.fhir import SYSTEM, canonical_url
from toolkits.model import Question, Section, Toolkit

__all__ = [
    "AMENDMENT_REASON",
    "Coding",
    "Extension",
    "QuestionnaireResponseIn",
    "ResponseAnswer",
    "ResponseItem",
    "ResponseReading",
    "read_questionnaire_response",
]

# The reason for an amendment rides on the response as an extension of
# Maca's own (FHIR has no place for it: Provenance would be a second resource).
AMENDMENT_REASON: Final = f"{SYSTEM}:amendment-reason"
RESOURCE: Final = "QuestionnaireResponse"

ResponseStatus = Literal["in-progress", "completed", "amended", "entered-in-error", "stopped"]


class Coding(msgspec.Struct, frozen=True, kw_only=True):
    system: str | None = None
    version: str | None = None
    code: str | None = None
    display: str | None = None


class Extension(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    url: str
    value_string: str | None = None


class ResponseAnswer(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename="camel"):
    """One answer: exactly one ``value[x]`` of those a toolkit's questions take."""

    id: str | None = None
    extension: list[dict[str, Any]] = []
    value_boolean: bool | None = None
    value_decimal: int | float | None = None
    value_integer: int | None = None
    value_date: str | None = None
    value_date_time: str | None = None
    value_string: str | None = None
    value_coding: Coding | None = None
    item: list[ResponseItem] = []


class ResponseItem(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename="camel"):
    link_id: str
    id: str | None = None
    extension: list[dict[str, Any]] = []
    definition: str | None = None
    text: str | None = None
    answer: list[ResponseAnswer] = []
    item: list[ResponseItem] = []


class QuestionnaireResponseIn(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A FHIR R4 ``QuestionnaireResponse`` as Maca reads it. Other elements
    of the resource (``id``, ``meta``, ``subject``, ``author``, ``authored``…)
    may be there and are not read: who sends it is the access token's."""

    resource_type: Literal["QuestionnaireResponse"]
    status: ResponseStatus
    questionnaire: str | None = None
    extension: list[Extension] = []
    item: list[ResponseItem] = []


@dataclasses.dataclass(kw_only=True)
class ResponseReading:
    """What a response says, as a contribution, and where each part came
    from (JSON path of the contribution → FHIRPath of the response)."""

    status: str
    content: ContributionContent
    reason: str | None
    problems: list[OutcomeIssue]
    places: dict[str, str]
    toolkit: Toolkit

    def expression(self, field: str) -> str:
        """The FHIRPath of what the contribution's JSON path ``field`` is
        about: the item sent, or where the Questionnaire puts it."""
        path = field
        while path:
            if path in self.places:
                return self.places[path]
            path = path.rpartition(".")[0] if "." in path else ""
        return _expected_place(self.toolkit, field)

    def issues(self, problems: Iterable[tuple[str, str]]) -> list[OutcomeIssue]:
        """Problems named by JSON path, as issues at their items."""
        return [
            OutcomeIssue(expression=self.expression(field), message=message, code=_code(message))
            for field, message in problems
        ]


def _code(message: str) -> str:
    return "required" if "required" in message else "invalid"


def _where(link_id: str) -> str:
    quoted = link_id.replace("\\", "\\\\").replace("'", "\\'")
    return f".item.where(linkId='{quoted}')"


def _expected_place(toolkit: Toolkit, field: str) -> str:
    """Where the Questionnaire puts the item ``field`` is about, when the
    response had none (a required answer missing)."""
    parts = field.removeprefix("$.").split(".")
    sections = {q.id: s for s in toolkit.sections for q in s.questions}
    if parts[0] == "answers" and len(parts) > 1 and parts[1] in sections:
        place = RESOURCE + _where(sections[parts[1]].id) + _where(parts[1])
        if len(parts) > 2 and parts[2] == "comments":
            return place + _where(f"{parts[1]}.comments")
        return place
    if parts[0] == "judgements" and len(parts) > 1:
        leaf = "judgement"
        if len(parts) > 2 and parts[2] == "impact":
            leaf = "impact"
        elif len(parts) > 2 and parts[2] == "override_reason":
            leaf = "override-reason"
        elif len(parts) > 3 and parts[2] == "features":
            leaf = f"features.{parts[3]}"
        return RESOURCE + _where(parts[1]) + _where(f"{parts[1]}.{leaf}")
    if parts[0] in ("not_involved", "significant_failures") and len(parts) > 1:
        leaf = "not-involved" if parts[0] == "not_involved" else "significant-failure"
        return RESOURCE + _where(parts[1]) + _where(f"{parts[1]}.{leaf}")
    if parts[0] == "overall":
        if len(parts) > 2 and parts[1] == "features":
            return RESOURCE + _where(f"overall.features.{parts[2]}")
        if parts[-1] == "override_reason":
            return RESOURCE + _where("overall.override-reason")
        return RESOURCE + _where("overall.impact" if parts[-1] == "impact" else "overall")
    return RESOURCE


def read_questionnaire_response(toolkit: Toolkit, resource: QuestionnaireResponseIn) -> ResponseReading:
    """``resource`` as a contribution to an audit using ``toolkit``, with the
    problems only the response's form can have (another Questionnaire, two
    values in one answer, a status Maca does not take)."""
    reader = _Reader(toolkit)
    expected = f"{canonical_url(toolkit)}|{toolkit.version}"
    if resource.questionnaire is not None and resource.questionnaire not in (expected, canonical_url(toolkit)):
        reader.problem(f"{RESOURCE}.questionnaire", f"this audit's Questionnaire is {expected}")
    if resource.status not in ("in-progress", "completed", "amended"):
        reader.problem(
            f"{RESOURCE}.status",
            "must be in-progress (a draft), completed (a submission) or amended (an amendment, with its reason)",
        )
    reasons = [e.value_string for e in resource.extension if e.url == AMENDMENT_REASON]
    reader.places["$.reason"] = f"{RESOURCE}.extension.where(url='{AMENDMENT_REASON}')"
    for item in resource.item:
        reader.item(item, RESOURCE + _where(item.link_id))
    content = msgspec.convert(reader.content(), ContributionContent)
    return ResponseReading(
        status=resource.status,
        content=content,
        reason=reasons[0] if reasons else None,
        problems=reader.problems,
        places=reader.places,
        toolkit=toolkit,
    )


def _value(answer: ResponseAnswer) -> tuple[Any, int]:
    """The answer's value as the JSON API takes it, and how many value[x] it had."""
    values = [
        value
        for value in (
            answer.value_coding.code if answer.value_coding is not None else None,
            answer.value_boolean,
            answer.value_decimal,
            answer.value_integer,
            answer.value_date,
            answer.value_date_time,
            answer.value_string,
        )
        if value is not None
    ]
    return (values[0] if values else None), len(values)


class _Reader:
    def __init__(self, toolkit: Toolkit) -> None:
        self.toolkit = toolkit
        self.sections = {s.id: s for s in toolkit.sections}
        self.questions = {q.id: (s, q) for s in toolkit.sections for q in s.questions}
        self.answers: dict[str, dict[str, Any]] = {}
        self.judgements: dict[str, dict[str, Any]] = {}
        self.overall: dict[str, Any] = {}
        self.not_involved: dict[str, dict[str, Any]] = {}
        self.significant_failures: dict[str, dict[str, Any]] = {}
        self.problems: list[OutcomeIssue] = []
        self.places: dict[str, str] = {}
        self._seen: set[str] = set()

    def problem(self, expression: str, message: str, code: str = "invalid") -> None:
        self.problems.append(OutcomeIssue(expression=expression, message=message, code=code))

    def content(self) -> dict[str, Any]:
        return {
            "answers": self.answers,
            "judgements": self.judgements,
            **({"overall": self.overall} if self.overall else {}),
            "not_involved": self.not_involved,
            "significant_failures": self.significant_failures,
        }

    def _single(self, item: ResponseItem, path: str) -> Any:
        """The one value of an item that takes one."""
        if len(item.answer) > 1:
            self.problem(f"{path}.answer", "takes one answer", "structure")
        if not item.answer:
            return None
        value, count = _value(item.answer[0])
        if count > 1:
            self.problem(f"{path}.answer", "an answer has one value[x]", "structure")
        return value

    def _text(self, item: ResponseItem, path: str) -> str | None:
        """The text an item holds (comments, impact, a document's name)."""
        value = self._single(item, path)
        if value is None or isinstance(value, str):
            return value
        self.problem(f"{path}.answer", "must be text (valueString)")
        return None

    def _grade(self, item: ResponseItem, path: str) -> int | None:
        """A judgement's grade: its coding's code ("2") as the grade (2)."""
        value = _grade(self._single(item, path))
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        self.problem(f"{path}.answer", "must be a grade 1, 2, 3 or 4")
        return None

    def _once(self, link_id: str, path: str) -> bool:
        if link_id in self._seen:
            self.problem(path, "this item is in the response twice", "structure")
            return False
        self._seen.add(link_id)
        return True

    def item(self, item: ResponseItem, path: str) -> None:
        link = item.link_id
        section_id, _, leaf = link.rpartition(".")
        if link in self.sections:
            if self._once(link, path):
                self.places[f"$.judgements.{link}"] = path
                for child in item.item:
                    self.item(child, path + _where(child.link_id))
                if item.answer:
                    self.problem(f"{path}.answer", "a section is a group: answer its questions", "structure")
        elif link in self.questions:
            self.question(*self.questions[link], item, path)
        elif link == "overall" and self._once(link, path):
            self.overall["grade"] = self._grade(item, path)
            self.places["$.overall"] = path
            self.places["$.overall.grade"] = f"{path}.answer"
        elif link == "overall.impact" and self._once(link, path):
            self.overall["impact"] = self._text(item, path)
            self.places["$.overall.impact"] = path
        elif ".features." in link and self._feature(item, path):
            pass
        elif leaf == "override-reason" and (section_id in self.sections or section_id == "overall"):
            if self._once(link, path):
                judged = self.overall if section_id == "overall" else self.judgements.setdefault(section_id, {})
                judged["override_reason"] = self._text(item, path)
                field = "$.overall" if section_id == "overall" else f"$.judgements.{section_id}"
                self.places[f"{field}.override_reason"] = path
        elif leaf in ("not-involved", "significant-failure") and section_id in self.sections:
            if self._once(link, path):
                text = self._text(item, path)
                if leaf == "not-involved":
                    # The mark is the item; its reason, if none was given,
                    # is refused as missing by the checks.
                    self.not_involved[section_id] = {"reason": text or ""}
                    field = f"$.not_involved.{section_id}"
                else:
                    self.significant_failures[section_id] = {"description": text or ""}
                    field = f"$.significant_failures.{section_id}"
                self.places[field] = path
                self.places[f"{field}.{'reason' if leaf == 'not-involved' else 'description'}"] = f"{path}.answer"
        elif leaf in ("judgement", "impact") and section_id in self.sections and self._once(link, path):
            judgement = self.judgements.setdefault(section_id, {})
            if leaf == "judgement":
                judgement["grade"] = self._grade(item, path)
                self.places[f"$.judgements.{section_id}.grade"] = f"{path}.answer"
            else:
                judgement["impact"] = self._text(item, path)
                self.places[f"$.judgements.{section_id}.impact"] = path
        elif link not in self._seen:
            # Not an item of this Questionnaire: checked as an answer to a
            # question that does not exist, as the JSON API would.
            self._seen.add(link)
            self.answers[link] = {"value": self._single(item, path)}
            self.places[f"$.answers.{link}"] = path

    def _feature(self, item: ResponseItem, path: str) -> bool:
        """A feature marked at a grade (``{section}.features.{feature}``,
        ``overall.features.{feature}``); False when ``item`` is not one."""
        owner, _, feature = item.link_id.partition(".features.")
        if not feature or (owner not in self.sections and owner != "overall"):
            return False
        if self._once(item.link_id, path):
            judged = self.overall if owner == "overall" else self.judgements.setdefault(owner, {})
            grade = self._grade(item, path)
            if grade is not None:
                judged.setdefault("features", {})[feature] = grade
            field = "$.overall" if owner == "overall" else f"$.judgements.{owner}"
            self.places[f"{field}.features.{feature}"] = path
        return True

    def question(self, section: Section, question: Question, item: ResponseItem, path: str) -> None:
        field = f"$.answers.{question.id}"
        if question.kind in ("rows", "evidence"):
            # A repeating group: one item per row or reference.
            rows = self.answers.setdefault(question.id, {"value": []})["value"]
            self.places.setdefault(field, path)
            row = self._row(question, item, f"{path}[{len(rows)}]")
            rows.append(row)
            return
        if not self._once(question.id, path):
            return
        answer: dict[str, Any] = {}
        if question.kind == "multiple-choice":
            values = []
            for index, given in enumerate(item.answer):
                value, count = _value(given)
                if count > 1:
                    self.problem(f"{path}.answer[{index}]", "an answer has one value[x]", "structure")
                values.append(value)
            answer["value"] = values or None
        else:
            value = self._single(item, path)
            answer["value"] = _grade(value) if question.kind == "grade" else value
        self.places[field] = path
        if item.answer:
            self.places[f"{field}.value"] = f"{path}.answer"
        nested = [
            (child, f"{path}.answer[0]{_where(child.link_id)}") for given in item.answer[:1] for child in given.item
        ]
        nested += [(child, path + _where(child.link_id)) for child in item.item]
        for child, where in nested:
            if child.link_id == f"{question.id}.comments":
                answer["comments"] = self._text(child, where)
                self.places[f"{field}.comments"] = where
            elif child.link_id == f"{question.id}.evidence":
                reference = self._reference(f"{question.id}.evidence", child, where)
                self.places.setdefault(f"{field}.evidence", where)
                if isinstance(reference.get("document"), str):
                    answer.setdefault("evidence", []).append(reference)
                else:
                    self.problem(where, "an evidence reference names its document", "required")
            else:
                self.problem(where, f"no such item under the question {question.id}", "structure")
        if answer.get("value") is None:
            answer.pop("value")
        self.answers[question.id] = answer

    def _row(self, question: Question, item: ResponseItem, path: str) -> dict[str, Any]:
        if question.kind == "evidence":
            return self._reference(question.id, item, path)
        row: dict[str, Any] = {}
        for child in item.item:
            column = child.link_id.removeprefix(f"{question.id}.")
            row[column] = self._single(child, path + _where(child.link_id))
        return row

    def _reference(self, prefix: str, item: ResponseItem, path: str) -> dict[str, Any]:
        reference: dict[str, Any] = {}
        for child in item.item:
            name = child.link_id.removeprefix(f"{prefix}.")
            where = path + _where(child.link_id)
            if name in ("document", "date"):
                reference[name] = self._text(child, where)
            else:
                self.problem(where, "an evidence reference has a document and a date", "structure")
        return reference


_CODE = re.compile(r"[0-9]{1,3}")


def _answer_children(item: ResponseItem) -> list[ResponseItem]:
    """The items nested under a question's (first) answer: its comments and
    evidence (FHIR qrs-1 puts them there once the question is answered)."""
    return list(item.answer[0].item) if item.answer else []


def _grade(value: Any) -> Any:
    """A grade's coding code ("2") as the grade (2); anything else as sent,
    for the checks to refuse."""
    if isinstance(value, str) and _CODE.fullmatch(value):
        return int(value)
    return value
