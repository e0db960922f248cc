"""Every handler's declared permission is the whole truth about who may call it.

Calling every route the application registers as every persona (and as
nobody) gives what its handler declares and the role → permission table
grants: admitted → neither 401 nor 403 (a 404 or 422 for made-up ids and
empty bodies is still "admitted"), refused → 403, nobody → 401. The matrix
is generated from the app, so routes added later are checked the day they
are registered. A handler that declares nothing is refused to everyone
(``tests/architecture/test_permissions.py`` names any such handler).
"""

from __future__ import annotations

import re
import uuid

import pytest
from litestar import Litestar, get
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.auth.permissions import (
    PUBLIC,
    ROLE_PERMISSIONS,
    SIGNED_IN,
    Access,
    Permission,
    access_of,
    may,
    require,
    require_same_organisation,
    require_same_partnership,
    route_handlers,
)
from server.auth.principal import Principal, Role
from server.platform.problems import Forbidden, NotFound
from server.settings import Settings
from tests.identity import ALL_PERSONAS, bearer, signed_in_people, token_for
from toolkits.registry import Registry

Client = AsyncTestClient[Litestar]

# Personas' roles, as the development issuer gives them.
ROLES_OF: dict[str, set[Role]] = {
    "coordinator": {"coordinator"},
    "social-care": {"auditor"},
    "health": {"auditor"},
    "police": {"auditor"},
    "education": {"auditor"},
    "reviewer": {"reviewer"},
    "health-2": {"auditor"},
    "admin": {"admin"},
}


def registered(app: Litestar) -> list[tuple[str, str, Access | None]]:
    """(method, path template, declared access) of every route handler the app serves."""
    return [
        (method, route.path, access_of(handler))
        for method, route, handler in route_handlers(app.routes)
        if isinstance(route, HTTPRoute)
    ]


def concrete(path: str) -> str:
    """A path template with made-up values for its parameters."""

    def value(match: re.Match[str]) -> str:
        kind = match.group(2)
        return {"uuid": str(uuid.uuid4()), "int": "1", "path": "missing.css"}.get(kind, "made-up")

    return re.sub(r"\{(\w+):(\w+)\}", value, path)


async def test_a_handler_declaring_no_permission_answers_403_even_to_an_admin(
    settings: Settings, database_url: str, toolkits: Registry
) -> None:
    @get("/api/undeclared-for-test")
    async def undeclared() -> str:
        return "should never be seen"

    # A role name or a permission's text in place of a Permission is no declaration.
    @get("/api/misdeclared-for-test", opt={"permission": "audit:read"})
    async def misdeclared() -> str:
        return "should never be seen"

    app = create_app(settings, database_url=database_url, registry=toolkits)
    app.register(undeclared)
    app.register(misdeclared)
    token = await token_for(app, "admin")
    coordinator = await token_for(app, "coordinator")
    async with AsyncTestClient(app=app) as client:
        for path in ("/api/undeclared-for-test", "/api/misdeclared-for-test"):
            for headers in ({}, bearer(token), bearer(coordinator)):
                response = await client.get(path, headers=headers)
                assert response.status_code == 403
                assert "should never be seen" not in response.text


def test_litestars_own_options_answer_is_public_and_nothing_else_is_by_default(app: Litestar) -> None:
    for route in app.routes:
        for handler in route.route_handlers if isinstance(route, HTTPRoute) else []:
            if handler.http_methods == {"OPTIONS"}:
                assert access_of(handler) is PUBLIC
    assert access_of(None) is None


def expected(access: Access | None, persona: str | None) -> str:
    if access is None:
        return "403"
    if access is PUBLIC:
        return "admitted"
    if persona is None:
        return "401"
    if access is SIGNED_IN:
        return "admitted"
    assert isinstance(access, Permission)
    if any(access in ROLE_PERMISSIONS[role] for role in ROLES_OF[persona]):
        return "admitted"
    return "403"


async def test_every_route_as_every_persona_gives_what_its_handler_declares(app: Litestar, client: Client) -> None:
    people = await signed_in_people(app, client, ALL_PERSONAS)
    wrong: list[str] = []
    for method, path, access in registered(app):
        url = concrete(path)
        for persona in (None, *ALL_PERSONAS):
            headers = {} if persona is None else people.headers(persona)
            response = await client.request(method, url, headers=headers, follow_redirects=False)
            client.cookies.clear()  # /sign-in sets one; the test client is shared by the whole run
            want = expected(access, persona)
            status = response.status_code
            ok = status not in (401, 403) if want == "admitted" else status == int(want)
            if not ok:
                wrong.append(f"{method} {path} as {persona or 'nobody'}: {status}, declared {access}: {want}")
    assert wrong == []


async def test_refusals_say_in_plain_words_who_may(app: Litestar, client: Client) -> None:
    response = await client.post("/api/audits", headers=bearer(await token_for(app, "health")), json={})
    assert response.status_code == 403
    assert response.json()["detail"] == "only a coordinator may create audits"
    response = await client.get(
        f"/api/audits/{uuid.uuid4()}/progress", headers=bearer(await token_for(app, "education"))
    )
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "only a coordinator or a reviewer may see every agency's part of the partnership's audits"
    )


def a_principal(organisation_id: uuid.UUID, partnership_id: uuid.UUID, *roles: Role) -> Principal:
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
        roles=frozenset(roles or ("auditor",)),
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


def test_code_that_checks_a_permission_itself_is_told_the_same() -> None:
    auditor = a_principal(uuid.uuid4(), uuid.uuid4())
    require(auditor, Permission.CONTRIBUTION_WRITE)
    assert may(auditor, Permission.CONTRIBUTION_WRITE)
    assert not may(auditor, Permission.JUDGEMENT_MODERATE)
    with pytest.raises(Forbidden, match="only a reviewer may moderate the partnership's judgement"):
        require(auditor, Permission.JUDGEMENT_MODERATE)


def test_a_person_with_two_roles_holds_both_roles_permissions() -> None:
    both = a_principal(uuid.uuid4(), uuid.uuid4(), "coordinator", "auditor")
    assert may(both, Permission.AUDIT_CREATE)
    assert may(both, Permission.CONTRIBUTION_WRITE)
    assert not may(both, Permission.JUDGEMENT_MODERATE)
    administrator = a_principal(uuid.uuid4(), uuid.uuid4(), "admin")
    # The partnership's administration and its audit programmes (set up,
    # not filled: cases are audits a coordinator creates), and no audit.
    assert {permission for permission in Permission if may(administrator, permission)} == {
        Permission.ORGANISATION_READ,
        Permission.ORGANISATION_ADMINISTER,
        Permission.PARTNERSHIP_ADMINISTER,
        Permission.TOOLKIT_ADMINISTER,
        Permission.PROGRAMME_READ,
        Permission.PROGRAMME_MANAGE,
    }
