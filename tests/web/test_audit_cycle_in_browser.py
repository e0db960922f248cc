"""The audit cycle in a real browser, as the issue's journey: the
administrator sets a programme up; the coordinator imports its cases from
CSV (one bad line reported by its number, nothing imported until it is
fixed); police see the action from their own action table and record two
progress updates, both kept; the reviewer tags learning, and the learning
report is downloaded as a tagged PDF. Each page is checked by axe-core and
fits the window at 1280 px and 375 px."""

from __future__ import annotations

import datetime
from pathlib import Path

import anyio
import pytest
from playwright.async_api import Browser, Page

from tests.server.action_plan_fixtures import an_open_early_help_audit, submitted_with_actions
from tests.web.browser import check_accessibility, screenshot
from tests.web.conftest import LiveServer, SignInAs
from tests.web.test_admin_in_browser import follow, sign_in_as_the_administrator

pytestmark = pytest.mark.browser

WIDTHS = ((1280, 900), (375, 800))
TODAY = datetime.date.today()
CASES = """case_reference,agencies
N-101,demo-police;demo-health
N-102,demo-police;demo-health
N-103,demo-health;demo-polis
N-104,demo-health
N-105,demo-police;demo-school
"""


async def looked_at(page: Page, name: str) -> None:
    for width, height in WIDTHS:
        await page.set_viewport_size({"width": width, "height": height})
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{page.url} is {overflow}px wider than a {width}px window"
        await check_accessibility(page)
        await screenshot(page, f"cycle-{name}-{width}")
    await page.set_viewport_size({"width": WIDTHS[0][0], "height": WIDTHS[0][1]})


async def test_the_audit_cycle_in_a_browser(
    browser: Browser, live_server: LiveServer, signed_in_page: SignInAs, tmp_path: Path
) -> None:
    # The administrator sets up the programme.
    admin = await sign_in_as_the_administrator(browser, live_server)
    await follow(admin, admin.get_by_role("link", name="Programmes", exact=True).first)
    await admin.fill("#name", "Neglect, Q1")
    await admin.select_option("#toolkit", "multi-agency-cp")
    await admin.fill("#focus", "Neglect of children under five")
    await admin.fill("#agencies", "demo-police; demo-health")
    await follow(admin, admin.get_by_role("button", name="Set up the programme"))
    assert "Programme set up" in await admin.locator(".govuk-notification-banner").inner_text()
    await looked_at(admin, "programme")
    programme_url = admin.url

    # The coordinator imports its cases: one bad line, nothing imported.
    coordinator = await signed_in_page("coordinator")
    await coordinator.goto(programme_url)
    bad = tmp_path / "cases.csv"
    bad.write_text(CASES)
    await coordinator.set_input_files("#cases-file", str(bad))
    await follow(coordinator, coordinator.get_by_role("button", name="Import the cases"))
    assert "Nothing was imported" in await coordinator.locator(".govuk-error-summary").inner_text()
    assert "Line 4: demo-polis is not an organisation" in await coordinator.locator("main").inner_text()
    assert "0 audits" in await coordinator.locator("main").inner_text()
    await looked_at(coordinator, "import-problems")
    fixed = tmp_path / "cases-fixed.csv"
    fixed.write_text(CASES.replace("demo-polis", "demo-police"))
    await coordinator.set_input_files("#cases-file", str(fixed))
    await follow(coordinator, coordinator.get_by_role("button", name="Import the cases"))
    assert "5 cases imported" in await coordinator.locator(".govuk-notification-banner").inner_text()
    assert "N-105" in await coordinator.locator("main").inner_text()
    await looked_at(coordinator, "programme-progress")

    # Police contribute (their action table holds two actions) and see them.
    audit = await an_open_early_help_audit(live_server.people, participants=["police"])
    await submitted_with_actions(live_server.people, "police", audit)
    police = await signed_in_page("police")
    await follow(police, police.get_by_role("link", name="Your actions", exact=True).first)
    await looked_at(police, "your-actions")
    await follow(police, police.get_by_role("link", name="Share the missing-episode log with the early help worker"))
    for status, words in (("In progress", "Log requested from the MASH"), ("Completed", "Log shared with the worker")):
        await police.get_by_label(status, exact=True).check()
        await police.fill("#date-reviewed-day", str(TODAY.day))
        await police.fill("#date-reviewed-month", str(TODAY.month))
        await police.fill("#date-reviewed-year", str(TODAY.year))
        await police.fill("#comments", words)
        if status == "Completed":
            await police.fill("#evidence", "MASH log entry 12")
        await follow(police, police.get_by_role("button", name="Record progress"))
        assert "Progress recorded" in await police.locator(".govuk-notification-banner").inner_text()
    history = await police.locator("main").inner_text()
    assert "Log requested from the MASH" in history and "Log shared with the worker" in history
    await looked_at(police, "action-history")

    # The learning report, as a tagged PDF.
    reviewer = await signed_in_page("reviewer")
    await reviewer.goto(live_server.url(f"/audits/{audit['id']}/learning"))
    await looked_at(reviewer, "learning")
    response = await reviewer.request.get(
        live_server.url(f"/api/reports/learning.pdf?programme={programme_url.rsplit('/', 1)[1]}")
    )
    assert response.status == 200
    path = tmp_path / "learning.pdf"
    path.write_bytes(await response.body())
    info = (await anyio.run_process(["pdfinfo", str(path)])).stdout.decode()
    assert "Tagged:          yes" in info
