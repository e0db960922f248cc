"""The concerns on the pages (issue 20): "What needs you" heads the
coordinator's and reviewer's first page with each open concern and its age;
the concern's page acknowledges and closes it; the audit's page shows its
concerns and who was told what; /dev-mail exists only in development."""

from __future__ import annotations

from typing import Any

import asyncpg

from tests.server.audit_fixtures import an_open_audit, save_draft
from tests.web.conftest import Pages


async def test_an_open_concern_heads_the_first_page_and_is_handled_on_its_own(
    pages: Pages, db: asyncpg.Connection[Any]
) -> None:
    audit = await an_open_audit(pages.people, participants=["police"])
    content = {"answers": {"child-currently-safe": {"value": "no", "comments": "Seen in the records"}}}
    assert (await save_draft(pages.people, "police", audit, content)).status_code == 200
    concern_id = await db.fetchval("SELECT id FROM concerns")

    for persona in ("coordinator", "reviewer"):
        first = await (await pages.signed_in(persona)).get("/audits")
        assert first.status_code == 200
        assert "What needs you" in first.text
        assert f"/concerns/{concern_id}" in first.text
        assert "not acknowledged" in first.text
        dashboard = await (await pages.signed_in(persona)).get("/reports/themes")
        assert "What needs you" in dashboard.text and f"/concerns/{concern_id}" in dashboard.text
    police = await pages.signed_in("police")
    assert f"/concerns/{concern_id}" not in (await police.get("/your-audits")).text
    assert (await police.get(f"/concerns/{concern_id}")).status_code == 403

    reviewer = await pages.signed_in("reviewer")
    page = await reviewer.get(f"/concerns/{concern_id}")
    assert page.status_code == 200
    assert "Is the child currently safe" in page.text
    assert "Parker Police" in page.text
    done = await reviewer.post(f"/concerns/{concern_id}/acknowledge", {"row_version": "1"})
    assert done.status_code == 303
    refused = await reviewer.post(f"/concerns/{concern_id}/close", {"row_version": "2", "action_taken": "Rang"})
    assert refused.status_code == 422
    assert "Say the outcome" in refused.text
    closed = await reviewer.post(
        f"/concerns/{concern_id}/close",
        {"row_version": "2", "action_taken": "Rang the lead", "outcome": "Strategy meeting held"},
    )
    assert closed.status_code == 303
    page = await reviewer.get(f"/concerns/{concern_id}")
    assert "Strategy meeting held" in page.text and "Robin Reviewer" in page.text
    assert "What needs you" not in (await reviewer.get("/audits")).text

    coordinator = await pages.signed_in("coordinator")
    audit_page = await coordinator.get(f"/audits/{audit['id']}")
    assert "Immediate concerns" in audit_page.text
    assert "Who was told" in audit_page.text
    assert "coordinator@demo-csc.example" in audit_page.text
    # The audit's pages say what its e-mails call it, so a reader can match them.
    written = await db.fetch("SELECT subject FROM notifications WHERE audit_id = $1", audit["id"])
    subjects = [r["subject"] for r in written]
    mail_reference = next(word for word in subjects[0].split() if word.startswith("MACA-"))
    assert all(mail_reference in subject for subject in subjects), subjects
    assert f"E-mails about this audit call it {mail_reference}." in audit_page.text
    task_list = await (await pages.signed_in("police")).get(f"/your-audits/{audit['id']}")
    assert f"E-mails about this audit call it {mail_reference}." in task_list.text


async def test_dev_mail_is_not_there_outside_development(pages: Pages) -> None:
    coordinator = await pages.signed_in("coordinator")
    assert (await coordinator.get("/dev-mail")).status_code == 404


async def test_the_administrator_sees_what_could_not_be_delivered_and_why(
    pages: Pages, db: asyncpg.Connection[Any]
) -> None:
    partnership = await db.fetchval("SELECT partnership_id FROM organisations WHERE code = 'demo-police'")
    await db.execute(
        "INSERT INTO notifications (key, partnership_id, message, recipient, recipient_role, subject, body, status, "
        "attempts, last_error) VALUES ('k', $1, 'audit-distributed', 'old@police.example', 'audit-contact', "
        "'A case audit to complete', 'b', 'failed', 15, 'the mail server refused the recipient: 550')",
        partnership,
    )
    admin = await pages.signed_in("admin")
    page = await admin.get("/admin/notifications")
    assert page.status_code == 200
    assert "old@police.example" in page.text
    assert "the mail server refused the recipient: 550" in page.text
    assert "/admin/notifications" in (await admin.get("/admin")).text
    assert (await (await pages.signed_in("coordinator")).get("/admin/notifications")).status_code == 403


async def test_a_person_may_turn_off_non_urgent_mail_but_never_immediate_concerns(
    pages: Pages, db: asyncpg.Connection[Any]
) -> None:
    police = await pages.signed_in("police")
    page = await police.get("/account/mail")
    assert page.status_code == 200 and "police@demo-police.example" in page.text
    assert (await police.post("/account/mail", {"non_urgent_mail": "no"})).status_code == 303
    assert await db.fetchval("SELECT non_urgent_mail FROM users WHERE email = 'police@demo-police.example'") is False

    coordinator = await pages.signed_in("coordinator")
    assert (await coordinator.post("/account/mail", {"non_urgent_mail": "no"})).status_code == 303

    audit = await an_open_audit(pages.people, participants=["police", "health"])
    told = {r["recipient"] for r in await db.fetch("SELECT recipient FROM notifications")}
    assert told == {"health@demo-health.example"}  # the police auditor's distribution could wait
    content = {"answers": {"child-currently-safe": {"value": "no", "comments": "Seen in the records"}}}
    assert (await save_draft(pages.people, "police", audit, content)).status_code == 200
    urgent = await db.fetch("SELECT recipient FROM notifications WHERE urgent")
    assert {r["recipient"] for r in urgent} == {"coordinator@demo-csc.example"}  # an immediate concern always goes


async def test_what_needs_an_auditor_heads_their_first_page(pages: Pages) -> None:
    audit = await an_open_audit(pages.people, participants=["police"])
    police = await pages.signed_in("police")
    page = await police.get("/your-audits")
    assert "What needs you" in page.text
    assert f"/your-audits/{audit['id']}" in page.text and "To complete" in page.text
    health = await pages.signed_in("health")
    assert "What needs you" not in (await health.get("/your-audits")).text
