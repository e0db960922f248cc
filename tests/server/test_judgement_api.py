"""The partnership judgement over HTTP: computed from the submitted
contributions, explained, moderated by reviewers, and shown to agencies only
as the partnership's result of a closed audit."""

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


async def contribute(people: People, persona: str, audit: dict[str, Any], grade: int, **answers: str) -> None:
    """``persona`` completes its part, grading every section ``grade``, and submits."""
    content = complete_answers(await read_audit(people, persona, audit))
    content["judgements"] = {section: {"grade": grade, "impact": "as recorded"} for section in content["judgements"]}
    for question_id, value in answers.items():
        content["answers"][question_id] = {"value": value, "comments": "discussed with the manager"}
    saved = await save_draft(people, persona, audit, content)
    assert saved.status_code == 200, saved.text
    submitted = await submit(people, persona, audit)
    assert submitted.status_code == 200, submitted.text


def section_of(judgement: dict[str, Any], section_id: str) -> dict[str, Any]:
    return next(s for s in judgement["sections"] if s["section_id"] == section_id)


async def test_the_judgement_shows_grades_reasons_disagreement_and_what_is_missing(people: People) -> None:
    audit = await an_open_audit(people, participants=["health", "police", "education"], referrer="health")
    await contribute(people, "health", audit, 1)
    await contribute(people, "police", audit, 3, **{"child-currently-safe": "no"})

    response = await request(people, "reviewer", "GET", f"/api/audits/{audit['id']}/judgement")
    assert response.status_code == 200, response.text
    judgement = response.json()
    assert judgement["policy"] == "overall-75-25"
    assert judgement["provisional"] is True
    assert [a["agency_kind"] for a in judgement["awaiting"]] == ["education"]

    history = section_of(judgement, "history-of-involvement")
    assert [(a["agency_kind"], a["grade"]) for a in history["agencies"]] == [("health", 1), ("police", 3)]
    assert history["disagreement"]["spread"] == 2
    assert [a["agency_kind"] for a in history["disagreement"]["worst"]] == ["police"]
    # The 75% / 25% rule over [1, 3]: none inadequate; 1 of 2 (50%) good or
    # better, under 75%; 2 of 2 adequate or better: adequate.
    assert (history["grade"], history["label"]) == (3, "Adequate")
    assert history["rule"].endswith("under the partnership's 75% / 25% rule.")
    # People read the rule in plain words, never its id.
    assert judgement["policy_title"] == "the partnership's 75% / 25% rule"
    assert "overall-75-25" not in response.text.replace('"policy":"overall-75-25"', "")

    assert [(c["agency_kind"], c["kind"], c["submitted"]) for c in judgement["immediate_concerns"]] == [
        ("police", "child-not-safe", True)
    ]


async def test_a_reviewer_moderates_a_section_and_the_computed_grade_is_kept(people: People) -> None:
    audit = await an_open_audit(people, participants=["health", "police"])
    await contribute(people, "health", audit, 2)
    await contribute(people, "police", audit, 2)
    url = f"/api/audits/{audit['id']}/judgement"
    read = await request(people, "reviewer", "GET", url)
    moderated = await request(
        people,
        "reviewer",
        "PUT",
        f"{url}/sections/referral",
        json={"grade": 3, "reason": "The referral was not followed up in writing within 48 hours"},
        headers={"If-Match": read.headers["etag"]},
    )
    assert moderated.status_code == 200, moderated.text
    referral = section_of(moderated.json(), "referral")
    assert (referral["grade"], referral["label"], referral["computed_grade"]) == (3, "Adequate", 2)
    assert referral["moderation"]["reason"] == "The referral was not followed up in writing within 48 hours"
    assert moderated.headers["etag"] != read.headers["etag"]

    # The old ETag is stale now: no silent overwrite of the panel's decision.
    stale = await request(
        people,
        "reviewer",
        "PUT",
        f"{url}/sections/referral",
        json={"grade": 1, "reason": "second thoughts"},
        headers={"If-Match": read.headers["etag"]},
    )
    assert stale.status_code == 412

    events = (await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}/events")).json()
    actions = [e["action"] for e in (events["events"] if isinstance(events, dict) else events)]
    assert "judgement.moderated" in actions and "judgement.read" in actions


async def test_moderation_is_for_reviewers_with_a_reason_and_a_known_section(people: People) -> None:
    audit = await an_open_audit(people, participants=["health"])
    url = f"/api/audits/{audit['id']}/judgement"
    tag = (await request(people, "reviewer", "GET", url)).headers["etag"]
    body = {"grade": 2, "reason": "agreed"}
    coordinator = await request(
        people, "coordinator", "PUT", f"{url}/sections/referral", json=body, headers={"If-Match": tag}
    )
    assert coordinator.status_code == 403
    no_match = await request(people, "reviewer", "PUT", f"{url}/sections/referral", json=body)
    assert no_match.status_code == 428
    unknown = await request(people, "reviewer", "PUT", f"{url}/sections/nowhere", json=body, headers={"If-Match": tag})
    assert unknown.status_code == 404
    bad = await request(
        people,
        "reviewer",
        "PUT",
        f"{url}/sections/referral",
        json={"grade": 5, "reason": ""},
        headers={"If-Match": tag},
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} >= {"$.grade"}


async def test_an_agency_sees_only_the_partnership_result_of_a_closed_audit(people: People) -> None:
    audit = await an_open_audit(people, participants=["health", "police"])
    await contribute(people, "health", audit, 2)
    url = f"/api/audits/{audit['id']}/judgement"
    before = await request(people, "health", "GET", url)
    assert before.status_code == 403
    assert (await request(people, "education", "GET", url)).status_code == 404  # not in this audit

    await contribute(people, "police", audit, 4)
    current = await read_audit(people, "coordinator", audit)
    # Closing with the disagreements unmoderated and no agreed overall needs
    # the coordinator's confirmation and reason.
    for body in (
        {"status": "in-review"},
        {"status": "closed", "confirm_outstanding": True, "reason": "Panel met; grades stand as computed"},
    ):
        moved = await request(
            people,
            "coordinator",
            "POST",
            f"/api/audits/{audit['id']}/status",
            json=body,
            headers={"If-Match": f'"{current["row_version"]}"'},
        )
        assert moved.status_code == 200, moved.text
        current = moved.json()

    after = await request(people, "health", "GET", url)
    assert after.status_code == 200, after.text
    result = after.json()
    assert set(result) == {"toolkit_id", "toolkit_version", "sections", "overall_grade", "overall_label", "final"}
    assert result["final"] is True
    referral = section_of(result, "referral")
    # overall-75-25 across agencies: one of two agencies inadequate (50%) → inadequate.
    assert (referral["grade"], referral["label"]) == (4, "Inadequate")
    assert "agencies" not in referral
