"""The whole life of an audit, through HTTP: create, distribute, three agencies
draft and submit, one amends, one is returned and resubmits, review, close."""

from __future__ import annotations

from typing import Any

from tests.server.audit_fixtures import (
    People,
    a_draft_audit,
    complete_answers,
    contribution_url,
    draft_and_submit,
    people_fixture,  # noqa: F401 - fixture
    read_audit,
    request,
    save_draft,
    submit,
)


def etag(response: Any) -> dict[str, str]:
    return {"If-Match": response.headers["etag"]}


async def test_an_audit_from_creation_to_closure(people: People) -> None:
    draft = await a_draft_audit(people, participants=["health", "police", "education"], referrer="health")
    assert draft["status"] == "draft"
    assert draft["toolkit"] == {"id": "multi-agency-cp", "version": 2}
    assert {p["organisation_code"] for p in draft["participants"]} == {"demo-health", "demo-police", "demo-school"}
    assert draft["allowed_transitions"] == ["open"]

    # Not distributed yet: the agencies do not see it.
    assert (await request(people, "health", "GET", f"/api/audits/{draft['id']}")).status_code == 404

    opened = await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{draft['id']}/status",
        json={"status": "open"},
        headers={"If-Match": f'"{draft["row_version"]}"'},
    )
    assert opened.status_code == 200, opened.text
    audit = opened.json()
    assert audit["status"] == "open"

    # Health referred the case, so it answers the referrer's questions too.
    seen_by_health = await read_audit(people, "health", audit)
    assert "participants" not in seen_by_health
    assert seen_by_health["case_details"]["answers"]["child-initials"]["value"] == "AB"
    health_questions = {q["id"] for s in seen_by_health["questions"]["sections"] for q in s["questions"]}
    seen_by_school = await read_audit(people, "education", audit)
    school_questions = {q["id"] for s in seen_by_school["questions"]["sections"] for q in s["questions"]}
    assert "referral-quality" in health_questions
    assert "referral-quality" not in school_questions

    for persona in ("health", "police", "education"):
        submitted = await draft_and_submit(people, persona, audit)
        assert submitted["status"] == "submitted"

    # Health amends its submission, with a reason.
    url = contribution_url(audit, people, "health")
    current = await request(people, "health", "GET", url)
    amended_content = complete_answers(seen_by_health)
    amended_content["overall"] = {"grade": 3}
    no_reason = await request(people, "health", "PUT", url, json=amended_content, headers=etag(current))
    assert no_reason.status_code == 422
    assert [e["field"] for e in no_reason.json()["errors"]] == ["$.reason"]
    amended = await request(
        people,
        "health",
        "PUT",
        url,
        json={**amended_content, "reason": "Overall grade agreed with the named nurse"},
        headers=etag(current),
    )
    assert amended.status_code == 200, amended.text
    assert amended.json()["status"] == "submitted"
    versions = (await request(people, "health", "GET", f"{url}/versions")).json()
    assert [(v["kind"], v["content"]["overall"]["grade"]) for v in versions] == [("submitted", 2), ("amended", 3)]
    assert versions[1]["reason"] == "Overall grade agreed with the named nurse"

    # The coordinator returns the police contribution; police resubmit.
    police_url = contribution_url(audit, people, "police")
    police = await request(people, "coordinator", "GET", police_url)
    assert police.json()["content"]["overall"]["grade"] == 2  # submitted content, visible to the coordinator
    returned = await request(
        people,
        "coordinator",
        "POST",
        f"{police_url}/return",
        json={"comment": "Please add the strategy meeting"},
        headers=etag(police),
    )
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "returned"
    seen_by_police = await request(people, "police", "GET", police_url)
    assert seen_by_police.json()["returned_comment"] == "Please add the strategy meeting"
    progress = (await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}/progress")).json()
    assert progress["submitted"] == 2
    resaved = await save_draft(people, "police", audit, complete_answers(await read_audit(people, "police", audit)))
    assert resaved.status_code == 200, resaved.text
    assert resaved.json()["status"] == "in-progress"
    assert (await submit(people, "police", audit)).status_code == 200

    progress = (await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}/progress")).json()
    assert progress["submitted"] == 3
    assert all(p["answered"] == p["applicable"] > 0 for p in progress["participants"])

    current = await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}")
    review = await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{audit['id']}/status",
        json={"status": "in-review"},
        headers=etag(current),
    )
    assert review.status_code == 200, review.text

    # The partnership's judgement of the three submitted contributions.
    judgement = await request(people, "reviewer", "GET", f"/api/audits/{audit['id']}/judgement")
    assert judgement.status_code == 200, judgement.text
    assert judgement.json()["provisional"] is False
    assert judgement.json()["sections"]
    assert (await request(people, "health", "GET", f"/api/audits/{audit['id']}/judgement")).status_code == 403

    # Closing now would leave the overall grade unagreed: the audit says so,
    # and closing asks for a confirmation and a reason.
    in_review = await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}")
    assert in_review.json()["outstanding"] == [
        {"kind": "no-agreed-overall", "text": "The panel has not agreed an overall grade"}
    ]
    unconfirmed = await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{audit['id']}/status",
        json={"status": "closed"},
        headers=etag(review),
    )
    assert unconfirmed.status_code == 422
    assert [e["field"] for e in unconfirmed.json()["errors"]] == ["$.confirm_outstanding", "$.reason"]
    # The panel agrees the overall grade: nothing is outstanding any more.
    agreed = await request(
        people,
        "reviewer",
        "PUT",
        f"/api/audits/{audit['id']}/judgement/sections/overall",
        json={"grade": 2, "reason": "The panel agreed the work was good"},
        headers=etag(judgement),
    )
    assert agreed.status_code == 200, agreed.text
    closed = await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{audit['id']}/status",
        json={"status": "closed"},
        headers=etag(review),
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    assert closed.json()["allowed_transitions"] == ["open"]

    log = (await request(people, "reviewer", "GET", f"/api/audits/{audit['id']}/events")).json()
    actions = [e["action"] for e in log]
    assert actions[0] == "audit.created"
    for action in (
        "audit.status-changed",
        "contribution.saved",
        "contribution.submitted",
        "contribution.amended",
        "contribution.returned",
        "contribution.read",
        "audit.read",
    ):
        assert action in actions
