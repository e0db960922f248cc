"""``merge``: agency contributions in, the partnership's judgement out.

Pure and deterministic: the same inputs give the same judgement, whatever
the order of the contributions or moderations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from operator import attrgetter
from typing import Protocol, TypeGuard

from agencies.applicability import Participant, applicable_sections, section_shown
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
from merging.policies import ADEQUATE, GOOD, INADEQUATE, OUTSTANDING, Policy, policy_named
from toolkits.model import Alert, Question, Section, Toolkit

DISAGREEMENT_SPREAD = 2  # "two or more grades apart" (DESIGN, merging rules)

# Most pressing first: a child not safe now, then a failure that harmed the
# child's safety, then a case to escalate.
_CONCERN_ORDER = {"child-not-safe": 0, "significant-failure": 1, "escalation": 2}


class _Shape:
    """What merge needs from one toolkit, worked out once: its labels, its
    graded agency sections, and only the questions that can raise an alert,
    so a merge never walks every answer."""

    def __init__(self, toolkit: Toolkit) -> None:
        self.toolkit = toolkit
        self.labels: dict[int, str] = {grade.value: grade.label for grade in toolkit.scale.grades}
        self.judged: tuple[Section, ...] = tuple(
            s for s in toolkit.sections if s.judgement is not None and s.completed_by == "agency"
        )
        self.alerting: tuple[tuple[Section, Question, Alert], ...] = tuple(
            (section, question, question.alert)
            for section in toolkit.sections
            for question in section.questions
            if question.alert is not None
        )
        self._judged_by: dict[tuple[str, bool], frozenset[str]] = {}

    def sections_judged_by(self, agency_kind: str, is_referrer: bool) -> frozenset[str]:
        """The ids of the sections an agency of this kind judges (any case
        variant: conditions are applied to the sections themselves)."""
        key = (agency_kind, is_referrer)
        found = self._judged_by.get(key)
        if found is None:
            participant = Participant(agency_kind=agency_kind, is_referrer=is_referrer)
            found = frozenset(
                s.id for s in applicable_sections(self.toolkit, participant, None) if s.judgement is not None
            )
            self._judged_by[key] = found
        return found


_SHAPES: dict[int, _Shape] = {}
_SHAPES_KEPT = 64  # far more toolkit versions than a server loads


def _shape(toolkit: Toolkit) -> _Shape:
    # Toolkits are frozen but hold dicts, so they cannot be hashed (nor
    # lru_cached); the cache is keyed by identity, and the entry keeps the
    # toolkit alive so the identity cannot be reused while cached. A server
    # loads each toolkit version once, so identity is stable; tests that
    # build many toolkits with one id and version stay correct.
    shape = _SHAPES.get(id(toolkit))
    if shape is None or shape.toolkit is not toolkit:
        if len(_SHAPES) >= _SHAPES_KEPT:
            _SHAPES.clear()
        shape = _SHAPES[id(toolkit)] = _Shape(toolkit)
    return shape


_by_grade = attrgetter("grade")


def _on_scale(grade: int | None, labels: Mapping[int, str]) -> TypeGuard[int]:
    # A grade off the scale cannot be merged; validation keeps them out.
    # (``type`` rather than ``isinstance``: True is an int, not a grade.)
    return type(grade) is int and grade in labels


def _grade_of(contribution: AgencyContribution, grade: int, labels: Mapping[int, str]) -> AgencyGrade:
    return AgencyGrade(
        organisation_id=contribution.organisation_id,
        organisation_name=contribution.organisation_name,
        agency_kind=contribution.agency_kind,
        grade=grade,
        label=labels[grade],
    )


def _awaiting(contribution: AgencyContribution) -> AwaitingAgency:
    return AwaitingAgency(
        organisation_id=contribution.organisation_id,
        organisation_name=contribution.organisation_name,
        agency_kind=contribution.agency_kind,
        status=contribution.status,
    )


def _names(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


class _Named(Protocol):
    @property
    def organisation_name(self) -> str: ...
    @property
    def agency_kind(self) -> str: ...


def _who(agencies: Iterable[_Named]) -> str:
    return _names([f"{a.organisation_name} ({a.agency_kind})" for a in agencies])


def _disagreement(agencies: Sequence[AgencyGrade]) -> Disagreement | None:
    """``agencies`` sorted best first."""
    if len(agencies) < 2 or agencies[-1].grade - agencies[0].grade < DISAGREEMENT_SPREAD:
        return None
    best, worst = agencies[0].grade, agencies[-1].grade
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
        label=labels[moderation.grade],
        reason=moderation.reason,
        moderated_by=moderation.moderated_by,
        moderated_at=moderation.moderated_at,
    )


def _moderated(moderations: Iterable[Moderation], labels: Mapping[int, str]) -> dict[str, Moderation]:
    """The agreed grade per target. A grade off the toolkit's scale is
    ignored (the server checks grades before storing them); of two for one
    target, the later (then the worse) stands, whatever the order given."""
    agreed: dict[str, Moderation] = {}
    for moderation in moderations:
        if not _on_scale(moderation.grade, labels):
            continue
        held = agreed.get(moderation.target)
        if held is None or (moderation.moderated_at, moderation.grade) > (held.moderated_at, held.grade):
            agreed[moderation.target] = moderation
    return agreed


def _moderation_words(agreed: AgreedGrade) -> str:
    return f"Moderated to {agreed.label} by {agreed.moderated_by} on {agreed.moderated_at}: {agreed.reason}"


def _section_rule(agencies: Sequence[AgencyGrade], policy: Policy, labels: Mapping[int, str]) -> tuple[int, str]:
    if len(agencies) == 1:
        only = agencies[0]
        return only.grade, (
            f"{only.label} because {_who(agencies)} graded {only.grade}, the only agency grade on this section, "
            f"under the {policy.name} policy."
        )
    if agencies[0].grade == agencies[-1].grade:
        grade = agencies[0].grade
        return (
            grade,
            f"{labels[grade]} because every agency graded {grade} ({_who(agencies)}), under the {policy.name} policy.",
        )
    outcome = policy.section_rule([a.grade for a in agencies], labels)
    named = [a for a in agencies if a.grade == outcome.named]
    return outcome.grade, (
        f"{labels[outcome.grade]} because {_who(named)} graded {outcome.named}{outcome.because}, "
        f"under the {policy.name} policy."
    )


def _section(
    section: Section,
    submitted: Sequence[AgencyContribution],
    awaited: Sequence[tuple[AgencyContribution, frozenset[str]]],
    policy: Policy,
    labels: Mapping[int, str],
    moderation: Moderation | None,
) -> SectionResult:
    agencies: list[AgencyGrade] = []
    for contribution in submitted:
        judgement = contribution.content.judgements.get(section.id)
        if judgement is not None and _on_scale(judgement.grade, labels):
            agencies.append(_grade_of(contribution, judgement.grade, labels))
    agencies.sort(key=_by_grade)  # stable: within a grade, in the contributions' (name) order
    awaiting = tuple(_awaiting(c) for c, judged in awaited if section.id in judged)

    computed: int | None = None
    if agencies:
        computed, rule = _section_rule(agencies, policy, labels)
    else:
        rule = "No agency has submitted a grade for this section yet."
    agreed = _agreed(moderation, labels)
    if agreed is not None:
        rule += f" {_moderation_words(agreed)}"
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
        provisional=bool(awaiting),
        awaiting=awaiting,
    )


def _raised(value: object, when: tuple[str, ...]) -> str | None:
    """The answer value that raises an alert, if any: single choices (yes-no
    …) hold one value, multiple choices a list of them."""
    if isinstance(value, str):
        return value if value in when else None
    if isinstance(value, list):
        return next((v for v in value if isinstance(v, str) and v in when), None)
    return None


def _concerns(shape: _Shape, contributions: Sequence[AgencyContribution]) -> tuple[ImmediateConcern, ...]:
    """Every alert any contribution's answers raise, drafts included: "if
    there are immediate concerns the manager must be notified" (seed 002)
    does not wait for a submission."""
    if not shape.alerting:
        return ()
    concerns: list[ImmediateConcern] = []
    for contribution in contributions:
        answers = contribution.content.answers
        if not answers:
            continue
        for section, question, alert in shape.alerting:
            answer = answers.get(question.id)
            if answer is None:
                continue
            raised = _raised(answer.value, alert.when)
            if raised is not None:
                concerns.append(
                    ImmediateConcern(
                        organisation_id=contribution.organisation_id,
                        organisation_name=contribution.organisation_name,
                        agency_kind=contribution.agency_kind,
                        kind=alert.kind,
                        section_id=section.id,
                        question_id=question.id,
                        question=question.text,
                        answer=raised,
                        message=alert.message,
                        submitted=contribution.status == "submitted",
                        status=contribution.status,
                    )
                )
    concerns.sort(key=lambda c: (_CONCERN_ORDER.get(c.kind, 9), c.organisation_name, c.organisation_id, c.question_id))
    return tuple(concerns)


def _overall(
    sections: Sequence[SectionResult],
    submitted: Sequence[AgencyContribution],
    concerns: Sequence[ImmediateConcern],
    policy: Policy,
    labels: Mapping[int, str],
    moderation: Moderation | None,
) -> OverallResult:
    # The areas are the sections that count towards the overall judgement,
    # each at its partnership grade: the agreed one where reviewers moderated
    # it, since that is the partnership's view of that area.
    counted = [s for s in sections if s.counts_towards_overall]
    areas = [s for s in counted if s.grade is not None]
    grades = [s.grade for s in areas if s.grade is not None]
    ungraded = [s for s in counted if s.grade is None]
    counts = OverallCounts(
        areas=len(grades),
        outstanding=sum(1 for g in grades if g == OUTSTANDING),
        good_or_better=sum(1 for g in grades if g <= GOOD),
        adequate_or_better=sum(1 for g in grades if g <= ADEQUATE),
        inadequate=sum(1 for g in grades if g == INADEQUATE),
        not_yet_graded=len(ungraded),
    )

    trace: list[str] = []
    if areas:
        listed = "; ".join(f"{s.title} {s.label} ({s.grade})" for s in areas)
        trace.append(f"{len(areas)} area{'s' if len(areas) != 1 else ''} graded: {listed}.")
    for s in areas:
        if s.moderation is not None and s.computed_grade != s.grade:
            computed = "no computed grade" if s.computed_label is None else f"computed {s.computed_label}"
            trace.append(f"{s.title} counts as {s.label}, the grade the partnership agreed ({computed}).")
    if ungraded:
        trace.append(f"Not graded yet, so left out: {', '.join(s.title for s in ungraded)}.")

    # Seed 000's significant failure changes the grade only once submitted
    # (drafts change no grade), but a draft's is named so nobody is surprised.
    failed = [c for c in concerns if c.kind == "significant-failure"]
    failed_submitted = _unique_agencies(c for c in failed if c.submitted)
    failed_draft = _unique_agencies(c for c in failed if not c.submitted)
    if failed_submitted:
        trace.append(
            f"{_names(failed_submitted)} recorded a significant failure which has impacted on the safety of the child."
        )
    if failed_draft:
        trace.append(
            f"{_names(failed_draft)} recorded a significant failure in a contribution not yet submitted: "
            f"it will make the case {labels[INADEQUATE].lower()} once submitted."
        )

    outcome = policy.overall_rule(grades, bool(failed_submitted), labels)
    trace.extend(outcome.steps)
    computed_grade = outcome.grade
    if computed_grade is not None:
        trace.append(f"Overall: {labels[computed_grade]}, under the {policy.name} policy.")

    own: list[AgencyGrade] = []
    for contribution in submitted:
        judgement = contribution.content.overall
        if judgement is not None and _on_scale(judgement.grade, labels):
            own.append(_grade_of(contribution, judgement.grade, labels))
    own.sort(key=_by_grade)

    agreed = _agreed(moderation, labels)
    if agreed is not None:
        trace.append(_moderation_words(agreed))
    grade = agreed.grade if agreed is not None else computed_grade
    return OverallResult(
        grade=grade,
        label=labels[grade] if grade is not None else None,
        computed_grade=computed_grade,
        computed_label=labels[computed_grade] if computed_grade is not None else None,
        trace=tuple(trace),
        counts=counts,
        agencies=tuple(own),
        disagreement=_disagreement(own),
        moderation=agreed,
    )


def _unique_agencies(concerns: Iterable[ImmediateConcern]) -> list[str]:
    seen: dict[str, str] = {}
    for c in concerns:
        seen.setdefault(c.organisation_id, f"{c.organisation_name} ({c.agency_kind})")
    return list(seen.values())


def merge(
    toolkit: Toolkit,
    case: CaseFacts,
    contributions: Sequence[AgencyContribution],
    policy: str | Policy | None = None,
    moderations: Iterable[Moderation] = (),
) -> PartnershipJudgement:
    """The partnership-level judgement of one audit.

    - Only submitted contributions are graded; the others make the judgement
      (and each section they judge) provisional and are listed as awaited.
    - Immediate concerns come from every contribution, drafts included,
      because they must reach the partnership at once; each says whether it
      was submitted.
    - ``policy`` is a name from :data:`merging.POLICIES` (or a
      :class:`Policy`), defaulting to the toolkit's ``merge_policy``; an
      unknown name raises :class:`merging.UnknownPolicy`.
    - ``moderations``: grades reviewers agreed, per section id or
      :data:`OVERALL`; each is shown as the grade with the computed one kept
      beside it.
    """
    chosen = policy if isinstance(policy, Policy) else policy_named(policy or toolkit.merge_policy)
    shape = _shape(toolkit)
    labels = shape.labels
    ordered = sorted(contributions, key=lambda c: (c.organisation_name, c.organisation_id, c.status))
    submitted = [c for c in ordered if c.status == "submitted"]
    waiting = [c for c in ordered if c.status != "submitted"]
    referrer = case.referring_organisation_id
    awaited = [(c, shape.sections_judged_by(c.agency_kind, c.organisation_id == referrer)) for c in waiting]
    moderated = _moderated(moderations, labels)
    details = case.case_details or None
    sections = tuple(
        _section(section, submitted, awaited, chosen, labels, moderated.get(section.id))
        for section in shape.judged
        if section_shown(section, details)
    )
    concerns = _concerns(shape, ordered)
    overall = _overall(sections, submitted, concerns, chosen, labels, moderated.get(OVERALL))
    awaiting = tuple(_awaiting(c) for c in waiting)
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
