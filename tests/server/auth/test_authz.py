"""The route table is the whole truth about who may call what.

Every route the application registers has a row (deny by default), every
row names a registered route, and calling every route as every persona (and
as nobody) gives what the table says: admitted → neither 401 nor 403 (a 404
or 422 for made-up ids and empty bodies is still "admitted"), refused → 403,
nobody → 401. The matrix is generated from the app, so routes added later
are checked the day they are registered.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from litestar import Litestar, get
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.auth.permissions import (
    PUBLIC,
    ROUTES,
    SIGNED_IN,
    access_for,
    require_same_organisation,
    require_same_partnership,
)
from server.auth.principal import Principal
from server.platform.problems import NotFound
from server.settings import Settings
from tests.identity import ALL_PERSONAS, bearer, signed_in_people, token_for
from toolkits.registry import Registry

Client = AsyncTestClient[Litestar]

# Personas' roles, as the development issuer gives them.
ROLES_OF = {
    "coordinator": {"coordinator"},
    "social-care": {"auditor"},
    "health": {"auditor"},
    "police": {"auditor"},
    "education": {"auditor"},
    "reviewer": {"reviewer"},
    "health-2": {"auditor"},
    "admin": {"admin"},
}


def registered(app: Litestar) -> list[tuple[str, str]]:
    """(method, path template) of every route handler the app serves."""
    found: list[tuple[str, str]] = []
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            found += [(method, route.path) for method in sorted(route.methods) if method != "OPTIONS"]
    return found


def concrete(path: str) -> str:
    """A path template with made-up values for its parameters."""

    def value(match: re.Match[str]) -> str:
        kind = match.group(2)
        return {"uuid": str(uuid.uuid4()), "int": "1", "path": "missing.css"}.get(kind, "made-up")

    return re.sub(r"\{(\w+):(\w+)\}", value, path)


def test_every_registered_route_has_a_row_in_the_table(app: Litestar) -> None:
    missing = [route for route in registered(app) if route not in ROUTES]
    assert missing == [], f"add these to ROUTES in server/auth/permissions.py: {missing}"


def test_every_row_in_the_table_names_a_registered_route(app: Litestar) -> None:
    stale = sorted(set(ROUTES) - set(registered(app)))
    assert stale == [], f"these rows in server/auth/permissions.py match no route: {stale}"


def test_a_route_missing_from_the_table_is_refused(app: Litestar) -> None:
    assert access_for("GET", "/api/not-in-the-table") is None
    assert access_for("DELETE", "/api/audits/{audit_id:uuid}") is None


async def test_an_unlisted_route_answers_403_even_to_an_admin(
    settings: Settings, database_url: str, toolkits: Registry
) -> None:
    @get("/api/unlisted-for-test")
    async def unlisted() -> str:
        return "should never be seen"

    app = create_app(settings, database_url=database_url, registry=toolkits)
    app.register(unlisted)
    token = await token_for(app, "admin")
    async with AsyncTestClient(app=app) as client:
        for headers in ({}, bearer(token)):
            response = await client.get("/api/unlisted-for-test", headers=headers)
            assert response.status_code == 403
            assert "should never be seen" not in response.text


def expected(access: Any, persona: str | None) -> str:
    if access == PUBLIC:
        return "admitted"
    if persona is None:
        return "401"
    if access == SIGNED_IN or ROLES_OF[persona] & access:
        return "admitted"
    return "403"


async def test_every_route_as_every_persona_gives_what_the_table_says(app: Litestar, client: Client) -> None:
    people = await signed_in_people(app, client, ALL_PERSONAS)
    wrong: list[str] = []
    for method, path in registered(app):
        access = ROUTES[(method, path)]
        url = concrete(path)
        for persona in (None, *ALL_PERSONAS):
            headers = {} if persona is None else people.headers(persona)
            response = await client.request(method, url, headers=headers, follow_redirects=False)
            client.cookies.clear()  # /sign-in sets one; the test client is shared by the whole run
            want = expected(access, persona)
            status = response.status_code
            ok = status not in (401, 403) if want == "admitted" else status == int(want)
            if not ok:
                wrong.append(f"{method} {path} as {persona or 'nobody'}: {status}, table says {want}")
    assert wrong == []


async def test_refusals_say_which_roles_would_do(app: Litestar, client: Client) -> None:
    response = await client.post("/api/audits", headers=bearer(await token_for(app, "health")), json={})
    assert response.status_code == 403
    assert response.json()["detail"] == "this needs the role coordinator"


def a_principal(organisation_id: uuid.UUID, partnership_id: uuid.UUID) -> Principal:
    return Principal(
        issuer="https://idp",
        subject="s",
        user_id=uuid.uuid4(),
        display_name=None,
        organisation_id=organisation_id,
        organisation_code="o",
        organisation_name="O",
        agency_kind="health",
        partnership_id=partnership_id,
        roles=frozenset({"auditor"}),
    )


def test_another_organisations_resource_is_not_found() -> None:
    mine, theirs, partnership = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    principal = a_principal(mine, partnership)
    require_same_organisation(principal, mine)
    with pytest.raises(NotFound):
        require_same_organisation(principal, theirs)
    require_same_partnership(principal, partnership)
    with pytest.raises(NotFound):
        require_same_partnership(principal, uuid.uuid4())
