"""Maca with a real provider configured (OIDC_ISSUER): tokens of the shapes
Keycloak, Entra ID and RFC 9068 providers issue, mapped by configuration,
and people, organisations and partnerships recorded on first sight."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.auth.claims import ClaimMapping, identity_from_claims
from server.auth.recording import IdentityRecorder
from server.db.demo import load_demo_data
from server.settings import load_settings
from tests.identity import bearer
from tests.server.auth.issuers import Issuer, an_issuer
from toolkits.registry import Registry


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    with an_issuer() as issuer:
        yield issuer


@asynccontextmanager
async def maca_trusting(
    issuer: Issuer, database_url: str, toolkits: Registry, tmp_path: Path, **environment: str
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    settings = load_settings(
        {"MACA_ENV": "test", "OIDC_ISSUER": issuer.url, "MACA_DATA_DIR": str(tmp_path), **environment}
    )
    app = create_app(settings, database_url=database_url, registry=toolkits)
    assert app.state.dev_issuer is None
    async with AsyncTestClient(app=app) as client:
        yield client


def keycloak_token(issuer: Issuer, **overrides: Any) -> str:
    claims = issuer.claims(client_id=None, jti=None, roles=None, nbf=None)
    claims.update(
        {
            "azp": "maca-web",
            "realm_access": {"roles": ["coordinator", "offline_access"]},
            "preferred_username": "casey",
            "organisation": "council-csc",
            "organisation_name": "A Council Children's Services",
            "agency_kind": "childrens-social-care",
        }
    )
    claims.update(overrides)
    return issuer.sign({k: v for k, v in claims.items() if v is not None}, typ="JWT")


async def test_an_rfc_9068_token_signs_in_with_the_default_mapping(
    issuer: Issuer, database_url: str, toolkits: Registry, tmp_path: Path
) -> None:
    async with maca_trusting(issuer, database_url, toolkits, tmp_path) as client:
        response = await client.get("/api/me", headers=bearer(issuer.sign(issuer.claims())))
    assert response.status_code == 200, response.text
    me = response.json()
    assert (me["organisation_code"], me["agency_kind"], me["roles"], me["display_name"]) == (
        "trust-1",
        "health",
        ["auditor"],
        "Avery Auditor",
    )
    assert me["is_machine_client"] is False
    assert issuer.fetches["/.well-known/openid-configuration"] == 1


async def test_a_keycloak_token_signs_in_with_realm_roles_mapped(
    issuer: Issuer, database_url: str, toolkits: Registry, tmp_path: Path
) -> None:
    async with maca_trusting(issuer, database_url, toolkits, tmp_path, OIDC_CLAIM_ROLES="realm_access.roles") as client:
        response = await client.get("/api/me", headers=bearer(keycloak_token(issuer)))
    assert response.status_code == 200, response.text
    me = response.json()
    assert (me["organisation_code"], me["roles"], me["organisation_name"]) == (
        "council-csc",
        ["coordinator"],
        "A Council Children's Services",
    )


async def test_a_keycloak_token_is_refused_when_only_rfc_9068_is_accepted(
    issuer: Issuer, database_url: str, toolkits: Registry, tmp_path: Path
) -> None:
    async with maca_trusting(issuer, database_url, toolkits, tmp_path, OIDC_ACCEPT_PLAIN_JWT="false") as client:
        response = await client.get("/api/me", headers=bearer(keycloak_token(issuer)))
    assert response.status_code == 401
    assert "typ must be at+jwt" in response.headers["www-authenticate"]


async def test_an_agencys_system_signs_in_as_a_machine_client(
    issuer: Issuer, database_url: str, toolkits: Registry, tmp_path: Path
) -> None:
    service_account = keycloak_token(
        issuer,
        sub="9b1c6e0a-service",
        name=None,
        azp="police-records",
        preferred_username="service-account-police-records",
        organisation="force-1",
        organisation_name=None,
        agency_kind="police",
        realm_access={"roles": ["auditor"]},
    )
    async with maca_trusting(issuer, database_url, toolkits, tmp_path, OIDC_CLAIM_ROLES="realm_access.roles") as client:
        response = await client.get("/api/me", headers=bearer(service_account))
    assert response.status_code == 200, response.text
    me = response.json()
    assert (me["is_machine_client"], me["display_name"], me["roles"]) == (True, "police-records", ["auditor"])
    assert me["organisation_name"] == "force-1"  # named by its code until someone names it


async def test_scope_derived_roles_when_a_prefix_is_configured(
    issuer: Issuer, database_url: str, toolkits: Registry, tmp_path: Path
) -> None:
    token = issuer.sign(issuer.claims(roles=None, scope="openid maca:reviewer"))
    async with maca_trusting(issuer, database_url, toolkits, tmp_path, OIDC_ROLE_SCOPE_PREFIX="maca:") as client:
        response = await client.get("/api/me", headers=bearer(token))
    assert response.json()["roles"] == ["reviewer"]


async def test_the_provider_being_away_is_503_not_401(
    issuer: Issuer, database_url: str, toolkits: Registry, tmp_path: Path
) -> None:
    issuer.down = True
    async with maca_trusting(issuer, database_url, toolkits, tmp_path) as client:
        response = await client.get("/api/me", headers=bearer(issuer.sign(issuer.claims())))
    assert response.status_code == 503
    assert response.headers["retry-after"]


# --- recorded on first sight ----------------------------------------------------------


async def test_people_organisations_and_partnerships_are_recorded_on_first_sight(
    issuer: Issuer, database_url: str, toolkits: Registry, tmp_path: Path, db: asyncpg.Connection[Any]
) -> None:
    token = issuer.sign(issuer.claims())
    async with maca_trusting(issuer, database_url, toolkits, tmp_path) as client:
        first = (await client.get("/api/me", headers=bearer(token))).json()
        again = (await client.get("/api/me", headers=bearer(issuer.sign(issuer.claims(roles=["reviewer"]))))).json()

    assert again["user_id"] == first["user_id"] and again["roles"] == ["reviewer"]
    partnership = await db.fetchrow("SELECT * FROM partnerships")
    organisation = await db.fetchrow("SELECT * FROM organisations")
    user = await db.fetchrow("SELECT * FROM users")
    assert (partnership["code"], await db.fetchval("SELECT count(*) FROM partnerships")) == ("partnership-1", 1)
    assert (organisation["code"], organisation["name"], organisation["agency_kind"]) == (
        "trust-1",
        "Trust One",
        "health",
    )
    assert organisation["partnership_id"] == partnership["id"]
    assert (user["issuer"], user["subject"], user["display_name"], list(user["roles"])) == (
        issuer.url,
        "user-1",
        "Avery Auditor",
        ["reviewer"],
    )
    # Nothing of the token itself is kept anywhere.
    row_text = " ".join(str(dict(row)) for row in (partnership, organisation, user))
    assert token.split(".")[2] not in row_text and token.split(".")[1] not in row_text


async def test_a_known_organisation_keeps_its_recorded_name_and_needs_no_kind_claim(
    issuer: Issuer, database_url: str, toolkits: Registry, tmp_path: Path, db: asyncpg.Connection[Any]
) -> None:
    await load_demo_data(db)
    token = issuer.sign(
        issuer.claims(organisation="demo-police", organisation_name="Renamed", agency_kind=None, partnership=None)
    )
    async with maca_trusting(issuer, database_url, toolkits, tmp_path) as client:
        me = (await client.get("/api/me", headers=bearer(token))).json()
    assert (me["organisation_name"], me["agency_kind"]) == ("Demo Police", "police")


@pytest.mark.parametrize(
    ("claims", "said"),
    [
        ({"organisation": "demo-police", "agency_kind": "health"}, "agency kind is not the one Maca has recorded"),
        ({"organisation": "demo-police", "partnership": "elsewhere"}, "partnership is not the one Maca has recorded"),
        ({"organisation": "new-org", "agency_kind": None}, "does not name its agency kind and partnership"),
        ({"organisation": "new-org", "partnership": None}, "does not name its agency kind and partnership"),
    ],
)
async def test_a_token_contradicting_the_record_is_refused(
    issuer: Issuer,
    database_url: str,
    toolkits: Registry,
    tmp_path: Path,
    db: asyncpg.Connection[Any],
    claims: dict[str, Any],
    said: str,
) -> None:
    await load_demo_data(db)
    claims = {"partnership": "demo-partnership", "agency_kind": "police", **claims}
    async with maca_trusting(issuer, database_url, toolkits, tmp_path) as client:
        response = await client.get("/api/me", headers=bearer(issuer.sign(issuer.claims(**claims))))
    assert response.status_code == 401
    assert said in response.json()["detail"]
    assert await db.fetchval("SELECT count(*) FROM users") == 0


async def test_the_recorder_upserts_once_per_person_per_few_minutes(
    issuer: Issuer, database_url: str, db: asyncpg.Connection[Any]
) -> None:
    now = [0.0]
    recorder = IdentityRecorder(ttl_seconds=300, clock=lambda: now[0])
    identity = identity_from_claims(issuer.claims(), ClaimMapping())
    pool = await asyncpg.create_pool(database_url, min_size=0, max_size=2)
    try:
        first = await recorder.principal(pool, identity)
        seen = await db.fetchval("SELECT last_seen_at FROM users")
        await asyncio.sleep(0.01)
        now[0] = 299
        assert await recorder.principal(pool, identity) is first
        assert await db.fetchval("SELECT last_seen_at FROM users") == seen  # no write

        changed = identity_from_claims(issuer.claims(roles=["reviewer"]), ClaimMapping())
        assert (await recorder.principal(pool, changed)).roles == {"reviewer"}  # new claims: recorded at once
        assert list(await db.fetchval("SELECT roles FROM users")) == ["reviewer"]

        now[0] = 700
        await recorder.principal(pool, changed)
        assert await db.fetchval("SELECT last_seen_at FROM users") > seen  # time up: recorded again
    finally:
        await pool.close()
