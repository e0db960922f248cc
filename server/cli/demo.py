"""``maca demo --audits N``: a partnership's worth of realistic audits, for
development and benchmarks.

Audits over the last two years across the toolkits, agencies taking part,
drafts and submitted contributions (every submitted one complete and valid
for its agency on its case), agencies disagreeing, reviewers moderating,
remedial actions (some overdue), immediate concerns; and the themes'
summaries and counted rows, made by the same code the API uses. Rows go in
with COPY in batches. Every audit's id follows from the seed and its number,
so a second run with the same seed adds only what is missing.

Everything is synthetic: case details are placeholders ("Demo child 17").
"""

from __future__ import annotations

import asyncio
import datetime
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import msgspec

from agencies.applicability import Participant, applicable_sections
from agencies.contributions import area_suggestion, overall_suggestion, validate_contribution
from merging import RULES_EDITION, AgencyContribution, CaseFacts, Moderation, merge, policy_for
from server.audits.events import EventName
from server.audits.learning import PANEL_OVERALL, learning_questions
from server.cli.database import CommandError, database_url, run_migrations
from server.db import theme_versions
from server.db import themes as stored
from server.db.audits import OrganisationRow
from server.db.demo import DEMO_ORGANISATIONS, DEMO_PARTNERSHIP, load_demo_data
from server.db.themes import AgencyKey, AuditSummaryRow, SectionKey, SectionValues
from server.reports.themes import (
    add_agency_counts,
    add_section_counts,
    agency_counts,
    section_counts,
    summarise,
)
from toolkits.answers import CaseDetails, ContributionContent
from toolkits.model import FIXED_CHOICES, Question, Toolkit
from toolkits.registry import Registry
from toolkits.validation import case_detail_values, validate_case_details

NAMESPACE = uuid.UUID("1f0c6a52-5d0e-4c1e-9a53-6d2b8f1e7a10")
BATCH = 2000
DAYS = 730  # audits spread over the last two years

# How often each toolkit is used, and each status an audit is in.
TOOLKIT_WEIGHTS = {
    "multi-agency-cp": 40,
    "childs-journey-early-help": 20,
    "early-intervention": 15,
    "csc-practice-criteria": 15,
    "tier2-cin-cp": 10,
}
STATUS_WEIGHTS = {"closed": 50, "in-review": 15, "open": 25, "draft": 10}
CSC = "childrens-social-care"


@dataclass
class Plan:
    """What one run wrote, for the report and the tests."""

    audits: int = 0
    skipped: int = 0
    contributions: dict[str, int] = field(default_factory=dict)
    moderations: int = 0
    actions: int = 0
    overdue_actions: int = 0
    programmes: int = 0
    panels: int = 0
    learning_tags: int = 0
    seconds: float = 0.0


def _sample_answer(question: Question, rng: random.Random, *, alerting: bool) -> Any:
    """A valid answer of the question's kind; ``alerting`` picks the value
    that raises the question's alert, where it has one."""
    if question.alert is not None:
        raising = question.alert.when[0]
        if alerting:
            return [raising] if question.kind == "multiple-choice" else raising
        choices = [c.value for c in question.choices] or [code for code, _ in FIXED_CHOICES.get(question.kind, ())]
        calm = [c for c in choices if c not in question.alert.when]
        return [calm[0]] if question.kind == "multiple-choice" else calm[0]
    kind = question.kind
    if kind == "grade":
        return rng.randint(1, 4)
    if kind in FIXED_CHOICES:
        return rng.choice(FIXED_CHOICES[kind])[0]
    simple: dict[str, Any] = {
        "tick": True,
        "date": "2025-03-01",
        "text": "Seen in the records",
        "number": 1,
        "evidence": [{"document": "Case notes", "date": "2025-03-01"}],
    }
    if kind in simple:
        return simple[kind]
    if kind == "single-choice":
        return rng.choice(question.choices).value
    if kind == "multiple-choice":
        return [rng.choice(question.choices).value]
    if kind == "rows":
        row: dict[str, Any] = {}
        for column in question.columns:
            row[column.id] = {"date": "2025-03-01", "number": 1, "yes-no": "yes", "tick": True}.get(column.kind, "x")
            if column.kind == "single-choice":
                row[column.id] = column.choices[0].value
        return [row]
    raise ValueError(f"no sample answer for {kind}")


