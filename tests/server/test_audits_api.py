"""Creating, correcting, listing and moving audits on, as a coordinator would."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import pytest

from tests.server.audit_fixtures import (
    CASE_DETAILS,
    People,
    a_draft_audit,
    an_open_audit,
    contribution_url,
    people_fixture,  # noqa: F401 - fixture
    request,
    save_draft,
)

YESTERDAY = datetime.date.today() - datetime.timedelta(days=1)


def fields(response: Any) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


def if_match(audit: dict[str, Any]) -> dict[str, str]:
    return {"If-Match": f'"{audit["row_version"]}"'}


async def test_creating_an_audit_records_the_toolkit_version_and_answers_with_location_and_etag(
    people: People,
) -> None:
    response = await request(
        people,
        "coordinator",
        "POST",
        "/api/audits",
        json={"toolkit": "multi-agency-cp", "participants": ["demo-health", str(people.organisation_id("police"))]},
    )
    assert response.status_code == 201, response.text
    audit = response.json()
    assert response.headers["location"] == f"/api/audits/{audit['id']}"
    assert response.headers["etag"] == f'"{audit["row_version"]}"'
    # The toolkit's current version: version 2 since agencies may be "not involved at this stage".
    assert audit["toolkit"] == {"id": "multi-agency-cp", "version": 2}
    assert [p["contribution_status"] for p in audit["participants"]] == ["not-started", "not-started"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"toolkit": "no-such-tool", "participants": ["demo-health"]}, ["$.toolkit"]),
        ({"toolkit": "multi-agency-cp", "participants": []}, ["$.participants"]),
        ({"toolkit": "multi-agency-cp", "participants": ["demo-health", "elsewhere"]}, ["$.participants[1]"]),
        (
            {"toolkit": "multi-agency-cp", "participants": ["demo-health"], "referring_organisation": "nobody"},
            ["$.referring_organisation"],
        ),
        (
            {
                "toolkit": "multi-agency-cp",
                "participants": ["demo-health"],
                "period_start": "2025-06-01",
                "period_end": "2025-01-01",
            },
            ["$.period_end"],
        ),
        (
            {
                "toolkit": "multi-agency-cp",
                "participants": ["demo-health"],
                "case_details": {"answers": {"age": {"value": 99}, "child-currently-safe": {"value": "no"}}},
            },
            ["$.case_details.answers.age.value", "$.case_details.answers.child-currently-safe"],
        ),
    ],
)
async def test_an_invalid_audit_is_refused_naming_each_field(
    people: People, body: dict[str, Any], expected: list[str]
) -> None:
    response = await request(people, "coordinator", "POST", "/api/audits", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert fields(response) == expected


async def test_unknown_fields_are_refused(people: People) -> None:
    response = await request(
        people,
        "coordinator",
        "POST",
        "/api/audits",
        json={"toolkit": "multi-agency-cp", "participants": ["demo-health"], "colour": "red"},
    )
    assert response.status_code == 422
    assert fields(response) == ["$.colour"]


async def test_a_body_over_the_limit_is_refused(people: People) -> None:
    huge = b'{"toolkit": "' + b"x" * 1_100_000 + b'"}'
    response = await request(
        people, "coordinator", "POST", "/api/audits", content=huge, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


async def test_only_a_coordinator_creates_audits(people: People) -> None:
    body = {"toolkit": "multi-agency-cp", "participants": ["demo-health"]}
    for persona in ("health", "reviewer"):
        response = await request(people, persona, "POST", "/api/audits", json=body)
        assert response.status_code == 403, persona


async def test_a_retried_create_with_the_same_key_gets_the_first_response(people: People) -> None:
    body = {"toolkit": "multi-agency-cp", "participants": ["demo-health"]}
    key = {"Idempotency-Key": "create-1"}
    first = await request(people, "coordinator", "POST", "/api/audits", json=body, headers=key)
    again = await request(people, "coordinator", "POST", "/api/audits", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    listed = (await request(people, "coordinator", "GET", "/api/audits")).json()
    assert listed["total"] == 1
    other = await request(
        people, "coordinator", "POST", "/api/audits", json={**body, "due_date": "2030-01-01"}, headers=key
    )
    assert other.status_code == 422
    assert fields(other) == ["Idempotency-Key"]


async def test_concurrent_retries_with_one_key_create_one_audit(people: People) -> None:
    body = {"toolkit": "multi-agency-cp", "participants": ["demo-health"]}
    key = {"Idempotency-Key": "create-2"}
    responses = await asyncio.gather(
        *(request(people, "coordinator", "POST", "/api/audits", json=body, headers=key) for _ in range(3))
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1


async def test_illegal_transitions_are_refused_with_the_allowed_ones(people: People) -> None:
    draft = await a_draft_audit(people, participants=["health"])
    response = await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{draft['id']}/status",
        json={"status": "closed"},
        headers=if_match(draft),
    )
    assert response.status_code == 409
    assert response.json()["allowed"] == ["open"]


async def test_distributing_needs_complete_case_details(people: People) -> None:
    draft = await a_draft_audit(people, participants=["health"], case_details={"answers": {}})
    response = await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{draft['id']}/status",
        json={"status": "open"},
        headers=if_match(draft),
    )
    assert response.status_code == 422
    assert "$.case_details.answers.child-initials.value" in fields(response)


async def test_review_early_and_reopening_need_a_reason(people: People) -> None:
    audit = await an_open_audit(people, participants=["health"])
    url = f"/api/audits/{audit['id']}/status"
    early = await request(people, "coordinator", "POST", url, json={"status": "in-review"}, headers=if_match(audit))
    assert early.status_code == 422
    assert fields(early) == ["$.reason"]
    review = await request(
        people,
        "coordinator",
        "POST",
        url,
        json={"status": "in-review", "reason": "Panel meets tomorrow"},
        headers=if_match(audit),
    )
    assert review.status_code == 200, review.text
    reopen = await request(people, "coordinator", "POST", url, json={"status": "open"}, headers=if_match(review.json()))
    assert reopen.status_code == 422
    reopened = await request(
        people,
        "coordinator",
        "POST",
        url,
        json={"status": "open", "reason": "Health asked for a week more"},
        headers=if_match(review.json()),
    )
    assert reopened.status_code == 200
    assert reopened.json()["status"] == "open"


async def test_updates_need_if_match_and_a_stale_one_gets_412(people: People) -> None:
    draft = await a_draft_audit(people, participants=["health"])
    url = f"/api/audits/{draft['id']}"
    missing = await request(people, "coordinator", "PATCH", url, json={"due_date": "2030-01-01"})
    assert missing.status_code == 428
    first = await request(people, "coordinator", "PATCH", url, json={"due_date": "2030-01-01"}, headers=if_match(draft))
    assert first.status_code == 200, first.text
    assert first.json()["due_date"] == "2030-01-01"
    stale = await request(people, "coordinator", "PATCH", url, json={"due_date": "2031-01-01"}, headers=if_match(draft))
    assert stale.status_code == 412
    assert stale.headers["etag"] == first.headers["etag"]


async def test_two_concurrent_writers_one_gets_412(people: People) -> None:
    draft = await a_draft_audit(people, participants=["health"])
    url = f"/api/audits/{draft['id']}"
    responses = await asyncio.gather(
        request(people, "coordinator", "PATCH", url, json={"due_date": "2030-01-01"}, headers=if_match(draft)),
        request(people, "coordinator", "PATCH", url, json={"due_date": "2031-01-01"}, headers=if_match(draft)),
    )
    assert sorted(r.status_code for r in responses) == [200, 412]


async def test_once_an_agency_has_started_changes_need_a_reason_and_are_recorded(people: People) -> None:
    audit = await an_open_audit(people, participants=["health", "police"])
    saved = await save_draft(people, "health", audit, {"answers": {"history-previous-involvement": {"value": "x"}}})
    assert saved.status_code == 200, saved.text
    url = f"/api/audits/{audit['id']}"
    current = await request(people, "coordinator", "GET", url)
    details = {"answers": {**CASE_DETAILS["answers"], "age": {"value": 8}}}
    refused = await request(
        people,
        "coordinator",
        "PATCH",
        url,
        json={"case_details": details},
        headers={"If-Match": current.headers["etag"]},
    )
    assert refused.status_code == 422
    assert fields(refused) == ["$.reason"]
    changed = await request(
        people,
        "coordinator",
        "PATCH",
        url,
        json={
            "case_details": details,
            "add_participants": ["demo-school"],
            "remove_participants": ["demo-police"],
            "reason": "Age was wrong; police had no involvement",
        },
        headers={"If-Match": current.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["case_details"]["answers"]["age"]["value"] == 8
    by_code = {p["organisation_code"]: p for p in body["participants"]}
    assert by_code["demo-police"]["removal_reason"] == "Age was wrong; police had no involvement"
    assert by_code["demo-school"]["removed_at"] is None
    # A removed organisation no longer sees the audit.
    assert (await request(people, "police", "GET", url)).status_code == 404
    log = (await request(people, "coordinator", "GET", f"{url}/events")).json()
    change = next(e for e in log if e["action"] == "audit.changed")
    assert change["detail"]["reason"] == "Age was wrong; police had no involvement"
    assert change["detail"]["fields"] == ["case_details"]
    assert "AB" not in str(log)  # never case details in the log


async def test_lists_show_each_person_what_they_may_see(people: People) -> None:
    first = await an_open_audit(people, participants=["health"], due_date=YESTERDAY)
    second = await an_open_audit(people, participants=["police"], due_date=YESTERDAY + datetime.timedelta(days=30))
    draft = await a_draft_audit(people, participants=["health"])

    everything = (await request(people, "coordinator", "GET", "/api/audits")).json()
    assert everything["total"] == 3
    assert [a["id"] for a in everything["audits"]] == [first["id"], second["id"], draft["id"]]
    assert everything["audits"][0]["overdue"] is True

    health = (await request(people, "health", "GET", "/api/audits")).json()
    assert [a["id"] for a in health["audits"]] == [first["id"]]  # not the draft, not police's

    reviewer = (await request(people, "reviewer", "GET", "/api/audits?status=open")).json()
    assert reviewer["total"] == 2
    overdue = (await request(people, "coordinator", "GET", "/api/audits?overdue=true")).json()
    assert [a["id"] for a in overdue["audits"]] == [first["id"]]
    page = (await request(people, "coordinator", "GET", "/api/audits?limit=1&offset=1")).json()
    assert page["total"] == 3
    assert [a["id"] for a in page["audits"]] == [second["id"]]
    by_tool = (await request(people, "coordinator", "GET", "/api/audits?toolkit=other")).json()
    assert by_tool["total"] == 0


async def test_progress_shows_each_participant(people: People) -> None:
    audit = await an_open_audit(people, participants=["health", "police"], due_date=YESTERDAY)
    await save_draft(people, "health", audit, {"answers": {"history-previous-involvement": {"value": "x"}}})
    progress = await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}/progress")
    assert progress.status_code == 200
    by_code = {p["organisation_code"]: p for p in progress.json()["participants"]}
    assert by_code["demo-health"]["contribution_status"] == "in-progress"
    assert by_code["demo-health"]["answered"] == 1
    assert by_code["demo-health"]["applicable"] > 1
    assert by_code["demo-police"]["contribution_status"] == "not-started"
    assert by_code["demo-police"]["overdue"] is True
    assert (await request(people, "health", "GET", f"/api/audits/{audit['id']}/progress")).status_code == 403


async def test_reading_an_audit_is_recorded(people: People) -> None:
    audit = await an_open_audit(people, participants=["health"])
    await request(people, "health", "GET", f"/api/audits/{audit['id']}")
    log = (await request(people, "reviewer", "GET", f"/api/audits/{audit['id']}/events")).json()
    reads = [e for e in log if e["action"] == "audit.read"]
    assert [e["organisation_id"] for e in reads] == [str(people.organisation_id("health"))]
    assert (await request(people, "health", "GET", f"/api/audits/{audit['id']}/events")).status_code == 403


def test_the_application_serves_the_audit_routes(app: Any) -> None:
    paths = {route.path for route in app.routes}
    assert {
        "/api/audits",
        "/api/audits/{audit_id:uuid}",
        "/api/audits/{audit_id:uuid}/status",
        "/api/audits/{audit_id:uuid}/progress",
        "/api/audits/{audit_id:uuid}/events",
        "/api/audits/{audit_id:uuid}/contributions/{organisation:str}",
        "/api/audits/{audit_id:uuid}/contributions/{organisation:str}/submit",
        "/api/audits/{audit_id:uuid}/contributions/{organisation:str}/return",
        "/api/audits/{audit_id:uuid}/contributions/{organisation:str}/versions",
        "/api/audits/{audit_id:uuid}/actions",
        "/api/audits/{audit_id:uuid}/actions/{action_id:uuid}",
    } <= paths
    schema = app.openapi_schema.to_schema()
    assert "AuditView" in schema["components"]["schemas"]


async def test_signed_out_requests_are_refused(client: Any) -> None:
    response = await client.get("/api/audits")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_the_partnerships_organisations_are_listed_for_choosing_participants(people: People) -> None:
    response = await request(people, "coordinator", "GET", "/api/organisations")
    assert response.status_code == 200, response.text
    by_code = {o["code"]: o for o in response.json()}
    assert by_code["demo-health"]["agency_kind"] == "health"
    assert by_code["demo-health"]["id"] == str(people.organisation_id("health"))
    assert {"demo-csc", "demo-police", "demo-school", "demo-health-2"} <= set(by_code)
    # An auditor sees the same list (no drafts, no audits: names only).
    assert (await request(people, "health", "GET", "/api/organisations")).json() == response.json()


async def test_another_trust_of_the_same_agency_kind_sees_nothing_of_the_first(people: People) -> None:
    audit = await an_open_audit(people, participants=["health", "health-2"])
    await save_draft(people, "health", audit, {"answers": {"history-previous-involvement": {"value": "private"}}})
    health_url = contribution_url(audit, people, "health")
    assert (await request(people, "health-2", "GET", health_url)).status_code == 404
    assert (await request(people, "health-2", "GET", f"{health_url}/versions")).status_code == 404
    own = await request(people, "health-2", "GET", f"/api/audits/{audit['id']}")
    assert own.status_code == 200
    assert "private" not in own.text


def refusals(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {error["field"]: error["message"] for error in response.json()["errors"]}


async def test_an_unknown_toolkit_is_refused_listing_the_toolkits_there_are(people: People) -> None:
    response = await request(
        people, "coordinator", "POST", "/api/audits", json={"toolkit": "mac", "participants": ["demo-health"]}
    )
    assert refusals(response) == {
        "$.toolkit": "no such toolkit; the toolkits are: childs-journey-early-help, csc-practice-criteria, "
        "early-intervention, multi-agency-cp, tier2-cin-cp"
    }


async def test_distributing_without_case_details_names_each_one_and_who_fills_it_in(people: People) -> None:
    draft = await a_draft_audit(people, participants=["health"], case_details={"answers": {"age": {"value": 7}}})
    response = await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{draft['id']}/status",
        json={"status": "open"},
        headers={"If-Match": f'"{draft["row_version"]}"'},
    )
    problems = refusals(response)
    assert problems["$.case_details.answers.gender.value"] == (
        "“Gender” is missing; the coordinator fills in every case detail before the audit is distributed"
    )
    assert problems["$.case_details.answers.child-initials.value"].startswith("“Initials of subject child” is missing")
    missing = {f.split(".")[3] for f in problems}
    assert missing == set(CASE_DETAILS["answers"]) - {"age"}
