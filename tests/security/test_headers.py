"""Web hardening: the security headers on every kind of response, the API
documentation page's hash-based policy (checked in a real Chromium), and
CSRF on every state-changing route a browser session can reach."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from server.auth.permissions import PUBLIC, access_of, route_handlers
from server.db import sessions
from server.platform.security_headers import baseline_headers, inline_hashes
from server.settings import Settings, load_settings
from tests.deploy.processes import maca_environment, maca_server
from tests.identity import signed_in_people

EXPECTED_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
}


def directives(policy: str) -> dict[str, str]:
    parsed = {}
    for directive in policy.split(";"):
        name, _, sources = directive.strip().partition(" ")
        parsed[name] = sources.strip()
    return parsed


def assert_hardened(headers: Any, *, hsts: bool = True) -> None:
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert "camera=()" in headers["permissions-policy"]
    assert ("strict-transport-security" in headers) is hsts
    if hsts:
        assert headers["strict-transport-security"].startswith("max-age=63072000")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/healthz", 200),
        ("GET", "/api/toolkits", 200),
        ("GET", "/api/audits", 401),  # refused by the guard
        ("GET", "/no/such/page", 404),  # the router's own answer
        ("DELETE", "/api/toolkits", 405),
        ("GET", "/schema/openapi.json", 200),
    ],
)
async def test_every_kind_of_response_carries_the_security_headers(
    client: AsyncTestClient[Litestar], method: str, path: str, status: int
) -> None:
    response = await client.request(method, path)
    assert response.status_code == status
    assert_hardened(response.headers)
    assert directives(response.headers["content-security-policy"]).items() >= EXPECTED_CSP.items()
    assert "unsafe-inline" not in response.headers["content-security-policy"]


async def test_a_page_visit_redirected_to_sign_in_carries_them_too(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/account", headers={"Accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 303
    assert_hardened(response.headers)


def test_no_hsts_in_development_where_maca_runs_on_plain_http(tmp_path: Path) -> None:
    development = load_settings({}, env="development", data_dir=str(tmp_path))
    production_like = load_settings({}, env="test", data_dir=str(tmp_path))
    assert "strict-transport-security" not in baseline_headers(development)
    assert "strict-transport-security" in baseline_headers(production_like)


async def test_the_documentation_page_allows_exactly_its_own_inline_blocks(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/schema")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = directives(response.headers["content-security-policy"])
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    hashes = inline_hashes(response.content)
    assert hashes["script-src"], "the Swagger page has its inline start-up script"
    assert policy["script-src"] == " ".join(["'self'", *hashes["script-src"]])
    assert policy["frame-ancestors"] == "'none'"
    assert_hardened(response.headers)


def test_inline_hashes_ignores_scripts_loaded_from_a_file() -> None:
    page = b"<script src='/a.js'></script><script>run()</script><style>p{}</style>"
    found = inline_hashes(page)
    assert len(found["script-src"]) == 1
    assert len(found["style-src"]) == 1
    assert re.fullmatch(r"'sha256-[A-Za-z0-9+/]+=*'", found["script-src"][0])


@pytest.fixture
def running_maca(database_url: str, tmp_path: Path) -> Iterator[str]:
    with maca_server(maca_environment(database_url, tmp_path / "data"), tmp_path / "maca.log") as base_url:
        yield base_url


@pytest.mark.browser
@pytest.mark.slow
def test_swagger_ui_renders_under_its_policy_in_chromium(running_maca: str) -> None:
    from playwright.sync_api import sync_playwright

    violations: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.on(
                "console",
                lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
            )
            page.goto(f"{running_maca}/schema", timeout=30_000)
            # Swagger UI builds the operation list from the inline document:
            # it only appears if the inline script was allowed to run.
            page.wait_for_selector(".opblock", timeout=30_000)
            assert page.locator(".opblock").count() > 10
        finally:
            browser.close()
    assert violations == []


# --- CSRF: every state-changing route a session cookie can reach ----------------


def unsafe_routes(app: Litestar) -> list[tuple[str, str]]:
    found = []
    for method, route, handler in route_handlers(app.routes):
        if isinstance(route, HTTPRoute) and method not in ("GET", "HEAD", "OPTIONS"):
            access = access_of(handler)
            if access is not None and access is not PUBLIC:
                found.append((method, route.path_format))
    return found


def concrete(path_format: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path_format)


async def test_every_form_post_without_the_csrf_token_is_refused(
    app: Litestar, client: AsyncTestClient[Litestar], settings: Settings, db: asyncpg.Connection[Any]
) -> None:
    people = await signed_in_people(app, client, ["coordinator", "health", "reviewer"])
    routes = unsafe_routes(app)
    assert ("POST", "/sign-out") in routes
    refused = []
    for persona in ("coordinator", "health", "reviewer"):
        key, csrf = await sessions.create(db, people.user_id(persona), settings.session_hours)
        cookies = {"maca_session": key}
        for method, path in routes:
            url = concrete(path)
            without = await client.request(method, url, cookies=cookies, data={"comment": "x"}, follow_redirects=False)
            wrong = await client.request(
                method, url, cookies=cookies, data={"csrf_token": csrf + "x"}, follow_redirects=False
            )
            refused.append((method, path, without.status_code, wrong.status_code))
    assert {(m, p) for m, p, a, b in refused if (a, b) != (403, 403)} == set()
    # The token itself is what lets a form through.
    key, csrf = await sessions.create(db, people.user_id("health"), settings.session_hours)
    signed_out = await client.post(
        "/sign-out", cookies={"maca_session": key}, data={"csrf_token": csrf}, follow_redirects=False
    )
    assert signed_out.status_code == 303
