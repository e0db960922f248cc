"""Toolkits, contributions and moderations for merging tests, in the users'
words: ``a_toolkit(sections=["referral", "assessment"])``,
``submitted("police", grades={"referral": 4})``, ``draft("health",
answers={"child-safe": "no"})``, ``agreed("referral", 3, "late referral")``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from merging import AgencyContribution, ContributionStatus, Moderation
from toolkits.answers import Answer, ContributionContent, Judgement, NotInvolved, SignificantFailure
from toolkits.model import (
    Alert,
    Condition,
    Grade,
    NotInvolvedOption,
    Question,
    Scale,
    Section,
    SectionJudgement,
    Selector,
    Toolkit,
)

SEED_000_SCALE = ("Outstanding", "Good", "Adequate", "Inadequate")
OFSTED_SCALE = ("Outstanding", "Good", "Requires improvement", "Inadequate")

AREAS = ("referral", "assessment", "planning", "review")


def _area(name: str, *, referrer_only: bool, counts: bool, shown_for: tuple[str, ...] | None) -> Section:
    return Section(
        id=name,
        title=name.replace("-", " ").capitalize(),
        applies_to="referrer-and-csc" if referrer_only else None,
        condition=Condition(case_detail="case-type", any_of=shown_for) if shown_for else None,
        questions=(Question(id=f"{name}-comments", text="What does the file show?", kind="text"),),
        judgement=SectionJudgement(prompt=f"Overall judgement on {name}?", impact_label="Impact"),
        counts_towards_overall=counts,
    )


def a_toolkit(
    sections: Iterable[str] = AREAS,
    *,
    policy: str = "overall-75-25",
    scale: tuple[str, ...] = SEED_000_SCALE,
    not_areas: Iterable[str] = (),
    referrer_only: Iterable[str] = (),
    conditional: Mapping[str, tuple[str, ...]] | None = None,
    outcomes: Iterable[str] = (),
) -> Toolkit:
    """A toolkit whose agency sections are ``sections`` (each one graded), a
    "Key questions" section that can raise every kind of alert, and
    optionally: graded sections that are not areas of the overall judgement
    (003's Every Child Matters outcomes), sections only the referring agency
    and children's social care judge (003's "Referring agency + children's
    social care"), sections shown only for some case types
    (``{section: case types}``, 001's CIN/CP and looked-after variants), and
    graded outcome questions in a section of their own that has no
    judgement (003's Every Child Matters outcomes), merged beside the
    sections. Agencies may mark any graded section "not involved"."""
    referrer_only, not_areas, conditional = set(referrer_only), tuple(not_areas), dict(conditional or {})
    graded = tuple(
        _area(name, referrer_only=name in referrer_only, counts=name not in not_areas, shown_for=conditional.get(name))
        for name in (*sections, *not_areas)
    )
    return Toolkit(
        id="test-tool",
        version=1,
        title="Test tool",
        source="tests",
        scale=Scale(id="four", grades=tuple(Grade(value=i, label=label) for i, label in enumerate(scale, start=1))),
        merge_policy=policy,
        selectors={
            "referrer-and-csc": Selector(
                label="Referring agency + children's social care", agencies=("childrens-social-care",), referrer=True
            )
        },
        sections=(
            Section(
                id="case-details",
                title="Case details",
                completed_by="coordinator",
                questions=(Question(id="case-type", text="Case type", kind="single-choice"),),
            ),
            *graded,
            Section(
                id="key-questions",
                title="Key questions",
                counts_towards_overall=False,
                questions=(
                    Question(
                        id="child-safe",
                        text="Is the child currently safe?",
                        kind="yes-no",
                        alert=Alert(kind="child-not-safe", when=("no",), message="Notify the manager"),
                    ),
                    Question(
                        id="significant-failure",
                        text="Is there a significant failure which has impacted on the safety of the child?",
                        kind="yes-no",
                        alert=Alert(kind="significant-failure", when=("yes",), message="Inadequate overall"),
                    ),
                    Question(
                        id="escalate",
                        text="Case to be escalated to service manager?",
                        kind="yes-no",
                        alert=Alert(kind="escalation", when=("yes",), message="Escalate to the service manager"),
                    ),
                    Question(
                        id="concerns",
                        text="Which concerns are there?",
                        kind="multiple-choice",
                        alert=Alert(kind="child-not-safe", when=("harm-now",), message="Act today"),
                    ),
                    Question(
                        id="last-reviewed", text="When was the case last reviewed?", kind="date", in_judgement=True
                    ),
                ),
            ),
            *(
                [
                    Section(
                        id="outcomes",
                        title="Outcomes",
                        counts_towards_overall=False,
                        questions=tuple(
                            Question(id=o, text=o.replace("-", " ").capitalize(), kind="grade") for o in outcomes
                        ),
                    )
                ]
                if outcomes
                else []
            ),
        ),
        not_involved=NotInvolvedOption(label="Not involved at this stage", reason_label="Why?"),
    )


def contribution(
    agency: str,
    *,
    status: ContributionStatus = "submitted",
    grades: Mapping[str, int] | None = None,
    answers: Mapping[str, object] | None = None,
    overall: int | None = None,
    organisation: str | None = None,
    not_involved: Mapping[str, str] | None = None,
    failures: Mapping[str, str] | None = None,
) -> AgencyContribution:
    """``agency``'s contribution: the organisation "Demo <agency>" (id
    "org-<agency>") unless ``organisation`` names another id;
    ``not_involved``: section → why the agency was not involved in it;
    ``failures``: section → the significant failure recorded in it."""
    organisation = organisation or f"org-{agency}"
    return AgencyContribution(
        organisation_id=organisation,
        organisation_name=f"Demo {agency}" if organisation == f"org-{agency}" else f"Demo {organisation}",
        agency_kind=agency,
        status=status,
        content=ContributionContent(
            answers={qid: Answer(value=value) for qid, value in (answers or {}).items()},
            judgements={sid: Judgement(grade=g, impact="seen in the file") for sid, g in (grades or {}).items()},
            overall=Judgement(grade=overall, impact="overall") if overall is not None else None,
            not_involved={sid: NotInvolved(reason=why) for sid, why in (not_involved or {}).items()},
            significant_failures={sid: SignificantFailure(description=what) for sid, what in (failures or {}).items()},
        ),
    )


def submitted(
    agency: str,
    *,
    grades: Mapping[str, int] | None = None,
    answers: Mapping[str, object] | None = None,
    overall: int | None = None,
    organisation: str | None = None,
    not_involved: Mapping[str, str] | None = None,
    failures: Mapping[str, str] | None = None,
) -> AgencyContribution:
    return contribution(
        agency,
        status="submitted",
        grades=grades,
        answers=answers,
        overall=overall,
        organisation=organisation,
        not_involved=not_involved,
        failures=failures,
    )


def draft(
    agency: str,
    *,
    status: ContributionStatus = "in-progress",
    grades: Mapping[str, int] | None = None,
    answers: Mapping[str, object] | None = None,
    overall: int | None = None,
    organisation: str | None = None,
    not_involved: Mapping[str, str] | None = None,
    failures: Mapping[str, str] | None = None,
) -> AgencyContribution:
    """A contribution not submitted: in progress unless ``status`` says
    not-started or returned."""
    assert status != "submitted"
    return contribution(
        agency,
        status=status,
        grades=grades,
        answers=answers,
        overall=overall,
        organisation=organisation,
        not_involved=not_involved,
        failures=failures,
    )


def agreed(
    target: str, grade: int, reason: str, *, by: str = "Panel chair", at: str = "2026-11-23T10:00:00+00:00"
) -> Moderation:
    """The grade reviewers agreed for a section (or ``OVERALL``)."""
    return Moderation(target=target, grade=grade, reason=reason, moderated_by=by, moderated_at=at)
