"""An agency's contribution: drafts, submission, amendments, and agency isolation."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.server.audit_fixtures import (
    People,
    a_draft_audit,
    an_open_audit,
    complete_answers,
    contribution_url,
    draft_and_submit,
    people_fixture,  # noqa: F401 - fixture
    read_audit,
    request,
    save_draft,
    submit,
)


def fields(response: Any) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


async def test_a_partial_draft_is_saved_and_counted(people: People) -> None:
    audit = await an_open_audit(people, participants=["health"])
    saved = await save_draft(
        people,
        "health",
        audit,
        {
            "answers": {"history-previous-involvement": {"value": "Health visitor since birth"}},
            "judgements": {"history-of-involvement": {"grade": 2}},
        },
    )
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["status"] == "in-progress"
    assert body["answered"] == 1
    assert body["content"]["answers"]["history-previous-involvement"]["value"] == "Health visitor since birth"
    assert saved.headers["etag"] == f'"{body["row_version"]}"'
    again = await request(people, "health", "GET", contribution_url(audit, people, "health"))
    assert again.json()["content"] == body["content"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ({"answers": {"no-such-question": {"value": "x"}}}, ["$.answers.no-such-question"]),
        # Children's social care only: not for health.
        ({"answers": {"response-case-allocated": {"value": "x"}}}, ["$.answers.response-case-allocated"]),
        ({"answers": {"child-currently-safe": {"value": "perhaps"}}}, ["$.answers.child-currently-safe.value"]),
        ({"answers": {"ecm-being-healthy": {"value": 5}}}, ["$.answers.ecm-being-healthy.value"]),
        ({"answers": {"case-last-reviewed": {"value": "last week"}}}, ["$.answers.case-last-reviewed.value"]),
        ({"judgements": {"history-of-involvement": {"grade": 0}}}, ["$.judgements.history-of-involvement.grade"]),
        ({"judgements": {"no-such-section": {"grade": 1}}}, ["$.judgements.no-such-section"]),
        ({"overall": {"grade": 9}}, ["$.overall.grade"]),
        ({"answers": {"history-previous-involvement": {"value": "x" * 20_001}}}, None),
        (
            {"answers": {"history-previous-involvement": {"value": "x", "colour": "red"}}},
            ["$.answers.history-previous-involvement.colour"],
        ),
        ({"notes": "x"}, ["$.notes"]),
    ],
)
async def test_a_wrong_draft_is_refused_naming_each_field(
    people: People, content: dict[str, Any], expected: list[str] | None
) -> None:
    audit = await an_open_audit(people, participants=["health"])
    response = await save_draft(people, "health", audit, content)
    assert response.status_code == 422, response.text
    if expected is not None:
        assert fields(response) == expected
    else:
        assert len(fields(response)) == 1
        assert fields(response)[0].startswith("$.answers.")


async def test_a_submission_lists_every_missing_field(people: People) -> None:
    audit = await an_open_audit(people, participants=["police"])
    await save_draft(people, "police", audit, {"answers": {"history-previous-involvement": {"value": "x"}}})
    refused = await submit(people, "police", audit)
    assert refused.status_code == 422
    missing = fields(refused)
    assert "$.answers.history-previous-involvement.value" not in missing
    assert "$.answers.history-parents-household-visitors.value" in missing
    assert "$.answers.child-currently-safe.comments" in missing  # "All comments boxes must be completed"
    assert "$.judgements.history-of-involvement.grade" in missing
    assert "$.overall.grade" in missing
    state = await request(people, "police", "GET", contribution_url(audit, people, "police"))
    assert state.json()["status"] == "in-progress"


async def test_after_submission_changes_are_amendments_and_every_version_stays(people: People) -> None:
    audit = await an_open_audit(people, participants=["education"])
    await draft_and_submit(people, "education", audit)
    url = contribution_url(audit, people, "education")
    current = await request(people, "education", "GET", url)
    assert (await submit(people, "education", audit)).status_code == 409
    partial = {"answers": {"history-previous-involvement": {"value": "x"}}, "reason": "typo"}
    incomplete = await request(
        people, "education", "PUT", url, json=partial, headers={"If-Match": current.headers["etag"]}
    )
    assert incomplete.status_code == 422  # an amendment is checked in full
    versions = await request(people, "education", "GET", f"{url}/versions")
    assert [v["kind"] for v in versions.json()] == ["submitted"]


async def test_drafts_only_while_the_audit_is_open(people: People) -> None:
    audit = await an_open_audit(people, participants=["health"])
    current = await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}")
    review = await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{audit['id']}/status",
        json={"status": "in-review", "reason": "Moving on"},
        headers={"If-Match": current.headers["etag"]},
    )
    assert review.status_code == 200
    response = await save_draft(people, "health", audit, {"answers": {}})
    assert response.status_code == 409


async def test_saving_needs_if_match_and_two_writers_cannot_both_win(people: People) -> None:
    audit = await an_open_audit(people, participants=["health"])
    url = contribution_url(audit, people, "health")
    assert (await request(people, "health", "PUT", url, json={"answers": {}})).status_code == 428
    current = await request(people, "health", "GET", url)
    tag = {"If-Match": current.headers["etag"]}
    first, second = await asyncio.gather(
        request(
            people,
            "health",
            "PUT",
            url,
            json={"answers": {"history-previous-involvement": {"value": "a"}}},
            headers=tag,
        ),
        request(
            people,
            "health",
            "PUT",
            url,
            json={"answers": {"history-previous-involvement": {"value": "b"}}},
            headers=tag,
        ),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 412]
    assert (await request(people, "health", "PUT", url, json={"answers": {}}, headers=tag)).status_code == 412


async def test_a_retried_submit_gets_the_first_response(people: People) -> None:
    audit = await an_open_audit(people, participants=["health"])
    seen = await read_audit(people, "health", audit)
    saved = await save_draft(people, "health", audit, complete_answers(seen))
    url = contribution_url(audit, people, "health")
    headers = {"If-Match": saved.headers["etag"], "Idempotency-Key": "submit-1"}
    first = await request(people, "health", "POST", f"{url}/submit", headers=headers)
    again = await request(people, "health", "POST", f"{url}/submit", headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    versions = (await request(people, "health", "GET", f"{url}/versions")).json()
    assert len(versions) == 1


async def test_an_agency_cannot_touch_another_agencys_contribution(people: People) -> None:
    audit = await an_open_audit(people, participants=["health", "police"])
    health_url = contribution_url(audit, people, "health")
    await save_draft(people, "health", audit, {"answers": {"history-previous-involvement": {"value": "secret"}}})
    assert (await request(people, "police", "GET", health_url)).status_code == 404
    put = await request(people, "police", "PUT", health_url, json={"answers": {}}, headers={"If-Match": '"1"'})
    assert put.status_code == 404
    assert (
        await request(people, "police", "POST", f"{health_url}/submit", headers={"If-Match": '"1"'})
    ).status_code == 404
    assert (await request(people, "police", "GET", f"{health_url}/versions")).status_code == 404
    # An agency not taking part sees neither the audit nor its own (absent) contribution.
    assert (await request(people, "education", "GET", f"/api/audits/{audit['id']}")).status_code == 404
    school_url = contribution_url(audit, people, "education")
    assert (await request(people, "education", "GET", school_url)).status_code == 404
    # The coordinator sees the status but never the draft.
    seen = await request(people, "coordinator", "GET", health_url)
    assert seen.status_code == 200
    assert seen.json()["status"] == "in-progress"
    assert seen.json()["content"] is None
    assert "secret" not in (await request(people, "reviewer", "GET", f"/api/audits/{audit['id']}")).text


async def test_a_draft_audit_takes_no_contributions(people: People) -> None:
    draft = await a_draft_audit(people, participants=["health"])
    url = contribution_url(draft, people, "health")
    assert (await request(people, "health", "GET", url)).status_code == 404


async def test_only_the_coordinator_returns_and_only_a_submitted_contribution(people: People) -> None:
    audit = await an_open_audit(people, participants=["health"])
    url = contribution_url(audit, people, "health")
    current = await request(people, "coordinator", "GET", url)
    not_submitted = await request(
        people,
        "coordinator",
        "POST",
        f"{url}/return",
        json={"comment": "More"},
        headers={"If-Match": current.headers["etag"]},
    )
    assert not_submitted.status_code == 409
    await draft_and_submit(people, "health", audit)
    current = await request(people, "coordinator", "GET", url)
    by_reviewer = await request(
        people,
        "reviewer",
        "POST",
        f"{url}/return",
        json={"comment": "More"},
        headers={"If-Match": current.headers["etag"]},
    )
    assert by_reviewer.status_code == 403
    empty = await request(
        people,
        "coordinator",
        "POST",
        f"{url}/return",
        json={"comment": " "},
        headers={"If-Match": current.headers["etag"]},
    )
    assert empty.status_code == 422
    assert fields(empty) == ["$.comment"]


async def test_contribution_reads_and_writes_are_recorded_without_answers(people: People) -> None:
    audit = await an_open_audit(people, participants=["health"])
    await save_draft(people, "health", audit, {"answers": {"history-previous-involvement": {"value": "private words"}}})
    log = (await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}/events")).json()
    health = str(people.organisation_id("health"))
    mine = [(e["action"], e["target_organisation_id"]) for e in log if e["organisation_id"] == health]
    assert ("contribution.read", health) in mine
    assert ("contribution.saved", health) in mine
    assert "private words" not in str(log)
