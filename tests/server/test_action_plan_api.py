"""The action plan: actions from the tools' own tables tracked on
submission, seen by the organisation responsible as its own, progressed
as a history that keeps every update."""

from __future__ import annotations

import datetime
from typing import Any

from tests.server.action_plan_fixtures import (
    ACTIONS_ROWS,
    amended_with_actions,
    an_open_early_help_audit,
    submitted_with_actions,
)
from tests.server.audit_fixtures import (
    People,
    people_fixture,  # noqa: F401 - fixture
    request,
)

TODAY = datetime.date.today()


def fields(response: Any) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


async def plan_of(people: People, persona: str, query: str = "") -> dict[str, Any]:
    response = await request(people, persona, "GET", f"/api/actions{query}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def record(people: People, persona: str, action_id: str, body: dict[str, Any], etag: str | None) -> Any:
    headers = {} if etag is None else {"If-Match": etag}
    return await request(people, persona, "POST", f"/api/actions/{action_id}/updates", json=body, headers=headers)


async def test_the_rows_of_an_agencys_action_table_become_its_actions_when_it_submits(people: People) -> None:
    audit = await an_open_early_help_audit(people, participants=["police", "health"])
    assert (await plan_of(people, "police"))["actions"] == []

    await submitted_with_actions(people, "police", audit)

    police = await plan_of(people, "police")
    assert police["only_own"] is True
    assert [a["action"]["action"] for a in police["actions"]] == [r["action"] for r in ACTIONS_ROWS]
    first = police["actions"][0]
    assert first["action"]["responsible_organisation_id"] == str(people.organisation_id("police"))
    assert first["action"]["who"] == "Police MASH / within a month"
    assert first["action"]["status"] == "open"
    assert first["action"]["source_question_id"] == "remedial-actions-required"
    assert first["case_reference"] == "CF-4711"
    assert first["organisation_name"] == "Demo Police"
    # Another agency sees none of them; the partnership sees them all.
    assert (await plan_of(people, "health"))["actions"] == []
    everyone = await plan_of(people, "coordinator")
    assert everyone["only_own"] is False and everyone["total"] == 2
    assert (await plan_of(people, "reviewer"))["total"] == 2
    assert (await plan_of(people, "coordinator", f"?organisation={people.organisation_id('health')}"))["total"] == 0


async def test_an_amendment_brings_its_row_up_to_date_rather_than_adding_a_second(people: People) -> None:
    audit = await an_open_early_help_audit(people, participants=["police"])
    await submitted_with_actions(people, "police", audit)
    clearer = [{**ACTIONS_ROWS[0], "action": "Share the missing-episode log within five working days"}, ACTIONS_ROWS[1]]
    amended = await amended_with_actions(people, "police", audit, clearer)
    assert amended.status_code == 200, amended.text
    actions = (await plan_of(people, "police"))["actions"]
    assert [a["action"]["action"] for a in actions] == [r["action"] for r in clearer]


async def test_the_organisation_responsible_records_progress_and_every_update_is_kept(people: People) -> None:
    audit = await an_open_early_help_audit(people, participants=["police", "health"])
    await submitted_with_actions(people, "police", audit)
    action_id = (await plan_of(people, "police"))["actions"][0]["action"]["id"]
    shown = await request(people, "police", "GET", f"/api/actions/{action_id}")
    assert shown.status_code == 200 and shown.json()["updates"] == []

    first = {"status": "in-progress", "date_reviewed": TODAY.isoformat(), "comments": "Log requested from MASH"}
    assert (await record(people, "police", action_id, first, None)).status_code == 428
    started = await record(people, "police", action_id, first, shown.headers["etag"])
    assert started.status_code == 201, started.text
    assert started.json()["status"] == "in-progress"
    stale = await record(people, "police", action_id, first, shown.headers["etag"])
    assert stale.status_code == 412

    done = {
        "status": "completed",
        "date_reviewed": TODAY.isoformat(),
        "comments": "Log shared with the early help worker",
        "evidence": "MASH record 12 of the log, shared by secure e-mail",
    }
    finished = await record(people, "police", action_id, done, started.headers["etag"])
    assert finished.status_code == 201, finished.text
    assert finished.json()["completed"] is True

    history = (await request(people, "coordinator", "GET", f"/api/actions/{action_id}")).json()
    assert [u["status"] for u in history["updates"]] == ["in-progress", "completed"]
    assert [u["comments"] for u in history["updates"]] == [first["comments"], done["comments"]]
    # Who recorded each is the signed-in person, not initials typed in.
    assert {u["recorded_by_organisation_name"] for u in history["updates"]} == {"Demo Police"}
    assert all(u["recorded_by"] for u in history["updates"])
    assert history["action"]["evidence"] == done["evidence"]


async def test_a_review_is_not_dated_in_the_future_and_completion_needs_evidence(people: People) -> None:
    audit = await an_open_early_help_audit(people, participants=["police"])
    await submitted_with_actions(people, "police", audit)
    action_id = (await plan_of(people, "police"))["actions"][0]["action"]["id"]
    etag = (await request(people, "police", "GET", f"/api/actions/{action_id}")).headers["etag"]
    tomorrow = (TODAY + datetime.timedelta(days=1)).isoformat()
    wrong = await record(
        people, "police", action_id, {"status": "completed", "date_reviewed": tomorrow, "comments": " "}, etag
    )
    assert wrong.status_code == 422
    assert fields(wrong) == ["$.date_reviewed", "$.comments", "$.evidence"]
    assert (await request(people, "police", "GET", f"/api/actions/{action_id}")).json()["updates"] == []


async def test_no_one_else_sees_or_progresses_an_organisations_action(people: People) -> None:
    audit = await an_open_early_help_audit(people, participants=["police", "health"])
    await submitted_with_actions(people, "police", audit)
    action_id = (await plan_of(people, "police"))["actions"][0]["action"]["id"]
    etag = (await request(people, "police", "GET", f"/api/actions/{action_id}")).headers["etag"]
    body = {"status": "in-progress", "date_reviewed": TODAY.isoformat(), "comments": "Seen"}
    assert (await request(people, "health", "GET", f"/api/actions/{action_id}")).status_code == 404
    assert (await record(people, "health", action_id, body, etag)).status_code == 404
    # A reviewer follows the plan; recording progress is the agency's (or a coordinator's).
    assert (await record(people, "reviewer", action_id, body, etag)).status_code == 403
    assert (await record(people, "coordinator", action_id, body, etag)).status_code == 201


async def test_progress_is_no_longer_overwritten_through_the_audits_actions(people: People) -> None:
    audit = await an_open_early_help_audit(people, participants=["police"])
    await submitted_with_actions(people, "police", audit)
    action = (await plan_of(people, "police"))["actions"][0]["action"]
    url = f"/api/audits/{audit['id']}/actions/{action['id']}"
    overwrite = await request(
        people,
        "police",
        "PATCH",
        url,
        json={"completed": True, "comments": "done"},
        headers={"If-Match": f'"{action["row_version"]}"'},
    )
    assert overwrite.status_code == 422
    assert fields(overwrite) == ["$.completed", "$.comments"]
    assert "/updates" in overwrite.json()["errors"][0]["message"]
