"""Immediate concerns are objects with an owner (issue 20): a police
auditor's draft answering "the child is not safe" raises one at once, the
coordinator and the police's safeguarding lead are written to (read back
from a real SMTP catcher), nobody acknowledges it, the reviewers are told,
a reviewer acknowledges and closes it with an outcome, and the trail holds
every step. Withdrawing the answer in a draft closes it with that reason."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import asyncpg

from server.audits.jobs import escalate_now
from server.audits.working_time import parse_working_hours
from server.platform.dev_mail import Catcher, caught_messages
from server.platform.mail import SmtpChannel
from server.platform.queue import deliver
from server.settings import load_settings
from tests.server.audit_fixtures import (
    People,
    an_open_audit,
    people_fixture,  # noqa: F401 - fixture
    request,
    save_draft,
)

LEAD = "lead@police.example"


def not_safe(answer: str = "no") -> dict[str, Any]:
    return {"answers": {"child-currently-safe": {"value": answer, "comments": "Seen in the records"}}}


async def a_safeguarding_lead(db: asyncpg.Connection[Any], people: People) -> None:
    await db.execute(
        "INSERT INTO organisation_contacts (organisation_id, kind, name, email) VALUES ($1, 'safeguarding-lead', "
        "'Pat Lead', $2)",
        people.organisation_id("police"),
        LEAD,
    )


async def deliver_everything(database_url: str, folder: Path) -> list[Any]:
    """Send what the outbox holds through real SMTP to a catcher; what it caught."""
    with Catcher(folder) as catcher:
        settings = load_settings({}, env="test", smtp_host=catcher.host, smtp_port=catcher.port, smtp_security="none")
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
        try:
            ids = await pool.fetch("SELECT id FROM notifications WHERE status = 'queued' ORDER BY created_at")
            for row in ids:
                await deliver(pool, SmtpChannel(settings), row["id"], base_url="http://maca.test", final=False)
        finally:
            await pool.close()
    return caught_messages(folder)


async def test_a_child_not_safe_reaches_the_coordinator_and_the_safeguarding_lead_and_escalates(
    people: People, db: asyncpg.Connection[Any], database_url: str, tmp_path: Path
) -> None:
    await a_safeguarding_lead(db, people)
    audit = await an_open_audit(people, participants=["health", "police"])
    saved = await save_draft(people, "police", audit, not_safe())
    assert saved.status_code == 200, saved.text

    listed = await request(people, "coordinator", "GET", "/api/concerns")
    assert listed.status_code == 200, listed.text
    (concern,) = listed.json()["concerns"]
    assert concern["kind"] == "child-not-safe"
    assert concern["question_id"] == "child-currently-safe"
    assert concern["acknowledged_at"] is None

    caught = [m for m in await deliver_everything(database_url, tmp_path / "mail") if "concern" in m.subject]
    assert sorted(m.to for m in caught) == sorted(["coordinator@demo-csc.example", LEAD])
    for message in caught:
        assert "Immediate concern" in message.subject
        assert f"http://maca.test/concerns/{concern['id']}" in message.body

    # Nobody acknowledges: after 4 working hours the reviewer is told.
    raised = datetime.datetime.fromisoformat(concern["raised_at"])
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        always = parse_working_hours("always")
        assert await escalate_now(pool, always, raised + datetime.timedelta(hours=3)) == 0
        assert await escalate_now(pool, always, raised + datetime.timedelta(hours=4, minutes=1)) == 1
        # Again four hours later, until someone acknowledges it.
        assert await escalate_now(pool, always, raised + datetime.timedelta(hours=5)) == 0
        assert await escalate_now(pool, always, raised + datetime.timedelta(hours=8, minutes=2)) == 1
    finally:
        await pool.close()
    caught = await deliver_everything(database_url, tmp_path / "escalations")
    assert [m.to for m in caught] == ["reviewer@demo-partnership-team.example"] * 2
    assert all("Escalated" in m.subject for m in caught)

    url = f"/api/concerns/{concern['id']}"
    current = await request(people, "reviewer", "GET", url)
    assert current.status_code == 200, current.text
    acknowledged = await request(
        people, "reviewer", "POST", f"{url}/acknowledgement", headers={"If-Match": current.headers["etag"]}
    )
    assert acknowledged.status_code == 200, acknowledged.text
    assert acknowledged.json()["acknowledged_by"] == "Robin Reviewer"
    refused = await request(
        people,
        "reviewer",
        "POST",
        f"{url}/closure",
        json={"action_taken": "Called the police's safeguarding lead"},
        headers={"If-Match": acknowledged.headers["etag"]},
    )
    assert refused.status_code == 422
    assert "$.outcome" in refused.text
    closed = await request(
        people,
        "reviewer",
        "POST",
        f"{url}/closure",
        json={"action_taken": "Called the police's safeguarding lead", "outcome": "A strategy meeting was held"},
        headers={"If-Match": acknowledged.headers["etag"]},
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["closed_because"] == "resolved"
    assert (await request(people, "coordinator", "GET", "/api/concerns")).json()["concerns"] == []

    trail = await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}/events")
    actions = [e["action"] for e in trail.json()]
    for step in ("concern.raised", "concern.escalated", "concern.acknowledged", "concern.closed"):
        assert step in actions, actions


async def test_withdrawing_the_answer_in_a_draft_closes_the_concern_with_that_reason(
    people: People, db: asyncpg.Connection[Any]
) -> None:
    audit = await an_open_audit(people, participants=["police"])
    assert (await save_draft(people, "police", audit, not_safe())).status_code == 200
    assert (await save_draft(people, "police", audit, not_safe("yes"))).status_code == 200

    assert (await request(people, "coordinator", "GET", "/api/concerns")).json()["concerns"] == []
    row = await db.fetchrow("SELECT closed_because, closed_at FROM concerns")
    assert row["closed_because"] == "answer-withdrawn"
    trail = await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}/events")
    closing = [e for e in trail.json() if e["action"] == "concern.closed"]
    assert closing and closing[0]["detail"]["because"] == "answer-withdrawn"
    # Saying it again raises a new one.
    assert (await save_draft(people, "police", audit, not_safe())).status_code == 200
    assert len((await request(people, "coordinator", "GET", "/api/concerns")).json()["concerns"]) == 1


async def test_an_agency_does_not_handle_concerns(people: People) -> None:
    audit = await an_open_audit(people, participants=["police"])
    assert (await save_draft(people, "police", audit, not_safe())).status_code == 200
    assert (await request(people, "police", "GET", "/api/concerns")).status_code == 403
    assert (await request(people, "health", "GET", "/api/concerns")).status_code == 403


async def test_a_significant_failure_recorded_against_a_whole_section_is_a_concern_without_a_question(
    people: People, db: asyncpg.Connection[Any]
) -> None:
    """Issue 17: an agency records a significant failure in a section, not
    against any question. The concern says so honestly (no question: null
    in the API, NULL in the table), is raised once however often the draft
    is saved, and closes as withdrawn when the failure is taken out."""
    audit = await an_open_audit(people, participants=["education"])
    failure = {"significant_failures": {"referral": {"description": "The disclosure was not referred for a week"}}}
    for _ in range(2):
        assert (await save_draft(people, "education", audit, failure)).status_code == 200

    (concern,) = (await request(people, "coordinator", "GET", "/api/concerns")).json()["concerns"]
    assert (concern["kind"], concern["section_id"], concern["question_id"]) == (
        "significant-failure",
        "referral",
        None,
    )
    stored = await db.fetchrow("SELECT question_id, closed_at FROM concerns WHERE id = $1", concern["id"])
    assert stored["question_id"] is None and stored["closed_at"] is None
    assert await db.fetchval("SELECT count(*) FROM concerns") == 1, "the same failure saved again is the same concern"
    one = await request(people, "reviewer", "GET", f"/api/concerns/{concern['id']}")
    assert one.status_code == 200 and one.json()["question_id"] is None
    # No words of the description are kept with the concern or its trail.
    trail = await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}/events")
    raised = [e for e in trail.json() if e["action"] == "concern.raised"]
    assert raised[0]["detail"]["question_id"] is None
    assert "disclosure" not in str(trail.json())

    assert (await save_draft(people, "education", audit, {"significant_failures": {}})).status_code == 200
    assert (await request(people, "coordinator", "GET", "/api/concerns")).json()["concerns"] == []
    assert await db.fetchval("SELECT closed_because FROM concerns WHERE id = $1", concern["id"]) == "answer-withdrawn"