def case_details(toolkit: Toolkit, number: int, rng: random.Random) -> dict[str, Any]:
    """Every case detail of ``toolkit``, placeholders only."""
    answers: dict[str, Any] = {}
    for section in toolkit.sections:
        if section.completed_by != "coordinator":
            continue
        for question in section.questions:
            value = _sample_answer(question, rng, alerting=False)
            if question.kind == "text":
                value = f"Demo {number}"
            if question.id.endswith("initials"):
                value = "XX"
            answers[question.id] = {"value": value}
    return {"answers": answers}


class Templates:
    """A complete contribution per (toolkit, agency kind, referrer, case
    details), checked once with the toolkit's own validation; an audit then
    varies only the grades and whether an alert is raised. Where the toolkit
    grades by features (seed 000), every feature is marked good, and a grade
    other than the one they suggest carries the auditor's reason."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, bool, str], tuple[dict[str, Any], list[str], list[str]]] = {}

    def get(
        self, toolkit: Toolkit, who: Participant, values: dict[str, object]
    ) -> tuple[dict[str, Any], list[str], list[str]]:
        """(answers, graded section ids, alerting question ids) for a case
        with the case details ``values`` (question id → value)."""
        # Only the case details that decide which sections and questions are
        # shown make another template (001's plan type, 002's case type).
        deciding = sorted(
            {s.condition.case_detail for s in toolkit.sections if s.condition is not None}
            | {q.condition.case_detail for s in toolkit.sections for q in s.questions if q.condition is not None}
        )
        variant = msgspec.json.encode([values.get(d) for d in deciding]).decode()
        key = (toolkit.id, who.agency_kind, who.is_referrer, variant)
        if key not in self._cache:
            rng = random.Random(0)  # noqa: S311 - demo data, not secrets
            sections = applicable_sections(toolkit, who, values)
            answers: dict[str, Any] = {}
            alerting: list[str] = []
            for section in sections:
                for question in section.questions:
                    answer: dict[str, Any] = {"value": _sample_answer(question, rng, alerting=False)}
                    if question.comments == "required":
                        answer["comments"] = "Seen in the records"
                    if question.evidence == "required":
                        answer["evidence"] = [{"document": "Case notes", "date": "2025-03-01"}]
                    answers[question.id] = answer
                    if question.alert is not None:
                        alerting.append(question.id)
            graded = [s.id for s in sections if s.judgement is not None]
            content = {
                "answers": answers,
                "judgements": {
                    s.id: {
                        "grade": 2,
                        "impact": "Plans were followed through",
                        "features": {f.id: 2 for f in s.judgement.features},
                    }
                    for s in sections
                    if s.judgement is not None
                },
            }
            if toolkit.overall is not None:
                content["overall"] = {
                    "grade": 2,
                    "impact": "Overall the plan kept the child safe",
                    "features": {f.id: 2 for f in toolkit.overall.features},
                }
            _give_reasons(toolkit, sections, content)
            problems = validate_contribution(
                toolkit, who, msgspec.convert(content, ContributionContent), case_details=values, complete=True
            )
            if problems:
                raise ValueError(f"demo contribution for {toolkit.id}/{who.agency_kind} is invalid: {problems[:3]}")
            self._cache[key] = (content, graded, alerting)
        return self._cache[key]


OVERRIDE_REASON = "The auditor weighed the work as a whole"


def _give_reasons(toolkit: Toolkit, sections: Sequence[Any], content: dict[str, Any]) -> None:
    """Where the toolkit suggests grades from features (seed 000), a grade
    other than the suggested one gives the auditor's reason, as a real one
    must; elsewhere nothing changes."""
    if not any(s.judgement is not None and s.judgement.features for s in sections):
        return
    typed = msgspec.convert(content, ContributionContent)
    for section in sections:
        judgement = content["judgements"].get(section.id)
        if judgement is None or section.judgement is None or not section.judgement.features:
            continue
        if area_suggestion(toolkit, section, typed).grade != judgement["grade"]:
            judgement["override_reason"] = OVERRIDE_REASON
    overall = content.get("overall")
    if overall is not None and overall_suggestion(toolkit, tuple(sections), typed).grade != overall["grade"]:
        overall["override_reason"] = OVERRIDE_REASON


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _grade(rng: random.Random, base: int) -> int:
    # Most agencies agree with the case's quality; some see it one grade
    # either way, a few two grades worse (the disagreements reviewers meet).
    step = rng.choices((0, -1, 1, 2), weights=(70, 12, 13, 5))[0]
    return min(4, max(1, base + step))


@dataclass
class Batch:
    audits: list[tuple[Any, ...]] = field(default_factory=list)
    participants: list[tuple[Any, ...]] = field(default_factory=list)
    contributions: list[tuple[Any, ...]] = field(default_factory=list)
    versions: list[tuple[Any, ...]] = field(default_factory=list)
    moderations: list[tuple[Any, ...]] = field(default_factory=list)
    actions: list[tuple[Any, ...]] = field(default_factory=list)
    panels: list[tuple[Any, ...]] = field(default_factory=list)
    tags: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    summaries: list[AuditSummaryRow] = field(default_factory=list)
    section_counts: dict[SectionKey, SectionValues] = field(default_factory=dict)
    agency_counts: dict[AgencyKey, int] = field(default_factory=dict)


def _json(value: Any) -> bytes:
    return msgspec.json.encode(value)


# The audit cycle around the audits: a programme per quarter and toolkit
# (a third of the audits belong to one), the partnership's learning themes,
# a panel record for most audits in review or closed, and learning tagged.
LEARNING_THEMES = (
    "Voice of the child",
    "Information sharing",
    "Management oversight",
    "Neglect recognised late",
    "Multi-agency planning",
    "Recording",
)


@dataclass
class Cycle:
    programmes: dict[tuple[str, str], uuid.UUID]
    themes: list[uuid.UUID]
    learning: dict[str, list[str]]  # toolkit id → its learning question ids

    @classmethod
    async def prepare(
        cls,
        connection: asyncpg.Connection[Any],
        registry: Registry,
        partnership_id: uuid.UUID,
        organisations: Sequence[OrganisationRow],
        now: datetime.datetime,
        plan: Plan,
    ) -> Cycle:
        themes = []
        for name in LEARNING_THEMES:
            await connection.execute(
                "INSERT INTO learning_themes (partnership_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                partnership_id,
                name,
            )
            themes.append(
                await connection.fetchval(
                    "SELECT id FROM learning_themes WHERE partnership_id = $1 AND name = $2", partnership_id, name
                )
            )
        programmes: dict[tuple[str, str], uuid.UUID] = {}
        for days in range(0, DAYS + 92, 91):
            day = (now - datetime.timedelta(days=days)).date()
            quarter = f"{day.year} Q{(day.month - 1) // 3 + 1}"
            start = datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
            for toolkit_id in registry.ids():
                name = f"Neglect, {quarter}, {registry.current(toolkit_id).title}"
                programme_id = await connection.fetchval(
                    """
                    INSERT INTO programmes (partnership_id, name, focus, period_start, period_end, toolkit_id,
                                            selection_criteria)
                    VALUES ($1, $2, 'Neglect of children under five', $3::date, $3::date + 90, $4,
                            'Children on a plan for neglect, reviewed in the quarter')
                    ON CONFLICT (partnership_id, name) DO UPDATE SET name = EXCLUDED.name
                    RETURNING id
                    """,
                    partnership_id,
                    name,
                    start,
                    toolkit_id,
                )
                await connection.executemany(
                    "INSERT INTO programme_agencies VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    [(programme_id, o.id) for o in organisations],
                )
                programmes[(quarter, toolkit_id)] = programme_id
        plan.programmes = len(programmes)
        learning = {i: list(learning_questions(registry.current(i))) for i in registry.ids()}
        return cls(programmes=programmes, themes=themes, learning=learning)

    def programme_of(self, toolkit_id: str, created: datetime.datetime, rng: random.Random) -> uuid.UUID | None:
        if rng.random() >= 0.33:
            return None
        quarter = f"{created.year} Q{(created.month - 1) // 3 + 1}"
        return self.programmes.get((quarter, toolkit_id))

    def panel_and_learning(
        self,
        batch: Batch,
        plan: Plan,
        *,
        toolkit: Toolkit,
        audit_id: uuid.UUID,
        taking_part: Sequence[OrganisationRow],
        created: datetime.datetime,
        rng: random.Random,
    ) -> None:
        panel = rng.random() < 0.7
        if panel:
            graded = [s.id for s in toolkit.sections if s.judgement is not None and s.completed_by == "agency"]
            batch.panels.append(
                (
                    audit_id,
                    (created + datetime.timedelta(days=44)).date(),
                    _json([{"organisation_id": str(o.id), "role": "Safeguarding lead"} for o in taking_part]),
                    _json({rng.choice(graded): "The agencies agreed the work was timely but thin."} if graded else {}),
                    "The panel agreed the child's voice was missing from the plan.",
                    _json([{"decision": "Share the learning at the next practice forum"}]),
                )
            )
            plan.panels += 1
        if rng.random() < 0.6:
            themes = rng.sample(self.themes, rng.randint(1, 2))
            questions = self.learning.get(toolkit.id, [])
            organisation = rng.choice(list(taking_part))
            if questions:
                key: tuple[uuid.UUID | None, str] = (organisation.id, rng.choice(questions))
            elif panel:
                key = (None, PANEL_OVERALL)
            else:
                return
            for theme in themes:
                batch.tags.append((audit_id, key[0], key[1], theme))
                plan.learning_tags += 1


def build_audit(
    batch: Batch,
    plan: Plan,
    *,
    number: int,
    audit_id: uuid.UUID,
    partnership_id: uuid.UUID,
    registry: Registry,
    organisations: Sequence[OrganisationRow],
    templates: Templates,
    rng: random.Random,
    now: datetime.datetime,
    cycle: Cycle | None = None,
) -> None:
    toolkit = registry.current(_weighted(rng, TOOLKIT_WEIGHTS))
    status = _weighted(rng, STATUS_WEIGHTS)
    csc = next(o for o in organisations if o.agency_kind == CSC)
    others = [o for o in organisations if o.agency_kind != CSC]
    if toolkit.default_applies_to is not None:  # a children's social care tool
        taking_part = [csc]
    else:
        taking_part = [csc, *rng.sample(others, rng.randint(1, len(others)))]
    referrer = rng.choice(taking_part) if rng.random() < 0.7 else None
    created = now - datetime.timedelta(days=rng.uniform(0, DAYS))
    details = case_details(toolkit, number, rng)
    base = rng.choices((1, 2, 3, 4), weights=(10, 45, 33, 12))[0]
    batch.audits.append(
        (
            audit_id,
            partnership_id,
            toolkit.id,
            toolkit.version,
            _json(details),
            (created - datetime.timedelta(days=180)).date(),
            created.date(),
            referrer.id if referrer else None,
            (created + datetime.timedelta(days=42)).date(),
            status,
            created,
            created,
            RULES_EDITION,
            cycle.programme_of(toolkit.id, created, rng) if cycle else None,
        )
    )
    batch.events.append(
        (created, None, None, EventName.DEMO_GENERATED.value, audit_id, None, _json({"toolkit": toolkit.id}))
    )
    # The case as the server reads a stored audit: the typed case details,
    # their values by question, and (below) the facts the merge is given.
    case = msgspec.convert(details, CaseDetails)
    values = case_detail_values(case)
    contributions: list[AgencyContribution] = []
    for organisation in taking_part:
        batch.participants.append((audit_id, organisation.id, created))
        who = Participant(agency_kind=organisation.agency_kind, is_referrer=organisation == referrer)
        if status == "draft":
            contribution_status = "not-started"
        elif status == "open":
            contribution_status = rng.choices(
                ("submitted", "in-progress", "not-started", "returned"), weights=(50, 30, 15, 5)
            )[0]
        else:
            contribution_status = "submitted"
        template, graded, alerting = templates.get(toolkit, who, values)
        content: dict[str, Any] = {
            "answers": dict(template["answers"]),
            "judgements": {
                s: {**template["judgements"][s], "grade": _grade(rng, base), "override_reason": None} for s in graded
            },
        }
        if "overall" in template:
            content["overall"] = {**template["overall"], "grade": _grade(rng, base), "override_reason": None}
        _give_reasons(toolkit, applicable_sections(toolkit, who, values), content)
        for question_id in alerting:
            if rng.random() < 0.04:
                question = next(q for s in toolkit.sections for q in s.questions if q.id == question_id)
                content["answers"][question_id] = {
                    **template["answers"][question_id],
                    "value": _sample_answer(question, rng, alerting=True),
                }
        plan.contributions[contribution_status] = plan.contributions.get(contribution_status, 0) + 1
        if contribution_status == "not-started":
            contributions.append(
                AgencyContribution(
                    organisation_id=str(organisation.id),
                    organisation_name=organisation.name,
                    agency_kind=organisation.agency_kind,
                    status="not-started",
                )
            )
            continue
        if contribution_status == "in-progress":
            # A draft: half the answers, no judgements yet.
            kept = list(content["answers"])[: len(content["answers"]) // 2]
            content = {"answers": {q: content["answers"][q] for q in kept}, "judgements": {}}
        encoded = _json(content)
        contribution_id = uuid.uuid5(NAMESPACE, f"{audit_id}:{organisation.id}")
        submitted_at = created + datetime.timedelta(days=rng.uniform(1, 40))
        applicable = sum(len(s.questions) for s in applicable_sections(toolkit, who, values))
        batch.contributions.append(
            (
                contribution_id,
                audit_id,
                organisation.id,
                contribution_status,
                encoded,
                min(len(content["answers"]), applicable),
                applicable,
                submitted_at if contribution_status in ("submitted", "returned") else None,
                submitted_at + datetime.timedelta(days=3) if contribution_status == "returned" else None,
                "Please add the strategy meeting" if contribution_status == "returned" else None,
                submitted_at,
            )
        )
        if contribution_status in ("submitted", "returned"):
            batch.versions.append((contribution_id, 1, "submitted", encoded, submitted_at))
        contributions.append(
            AgencyContribution(
                organisation_id=str(organisation.id),
                organisation_name=organisation.name,
                agency_kind=organisation.agency_kind,
                status=contribution_status,  # type: ignore[arg-type]
                content=msgspec.convert(content, ContributionContent),
            )
        )
    moderations: list[Moderation] = []
    if status in ("in-review", "closed") and rng.random() < 0.15:
        graded_sections = [s.id for s in toolkit.sections if s.judgement is not None and s.completed_by == "agency"]
        target = rng.choice(graded_sections)
        grade = rng.randint(1, 4)
        at = created + datetime.timedelta(days=45)
        reason = "The panel agreed a grade after reading the records"
        batch.moderations.append((audit_id, target, grade, reason, at))
        moderations.append(
            Moderation(target=target, grade=grade, reason=reason, moderated_by="demo", moderated_at=at.isoformat())
        )
        plan.moderations += 1
    if status in ("in-review", "closed") and rng.random() < 0.35:
        for _ in range(rng.randint(1, 2)):
            due = (created + datetime.timedelta(days=rng.randint(30, 120))).date()
            completed = rng.random() < 0.6
            responsible = rng.choice(taking_part)
            batch.actions.append(
                (
                    uuid.uuid5(NAMESPACE, f"{audit_id}:action:{len(batch.actions)}"),
                    audit_id,
                    "Share the strategy meeting minutes with every agency",
                    "Named worker",
                    "1 month",
                    responsible.id,
                    due,
                    completed,
                    "completed" if completed else rng.choice(("open", "in-progress")),
                    "Minutes of the last three strategy meetings" if completed else None,
                    created,
                )
            )
            plan.actions += 1
            plan.overdue_actions += int(not completed and due < now.date())
    if cycle is not None and status in ("in-review", "closed"):
        cycle.panel_and_learning(
            batch, plan, toolkit=toolkit, audit_id=audit_id, taking_part=taking_part, created=created, rng=rng
        )
    judgement = merge(
        toolkit,
        CaseFacts.of(case, referring_organisation_id=referrer.id if referrer else None),
        contributions,
        policy_for(toolkit, RULES_EDITION),
        moderations=moderations,
        final=status == "closed",
    )
    summary = summarise(
        judgement,
        audit_id=str(audit_id),
        partnership_id=str(partnership_id),
        status=status,
        created=created.date(),
        participating_kinds=[o.agency_kind for o in taking_part],
    )
    batch.summaries.append(summary)
    add_section_counts(batch.section_counts, section_counts(summary))
    add_agency_counts(batch.agency_counts, agency_counts(summary))
    plan.audits += 1


async def _write(connection: asyncpg.Connection[Any], batch: Batch) -> None:
    async with connection.transaction():
        await connection.copy_records_to_table(
            "audits",
            records=batch.audits,
            columns=(
                "id",
                "partnership_id",
                "toolkit_id",
                "toolkit_version",
                "case_details",
                "period_start",
                "period_end",
                "referring_organisation_id",
                "due_date",
                "status",
                "created_at",
                "updated_at",
                "judgement_rules",
                "programme_id",
            ),
        )
        await connection.copy_records_to_table(
            "audit_participants", records=batch.participants, columns=("audit_id", "organisation_id", "added_at")
        )
        await connection.copy_records_to_table(
            "contributions",
            records=batch.contributions,
            columns=(
                "id",
                "audit_id",
                "organisation_id",
                "status",
                "content",
                "answered",
                "applicable",
                "submitted_at",
                "returned_at",
                "returned_comment",
                "updated_at",
            ),
        )
        await connection.copy_records_to_table(
            "contribution_versions",
            records=batch.versions,
            columns=("contribution_id", "version", "kind", "content", "created_at"),
        )
        await connection.copy_records_to_table(
            "moderations", records=batch.moderations, columns=("audit_id", "target", "grade", "reason", "moderated_at")
        )
        await connection.copy_records_to_table(
            "remedial_actions",
            records=batch.actions,
            columns=(
                "id",
                "audit_id",
                "action",
                "who",
                "timescale",
                "responsible_organisation_id",
                "due_date",
                "completed",
                "status",
                "evidence",
                "created_at",
            ),
        )
        await connection.copy_records_to_table(
            "panel_records",
            records=batch.panels,
            columns=("audit_id", "held_on", "attendees", "section_narratives", "overall_narrative", "decisions"),
        )
        await connection.copy_records_to_table(
            "learning_tags", records=batch.tags, columns=("audit_id", "organisation_id", "question_id", "theme_id")
        )
        await connection.copy_records_to_table(
            "events",
            records=batch.events,
            columns=("at", "user_id", "organisation_id", "action", "audit_id", "target_organisation_id", "detail"),
        )
        await connection.copy_records_to_table(
            "audit_summaries",
            records=[stored.summary_record(s, json=_json) for s in batch.summaries],
            columns=stored.SUMMARY_COLUMNS,
        )
        await stored.add_counts(
            connection,
            sorted((k, v) for k, v in batch.section_counts.items() if any(v)),
            sorted((k, v) for k, v in batch.agency_counts.items() if v),
        )


async def _organisations(connection: asyncpg.Connection[Any], code: str) -> tuple[uuid.UUID, list[OrganisationRow]]:
    """The partnership (the demo one, or ``code`` made like it) and its
    agencies taking part: the demo organisations."""
    if code == DEMO_PARTNERSHIP[0]:
        await load_demo_data(connection)
    else:
        async with connection.transaction():
            partnership = await connection.fetchval(
                "INSERT INTO partnerships (code, name) VALUES ($1, $2) ON CONFLICT (code) DO NOTHING RETURNING id",
                code,
                f"{code} (demo)",
            )
            if partnership is not None:
                await connection.executemany(
                    "INSERT INTO organisations (partnership_id, code, name, agency_kind) VALUES ($1, $2, $3, $4)",
                    [(partnership, f"{code}-{c}", name, kind) for c, name, kind in DEMO_ORGANISATIONS],
                )
    partnership_id = await connection.fetchval("SELECT id FROM partnerships WHERE code = $1", code)
    wanted = [c for c, _, _ in DEMO_ORGANISATIONS if c != "demo-partnership-team"]
    if code != DEMO_PARTNERSHIP[0]:
        wanted = [f"{code}-{c}" for c in wanted]
    rows = await connection.fetch(
        "SELECT id, code, name, agency_kind FROM organisations"
        " WHERE partnership_id = $1 AND code = ANY($2) ORDER BY code",
        partnership_id,
        wanted,
    )
    return partnership_id, [OrganisationRow(**r) for r in rows]


async def generate(
    connection: asyncpg.Connection[Any],
    registry: Registry,
    *,
    audits: int,
    seed: int = 1,
    partnership: str = DEMO_PARTNERSHIP[0],
    progress: Callable[[int], None] | None = None,
    now: datetime.datetime | None = None,
) -> Plan:
    """Generate ``audits`` audits (those of this seed not there yet)."""
    # jsonb goes in as the bytes msgspec made: binary COPY's jsonb is a
    # version byte and the text.
    await connection.set_type_codec(
        "jsonb",
        encoder=lambda value: b"\x01" + value,
        decoder=lambda data: data[1:],
        schema="pg_catalog",
        format="binary",
    )
    try:
        return await _generate(connection, registry, audits, seed, partnership, progress, now)
    finally:
        await connection.reset_type_codec("jsonb", schema="pg_catalog")


async def _generate(
    connection: asyncpg.Connection[Any],
    registry: Registry,
    audits: int,
    seed: int,
    partnership: str,
    progress: Callable[[int], None] | None,
    now: datetime.datetime | None,
) -> Plan:
    started = time.monotonic()
    partnership_id, organisations = await _organisations(connection, partnership)
    now = now or datetime.datetime.now(datetime.UTC)
    templates = Templates()
    plan = Plan()
    cycle = await Cycle.prepare(connection, registry, partnership_id, organisations, now, plan)
    for start in range(0, audits, BATCH):
        numbers = range(start, min(audits, start + BATCH))
        ids = [uuid.uuid5(NAMESPACE, f"{partnership}:{seed}:{n}") for n in numbers]
        existing = {r["id"] for r in await connection.fetch("SELECT id FROM audits WHERE id = ANY($1)", ids)}
        batch = Batch()
        for number, audit_id in zip(numbers, ids, strict=True):
            if audit_id in existing:
                plan.skipped += 1
                continue
            build_audit(
                batch,
                plan,
                number=number,
                audit_id=audit_id,
                partnership_id=partnership_id,
                registry=registry,
                organisations=organisations,
                templates=templates,
                rng=random.Random(f"{seed}:{number}"),  # noqa: S311 - demo data, repeatable by seed
                now=now,
                cycle=cycle,
            )
        if batch.audits:
            await _write(connection, batch)
        if progress is not None:
            progress(len(numbers))
    if plan.audits:
        await theme_versions.bump(connection, partnership_id)
        # Every batch added to the same few thousand counted rows: rewrite
        # them compactly (outside any transaction, as VACUUM must be).
        await connection.execute("VACUUM (FULL) theme_section_counts, theme_agency_counts")
        # The learning counts read the tags' (theme, audit) index alone.
        await connection.execute("VACUUM learning_tags")
    # Every table a list, a judgement or a dashboard reads per audit: until
    # autovacuum gets to them, their plans are made without statistics (the
    # audit list took 112 ms at 10,000 audits with audit_participants and
    # contributions unanalysed, 25 ms analysed).
    await connection.execute(
        "ANALYZE audits, audit_participants, contributions, contribution_versions, moderations, remedial_actions, "
        "audit_summaries, theme_section_counts, theme_agency_counts, learning_tags, panel_records"
    )
    plan.seconds = round(time.monotonic() - started, 1)
    return plan


def check_case_details(registry: Registry) -> None:
    """Every toolkit's generated case details are complete and valid."""
    for toolkit_id in registry.ids():
        toolkit = registry.current(toolkit_id)
        details = msgspec.convert(case_details(toolkit, 1, random.Random(0)), CaseDetails)  # noqa: S311
        problems = validate_case_details(toolkit, details, complete=True)
        if problems:
            raise ValueError(f"demo case details for {toolkit_id} are invalid: {problems[:3]}")


