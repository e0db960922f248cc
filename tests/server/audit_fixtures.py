"""Building audit state through HTTP, in the users' words.

``an_open_audit(people, participants=["health", "police"])`` is what a
coordinator does before agencies start: create the audit with its case
details, then distribute it. The people are the demo personas: a
coordinator and a social care auditor in demo-csc, auditors in demo-health,
demo-police and demo-school, and a reviewer in demo-partnership-team, all in
the demo-partnership.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Protocol
from uuid import UUID

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.datastructures import State
from litestar.testing import AsyncTestClient

from server.actions_api import ActionController
from server.audits_api import AuditController
from server.auth.principal import Principal
from server.contributions_api import ContributionController
from server.db.pool import create_pool
from server.problems import EXCEPTION_HANDLERS
from server.settings import Settings
from toolkits.registry import Registry

# Persona → organisation code, as the identity helpers name them.
ORGANISATION_OF = {
    "coordinator": "demo-csc",
    "social-care": "demo-csc",
    "health": "demo-health",
    "police": "demo-police",
    "education": "demo-school",
    "reviewer": "demo-partnership-team",
}

# Every case detail of multi-agency-cp, filled in as a coordinator would.
CASE_DETAILS: dict[str, Any] = {
    "answers": {
        "child-initials": {"value": "AB"},
        "gender": {"value": "Female"},
        "age": {"value": 7},
        "case-identifier": {"value": "C-1001"},
        "ethnicity": {"value": "White British"},
        "language": {"value": "English"},
        "religion": {"value": "None"},
        "family-members": {"value": [{"initials": "CD", "relationship": "Mother", "age": 29}]},
        "date-initial-cp-plan": {"value": "2025-06-01"},
        "category-of-plan": {"value": "neglect"},
        "previous-cp-or-concerning-history": {"value": "None known"},
    }
}


class People(Protocol):
    client: Any

    def headers(self, persona: str) -> dict[str, str]: ...

    def organisation_id(self, persona: str) -> UUID: ...


async def request(
    people: People,
    persona: str,
    method: str,
    url: str,
    *,
    json: Any = None,
    headers: Mapping[str, str] | None = None,
    content: bytes | None = None,
) -> httpx.Response:
    response: httpx.Response = await people.client.request(
        method, url, json=json, content=content, headers={**people.headers(persona), **(headers or {})}
    )
    return response


def contribution_url(audit: Mapping[str, Any], people: People, persona: str) -> str:
    return f"/api/audits/{audit['id']}/contributions/{people.organisation_id(persona)}"


async def a_draft_audit(
    people: People,
    *,
    participants: list[str],
    referrer: str | None = None,
    due_date: datetime.date | None = None,
    case_details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "toolkit": "multi-agency-cp",
        "participants": [ORGANISATION_OF[p] for p in participants],
        "case_details": CASE_DETAILS if case_details is None else case_details,
        "period_start": "2025-01-01",
        "period_end": "2025-12-31",
    }
    if referrer is not None:
        body["referring_organisation"] = ORGANISATION_OF[referrer]
    if due_date is not None:
        body["due_date"] = due_date.isoformat()
    response = await request(people, "coordinator", "POST", "/api/audits", json=body)
    assert response.status_code == 201, response.text
    audit: dict[str, Any] = response.json()
    return audit


async def an_open_audit(
    people: People,
    *,
    participants: list[str],
    referrer: str | None = None,
    due_date: datetime.date | None = None,
) -> dict[str, Any]:
    """An audit the coordinator has created and distributed to ``participants``."""
    draft = await a_draft_audit(people, participants=participants, referrer=referrer, due_date=due_date)
    response = await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{draft['id']}/status",
        json={"status": "open"},
        headers={"If-Match": f'"{draft["row_version"]}"'},
    )
    assert response.status_code == 200, response.text
    audit: dict[str, Any] = response.json()
    return audit


def complete_answers(audit: Mapping[str, Any]) -> dict[str, Any]:
    """A complete contribution for the questions ``audit`` shows an auditor."""
    answers: dict[str, Any] = {}
    judgements: dict[str, Any] = {}
    for section in audit["questions"]["sections"]:
        if section.get("completed_by", "agency") != "agency":
            continue
        for question in section.get("questions", []):
            answers[question["id"]] = {"value": _an_answer(question)}
            if question.get("comments") == "required":
                answers[question["id"]]["comments"] = "Seen in the records"
        if section.get("judgement") is not None:
            judgements[section["id"]] = {"grade": 2, "impact": "Plans are followed through"}
    return {"answers": answers, "judgements": judgements, "overall": {"grade": 2}}


def _an_answer(question: Mapping[str, Any]) -> Any:
    kind = question["kind"]
    simple = {
        "grade": 2,
        "yes-no": "yes",
        "yes-partly-no": "yes",
        "yes-sometimes-no": "yes",
        "always-sometimes-never": "always",
        "tick": True,
        "date": "2025-03-01",
        "text": "Recorded in the case notes",
        "number": 1,
        "evidence": [{"document": "Case notes", "date": "2025-03-01"}],
    }
    if kind in simple:
        return simple[kind]
    if kind == "single-choice":
        return question["choices"][0]["value"]
    if kind == "multiple-choice":
        return [question["choices"][0]["value"]]
    if kind == "rows":
        return [{column["id"]: "x" for column in question["columns"] if column.get("kind", "text") == "text"}]
    raise AssertionError(f"no sample answer for {kind}")


async def read_audit(people: People, persona: str, audit: Mapping[str, Any]) -> dict[str, Any]:
    response = await request(people, persona, "GET", f"/api/audits/{audit['id']}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def save_draft(people: People, persona: str, audit: Mapping[str, Any], content: dict[str, Any]) -> httpx.Response:
    """Read the contribution (for its ETag) and save ``content`` over it."""
    url = contribution_url(audit, people, persona)
    current = await request(people, persona, "GET", url)
    assert current.status_code == 200, current.text
    return await request(people, persona, "PUT", url, json=content, headers={"If-Match": current.headers["etag"]})


async def submit(people: People, persona: str, audit: Mapping[str, Any]) -> httpx.Response:
    url = contribution_url(audit, people, persona)
    current = await request(people, persona, "GET", url)
    return await request(people, persona, "POST", f"{url}/submit", headers={"If-Match": current.headers["etag"]})


async def draft_and_submit(people: People, persona: str, audit: Mapping[str, Any]) -> dict[str, Any]:
    seen = await read_audit(people, persona, audit)
    saved = await save_draft(people, persona, audit, complete_answers(seen))
    assert saved.status_code == 200, saved.text
    submitted = await submit(people, persona, audit)
    assert submitted.status_code == 200, submitted.text
    body: dict[str, Any] = submitted.json()
    return body


# --- who is signed in ----------------------------------------------------------
#
# With the identity helpers (tests/identity.py) the personas sign in with real
# tokens. Until they exist, a stand-in puts a Principal on the request from a
# test-only header, with the organisations recorded directly.

PERSONA_KIND_AND_ROLES: dict[str, tuple[str, frozenset[str]]] = {
    "coordinator": ("childrens-social-care", frozenset({"coordinator"})),
    "social-care": ("childrens-social-care", frozenset({"auditor"})),
    "health": ("health", frozenset({"auditor"})),
    "police": ("police", frozenset({"auditor"})),
    "education": ("education", frozenset({"auditor"})),
    "reviewer": ("childrens-social-care", frozenset({"reviewer"})),
}

_STAND_IN: dict[str, Any] = {}


def _stand_in_auth(app: Any) -> Any:
    async def with_principal(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"x-test-persona" and value.decode() in _STAND_IN:
                    scope["user"] = _STAND_IN[value.decode()]
        await app(scope, receive, send)

    return with_principal


class StandInPeople:
    def __init__(self, client: Any, principals: dict[str, Any]) -> None:
        self.client = client
        self.principals = principals

    def headers(self, persona: str) -> dict[str, str]:
        return {"X-Test-Persona": persona}

    def organisation_id(self, persona: str) -> UUID:
        organisation_id: UUID = self.principals[persona].organisation_id
        return organisation_id


async def stand_in_people(client: Any, database_url: str) -> StandInPeople:
    connection = await asyncpg.connect(database_url)
    try:
        partnership = await connection.fetchval(
            "INSERT INTO partnerships (code, name) VALUES ('demo-partnership', 'Demo partnership') RETURNING id"
        )
        organisations: dict[str, UUID] = {}
        for persona, code in ORGANISATION_OF.items():
            if code in organisations:
                continue
            kind = PERSONA_KIND_AND_ROLES[persona][0]
            organisations[code] = await connection.fetchval(
                "INSERT INTO organisations (partnership_id, code, name, agency_kind) "
                "VALUES ($1, $2, $3, $4) RETURNING id",
                partnership,
                code,
                code,
                kind,
            )
        _STAND_IN.clear()
        for persona, code in ORGANISATION_OF.items():
            kind, roles = PERSONA_KIND_AND_ROLES[persona]
            user_id = await connection.fetchval(
                "INSERT INTO users (issuer, subject, organisation_id, roles) VALUES ('test', $1, $2, $3) RETURNING id",
                persona,
                organisations[code],
                sorted(roles),
            )
            _STAND_IN[persona] = Principal(
                issuer="test",
                subject=persona,
                user_id=user_id,
                display_name=persona,
                organisation_id=organisations[code],
                organisation_code=code,
                organisation_name=code,
                agency_kind=kind,
                partnership_id=partnership,
                roles=roles,  # type: ignore[arg-type]
            )
    finally:
        await connection.close()
    return StandInPeople(client, dict(_STAND_IN))


def stand_in_app(settings: Settings, database_url: str, toolkits: Registry) -> Litestar:
    """The audit controllers as ``create_app`` wires them, without its
    authentication (the stand-in signs people in), so these tests keep
    testing audits whatever the sign-in machinery does."""

    @asynccontextmanager
    async def database(app: Litestar) -> AsyncIterator[None]:
        app.state.pool = await create_pool(settings, database_url)
        try:
            yield
        finally:
            await app.state.pool.close()

    return Litestar(
        route_handlers=[AuditController, ContributionController, ActionController],
        lifespan=[database],
        exception_handlers=dict(EXCEPTION_HANDLERS),
        state=State({"settings": settings, "toolkits": toolkits}),
        request_max_body_size=settings.max_body_bytes,
        middleware=[_stand_in_auth],
        openapi_config=None,
    )


@pytest.fixture(scope="session", name="stand_in_client")
async def stand_in_client_fixture(settings: Settings, database_url: str, toolkits: Registry) -> AsyncIterator[Any]:
    async with AsyncTestClient(app=stand_in_app(settings, database_url, toolkits)) as client:
        yield client


@pytest.fixture(name="people")
async def people_fixture(database_url: str, stand_in_client: Any) -> People:
    """The demo personas, signed in."""
    return await stand_in_people(stand_in_client, database_url)
