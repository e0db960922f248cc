"""Closing means final: what is outstanding is shown and confirmed, the
judgement is marked final naming who never submitted, and nothing changes
it until the audit is reopened with a reason (409 naming that move)."""

from __future__ import annotations

from typing import Any

from tests.server.audit_fixtures import (
    People,
    an_open_audit,
    complete_answers,
    contribution_url,
    people_fixture,  # noqa: F401 - fixture
    read_audit,
    request,
    save_draft,
    submit,
)


async def contribute(people: People, persona: str, audit: dict[str, Any], grade: int, **answers: str) -> None:
    content = complete_answers(await read_audit(people, persona, audit))
    content["judgements"] = {s: {"grade": grade, "impact": "as recorded"} for s in content["judgements"]}
    for question_id, value in answers.items():
        content["answers"][question_id] = {"value": value, "comments": "discussed with the manager"}
    assert (await save_draft(people, persona, audit, content)).status_code == 200
    assert (await submit(people, persona, audit)).status_code == 200


async def move(people: People, audit: dict[str, Any], **body: Any) -> Any:
    current = await read_audit(people, "coordinator", audit)
    return await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{audit['id']}/status",
        json=body,
        headers={"If-Match": f'"{current["row_version"]}"'},
    )


async def test_closing_lists_what_is_outstanding_and_needs_a_confirmation_and_a_reason(people: People) -> None:
    """Health grades every section Outstanding (1), police Adequate (3): two
    grades apart everywhere; police answer that the child is not safe;
    education never submits; no overall grade is agreed."""
    audit = await an_open_audit(people, participants=["health", "police", "education"])
    await contribute(people, "health", audit, 1)
    await contribute(people, "police", audit, 3, **{"child-currently-safe": "no"})
    assert (await move(people, audit, status="in-review", reason="Education has not replied")).status_code == 200

    outstanding = (await read_audit(people, "coordinator", audit))["outstanding"]
    kinds = [item["kind"] for item in outstanding]
    assert kinds[0] == "not-submitted" and kinds.count("not-submitted") == 1
    assert outstanding[0]["text"] == "Demo Primary School has not submitted (its contribution is not started)"
    assert kinds.count("disagreement") == 8  # every graded section of the tool
    assert "Agencies are 2 grades apart on 3. Referral and no grade has been agreed" in [i["text"] for i in outstanding]
    assert "no-agreed-overall" in kinds and kinds[-1] == "immediate-concern"
    assert outstanding[-1]["text"].startswith(
        "An immediate concern from Demo Police: The auditor answered that the child is not currently safe"
    )
    assert "outstanding" not in await read_audit(people, "reviewer", audit), "only those who may close see it"

    refused = await move(people, audit, status="closed")
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["detail"] == "closing would leave things outstanding"
    assert [e["field"] for e in problem["errors"]] == ["$.confirm_outstanding", "$.reason"]
    assert problem["errors"][0]["message"].startswith(
        f"confirm you are closing the audit with {len(outstanding)} things"
    )
    assert "Demo Primary School has not submitted" in problem["errors"][0]["message"]
    no_reason = await move(people, audit, status="closed", confirm_outstanding=True)
    assert [e["field"] for e in no_reason.json()["errors"]] == ["$.reason"]

    closed = await move(
        people, audit, status="closed", confirm_outstanding=True, reason="Education withdrew; panel agreed to close"
    )
    assert closed.status_code == 200, closed.text
    judgement = (await request(people, "reviewer", "GET", f"/api/audits/{audit['id']}/judgement")).json()
    assert (judgement["final"], judgement["provisional"], judgement["awaiting"]) == (True, False, [])
    assert [(a["organisation_name"], a["status"]) for a in judgement["never_submitted"]] == [
        ("Demo Primary School", "not-started")
    ]
    events = (await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}/events")).json()
    closing = [e for e in events if e["action"] == "audit.status-changed" and e["detail"]["to"] == "closed"]
    assert closing[0]["detail"]["outstanding"] == {
        "not-submitted": 1,
        "disagreement": 8,
        "no-agreed-overall": 1,
        "immediate-concern": 1,
    }
    assert closing[0]["detail"]["reason"] == "Education withdrew; panel agreed to close"


