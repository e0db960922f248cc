"""What the seed tests share: loading a seed's toolkit definition, finding
its sections, and the wording to compare with the seed's. Texts are compared
after collapsing whitespace, so the seed's doubled spaces and broken line
wraps do not matter; each seed test still names every text itself."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from agencies.kinds import AGENCY_KIND_CODES
from merging import POLICIES
from toolkits.model import Section, Toolkit
from toolkits.registry import DEFINITIONS, load_definition


def definition_file(toolkit_id: str, version: int = 1) -> Path:
    return DEFINITIONS / toolkit_id / f"v{version}.yaml"


def load_toolkit(file: Path, *, check_merge_policy: bool = False) -> Toolkit:
    """The definition, checked as the registry checks it (and its merge
    policy against the known ones when asked)."""
    return load_definition(
        file, agency_kinds=AGENCY_KIND_CODES, merge_policies=set(POLICIES) if check_merge_policy else None
    )


def words_in_file(file: Path, words: Iterable[str]) -> list[str]:
    """Those of ``words`` the definition file holds anywhere (to show that
    names, addresses and contact details of a seed were not copied)."""
    text = file.read_text()
    return [word for word in words if word in text]


def collapse(text: str) -> str:
    return " ".join(text.split())


def section_of(toolkit: Toolkit, section_id: str) -> Section:
    found = [section for section in toolkit.sections if section.id == section_id]
    assert len(found) == 1, f"no section {section_id!r}"
    return found[0]


def texts_of(section: Section) -> Iterator[str]:
    """Each piece of wording a section shows: its title, guidance and labels,
    its questions' texts, guidance, points, descriptors, choices and
    columns, its judgement's prompt and descriptors."""
    for text in (section.title, section.guidance, section.comments_label, section.evidence_label):
        if text:
            yield text
    for question in section.questions:
        yield question.text
        if question.guidance:
            yield question.guidance
        yield from question.points
        yield from question.descriptors.values()
        yield from (choice.label for choice in question.choices)
        yield from (column.label for column in question.columns)
    if section.judgement is not None:
        yield section.judgement.prompt
        yield from section.judgement.descriptors.values()


def section_texts(section: Section, *, with_labels: bool = False) -> str:
    """Everything a section says, collapsed, one text a line, to search the
    seed's texts in: titles, guidance, questions, points, descriptors, the
    judgement's prompt and descriptors; ``with_labels``: also the labels of
    comments boxes, choices, columns and the judgement's impact box."""
    parts: list[str | None] = [section.title, section.guidance]
    if with_labels:
        parts.append(section.comments_label)
    for question in section.questions:
        parts += [question.text, question.guidance, *question.points, *question.descriptors.values()]
        if with_labels:
            parts += [question.comments_label, *(c.label for c in question.choices)]
            parts += [c.label for c in question.columns]
    if section.judgement is not None:
        parts += [section.judgement.prompt, *section.judgement.descriptors.values()]
        if with_labels:
            parts.append(section.judgement.impact_label)
    return "\n".join(collapse(part or "") for part in parts)
