"""The administrator's pages in a real browser: the day-one journey through
them (register an organisation, correct one recorded wrongly, set the
partnership's schedules, upload and preview a toolkit version), each page
checked by axe-core and fitting the window on a desktop (1280 px) and a
phone (375 px)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Locator, Page

from tests.server.admin.test_toolkits_and_settings import neglect_focus
from tests.web.conftest import LiveServer, check_accessibility, screenshot

pytestmark = pytest.mark.browser

WIDTHS = ((1280, 900), (375, 800))


async def sign_in_as_the_administrator(browser: Browser, live_server: LiveServer) -> Page:
    """Through the development provider's persona picker, where the
    administrator is among the "other personas" (JavaScript on)."""
    context = await browser.new_context(bypass_csp=True)
    page = await context.new_page()
    await page.goto(live_server.url("/"))
    await page.locator("details summary").click()
    await page.check("#persona-admin")
    await follow(page, page.get_by_role("button", name="Sign in"))
    await page.wait_for_url("**/admin")
    assert page.url.endswith("/admin"), page.url
    return page


async def follow(page: Page, locator: Locator) -> None:
    """Click what leads to another page, and wait until it has loaded (a
    busy machine is slower than the next line of the test)."""
    async with page.expect_navigation():
        await locator.click()


async def looked_at(page: Page, name: str) -> None:
    """axe-core finds nothing, and the page is no wider than the window, at
    both widths; a screenshot of each for people to look at."""
    for width, height in WIDTHS:
        await page.set_viewport_size({"width": width, "height": height})
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{page.url} is {overflow}px wider than a {width}px window"
        await check_accessibility(page)
        await screenshot(page, f"admin-{name}-{width}")
    await page.set_viewport_size({"width": WIDTHS[0][0], "height": WIDTHS[0][1]})


async def test_the_administrators_day_one_in_a_browser(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    page = await sign_in_as_the_administrator(browser, live_server)
    await looked_at(page, "home")

    # Register an organisation, with a mistake first (the error summary).
    await follow(page, page.get_by_role("link", name="Organisations", exact=True).first)
    await looked_at(page, "organisations")
    await follow(page, page.get_by_role("button", name="Register an organisation"))
    await page.fill("#code", "RX1")
    await page.fill("#name", "Riverside Hospital")
    await page.fill("#lead-email", "not an address")
    await follow(page, page.get_by_role("button", name="Register the organisation"))
    assert await page.locator(".govuk-error-summary").is_visible()
    await looked_at(page, "register-errors")
    await page.select_option("#agency-kind", "health")
    await page.fill("#lead-name", "Sam Lead")
    await page.fill("#lead-email", "sam.lead@riverside.nhs.uk")
    await page.fill("#audit-contacts", "audits@riverside.nhs.uk")
    await follow(page, page.get_by_role("button", name="Register the organisation"))
    assert "Riverside Hospital is registered" in await page.locator(".govuk-notification-banner").inner_text()
    await looked_at(page, "organisation")

    # Correct it: a reason is needed.
    await follow(page, page.get_by_role("link", name="Correct its agency kind or partnership"))
    await page.select_option("#agency-kind", "police")
    await follow(page, page.get_by_role("button", name="Correct the record"))
    assert "A reason is required" in await page.locator(".govuk-error-summary").inner_text()
    await looked_at(page, "correct-errors")
    await page.fill("#reason", "It is the police force's safeguarding hub")
    await follow(page, page.get_by_role("button", name="Correct the record"))
    assert "is corrected" in await page.locator(".govuk-notification-banner").inner_text()
    assert "health → police" in await page.locator("table").last.inner_text()

    await page.goto(live_server.url("/admin/clients"))
    await looked_at(page, "clients")

    await page.goto(live_server.url("/admin/partnership"))
    await page.fill("#default-due-days", "28")
    await follow(page, page.get_by_role("button", name="Save the settings"))
    assert "settings are saved" in await page.locator(".govuk-notification-banner").inner_text()
    await looked_at(page, "partnership")

    # A toolkit version of the partnership's own.
    await page.goto(live_server.url("/admin/toolkits"))
    await looked_at(page, "toolkits")
    broken = tmp_path / "v2-neglect.yaml"
    broken.write_text(neglect_focus(("applies_to: health-and-education", "applies_to: health-only")))
    await page.set_input_files("#definition", str(broken))
    await follow(page, page.get_by_role("button", name="Upload and check"))
    assert "has 1 problem; nothing was kept" in await page.locator(".govuk-error-summary").inner_text()
    assert "unknown selector 'health-only'" in await page.locator("#problems").inner_text()
    await looked_at(page, "upload-problems")
    fixed = tmp_path / "v2-neglect-fixed.yaml"
    fixed.write_text(neglect_focus())
    await page.set_input_files("#definition", str(fixed))
    await follow(page, page.get_by_role("button", name="Upload and check"))
    await page.select_option("#agency", "health")
    await follow(page, page.get_by_role("button", name="Show"))
    assert "impact of neglect" in await page.locator("main").inner_text()
    await looked_at(page, "preview")
    await follow(page, page.get_by_role("button", name="Activate version 3"))
    assert "take version 3" in await page.locator(".govuk-notification-banner").inner_text()
    await looked_at(page, "toolkit")

    await page.goto(live_server.url("/admin/trail"))
    assert "Toolkit version activated" in await page.locator("table").inner_text()
    await looked_at(page, "trail")
    await page.context.close()
