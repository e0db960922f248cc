"""Each toolkit as an HL7 FHIR R4 Questionnaire, checked by fhir.resources.

fhir.resources ships R4B, the technical correction of R4; Questionnaire is
the same resource in both.
"""

from __future__ import annotations

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire

from toolkits.fhir import ORDINAL_VALUE, questionnaire
from toolkits.registry import Registry


def link_ids(items: list[dict]) -> list[str]:
    found: list[str] = []
    for item in items:
        found.append(item["linkId"])
        found.extend(link_ids(item.get("item", [])))
    return found


@pytest.mark.parametrize(
    "toolkit_id",
    ["multi-agency-cp", "early-intervention", "csc-practice-criteria", "tier2-cin-cp", "childs-journey-early-help"],
)
def test_every_toolkit_is_a_valid_questionnaire(toolkits: Registry, toolkit_id: str) -> None:
    toolkit = toolkits.current(toolkit_id)
    resource = questionnaire(toolkit)
    parsed = Questionnaire.model_validate(resource)
    assert parsed.status == "active"
    assert parsed.version == str(toolkit.version)
    ids = link_ids(resource["item"])
    assert len(ids) == len(set(ids)), "linkIds must be unique"
    # Sections are groups, questions keep their id as linkId.
    assert [item["linkId"] for item in resource["item"] if item["type"] == "group"] == [
        section.id for section in toolkit.sections
    ]
    assert {q.id for s in toolkit.sections for q in s.questions} <= set(ids)


def test_grades_carry_their_ordinal_values_and_labels(toolkits: Registry) -> None:
    toolkit = toolkits.current("multi-agency-cp")
    resource = questionnaire(toolkit)
    judged = next(s for s in toolkit.sections if s.judgement is not None)
    group = next(item for item in resource["item"] if item["linkId"] == judged.id)
    grade = next(item for item in group["item"] if item["linkId"] == f"{judged.id}.judgement")
    options = [
        (option["valueCoding"]["code"], option["valueCoding"]["display"], option["extension"][0])
        for option in grade["answerOption"]
    ]
    assert options == [
        ("1", "Outstanding", {"url": ORDINAL_VALUE, "valueDecimal": 1}),
        ("2", "Good", {"url": ORDINAL_VALUE, "valueDecimal": 2}),
        ("3", "Adequate", {"url": ORDINAL_VALUE, "valueDecimal": 3}),
        ("4", "Inadequate", {"url": ORDINAL_VALUE, "valueDecimal": 4}),
    ]
