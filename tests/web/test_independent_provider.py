"""Maca with an independent OpenID Certified provider (panva's
oidc-provider, from package-lock.json) behind TLS, configured only through
documented environment variables (README, "Signing in"), with no code
change: a partnership's administrator signs in with the authorization
code flow and PKCE in Chromium and registers the organisations; agencies'
systems then call the API with client-credentials tokens that name only
their organisation and a scope. And when Maca has not been given the
provider's certificate authority, or names it by a name its certificate
does not hold, the failure is reported as the TLS failure it is."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from playwright.async_api import Browser, Page

from tests.deploy.processes import free_port, output
from tests.identity import bearer
from tests.server.audit_fixtures import CASE_DETAILS, draft_and_submit, request
from tests.server.auth.independent import (
    Authority,
    an_authority,
    client_credentials,
    independent_provider,
    maca_configured_for,
    maca_running,
)
from tests.web.conftest import check_accessibility

pytestmark = [pytest.mark.slow, pytest.mark.browser]


class Systems:
    """The agencies' systems, with their tokens (``tests.server.audit_fixtures.People``)."""

    def __init__(self, client: httpx.AsyncClient, tokens: dict[str, str], me: dict[str, dict[str, Any]]) -> None:
        self.client = client
        self.tokens = tokens
        self.me = me

    def headers(self, persona: str) -> dict[str, str]:
        return bearer(self.tokens[persona])

    def organisation_id(self, persona: str) -> UUID:
        return UUID(self.me[persona]["organisation_id"])


@pytest.fixture
def authority(tmp_path: Path) -> Authority:
    return an_authority(tmp_path / "tls")


@pytest.fixture
def maca_port() -> int:
    return free_port()


@pytest.fixture
def issuer(tmp_path: Path, authority: Authority, maca_port: int) -> Iterator[str]:
    with independent_provider(tmp_path, authority, maca_port) as url:
        yield url


async def sign_in_through_the_provider(browser: Browser, maca: str, login: str) -> Page:
    """Authorization code + PKCE, as a person does it: Maca sends the
    browser to the provider, the person signs in and consents, the provider
    sends them back. (The browser trusts the test authority's certificate
    by being told to; Maca trusts it by SSL_CERT_FILE.)"""
    context = await browser.new_context(ignore_https_errors=True, bypass_csp=True)
    page = await context.new_page()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    await page.goto(f"{maca}/admin")
    [authorization] = [url for url in asked if "/auth?" in url]
    assert "code_challenge_method=S256" in authorization and "code_challenge=" in authorization, authorization
    assert "/interaction/" in page.url, page.url
    await page.fill("input[name=login]", login)
    await page.fill("input[name=password]", "any password will do")
    async with page.expect_navigation():
        await page.click("button[type=submit]")
    async with page.expect_navigation():
        await page.click("button[type=submit]")  # the consent: Continue
    await page.wait_for_url(f"{maca}/**")
    return page


async def register_in_the_browser(page: Page, maca: str, code: str, name: str, kind: str) -> None:
    await page.goto(f"{maca}/admin/organisations/new")
    await page.fill("#code", code)
    await page.fill("#name", name)
    await page.select_option("#agency-kind", kind)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Register the organisation").click()
    assert f"{name} is registered" in await page.locator(".govuk-notification-banner").inner_text()


