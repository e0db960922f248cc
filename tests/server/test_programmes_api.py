"""Audit programmes: a themed round set up by the partnership's
administrator or coordinator, its cases imported from CSV — every line
checked and reported by number, nothing imported until every line is
right — and its progress per audit and per agency."""

from __future__ import annotations

from typing import Any

from tests.server.audit_fixtures import (
    People,
    draft_and_submit,
    people_fixture,  # noqa: F401 - fixture
    request,
)

FIVE_CASES = """case_reference,agencies
N-101,demo-police;demo-health
N-102,demo-police;demo-health
N-103,demo-health;demo-polis
N-104,demo-health
N-105,demo-police;demo-school
"""


async def a_programme(people: People, persona: str = "admin", **changes: Any) -> dict[str, Any]:
    body = {
        "name": "Neglect, Q1",
        "toolkit": "multi-agency-cp",
        "focus": "Neglect of children under five",
        "period_start": "2026-01-01",
        "period_end": "2026-03-31",
        "selection_criteria": "Children on a plan for neglect, reviewed in the quarter",
        "agencies": ["demo-police", "demo-health"],
        **changes,
    }
    created = await request(people, persona, "POST", "/api/programmes", json=body)
    assert created.status_code == 201, created.text
    programme: dict[str, Any] = created.json()
    return programme


async def import_csv(people: People, programme: dict[str, Any], text: str, persona: str = "coordinator") -> Any:
    return await request(
        people,
        persona,
        "POST",
        f"/api/programmes/{programme['id']}/cases.csv",
        content=text.encode(),
        headers={"Content-Type": "text/csv"},
    )


async def progress(people: People, programme: dict[str, Any], persona: str = "coordinator") -> dict[str, Any]:
    response = await request(people, persona, "GET", f"/api/programmes/{programme['id']}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_programmes_cases_are_imported_and_a_bad_line_stops_the_whole_file(people: People) -> None:
    programme = await a_programme(people)  # set up by the administrator
    assert programme["audits"] == 0 and len(programme["agency_ids"]) == 2
    # Cases are audits: a coordinator creates them.
    assert (await import_csv(people, programme, FIVE_CASES, persona="admin")).status_code == 403

    refused = await import_csv(people, programme, FIVE_CASES)
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"field": "$.lines[4].agencies", "message": "line 4: demo-polis is not an organisation of the partnership"}
    ]
    assert (await progress(people, programme))["audits_by_case"] == []

    imported = await import_csv(people, programme, FIVE_CASES.replace("demo-polis", "demo-police"))
    assert imported.status_code == 201, imported.text
    assert len(imported.json()["audit_ids"]) == 5

    seen = await progress(people, programme, persona="reviewer")
    assert [a["case_reference"] for a in seen["audits_by_case"]] == ["N-101", "N-102", "N-103", "N-104", "N-105"]
    assert {a["status"] for a in seen["audits_by_case"]} == {"draft"}
    assert [a["agencies"] for a in seen["audits_by_case"]] == [2, 2, 2, 1, 2], seen
    assert seen["invited"] == 9 and seen["submitted"] == 0
    police = next(a for a in seen["agencies"] if a["organisation_name"] == "Demo Police")
    assert police["audits"] == 4

    again = await import_csv(people, programme, "case_reference,agencies\nN-101,demo-health\nN-106,\n")
    assert again.status_code == 422
    assert [e["message"] for e in again.json()["errors"]] == [
        "line 2: N-101 is in the programme already",
        "line 3: name at least one agency, by its code",
    ]


async def test_a_programmes_progress_counts_what_agencies_have_submitted(people: People) -> None:
    programme = await a_programme(people, persona="coordinator", name="Neglect, Q2")
    added = await request(
        people,
        "coordinator",
        "POST",
        f"/api/programmes/{programme['id']}/cases",
        json={"cases": [{"case_reference": "C-1001", "agencies": ["demo-health", "demo-police"]}]},
    )
    assert added.status_code == 201, added.text
    audit_id = added.json()["audit_ids"][0]
    audit = (await request(people, "coordinator", "GET", f"/api/audits/{audit_id}")).json()
    # The coordinator completes the case details and distributes it.
    from tests.server.audit_fixtures import CASE_DETAILS

    changed = await request(
        people,
        "coordinator",
        "PATCH",
        f"/api/audits/{audit_id}",
        json={"case_details": CASE_DETAILS},
        headers={"If-Match": f'"{audit["row_version"]}"'},
    )
    assert changed.status_code == 200, changed.text
    opened = await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{audit_id}/status",
        json={"status": "open"},
        headers={"If-Match": changed.headers["etag"]},
    )
    assert opened.status_code == 200, opened.text
    await draft_and_submit(people, "health", opened.json())
    seen = await progress(people, programme)
    assert seen["audits_by_case"][0]["submitted"] == 1 and seen["submitted"] == 1
    assert next(a for a in seen["agencies"] if a["organisation_name"] == "Demo NHS Foundation Trust")["submitted"] == 1


