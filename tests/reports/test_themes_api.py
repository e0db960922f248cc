"""The themes dashboard's numbers, over a small partnership built through the
real API, checked against what a person works out by hand; and who sees what.

The data set (multi-agency-cp, whose sections take the weakest agency's
grade):

- audit A, health and police: both submit every section graded 2, except
  that police grades section S (one both answer) 4; a reviewer moderates S
  to 3. So S is disagreed on and moderated; the partnership's S is 3,
  health's own S is 2, police's own S is 4. One remedial action on A,
  due last week, for police.
- audit B, health only: health saves a draft and does not submit, so none
  of B's sections is graded yet.
"""

from __future__ import annotations

import datetime
from typing import Any

import asyncpg

from server.db.themes import AuditSummaryRow, stored_summary
from server.reports.themes import add_agency_counts, add_section_counts, agency_counts, section_counts
from tests.server.audit_fixtures import (
    People,
    an_open_audit,
    complete_answers,
    contribution_url,
    people_fixture,  # noqa: F401 - fixture
    read_audit,
    request,
    save_draft,
    submit,
)

THEMES = "/api/reports/themes"
LAST_WEEK = (datetime.date.today() - datetime.timedelta(days=7)).isoformat()
THIS_QUARTER = f"{datetime.date.today().year}-Q{(datetime.date.today().month - 1) // 3 + 1}"


def graded_sections(audit_view: dict[str, Any]) -> list[str]:
    return [
        s["id"]
        for s in audit_view["questions"]["sections"]
        if s.get("completed_by", "agency") == "agency" and s.get("judgement") is not None
    ]


async def submitted_with(people: People, persona: str, audit: dict[str, Any], grades: dict[str, int]) -> None:
    content = complete_answers(await read_audit(people, persona, audit))
    for section, grade in grades.items():
        content["judgements"][section]["grade"] = grade
    saved = await save_draft(people, persona, audit, content)
    assert saved.status_code == 200, saved.text
    done = await submit(people, persona, audit)
    assert done.status_code == 200, done.text


async def the_partnership(people: People) -> str:
    """Builds audits A and B; returns the section S."""
    a = await an_open_audit(people, participants=["health", "police"])
    both = [
        s
        for s in graded_sections(await read_audit(people, "health", a))
        if s in graded_sections(await read_audit(people, "police", a))
    ]
    s = both[0]
    # Health first: police's submission then runs in a transaction that
    # cannot see health's contribution, and must still count it.
    await submitted_with(people, "health", a, {})
    await submitted_with(people, "police", a, {s: 4})
    judgement = await request(people, "reviewer", "GET", f"/api/audits/{a['id']}/judgement")
    moderated = await request(
        people,
        "reviewer",
        "PUT",
        f"/api/audits/{a['id']}/judgement/sections/{s}",
        json={"grade": 3, "reason": "the panel read the police records"},
        headers={"If-Match": judgement.headers["etag"]},
    )
    assert moderated.status_code == 200, moderated.text
    action = await request(
        people,
        "reviewer",
        "POST",
        f"/api/audits/{a['id']}/actions",
        json={
            "action": "Police to share strategy meeting minutes",
            "responsible_organisation_id": str(people.organisation_id("police")),
            "due_date": LAST_WEEK,
        },
    )
    assert action.status_code == 201, action.text

    b = await an_open_audit(people, participants=["health"])
    draft = complete_answers(await read_audit(people, "health", b))
    assert (await save_draft(people, "health", b, draft)).status_code == 200
    return s


def section(body: dict[str, Any], section_id: str) -> dict[str, Any]:
    found = [t for t in body["sections"] if t["toolkit_id"] == "multi-agency-cp" and t["section_id"] == section_id]
    assert len(found) == 1
    return found[0]


def counts(theme: dict[str, Any]) -> dict[int | None, int]:
    return {g["grade"]: g["count"] for g in theme["grades"] if g["count"]}


def agency(body: dict[str, Any], kind: str, section_id: str) -> dict[int | None, int]:
    found = [t for t in body["agency_kinds"] if t["agency_kind"] == kind and t["section_id"] == section_id]
    return counts(found[0]) if found else {}


async def themes(people: People, persona: str, **query: str) -> dict[str, Any]:
    response = await request(people, persona, "GET", THEMES + ("?" + "&".join(f"{k}={v}" for k, v in query.items())))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_dashboard_adds_up_the_partnerships_audits(people: People) -> None:
    s = await the_partnership(people)
    for persona in ("reviewer", "coordinator"):
        body = await themes(people, persona)
        assert body["scope"] == "partnership"
        assert body["audits"] == 2
        assert counts(section(body, s)) == {3: 1, None: 1}
        assert section(body, s)["disagreed"] == 1
        assert section(body, s)["moderated"] == 1
        others = [t for t in body["sections"] if t["section_id"] not in (s, "overall")]
        assert all(t["disagreed"] == 0 and t["moderated"] == 0 for t in others)
        # A's other sections are graded 2 by both; B's are not graded yet.
        both_graded = [t for t in others if counts(t).get(2)]
        assert both_graded and all(counts(t) == {2: 1, None: 1} for t in both_graded)
        # One area requires improvement, the rest good, none inadequate: good.
        assert counts(section(body, "overall")) == {2: 1, None: 1}
        assert agency(body, "health", s) == {2: 1}
        assert agency(body, "police", s) == {4: 1}
        [quarter] = body["trend"]
        assert (quarter["quarter"], quarter["audits"], counts(quarter), quarter["average"]) == (
            THIS_QUARTER,
            2,
            {2: 1, None: 1},
            2.0,
        )
        assert body["overdue_actions"] == [{"agency_kind": "police", "overdue": 1}]
        assert body["overdue_total"] == 1