# --- the command ---------------------------------------------------------------


def add_demo_command(commands: Any) -> None:
    parser = commands.add_parser("demo", help="generate realistic demo audits for development and benchmarks")
    parser.add_argument("--audits", type=int, required=True, help="how many audits (N)")
    parser.add_argument("--seed", type=int, default=1, help="the same seed gives the same audits (default 1)")
    parser.add_argument("--partnership", default=DEMO_PARTNERSHIP[0], help="partnership code (default: the demo's)")
    parser.set_defaults(handler=cmd_demo)


def cmd_demo(settings: Any, args: Any) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from server.app import load_toolkits

    if args.audits < 1:
        raise CommandError("--audits: give a number of audits, 1 or more")
    registry = load_toolkits()
    with database_url(settings) as url:
        run_migrations(settings, url)

        async def run() -> Plan:
            connection = await asyncpg.connect(url, statement_cache_size=settings.db_statement_cache)
            try:
                with Progress(
                    TextColumn("generating audits"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
                ) as bar:
                    task = bar.add_task("audits", total=args.audits)
                    return await generate(
                        connection,
                        registry,
                        audits=args.audits,
                        seed=args.seed,
                        partnership=args.partnership,
                        progress=lambda n: bar.advance(task, n),
                    )
            finally:
                await connection.close()

        plan = asyncio.run(run())
    rate = round(plan.audits / plan.seconds) if plan.seconds else plan.audits
    print(
        f"{plan.audits} audits generated ({plan.skipped} already there) in {plan.seconds} s ({rate}/s): "
        f"contributions {dict(sorted(plan.contributions.items()))}, {plan.moderations} moderations, "
        f"{plan.actions} remedial actions ({plan.overdue_actions} overdue), {plan.programmes} programmes, "
        f"{plan.panels} panel records, {plan.learning_tags} learning tags"
    )
