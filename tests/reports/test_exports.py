"""Exports for analysts through the real API: grades as CSV and XLSX read
back, an audit as JSON, contributions as FHIR QuestionnaireResponses checked
with fhir.resources — each scoped to what the caller may see."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import asyncpg
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from openpyxl import load_workbook

from server.reports.exports import COLUMNS
from tests.reports.test_report import (
    EDUCATION_DRAFT,
    HEALTH_RECOMMENDATION,
    IN_REVIEW_REASON,
    POLICE_RECOMMENDATION,
    a_reviewed_audit,
    move,
)
from tests.server.audit_fixtures import (
    People,
    an_open_audit,
    complete_answers,
    people_fixture,  # noqa: F401 - fixture
    read_audit,
    request,
    save_draft,
    submit,
)
from toolkits.fhir import questionnaire
from toolkits.registry import Registry

GRADED_BY_HEALTH = {
    "history-of-involvement",
    "referral",
    "immediate-response",
    "assessment-s47-enquiry",
    "planning-implementing-plan",
    "review",
    "management-supervision",
    "recording-minutes",
}


def csv_rows(body: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(body))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return list(reader)


async def grades_csv(people: People, persona: str, query: str = "") -> list[dict[str, str]]:
    response = await request(people, persona, "GET", f"/api/exports/grades.csv{query}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    return csv_rows(response.text)


async def test_the_grades_csv_has_a_row_per_audit_agency_and_section_and_no_draft_grade(people: People) -> None:
    audit = await a_reviewed_audit(people)
    rows = await grades_csv(people, "coordinator")
    assert {r["audit_id"] for r in rows} == {audit["id"]}
    by_agency: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_agency.setdefault(row["agency_kind"], []).append(row)
    assert set(by_agency) == {"health", "police", "education"}
    health = {r["section_id"]: r for r in by_agency["health"]}
    assert set(health) >= GRADED_BY_HEALTH
    assert {(r["grade"], r["grade_label"], r["contribution_status"]) for r in by_agency["health"]} == {
        ("1", "Outstanding", "submitted")
    }
    assert {r["grade"] for r in by_agency["police"]} == {"3"}
    # Education has only a draft: its rows say so, with no grade.
    assert {(r["grade"], r["contribution_status"]) for r in by_agency["education"]} == {("", "in-progress")}
    row = health["referral"]
    assert row["toolkit"] == "multi-agency-cp" and row["toolkit_version"] == "2"
    assert (row["audit_status"], row["period_start"], row["period_end"]) == ("open", "2025-01-01", "2025-12-31")
    assert row["organisation_code"] == "demo-health" and row["section_title"] == "3. Referral"
    assert row["submitted_at"]
    # Nothing of the case or the answers.
    body = (await request(people, "coordinator", "GET", "/api/exports/grades.csv")).text
    for words in ("C-1001", "Mother", HEALTH_RECOMMENDATION, EDUCATION_DRAFT, "impact seen by"):
        assert words not in body


async def test_the_xlsx_holds_the_same_rows_as_the_csv(people: People) -> None:
    await a_reviewed_audit(people)
    expected = await grades_csv(people, "reviewer")
    response = await request(people, "reviewer", "GET", "/api/exports/grades.xlsx")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content), read_only=True)["Grades"]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert tuple(values[0]) == COLUMNS
    read_back = [
        # A read-only sheet leaves out empty cells at the end of a row.
        {column: "" if cell is None else str(cell) for column, cell in zip(COLUMNS, [*row, None, None], strict=False)}
        for row in values[1:]
    ]
    assert len(read_back) == len(expected)
    for got, want in zip(read_back, expected, strict=True):
        for column in ("audit_id", "organisation_code", "section_id", "section_title", "grade", "grade_label"):
            assert got[column] == want[column]
        assert got["period_start"].startswith(want["period_start"])


async def test_an_auditor_exports_only_its_own_organisations_rows(people: People) -> None:
    audit = await a_reviewed_audit(people)
    await a_reviewed_audit(people)  # a second audit, health takes part in it too
    health = await grades_csv(people, "health")
    assert {r["organisation_code"] for r in health} == {"demo-health"}
    assert len({r["audit_id"] for r in health}) == 2
    education = await grades_csv(people, "education")
    assert {r["organisation_code"] for r in education} == {"demo-school"}
    assert {r["grade"] for r in education} == {""}
    # An agency in no audit gets the header and nothing else.
    assert await grades_csv(people, "health-2") == []
    xlsx = await request(people, "police", "GET", "/api/exports/grades.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True)["Grades"]
    codes = {row[COLUMNS.index("organisation_code")] for row in list(sheet.iter_rows(values_only=True))[1:]}
    assert codes == {"demo-police"}
    del audit


async def test_the_filters_are_the_dashboards_and_bad_ones_are_named(people: People) -> None:
    audit = await a_reviewed_audit(people)
    assert {r["agency_kind"] for r in await grades_csv(people, "reviewer", "?agency_kind=police")} == {"police"}
    assert await grades_csv(people, "reviewer", "?status=closed") == []
    assert len(await grades_csv(people, "reviewer", "?status=open&toolkit=multi-agency-cp")) > 0
    assert await grades_csv(people, "reviewer", "?toolkit=tier2-cin-cp") == []
    assert await grades_csv(people, "reviewer", "?from=2000-Q1&to=2000-Q4") == []
    assert {r["audit_id"] for r in await grades_csv(people, "reviewer", "?from=2000-Q1")} == {audit["id"]}
    # The last representable quarter has no next one: still a range, not a 500.
    assert {r["audit_id"] for r in await grades_csv(people, "reviewer", "?to=9999-Q4")} == {audit["id"]}
    bad = await request(
        people, "reviewer", "GET", "/api/exports/grades.csv?from=2025&to=2024-Q5&status=done&agency_kind=x&toolkit=y"
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in bad.json()["errors"]} == {"from", "to", "status", "agency_kind", "toolkit"}
    assert (await request(people, "reviewer", "GET", "/api/exports/grades.xlsx?status=done")).status_code == 422
    assert (await people.client.get("/api/exports/grades.csv")).status_code == 401


BAD_FILTERS = [
    ("?from=2025", {"from"}),
    ("?to=2024-Q5", {"to"}),
    ("?from=2025-Q3&to=2025-Q1", {"to"}),
    ("?toolkit=no-such-toolkit", {"toolkit"}),
    ("?agency_kind=fire-service", {"agency_kind"}),
    ("?status=done", {"status"}),
]


async def test_both_formats_refuse_the_same_bad_filter_naming_the_same_field(people: People) -> None:
    for query, fields in BAD_FILTERS:
        refusals = []
        for kind in ("csv", "xlsx"):
            response = await request(people, "reviewer", "GET", f"/api/exports/grades.{kind}{query}")
            assert response.status_code == 422, (kind, query, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            refusals.append(response.json()["errors"])
        csv_errors, xlsx_errors = refusals
        assert {e["field"] for e in csv_errors} == fields, query
        assert xlsx_errors == csv_errors, query


async def test_both_formats_document_the_same_filters(people: People) -> None:
    document = (await people.client.get("/schema/openapi.json")).json()
    parameters = [document["paths"][f"/api/exports/grades.{kind}"]["get"]["parameters"] for kind in ("csv", "xlsx")]
    assert parameters[0] == parameters[1]
    described = {p["name"]: p.get("description") for p in parameters[0] if p["in"] == "query"}
    assert set(described) == {"from", "to", "toolkit", "agency_kind", "status"}
    assert all(described.values())


async def test_the_audit_json_holds_what_each_caller_may_see(people: People) -> None:
    audit = await a_reviewed_audit(people)
    url = f"/api/audits/{audit['id']}/export.json"
    staff = await request(people, "coordinator", "GET", url)
    assert staff.status_code == 200, staff.text
    whole = staff.json()
    assert whole["case_details"]["answers"]["case-identifier"]["value"] == "C-1001"
    parts = {p["agency_kind"]: p for p in whole["contributions"]}
    assert parts["health"]["content"]["answers"]["auditor-recommendations"]["value"] == HEALTH_RECOMMENDATION
    assert parts["education"]["content"] is None  # a draft is never exported to others
    assert EDUCATION_DRAFT not in staff.text
    assert whole["judgement"]["policy"] == "overall-75-25" and len(whole["actions"]) == 2
    assert len(whole["participants"]) == 3

    # An auditor: its own contribution (its draft is its own), its actions.
    education = (await request(people, "education", "GET", url)).json()
    assert [p["agency_kind"] for p in education["contributions"]] == ["education"]
    assert EDUCATION_DRAFT in str(education) and HEALTH_RECOMMENDATION not in str(education)
    assert "judgement" not in education and "partnership_result" not in education and "participants" not in education
    health = await request(people, "health", "GET", url)
    assert POLICE_RECOMMENDATION not in health.text
    assert [a["responsible_organisation_id"] for a in health.json()["actions"]] == [
        str(people.organisation_id("health"))
    ]
    # Once closed, the partnership's grades, and nothing more of the others.
    await move(people, audit, "in-review", IN_REVIEW_REASON)
    await move(people, audit, "closed")
    closed = await request(people, "health", "GET", url)
    assert closed.json()["partnership_result"]["overall_grade"] is not None
    assert POLICE_RECOMMENDATION not in closed.text and "impact seen by police" not in closed.text
    assert (await request(people, "health-2", "GET", url)).status_code == 404


def link_ids(items: list[dict[str, Any]]) -> Iterator[str]:
    for item in items:
        yield item["linkId"]
        yield from link_ids(item.get("item", []))
        for answer in item.get("answer", []):
            yield from link_ids(answer.get("item", []))


async def test_a_contribution_is_a_valid_questionnaire_response_of_the_toolkit(
    people: People, toolkits: Registry
) -> None:
    audit = await a_reviewed_audit(people)
    health_id = people.organisation_id("health")
    url = f"/api/audits/{audit['id']}/contributions/{health_id}/fhir"
    response = await request(people, "reviewer", "GET", url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    resource = response.json()
    parsed = QuestionnaireResponse.model_validate(resource)  # raises on anything FHIR R4 refuses
    toolkit = toolkits.get("multi-agency-cp", 2)  # new audits are of the current version
    assert parsed.questionnaire == "urn:maca:toolkit:multi-agency-cp|2"
    assert parsed.status == "completed"
    assert set(link_ids(resource["item"])) <= set(link_ids(questionnaire(toolkit)["item"]))
    groups = {item["linkId"]: item for item in resource["item"]}
    referral = {item["linkId"]: item for item in groups["referral"]["item"]}
    assert referral["referral.judgement"]["answer"][0]["valueCoding"]["code"] == "1"
    assert referral["referral.judgement"]["answer"][0]["valueCoding"]["display"] == "Outstanding"
    assert groups["overall"]["answer"][0]["valueCoding"]["code"] == "1"
    recommendations = {item["linkId"]: item for item in groups["recommendations"]["item"]}
    assert recommendations["auditor-recommendations"]["answer"] == [{"valueString": HEALTH_RECOMMENDATION}]

    # Every submitted contribution, and an agency's own draft, validate too.
    police = await request(
        people, "coordinator", "GET", url.replace(str(health_id), str(people.organisation_id("police")))
    )
    QuestionnaireResponse.model_validate(police.json())
    own = await request(
        people, "education", "GET", url.replace(str(health_id), str(people.organisation_id("education")))
    )
    assert own.status_code == 200
    assert QuestionnaireResponse.model_validate(own.json()).status == "in-progress"
    # Nobody else sees a draft, nor another agency's part.
    education_url = url.replace(str(health_id), str(people.organisation_id("education")))
    assert (await request(people, "reviewer", "GET", education_url)).status_code == 404
    assert (await request(people, "police", "GET", url)).status_code == 404
    assert (await request(people, "health-2", "GET", url)).status_code == 404


async def test_every_export_is_recorded(people: People, db: asyncpg.Connection[Any]) -> None:
    audit = await a_reviewed_audit(people)
    health_id = people.organisation_id("health")
    for persona, url in (
        ("reviewer", "/api/exports/grades.csv?agency_kind=health"),
        ("health", "/api/exports/grades.xlsx"),
        ("coordinator", f"/api/audits/{audit['id']}/export.json"),
        ("reviewer", f"/api/audits/{audit['id']}/contributions/{health_id}/fhir"),
    ):
        assert (await request(people, persona, "GET", url)).status_code == 200
    rows = await db.fetch(
        "SELECT organisation_id, audit_id, detail FROM events WHERE action = 'export.produced' ORDER BY id"
    )
    got = [(r["organisation_id"], r["audit_id"], r["detail"]) for r in rows]
    details = [d if isinstance(d, dict) else json.loads(d) for _, _, d in got]
    assert [(o, a) for o, a, _ in got] == [
        (people.organisation_id("reviewer"), None),
        (people.organisation_id("health"), None),
        (people.organisation_id("coordinator"), UUID(audit["id"])),
        (people.organisation_id("reviewer"), UUID(audit["id"])),
    ]
    assert [(d["export"], d["format"]) for d in details] == [
        ("grades", "csv"),
        ("grades", "xlsx"),
        ("audit", "json"),
        ("contribution", "fhir"),
    ]
    assert details[0]["agency_kind"] == "health"


async def test_the_csv_says_its_charset_once(people: People) -> None:
    response = await request(people, "reviewer", "GET", "/api/exports/grades.csv")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"


async def partnership_grades(people: People, audit: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Section id → (computed, agreed) grade as the judgement shows them, as
    the export writes them ("" where there is none)."""
    judgement = (await request(people, "reviewer", "GET", f"/api/audits/{audit['id']}/judgement")).json()
    return {
        section["section_id"]: (
            str(section["computed_grade"] or ""),
            str(section["moderation"]["grade"]) if section.get("moderation") else "",
        )
        for section in judgement["sections"]
    }


