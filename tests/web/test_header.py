"""The pages' frame names Maca, not GOV.UK: a local safeguarding partnership's
service is not on GOV.UK, so it may not show the GOV.UK logotype, the crown,
Crown copyright or the Open Government Licence."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.web.conftest import LiveServer, Pages, SignInAs, check_accessibility, screenshot

SERVICE_NAME = "Maca — multi-agency case audits"


def assert_no_govuk_identity(html: str) -> None:
    assert "GOV.UK" not in html  # the logotype's text and aria-label
    assert "crown" not in html.lower()  # the crown SVG, its classes, Crown copyright
    assert "govuk-header" not in html and "govuk-logo" not in html
    assert "Open Government Licence" not in html and "nationalarchives.gov.uk" not in html
    # GOV.UK's favicons are the crown too: the only icon is Maca's own mark
    # (issue 23: the favicon was a 404 on every page).
    icons = re.findall(r'<link rel="[^"]*icon[^"]*" href="([^"]+)"', html)
    assert icons in ([], ["/static/maca/favicon.svg"]), icons
    assert "/assets/images/favicon" not in html and "/assets/rebrand" not in html and "govuk-icon" not in html


def assert_service_name_links_home(html: str) -> None:
    link = re.search(r'<a href="([^"]*)" class="govuk-service-navigation__link">\s*([^<]+?)\s*</a>', html)
    assert link is not None, html[:3000]
    assert link.groups() == ("/", SERVICE_NAME)


async def test_a_signed_in_page_names_the_service_and_not_govuk(pages: Pages) -> None:
    health = await pages.signed_in("health")
    page = await health.get("/your-audits")
    assert page.status_code == 200, page.text
    assert_no_govuk_identity(page.text)
    assert_service_name_links_home(page.text)


async def test_the_footer_is_neutral(pages: Pages) -> None:
    coordinator = await pages.signed_in("coordinator")
    page = await coordinator.get("/audits")
    assert page.status_code == 200, page.text
    footer = re.search(r'<footer class="govuk-footer">(.*?)</footer>', page.text, re.DOTALL)
    assert footer is not None
    assert "Crown copyright" not in footer.group(1) and "licence" not in footer.group(1).lower()
    assert SERVICE_NAME in footer.group(1)


async def test_an_error_page_has_the_same_frame(pages: Pages) -> None:
    # A coordinator's page refused to an auditor: rendered by the error
    # handler rather than a page controller.
    health = await pages.signed_in("health")
    refused: httpx.Response = await health.get("/audits/new")
    assert refused.status_code == 403, refused.text
    assert_no_govuk_identity(refused.text)
    assert_service_name_links_home(refused.text)


@pytest.mark.browser
@pytest.mark.slow
async def test_the_frame_in_a_browser_names_maca_and_passes_axe(
    signed_in_page: SignInAs, live_server: LiveServer
) -> None:
    page = await signed_in_page("health")
    await page.goto(live_server.url("/your-audits"))
    home = page.get_by_role("link", name=SERVICE_NAME)
    assert await home.get_attribute("href") == "/"
    assert await page.locator("svg").count() == 0  # no crown, no logotype
    await check_accessibility(page)
    await screenshot(page, "frame-without-govuk-identity")
