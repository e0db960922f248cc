"""Key rotation: a signing key the provider withdraws stops working within a
minute, a key replaced under the same ``kid`` is fetched when a signature
fails, and production refuses a provider reached over plain HTTP.

A red-team pass found a withdrawn signing key honoured for up to about
eleven minutes (a 600 s key cache, then a minute of remembered tokens), and
production accepting an ``http://`` issuer with only a warning: whoever is
on the path could publish their own keys and sign any token.

A real OpenID provider over HTTP (``tests/server/auth/issuers.py``), real
RSA keys; the validator's two clocks (monotonic for its caches, wall for
the tokens' times) move together, by hand.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from joserfc.jwk import RSAKey

from server.auth.tokens import TokenRejected, TokenValidator
from server.settings import SettingsError, load_settings
from tests.deploy.processes import free_port
from tests.server.auth.issuers import Issuer, an_issuer

JWKS = "/jwks"


class Clocks:
    """The validator's monotonic clock and wall clock, moved together."""

    def __init__(self) -> None:
        self.monotonic = 1000.0
        self.wall = time.time()

    def tick(self, seconds: float) -> None:
        self.monotonic += seconds
        self.wall += seconds


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    with an_issuer() as issuer:
        yield issuer


def validator(issuer: Issuer, clocks: Clocks) -> TokenValidator:
    """Maca's validator as configured by default (its caches' lifetimes
    included), for this provider."""
    return TokenValidator(
        issuer=issuer.url, audience="maca", allow_http=True, clock=lambda: clocks.monotonic, now=lambda: clocks.wall
    )


def withdraw(issuer: Issuer, kid: str) -> None:
    issuer.keys = [key for key in issuer.keys if key.kid != kid]


async def test_a_withdrawn_key_stops_working_within_a_minute(issuer: Issuer) -> None:
    clocks = Clocks()
    checking = validator(issuer, clocks)
    token = issuer.sign(issuer.claims(exp=int(clocks.wall) + 3600))
    assert (await checking.validate(token))["sub"] == "user-1"
    clocks.tick(5)
    issuer.rotate("rsa-2")
    withdraw(issuer, "rsa-1")  # the key that signed the token is gone
    withdrawn_at = clocks.wall

    honoured_until = withdrawn_at
    for _ in range(30):  # a client calling every five seconds
        clocks.tick(5)
        try:
            await checking.validate(token)
        except TokenRejected as rejected:
            assert "does not publish" in str(rejected)
            break
        honoured_until = clocks.wall
    else:
        pytest.fail("the withdrawn key was still honoured 150 s after it was withdrawn")
    assert honoured_until - withdrawn_at < 60
    await checking.aclose()


async def test_a_key_replaced_under_the_same_kid_is_fetched_when_a_signature_fails(issuer: Issuer) -> None:
    clocks = Clocks()
    checking = validator(issuer, clocks)
    assert (await checking.validate(issuer.sign(issuer.claims())))["sub"] == "user-1"
    # The provider replaces rsa-1's key material, keeping its kid.
    replacement = RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig"}, private=True)
    issuer.keys = [replacement, *[key for key in issuer.keys if key.kid != "rsa-1"]]
    clocks.tick(31)

    claims = await checking.validate(issuer.sign(issuer.claims(sub="after-rotation"), key=replacement))

    assert claims["sub"] == "after-rotation"
    assert issuer.fetches[JWKS] == 2
    await checking.aclose()


async def test_forged_signatures_refetch_the_keys_at_most_once_per_30_seconds(issuer: Issuer) -> None:
    clocks = Clocks()
    checking = validator(issuer, clocks)
    genuine = issuer.sign(issuer.claims())
    await checking.validate(genuine)
    head, body, signature = genuine.split(".")
    clocks.tick(31)
    for attempt in range(10):
        forged = f"{head}.{body}.{signature[:-4]}{'ABCD' if attempt % 2 else 'WXYZ'}"
        with pytest.raises(TokenRejected, match="signature does not verify"):
            await checking.validate(forged)
        clocks.tick(2)
    assert issuer.fetches[JWKS] == 2  # the first fetch, and one refetch for all ten
    await checking.aclose()


async def test_remembered_tokens_are_checked_again_when_the_key_set_changes(issuer: Issuer) -> None:
    clocks = Clocks()
    checking = validator(issuer, clocks)
    old = issuer.sign(issuer.claims(exp=int(clocks.wall) + 3600))
    await checking.validate(old)  # remembered as verified
    new_key = issuer.rotate("rsa-2")
    withdraw(issuer, "rsa-1")
    clocks.tick(31)
    # A token signed with the new key makes Maca fetch the keys again …
    assert (await checking.validate(issuer.sign(issuer.claims(sub="new"), key=new_key)))["sub"] == "new"
    # … and the set has changed, so the token it remembered is checked again
    # at once, though its minute of memory has not run out.
    with pytest.raises(TokenRejected, match="does not publish"):
        await checking.validate(old)
    await checking.aclose()


def test_production_refuses_an_issuer_reached_over_plain_http() -> None:
    production = {"MACA_ENV": "production", "DATABASE_URL": "postgresql://db.example/maca"}
    with pytest.raises(SettingsError) as refused:
        load_settings({**production, "OIDC_ISSUER": "http://login.example.gov.uk/realms/maca"})
    assert refused.value.variable == "OIDC_ISSUER"
    assert "https://" in refused.value.problem
    assert load_settings({**production, "OIDC_ISSUER": "https://login.example.gov.uk/realms/maca"}).oidc_issuer
    # Outside production a trial provider may be plain HTTP.
    assert load_settings({"OIDC_ISSUER": "http://127.0.0.1:8080/realms/maca"}).oidc_issuer


def test_maca_serve_in_production_with_an_http_issuer_says_so_and_stops(tmp_path: Path) -> None:
    try:
        result = subprocess.run(
            [sys.executable, "-m", "server.cli", "serve"],
            env={
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "MACA_ENV": "production",
                "DATABASE_URL": "postgresql://127.0.0.1:1/maca",
                "OIDC_ISSUER": "http://login.example.gov.uk/realms/maca",
                "MACA_DATA_DIR": str(tmp_path),
                "MACA_PORT": str(free_port()),
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("maca serve started with an http:// issuer in production")
    assert result.returncode == 2
    assert result.stderr.startswith("maca: configuration: OIDC_ISSUER: must be https:// when MACA_ENV=production")
    assert "Traceback" not in result.stderr
