"""Signing in through a browser's eyes: the authorization code flow with
PKCE against the development provider, over real HTTP to a ``maca serve``
process, following every redirect by hand; then the session, its CSRF
protection, and signing out."""

from __future__ import annotations

import asyncio
import html
import re
import sys
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.auth.web import DEFAULT_RETURN, local_path
from server.settings import load_settings
from tests.deploy.processes import maca_environment, maca_server
from tests.identity import bearer, token_for

pytestmark = pytest.mark.slow

BROWSER = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture
def maca(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A ``maca serve`` process (its base URL and data folder)."""
    data_dir = tmp_path / "data"
    with maca_server(maca_environment(database_url, data_dir), tmp_path / "maca.log") as base_url:
        yield base_url, data_dir


def hidden_fields(page: str) -> dict[str, str]:
    return {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    }


def set_cookie(response: httpx.Response, name: str) -> dict[str, Any]:
    for header in response.headers.get_list("set-cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        if name in cookie:
            morsel = cookie[name]
            flags = header.lower()
            return {
                "value": morsel.value,
                "path": morsel["path"],
                "httponly": "httponly" in flags,
                "secure": "secure" in flags,
                "samesite": morsel["samesite"].lower(),
            }
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers.get_list('set-cookie')}")


async def sign_in_by_hand(browser: httpx.AsyncClient, base_url: str, persona: str) -> httpx.Response:
    """Every step of the code flow a browser takes; the last response."""
    # A page that needs signing in sends the browser to /sign-in.
    start = await browser.get(f"{base_url}/account", headers=BROWSER)
    assert start.status_code == 303 and start.headers["location"] == "/sign-in?next=%2Faccount"

    to_provider = await browser.get(f"{base_url}{start.headers['location']}")
    assert to_provider.status_code == 303, to_provider.text
    sign_in_cookie = set_cookie(to_provider, "maca_sign_in")
    assert (sign_in_cookie["httponly"], sign_in_cookie["samesite"], sign_in_cookie["path"]) == (
        True,
        "lax",
        "/auth/callback",
    )
    authorize = urlsplit(to_provider.headers["location"])
    query = {k: v[0] for k, v in parse_qs(authorize.query).items()}
    assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == f"{base_url}/dev-idp/authorize"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["response_type"] == "code" and query["client_id"] == "maca-web"
    assert query["state"] and query["nonce"] and "openid" in query["scope"].split()

    page = await browser.get(to_provider.headers["location"])
    assert page.status_code == 200 and "<main" in page.text
    for label in (
        "Coordinator — children&#39;s social care",
        "Health auditor",
        "Police auditor",
        "Education auditor",
        "Social care auditor",
        "Partnership reviewer",
    ):
        assert label in page.text
    fields = hidden_fields(page.text)
    assert fields["state"] == query["state"] and fields["code_challenge"] == query["code_challenge"]

    back = await browser.post(f"{base_url}/dev-idp/authorize", data={**fields, "persona": persona})
    assert back.status_code == 303, back.text
    callback = urlsplit(back.headers["location"])
    assert f"{callback.scheme}://{callback.netloc}{callback.path}" == f"{base_url}/auth/callback"
    assert parse_qs(callback.query)["state"] == [query["state"]]

    signed_in = await browser.get(back.headers["location"])
    return signed_in


async def test_the_code_flow_with_pkce_signs_a_person_in_and_out(
    maca: tuple[str, Path], db: asyncpg.Connection[Any]
) -> None:
    base_url, _ = maca
    async with httpx.AsyncClient(follow_redirects=False, timeout=20) as browser:
        signed_in = await sign_in_by_hand(browser, base_url, "coordinator")
        assert signed_in.status_code == 303, signed_in.text
        assert signed_in.headers["location"] == "/account"
        session_cookie = set_cookie(signed_in, "maca_session")
        assert (session_cookie["httponly"], session_cookie["samesite"], session_cookie["path"]) == (True, "lax", "/")
        assert session_cookie["secure"] is False  # MACA_ENV=test over http://; production sets Secure

        # The session is stored server-side, keyed by the cookie's hash: the
        # table does not hold the cookie (nor any token).
        session = await db.fetchrow("SELECT * FROM sessions")
        assert session is not None
        assert session_cookie["value"] not in str(dict(session))
        assert await db.fetchval("SELECT count(*) FROM sign_in_requests") == 0  # single use, gone

        account = await browser.get(f"{base_url}/account", headers=BROWSER)
        assert account.status_code == 200 and "Casey Coordinator" in account.text
        me = await browser.get(f"{base_url}/api/me")
        assert me.status_code == 200, me.text
        assert (me.json()["organisation_code"], me.json()["roles"], me.json()["authenticated_by"]) == (
            "demo-csc",
            ["coordinator"],
            "session",
        )

        # A form post without the session's CSRF token is refused…
        forged = await browser.post(f"{base_url}/sign-out", data={})
        assert forged.status_code == 403, forged.text
        wrong = await browser.post(f"{base_url}/sign-out", data={"csrf_token": "guessed"})
        assert wrong.status_code == 403
        assert await db.fetchval("SELECT count(*) FROM sessions") == 1

        # …and with it, signing out ends the session.
        csrf_token = hidden_fields(account.text)["csrf_token"]
        assert csrf_token == session["csrf_token"]
        signed_out = await browser.post(f"{base_url}/sign-out", data={"csrf_token": csrf_token})
        assert (signed_out.status_code, signed_out.headers["location"]) == (303, "/signed-out")
        assert await db.fetchval("SELECT count(*) FROM sessions") == 0

        # The old cookie, replayed, opens nothing.
    async with httpx.AsyncClient(follow_redirects=False, timeout=20) as attacker:
        replayed = await attacker.get(
            f"{base_url}/api/me", headers={"Cookie": f"maca_session={session_cookie['value']}"}
        )
        assert replayed.status_code == 401


async def test_the_csrf_token_may_come_in_a_header_for_scripts(
    maca: tuple[str, Path], db: asyncpg.Connection[Any]
) -> None:
    base_url, _ = maca
    async with httpx.AsyncClient(follow_redirects=False, timeout=20) as browser:
        signed_in = await sign_in_by_hand(browser, base_url, "health")
        assert signed_in.status_code == 303
        token = await db.fetchval("SELECT csrf_token FROM sessions")
        ended = await browser.post(f"{base_url}/sign-out", headers={"X-CSRF-Token": token})
        assert ended.status_code == 303
        assert await db.fetchval("SELECT count(*) FROM sessions") == 0


async def test_a_code_cannot_be_redeemed_without_the_verifier(maca: tuple[str, Path]) -> None:
    base_url, _ = maca
    async with httpx.AsyncClient(follow_redirects=False, timeout=20) as browser:
        to_provider = await browser.get(f"{base_url}/sign-in")
        page = await browser.get(to_provider.headers["location"])
        back = await browser.post(
            f"{base_url}/dev-idp/authorize", data={**hidden_fields(page.text), "persona": "police"}
        )
        code = parse_qs(urlsplit(back.headers["location"]).query)["code"][0]
        # An attacker holding the code but not the verifier.
        stolen = await browser.post(
            f"{base_url}/dev-idp/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": "maca-web",
                "redirect_uri": f"{base_url}/auth/callback",
                "code_verifier": "a" * 64,
            },
        )
        assert stolen.status_code == 400
        assert stolen.json() == {
            "error": "invalid_grant",
            "error_description": "the code_verifier does not match the code_challenge",
        }


async def test_maca_token_prints_a_token_the_running_server_accepts(maca: tuple[str, Path]) -> None:
    base_url, data_dir = maca
    port = urlsplit(base_url).port
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.cli",
        "token",
        "--persona",
        "police",
        env={"PATH": "/usr/bin:/bin", "MACA_DATA_DIR": str(data_dir), "MACA_PORT": str(port)},
        stdout=asyncio.subprocess.PIPE,
    )
    stdout, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0
    token = stdout.decode().strip()
    async with httpx.AsyncClient(timeout=20) as client:
        me = await client.get(f"{base_url}/api/me", headers=bearer(token))
    assert me.status_code == 200, me.text
    assert me.json()["organisation_code"] == "demo-police"


async def test_tokens_minted_from_the_same_settings_are_accepted(maca: tuple[str, Path]) -> None:
    base_url, data_dir = maca
    settings = load_settings({}, env="test", data_dir=str(data_dir), port=urlsplit(base_url).port or 0)
    async with httpx.AsyncClient(timeout=20) as client:
        me = await client.get(f"{base_url}/api/me", headers=bearer(await token_for(settings, "reviewer")))
    assert me.json()["roles"] == ["reviewer"]


# --- in process: what goes wrong ------------------------------------------------------


async def test_a_callback_without_the_sign_in_cookie_is_refused(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/auth/callback?code=x&state=y")
    assert response.status_code == 400
    assert "started in another browser" in response.text
    assert "<main" in response.text


async def test_a_callback_with_another_state_is_refused(app: Litestar, client: AsyncTestClient[Litestar]) -> None:
    await token_for(app, "health")  # the in-process app learns its own issuer's metadata
    try:
        started = await client.get("/sign-in", follow_redirects=False)
        assert started.status_code == 303
        cookie = {"Cookie": f"maca_sign_in={set_cookie(started, 'maca_sign_in')['value']}"}
        client.cookies.clear()
        response = await client.get("/auth/callback?code=x&state=forged", headers=cookie)
        assert response.status_code == 400
        assert "does not match" in response.text
        # The sign-in under way was used up by that attempt.
        again = await client.get("/auth/callback?code=x&state=forged", headers=cookie)
        assert "expired or was already used" in again.text
    finally:
        client.cookies.clear()  # the test client is shared by the whole run


async def test_a_page_asks_a_browser_to_sign_in_and_an_api_call_gets_401(client: AsyncTestClient[Litestar]) -> None:
    page = await client.get("/account?tab=roles", headers=BROWSER, follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/sign-in?next=%2Faccount%3Ftab%3Droles")
    api = await client.get("/api/me", headers=BROWSER)
    assert api.status_code == 401


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("/api/audits?status=open", "/api/audits?status=open"),
        (None, DEFAULT_RETURN),
        ("https://evil.example", DEFAULT_RETURN),
        ("//evil.example/x", DEFAULT_RETURN),
        ("/\\evil.example", DEFAULT_RETURN),
        ("javascript:alert(1)", DEFAULT_RETURN),
        ("/ok\r\nSet-Cookie: x=y", DEFAULT_RETURN),
    ],
)
def test_after_signing_in_only_a_local_page_is_returned_to(candidate: str | None, expected: str) -> None:
    assert local_path(candidate) == expected


async def test_an_unsafe_request_from_a_bearer_token_needs_no_csrf_token(
    app: Litestar, client: AsyncTestClient[Litestar]
) -> None:
    response = await client.post("/sign-out", headers=bearer(await token_for(app, "health")), follow_redirects=False)
    assert response.status_code == 303