async def test_filters_narrow_the_audits(people: People) -> None:
    s = await the_partnership(people)
    police = await themes(people, "reviewer", agency_kind="police")
    assert police["audits"] == 1
    assert counts(section(police, s)) == {3: 1}
    assert [t["agency_kind"] for t in police["agency_kinds"]] == ["police"] * len(police["agency_kinds"])
    closed = await themes(people, "reviewer", status="closed")
    assert closed["audits"] == 0 and closed["sections"] == [] and closed["overdue_total"] == 0
    assert (await themes(people, "reviewer", status="open"))["audits"] == 2
    assert (await themes(people, "reviewer", toolkit="tier2-cin-cp"))["audits"] == 0
    assert (await themes(people, "reviewer", **{"from": THIS_QUARTER, "to": THIS_QUARTER}))["audits"] == 2
    assert (await themes(people, "reviewer", **{"from": "2000-Q1", "to": "2000-Q4"}))["audits"] == 0


async def test_an_auditor_sees_only_its_own_organisations_grades(people: People) -> None:
    s = await the_partnership(people)
    health = await themes(people, "health")
    assert health["scope"] == "organisation"
    assert health["sections"] is None and health["trend"] is None and health["audits"] is None
    assert health["immediate_concerns"] is None
    assert {t["agency_kind"] for t in health["agency_kinds"]} == {"health"}
    # Only A's submitted contribution: B's draft is not a grade.
    assert agency(health, "health", s) == {2: 1}
    assert health["overdue_total"] == 0

    police = await themes(people, "police")
    assert {t["agency_kind"] for t in police["agency_kinds"]} == {"police"}
    assert agency(police, "police", s) == {4: 1}
    assert police["overdue_actions"] == [{"agency_kind": "police", "overdue": 1}]

    # Education takes part in nothing; another health trust neither.
    for persona in ("education", "health-2"):
        nothing = await themes(people, persona)
        assert nothing["agency_kinds"] == [] and nothing["overdue_total"] == 0


async def test_bad_filters_are_named(people: People) -> None:
    response = await request(
        people, "reviewer", "GET", f"{THEMES}?from=2025-13&to=soon&toolkit=nope&agency_kind=martians&status=done"
    )
    assert response.status_code == 422, response.text
    assert sorted(e["field"] for e in response.json()["errors"]) == ["agency_kind", "from", "status", "to", "toolkit"]
    backwards = await request(people, "reviewer", "GET", f"{THEMES}?from=2025-Q3&to=2025-Q1")
    assert backwards.status_code == 422
    assert [e["field"] for e in backwards.json()["errors"]] == ["to"]


async def test_reading_the_themes_is_recorded(people: People, db: asyncpg.Connection[Any]) -> None:
    await themes(people, "reviewer", status="open")
    row = await db.fetchrow("SELECT action, detail::text FROM events WHERE action = 'themes.read'")
    assert row is not None and '"status": "open"' in row["detail"]


async def test_counted_rows_match_the_summaries_after_every_change(people: People, db: asyncpg.Connection[Any]) -> None:
    """Every refresh moves an audit's counts; after many of them (creation,
    drafts, submissions, moderation, a return, status changes) the counted
    rows must equal the counts of the summaries as they now stand."""
    await the_partnership(people)
    a = await an_open_audit(people, participants=["police"])
    await submitted_with(people, "police", a, {})
    url = contribution_url(a, people, "police")
    current = await request(people, "police", "GET", url)
    coordinator_view = await request(people, "coordinator", "GET", url)
    returned = await request(
        people,
        "coordinator",
        "POST",
        f"{url}/return",
        json={"comment": "please add the strategy meeting"},
        headers={"If-Match": coordinator_view.headers["etag"]},
    )
    assert current.status_code == 200 and returned.status_code == 200, returned.text

    rows = await db.fetch("SELECT audit_id FROM audit_summaries")
    assert len(rows) == 3
    summaries: list[AuditSummaryRow] = []
    for row in rows:
        summary = await stored_summary(db, row["audit_id"])
        assert summary is not None
        summaries.append(summary)
    expected_sections: dict[Any, Any] = {}
    expected_agencies: dict[Any, int] = {}
    for summary in summaries:
        add_section_counts(expected_sections, section_counts(summary))
        add_agency_counts(expected_agencies, agency_counts(summary))
    stored_sections = {
        (str(r[0]), r[1], r[2], r[3], r[4], r[5], r[6]): (r[7], r[8], r[9], r[10], r[11])
        for r in await db.fetch(
            "SELECT partnership_id, participating_kind, quarter, toolkit_id, status, section_id, grade, audits, "
            "disagreed, moderated, provisional, concerns FROM theme_section_counts"
        )
        if any((r[7], r[8], r[9], r[10], r[11]))
    }
    assert stored_sections == expected_sections
    stored_agencies = {
        (str(r[0]), r[1], r[2], r[3], str(r[4]), r[5], r[6], r[7]): r[8]
        for r in await db.fetch(
            "SELECT partnership_id, quarter, toolkit_id, status, organisation_id, agency_kind, section_id, grade, "
            "grades FROM theme_agency_counts WHERE grades <> 0"
        )
    }
    assert stored_agencies == expected_agencies
    # The returned contribution no longer counts: only police's grades of A
    # (the other audit) remain for police.
    police_grades = await db.fetchval(
        "SELECT sum(grades) FROM theme_agency_counts WHERE agency_kind = 'police' AND section_id = 'overall'"
    )
    assert police_grades == 1
