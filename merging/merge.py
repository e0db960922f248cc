"""``merge``: agency contributions in, the partnership's judgement out.

Pure and deterministic: the same inputs give the same judgement, whatever
the order of the contributions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from agencies.applicability import section_shown
from merging.model import (
    OVERALL,
    AgencyContribution,
    AgencyGrade,
    AgreedGrade,
    AwaitingAgency,
    CaseFacts,
    Disagreement,
    ImmediateConcern,
    Moderation,
    OverallCounts,
    OverallResult,
    PartnershipJudgement,
    SectionResult,
)
from merging.policies import GOOD, INADEQUATE, OUTSTANDING, Policy, policy_named
from toolkits.model import Alert, Section, Toolkit

DISAGREEMENT_SPREAD = 2  # "two or more grades apart" (DESIGN, merging rules)


class _Shape:
    """What merge needs from a toolkit, worked out once per toolkit."""

    def __init__(self, toolkit: Toolkit) -> None:
        self.toolkit = toolkit
        self.labels = {grade.value: grade.label for grade in toolkit.scale.grades}
        self.judged: tuple[Section, ...] = tuple(
            s for s in toolkit.sections if s.judgement is not None and s.completed_by == "agency"
        )
        self.alerts: tuple[tuple[str, Alert], ...] = tuple(
            (question.id, question.alert)
            for section in toolkit.sections
            for question in section.questions
            if question.alert is not None
        )


_SHAPES: dict[int, _Shape] = {}


def _shape(toolkit: Toolkit) -> _Shape:
    # Toolkits are frozen but hold dicts, so they cannot be hashed; the cache
    # is keyed by identity and checks it, and stays small.
    shape = _SHAPES.get(id(toolkit))
    if shape is None or shape.toolkit is not toolkit:
        if len(_SHAPES) > 64:
            _SHAPES.clear()
        shape = _SHAPES[id(toolkit)] = _Shape(toolkit)
    return shape


def _agency(contribution: AgencyContribution, grade: int, labels: Mapping[int, str]) -> AgencyGrade:
    return AgencyGrade(
        organisation_id=contribution.organisation_id,
        organisation_name=contribution.organisation_name,
        agency_kind=contribution.agency_kind,
        grade=grade,
        label=labels.get(grade, str(grade)),
    )


def _who(agencies: Iterable[AgencyGrade]) -> str:
    names = [f"{a.organisation_name} ({a.agency_kind})" for a in agencies]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _disagreement(agencies: Sequence[AgencyGrade]) -> Disagreement | None:
    if len(agencies) < 2:
        return None
    best = min(a.grade for a in agencies)
    worst = max(a.grade for a in agencies)
    if worst - best < DISAGREEMENT_SPREAD:
        return None
    return Disagreement(
        spread=worst - best,
        best=tuple(a for a in agencies if a.grade == best),
        worst=tuple(a for a in agencies if a.grade == worst),
    )


def _agreed(moderation: Moderation | None, labels: Mapping[int, str]) -> AgreedGrade | None:
    if moderation is None:
        return None
    return AgreedGrade(
        grade=moderation.grade,
        label=labels.get(moderation.grade, str(moderation.grade)),
        reason=moderation.reason,
        moderated_by=moderation.moderated_by,
        moderated_at=moderation.moderated_at,
    )


def _section(
    section: Section,
    submitted: Sequence[AgencyContribution],
    policy: Policy,
    labels: Mapping[int, str],
    moderation: Moderation | None,
) -> SectionResult:
    agencies: list[AgencyGrade] = []
    for contribution in submitted:
        judgement = contribution.content.judgements.get(section.id)
        if judgement is not None and judgement.grade is not None:
            agencies.append(_agency(contribution, judgement.grade, labels))
    agencies.sort(key=lambda a: (a.grade, a.organisation_name, a.organisation_id))

    computed: int | None = None
    if not agencies:
        rule = "No agency has submitted a grade for this section yet."
    else:
        computed, words = policy.section_rule([a.grade for a in agencies])
        label = labels[computed]
        if len(agencies) == 1:
            rule = f"{label} because {_who(agencies)} graded {computed}, the only agency grade so far."
        else:
            at_worst = [a for a in agencies if a.grade == computed] or agencies[-1:]
            rule = f"{label} because {_who(at_worst)} graded {at_worst[0].grade}: {'; '.join(words)} "
            rule += f"under the {policy.name} policy."
    agreed = _agreed(moderation, labels)
    if agreed is not None:
        rule += f" Moderated to {agreed.label}: {agreed.reason}"
    grade = agreed.grade if agreed is not None else computed
    return SectionResult(
        section_id=section.id,
        title=section.title,
        counts_towards_overall=section.counts_towards_overall,
        grade=grade,
        label=labels[grade] if grade is not None else None,
        computed_grade=computed,
        computed_label=labels[computed] if computed is not None else None,
        rule=rule,
        agencies=tuple(agencies),
        disagreement=_disagreement(agencies),
        moderation=agreed,
    )


def _concerns(shape: _Shape, contributions: Sequence[AgencyContribution]) -> tuple[ImmediateConcern, ...]:
    concerns: list[ImmediateConcern] = []
    if not shape.alerts:
        return ()
    for contribution in contributions:
        answers = contribution.content.answers
        for question_id, alert in shape.alerts:
            answer = answers.get(question_id)
            if answer is None:
                continue
            values = answer.value if isinstance(answer.value, list) else [answer.value]
            if any(v in alert.when for v in values if isinstance(v, str)):
                concerns.append(
                    ImmediateConcern(
                        organisation_id=contribution.organisation_id,
                        organisation_name=contribution.organisation_name,
                        agency_kind=contribution.agency_kind,
                        kind=alert.kind,
                        question_id=question_id,
                        message=alert.message,
                        submitted=contribution.status == "submitted",
                    )
                )
    concerns.sort(key=lambda c: (c.kind, c.organisation_name, c.organisation_id, c.question_id))
    return tuple(concerns)


def _overall(
    sections: Sequence[SectionResult],
    submitted: Sequence[AgencyContribution],
    concerns: Sequence[ImmediateConcern],
    policy: Policy,
    labels: Mapping[int, str],
    moderation: Moderation | None,
) -> OverallResult:
    areas = [s for s in sections if s.counts_towards_overall and s.grade is not None]
    grades = [s.grade for s in areas if s.grade is not None]
    counts = OverallCounts(
        areas=len(grades),
        outstanding=sum(1 for g in grades if g == OUTSTANDING),
        good_or_better=sum(1 for g in grades if g <= GOOD),
        adequate_or_better=sum(1 for g in grades if g < INADEQUATE),
        inadequate=sum(1 for g in grades if g == INADEQUATE),
    )
    trace: list[str] = []
    computed: int | None = None
    if grades:
        computed, words = policy.overall_rule(grades)
        trace.append(f"{len(grades)} areas graded: " + ", ".join(f"{s.title} {s.grade}" for s in areas))
        trace.extend(words)
        trace.append(f"{labels[computed]} under the {policy.name} policy")
    else:
        trace.append("No area has a partnership grade yet.")
    # Seed 000: "or if there is a significant failure which has impacted on
    # the safety of the child, the case should be considered inadequate".
    # Applied under every policy, from submitted contributions only (a draft
    # raises the alert at once but does not yet change grades).
    failures = [c for c in concerns if c.kind == "significant-failure" and c.submitted]
    if failures:
        computed = INADEQUATE
        trace.append(
            "Inadequate: a significant failure that affected the child's safety was recorded by "
            + _who(_agency_of(c) for c in failures)
        )
    agency_overall: list[AgencyGrade] = []
    for contribution in submitted:
        own = contribution.content.overall
        if own is not None and own.grade is not None:
            agency_overall.append(_agency(contribution, own.grade, labels))
    agency_overall.sort(key=lambda a: (a.grade, a.organisation_name, a.organisation_id))
    agreed = _agreed(moderation, labels)
    if agreed is not None:
        trace.append(f"Moderated to {agreed.label}: {agreed.reason}")
    grade = agreed.grade if agreed is not None else computed
    return OverallResult(
        grade=grade,
        label=labels[grade] if grade is not None else None,
        computed_grade=computed,
        computed_label=labels[computed] if computed is not None else None,
        trace=tuple(trace),
        counts=counts,
        agencies=tuple(agency_overall),
        moderation=agreed,
    )


def _agency_of(concern: ImmediateConcern) -> AgencyGrade:
    return AgencyGrade(
        organisation_id=concern.organisation_id,
        organisation_name=concern.organisation_name,
        agency_kind=concern.agency_kind,
        grade=INADEQUATE,
        label="",
    )


def merge(
    toolkit: Toolkit,
    case: CaseFacts,
    contributions: Sequence[AgencyContribution],
    policy: str | Policy | None = None,
    moderations: Iterable[Moderation] = (),
) -> PartnershipJudgement:
    """The partnership-level judgement of one audit.

    Only submitted contributions are graded; the others make the judgement
    provisional and are listed as awaited. Immediate concerns come from
    every contribution, drafts included, because they must reach the
    partnership at once. ``policy`` defaults to the toolkit's.
    """
    chosen = policy_named(policy or toolkit.merge_policy) if not isinstance(policy, Policy) else policy
    shape = _shape(toolkit)
    labels = shape.labels
    ordered = sorted(contributions, key=lambda c: (c.organisation_id, c.organisation_name))
    submitted = [c for c in ordered if c.status == "submitted"]
    awaiting = tuple(
        AwaitingAgency(
            organisation_id=c.organisation_id,
            organisation_name=c.organisation_name,
            agency_kind=c.agency_kind,
            status=c.status,
        )
        for c in ordered
        if c.status != "submitted"
    )
    moderated = {m.target: m for m in moderations}
    details = case.case_details or None
    sections = tuple(
        _section(section, submitted, chosen, labels, moderated.get(section.id))
        for section in shape.judged
        if section_shown(section, details)
    )
    concerns = _concerns(shape, ordered)
    overall = _overall(sections, submitted, concerns, chosen, labels, moderated.get(OVERALL))
    return PartnershipJudgement(
        toolkit_id=toolkit.id,
        toolkit_version=toolkit.version,
        policy=chosen.name,
        policy_description=chosen.description,
        provisional=bool(awaiting),
        awaiting=awaiting,
        sections=sections,
        overall=overall,
        immediate_concerns=concerns,
    )
