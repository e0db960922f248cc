"""The XLSX grades export is written by XlsxWriter; read back with openpyxl,
every cell is what openpyxl's own workbook gives for the same rows — value,
type and number format — except where openpyxl would lose or change the
text."""

from __future__ import annotations

import datetime
import io
import tempfile
import zipfile
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import anyio
import pytest
from openpyxl import Workbook, load_workbook

from server.reports.exports import COLUMNS, GradeRow, xlsx_file

SUBMITTED = datetime.datetime(2025, 3, 4, 5, 6, 7, 123456, tzinfo=datetime.UTC)
BRITISH_SUMMER = datetime.timezone(datetime.timedelta(hours=1))


def grade_row(**given: Any) -> GradeRow:
    row: dict[str, Any] = {
        "audit_id": "0b7c6c1e-8d5f-4f0e-9a43-5b1f3d2a9c10",
        "toolkit": "multi-agency-cp",
        "toolkit_version": 1,
        "audit_status": "open",
        "period_start": datetime.date(2025, 1, 1),
        "period_end": datetime.date(2025, 12, 31),
        "organisation_code": "demo-health",
        "agency_kind": "health",
        "section_id": "referral",
        "section_title": "3. Referral",
        "grade": 1,
        "grade_label": "Outstanding",
        "not_involved": None,
        "contribution_status": "submitted",
        "submitted_at": SUBMITTED,
        "partnership_computed_grade": 2,
        "partnership_computed_label": "Good",
        "partnership_agreed_grade": None,
        "partnership_agreed_label": None,
        **given,
    }
    return tuple(row[column] for column in COLUMNS)


ROWS = [
    grade_row(),
    # Not submitted: no grade, no label, no time.
    grade_row(grade=None, grade_label=None, contribution_status="in-progress", submitted_at=None),
    grade_row(period_start=None, period_end=None, grade=4, grade_label="Inadequate"),
    grade_row(submitted_at=datetime.datetime(2025, 7, 1, 9, 30, tzinfo=BRITISH_SUMMER)),
    grade_row(submitted_at=datetime.datetime(2025, 7, 1, 9, 30)),
    # Before 1900-03-01 Excel counts a 29 February that never was.
    grade_row(period_start=datetime.date(1900, 1, 15), period_end=datetime.date(1900, 3, 1)),
    grade_row(period_start=datetime.date(9999, 12, 31)),
    grade_row(section_title="Health & safety <review> \"quoted\" 'single'"),
    grade_row(section_title="  spaced out  ", organisation_code="tab\there"),
    grade_row(section_title="line one\nline two"),
    grade_row(section_title="Évaluation — naïve café 👶"),
    grade_row(section_title=""),
    grade_row(section_title="x" * 40_000),
    grade_row(toolkit_version=12345678901234567),
]