async def test_the_grades_exports_hold_the_partnerships_computed_and_agreed_grades(people: People) -> None:
    audit = await a_reviewed_audit(people)
    expected = await partnership_grades(people, audit)
    assert expected["referral"][1] == "2"  # the panel agreed Good
    rows = await grades_csv(people, "reviewer")
    for row in rows:
        computed, agreed = expected[row["section_id"]]
        assert (row["partnership_computed_grade"], row["partnership_agreed_grade"]) == (computed, agreed), row
    referral = [r for r in rows if r["section_id"] == "referral"]
    assert {(r["partnership_agreed_grade"], r["partnership_agreed_label"]) for r in referral} == {("2", "Good")}
    assert {r["partnership_computed_label"] for r in referral} == {
        {"1": "Outstanding", "2": "Good", "3": "Adequate", "4": "Inadequate"}[expected["referral"][0]]
    }
    # Sections nobody moderated have no agreed grade.
    assert {r["partnership_agreed_grade"] for r in rows if r["section_id"] != "referral"} == {""}

    response = await request(people, "reviewer", "GET", "/api/exports/grades.xlsx")
    sheet = load_workbook(io.BytesIO(response.content), read_only=True)["Grades"]
    values = [dict(zip(COLUMNS, row, strict=False)) for row in list(sheet.iter_rows(values_only=True))[1:]]
    referral_cells = {
        (v["partnership_agreed_grade"], v["partnership_agreed_label"]) for v in values if v["section_id"] == "referral"
    }
    assert referral_cells == {(2, "Good")}