async def test_agencies_systems_contribute_with_tokens_naming_only_their_organisation(
    browser: Browser, tmp_path: Path, database_url: str, authority: Authority, issuer: str, maca_port: int
) -> None:
    """Done when: "A client-credentials token that names only its
    organisation (registered by the administrator) and a scope works end to
    end — the organisation's machine client saves and submits its
    contribution — with no code change"."""
    env = maca_configured_for(issuer, database_url, tmp_path / "data", SSL_CERT_FILE=str(authority.ca))
    with maca_running(env, tmp_path / "maca.log", maca_port) as maca:
        async with httpx.AsyncClient(base_url=maca, timeout=30) as http:
            assert (await http.get("/readyz")).status_code == 200, output(tmp_path / "maca.log")
            police = await client_credentials(issuer, authority, "police-records")
            csc = await client_credentials(issuer, authority, "csc-case-system")

            # Before the administrator registers it, Maca cannot know the
            # police force's agency kind, and says which claim would say.
            unknown = await http.get("/api/me", headers=bearer(police))
            assert unknown.status_code == 401
            assert unknown.json()["detail"] == (
                "the organisation 'POL-01' is new to Maca and the token does not name its agency kind "
                "(claim 'agency'); an administrator can register the organisation first"
            )

            # The administrator signs in (their own organisation is recorded
            # from their token: org, agency, the default partnership) and
            # registers the two agencies.
            page = await sign_in_through_the_provider(browser, maca, "ash.admin")
            assert page.url == f"{maca}/admin", page.url
            assert "Ash Admin" in await page.locator(".maca-account__who").inner_text()
            await check_accessibility(page)
            await register_in_the_browser(page, maca, "POL-01", "Riverside Police", "police")
            await register_in_the_browser(
                page, maca, "CSC-01", "Riverside Children's Services", "childrens-social-care"
            )
            await page.goto(f"{maca}/account")
            account = await page.locator("main").inner_text()
            assert "lscp-riverside" in account and "LSCP-TEAM" in account and "admin" in account
            await page.context.close()

            me = {}
            for name, token in (("police", police), ("csc", csc)):
                answer = await http.get("/api/me", headers=bearer(token))
                assert answer.status_code == 200, answer.text
                me[name] = answer.json()
            assert (
                me["police"]["organisation_code"],
                me["police"]["agency_kind"],
                me["police"]["partnership_code"],
                me["police"]["roles"],
                me["police"]["is_machine_client"],
            ) == ("POL-01", "police", "lscp-riverside", ["auditor"], True)
            assert me["csc"]["roles"] == ["coordinator"]

            systems = Systems(http, {"police": police, "csc": csc}, me)
            created = await request(
                systems,
                "csc",
                "POST",
                "/api/audits",
                json={"toolkit": "multi-agency-cp", "participants": ["POL-01"], "case_details": CASE_DETAILS},
            )
            assert created.status_code == 201, created.text
            audit = created.json()
            opened = await request(
                systems,
                "csc",
                "POST",
                f"/api/audits/{audit['id']}/status",
                json={"status": "open"},
                headers={"If-Match": created.headers["etag"]},
            )
            assert opened.status_code == 200, opened.text

            submitted = await draft_and_submit(systems, "police", audit)

            assert submitted["status"] == "submitted"
            progress = await request(systems, "csc", "GET", f"/api/audits/{audit['id']}/progress")
            assert [p["contribution_status"] for p in progress.json()["participants"]] == ["submitted"]


@pytest.mark.parametrize(
    ("address", "certificate_authority", "said"),
    [
        ("localhost", False, "TLS: the certificate of localhost is not trusted"),
        ("127.0.0.1", True, "TLS: the certificate of 127.0.0.1 is for another name"),
    ],
)
def test_a_tls_failure_is_reported_as_one_in_readyz_and_the_log(
    tmp_path: Path,
    database_url: str,
    authority: Authority,
    issuer: str,
    maca_port: int,
    address: str,
    certificate_authority: bool,
    said: str,
) -> None:
    """Behind TLS with an internal CA, a missing CA showed as "the identity
    provider is not answering" and the log said only ConnectError."""
    extra = {"SSL_CERT_FILE": str(authority.ca)} if certificate_authority else {}
    env = maca_configured_for(issuer.replace("localhost", address), database_url, tmp_path / "data", **extra)
    env["MACA_LOG_LEVEL"] = "info"
    log = tmp_path / "maca.log"
    with maca_running(env, log, maca_port) as maca:
        ready = httpx.get(f"{maca}/readyz", timeout=30)
        assert ready.status_code == 503
        assert said in ready.json()["detail"], ready.text
        if not certificate_authority:
            assert "SSL_CERT_FILE" in ready.json()["detail"]
    assert said in output(log)
