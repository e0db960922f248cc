"""Learning: the administrator keeps the partnership's themes; a reviewer
tags what agencies wrote as key learning; the dashboard counts themes for
everyone who reads reports and shows the passages, and searches them, for
those who oversee the partnership."""

from __future__ import annotations

from typing import Any

from tests.server.action_plan_fixtures import an_open_early_help_audit, submitted_with_actions
from tests.server.audit_fixtures import (
    People,
    people_fixture,  # noqa: F401 - fixture
    request,
)


async def a_theme(people: People, name: str) -> dict[str, Any]:
    added = await request(people, "admin", "POST", "/api/admin/learning-themes", json={"name": name})
    assert added.status_code == 201, added.text
    theme: dict[str, Any] = added.json()
    return theme


async def test_a_reviewer_tags_learning_with_the_administrators_themes_and_the_dashboard_counts_them(
    people: People,
) -> None:
    voice = await a_theme(people, "Voice of the child")
    await a_theme(people, "Information sharing")
    assert (
        await request(people, "admin", "POST", "/api/admin/learning-themes", json={"name": "Voice of the child"})
    ).status_code == 409
    assert (
        await request(people, "reviewer", "POST", "/api/admin/learning-themes", json={"name": "x"})
    ).status_code == 403

    audit = await an_open_early_help_audit(people, participants=["police"])
    await submitted_with_actions(people, "police", audit)
    learning = await request(people, "reviewer", "GET", f"/api/audits/{audit['id']}/learning")
    assert learning.status_code == 200, learning.text
    passages = learning.json()["passages"]
    key = next(p for p in passages if p["question_id"] == "key-learning-notes")
    assert key["kind"] == "key-learning" and key["organisation_name"] == "Demo Police" and key["theme_ids"] == []

    url = f"/api/audits/{audit['id']}/learning/tags"
    body = {"organisation_id": key["organisation_id"], "question_id": "key-learning-notes", "theme_ids": [voice["id"]]}
    assert (await request(people, "coordinator", "PUT", url, json=body)).status_code == 403
    tagged = await request(people, "reviewer", "PUT", url, json=body)
    assert tagged.status_code == 200, tagged.text
    assert tagged.json()["theme_ids"] == [voice["id"]]
    wrong = await request(people, "reviewer", "PUT", url, json={**body, "theme_ids": [audit["id"]]})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "$.theme_ids[0]"
    missing = await request(people, "reviewer", "PUT", url, json={**body, "question_id": "no-such-question"})
    assert missing.status_code == 404

    counts = {
        t["name"]: t["passages"] for t in (await request(people, "police", "GET", "/api/learning")).json()["themes"]
    }
    assert counts == {"Voice of the child": 1, "Information sharing": 0}
    behind = await request(people, "reviewer", "GET", f"/api/learning?theme={voice['id']}")
    assert [(p["case_reference"], p["text"]) for p in behind.json()["passages"]] == [("CF-4711", key["text"])]
    (shown,) = behind.json()["passages"]
    assert (shown["kind"], shown["organisation_name"], shown["theme_ids"]) == (
        "key-learning",
        "Demo Police",
        [voice["id"]],
    )
    # An agency's auditor sees the counts, not the passages behind them.
    assert (await request(people, "police", "GET", f"/api/learning?theme={voice['id']}")).json()["passages"] == []

    found = await request(people, "reviewer", "GET", "/api/learning?q=case+notes")
    assert key["text"] in [p["text"] for p in found.json()["passages"]]
    assert (await request(people, "reviewer", "GET", "/api/learning?q=nowhere-to-be-found")).json()["passages"] == []

    retired = await request(
        people, "admin", "PATCH", f"/api/admin/learning-themes/{voice['id']}", json={"active": False}
    )
    assert retired.status_code == 200 and retired.json()["active"] is False
    assert (await request(people, "reviewer", "PUT", url, json=body)).status_code == 422
