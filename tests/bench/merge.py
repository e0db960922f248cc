"""The merge benchmark ``make bench`` runs: 12 agencies × 9 sections × 50
questions a section, larger than any seed tool (003, the largest, has nine
agency sections), every agency answering every question.

The contributions are as a partnership meeting sees them: ten submitted,
one draft that has just raised an immediate concern, one returned for
amendment; agencies disagreeing on some sections; one section and the
overall judgement moderated.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from merging.merge import merge
from merging.model import OVERALL, AgencyContribution, CaseFacts, ContributionStatus, Moderation
from toolkits.answers import Answer, ContributionContent, EvidenceReference, Judgement
from toolkits.model import Alert, AlertKind, Grade, Question, Scale, Section, SectionJudgement, Toolkit

AGENCIES = 12
SECTIONS = 9
QUESTIONS_PER_SECTION = 50
KINDS = ("childrens-social-care", "health", "police", "education", "probation", "housing")


def synthetic_toolkit() -> Toolkit:
    """9 graded agency sections of 50 questions; the first question of each
    section can raise an alert (more alerting questions than any seed)."""
    scale = Scale(
        id="four-point",
        grades=tuple(
            Grade(value=v, label=label)
            for v, label in enumerate(("Outstanding", "Good", "Adequate", "Inadequate"), start=1)
        ),
    )
    kinds: tuple[AlertKind, ...] = ("child-not-safe", "significant-failure", "escalation")
    sections = tuple(
        Section(
            id=f"section-{s}",
            title=f"Section {s}",
            questions=tuple(
                Question(
                    id=f"q-{s}-{q}",
                    text=f"Question {q} of section {s}",
                    kind="yes-no" if q % 5 == 0 else "text",
                    alert=(
                        Alert(kind=kinds[s % 3], when=("no",) if s % 3 == 0 else ("yes",), message="Tell the manager")
                        if q == 0
                        else None
                    ),
                )
                for q in range(QUESTIONS_PER_SECTION)
            ),
            judgement=SectionJudgement(prompt="Overall judgement?", impact_label="Impact"),
        )
        for s in range(SECTIONS)
    )
    return Toolkit(
        id="bench",
        version=1,
        title="Benchmark",
        source="synthetic",
        scale=scale,
        merge_policy="overall-75-25",
        sections=sections,
    )


def _yes_no(agency: int, question_id: str) -> str:
    _, section, number = question_id.split("-")
    if number != "0":
        return "yes"
    if question_id == "q-0-0" and agency == 10:
        return "no"  # the draft: the child is not currently safe
    if question_id == "q-1-0" and agency == 3:
        return "yes"  # one submitted agency records a significant failure
    return "yes" if int(section) % 3 == 0 else "no"  # the answer that raises nothing


def synthetic_contributions(toolkit: Toolkit) -> list[AgencyContribution]:
    contributions = []
    for a in range(AGENCIES):
        status: ContributionStatus = "submitted" if a < 10 else ("in-progress" if a == 10 else "returned")
        answers = {
            q.id: Answer(
                value=_yes_no(a, q.id) if q.kind == "yes-no" else "What the file shows, in the auditor's words. " * 4,
                comments="Seen on the file and discussed with the manager.",
                evidence=(EvidenceReference(document="Strategy discussion record", date="2025-01-10"),),
            )
            for section in toolkit.sections
            for q in section.questions
        }
        judgements = {
            s.id: Judgement(grade=1 + (a + i) % 3 if i % 2 else 2 + (a % 2), impact="What changed for the child. " * 5)
            for i, s in enumerate(toolkit.sections)
        }
        contributions.append(
            AgencyContribution(
                organisation_id=f"org-{a:02d}",
                organisation_name=f"Agency {a:02d}",
                agency_kind=KINDS[a % len(KINDS)],
                status=status,
                content=ContributionContent(
                    answers=answers, judgements=judgements, overall=Judgement(grade=2 + a % 2, impact="Overall.")
                ),
            )
        )
    return contributions


MODERATIONS = (
    Moderation(
        target="section-1", grade=3, reason="Agreed at panel", moderated_by="Reviewer", moderated_at="2025-02-01"
    ),
    Moderation(target=OVERALL, grade=3, reason="Agreed at panel", moderated_by="Reviewer", moderated_at="2025-02-01"),
)


def run(repeat: int = 2000) -> dict[str, Any]:
    """Median (and 95th percentile) wall time of one merge, in microseconds."""
    toolkit = synthetic_toolkit()
    contributions = synthetic_contributions(toolkit)
    case = CaseFacts(referring_organisation_id="org-01")
    for _ in range(50):  # warm up, and fill the per-toolkit cache
        merge(toolkit, case, contributions, moderations=MODERATIONS)
    timings = []
    for _ in range(repeat):
        started = time.perf_counter_ns()
        merge(toolkit, case, contributions, moderations=MODERATIONS)
        timings.append(time.perf_counter_ns() - started)
    timings.sort()
    return {
        "agencies": AGENCIES,
        "sections": SECTIONS,
        "questions": sum(len(s.questions) for s in toolkit.sections),
        "answers": sum(len(c.content.answers) for c in contributions),
        "median_us": round(statistics.median(timings) / 1000, 1),
        "p95_us": round(timings[int(0.95 * (len(timings) - 1))] / 1000, 1),
    }


if __name__ == "__main__":
    print(run())
