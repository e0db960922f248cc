"""An audit with the early-help tool (seed 004), whose last section is the
table "Please note any required remedial actions … Action | Who / When":
what an agency writes there becomes tracked actions when it submits."""

from __future__ import annotations

from typing import Any

from tests.server.audit_fixtures import (
    ORGANISATION_OF,
    People,
    complete_answers,
    contribution_url,
    read_audit,
    request,
    save_draft,
    submit,
)

EARLY_HELP = "childs-journey-early-help"

# Every case detail of the early-help tool, as a coordinator fills them in.
EARLY_HELP_CASE: dict[str, Any] = {
    "answers": {
        "child-initials": {"value": "JE"},
        "cf-ecins-id": {"value": "CF-4711"},
        "age": {"value": 10},
        "ethnicity": {"value": "White British"},
        "language": {"value": "English"},
        "religion": {"value": "None"},
        "allocated-workers": {"value": "Sam Worker"},
        "responsible-team": {"value": "Early Help North"},
        "team-manager": {"value": "Alex Manager"},
        "child-status": {"value": ["early-help"]},
        "stepped-down": {"value": "no"},
        "stepped-up": {"value": "no"},
    }
}

ACTIONS_ROWS = [
    {"action": "Share the missing-episode log with the early help worker", "who-when": "Police MASH / within a month"},
    {"action": "Record the child's voice at every visit", "who-when": "Team manager / next visit"},
]


async def an_open_early_help_audit(people: People, *, participants: list[str]) -> dict[str, Any]:
    created = await request(
        people,
        "coordinator",
        "POST",
        "/api/audits",
        json={
            "toolkit": EARLY_HELP,
            "participants": [ORGANISATION_OF[p] for p in participants],
            "case_details": EARLY_HELP_CASE,
        },
    )
    assert created.status_code == 201, created.text
    opened = await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{created.json()['id']}/status",
        json={"status": "open"},
        headers={"If-Match": created.headers["etag"]},
    )
    assert opened.status_code == 200, opened.text
    audit: dict[str, Any] = opened.json()
    return audit


def with_actions(content: dict[str, Any], rows: list[dict[str, str]]) -> dict[str, Any]:
    answers = {**content["answers"], "remedial-actions-required": {"value": rows}}
    return {**content, "answers": answers}


async def submitted_with_actions(
    people: People, persona: str, audit: dict[str, Any], rows: list[dict[str, str]] | None = None
) -> None:
    """The agency answers every question, writes ``rows`` in its action table and submits."""
    seen = await read_audit(people, persona, audit)
    saved = await save_draft(people, persona, audit, with_actions(complete_answers(seen), rows or ACTIONS_ROWS))
    assert saved.status_code == 200, saved.text
    submitted = await submit(people, persona, audit)
    assert submitted.status_code == 200, submitted.text


async def amended_with_actions(people: People, persona: str, audit: dict[str, Any], rows: list[dict[str, str]]) -> Any:
    url = contribution_url(audit, people, persona)
    current = await request(people, persona, "GET", url)
    content = with_actions(current.json()["content"], rows)
    return await request(
        people,
        persona,
        "PUT",
        url,
        json={**content, "reason": "The panel asked for a clearer action"},
        headers={"If-Match": current.headers["etag"]},
    )
