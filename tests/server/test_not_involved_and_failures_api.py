"""Over HTTP: an agency says it was not involved in a stage, another records a
significant failure; the partnership's judgement, progress and exports say
so."""

from __future__ import annotations

from typing import Any

from tests.server.audit_fixtures import (
    People,
    an_open_audit,
    complete_answers,
    people_fixture,  # noqa: F401 - fixture
    read_audit,
    request,
    save_draft,
    submit,
)

S47 = "assessment-s47-enquiry"
NO_PART = "The school had no part in the S.47 enquiry"
FAILURE = "No strategy discussion was held after the child's disclosure"


def section_of(judgement: dict[str, Any], section_id: str) -> dict[str, Any]:
    return next(s for s in judgement["sections"] if s["section_id"] == section_id)


async def contribute(people: People, persona: str, audit: dict[str, Any], content: dict[str, Any]) -> None:
    saved = await save_draft(people, persona, audit, content)
    assert saved.status_code == 200, saved.text
    submitted = await submit(people, persona, audit)
    assert submitted.status_code == 200, submitted.text


async def test_a_school_not_involved_in_the_s47_enquiry_and_a_police_significant_failure(people: People) -> None:
    """Seed 003: "completed by each of the agencies involved with the child";
    seed 000: "if there is a significant failure which has impacted on the
    safety of the child, the case should be considered inadequate".

    Health grades every section Good (2); police every section Adequate (3)
    and record a failure in the S.47 enquiry; the school grades every
    section Good but the S.47 enquiry, where it was not involved. By hand:
    S.47 is [2, 3] — 1 of 2 good, 2 of 2 adequate or better: Adequate (the
    school left out); the other sections [2, 3, 2] — 2 of 3 (66.7%) good,
    under 75%: Adequate; overall Inadequate, for the failure."""
    audit = await an_open_audit(people, participants=["health", "police", "education"])
    health = complete_answers(await read_audit(people, "health", audit))
    await contribute(people, "health", audit, health)

    police = complete_answers(await read_audit(people, "police", audit))
    police["judgements"] = {s: {"grade": 3, "impact": "as recorded"} for s in police["judgements"]}
    police["significant_failures"] = {S47: {"description": FAILURE}}
    await contribute(people, "police", audit, police)

    seen_by_school = await read_audit(people, "education", audit)
    s47_questions = {q["id"] for s in seen_by_school["questions"]["sections"] if s["id"] == S47 for q in s["questions"]}
    school = complete_answers(seen_by_school)
    school["answers"] = {q: a for q, a in school["answers"].items() if q not in s47_questions}
    del school["judgements"][S47]
    school["not_involved"] = {S47: {"reason": NO_PART}}
    await contribute(people, "education", audit, school)

    progress = (await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}/progress")).json()
    by_kind = {p["agency_kind"]: p for p in progress["participants"]}
    assert by_kind["education"]["not_involved"] == [S47]
    assert by_kind["education"]["answered"] == by_kind["education"]["applicable"]
    assert by_kind["education"]["applicable"] == by_kind["health"]["applicable"] - len(s47_questions)

    judgement = (await request(people, "reviewer", "GET", f"/api/audits/{audit['id']}/judgement")).json()
    s47 = section_of(judgement, S47)
    assert [(a["agency_kind"], a["grade"]) for a in s47["agencies"]] == [("health", 2), ("police", 3)]
    assert [(a["agency_kind"], a["reason"]) for a in s47["not_involved"]] == [("education", NO_PART)]
    assert s47["grade"] == 3
    assert [(f["agency_kind"], f["description"]) for f in s47["significant_failures"]] == [("police", FAILURE)]
    assert all(s["grade"] == 3 for s in judgement["sections"])
    assert judgement["overall"]["grade"] == 4
    assert (
        f"Demo Police (police) recorded a significant failure which has impacted on the safety of the child in "
        f"5. Assessment/S.47 Enquiry: “{FAILURE}”."
    ) in judgement["overall"]["trace"]
    [concern] = [c for c in judgement["immediate_concerns"] if c["kind"] == "significant-failure"]
    assert (concern["agency_kind"], concern["section_id"], concern["description"]) == ("police", S47, FAILURE)


async def test_not_involved_marks_are_refused_where_they_cannot_be(people: People) -> None:
    audit = await an_open_audit(people, participants=["education"])
    refused = await save_draft(
        people,
        "education",
        audit,
        {
            "judgements": {S47: {"grade": 4}},
            "not_involved": {S47: {"reason": ""}, "key-questions": {"reason": "No part"}},
            "significant_failures": {"recommendations": {"description": "x"}},
        },
    )
    assert refused.status_code == 422
    assert sorted(e["field"] for e in refused.json()["errors"]) == [
        f"$.judgements.{S47}",
        "$.not_involved.assessment-s47-enquiry.reason",
        "$.not_involved.key-questions",
        "$.significant_failures.recommendations",
    ]
