"""Learning, not only grades: key learning, good practice and
recommendations from every contribution and from the panel's record,
gathered per audit and per programme, tagged by reviewers with the
partnership's learning themes (a list its administrator keeps), counted on
the dashboard, and searched.

Which answers are learning is the tools' own wording: 004 "Key Learning:
(Please note anything that particularly stands out about good practice or
area for development)", 002's general overview ("Highlight any good
practice that could be shared"), 003's "Recommendations"; and the panel's
agreed narrative. A passage is one such answer of one organisation (or of
the panel) on one audit; tags name it by (audit, organisation, question).
Counts come from the tags alone (an index per theme), so the dashboard
stays fast however many audits there are; the passages behind a count are
for those who oversee the partnership.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final
from uuid import UUID

import asyncpg

from server.audits import events
from server.audits.access import visible_audit
from server.audits.events import EventName
from server.audits.facts import audit_toolkit, case_details_of
from server.audits.views import case_reference
from server.auth.permissions import Permission, may, require
from server.auth.principal import Principal
from server.db import exports as stored
from server.db import learning, panels
from server.db.learning import TaggedPassageRow, ThemeCountRow, ThemeRow
from server.db.panels import PanelRecordRow
from server.platform.problems import Conflict, FieldError, InvalidInput, NotFound
from toolkits.model import Toolkit
from toolkits.registry import Registry

__all__ = [
    "KIND_LABELS",
    "PANEL_OVERALL",
    "AuditLearning",
    "LearningDashboard",
    "Passage",
    "ThemeRow",
    "add_theme",
    "learning_questions",
    "list_themes",
    "passages_of",
    "read_audit_learning",
    "read_dashboard",
    "set_theme_active",
    "tag_passage",
]

PANEL_OVERALL: Final = "panel-overall"
# The passages shown behind a count: the most recently tagged, read with
# their audits and words in one statement (server/db/learning.py,
# tagged_passages).
BEHIND_A_COUNT: Final = 20

KIND_LABELS: Final = {
    "key-learning": "Key learning",
    "good-practice": "Good practice",
    "recommendation": "Recommendation",
    "panel": "Agreed by the panel",
}

# The tools' learning questions, by id (see the module's docstring).
_QUESTIONS: Final = {
    "key-learning-notes": "key-learning",
    "general-overview": "good-practice",
    "auditor-recommendations": "recommendation",
}


def learning_questions(toolkit: Toolkit) -> dict[str, tuple[str, str]]:
    """Question id → (kind, question text) of the toolkit's learning
    questions: those above, and in a partnership's own version any text
    question whose id says learning, good practice or recommendation."""
    found: dict[str, tuple[str, str]] = {}
    for section in toolkit.sections:
        if section.completed_by == "coordinator":
            continue
        for question in section.questions:
            if question.kind != "text":
                continue
            kind = _QUESTIONS.get(question.id)
            if kind is None:
                if "learning" in question.id and "need" not in question.id:
                    kind = "key-learning"
                elif "good-practice" in question.id:
                    kind = "good-practice"
                elif "recommend" in question.id:
                    kind = "recommendation"
            if kind is not None:
                found[question.id] = (kind, question.text)
    return found


@dataclass(frozen=True, kw_only=True)
class Passage:
    audit_id: UUID
    organisation_id: UUID | None  # None: the panel's record
    organisation_name: str
    question_id: str
    kind: str
    question: str
    text: str
    theme_ids: tuple[UUID, ...] = ()

    @property
    def key(self) -> tuple[UUID, UUID | None, str]:
        return (self.audit_id, self.organisation_id, self.question_id)


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def passages_of(
    toolkit: Toolkit,
    audit_id: UUID,
    contributions: list[tuple[UUID, str, dict[str, Any] | None]],
    panel: PanelRecordRow | None,
) -> list[Passage]:
    """Every passage of learning of one audit: ``contributions`` are
    (organisation id, name, submitted content); the panel's agreed overall
    narrative last."""
    questions = learning_questions(toolkit)
    found: list[Passage] = []
    for organisation_id, name, content in contributions:
        answers = (content or {}).get("answers") or {}
        for question_id, (kind, question) in questions.items():
            answer = answers.get(question_id)
            text = _text(answer.get("value")) if isinstance(answer, dict) else None
            if text is not None:
                found.append(
                    Passage(
                        audit_id=audit_id,
                        organisation_id=organisation_id,
                        organisation_name=name,
                        question_id=question_id,
                        kind=kind,
                        question=question,
                        text=text,
                    )
                )
    if panel is not None and panel.overall_narrative:
        found.append(
            Passage(
                audit_id=audit_id,
                organisation_id=None,
                organisation_name="The panel",
                question_id=PANEL_OVERALL,
                kind="panel",
                question="What the panel agreed overall",
                text=panel.overall_narrative,
            )
        )
    return found


def tagged_passage(toolkit: Toolkit, row: TaggedPassageRow) -> Passage | None:
    """One tagged passage as :func:`passages_of` would find it in its audit;
    None when its words are gone (an amendment emptied them) or the toolkit
    no longer asks the question."""
    text = _text(row.words)
    if text is None:
        return None
    if row.organisation_id is None:
        if row.question_id != PANEL_OVERALL:
            return None
        kind, question, name = "panel", "What the panel agreed overall", "The panel"
    else:
        asked = learning_questions(toolkit).get(row.question_id)
        if asked is None:
            return None
        (kind, question), name = asked, row.organisation_name or ""
    return Passage(
        audit_id=row.audit_id,
        organisation_id=row.organisation_id,
        organisation_name=name,
        question_id=row.question_id,
        kind=kind,
        question=question,
        text=text,
        theme_ids=tuple(sorted(row.theme_ids, key=str)),
    )


async def _audit_passages(
    connection: asyncpg.Connection[Any], registry: Registry, audit: Any
) -> tuple[Toolkit, list[Passage]]:
    toolkit = await audit_toolkit(connection, registry, audit)
    submitted = await stored.submitted_contributions(connection, audit.id)
    panel = await panels.get(connection, audit.id)
    tags = await learning.tags_of(connection, audit.id)
    themes_of: dict[tuple[UUID, UUID | None, str], list[UUID]] = {}
    for tag in tags:
        themes_of.setdefault((tag.audit_id, tag.organisation_id, tag.question_id), []).append(tag.theme_id)
    passages = passages_of(
        toolkit,
        audit.id,
        [(s.organisation_id, s.organisation_name, s.content) for s in submitted if s.content is not None],
        panel,
    )
    return toolkit, [
        Passage(**{**p.__dict__, "theme_ids": tuple(sorted(themes_of.get(p.key, []), key=str))}) for p in passages
    ]


# --- the themes list (the administrator's) -----------------------------------------


async def list_themes(connection: asyncpg.Connection[Any], principal: Principal) -> list[ThemeRow]:
    """The partnership's learning themes (anyone who reads reports, or administers)."""
    if not may(principal, Permission.PARTNERSHIP_ADMINISTER):
        require(principal, Permission.REPORT_READ)
    return await learning.themes(connection, principal.partnership_id)


