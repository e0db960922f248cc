"""Administering the demo partnership through HTTP, in the administrator's
words: ``await register(people, "RX1", "Riverside Hospital", "health")``.

The administrator is the ``admin`` persona (Ash Admin, demo-partnership-team,
role admin); ``token_as(app, code, …)`` mints a token from the development
issuer for someone of another organisation, with only the claims given.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
from litestar import Litestar

from tests.identity import SignedInPeople, bearer, token_for


async def register(
    people: SignedInPeople,
    code: str,
    name: str,
    kind: str,
    *,
    lead: tuple[str, str] | None = None,
    audit_contacts: list[str] | None = None,
) -> dict[str, Any]:
    """What an administrator does before anyone from ``code`` signs in."""
    body: dict[str, Any] = {"code": code, "name": name, "agency_kind": kind}
    if lead is not None:
        body["safeguarding_lead"] = {"name": lead[0], "email": lead[1]}
    if audit_contacts is not None:
        body["audit_contacts"] = audit_contacts
    response = await people.client.post("/api/admin/organisations", json=body, headers=people.headers("admin"))
    assert response.status_code == 201, response.text
    registered: dict[str, Any] = response.json()
    return registered


async def as_admin(
    people: SignedInPeople, method: str, url: str, *, json: Any = None, version: int | None = None
) -> httpx.Response:
    headers = people.headers("admin")
    if version is not None:
        headers = {**headers, "If-Match": f'"{version}"'}
    response: httpx.Response = await people.client.request(method, url, json=json, headers=headers)
    return response


async def token_as(app: Litestar, code: str | None, *, subject: str | None = None, **claims: Any) -> str:
    """A development-issuer token for someone of organisation ``code``,
    naming only the claims given (the persona's agency kind, partnership
    and organisation name left out unless given)."""
    base: dict[str, Any] = {
        "organisation": code,
        "organisation_name": None,
        "agency_kind": None,
        "partnership": None,
        "sub": subject or f"someone-of-{code}",
        "roles": ["auditor"],
    }
    return await token_for(app, "health", **{**base, **claims})


async def me(people: SignedInPeople, token: str) -> httpx.Response:
    response: httpx.Response = await people.client.get("/api/me", headers=bearer(token))
    return response


async def trail(people: SignedInPeople, organisation_id: UUID | str | None = None) -> list[dict[str, Any]]:
    url = "/api/admin/events" if organisation_id is None else f"/api/admin/organisations/{organisation_id}/events"
    response = await as_admin(people, "GET", url)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries
