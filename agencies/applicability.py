"""Which questions an agency answers on a case.

Seed 003 prefixes its questions with who answers them ("All relevant
agencies", "Children's Social Care only", "Referring agency + children's
social care" …). Toolkits hold those as named selectors; this module resolves
them for one agency on one case, where whether the agency referred the case
is a fact of the case.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from toolkits.model import Condition, Question, Section, Selector, Toolkit


class Participant(msgspec.Struct, frozen=True, kw_only=True):
    """An agency as it takes part in one case."""

    agency_kind: str
    is_referrer: bool = False


def selects(selector: Selector, participant: Participant) -> bool:
    if participant.agency_kind in selector.except_agencies:
        return False
    if "*" in selector.agencies or participant.agency_kind in selector.agencies:
        return True
    return selector.referrer and participant.is_referrer


def question_applies(toolkit: Toolkit, section: Section, question: Question, participant: Participant) -> bool:
    name = question.applies_to or section.applies_to or toolkit.default_applies_to
    if name is None:
        return True
    return selects(toolkit.selectors[name], participant)


def condition_holds(condition: Condition | None, case_details: Mapping[str, object] | None) -> bool:
    """Whether the case details meet a section's or a question's condition.
    With no case details known yet, everything is shown."""
    if condition is None or case_details is None:
        return True
    value = case_details.get(condition.case_detail)
    values = value if isinstance(value, list) else [value]
    return any(v in condition.any_of for v in values)


def section_shown(section: Section, case_details: Mapping[str, object] | None) -> bool:
    """Whether a conditional section is part of this case (001's planning and
    review variants). With no case details known yet, every variant is shown."""
    return condition_holds(section.condition, case_details)


def question_shown(question: Question, case_details: Mapping[str, object] | None) -> bool:
    """Whether a question is asked on this case: 001's criteria only a
    looked-after child's work has, 002's "If CP, …" and "For CwD …" items."""
    return condition_holds(question.condition, case_details)


def is_area(section: Section) -> bool:
    """An area of the audited work: an agency section that counts towards
    the overall judgement (not the key questions, outcomes, recommendations
    or the auditor's own details). A significant failure is recorded in one."""
    return section.completed_by == "agency" and section.counts_towards_overall


def may_be_not_involved(toolkit: Toolkit, section: Section) -> bool:
    """Whether an agency may mark ``section`` "not involved at this stage":
    a graded agency section of a toolkit that offers it."""
    return toolkit.not_involved is not None and section.completed_by == "agency" and section.judgement is not None


def applicable_sections(
    toolkit: Toolkit,
    participant: Participant,
    case_details: Mapping[str, object] | None = None,
) -> tuple[Section, ...]:
    """The agency's part of the toolkit: agency sections shown on this case,
    each with only the questions that apply to the agency.

    An agency judges a section only where it answers something in it: a
    section none of whose questions apply is dropped, judgement and all. A
    section that is only a judgement (000's areas of analysis) goes to the
    agencies its own selector picks."""
    sections: list[Section] = []
    for section in toolkit.sections:
        if section.completed_by != "agency" or not section_shown(section, case_details):
            continue
        questions = tuple(
            q
            for q in section.questions
            if question_applies(toolkit, section, q, participant) and question_shown(q, case_details)
        )
        if questions or (not section.questions and _section_applies(toolkit, section, participant)):
            sections.append(msgspec.structs.replace(section, questions=questions))
    return tuple(sections)


def _section_applies(toolkit: Toolkit, section: Section, participant: Participant) -> bool:
    name = section.applies_to or toolkit.default_applies_to
    return name is None or selects(toolkit.selectors[name], participant)


def view_for(
    toolkit: Toolkit,
    participant: Participant,
    case_details: Mapping[str, object] | None = None,
) -> Toolkit:
    """The toolkit as one agency sees it on one case: the coordinator's
    sections (read-only context) and that agency's applicable sections."""
    central = tuple(s for s in toolkit.sections if s.completed_by == "coordinator")
    applicable = {s.id: s for s in applicable_sections(toolkit, participant, case_details)}
    ordered = tuple(applicable.get(s.id, s) for s in toolkit.sections if s in central or s.id in applicable)
    return msgspec.structs.replace(toolkit, sections=ordered)
