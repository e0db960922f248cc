"""Formula injection (OWASP "CSV injection"): text a spreadsheet program
would take for a formula leaves the CSV with a single quote in front, and
the XLSX as a text cell, never a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

import asyncpg
from openpyxl import load_workbook

from server.reports.exports import COLUMNS, TEXT_COLUMNS, GradeRow, csv_chunks
from tests.reports.test_exports import grades_csv
from tests.reports.test_exports_xlsx import cells, exported, grade_row, source
from tests.reports.test_report import a_reviewed_audit
from tests.server.audit_fixtures import (
    People,
    people_fixture,  # noqa: F401 - fixture
    request,
)

# The classic: Excel asks to start cmd.exe through DDE.
CMD = "=cmd|' /C calc'!A0"
FORMULA_LIKE = [CMD, "+1+1", "-1+1", "@SUM(1,1)", "\t=1+1", "\r=1+1"]


async def csv_of(rows: Iterable[GradeRow]) -> list[dict[str, str]]:
    body = b"".join([chunk async for chunk in csv_chunks(source(rows))]).decode()
    return list(csv.DictReader(io.StringIO(body, newline="")))


async def test_the_csv_quotes_text_that_would_start_a_formula() -> None:
    text_columns = sorted(TEXT_COLUMNS)
    assert {"organisation_code", "section_title", "grade_label"} <= TEXT_COLUMNS
    rows = await csv_of([grade_row(**dict.fromkeys(text_columns, text)) for text in FORMULA_LIKE])
    for text, row in zip(FORMULA_LIKE, rows, strict=True):
        for column in text_columns:
            assert row[column] == "'" + text, (column, text)


async def test_the_csv_leaves_other_text_numbers_dates_and_ids_as_they_are() -> None:
    plain = grade_row(organisation_code="demo-health", section_title="3. Referral = 1 + 1", grade_label="")
    negative = grade_row(grade=-1, toolkit_version=-2)
    got = await csv_of([plain, negative])
    assert got[0]["organisation_code"] == "demo-health"
    assert got[0]["section_title"] == "3. Referral = 1 + 1"
    assert got[0]["grade_label"] == ""
    assert (got[0]["period_start"], got[0]["submitted_at"]) == ("2025-01-01", "2025-03-04T05:06:07.123456+00:00")
    assert got[0]["audit_id"] == plain[COLUMNS.index("audit_id")]
    # Numbers are numbers: a sign is not a formula.
    assert (got[1]["grade"], got[1]["toolkit_version"]) == ("-1", "-2")


async def test_the_xlsx_keeps_the_same_text_as_text_cells_unquoted() -> None:
    rows = [grade_row(**dict.fromkeys(TEXT_COLUMNS, text)) for text in FORMULA_LIKE]
    read_back = cells(await exported(rows))[1:]
    for text, row in zip(FORMULA_LIKE, read_back, strict=True):
        by_column = dict(zip(COLUMNS, row, strict=True))
        # A carriage return is the sheet's line break.
        shown = text.replace("\r", "\n")
        for column in TEXT_COLUMNS:
            assert by_column[column] == (shown, "s", "General"), (column, text)


async def test_an_organisation_code_like_a_formula_through_both_exports(
    people: People, db: asyncpg.Connection[Any]
) -> None:
    # Sign-in refuses such a code (agencies.organisations.CODE_PATTERN); an
    # organisation recorded before that check, or by hand, may still have one.
    await a_reviewed_audit(people)
    assert await db.execute("UPDATE organisations SET code = $1 WHERE code = 'demo-health'", CMD) == "UPDATE 1"

    rows = await grades_csv(people, "reviewer", "?agency_kind=health")
    assert rows and {row["organisation_code"] for row in rows} == {"'" + CMD}

    response = await request(people, "reviewer", "GET", "/api/exports/grades.xlsx?agency_kind=health")
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content))["Grades"]
    codes = [row[COLUMNS.index("organisation_code")] for row in sheet.iter_rows(min_row=2)]
    assert len(codes) == len(rows)
    assert {(cell.value, cell.data_type) for cell in codes} == {(CMD, "s")}
