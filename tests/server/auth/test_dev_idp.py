"""The development identity provider: its key, its documents, its personas,
its code exchange, and that production never has it."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.auth.dev_idp import KEY_FILE, PERSONAS, DevIssuer, load_or_create_key
from server.db.demo import DEMO_ORGANISATIONS, DEMO_PARTNERSHIP
from server.settings import Settings, SettingsError, load_settings

Client = AsyncTestClient[Litestar]


def test_the_key_is_generated_once_private_to_its_owner_and_reused(tmp_path: Path) -> None:
    settings = load_settings({}, env="test", data_dir=str(tmp_path / "data"))
    first = DevIssuer.for_settings(settings)
    key_file = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert DevIssuer.for_settings(settings).kid == first.kid
    assert [p.name for p in key_file.parent.iterdir()] == [KEY_FILE]  # no temporary files left


def test_a_key_file_readable_by_others_is_made_private(tmp_path: Path) -> None:
    load_or_create_key(tmp_path / KEY_FILE)
    (tmp_path / KEY_FILE).chmod(0o644)
    load_or_create_key(tmp_path / KEY_FILE)
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600


async def test_the_discovery_document_names_its_endpoints(client: Client, settings: Settings) -> None:
    document = (await client.get("/dev-idp/.well-known/openid-configuration")).json()
    issuer = f"{settings.base_url}/dev-idp"
    assert document["issuer"] == issuer
    assert document["jwks_uri"] == f"{issuer}/jwks"
    assert document["authorization_endpoint"] == f"{issuer}/authorize"
    assert document["token_endpoint"] == f"{issuer}/token"
    assert document["code_challenge_methods_supported"] == ["S256"]


async def test_the_key_set_publishes_no_private_part(client: Client) -> None:
    keys = (await client.get("/dev-idp/jwks")).json()["keys"]
    assert len(keys) == 1
    assert keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and keys[0]["kid"]
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(keys[0])


def test_personas_belong_to_the_demo_organisations() -> None:
    demo = {code: kind for code, _name, kind in DEMO_ORGANISATIONS}
    listed = {p.code: p for p in PERSONAS if p.listed}
    assert set(listed) == {"coordinator", "health", "police", "education", "social-care", "reviewer"}
    for persona in listed.values():
        assert demo[persona.organisation] == persona.agency_kind
        assert persona.partnership == DEMO_PARTNERSHIP[0]
    assert (listed["coordinator"].organisation, listed["coordinator"].roles) == ("demo-csc", ("coordinator",))
    assert (listed["social-care"].organisation, listed["social-care"].roles) == ("demo-csc", ("auditor",))
    assert (listed["reviewer"].organisation, listed["reviewer"].roles) == ("demo-partnership-team", ("reviewer",))
    other_trust = next(p for p in PERSONAS if p.code == "health-2")
    assert (other_trust.organisation, other_trust.agency_kind, other_trust.listed) == (
        "demo-health-2",
        "health",
        False,
    )


def authorize_params(settings: Settings, **changes: str) -> dict[str, str]:
    params = {
        "client_id": "maca-web",
        "redirect_uri": f"{settings.base_url}/auth/callback",
        "response_type": "code",
        "state": "s-1",
        "nonce": "n-1",
        "scope": "openid profile",
        "code_challenge_method": "S256",
        "code_challenge": "x" * 43,
    }
    params.update(changes)
    return params


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"redirect_uri": "https://evil.example/callback"}, "redirect_uri must be"),
        ({"client_id": "someone-else"}, "unknown client_id"),
        ({"code_challenge_method": "plain"}, "PKCE with code_challenge_method=S256 is required"),
        ({"code_challenge": ""}, "PKCE with code_challenge_method=S256 is required"),
        ({"response_type": "token"}, "only response_type=code"),
    ],
)
async def test_the_authorization_endpoint_refuses_what_a_provider_would(
    client: Client, settings: Settings, changes: dict[str, str], said: str
) -> None:
    response = await client.get("/dev-idp/authorize", params=authorize_params(settings, **changes))
    assert response.status_code == 400
    assert said in response.text
    assert "evil.example" not in response.headers.get("location", "")


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


async def a_code(client: Client, settings: Settings, verifier: str, persona: str = "health") -> str:
    params = authorize_params(settings, code_challenge=s256(verifier))
    response = await client.post("/dev-idp/authorize", data={**params, "persona": persona}, follow_redirects=False)
    assert response.status_code == 303, response.text
    answer = parse_qs(urlsplit(response.headers["location"]).query)
    assert answer["state"] == ["s-1"]
    return answer["code"][0]


async def test_the_token_endpoint_exchanges_a_code_for_signed_tokens_once(
    app: Litestar, client: Client, settings: Settings
) -> None:
    verifier = secrets.token_urlsafe(48)
    code = await a_code(client, settings, verifier)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": "maca-web",
        "redirect_uri": f"{settings.base_url}/auth/callback",
        "code_verifier": verifier,
    }
    response = await client.post("/dev-idp/token", data=form)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert (tokens["token_type"], tokens["expires_in"]) == ("Bearer", 3600)

    key = load_or_create_key(settings.data_path / KEY_FILE)
    access = jwt.decode(tokens["access_token"], key, algorithms=["RS256"])
    assert access.header["typ"] == "at+jwt"
    assert {k: access.claims[k] for k in ("iss", "aud", "sub", "client_id", "organisation", "roles")} == {
        "iss": f"{settings.base_url}/dev-idp",
        "aud": "maca",
        "sub": "dev-health",
        "client_id": "maca-web",
        "organisation": "demo-health",
        "roles": ["auditor"],
    }
    identity = jwt.decode(tokens["id_token"], key, algorithms=["RS256"]).claims
    assert (identity["aud"], identity["nonce"]) == ("maca-web", "n-1")

    again = await client.post("/dev-idp/token", data=form)
    assert again.json()["error"] == "invalid_grant" and "used" in again.json()["error_description"]


@pytest.mark.parametrize(
    ("changes", "error", "said"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type", "only authorization_code"),
        ({"code": "made-up"}, "invalid_grant", "not one this provider issued"),
        ({"redirect_uri": "http://127.0.0.1:8000/elsewhere"}, "invalid_grant", "differ from the authorization"),
        ({"code_verifier": "too-short"}, "invalid_grant", "code_verifier does not match"),
        ({"code_verifier": "b" * 64}, "invalid_grant", "code_verifier does not match"),
    ],
)
async def test_the_token_endpoint_refuses_a_bad_exchange(
    client: Client, settings: Settings, changes: dict[str, str], error: str, said: str
) -> None:
    verifier = secrets.token_urlsafe(48)
    form: dict[str, Any] = {
        "grant_type": "authorization_code",
        "code": await a_code(client, settings, verifier),
        "client_id": "maca-web",
        "redirect_uri": f"{settings.base_url}/auth/callback",
        "code_verifier": verifier,
        **changes,
    }
    response = await client.post("/dev-idp/token", data=form)
    assert response.status_code == 400
    assert response.json()["error"] == error and said in response.json()["error_description"]


async def test_an_access_token_is_not_an_authorization_code(client: Client, app: Litestar, settings: Settings) -> None:
    from tests.identity import token_for

    verifier = secrets.token_urlsafe(48)
    form = {
        "grant_type": "authorization_code",
        "code": await token_for(app, "health"),
        "client_id": "maca-web",
        "redirect_uri": f"{settings.base_url}/auth/callback",
        "code_verifier": verifier,
    }
    assert (await client.post("/dev-idp/token", data=form)).json()["error"] == "invalid_grant"


# --- never in production -----------------------------------------------------------


def test_production_without_an_issuer_refuses_to_start() -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({"MACA_ENV": "production", "DATABASE_URL": "postgresql://db.internal/maca"})
    assert raised.value.variable == "OIDC_ISSUER"
    assert "must be set when MACA_ENV=production" in raised.value.problem


@pytest.mark.parametrize("issuer", ["idp.internal/realms/maca", "ftp://idp.internal", "https://"])
def test_the_issuer_must_be_a_web_address(issuer: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({"OIDC_ISSUER": issuer})
    assert (raised.value.variable, raised.value.problem) == ("OIDC_ISSUER", "must be the provider's https:// URL")


def test_with_an_issuer_there_is_no_development_provider(settings: Settings, database_url: str) -> None:
    from server.app import create_app

    configured = load_settings(
        {"MACA_ENV": "production", "DATABASE_URL": database_url, "OIDC_ISSUER": "https://idp.example.org/realms/maca"}
    )
    app = create_app(configured)
    assert app.state.dev_issuer is None
    assert not [route for route in app.routes if route.path.startswith("/dev-idp")]
    with pytest.raises(ValueError, match="only for settings without OIDC_ISSUER"):
        DevIssuer(configured, load_or_create_key(settings.data_path / KEY_FILE))


def test_maca_serve_in_production_without_an_issuer_says_so_and_stops(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", "serve"],
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "MACA_ENV": "production",
            "DATABASE_URL": "postgresql://127.0.0.1:1/maca",
            "MACA_DATA_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("maca: configuration: OIDC_ISSUER: must be set when MACA_ENV=production")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / KEY_FILE).exists()
