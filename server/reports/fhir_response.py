"""One agency's contribution as an HL7 FHIR R4 ``QuestionnaireResponse``
answering the toolkit's ``Questionnaire`` (``toolkits.fhir``): the same
``linkId`` for every item, sections as groups, grades as the scale's codings
(1 best … 4 worst), comments and evidence as items nested under the answer
they belong to (the Questionnaire nests them under the question).

Pure: the API gives it what the caller may see (an agency's own
contribution, or for the partnership's staff the last submitted version).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from toolkits.answers import Answer, ContributionContent, Judgement
from toolkits.fhir import (
    OVERRIDE_REASON_TEXT,
    SIGNIFICANT_FAILURE_TEXT,
    SYSTEM,
    canonical_url,
    feature_link,
    has_comments,
    overall_rationale_label,
    scale_system,
)
from toolkits.model import FIXED_CHOICES, Column, Feature, Question, Section, Toolkit

# FHIR QuestionnaireResponse.status for each contribution status.
FHIR_STATUS = {
    "not-started": "in-progress",
    "in-progress": "in-progress",
    "returned": "in-progress",
    "submitted": "completed",
}


def _grade(toolkit: Toolkit, value: Any) -> dict[str, Any] | None:
    grade = next((g for g in toolkit.scale.grades if g.value == value), None)
    if grade is None:
        return None
    return {"valueCoding": {"system": scale_system(toolkit), "code": str(grade.value), "display": grade.label}}


def _coding(pairs: Mapping[str, str], value: Any) -> dict[str, Any]:
    code = str(value)
    coding: dict[str, Any] = {"system": f"{SYSTEM}:answers", "code": code}
    if code in pairs:
        coding["display"] = pairs[code]
    return {"valueCoding": coding}


def _scalar(kind: str, value: Any) -> dict[str, Any] | None:
    if value is None or value == "":
        return None
    if kind == "tick":
        return {"valueBoolean": bool(value)}
    if kind == "date":
        return {"valueDate": str(value)}
    if kind == "number":
        return {"valueDecimal": value}
    return {"valueString": str(value)}


def _evidence_items(prefix: str, references: Any) -> list[dict[str, Any]]:
    """A repeating group: one item per reference, with document and date."""
    groups: list[dict[str, Any]] = []
    for reference in references or ():
        document = reference.get("document") if isinstance(reference, Mapping) else reference.document
        date = reference.get("date") if isinstance(reference, Mapping) else reference.date
        nested: list[dict[str, Any]] = [{"linkId": f"{prefix}.document", "answer": [{"valueString": str(document)}]}]
        if date:
            nested.append({"linkId": f"{prefix}.date", "answer": [{"valueDate": str(date)}]})
        groups.append({"linkId": prefix, "item": nested})
    return groups


def _column_answer(column: Column, cell: Any) -> dict[str, Any] | None:
    if cell is None or cell == "":
        return None
    if column.kind == "single-choice":
        return _coding({c.value: c.label for c in column.choices}, cell)
    if column.kind == "yes-no":
        return _coding(dict(FIXED_CHOICES["yes-no"]), cell)
    return _scalar({"text": "string"}.get(column.kind, column.kind), cell)


def _row_items(question: Question, rows: Any) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = []
    for row in rows or ():
        if not isinstance(row, Mapping):
            continue
        nested: list[dict[str, Any]] = []
        for column in question.columns:
            answer = _column_answer(column, row.get(column.id))
            if answer is not None:
                nested.append({"linkId": f"{question.id}.{column.id}", "answer": [answer]})
        if nested:
            groups.append({"linkId": question.id, "text": question.text, "item": nested})
    return groups


def _answers(toolkit: Toolkit, question: Question, value: Any) -> list[dict[str, Any]]:
    if question.kind == "grade":
        answer = _grade(toolkit, value)
        return [answer] if answer else []
    if question.kind in FIXED_CHOICES:
        return [] if value is None else [_coding(dict(FIXED_CHOICES[question.kind]), value)]
    if question.kind == "single-choice":
        return [] if value is None else [_coding({c.value: c.label for c in question.choices}, value)]
    if question.kind == "multiple-choice":
        pairs = {c.value: c.label for c in question.choices}
        return [_coding(pairs, v) for v in value or ()]
    answer = _scalar(question.kind, value)
    return [answer] if answer else []


def _question_items(toolkit: Toolkit, section: Section, question: Question, answer: Answer) -> list[dict[str, Any]]:
    """The response items for one question: usually one; a repeating group
    (rows, evidence) gives one item per row."""
    if question.kind == "rows":
        return _row_items(question, answer.value)
    if question.kind == "evidence":
        return _evidence_items(question.id, answer.value)
    answers = _answers(toolkit, question, answer.value)
    nested: list[dict[str, Any]] = []
    if has_comments(section, question) and answer.comments:
        nested.append({"linkId": f"{question.id}.comments", "answer": [{"valueString": answer.comments}]})
    if question.evidence != "none" and answer.evidence:
        nested.extend(_evidence_items(f"{question.id}.evidence", answer.evidence))
    if not answers:
        # Comments or evidence before the answer itself: under the item
        # (an item without an answer holds its children itself).
        return [{"linkId": question.id, "text": question.text, "item": nested}] if nested else []
    if nested:
        # Children of an answered question go under its answer (FHIR qrs-1).
        answers[0] = {**answers[0], "item": nested}
    return [{"linkId": question.id, "text": question.text, "answer": answers}]


def _text_item(link_id: str, text: str, value: str | None) -> list[dict[str, Any]]:
    return [{"linkId": link_id, "text": text, "answer": [{"valueString": value}]}] if value else []


def _feature_items(
    toolkit: Toolkit, owner: str, features: tuple[Feature, ...], judgement: Judgement
) -> list[dict[str, Any]]:
    """The features marked (each at the grade it was found evident) and the
    reason for a grade other than the one they suggest."""
    items: list[dict[str, Any]] = []
    for feature in features:
        grade = _grade(toolkit, judgement.features.get(feature.id))
        if grade is not None:
            items.append(
                {
                    "linkId": feature_link(owner, feature),
                    "text": next(iter(feature.texts.values()), feature.id),
                    "answer": [grade],
                }
            )
    items += _text_item(f"{owner}.override-reason", OVERRIDE_REASON_TEXT, judgement.override_reason)
    return items


def _section_item(toolkit: Toolkit, section: Section, content: ContributionContent) -> dict[str, Any] | None:
    items: list[dict[str, Any]] = []
    for question in section.questions:
        answer = content.answers.get(question.id)
        if answer is not None:
            items.extend(_question_items(toolkit, section, question, answer))
    judgement = content.judgements.get(section.id, Judgement())
    if section.judgement is not None:
        grade = _grade(toolkit, judgement.grade)
        if grade is not None:
            items.append({"linkId": f"{section.id}.judgement", "text": section.judgement.prompt, "answer": [grade]})
        if judgement.impact:
            items.append(
                {
                    "linkId": f"{section.id}.impact",
                    "text": section.judgement.impact_label,
                    "answer": [{"valueString": judgement.impact}],
                }
            )
        items += _feature_items(toolkit, section.id, section.judgement.features, judgement)
    not_involved = content.not_involved.get(section.id)
    if not_involved is not None and toolkit.not_involved is not None:
        # Kept even with no reason yet: the mark itself is what counts.
        items.append(
            {
                "linkId": f"{section.id}.not-involved",
                "text": f"{toolkit.not_involved.label}: {toolkit.not_involved.reason_label}",
                "answer": [{"valueString": not_involved.reason}],
            }
        )
    failure = content.significant_failures.get(section.id)
    if failure is not None:
        items += _text_item(f"{section.id}.significant-failure", SIGNIFICANT_FAILURE_TEXT, failure.description)
    if not items:
        return None
    return {"linkId": section.id, "text": section.title, "item": items}


def questionnaire_response(
    toolkit: Toolkit,
    content: ContributionContent,
    *,
    response_id: str,
    status: str,
    authored: datetime.datetime | None,
    organisation_code: str,
    organisation_name: str,
    amended: bool = False,
) -> dict[str, Any]:
    """The contribution as a QuestionnaireResponse resource (a dict ready
    for JSON). Only the agency's own sections: the case details belong to
    the coordinator and are not part of an agency's response."""
    items = [
        item
        for section in toolkit.sections
        if section.completed_by == "agency" and (item := _section_item(toolkit, section, content)) is not None
    ]
    if toolkit.overall is not None and content.overall is not None:
        grade = _grade(toolkit, content.overall.grade)
        if grade is not None:
            items.append({"linkId": "overall", "text": toolkit.overall.prompt, "answer": [grade]})
        if content.overall.impact:
            items.append(
                {
                    "linkId": "overall.impact",
                    "text": overall_rationale_label(toolkit),
                    "answer": [{"valueString": content.overall.impact}],
                }
            )
        items += _feature_items(toolkit, "overall", toolkit.overall.features, content.overall)
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": response_id,
        "questionnaire": f"{canonical_url(toolkit)}|{toolkit.version}",
        "status": "amended" if amended and status == "submitted" else FHIR_STATUS.get(status, "in-progress"),
        "author": {
            "identifier": {"system": f"{SYSTEM}:organisation", "value": organisation_code},
            "display": organisation_name,
        },
        "item": items,
    }
    if authored is not None:
        resource["authored"] = authored.isoformat()
    return resource
