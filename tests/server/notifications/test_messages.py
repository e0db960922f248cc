"""The messages of the audit cycle (issue 20), and the rule they all keep:
no child's details in any message. A whole journey — an audit distributed,
a concern raised, contributions submitted, one returned and submitted
again, every agency in, reminders, the audit closed — and then every
message written and every message the SMTP catcher received is searched
for the case's initials, names, dates, identifiers, answers and comments."""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

import asyncpg

from server.audits.jobs import remind_now
from server.audits.reminders import reminder_for
from tests.server.audit_fixtures import (
    CASE_DETAILS,
    People,
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
from tests.server.notifications.test_concerns import a_safeguarding_lead, deliver_everything


def personal_details() -> list[str]:
    """Every case detail's text, and what auditors wrote."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and len(value) >= 2 and value not in ("None", "neglect", "English"):
            found.append(value)

    walk(CASE_DETAILS["answers"])
    return [*found, "Seen in the records", "Plans are followed through", "Recorded in the case notes", "Case notes"]


async def test_no_message_of_a_whole_journey_carries_the_childs_details(
    people: People, db: asyncpg.Connection[Any], database_url: str, tmp_path: Path
) -> None:
    await a_safeguarding_lead(db, people)
    due = datetime.date.today() + datetime.timedelta(days=7)
    audit = await an_open_audit(people, participants=["health", "police"], due_date=due)
    told = {r["message"] for r in await db.fetch("SELECT DISTINCT message FROM notifications")}
    assert told == {"audit-distributed"}
    recipients = {r["recipient"] for r in await db.fetch("SELECT recipient FROM notifications")}
    assert recipients == {"health@demo-health.example", "police@demo-police.example"}

    # A reminder a week before the due date, once however often it runs.
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        assert await remind_now(pool, datetime.date.today()) == 2
        assert await remind_now(pool, datetime.date.today()) == 0
        assert await remind_now(pool, due + datetime.timedelta(days=1)) == 2
    finally:
        await pool.close()

    police_view = await read_audit(people, "police", audit)
    answers = complete_answers(police_view)
    answers["answers"]["child-currently-safe"] = {"value": "no", "comments": "Seen in the records"}
    assert (await save_draft(people, "police", audit, answers)).status_code == 200
    assert (await submit(people, "police", audit)).status_code == 200
    url = contribution_url(audit, people, "police")
    current = await request(people, "coordinator", "GET", url)
    returned = await request(
        people,
        "coordinator",
        "POST",
        f"{url}/return",
        json={"comment": "Please add the dates for AB"},
        headers={"If-Match": current.headers["etag"]},
    )
    assert returned.status_code == 200, returned.text
    assert (await submit(people, "police", audit)).status_code == 200
    await draft_and_submit(people, "health", audit)

    # Closed with what is outstanding confirmed, as issue 17 requires: the
    # panel agreed no overall grade here, and the concern stays open.
    closing = {"confirm_outstanding": True, "reason": "Panel agreed to close; the concern is followed up"}
    for status, extra in (("in-review", {}), ("closed", closing)):
        now = await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}")
        moved = await request(
            people,
            "coordinator",
            "POST",
            f"/api/audits/{audit['id']}/status",
            json={"status": status, **extra},
            headers={"If-Match": now.headers["etag"]},
        )
        assert moved.status_code == 200, moved.text

    messages = {r["message"] for r in await db.fetch("SELECT DISTINCT message FROM notifications")}
    assert messages == {
        "audit-distributed",
        "due-soon",
        "overdue",
        "concern-raised",
        "contribution-returned",
        "ready-for-panel",
        "audit-closed",
    }
    closing = await db.fetch("SELECT recipient, link FROM notifications WHERE message = 'audit-closed'")
    assert {r["link"] for r in closing} == {f"/api/audits/{audit['id']}/report.html"}
    assert {r["recipient"] for r in closing} >= {
        "coordinator@demo-csc.example",
        "reviewer@demo-partnership-team.example",
        "police@demo-police.example",
    }

    written = await db.fetch("SELECT subject, body, coalesce(link, '') AS link FROM notifications")
    caught = await deliver_everything(database_url, tmp_path / "mail")
    assert len(caught) == len(written)
    texts = [f"{r['subject']}\n{r['body']}\n{r['link']}" for r in written]
    texts += [f"{m.subject}\n{m.to}\n{m.body}" for m in caught]
    details = personal_details()
    assert "AB" in details and "C-1001" in details
    # Maca's own ids (the reference number is hex, and may hold "AB") are
    # not the child's: taken out before looking.
    ids = re.compile(r"MACA-[0-9A-F]{8}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|<[^>]*@maca>")
    texts = [ids.sub("", text) for text in texts]
    for text in texts:
        for detail in details:
            assert detail not in text, f"{detail!r} in a message: {text}"
    assert "2025-06-01" not in "".join(texts)


def test_reminders_follow_the_partnerships_schedule() -> None:
    due = datetime.date(2026, 3, 20)
    day = datetime.timedelta(days=1)
    assert reminder_for(due - 7 * day, due, [7, 1], 7) == "due-soon"
    assert reminder_for(due - 6 * day, due, [7, 1], 7) is None
    assert reminder_for(due - day, due, [7, 1], 7) == "due-soon"
    assert reminder_for(due, due, [7, 1], 7) is None
    assert reminder_for(due + day, due, [7, 1], 7) == "overdue"
    assert reminder_for(due + 2 * day, due, [7, 1], 7) is None
    assert reminder_for(due + 8 * day, due, [7, 1], 7) == "overdue"
    assert reminder_for(due + 8 * day, due, [7, 1], 0) is None


async def test_an_organisation_added_after_distribution_is_sent_the_audit_too(
    people: People, db: asyncpg.Connection[Any], database_url: str, tmp_path: Path
) -> None:
    """The coordinator adds the school to an audit already with the agencies:
    the school is told as the first ones were (once), the others are not told
    again; removed and added again, it is told again."""
    audit = await an_open_audit(people, participants=["health"])
    school = people.organisation_id("education")
    school_people = {
        r["email"]
        for r in await db.fetch("SELECT email FROM users WHERE organisation_id = $1 AND email IS NOT NULL", school)
    }
    assert school_people, "the school's auditor signed in with an address"
    distributed = "SELECT recipient FROM notifications WHERE message = 'audit-distributed' AND audit_id = $1"
    before = sorted(r["recipient"] for r in await db.fetch(distributed, audit["id"]))
    assert before and not school_people & set(before)

    async def change(body: dict[str, Any]) -> None:
        url = f"/api/audits/{audit['id']}"
        current = await request(people, "coordinator", "GET", url)
        changed = await request(
            people, "coordinator", "PATCH", url, json=body, headers={"If-Match": current.headers["etag"]}
        )
        assert changed.status_code == 200, changed.text

    await change({"add_participants": ["demo-school"]})
    after = sorted(r["recipient"] for r in await db.fetch(distributed, audit["id"]))
    assert sorted(set(after) - set(before)) == sorted(school_people)
    assert len(after) == len(before) + len(school_people), "health is not told again"
    links = await db.fetch(
        "SELECT DISTINCT link FROM notifications WHERE message = 'audit-distributed' AND audit_id = $1", audit["id"]
    )
    assert [r["link"] for r in links] == [f"/your-audits/{audit['id']}"]
    caught = await deliver_everything(database_url, tmp_path / "mail")
    assert {m.to for m in caught if "A case audit to complete" in m.subject} == set(after)

    await change({"remove_participants": ["demo-school"], "reason": "Added in error"})
    await change({"add_participants": ["demo-school"], "reason": "The school was involved after all"})
    again = [r["recipient"] for r in await db.fetch(distributed, audit["id"])]
    assert sorted(again) == sorted(after + sorted(school_people))