async def test_nothing_changes_a_closed_audits_judgement_until_it_is_reopened(people: People) -> None:
    """DESIGN: "Once the audit is closed the judgement is final." A moderation,
    a return, an amendment and a submission are each refused with 409 and
    the one move allowed: reopening, with a reason."""
    audit = await an_open_audit(people, participants=["health", "police"])
    await contribute(people, "health", audit, 2)
    judgement_url = f"/api/audits/{audit['id']}/judgement"
    read = await request(people, "reviewer", "GET", judgement_url)
    agreed = await request(
        people,
        "reviewer",
        "PUT",
        f"{judgement_url}/sections/overall",
        json={"grade": 2, "reason": "Panel agreed"},
        headers={"If-Match": read.headers["etag"]},
    )
    assert agreed.status_code == 200
    assert (await move(people, audit, status="in-review", reason="Police are late")).status_code == 200
    closed = await move(
        people, audit, status="closed", confirm_outstanding=True, reason="Police never took part in the end"
    )
    assert closed.status_code == 200, closed.text

    def refused_as_closed(response: Any) -> None:
        assert response.status_code == 409, response.text
        body = response.json()
        assert body["allowed"] == ["open"]
        assert (
            "closed and its judgement is final" in body["detail"]
            and "reopen the audit first, with a reason" in (body["detail"])
        )

    read = await request(people, "reviewer", "GET", judgement_url)
    assert read.json()["final"] is True
    refused_as_closed(
        await request(
            people,
            "reviewer",
            "PUT",
            f"{judgement_url}/sections/referral",
            json={"grade": 4, "reason": "Second thoughts"},
            headers={"If-Match": read.headers["etag"]},
        )
    )
    health_url = contribution_url(audit, people, "health")
    health = await request(people, "coordinator", "GET", health_url)
    refused_as_closed(
        await request(
            people,
            "coordinator",
            "POST",
            f"{health_url}/return",
            json={"comment": "Please add more"},
            headers={"If-Match": health.headers["etag"]},
        )
    )
    own = await request(people, "health", "GET", health_url)
    amendment = {**own.json()["content"], "reason": "A late correction"}
    refused_as_closed(
        await request(people, "health", "PUT", health_url, json=amendment, headers={"If-Match": own.headers["etag"]})
    )
    refused_as_closed(await submit(people, "police", audit))

    # Reopened, with a reason: the panel may moderate again.
    assert (await move(people, audit, status="open")).status_code == 422
    assert (await move(people, audit, status="open", reason="New information from police")).status_code == 200
    read = await request(people, "reviewer", "GET", judgement_url)
    assert read.json()["final"] is False
    again = await request(
        people,
        "reviewer",
        "PUT",
        f"{judgement_url}/sections/referral",
        json={"grade": 3, "reason": "The referral was late"},
        headers={"If-Match": read.headers["etag"]},
    )
    assert again.status_code == 200, again.text


async def test_closing_with_nothing_outstanding_needs_no_confirmation(people: People) -> None:
    audit = await an_open_audit(people, participants=["health"])
    await contribute(people, "health", audit, 2)
    read = await request(people, "reviewer", "GET", f"/api/audits/{audit['id']}/judgement")
    await request(
        people,
        "reviewer",
        "PUT",
        f"/api/audits/{audit['id']}/judgement/sections/overall",
        json={"grade": 2, "reason": "Agreed"},
        headers={"If-Match": read.headers["etag"]},
    )
    assert (await move(people, audit, status="in-review")).status_code == 200
    assert (await read_audit(people, "coordinator", audit))["outstanding"] == []
    assert (await move(people, audit, status="closed")).status_code == 200
