"""The merge benchmark `make bench` runs: 12 agencies × 9 sections × 50
questions, the size of a large multi-agency child protection audit."""

from __future__ import annotations

import statistics
import time
from typing import Any

from merging.merge import merge
from merging.model import AgencyContribution, CaseFacts
from toolkits.answers import Answer, ContributionContent, Judgement
from toolkits.model import Alert, Grade, Question, Scale, Section, SectionJudgement, Toolkit

AGENCIES = 12
SECTIONS = 9
QUESTIONS = 50


def synthetic_toolkit() -> Toolkit:
    scale = Scale(
        id="four-point",
        grades=tuple(Grade(value=v, label=label) for v, label in enumerate(("O", "G", "A", "I"), start=1)),
    )
    sections = tuple(
        Section(
            id=f"section-{s}",
            title=f"Section {s}",
            questions=tuple(
                Question(
                    id=f"q-{s}-{q}",
                    text=f"Question {q}",
                    kind="yes-no" if q == 0 else "text",
                    alert=Alert(kind="child-not-safe", when=("no",), message="tell the manager") if q == 0 else None,
                )
                for q in range(QUESTIONS // SECTIONS + 1)
            ),
            judgement=SectionJudgement(prompt="Overall?", impact_label="Impact"),
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


def synthetic_contributions(toolkit: Toolkit) -> list[AgencyContribution]:
    contributions = []
    for a in range(AGENCIES):
        answers = {
            q.id: Answer(value="yes" if q.kind == "yes-no" else "comment " * 20, comments="evidence seen")
            for section in toolkit.sections
            for q in section.questions
        }
        judgements = {
            s.id: Judgement(grade=1 + (a + i) % 4, impact="impact " * 10) for i, s in enumerate(toolkit.sections)
        }
        contributions.append(
            AgencyContribution(
                organisation_id=f"org-{a}",
                organisation_name=f"Agency {a}",
                agency_kind="health",
                status="submitted",
                content=ContributionContent(answers=answers, judgements=judgements),
            )
        )
    return contributions


def run(repeat: int = 2000) -> dict[str, Any]:
    toolkit = synthetic_toolkit()
    contributions = synthetic_contributions(toolkit)
    case = CaseFacts()
    for _ in range(50):  # warm up
        merge(toolkit, case, contributions)
    timings = []
    for _ in range(repeat):
        started = time.perf_counter_ns()
        merge(toolkit, case, contributions)
        timings.append(time.perf_counter_ns() - started)
    return {
        "agencies": AGENCIES,
        "sections": SECTIONS,
        "questions": sum(len(s.questions) for s in toolkit.sections),
        "median_us": round(statistics.median(timings) / 1000, 1),
        "p95_us": round(sorted(timings)[int(0.95 * len(timings))] / 1000, 1),
    }
