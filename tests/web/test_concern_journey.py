"""The journey issue 20 describes, in a real browser against `maca serve`
with its worker, sending through real SMTP to a catcher: the police record
"child not safe"; the coordinator and the police's safeguarding lead
receive mail; nobody acknowledges; the escalation mail reaches the
reviewer; the reviewer acknowledges and closes the concern with an outcome;
the trail shows each step."""

from __future__ import annotations

import asyncio
import datetime
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from playwright.async_api import Browser, Page

from server.audits.jobs import escalate_now
from server.audits.working_time import parse_working_hours
from server.platform.dev_mail import Catcher, Caught, caught_messages
from server.settings import load_settings
from tests.deploy.processes import maca_environment, maca_server
from tests.identity import ALL_PERSONAS, bearer, token_for
from tests.server.audit_fixtures import an_open_audit
from tests.web.browser import check_accessibility, screenshot
from tests.web.conftest import LiveServer, _LivePeople

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LEAD = "lead@police.example"


@pytest.fixture
def catcher(tmp_path: Path) -> Iterator[Catcher]:
    with Catcher(tmp_path / "caught") as running:
        yield running


@pytest.fixture
async def mailing_server(database_url: str, tmp_path: Path, catcher: Catcher) -> AsyncIterator[LiveServer]:
    """`maca serve` whose worker sends to the catcher."""
    data_dir = tmp_path / "data"
    env = maca_environment(
        database_url,
        data_dir,
        MACA_WORKER="in-process",
        MACA_SMTP_HOST=catcher.host,
        MACA_SMTP_PORT=str(catcher.port),
        MACA_SMTP_SECURITY="none",
        MACA_WORKING_HOURS="always",
    )
    with maca_server(env, tmp_path / "maca.log") as base_url:
        settings = load_settings({}, env="test", data_dir=str(data_dir), port=urlsplit(base_url).port or 0)
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            tokens: dict[str, str] = {}
            me: dict[str, dict[str, Any]] = {}
            for persona in ALL_PERSONAS:
                tokens[persona] = await token_for(settings, persona)
                response = await http.get("/api/me", headers=bearer(tokens[persona]))
                assert response.status_code == 200, response.text
                me[persona] = response.json()
            yield LiveServer(base_url=base_url, settings_data_dir=data_dir, people=_LivePeople(http, tokens, me))


async def sign_in(browser: Browser, server: LiveServer, persona: str) -> Page:
    context = await browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(server.url("/"))
    await page.check(f"#persona-{persona}")
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_load_state()
    return page


async def mail_to(catcher: Catcher, address: str, subject: str, within: float = 60) -> Caught:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for message in caught_messages(catcher.folder):
            if message.to == address and subject in message.subject:
                return message
        await asyncio.sleep(0.25)
    found = [(m.to, m.subject) for m in caught_messages(catcher.folder)]
    raise AssertionError(f"no mail to {address} about {subject!r}; caught {found}")


async def test_child_not_safe_reaches_the_people_who_must_act(
    browser: Browser, mailing_server: LiveServer, catcher: Catcher, db: asyncpg.Connection[Any], database_url: str
) -> None:
    server = mailing_server
    await db.execute(
        "INSERT INTO organisation_contacts (organisation_id, kind, name, email) "
        "VALUES ($1, 'safeguarding-lead', 'Pat Lead', $2)",
        server.people.organisation_id("police"),
        LEAD,
    )
    audit = await an_open_audit(server.people, participants=["police", "health"])

    # The police auditor answers that the child is not safe, in a draft.
    police = await sign_in(browser, server, "police")
    await police.goto(server.url(f"/your-audits/{audit['id']}/sections/key-questions"))
    await police.locator('input[name="q-child-currently-safe"][value="no"]').check()
    await police.locator("#q-child-currently-safe-comments").fill("Seen in the records")
    await police.get_by_role("button", name="Save and continue").click()
    await police.wait_for_load_state()

    # The coordinator and the police's safeguarding lead are told at once.
    for address in ("coordinator@demo-csc.example", LEAD):
        message = await mail_to(catcher, address, "Immediate concern")
        assert "/concerns/" in message.body
        assert "not currently safe" in message.body

    # Nobody acknowledges it: four working hours on, the reviewer is told.
    raised = await db.fetchval("SELECT raised_at FROM concerns")
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        later = raised + datetime.timedelta(hours=4, minutes=1)
        assert await escalate_now(pool, parse_working_hours("always"), later) == 1
    finally:
        await pool.close()
    escalation = await mail_to(catcher, "reviewer@demo-partnership-team.example", "Escalated")
    link = next(line for line in escalation.body.splitlines() if "/concerns/" in line).split(": ", 1)[1]

    # The reviewer follows the mail's link, acknowledges, and closes it.
    reviewer = await sign_in(browser, server, "reviewer")
    await reviewer.goto(server.url("/audits"))
    assert await reviewer.get_by_role("heading", name="What needs you").is_visible()
    await check_accessibility(reviewer)
    await screenshot(reviewer, "concern-what-needs-you")
    await reviewer.goto(server.url(urlsplit(link).path))
    await check_accessibility(reviewer)
    await screenshot(reviewer, "concern-page")
    await reviewer.get_by_role("button", name="Acknowledge: I have this in hand").click()
    await reviewer.wait_for_load_state()
    assert await reviewer.get_by_text("Concern acknowledged").is_visible()
    await reviewer.locator("#action-taken").fill("Rang the police's safeguarding lead; strategy discussion held")
    await reviewer.locator("#outcome").fill("Child protection plan reviewed the same day")
    await reviewer.get_by_role("button", name="Close the concern").click()
    await reviewer.wait_for_load_state()
    assert await reviewer.get_by_text("Concern closed").is_visible()
    assert await reviewer.get_by_text("Child protection plan reviewed the same day").is_visible()
    await screenshot(reviewer, "concern-closed")
    await reviewer.set_viewport_size({"width": 375, "height": 800})
    await screenshot(reviewer, "concern-closed-375")

    # The trail shows each step, and the audit's page who was told what.
    trail = await server.people.client.get(
        f"/api/audits/{audit['id']}/events", headers=server.people.headers("coordinator")
    )
    steps = [e["action"] for e in trail.json() if e["action"].startswith("concern.")]
    for step in ("concern.raised", "concern.escalated", "concern.acknowledged", "concern.closed"):
        assert step in steps, steps
    coordinator = await sign_in(browser, server, "coordinator")
    await coordinator.goto(server.url(f"/audits/{audit['id']}"))
    assert await coordinator.get_by_role("heading", name="Who was told").is_visible()
    await check_accessibility(coordinator)
    await screenshot(coordinator, "audit-who-was-told")
