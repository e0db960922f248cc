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
from collections.abc import Mapping
from typing import Any, Protocol
from uuid import UUID

import httpx
import pytest
from litestar import Litestar

from tests.identity import ALL_PERSONAS, signed_in_people

# Persona → organisation code, as the identity helpers name them.
ORGANISATION_OF = {
    "coordinator": "demo-csc",
    "social-care": "demo-csc",
    "health": "demo-health",
    "police": "demo-police",
    "education": "demo-school",
    "reviewer": "demo-partnership-team",
    "health-2": "demo-health-2",
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
# The personas sign in with real tokens from the development identity
# provider, through the application exactly as create_app wires it.


@pytest.fixture(name="people")
async def people_fixture(app: Litestar, client: Any) -> People:
    """The demo personas (and health-2, another health trust), signed in."""
    return await signed_in_people(app, client, ALL_PERSONAS)
