"""``merge``: agency contributions in, the partnership's judgement out.

Pure and deterministic: the same inputs give the same judgement, whatever
the order of the contributions or moderations.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from operator import attrgetter
from typing import Protocol, TypeGuard

from agencies.applicability import Participant, applicable_sections, question_shown, section_shown
from merging.model import (
    OVERALL,
    AgencyAnswer,
    AgencyContribution,
    AgencyGrade,
    AgreedGrade,
    AwaitingAgency,
    CaseFacts,
    Disagreement,
    ImmediateConcern,
    ItemResult,
    Moderation,
    NotInvolvedAgency,
    OverallCounts,
    OverallResult,
    PartnershipJudgement,
    SectionResult,
    SignificantFailureRecord,
    StatedJudgement,
)
from merging.policies import ADEQUATE, GOOD, INADEQUATE, OUTSTANDING, Policy, policy_named
from toolkits.grading import suggest_overall
from toolkits.model import FIXED_CHOICES, Alert, Question, Section, Toolkit

__all__ = ["merge", "merged_in_judgement", "policy_for"]

DISAGREEMENT_SPREAD = 2  # "two or more grades apart" (DESIGN, merging rules)

# Most pressing first: a child not safe now, then a failure that harmed the
# child's safety, then a case to escalate.
_CONCERN_ORDER = {"child-not-safe": 0, "significant-failure": 1, "escalation": 2}

SIGNIFICANT_FAILURE = "a significant failure which has impacted on the safety of the child"


def merged_in_judgement(section: Section, question: Question) -> bool:
    """Whether the judgement merges ``question`` beside the sections: as the
    toolkit says, or by default a grade question of an agency section that
    has no judgement of its own (002's graded items in sections 1 and 7,
    003's Every Child Matters outcomes)."""
    if section.completed_by != "agency":
        return False
    if question.in_judgement is not None:
        return question.in_judgement
    return question.kind == "grade" and section.judgement is None


class _Shape:
    """What merge needs from one toolkit, worked out once: its labels, its
    graded agency sections, the questions merged beside them, and only the
    questions that can raise an alert, so a merge never walks every answer."""

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
        self.items: tuple[tuple[Section, Question], ...] = tuple(
            (section, question)
            for section in toolkit.sections
            for question in section.questions
            if merged_in_judgement(section, question)
        )
        self.titles: dict[str, str] = {s.id: s.title for s in toolkit.sections}
        self.by_features = toolkit.overall is not None and bool(toolkit.overall.features)
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


def _not_involved(contribution: AgencyContribution, section_id: str) -> NotInvolvedAgency | None:
    mark = contribution.content.not_involved.get(section_id)
    if mark is None:
        return None
    return NotInvolvedAgency(
        organisation_id=contribution.organisation_id,
        organisation_name=contribution.organisation_name,
        agency_kind=contribution.agency_kind,
        reason=mark.reason,
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


def _section_rule(
    agencies: Sequence[AgencyGrade], policy: Policy, labels: Mapping[int, str], what: str = "section"
) -> tuple[int, str]:
    if len(agencies) == 1:
        only = agencies[0]
        return only.grade, (
            f"{only.label} because {_who(agencies)} graded {only.grade}, the only agency grade on this {what}, "
            f"under {policy.title}."
        )
    if agencies[0].grade == agencies[-1].grade:
        grade = agencies[0].grade
        return (
            grade,
            f"{labels[grade]} because every agency graded {grade} ({_who(agencies)}), under {policy.title}.",
        )
    outcome = policy.section_rule([a.grade for a in agencies], labels)
    if outcome.named is None:
        return outcome.grade, f"{labels[outcome.grade]} because {outcome.because}, under {policy.title}."
    named = [a for a in agencies if a.grade == outcome.named]
    return outcome.grade, (
        f"{labels[outcome.grade]} because {_who(named)} graded {outcome.named}{outcome.because}, under {policy.title}."
    )


def _not_involved_words(agencies: Sequence[NotInvolvedAgency]) -> str:
    if not agencies:
        return ""
    reasons = "; ".join(f"{a.organisation_name}: {a.reason}" for a in agencies)
    was, be = ("was", "is") if len(agencies) == 1 else ("were", "are")
    return f" {_who(agencies)} {was} not involved at this stage and {be} left out ({reasons})."


def _failure_record(contribution: AgencyContribution, section_id: str, title: str) -> SignificantFailureRecord | None:
    failure = contribution.content.significant_failures.get(section_id)
    if failure is None:
        return None
    return SignificantFailureRecord(
        organisation_id=contribution.organisation_id,
        organisation_name=contribution.organisation_name,
        agency_kind=contribution.agency_kind,
        section_id=section_id,
        section_title=title,
        description=failure.description,
        submitted=contribution.status == "submitted",
        status=contribution.status,
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
    left_out: list[NotInvolvedAgency] = []
    failures: list[SignificantFailureRecord] = []
    for contribution in submitted:
        not_involved = _not_involved(contribution, section.id)
        if not_involved is not None:
            left_out.append(not_involved)
            continue
        judgement = contribution.content.judgements.get(section.id)
        if judgement is not None and _on_scale(judgement.grade, labels):
            agencies.append(_grade_of(contribution, judgement.grade, labels))
        failure = _failure_record(contribution, section.id, section.title)
        if failure is not None:
            failures.append(failure)
    agencies.sort(key=_by_grade)  # stable: within a grade, in the contributions' (name) order
    awaiting = tuple(_awaiting(c) for c, judged in awaited if section.id in judged)

    computed: int | None = None
    if agencies:
        computed, rule = _section_rule(agencies, policy, labels)
    elif left_out:
        rule = "No involved agency has submitted a grade for this section yet."
    else:
        rule = "No agency has submitted a grade for this section yet."
    rule += _not_involved_words(left_out)
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
        not_involved=tuple(left_out),
        significant_failures=tuple(failures),
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
    """Every alert any contribution's answers raise, and every significant
    failure any contribution records, drafts included: "if there are
    immediate concerns the manager must be notified" (seed 002) does not
    wait for a submission."""
    concerns: list[ImmediateConcern] = []
    for contribution in contributions:
        answers = contribution.content.answers
        submitted = contribution.status == "submitted"
        if answers:
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
                            section_title=section.title,
                            question_id=question.id,
                            question=question.text,
                            answer=raised,
                            message=alert.message,
                            submitted=submitted,
                            status=contribution.status,
                        )
                    )
        for section_id, failure in contribution.content.significant_failures.items():
            title = shape.titles.get(section_id, section_id)
            concerns.append(
                ImmediateConcern(
                    organisation_id=contribution.organisation_id,
                    organisation_name=contribution.organisation_name,
                    agency_kind=contribution.agency_kind,
                    kind="significant-failure",
                    section_id=section_id,
                    section_title=title,
                    question_id=None,
                    question=None,
                    answer=None,
                    message=(
                        f"The auditor recorded {SIGNIFICANT_FAILURE} in {title}: the case should be considered "
                        "inadequate."
                    ),
                    submitted=submitted,
                    status=contribution.status,
                    description=failure.description,
                )
            )
    concerns.sort(
        key=lambda c: (
            _CONCERN_ORDER.get(c.kind, 9),
            c.organisation_name,
            c.organisation_id,
            c.question_id or "",
            c.section_id,
        )
    )
    return tuple(concerns)


def _failure_sentences(concerns: Sequence[ImmediateConcern], labels: Mapping[int, str]) -> tuple[bool, list[str]]:
    """Whether a submitted contribution records a significant failure, and
    the trace's sentences naming each agency (and section) that recorded one."""
    failed = [c for c in concerns if c.kind == "significant-failure"]
    sentences: list[str] = []
    # Recorded in a section of the work: name the section and say what.
    for c in failed:
        if c.question_id is None and c.submitted:
            sentences.append(
                f"{c.organisation_name} ({c.agency_kind}) recorded {SIGNIFICANT_FAILURE} in {c.section_title}: "
                f"“{c.description}”."
            )
    # Answered to a question (the first edition of the early intervention tool).
    answered = _unique_agencies(c for c in failed if c.question_id is not None and c.submitted)
    if answered:
        sentences.append(f"{_names(answered)} recorded {SIGNIFICANT_FAILURE}.")
    inadequate = labels[INADEQUATE].lower()
    for c in failed:
        if not c.submitted and c.question_id is None:
            sentences.append(
                f"{c.organisation_name} ({c.agency_kind}) recorded {SIGNIFICANT_FAILURE} in {c.section_title} in a "
                f"contribution not yet submitted: it will make the case {inadequate} once submitted."
            )
    drafted = _unique_agencies(c for c in failed if c.question_id is not None and not c.submitted)
    if drafted:
        sentences.append(
            f"{_names(drafted)} recorded a significant failure in a contribution not yet submitted: "
            f"it will make the case {inadequate} once submitted."
        )
    return any(c.submitted for c in failed), sentences


def _overall(
    sections: Sequence[SectionResult],
    concerns: Sequence[ImmediateConcern],
    policy: Policy,
    labels: Mapping[int, str],
    moderation: Moderation | None,
    own: Sequence[AgencyGrade],
    stated: Sequence[StatedJudgement],
) -> OverallResult:
    # The areas are the sections that count towards the overall judgement,
    # each at its partnership grade: the agreed one where reviewers moderated
    # it, since that is the partnership's view of that area.
    counted = [s for s in sections if s.counts_towards_overall]
    areas = [s for s in counted if s.grade is not None]
    grades = [s.grade for s in areas if s.grade is not None]
    ungraded = [s for s in counted if s.grade is None]
    # A stage no submitting agency was involved in, with nobody still to
    # submit, is not part of this case's work (rather than not graded yet).
    uninvolved = [s for s in ungraded if s.not_involved and not s.awaiting]
    ungraded = [s for s in ungraded if s not in uninvolved]
    counts = OverallCounts(
        areas=len(grades),
        outstanding=sum(1 for g in grades if g == OUTSTANDING),
        good_or_better=sum(1 for g in grades if g <= GOOD),
        adequate_or_better=sum(1 for g in grades if g <= ADEQUATE),
        inadequate=sum(1 for g in grades if g == INADEQUATE),
        not_yet_graded=len(ungraded),
        not_involved=len(uninvolved),
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
    if uninvolved:
        trace.append(f"No agency was involved at this stage, so left out: {', '.join(s.title for s in uninvolved)}.")

    # Seed 000's significant failure changes the grade only once submitted
    # (drafts change no grade), but a draft's is named so nobody is surprised.
    failed, sentences = _failure_sentences(concerns, labels)
    trace.extend(sentences)

    outcome = policy.overall_rule(grades, failed, labels)
    trace.extend(outcome.steps)
    computed_grade = outcome.grade
    if computed_grade is not None:
        trace.append(f"Overall: {labels[computed_grade]}, under {policy.title}.")

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
        stated=tuple(stated),
    )


def _unique_agencies(concerns: Iterable[ImmediateConcern]) -> list[str]:
    seen: dict[str, str] = {}
    for c in concerns:
        seen.setdefault(c.organisation_id, f"{c.organisation_name} ({c.agency_kind})")
    return list(seen.values())


def _own_overall(submitted: Sequence[AgencyContribution], labels: Mapping[int, str]) -> list[AgencyGrade]:
    own: list[AgencyGrade] = []
    for contribution in submitted:
        judgement = contribution.content.overall
        if judgement is not None and _on_scale(judgement.grade, labels):
            own.append(_grade_of(contribution, judgement.grade, labels))
    own.sort(key=_by_grade)
    return own


def _stated(
    shape: _Shape,
    sections: Sequence[Section],
    submitted: Sequence[AgencyContribution],
    referrer: str | None,
    policy: Policy,
    labels: Mapping[int, str],
) -> list[StatedJudgement]:
    """Each submitted agency's own overall judgement beside what its own
    work computes: the guidance's suggestion from the features it marked
    where the toolkit counts features, else the policy's overall rule over
    its own grades of the areas of this case."""
    if shape.toolkit.overall is None:
        return []
    areas = [s for s in sections if s.counts_towards_overall]
    stated: list[StatedJudgement] = []
    for contribution in submitted:
        content = contribution.content
        judged = shape.sections_judged_by(contribution.agency_kind, contribution.organisation_id == referrer)
        mine = [s for s in areas if s.id in judged and s.id not in content.not_involved]
        failed = bool(content.significant_failures) or any(
            alert.kind == "significant-failure"
            and (answer := content.answers.get(question.id)) is not None
            and _raised(answer.value, alert.when) is not None
            for _section, question, alert in shape.alerting
        )
        source, rule = "its own section grades", policy.title
        if shape.by_features:
            featured = tuple(s for s in mine if s.judgement is not None and s.judgement.features)
            suggestion = suggest_overall(
                shape.toolkit,
                {s.id: content.judgements[s.id].features for s in featured if s.id in content.judgements},
                {s.id: content.judgements[s.id].grade if s.id in content.judgements else None for s in featured},
                content.overall.features if content.overall is not None else {},
                significant_failure=bool(content.significant_failures),
                labels=labels,
                areas=featured,
            )
            computed = suggestion.grade
            source, rule = "the features it marked", "the grading guidance"
        else:
            grades = [
                g for s in mine if (j := content.judgements.get(s.id)) is not None and _on_scale(g := j.grade, labels)
            ]
            computed = policy.overall_rule(grades, failed, labels).grade
        judgement = content.overall
        given = judgement.grade if judgement is not None and _on_scale(judgement.grade, labels) else None
        differs = given is not None and computed is not None and given != computed
        note = None
        if differs and given is not None and computed is not None:
            note = (
                f"{contribution.organisation_name} ({contribution.agency_kind}) stated {labels[given]} ({given}) "
                f"overall; {source} give {labels[computed]} ({computed}) under {rule}."
            )
            if judgement is not None and judgement.override_reason:
                note += f" Its reason: “{judgement.override_reason}”."
        stated.append(
            StatedJudgement(
                organisation_id=contribution.organisation_id,
                organisation_name=contribution.organisation_name,
                agency_kind=contribution.agency_kind,
                stated_grade=given,
                stated_label=labels[given] if given is not None else None,
                computed_grade=computed,
                computed_label=labels[computed] if computed is not None else None,
                computed_by=f"{source}, under {rule}",
                differs=differs,
                note=note,
            )
        )
    return stated


# --- answers merged beside the sections --------------------------------------------


def _answer_label(question: Question, value: int | str, labels: Mapping[int, str]) -> str:
    if question.kind == "grade" and isinstance(value, int):
        return labels[value]
    if question.kind in FIXED_CHOICES:
        return dict(FIXED_CHOICES[question.kind]).get(str(value), str(value))
    if question.kind == "date":
        try:
            day = datetime.date.fromisoformat(str(value))
        except ValueError:
            return str(value)
        return f"{day.day} {day.strftime('%B %Y')}"  # "1 March 2025"
    return str(value)


def _item(
    section: Section,
    question: Question,
    submitted: Sequence[AgencyContribution],
    policy: Policy,
    labels: Mapping[int, str],
) -> ItemResult:
    answers: list[AgencyAnswer] = []
    left_out: list[NotInvolvedAgency] = []
    for contribution in submitted:
        not_involved = _not_involved(contribution, section.id)
        if not_involved is not None:
            left_out.append(not_involved)
            continue
        answer = contribution.content.answers.get(question.id)
        if answer is None:
            continue
        given = answer.value
        valid = _on_scale(given, labels) if question.kind == "grade" else isinstance(given, str) and bool(given.strip())
        if not valid:
            continue
        answers.append(
            AgencyAnswer(
                organisation_id=contribution.organisation_id,
                organisation_name=contribution.organisation_name,
                agency_kind=contribution.agency_kind,
                value=given,
                label=_answer_label(question, given, labels),
                comments=answer.comments,
            )
        )
    value: int | str | None = None
    spread: int | None = None
    disagreement = False
    if not answers:
        rule = "No agency has submitted an answer yet."
    elif question.kind == "grade":
        grades = sorted(answers, key=lambda a: a.value)
        as_grades = [
            AgencyGrade(
                organisation_id=a.organisation_id,
                organisation_name=a.organisation_name,
                agency_kind=a.agency_kind,
                grade=int(a.value),
                label=a.label,
            )
            for a in grades
        ]
        value, rule = _section_rule(as_grades, policy, labels, "question")
        spread = as_grades[-1].grade - as_grades[0].grade
        disagreement = spread >= DISAGREEMENT_SPREAD
        answers = grades
    elif question.kind == "date":
        dates = sorted({str(a.value) for a in answers})
        value = dates[-1]
        disagreement = len(dates) > 1
        latest = _answer_label(question, value, labels)
        rule = (
            f"Every agency gave {latest}."
            if not disagreement
            else f"The most recent date any agency gave: {latest} ({_who(a for a in answers if a.value == value)}); "
            f"the agencies gave {len(dates)} different dates."
        )
    else:
        given = sorted({str(a.value) for a in answers})
        disagreement = len(given) > 1
        raising = [v for v in given if question.alert is not None and v in question.alert.when]
        if not disagreement:
            value = given[0]
            rule = f"Every agency answered {_answer_label(question, value, labels)}."
        elif raising:
            # The safer reading: one agency's concern stands for the partnership.
            value = raising[0]
            rule = (
                f"{_answer_label(question, value, labels)} because "
                f"{_who(a for a in answers if a.value == value)} answered so: one agency's concern stands for the "
                "partnership."
            )
        else:
            rule = "The agencies' answers differ: for the panel to agree."
    rule += _not_involved_words(left_out)
    return ItemResult(
        section_id=section.id,
        section_title=section.title,
        question_id=question.id,
        question=question.text,
        kind=question.kind,
        value=value,
        label=_answer_label(question, value, labels) if value is not None else None,
        rule=rule,
        agencies=tuple(answers),
        disagreement=disagreement,
        spread=spread,
        not_involved=tuple(left_out),
    )


def policy_for(toolkit: Toolkit, edition: int | None = None) -> Policy:
    """The toolkit's own policy, as it was in the rules' ``edition`` (the
    current one by default)."""
    return policy_named(toolkit.merge_policy) if edition is None else policy_named(toolkit.merge_policy, edition)


def merge(
    toolkit: Toolkit,
    case: CaseFacts,
    contributions: Sequence[AgencyContribution],
    policy: str | Policy | None = None,
    moderations: Iterable[Moderation] = (),
    *,
    final: bool = False,
) -> PartnershipJudgement:
    """The partnership-level judgement of one audit.

    - Only submitted contributions are graded; the others make the judgement
      (and each section they judge) provisional and are listed as awaited —
      until the audit is closed (``final``): then the judgement is final and
      names the agencies that never submitted.
    - An agency that marked a section "not involved at this stage" is left
      out of that section's grade and named beside it.
    - Immediate concerns come from every contribution, drafts included,
      because they must reach the partnership at once; each says whether it
      was submitted. A submitted significant failure makes the case
      inadequate under every policy; the trace names the agency and section.
    - ``policy`` is a name from :data:`merging.POLICIES` (or a
      :class:`Policy`, such as an earlier edition's from
      :func:`policy_for`), defaulting to the toolkit's ``merge_policy``; an
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
    awaited = (
        [] if final else [(c, shape.sections_judged_by(c.agency_kind, c.organisation_id == referrer)) for c in waiting]
    )
    moderated = _moderated(moderations, labels)
    details = case.case_details or None
    shown = [section for section in shape.judged if section_shown(section, details)]
    sections = tuple(
        _section(section, submitted, awaited, chosen, labels, moderated.get(section.id)) for section in shown
    )
    concerns = _concerns(shape, ordered)
    overall = _overall(
        sections,
        concerns,
        chosen,
        labels,
        moderated.get(OVERALL),
        _own_overall(submitted, labels),
        _stated(shape, shown, submitted, referrer, chosen, labels),
    )
    items = tuple(
        _item(section, question, submitted, chosen, labels)
        for section, question in shape.items
        if section_shown(section, details) and question_shown(question, details)
    )
    left = tuple(_awaiting(c) for c in waiting)
    return PartnershipJudgement(
        toolkit_id=toolkit.id,
        toolkit_version=toolkit.version,
        policy=chosen.name,
        policy_title=chosen.title,
        policy_description=chosen.description,
        rules_edition=chosen.edition,
        provisional=bool(left) and not final,
        awaiting=() if final else left,
        final=final,
        never_submitted=left if final else (),
        sections=sections,
        overall=overall,
        immediate_concerns=concerns,
        items=items,
    )