async def test_an_auditor_sees_the_partnerships_grades_in_the_export_once_the_audit_is_closed(
    people: People,
) -> None:
    audit = await a_reviewed_audit(people)
    open_rows = await grades_csv(people, "health")
    assert {(r["partnership_computed_grade"], r["partnership_agreed_grade"]) for r in open_rows} == {("", "")}
    await move(people, audit, "in-review", IN_REVIEW_REASON)
    await move(people, audit, "closed")
    closed = {r["section_id"]: r for r in await grades_csv(people, "health")}
    assert closed["referral"]["partnership_agreed_grade"] == "2"
    assert all(r["partnership_computed_grade"] for r in closed.values())


async def test_the_grades_exports_mark_a_section_the_agency_was_not_involved_in_once_it_submits(
    people: People,
) -> None:
    """Issue 17: not-involved sections are "exported". The school says it had
    no part in the S.47 enquiry: its row of that section has no grade and
    not_involved "yes" — once submitted, as grades are; a draft's mark is
    the agency's to change. The reason, the agency's own words, stays out."""
    s47, no_part = "assessment-s47-enquiry", "The school had no part in the S.47 enquiry"
    audit = await an_open_audit(people, participants=["health", "education"])
    seen = await read_audit(people, "education", audit)
    s47_questions = {q["id"] for s in seen["questions"]["sections"] if s["id"] == s47 for q in s["questions"]}
    school = complete_answers(seen)
    school["answers"] = {q: a for q, a in school["answers"].items() if q not in s47_questions}
    del school["judgements"][s47]
    school["not_involved"] = {s47: {"reason": no_part}}
    saved = await save_draft(people, "education", audit, school)
    assert saved.status_code == 200, saved.text

    def schools(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
        return {r["section_id"]: r for r in rows if r["audit_id"] == audit["id"] and r["agency_kind"] == "education"}

    drafted = schools(await grades_csv(people, "reviewer"))
    assert s47 in drafted and {r["not_involved"] for r in drafted.values()} == {""}

    submitted = await submit(people, "education", audit)
    assert submitted.status_code == 200, submitted.text
    response = await request(people, "reviewer", "GET", "/api/exports/grades.csv")
    assert no_part not in response.text
    rows = schools(csv_rows(response.text))
    assert (rows[s47]["not_involved"], rows[s47]["grade"], rows[s47]["contribution_status"]) == ("yes", "", "submitted")
    others = [r for section, r in rows.items() if section != s47]
    assert others and {r["not_involved"] for r in others} == {""} and all(r["grade"] for r in others)
    health = [r for r in csv_rows(response.text) if r["audit_id"] == audit["id"] and r["agency_kind"] == "health"]
    assert health and {r["not_involved"] for r in health} == {""}

    response = await request(people, "reviewer", "GET", "/api/exports/grades.xlsx")
    sheet = load_workbook(io.BytesIO(response.content), read_only=True)["Grades"]
    cells = [dict(zip(COLUMNS, row, strict=False)) for row in list(sheet.iter_rows(values_only=True))[1:]]
    marked = {
        (c["section_id"], c["not_involved"])
        for c in cells
        if c["audit_id"] == audit["id"] and c["agency_kind"] == "education" and c["not_involved"]
    }
    assert marked == {(s47, "yes")}
