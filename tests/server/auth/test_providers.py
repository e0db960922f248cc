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
        (
            {"organisation": "demo-police", "agency_kind": "health"},
            "the agency kind claim 'agency_kind' says 'health', but Maca has recorded 'demo-police' as 'police'; "
            "an administrator can correct the organisation's record in Maca",
        ),
        (
            {"organisation": "demo-police", "partnership": "elsewhere"},
            "the partnership claim 'partnership' says 'elsewhere', but Maca has recorded 'demo-police' in the "
            "partnership 'demo-partnership'",
        ),
        (
            {"organisation": "new-org", "agency_kind": None},
            "the organisation 'new-org' is new to Maca and the token does not name its agency kind "
            "(claim 'agency_kind'); an administrator can register the organisation first",
        ),
        (
            {"organisation": "new-org", "partnership": None},
            "the organisation 'new-org' is new to Maca and the token does not name its partnership "
            "(claim 'partnership', or OIDC_DEFAULT_PARTNERSHIP)",
        ),
        (
            {"organisation": "new-org", "partnership": None, "agency_kind": None},
            "does not name its agency kind (claim 'agency_kind') or its partnership (claim 'partnership', "
            "or OIDC_DEFAULT_PARTNERSHIP)",
        ),
        ({"organisation": None}, "the token names no organisation (claim 'organisation')"),
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


# --- what an administrator has registered stands ------------------------------------------


async def registered(
    db: asyncpg.Connection[Any], code: str, kind: str, partnership: str = "lscp-north", *, active: bool = True
) -> Any:
    """An organisation as an administrator registers it (Administration →
    Organisations; its pages and API are tested in tests/server/admin)."""
    partnership_id = await db.fetchval(
        "INSERT INTO partnerships (code, name) VALUES ($1, $1) "
        "ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name RETURNING id",
        partnership,
    )
    return await db.fetchval(
        "INSERT INTO organisations (partnership_id, code, name, agency_kind, active) "
        "VALUES ($1, $2, $3, $4, $5) RETURNING id",
        partnership_id,
        code,
        f"{code} (registered)",
        kind,
        active,
    )


async def test_a_token_naming_only_a_registered_organisation_is_accepted(
    issuer: Issuer, database_url: str, toolkits: Registry, tmp_path: Path, db: asyncpg.Connection[Any]
) -> None:
    await registered(db, "RX1", "health")
    token = issuer.sign(issuer.claims(organisation="RX1", organisation_name=None, agency_kind=None, partnership=None))
    async with maca_trusting(issuer, database_url, toolkits, tmp_path) as client:
        response = await client.get("/api/me", headers=bearer(token))
    assert response.status_code == 200, response.text
    me = response.json()
    assert (me["organisation_code"], me["organisation_name"], me["agency_kind"]) == (
        "RX1",
        "RX1 (registered)",
        "health",
    )
    assert (me["partnership_code"], me["partnership_name"]) == ("lscp-north", "lscp-north")


async def test_with_a_default_partnership_a_new_organisation_is_recorded_there_and_flagged(
    issuer: Issuer, database_url: str, toolkits: Registry, tmp_path: Path, db: asyncpg.Connection[Any]
) -> None:
    token = issuer.sign(issuer.claims(partnership=None))
    async with maca_trusting(issuer, database_url, toolkits, tmp_path, OIDC_DEFAULT_PARTNERSHIP="lscp-north") as client:
        me = (await client.get("/api/me", headers=bearer(token))).json()
    assert me["partnership_code"] == "lscp-north"
    recorded = await db.fetchrow("SELECT agency_kind, needs_confirmation FROM organisations WHERE code = 'trust-1'")
    assert (recorded["agency_kind"], recorded["needs_confirmation"]) == ("health", True)


async def test_the_people_of_an_inactive_organisation_are_refused(
    issuer: Issuer, database_url: str, toolkits: Registry, tmp_path: Path, db: asyncpg.Connection[Any]
) -> None:
    await registered(db, "trust-1", "health", "partnership-1", active=False)
    async with maca_trusting(issuer, database_url, toolkits, tmp_path) as client:
        response = await client.get("/api/me", headers=bearer(issuer.sign(issuer.claims())))
    assert response.status_code == 401
    assert response.json()["detail"] == (
        "the organisation 'trust-1' is not active in Maca; ask your partnership's administrator"
    )


def machine_token(issuer: Issuer, **claims: Any) -> str:
    """An RFC 9068 client-credentials token of the client 'police-records':
    no person's name, its subject the client itself."""
    base = {
        "sub": "police-records",
        "client_id": "police-records",
        "name": None,
        "organisation": None,
        "organisation_name": None,
        "agency_kind": None,
        "partnership": None,
        "roles": None,
        "scope": "audit:contribute",
    }
    return issuer.sign(issuer.claims(**{**base, **claims}))


