"""Tokens an attacker (or a broken client) might send, each refused.

Every token here is real: signed with the development issuer's RSA key, a
stranger's key, or forged by hand the way an attacker would, and sent to the
running application over HTTP. A refusal is 401 with RFC 6750's
``WWW-Authenticate: Bearer error="invalid_token"`` and a problem document
that says what was wrong and nothing else; a valid token for the wrong
organisation meets 404 on another organisation's resources.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.auth.dev_idp import KEY_FILE, load_or_create_key
from server.settings import Settings
from tests.identity import ALL_PERSONAS, bearer, signed_in_people, token_for
from tests.server.audit_fixtures import an_open_audit, contribution_url

Client = AsyncTestClient[Litestar]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segments(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
        signature,
    )


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: str = "") -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}.{signature}"


def dev_key(settings: Settings) -> RSAKey:
    return load_or_create_key(settings.data_path / KEY_FILE)


async def claims_of_a_valid_token(app: Litestar) -> tuple[dict[str, Any], dict[str, Any]]:
    header, claims, _ = segments(await token_for(app, "health"))
    return header, claims


def signed(settings: Settings, header: dict[str, Any], claims: dict[str, Any]) -> str:
    return jwt.encode(header, claims, dev_key(settings), algorithms=["RS256"])


def alg_none(settings: Settings, header: dict[str, Any], claims: dict[str, Any]) -> str:
    return unsigned({**header, "alg": "none"}, claims)


def hs256_with_the_public_key(settings: Settings, header: dict[str, Any], claims: dict[str, Any]) -> str:
    # The classic confusion: HMAC keyed with the RSA public key a verifier holds.
    public_pem = dev_key(settings).as_pem(private=False)
    forged_header = {**header, "alg": "HS256"}
    signing_input = f"{b64(json.dumps(forged_header).encode())}.{b64(json.dumps(claims).encode())}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def with_claims(**changes: Any) -> Callable[[Settings, dict[str, Any], dict[str, Any]], str]:
    def make(settings: Settings, header: dict[str, Any], claims: dict[str, Any]) -> str:
        # A time is a number of seconds from now, counted when the token is
        # forged: the suite can take longer than any margin from collection.
        now = int(time.time())
        changed = {**claims, **{k: now + v.seconds if isinstance(v, FromNow) else v for k, v in changes.items()}}
        return signed(settings, header, {k: v for k, v in changed.items() if v is not None})

    return make


def with_header(**changes: Any) -> Callable[[Settings, dict[str, Any], dict[str, Any]], str]:
    def make(settings: Settings, header: dict[str, Any], claims: dict[str, Any]) -> str:
        changed = {**header, **changes}
        return signed(settings, {k: v for k, v in changed.items() if v is not None}, claims)

    return make


def tampered_payload(settings: Settings, header: dict[str, Any], claims: dict[str, Any]) -> str:
    genuine = signed(settings, header, claims)
    _, _, signature = genuine.split(".")
    return unsigned(header, {**claims, "organisation": "demo-police", "agency_kind": "police"}, signature)


def a_strangers_key(settings: Settings, header: dict[str, Any], claims: dict[str, Any]) -> str:
    # Same kid as the issuer's key, signed by someone else's.
    stranger = RSAKey.generate_key(2048, private=True)
    return jwt.encode(header, claims, stranger, algorithms=["RS256"])


@dataclass(frozen=True)
class FromNow:
    seconds: int


ATTACKS: list[tuple[str, Callable[[Settings, dict[str, Any], dict[str, Any]], str], str]] = [
    ("alg none", alg_none, "the token's algorithm is not accepted (only RS256, PS256, ES256)"),
    ("HS256 keyed with the RSA public key", hs256_with_the_public_key, "the token's algorithm is not accepted"),
    ("expired", with_claims(exp=FromNow(-120)), "the token has expired"),
    ("not yet valid", with_claims(nbf=FromNow(600)), "the token is not valid yet"),
    ("issued in the future", with_claims(iat=FromNow(600)), "the token was issued in the future"),
    (
        "wrong issuer",
        with_claims(iss="https://idp.example.org/realms/other"),
        "the token is from another issuer: it was issued by https://idp.example.org/realms/other, "
        "and this Maca accepts tokens from http://127.0.0.1:8000/dev-idp",
    ),
    ("wrong audience", with_claims(aud="someone-else"), "the token is for another audience"),
    ("unknown kid", with_header(kid="no-such-key"), "the token is signed with a key the issuer does not publish"),
    ("tampered payload", tampered_payload, "the token's signature does not verify"),
    ("a stranger's key under the issuer's kid", a_strangers_key, "the token's signature does not verify"),
    ("missing organisation", with_claims(organisation=None), "the token names no organisation (claim 'organisation')"),
    ("no expiry", with_claims(exp=None), "the token lacks the claim(s) exp"),
    ("RFC 9068 token without jti", with_claims(jti=None), "the token lacks the claim(s) jti"),
    ("an ID token's typ", with_header(typ="id+jwt"), "the token is not an access token (typ must be at+jwt)"),
    ("an unknown agency kind", with_claims(agency_kind="wizards"), "names no agency kind Maca knows"),
]


@pytest.mark.parametrize(("attack", "forge", "said"), ATTACKS, ids=[a[0] for a in ATTACKS])
async def test_a_bad_token_is_refused_with_invalid_token(
    app: Litestar,
    client: Client,
    settings: Settings,
    attack: str,
    forge: Callable[[Settings, dict[str, Any], dict[str, Any]], str],
    said: str,
) -> None:
    header, claims = await claims_of_a_valid_token(app)
    token = forge(settings, header, claims)

    response = await client.get("/api/me", headers=bearer(token))

    assert response.status_code == 401, (attack, response.text)
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="maca", error="invalid_token", error_description="')
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert set(body) == {"type", "title", "status", "detail"}
    assert body["status"] == 401 and said in body["detail"]
    assert said.replace('"', "'") in challenge


async def test_the_genuine_token_those_attacks_start_from_is_accepted(app: Litestar, client: Client) -> None:
    response = await client.get("/api/me", headers=bearer(await token_for(app, "health")))
    assert response.status_code == 200
    assert response.json()["organisation_code"] == "demo-health"


async def test_tokens_within_a_minute_of_clock_skew_are_accepted(
    app: Litestar, client: Client, settings: Settings
) -> None:
    header, claims = await claims_of_a_valid_token(app)
    now = int(time.time())
    slightly_off = signed(settings, header, {**claims, "exp": now - 30, "nbf": now + 30, "iat": now + 30})
    assert (await client.get("/api/me", headers=bearer(slightly_off))).status_code == 200


@pytest.mark.parametrize(
    "value",
    ["", "not-a-jwt", "a.b", "a.b.c.d.e", "eyJhbGciOiJSUzI1NiJ9.@@@.sig", "x" * 20_000],
    ids=["empty", "no dots", "two parts", "JWE-shaped", "bad base64", "huge"],
)
async def test_garbage_is_refused_as_an_invalid_token(client: Client, value: str) -> None:
    response = await client.get("/api/me", headers={"Authorization": f"Bearer {value}"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_no_token_gets_the_bare_challenge(client: Client) -> None:
    response = await client.get("/api/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="maca"'
    assert response.json() == {
        "type": "about:blank",
        "title": "Not signed in",
        "status": 401,
        "detail": "sign in first",
    }


async def test_another_scheme_is_treated_as_no_token(client: Client) -> None:
    response = await client.get("/api/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert (response.status_code, response.headers["www-authenticate"]) == (401, 'Bearer realm="maca"')


async def test_public_routes_ignore_credentials(client: Client) -> None:
    response = await client.get("/healthz", headers=bearer("garbage"))
    assert response.status_code == 200


async def test_a_valid_token_of_another_organisation_meets_404_on_a_foreign_resource(
    app: Litestar, client: Client
) -> None:
    people = await signed_in_people(app, client, ALL_PERSONAS)
    audit = await an_open_audit(people, participants=["health", "police"])
    health_contribution = contribution_url(audit, people, "health")

    # The health trust's own auditor reaches its audit and contribution.
    assert (await client.get(f"/api/audits/{audit['id']}", headers=people.headers("health"))).status_code == 200
    assert (await client.get(health_contribution, headers=people.headers("health"))).status_code == 200

    # Another health trust's auditor: same agency kind, same role, another
    # organisation. Neither the audit nor the contribution exists for it.
    for url in (f"/api/audits/{audit['id']}", health_contribution):
        response = await client.get(url, headers=people.headers("health-2"))
        assert response.status_code == 404, (url, response.text)
        assert response.json()["title"] == "Not found"

    # A participating organisation cannot read another's contribution either.
    response = await client.get(health_contribution, headers=people.headers("police"))
    assert response.status_code == 404