async def test_programmes_are_set_up_by_coordinators_and_administrators_and_checked(people: People) -> None:
    assert (await request(people, "health", "GET", "/api/programmes")).status_code == 403
    assert (await request(people, "reviewer", "POST", "/api/programmes", json={})).status_code == 403
    wrong = await request(
        people,
        "coordinator",
        "POST",
        "/api/programmes",
        json={
            "name": " ",
            "toolkit": "nope",
            "period_start": "2026-03-01",
            "period_end": "2026-01-01",
            "agencies": ["demo-nowhere"],
        },
    )
    assert wrong.status_code == 422
    assert [e["field"] for e in wrong.json()["errors"]] == ["$.name", "$.toolkit", "$.period_end", "$.agencies[0]"]
    await a_programme(people)
    twice = await request(
        people, "coordinator", "POST", "/api/programmes", json={"name": "Neglect, Q1", "toolkit": "multi-agency-cp"}
    )
    assert twice.status_code == 409
    assert [p["name"] for p in (await request(people, "reviewer", "GET", "/api/programmes")).json()] == ["Neglect, Q1"]


async def test_the_programme_filters_the_audits_list_the_themes_and_the_grades_export(people: People) -> None:
    """One programme's audits only, in the list, the themes (counted from
    their summaries) and the grades export; an audit outside it is left out,
    and the programme's themes are exactly what the partnership-wide counts
    give for the same audits."""
    from tests.server.audit_fixtures import CASE_DETAILS, a_draft_audit

    programme = await a_programme(people, persona="coordinator", name="Neglect, Q3")
    added = await request(
        people,
        "coordinator",
        "POST",
        f"/api/programmes/{programme['id']}/cases",
        json={"cases": [{"case_reference": "P-3001", "agencies": ["demo-health", "demo-police"]}]},
    )
    assert added.status_code == 201, added.text
    in_programme = added.json()["audit_ids"][0]
    audit = (await request(people, "coordinator", "GET", f"/api/audits/{in_programme}")).json()
    changed = await request(
        people,
        "coordinator",
        "PATCH",
        f"/api/audits/{in_programme}",
        json={"case_details": CASE_DETAILS},
        headers={"If-Match": f'"{audit["row_version"]}"'},
    )
    assert changed.status_code == 200, changed.text
    opened = await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{in_programme}/status",
        json={"status": "open"},
        headers={"If-Match": changed.headers["etag"]},
    )
    assert opened.status_code == 200, opened.text
    await draft_and_submit(people, "health", opened.json())
    outside = (await a_draft_audit(people, participants=["health", "police"]))["id"]  # in no programme
    only = f"programme={programme['id']}"

    listed = (await request(people, "coordinator", "GET", f"/api/audits?{only}&limit=100")).json()
    assert [a["id"] for a in listed["audits"]] == [in_programme] and listed["total"] == 1
    every = (await request(people, "coordinator", "GET", "/api/audits?limit=100")).json()
    assert {in_programme, outside} <= {a["id"] for a in every["audits"]}

    themes = await request(people, "reviewer", "GET", f"/api/reports/themes?{only}")
    assert themes.status_code == 200, themes.text
    assert themes.json()["audits"] == 1
    assert (await request(people, "reviewer", "GET", "/api/reports/themes")).json()["audits"] == 2
    # The open audits are the programme's one: both ways of counting agree.
    open_everywhere = (await request(people, "reviewer", "GET", "/api/reports/themes?status=open")).json()
    open_in_programme = (await request(people, "reviewer", "GET", f"/api/reports/themes?status=open&{only}")).json()
    for part in ("audits", "sections", "agency_kinds", "trend", "immediate_concerns", "overdue_total"):
        assert open_in_programme[part] == open_everywhere[part], part
    assert any(kind["agency_kind"] == "health" for kind in open_in_programme["agency_kinds"])
    drafts_in_programme = (await request(people, "reviewer", "GET", f"/api/reports/themes?status=draft&{only}")).json()
    assert drafts_in_programme["audits"] == 0

    exported = await request(people, "reviewer", "GET", f"/api/exports/grades.csv?{only}")
    assert exported.status_code == 200, exported.text
    rows = exported.text.splitlines()[1:]
    assert rows and all(in_programme in row for row in rows)
    assert outside in (await request(people, "reviewer", "GET", "/api/exports/grades.csv")).text

    nowhere = "00000000-0000-4000-8000-000000000000"
    for url in (
        "/api/reports/themes?programme=neglect",
        f"/api/reports/themes?programme={nowhere}",
        f"/api/exports/grades.csv?programme={nowhere}",
        "/api/exports/grades.csv?programme=neglect",
    ):
        refused = await request(people, "reviewer", "GET", url)
        assert refused.status_code == 422, url
        assert [e["field"] for e in refused.json()["errors"]] == ["programme"], url
    assert (await request(people, "coordinator", "GET", "/api/audits?programme=neglect")).status_code == 400