async def add_theme(
    connection: asyncpg.Connection[Any], principal: Principal, name: str, description: str | None
) -> ThemeRow:
    """Add a theme to the partnership's list (its administrators); 409 for a name in use."""
    require(principal, Permission.PARTNERSHIP_ADMINISTER)
    errors = []
    if not name.strip() or len(name) > 120:
        errors.append(FieldError(field="$.name", message="name the theme in 1 to 120 characters"))
    if description is not None and len(description) > 1000:
        errors.append(FieldError(field="$.description", message="is longer than 1000 characters"))
    if errors:
        raise InvalidInput(errors=errors)
    added = await learning.add_theme(
        connection, principal.partnership_id, name.strip(), (description or "").strip() or None, principal.user_id
    )
    if added is None:
        raise Conflict("the partnership has a learning theme of that name")
    await events.record(
        connection,
        principal,
        EventName.LEARNING_THEME_ADDED,
        detail={"theme_id": str(added.id), "partnership_ids": [str(principal.partnership_id)]},
    )
    return added


async def set_theme_active(
    connection: asyncpg.Connection[Any], principal: Principal, theme_id: UUID, active: bool
) -> ThemeRow:
    """Retire a theme (no new tags; its counts stay) or bring it back."""
    require(principal, Permission.PARTNERSHIP_ADMINISTER)
    changed = await learning.set_active(connection, principal.partnership_id, theme_id, active, principal.user_id)
    if changed is None:
        raise NotFound("no such learning theme")
    await events.record(
        connection,
        principal,
        EventName.LEARNING_THEME_CHANGED,
        detail={"theme_id": str(theme_id), "active": active, "partnership_ids": [str(principal.partnership_id)]},
    )
    return changed


# --- one audit's learning, and tagging it -------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AuditLearning:
    audit_id: UUID
    reference: str | None
    passages: list[Passage]
    themes: list[ThemeRow]


