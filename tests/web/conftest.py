"""Fixtures for testing the web pages, in-process and in a real browser.

In-process (fast, HTML assertions), with the ``app`` and ``client`` of
``tests/conftest.py``::

    async def test_something(pages: Pages) -> None:
        health = await pages.signed_in("health")        # a real session cookie
        page = await health.get("/your-audits")          # Accept: text/html
        assert page.status_code == 200 and "Your audits" in page.text
        done = await health.post("/your-audits/…/sections/…", {"field": "value"})
        # csrf_token is added for you (pass csrf=False to leave it out);
        # redirects are not followed: look at done.headers["location"].
        pages.people.organisation_id("health")           # Maca's ids, as in tests/identity.py

``pages.people`` is a ``tests.identity.SignedInPeople``: use it with the
helpers of ``tests/server/audit_fixtures.py`` to arrange audits over the API
(``await an_open_audit(pages.people, participants=["health", "police"])``).

In a real browser (``@pytest.mark.browser``): ``live_server`` is a
``maca serve`` process on a free port using the test database (one per test
session); ``browser`` is one headless Debian Chromium per session;
``signed_in_page`` signs a persona in through the development identity
provider's persona picker and returns a Playwright ``Page``::

    @pytest.mark.browser
    async def test_journey(signed_in_page: SignInAs, live_server: LiveServer) -> None:
        page = await signed_in_page("coordinator")                 # JavaScript on
        page = await signed_in_page("health", javascript=False)    # or off
        await page.goto(live_server.url("/audits"))
        await check_accessibility(page)   # axe-core: fails on any violation
        await screenshot(page, "audits")  # .maca/screenshots/audits.png

Arrange data for a browser test over the live server's API with
``live_server.people`` (bearer tokens for the personas, an httpx client):
``await an_open_audit(live_server.people, participants=["health"])``.
Tables are emptied after each test, sessions included, so every test signs
in afresh.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from server.db import sessions
from server.settings import load_settings
from tests.deploy.processes import maca_environment, maca_server
from tests.identity import ALL_PERSONAS, SignedInPeople, bearer, signed_in_people, token_for
from tests.web.browser import check_accessibility, screenshot

__all__ = ["LiveServer", "PageSession", "Pages", "SignInAs", "check_accessibility", "screenshot"]

HTML = {"Accept": "text/html,application/xhtml+xml"}
CHROMIUM = "/usr/bin/chromium"


# --- in-process -----------------------------------------------------------------


@dataclass
class PageSession:
    """One persona's browser session against the in-process app: its own
    cookies (the shared test client's jar is left empty)."""

    client: AsyncTestClient[Litestar]
    cookies: dict[str, str]
    csrf_token: str

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        return {**HTML, "Cookie": cookie, **(extra or {})}

    def _keep_cookies(self, response: httpx.Response) -> None:
        for header in response.headers.get_list("set-cookie"):
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value or morsel.value == '""':
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        self.client.cookies.clear()

    async def get(self, url: str) -> httpx.Response:
        response = await self.client.get(url, headers=self._headers(), follow_redirects=False)
        self._keep_cookies(response)
        return response

    async def post(
        self, url: str, data: dict[str, Any] | list[tuple[str, str]], *, csrf: bool = True
    ) -> httpx.Response:
        fields = list(data.items()) if isinstance(data, dict) else list(data)
        if csrf:
            fields.append(("csrf_token", self.csrf_token))
        # Lists become repeated fields, as a browser sends checkboxes.
        flat = [(k, v) for k, value in fields for v in (value if isinstance(value, list) else [value])]
        response = await self.client.post(
            url,
            content=httpx.QueryParams(flat).__str__().encode(),
            headers=self._headers({"Content-Type": "application/x-www-form-urlencoded"}),
            follow_redirects=False,
        )
        self._keep_cookies(response)
        return response

    async def follow(self, response: httpx.Response) -> httpx.Response:
        """GET where a redirect points."""
        assert response.status_code in (302, 303), f"{response.status_code}: {response.text[:500]}"
        return await self.get(response.headers["location"])


@dataclass
class Pages:
    app: Litestar
    client: AsyncTestClient[Litestar]
    database_url: str
    people: SignedInPeople

    async def signed_in(self, persona: str) -> PageSession:
        """A browser session for ``persona``, as signing in makes one."""
        connection = await asyncpg.connect(self.database_url)
        try:
            key, csrf = await sessions.create(connection, self.people.user_id(persona), 1)
        finally:
            await connection.close()
        return PageSession(client=self.client, cookies={"maca_session": key}, csrf_token=csrf)


@pytest.fixture
async def pages(app: Litestar, client: AsyncTestClient[Litestar], database_url: str) -> Pages:
    people = await signed_in_people(app, client, ALL_PERSONAS)
    return Pages(app=app, client=client, database_url=database_url, people=people)


# --- a real server and browser --------------------------------------------------------


@dataclass
class LiveServer:
    base_url: str
    settings_data_dir: Path
    people: Any = field(default=None)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


class _LivePeople:
    """``tests.identity.SignedInPeople`` for a ``maca serve`` process."""

    def __init__(self, client: httpx.AsyncClient, tokens: dict[str, str], me: dict[str, dict[str, Any]]) -> None:
        self.client = client
        self.tokens = tokens
        self.me = me

    def headers(self, persona: str) -> dict[str, str]:
        return bearer(self.tokens[persona])

    def organisation_id(self, persona: str) -> Any:
        from uuid import UUID

        return UUID(self.me[persona]["organisation_id"])


@pytest.fixture(scope="session")
def _live_process(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("live-maca")
    data_dir = folder / "data"
    with maca_server(maca_environment(database_url, data_dir), folder / "maca.log") as base_url:
        yield base_url, data_dir


@pytest.fixture
async def live_server(_live_process: tuple[str, Path]) -> AsyncIterator[LiveServer]:
    """The running ``maca serve``, with the personas recorded (their
    organisations exist) and ``people`` to arrange data over its API."""
    base_url, data_dir = _live_process
    # The development issuer is named after the server's own address.
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


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One headless Chromium for the whole run (Debian's; no downloads)."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield chromium
        finally:
            await chromium.close()


SignInAs = Callable[..., Awaitable[Page]]


@pytest.fixture
async def signed_in_page(browser: Browser, live_server: LiveServer) -> AsyncIterator[SignInAs]:
    """``await signed_in_page("health", javascript=False)``: a new browser
    context signed in as the persona through the persona picker."""
    contexts: list[BrowserContext] = []

    async def sign_in(persona: str, *, javascript: bool = True) -> Page:
        # bypass_csp: axe-core is injected as an inline script, which Maca's
        # Content-Security-Policy rightly refuses.
        context = await browser.new_context(java_script_enabled=javascript, bypass_csp=True)
        contexts.append(context)
        page = await context.new_page()
        await page.goto(live_server.url("/"))
        # Signed out: "/" sends the browser to sign in, and on to the picker.
        assert "/dev-idp/authorize" in page.url, page.url
        await page.check(f"#persona-{persona}")
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_load_state()
        assert "/dev-idp/" not in page.url, f"still at {page.url}"
        return page

    yield sign_in
    for context in contexts:
        await context.close()
