"""An agency auditor's journey in a real Chromium against ``maca serve``,
with JavaScript on and off: sign in with the persona picker, find the audit,
see what is left before submitting, follow it to the field, correct a bad
date, submit. axe-core checks every page; screenshots are kept."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.server.audit_fixtures import an_open_audit, complete_answers, read_audit, save_draft
from tests.web.conftest import LiveServer, SignInAs, check_accessibility, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


async def looked_at(page: Page, name: str) -> None:
    """Every page of the journey: no axe-core violation, and a screenshot."""
    await check_accessibility(page)
    await screenshot(page, name)


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
async def test_an_auditor_completes_and_submits_their_part(
    signed_in_page: SignInAs, live_server: LiveServer, javascript: bool
) -> None:
    people = live_server.people
    audit = await an_open_audit(people, participants=["health", "police"], referrer="police")
    # Most of the work is already saved as a draft; the referral section's
    # judgement is still to do.
    content = complete_answers(await read_audit(people, "health", audit))
    del content["judgements"]["referral"]
    saved = await save_draft(people, "health", audit, content)
    assert saved.status_code == 200, saved.text
    suffix = "" if javascript else "-no-js"

    page = await signed_in_page("health", javascript=javascript)
    assert page.url.endswith("/your-audits"), page.url
    await expect(page.get_by_role("heading", name="Your audits")).to_be_visible()
    await expect(page.get_by_text("Signed in as")).to_contain_text("Demo")
    await looked_at(page, f"auditor-01-your-audits{suffix}")

    await page.get_by_role("link", name="Multi-agency audit tool – Child Protection").click()
    await expect(page.locator(".govuk-task-list").first).to_be_visible()
    await expect(page.get_by_text("In progress")).to_be_visible()
    await looked_at(page, f"auditor-02-task-list{suffix}")

    # Submitting is offered once every section is complete (GOV.UK task
    # list): until then the page names what is left, by section.
    await expect(page.get_by_role("button", name="Check your answers and submit")).to_have_count(0)
    await page.get_by_role("link", name="View your answers so far").click()
    await expect(page.get_by_role("heading", name="Your answers so far")).to_be_visible()
    left = page.locator("#main-content")
    await expect(left.get_by_role("heading", name="3. Referral", level=3)).to_be_visible()
    await looked_at(page, f"auditor-03-what-is-left{suffix}")

    await left.get_by_role("link", name="Select a grade").click()
    await expect(page.get_by_role("heading", name="3. Referral", exact=True)).to_be_visible()
    await expect(page.locator("#judgement-grade-error")).to_contain_text("Select a grade")
    await looked_at(page, f"auditor-04-section{suffix}")

    # A date that does not exist is refused, and what was typed stays.
    evidence = page.locator("#q-referral-why-when-by-whom-evidence")
    await evidence.fill("Referral form, 30/02/2025")
    await page.locator('input[name="judgement-grade"][value="2"]').check()
    await page.locator("#judgement-impact").fill("The referral was made promptly")
    await page.get_by_role("button", name="Save and continue").click()
    await expect(page.locator(".govuk-error-summary")).to_contain_text("30/02/2025 is not a real date")
    await expect(page.locator("#judgement-impact")).to_have_value("The referral was made promptly")
    await looked_at(page, f"auditor-05-section-error{suffix}")

    await page.locator(".govuk-error-summary a").first.click()
    await page.locator("#q-referral-why-when-by-whom-evidence").fill("Referral form, 28/02/2025")
    await page.get_by_role("button", name="Save and continue").click()
    await expect(page.locator(".govuk-error-summary")).to_have_count(0)
    # Saved, and back to check your answers, where the person came from.
    await expect(page.get_by_role("heading", name="Check your answers before submitting")).to_be_visible()
    await expect(page.get_by_text("Referral form, 28 February 2025")).to_be_visible()
    await looked_at(page, f"auditor-06-check-answers{suffix}")
    await page.get_by_role("button", name="Submit your contribution").click()
    await expect(page.locator(".govuk-panel--confirmation")).to_contain_text("Contribution submitted")
    await looked_at(page, f"auditor-07-submitted{suffix}")

    await page.get_by_role("link", name="Back to your audits").click()
    await expect(page.locator("table")).to_contain_text("Submitted")
