"""Remedial actions: agreed by the partnership, progressed by the organisation responsible."""

from __future__ import annotations

import datetime
from typing import Any

from tests.server.audit_fixtures import (
    People,
    an_open_audit,
    people_fixture,  # noqa: F401 - fixture
    request,
)

LAST_WEEK = (datetime.date.today() - datetime.timedelta(days=7)).isoformat()


def fields(response: Any) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


async def an_action(people: People, audit: dict[str, Any], persona: str = "coordinator", **extra: Any) -> Any:
    body = {
        "action": "Health visitor to attend every core group",
        "who": "Named nurse",
        "timescale": "1 month",
        "responsible_organisation_id": str(people.organisation_id("health")),
        "due_date": LAST_WEEK,
        **extra,
    }
    return await request(people, persona, "POST", f"/api/audits/{audit['id']}/actions", json=body)


async def test_the_partnership_agrees_an_action_and_the_agency_responsible_records_progress(people: People) -> None:
    audit = await an_open_audit(people, participants=["health", "police"])
    created = await an_action(people, audit, persona="reviewer")
    assert created.status_code == 201, created.text
    action = created.json()
    assert action["overdue"] is True
    assert created.headers["location"] == f"/api/audits/{audit['id']}/actions/{action['id']}"

    url = f"/api/audits/{audit['id']}/actions/{action['id']}"
    # Progress is kept as updates (POST /api/actions/{id}/updates), never
    # written over the last one.
    updates = f"/api/actions/{action['id']}/updates"
    progress = {
        "status": "completed",
        "date_reviewed": datetime.date.today().isoformat(),
        "comments": "Attended the last three core groups",
        "evidence": "Core group minutes",
    }
    assert (await request(people, "health", "POST", updates, json=progress)).status_code == 428
    done = await request(
        people, "health", "POST", updates, json=progress, headers={"If-Match": created.headers["etag"]}
    )
    assert done.status_code == 201, done.text
    assert done.json()["completed"] is True
    assert done.json()["overdue"] is False

    stale = await request(
        people, "health", "POST", updates, json=progress, headers={"If-Match": created.headers["etag"]}
    )
    assert stale.status_code == 412
    not_theirs = await request(
        people, "health", "PATCH", url, json={"action": "Something else"}, headers={"If-Match": done.headers["etag"]}
    )
    assert not_theirs.status_code == 422
    assert fields(not_theirs) == ["$.action"]
    police = await request(people, "police", "POST", updates, json=progress, headers={"If-Match": done.headers["etag"]})
    assert police.status_code == 404
    by_coordinator = await request(
        people, "coordinator", "PATCH", url, json={"timescale": "2 months"}, headers={"If-Match": done.headers["etag"]}
    )
    assert by_coordinator.status_code == 200

    listed = await request(people, "health", "GET", f"/api/audits/{audit['id']}/actions")
    assert [a["id"] for a in listed.json()] == [action["id"]]
    assert (await request(people, "police", "GET", f"/api/audits/{audit['id']}/actions")).json() == []
    assert len((await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}/actions")).json()) == 1


async def test_only_coordinators_and_reviewers_agree_actions(people: People) -> None:
    audit = await an_open_audit(people, participants=["health"])
    assert (await an_action(people, audit, persona="health")).status_code == 403


async def test_a_reviewer_agrees_actions_but_is_refused_changing_one_whether_or_not_it_exists(
    people: People,
) -> None:
    audit = await an_open_audit(people, participants=["health"])
    created = await an_action(people, audit, persona="reviewer")
    assert created.status_code == 201, created.text
    url = f"/api/audits/{audit['id']}/actions"
    headers = {"If-Match": created.headers["etag"]}
    for action_id in (created.json()["id"], "00000000-0000-4000-8000-000000000000"):
        refused = await request(
            people, "reviewer", "PATCH", f"{url}/{action_id}", json={"comments": "x"}, headers=headers
        )
        assert refused.status_code == 403
        assert refused.json()["detail"] == "only a coordinator or an auditor may record progress on remedial actions"


async def test_an_action_must_say_what_and_belong_to_a_participant(people: People) -> None:
    audit = await an_open_audit(people, participants=["health"])
    response = await an_action(
        people, audit, action=" ", responsible_organisation_id=str(people.organisation_id("police"))
    )
    assert response.status_code == 422
    assert sorted(fields(response)) == ["$.action", "$.responsible_organisation_id"]
