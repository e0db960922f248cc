"""Toolkits and contributions for merging tests, in the users' words."""

from __future__ import annotations

from typing import Any

from merging import AgencyContribution
from toolkits.answers import Answer, ContributionContent, Judgement
from toolkits.model import Alert, Grade, Question, Scale, Section, SectionJudgement, Toolkit

LABELS = ("Outstanding", "Good", "Adequate", "Inadequate")


def a_toolkit(
    sections: tuple[str, ...] = ("referral", "assessment", "planning", "review"), policy: str = "overall-75-25"
) -> Toolkit:
    return Toolkit(
        id="test-tool",
        version=1,
        title="Test tool",
        source="tests",
        scale=Scale(id="four", grades=tuple(Grade(value=i, label=label) for i, label in enumerate(LABELS, start=1))),
        merge_policy=policy,
        sections=(
            *(
                Section(
                    id=name,
                    title=name.capitalize(),
                    questions=(Question(id=f"{name}-comments", text="Comments", kind="text"),),
                    judgement=SectionJudgement(prompt=f"Overall judgement on {name}?", impact_label="Impact"),
                )
                for name in sections
            ),
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
                        text="Was there a significant failure which has impacted on the safety of the child?",
                        kind="yes-no",
                        alert=Alert(kind="significant-failure", when=("yes",), message="Inadequate overall"),
                    ),
                ),
            ),
        ),
    )


def contribution(
    agency: str,
    *,
    status: str = "submitted",
    grades: dict[str, int] | None = None,
    answers: dict[str, str] | None = None,
    overall: int | None = None,
    organisation: str | None = None,
) -> AgencyContribution:
    organisation = organisation or f"org-{agency}"
    return AgencyContribution(
        organisation_id=organisation,
        organisation_name=f"Demo {agency}",
        agency_kind=agency,
        status=status,  # type: ignore[arg-type]  # tests pass the statuses by name
        content=ContributionContent(
            answers={qid: Answer(value=value) for qid, value in (answers or {}).items()},
            judgements={sid: Judgement(grade=g, impact="seen in the file") for sid, g in (grades or {}).items()},
            overall=Judgement(grade=overall, impact="overall") if overall is not None else None,
        ),
    )


def submitted(agency: str, **kwargs: Any) -> AgencyContribution:
    return contribution(agency, status="submitted", **kwargs)


def draft(agency: str, status: str = "in-progress", **kwargs: Any) -> AgencyContribution:
    return contribution(agency, status=status, **kwargs)
