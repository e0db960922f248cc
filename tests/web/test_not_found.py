"""An address Maca has no page for: a person's browser gets a "Page not
found" page (404) in the service's frame; the API and scripts keep the
problem document they can read. The same for a method an address does not
take (405)."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.web.conftest import HTML, LiveServer, SignInAs, check_accessibility, screenshot

PROBLEM_JSON = "application/problem+json"


async def test_a_browser_gets_a_page_not_found_page(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/no-such-page", headers=HTML)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert '<h1 class="govuk-heading-l">Page not found</h1>' in response.text
    assert "<title>Page not found – Maca</title>" in response.text
    assert "If you typed the web address, check it is correct." in response.text
    # The security headers every response carries.
    assert "default-src 'self'" in response.headers["content-security-policy"]


async def test_a_page_address_a_browser_cannot_use_that_way_is_a_405_page(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/sign-out", headers=HTML)  # a form's address: POST only
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("text/html")
    assert "POST" in response.headers["allow"]
    assert "That address cannot be used this way." in response.text


@pytest.mark.parametrize(
    ("method", "path", "accept"),
    [
        ("GET", "/api/no-such-thing", "text/html"),  # the API, whoever asks
        ("GET", "/no-such-page", "application/json"),  # a script
        ("GET", "/no-such-page", "*/*"),
    ],
)
async def test_the_api_and_scripts_keep_the_problem_document(
    client: AsyncTestClient[Litestar], method: str, path: str, accept: str
) -> None:
    response = await client.request(method, path, headers={"Accept": accept})
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["title"] == "Not found"


async def test_a_method_the_api_does_not_take_stays_a_problem_document(client: AsyncTestClient[Litestar]) -> None:
    response = await client.delete("/api/toolkits", headers=HTML)
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["title"] == "Method not allowed"


@pytest.mark.browser
@pytest.mark.slow
async def test_the_page_not_found_page_in_a_browser_passes_axe(
    signed_in_page: SignInAs, live_server: LiveServer
) -> None:
    page = await signed_in_page("coordinator")
    response = await page.goto(live_server.url("/no-such-page"))
    assert response is not None and response.status == 404
    assert await page.get_by_role("heading", level=1).inner_text() == "Page not found"
    await check_accessibility(page)
    await screenshot(page, "page-not-found")
