"""The themes dashboard in a real browser: accessible (axe-core), and its
wide tables scroll inside their own regions instead of running past the
page's edge, on a desktop and on a phone."""

from __future__ import annotations

from tests.reports.test_themes_api import the_partnership
from tests.web.conftest import LiveServer, SignInAs, check_accessibility, screenshot


async def test_the_dashboard_fits_the_page_and_passes_axe(signed_in_page: SignInAs, live_server: LiveServer) -> None:
    await the_partnership(live_server.people)
    page = await signed_in_page("reviewer")
    for width, height in ((1280, 900), (375, 800)):
        await page.set_viewport_size({"width": width, "height": height})
        await page.goto(live_server.url("/reports/themes"))
        await page.wait_for_load_state()
        # The tables with a column per grade: the trend, the one toolkit's
        # sections, the agencies' own grades.
        assert await page.locator(".maca-table-scroll table").count() == 3
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than a {width}px window"
        await check_accessibility(page)
        await screenshot(page, f"themes-dashboard-{width}")
