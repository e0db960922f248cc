"""A toolkit as an HL7 FHIR R4 ``Questionnaire``, so health systems can use
the tool: sections become groups, questions keep their id as ``linkId``, and
grades carry their ordinal value (1 best … 4 worst)."""

from __future__ import annotations

from typing import Any

from toolkits.model import FIXED_CHOICES, Column, Feature, Question, Section, Toolkit

ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
SYSTEM = "urn:maca"

_SIMPLE_TYPES = {"date": "date", "text": "text", "number": "decimal", "tick": "boolean"}


def canonical_url(toolkit: Toolkit) -> str:
    return f"{SYSTEM}:toolkit:{toolkit.id}"


def scale_system(toolkit: Toolkit) -> str:
    return f"{SYSTEM}:scale:{toolkit.scale.id}"


SIGNIFICANT_FAILURE_TEXT = "A significant failure which has impacted on the safety of the child"
OVERRIDE_REASON_TEXT = "Why the grade given is not the one the features suggest"


def feature_link(owner: str, feature: Feature) -> str:
    """A feature's linkId: ``{section}.features.{feature}`` (``overall.features.…``)."""
    return f"{owner}.features.{feature.id}"


def takes_significant_failure(section: Section) -> bool:
    """An area of the work (an agency section counting towards the overall
    judgement): where an agency records a significant failure."""
    return section.completed_by == "agency" and section.counts_towards_overall


def takes_not_involved(toolkit: Toolkit, section: Section) -> bool:
    """A graded agency section of a toolkit that asks whether the agency was involved."""
    return toolkit.not_involved is not None and section.completed_by == "agency" and section.judgement is not None


def overall_rationale_label(toolkit: Toolkit) -> str:
    """What the overall judgement's reasons are called (its ``impact``)."""
    label = toolkit.overall.rationale_label if toolkit.overall is not None else None
    return label or "Reasons for the overall judgement"


def questionnaire(toolkit: Toolkit) -> dict[str, Any]:
    """The whole toolkit, every section, as a FHIR R4 Questionnaire resource."""
    items = [_section(toolkit, section) for section in toolkit.sections]
    if toolkit.overall is not None:
        items.append(_grade_item(toolkit, "overall", toolkit.overall.prompt, required=True))
        items.append(
            {"linkId": "overall.impact", "text": overall_rationale_label(toolkit), "type": "text", "required": False}
        )
        items.extend(_feature_items(toolkit, "overall", toolkit.overall.features))
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": toolkit.id,
        "url": canonical_url(toolkit),
        "version": str(toolkit.version),
        "name": "".join(part.capitalize() for part in toolkit.id.split("-")),
        "title": toolkit.title,
        "status": "active",
        "subjectType": ["Patient"],
        "item": items,
    }
    if toolkit.introduction:
        resource["description"] = toolkit.introduction
    return resource


def _section(toolkit: Toolkit, section: Section) -> dict[str, Any]:
    items = [_question(toolkit, section, question) for question in section.questions]
    if section.judgement is not None:
        items.append(_grade_item(toolkit, f"{section.id}.judgement", section.judgement.prompt, required=True))
        items.append(
            {
                "linkId": f"{section.id}.impact",
                "text": section.judgement.impact_label,
                "type": "text",
                "required": section.judgement.impact_required,
            }
        )
        items.extend(_feature_items(toolkit, section.id, section.judgement.features))
    if takes_not_involved(toolkit, section):
        assert toolkit.not_involved is not None
        # Answered (with the short reason) only when the agency was not
        # involved in this stage: then the section's other items are not.
        items.append(
            {
                "linkId": f"{section.id}.not-involved",
                "text": f"{toolkit.not_involved.label}: {toolkit.not_involved.reason_label}",
                "type": "text",
                "required": False,
            }
        )
    if takes_significant_failure(section):
        items.append(
            {
                "linkId": f"{section.id}.significant-failure",
                "text": SIGNIFICANT_FAILURE_TEXT,
                "type": "text",
                "required": False,
            }
        )
    group: dict[str, Any] = {"linkId": section.id, "text": section.title, "type": "group", "item": items}
    if section.condition is not None:
        group["enableWhen"] = [
            {"question": section.condition.case_detail, "operator": "=", "answerCoding": {"code": value}}
            for value in section.condition.any_of
        ]
        group["enableBehavior"] = "any"
    return group


