"""The multi-agency panel's record: written by the partnership between
"in review" and "closed", editable until closure, part of the report."""

from __future__ import annotations

import datetime
from typing import Any

from tests.server.audit_fixtures import (
    People,
    an_open_audit,
    draft_and_submit,
    people_fixture,  # noqa: F401 - fixture
    read_audit,
    request,
)

TODAY = datetime.date.today()


async def moved(people: People, audit: dict[str, Any], status: str) -> dict[str, Any]:
    """The audit moved on; closed with what is outstanding confirmed (no
    overall grade agreed, here), as closing since issue 17 requires."""
    current = await read_audit(people, "coordinator", audit)
    closing = {"confirm_outstanding": True, "reason": "The panel agreed its record"} if status == "closed" else {}
    response = await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{audit['id']}/status",
        json={"status": status, **closing},
        headers={"If-Match": f'"{current["row_version"]}"'},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def an_audit_in_review(people: People) -> dict[str, Any]:
    audit = await an_open_audit(people, participants=["health", "police"])
    await draft_and_submit(people, "health", audit)
    await draft_and_submit(people, "police", audit)
    return await moved(people, audit, "in-review")


def a_record(people: People, **changes: Any) -> dict[str, Any]:
    return {
        "held_on": TODAY.isoformat(),
        "attendees": [
            {"organisation_id": str(people.organisation_id("health")), "role": "Designated nurse"},
            {"organisation_id": str(people.organisation_id("police")), "role": "Detective sergeant, MASH"},
        ],
        "section_narratives": {"referral": "Police and health agreed the referral was timely but thin."},
        "overall_narrative": "Good multi-agency work, with the child's voice missing from the plan.",
        "decisions": [
            {"decision": "Agree the referral grade as good", "made_by_organisation_id": None},
            {
                "decision": "Police to brief MASH staff",
                "made_by_organisation_id": str(people.organisation_id("police")),
            },
        ],
        **changes,
    }


async def test_the_panel_record_is_written_in_review_kept_in_the_report_and_final_once_closed(people: People) -> None:
    audit = await an_audit_in_review(people)
    url = f"/api/audits/{audit['id']}/panel"
    empty = await request(people, "reviewer", "GET", url)
    assert empty.status_code == 200 and empty.json()["row_version"] == 0 and empty.json()["editable"] is True

    written = await request(people, "reviewer", "PUT", url, json=a_record(people), headers={"If-Match": '"0"'})
    assert written.status_code == 200, written.text
    assert written.json()["decisions"][1]["made_by_organisation_id"] == str(people.organisation_id("police"))
    stale = await request(people, "coordinator", "PUT", url, json=a_record(people), headers={"If-Match": '"0"'})
    assert stale.status_code == 412
    edited = await request(
        people,
        "coordinator",
        "PUT",
        url,
        json=a_record(people, overall_narrative="Agreed after discussion: good, with the child's voice missing."),
        headers={"If-Match": written.headers["etag"]},
    )
    assert edited.status_code == 200, edited.text

    report = await request(people, "reviewer", "GET", f"/api/audits/{audit['id']}/report.html")
    assert report.status_code == 200
    assert "The multi-agency panel" in report.text and "Agreed after discussion" in report.text
    assert (
        "<bdi>Detective sergeant, MASH</bdi>, <bdi>Demo Police</bdi>" in report.text
        and "Police to brief MASH staff" in report.text
    )

    await moved(people, audit, "closed")
    final = await request(
        people, "reviewer", "PUT", url, json=a_record(people), headers={"If-Match": edited.headers["etag"]}
    )
    assert final.status_code == 409
    assert "reopen the audit first" in final.json()["detail"] and final.json()["allowed"] == ["open"]
    assert (await request(people, "reviewer", "GET", url)).json()["editable"] is False


async def test_the_panel_record_names_every_problem(people: People) -> None:
    audit = await an_audit_in_review(people)
    url = f"/api/audits/{audit['id']}/panel"
    wrong = a_record(
        people,
        held_on=(TODAY + datetime.timedelta(days=1)).isoformat(),
        attendees=[{"organisation_id": "00000000-0000-0000-0000-000000000001", "role": " "}],
        section_narratives={"no-such-section": "x"},
        decisions=[{"decision": ""}],
    )
    response = await request(people, "reviewer", "PUT", url, json=wrong, headers={"If-Match": '"0"'})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [
        "$.held_on",
        "$.attendees[0].organisation_id",
        "$.attendees[0].role",
        "$.section_narratives.no-such-section",
        "$.decisions[0].decision",
    ]


async def test_the_panel_is_the_partnerships_and_meets_only_once_the_audit_is_in_review(people: People) -> None:
    audit = await an_open_audit(people, participants=["health"])
    url = f"/api/audits/{audit['id']}/panel"
    assert (await request(people, "health", "GET", url)).status_code == 403
    assert (await request(people, "health", "PUT", url, json={}, headers={"If-Match": '"0"'})).status_code == 403
    early = await request(people, "reviewer", "PUT", url, json=a_record(people), headers={"If-Match": '"0"'})
    assert early.status_code == 409 and "in review" in early.json()["detail"]