def openpyxl_workbook(rows: Iterable[GradeRow]) -> bytes:
    """The rows as openpyxl's own write-only workbook writes them: the
    reference the export is read back against. Timestamps in UTC, and no
    cell for an empty text (openpyxl would write an empty text cell, where
    the export leaves the cell blank, as the CSV does)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Grades")
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append(
            [
                value.astimezone(datetime.UTC).replace(tzinfo=None)
                if isinstance(value, datetime.datetime) and value.tzinfo is not None
                else None
                if value == ""
                else value
                for value in row
            ]
        )
    made = io.BytesIO()
    workbook.save(made)
    return made.getvalue()


async def source(rows: Iterable[GradeRow]) -> AsyncIterator[GradeRow]:
    for row in rows:
        yield row


async def exported(rows: Iterable[GradeRow], **options: Any) -> bytes:
    made = io.BytesIO()
    assert await xlsx_file(source(rows), made, **options) == len(list(rows))
    return made.getvalue()


def cells(workbook: bytes, sheet_name: str = "Grades") -> list[list[tuple[Any, str, str]]]:
    sheet = load_workbook(io.BytesIO(workbook))[sheet_name]
    return [[(cell.value, cell.data_type, cell.number_format) for cell in row] for row in sheet.iter_rows()]


async def test_every_cell_reads_back_as_openpyxl_would_have_written_it() -> None:
    ours = cells(await exported(ROWS))
    assert ours == cells(openpyxl_workbook(ROWS))
    assert len(ours) == len(ROWS) + 1
    assert [value for value, _, _ in ours[0]] == list(COLUMNS)
    first = dict(zip(COLUMNS, ours[1], strict=True))
    assert first["period_start"] == (datetime.datetime(2025, 1, 1), "d", "yyyy-mm-dd")
    assert first["submitted_at"] == (datetime.datetime(2025, 3, 4, 5, 6, 7, 123000), "d", "yyyy-mm-dd h:mm:ss")
    assert first["grade"] == (1, "n", "General")
    summer = dict(zip(COLUMNS, ours[4], strict=True))
    assert summer["submitted_at"][0] == datetime.datetime(2025, 7, 1, 8, 30)  # in UTC
    assert dict(zip(COLUMNS, ours[12], strict=True))["section_title"] == (None, "n", "General")  # empty: blank
    long = dict(zip(COLUMNS, ours[13], strict=True))
    assert long["section_title"][0] == "x" * 32767  # Excel's longest cell text


async def test_many_rows_read_back_as_openpyxls_and_their_text_is_inline() -> None:
    many = [grade_row(grade=n % 4 + 1, toolkit_version=n) for n in range(1, 1200)]
    ours = await exported(many)
    assert cells(ours) == cells(openpyxl_workbook(many))
    with zipfile.ZipFile(io.BytesIO(ours)) as package:
        assert package.testzip() is None
        # Text written in its cell, not into a table of shared strings that
        # would grow in memory with the export.
        assert "xl/sharedStrings.xml" not in package.namelist()
        assert package.read("xl/worksheets/sheet1.xml").count(b't="inlineStr"') > 1199 * 8


async def test_no_rows_is_the_header_alone() -> None:
    assert cells(await exported([])) == cells(openpyxl_workbook([]))


async def test_where_openpyxl_would_differ_the_text_is_kept() -> None:
    # openpyxl raises on control characters (XML cannot hold them) and makes
    # "=…" a formula; an export keeps going and never carries a formula.
    # A carriage return is written as Excel's own line break: XlsxWriter's
    # escape for it (_x000D_) is read back by Excel, not by openpyxl.
    rows = [
        grade_row(
            section_title="bell\x07 and nul\x00 gone",
            organisation_code='=HYPERLINK("x")',
            grade_label="line one\r\nline two\rthree",
        )
    ]
    row = dict(zip(COLUMNS, cells(await exported(rows))[1], strict=True))
    assert row["section_title"] == ("bell and nul gone", "s", "General")
    assert row["organisation_code"] == ('=HYPERLINK("x")', "s", "General")
    assert row["grade_label"] == ("line one\nline two\nthree", "s", "General")


FORMULA_LIKE = ["=cmd|' /C calc'!A0", "+1+1", "-1+1", "@SUM(1,1)", "\t=1+1", "http://example.com", "1234", "1e5"]


async def test_text_is_text_however_it_looks() -> None:
    rows = [grade_row(organisation_code=text, section_title=text, grade_label=text) for text in FORMULA_LIKE]
    workbook = await exported(rows)
    for text, row in zip(FORMULA_LIKE, cells(workbook)[1:], strict=True):
        by_column = dict(zip(COLUMNS, row, strict=True))
        for column in ("organisation_code", "section_title", "grade_label"):
            assert by_column[column] == (text, "s", "General"), (column, text)
    with zipfile.ZipFile(io.BytesIO(workbook)) as package:
        sheet = package.read("xl/worksheets/sheet1.xml")
        assert b"<f>" not in sheet and b"<hyperlink" not in sheet


async def test_rows_past_a_sheets_last_row_go_on_in_the_next_sheet_under_the_header() -> None:
    rows = [grade_row(toolkit_version=n) for n in range(1, 8)]
    workbook = await exported(rows, rows_per_sheet=3)
    assert load_workbook(io.BytesIO(workbook)).sheetnames == ["Grades", "Grades 2", "Grades 3"]
    versions = []
    for name in ("Grades", "Grades 2", "Grades 3"):
        sheet = cells(workbook, name)
        assert [value for value, _, _ in sheet[0]] == list(COLUMNS)
        versions += [row[COLUMNS.index("toolkit_version")][0] for row in sheet[1:]]
    assert versions == list(range(1, 8))


async def test_an_export_abandoned_half_way_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    async def broken() -> AsyncIterator[GradeRow]:
        for _ in range(50):
            yield grade_row()
        raise ConnectionResetError("the database went away")

    with pytest.raises(ConnectionResetError):
        await xlsx_file(broken(), io.BytesIO())
    assert [left async for left in anyio.Path(tmp_path).iterdir()] == []