async def register_client(db: asyncpg.Connection[Any], organisation_id: Any, roles: list[str]) -> None:
    await db.execute(
        "INSERT INTO machine_clients (client_id, organisation_id, roles) VALUES ('police-records', $1, $2)",
        organisation_id,
        roles,
    )


async def test_a_registered_agency_system_needs_its_token_to_name_nothing_but_itself(
    issuer: Issuer, database_url: str, toolkits: Registry, tmp_path: Path, db: asyncpg.Connection[Any]
) -> None:
    """Where the provider gives a client no role and no organisation, its
    registration does."""
    await register_client(db, await registered(db, "force-1", "police"), ["auditor"])
    async with maca_trusting(issuer, database_url, toolkits, tmp_path) as client:
        response = await client.get("/api/me", headers=bearer(machine_token(issuer)))
    assert response.status_code == 200, response.text
    me = response.json()
    assert (me["organisation_code"], me["agency_kind"], me["roles"], me["is_machine_client"]) == (
        "force-1",
        "police",
        ["auditor"],
        True,
    )


async def test_roles_the_provider_gives_win_over_the_registered_ones(
    issuer: Issuer, database_url: str, toolkits: Registry, tmp_path: Path, db: asyncpg.Connection[Any]
) -> None:
    await register_client(db, await registered(db, "force-1", "police"), ["auditor"])
    async with maca_trusting(issuer, database_url, toolkits, tmp_path, OIDC_ROLE_MAP="audit:review=reviewer") as client:
        me = (await client.get("/api/me", headers=bearer(machine_token(issuer, scope="audit:review")))).json()
    assert me["roles"] == ["reviewer"]


@pytest.mark.parametrize(
    ("claims", "registration", "said"),
    [
        (
            {"organisation": "force-2"},
            "force-1",
            "the organisation claim 'organisation' names 'force-2', but the client 'police-records' is registered "
            "to another organisation in Maca",
        ),
        (
            {},
            None,
            "the token names no organisation (claim 'organisation'); its client 'police-records' is not "
            "registered to one",
        ),
    ],
)
async def test_an_agency_system_is_refused_naming_what_does_not_fit(
    issuer: Issuer,
    database_url: str,
    toolkits: Registry,
    tmp_path: Path,
    db: asyncpg.Connection[Any],
    claims: dict[str, Any],
    registration: str | None,
    said: str,
) -> None:
    await registered(db, "force-2", "police")
    if registration is not None:
        await register_client(db, await registered(db, registration, "police"), ["auditor"])
    async with maca_trusting(issuer, database_url, toolkits, tmp_path) as client:
        response = await client.get("/api/me", headers=bearer(machine_token(issuer, **claims)))
    assert response.status_code == 401
    assert response.json()["detail"] == said


async def test_an_inactive_registration_is_refused(
    issuer: Issuer, database_url: str, toolkits: Registry, tmp_path: Path, db: asyncpg.Connection[Any]
) -> None:
    await register_client(db, await registered(db, "force-1", "police"), ["auditor"])
    await db.execute("UPDATE machine_clients SET active = false")
    async with maca_trusting(issuer, database_url, toolkits, tmp_path) as client:
        response = await client.get("/api/me", headers=bearer(machine_token(issuer)))
    assert response.status_code == 401
    assert "the client 'police-records' is registered in Maca but not active" in response.json()["detail"]


# --- refusals say what Maca expected ---------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "said", "logged"),
    [
        (
            {"aud": "account"},
            "the token is for another audience ('account'; Maca expects 'maca', OIDC_AUDIENCE)",
            "refused a token for the audience 'account': Maca expects 'maca' (OIDC_AUDIENCE)",
        ),
        (
            {"aud": ["account", "broker"]},
            "the token is for another audience (['account', 'broker']; Maca expects 'maca', OIDC_AUDIENCE)",
            "refused a token for the audience ['account', 'broker']",
        ),
    ],
)
async def test_a_token_for_another_audience_names_the_expected_one_to_the_caller_and_in_the_log(
    issuer: Issuer,
    database_url: str,
    toolkits: Registry,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    claims: dict[str, Any],
    said: str,
    logged: str,
) -> None:
    async with maca_trusting(issuer, database_url, toolkits, tmp_path) as client:
        response = await client.get("/api/me", headers=bearer(issuer.sign(issuer.claims(**claims))))
    assert response.status_code == 401
    assert response.json()["detail"] == said
    assert any(logged in record.getMessage() for record in caplog.records), caplog.text


async def test_a_token_from_another_issuer_names_the_expected_one_to_the_caller_and_in_the_log(
    issuer: Issuer, database_url: str, toolkits: Registry, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    token = issuer.sign(issuer.claims(iss="https://login.example.org/realms/test"))
    async with maca_trusting(issuer, database_url, toolkits, tmp_path) as client:
        response = await client.get("/api/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["detail"] == (
        "the token is from another issuer: it was issued by https://login.example.org/realms/test, "
        f"and this Maca accepts tokens from {issuer.url}"
    )
    assert f"OIDC_ISSUER is '{issuer.url}'" in caplog.text
