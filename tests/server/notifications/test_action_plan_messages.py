"""The action plan tells people (issues 20 and 21): an organisation made
responsible for an action — from its own action table on submission, or
agreed by the coordinator — is told, and reminded as the action falls due
and once it is overdue; an action set aside ("not taken forward") or done
is not chased. Every message goes through real SMTP to the catcher, and
none carries the child's details or what anyone wrote."""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

import asyncpg

from server.audits.jobs import remind_now
from tests.server.action_plan_fixtures import (
    ACTIONS_ROWS,
    EARLY_HELP_CASE,
    an_open_early_help_audit,
    submitted_with_actions,
)
from tests.server.audit_fixtures import People, people_fixture, request  # noqa: F401 - fixture
from tests.server.notifications.test_concerns import deliver_everything


def personal_details() -> list[str]:
    """The case's details and the words the agencies wrote in their actions."""
    found = [str(a["value"]) for a in EARLY_HELP_CASE["answers"].values() if isinstance(a["value"], str)]
    found = [v for v in found if len(v) > 3 and v not in ("None", "English")]
    return [*found, *(row["action"] for row in ACTIONS_ROWS), *(row["who-when"] for row in ACTIONS_ROWS)]


async def test_an_action_assigned_is_told_and_reminded_until_done_with_no_childs_details(
    people: People, db: asyncpg.Connection[Any], database_url: str, tmp_path: Path
) -> None:
    audit = await an_open_early_help_audit(people, participants=["police", "health"])
    await db.execute("DELETE FROM notifications")  # the distribution's messages: tested elsewhere
    await submitted_with_actions(people, "police", audit)
    tracked = await db.fetch(
        "SELECT id FROM remedial_actions WHERE audit_id = $1 AND source_row IS NOT NULL", audit["id"]
    )
    assert len(tracked) == len(ACTIONS_ROWS)
    told = await db.fetch("SELECT recipient, link FROM notifications WHERE message = 'action-assigned'")
    assert {r["recipient"] for r in told} == {"police@demo-police.example"}
    assert {r["link"] for r in told} == {f"/actions/{r['id']}" for r in tracked}

    due = datetime.date.today() + datetime.timedelta(days=7)
    agreed = []
    for text in ("Named nurse to join the core group", "Health visitor to share the growth chart"):
        created = await request(
            people,
            "coordinator",
            "POST",
            f"/api/audits/{audit['id']}/actions",
            json={
                "action": text,
                "responsible_organisation_id": str(people.organisation_id("health")),
                "due_date": due.isoformat(),
            },
        )
        assert created.status_code == 201, created.text
        agreed.append(created.json())
    assigned = await db.fetch("SELECT link FROM notifications WHERE recipient = 'health@demo-health.example'")
    assert {r["link"] for r in assigned} == {f"/actions/{a['id']}" for a in agreed}

    # One is set aside by health: it is not chased again.
    set_aside = await request(
        people,
        "health",
        "POST",
        f"/api/actions/{agreed[1]['id']}/updates",
        json={
            "status": "not-taken-forward",
            "date_reviewed": datetime.date.today().isoformat(),
            "comments": "Covered by the core group",
        },
        headers={"If-Match": f'"{agreed[1]["row_version"]}"'},
    )
    assert set_aside.status_code == 201, set_aside.text

    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        await remind_now(pool, datetime.date.today())
        await remind_now(pool, due + datetime.timedelta(days=1))
    finally:
        await pool.close()
    reminders = await db.fetch(
        "SELECT message, link FROM notifications WHERE message IN ('action-due', 'action-overdue') ORDER BY message"
    )
    assert [(r["message"], r["link"]) for r in reminders] == [
        ("action-due", f"/actions/{agreed[0]['id']}"),
        ("action-overdue", f"/actions/{agreed[0]['id']}"),
    ]

    written = await db.fetch("SELECT subject, body, coalesce(link, '') AS link FROM notifications")
    caught = await deliver_everything(database_url, tmp_path / "mail")
    assert len(caught) == len(written)
    assert any("remedial action" in m.subject.lower() and m.to == "health@demo-health.example" for m in caught)
    texts = [f"{r['subject']}\n{r['body']}\n{r['link']}" for r in written]
    texts += [f"{m.subject}\n{m.to}\n{m.body}" for m in caught]
    ids = re.compile(r"MACA-[0-9A-F]{8}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|<[^>]*@maca>")
    details = personal_details()
    assert "Sam Worker" in details and "CF-4711" in details
    for text in (ids.sub("", t) for t in texts):
        for detail in details:
            assert detail not in text, f"{detail!r} in a message: {text}"