def _grade_item(toolkit: Toolkit, link_id: str, text: str, *, required: bool) -> dict[str, Any]:
    return {
        "linkId": link_id,
        "text": text,
        "type": "choice",
        "required": required,
        "answerOption": [
            {
                "extension": [{"url": ORDINAL_VALUE, "valueDecimal": grade.value}],
                "valueCoding": {"system": scale_system(toolkit), "code": str(grade.value), "display": grade.label},
            }
            for grade in toolkit.scale.grades
        ],
    }


def _feature_items(toolkit: Toolkit, owner: str, features: tuple[Feature, ...]) -> list[dict[str, Any]]:
    """Seed 000's features of an area (or of the overall judgement): each
    answered with the grade at which it was found evident, and the reason
    when the grade given is not the one they suggest."""
    if not features:
        return []
    items: list[dict[str, Any]] = []
    for feature in features:
        item = _grade_item(
            toolkit, feature_link(owner, feature), next(iter(feature.texts.values()), feature.id), required=False
        )
        item["answerOption"] = [o for o in item["answerOption"] if int(o["valueCoding"]["code"]) in feature.texts]
        items.append(item)
    items.append(
        {"linkId": f"{owner}.override-reason", "text": OVERRIDE_REASON_TEXT, "type": "text", "required": False}
    )
    return items


def _choice_options(question: Question) -> list[dict[str, Any]]:
    if question.kind in FIXED_CHOICES:
        pairs = FIXED_CHOICES[question.kind]
    else:
        pairs = tuple((choice.value, choice.label) for choice in question.choices)
    return [{"valueCoding": {"system": f"{SYSTEM}:answers", "code": v, "display": label}} for v, label in pairs]


def has_comments(section: Section, question: Question) -> bool:
    """Whether an answer to ``question`` takes comments: its own box, or the
    section's ("Auditor comments" beside every question of seed 003's)."""
    return question.comments != "none" or section.comments_label is not None


def _question(toolkit: Toolkit, section: Section, question: Question) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": question.id, "text": question.text, "required": question.required}
    if question.kind == "grade":
        item.update(_grade_item(toolkit, question.id, question.text, required=question.required))
    elif question.kind in _SIMPLE_TYPES:
        item["type"] = _SIMPLE_TYPES[question.kind]
    elif question.kind == "evidence":
        item.update(type="group", repeats=True, item=_evidence_items(question.id))
    elif question.kind == "rows":
        item.update(type="group", repeats=True, item=[_column(question.id, c) for c in question.columns])
    else:  # the choice kinds
        item.update(type="choice", answerOption=_choice_options(question))
        if question.kind == "multiple-choice":
            item["repeats"] = True
    if has_comments(section, question) or question.evidence != "none":
        # Comments and evidence ride along as nested items of the question.
        nested = item.setdefault("item", [])
        if has_comments(section, question):
            nested.append(
                {
                    "linkId": f"{question.id}.comments",
                    "text": question.comments_label or section.comments_label or "Comments",
                    "type": "text",
                    "required": question.comments == "required",
                }
            )
        if question.evidence != "none":
            nested.append(
                {
                    "linkId": f"{question.id}.evidence",
                    "text": "Evidenced by",
                    "type": "group",
                    "repeats": True,
                    "required": question.evidence == "required",
                    "item": _evidence_items(f"{question.id}.evidence"),
                }
            )
    return item


def _evidence_items(prefix: str) -> list[dict[str, Any]]:
    return [
        {"linkId": f"{prefix}.document", "text": "Document", "type": "string", "required": True},
        {"linkId": f"{prefix}.date", "text": "Date", "type": "date"},
    ]


def _column(prefix: str, column: Column) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": f"{prefix}.{column.id}", "text": column.label, "required": column.required}
    if column.kind == "single-choice":
        item["type"] = "choice"
        item["answerOption"] = [
            {"valueCoding": {"system": f"{SYSTEM}:answers", "code": c.value, "display": c.label}}
            for c in column.choices
        ]
    elif column.kind == "yes-no":
        item["type"] = "choice"
        item["answerOption"] = [
            {"valueCoding": {"system": f"{SYSTEM}:answers", "code": v, "display": label}}
            for v, label in FIXED_CHOICES["yes-no"]
        ]
    else:
        item["type"] = {"text": "string", "date": "date", "number": "decimal", "tick": "boolean"}[column.kind]
    return item