async def read_audit_learning(
    connection: asyncpg.Connection[Any], principal: Principal, registry: Registry, audit_id: UUID
) -> AuditLearning:
    """The audit's passages of learning with their themes (those who oversee
    the partnership); the read recorded."""
    require(principal, Permission.PARTNERSHIP_OVERSEE)
    audit = await visible_audit(connection, principal, audit_id)
    toolkit, passages = await _audit_passages(connection, registry, audit)
    themes = await learning.themes(connection, principal.partnership_id)
    await events.record(connection, principal, EventName.LEARNING_READ, audit_id=audit.id)
    return AuditLearning(
        audit_id=audit.id,
        reference=case_reference(toolkit, case_details_of(audit)),
        passages=passages,
        themes=themes,
    )


async def tag_passage(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    audit_id: UUID,
    *,
    organisation_id: UUID | None,
    question_id: str,
    theme_ids: list[UUID],
) -> Passage:
    """Set the themes of one passage (reviewers): it must be a passage of
    the audit, and each theme an active one of the partnership (422)."""
    require(principal, Permission.LEARNING_TAG)
    audit = await visible_audit(connection, principal, audit_id)
    _, passages = await _audit_passages(connection, registry, audit)
    passage = next((p for p in passages if p.key == (audit.id, organisation_id, question_id)), None)
    if passage is None:
        raise NotFound("no such passage of learning in this audit")
    active = {t.id for t in await learning.themes(connection, principal.partnership_id) if t.active}
    errors = [
        FieldError(field=f"$.theme_ids[{i}]", message="is not one of the partnership's learning themes")
        for i, theme in enumerate(theme_ids)
        if theme not in active
    ]
    if errors:
        raise InvalidInput(errors=errors)
    chosen = list(dict.fromkeys(theme_ids))
    await learning.replace_tags(connection, audit.id, organisation_id, question_id, chosen, principal.user_id)
    await events.record(
        connection,
        principal,
        EventName.LEARNING_TAGGED,
        audit_id=audit.id,
        target_organisation_id=organisation_id,
        detail={"question_id": question_id, "themes": [str(t) for t in chosen]},
    )
    return Passage(**{**passage.__dict__, "theme_ids": tuple(chosen)})


# --- across audits: the dashboard's learning view ---------------------------------------


@dataclass(frozen=True, kw_only=True)
class LearningDashboard:
    counts: list[ThemeCountRow]
    # For those who oversee the partnership: the passages behind one
    # theme's count, or those holding the words searched for.
    theme_id: UUID | None
    passages: list[tuple[str | None, Passage]]  # (case reference, passage)
    searched: str | None
    may_see_passages: bool


async def read_dashboard(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    *,
    programme_id: UUID | None = None,
    theme_id: UUID | None = None,
    search: str | None = None,
) -> LearningDashboard:
    """The learning themes with how many passages and audits each is
    tagged in (a programme's, when given); for those who oversee the
    partnership, the passages behind one theme or those holding the words
    searched for. The read recorded."""
    require(principal, Permission.REPORT_READ)
    counts = await learning.theme_counts(connection, principal.partnership_id, programme_id=programme_id)
    entitled = may(principal, Permission.PARTNERSHIP_OVERSEE)
    shown: list[tuple[str | None, Passage]] = []
    words = (search or "").strip()[:200] or None
    if entitled and theme_id is not None:
        for tagged in await learning.tagged_passages(
            connection, principal.partnership_id, theme_id, programme_id=programme_id, limit=BEHIND_A_COUNT
        ):
            toolkit = await audit_toolkit(connection, registry, tagged)
            passage = tagged_passage(toolkit, tagged)
            if passage is not None:
                shown.append((case_reference(toolkit, case_details_of(tagged)), passage))
    elif entitled and words is not None:
        question_ids = sorted({q for i in registry.ids() for q in learning_questions(registry.current(i))})
        found = await learning.search_submitted(
            connection, principal.partnership_id, question_ids, words, programme_id=programme_id
        )
        for row in found:
            audit = await visible_audit(connection, principal, row.audit_id)
            toolkit = await audit_toolkit(connection, registry, audit)
            reference = case_reference(toolkit, case_details_of(audit))
            passages = passages_of(toolkit, audit.id, [(row.organisation_id, row.organisation_name, row.content)], None)
            shown += [(reference, p) for p in passages if words.casefold() in p.text.casefold()]
    await events.record(
        connection,
        principal,
        EventName.LEARNING_READ,
        detail={"themes": len(counts), "passages": len(shown), **({"searched": True} if words else {})},
    )
    return LearningDashboard(
        counts=counts, theme_id=theme_id, passages=shown, searched=words, may_see_passages=entitled
    )
