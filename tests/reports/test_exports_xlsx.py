"""The XLSX grades export writes its rows itself (openpyxl's cells are too
slow for long exports): read back with openpyxl, every cell is what
openpyxl's own write-only workbook gives for the same rows — value, type
and number format."""

from __future__ import annotations

import datetime
import io
import zipfile
from collections.abc import AsyncIterator, Iterable
from typing import Any

from openpyxl import Workbook, load_workbook

from server.reports.exports import COLUMNS, SHEET_PART, GradeRow, xlsx_file

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
        "contribution_status": "submitted",
        "submitted_at": SUBMITTED,
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
    """The rows as openpyxl's own write-only workbook writes them."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Grades")
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append(
            [
                value.astimezone(datetime.UTC).replace(tzinfo=None)
                if isinstance(value, datetime.datetime) and value.tzinfo is not None
                else value
                for value in row
            ]
        )
    made = io.BytesIO()
    workbook.save(made)
    return made.getvalue()


async def exported(rows: Iterable[GradeRow]) -> bytes:
    async def source() -> AsyncIterator[GradeRow]:
        for row in rows:
            yield row

    made = io.BytesIO()
    assert await xlsx_file(source(), made) == len(list(rows))
    return made.getvalue()


def cells(workbook: bytes) -> list[list[tuple[Any, str, str]]]:
    sheet = load_workbook(io.BytesIO(workbook))["Grades"]
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
    long = dict(zip(COLUMNS, ours[13], strict=True))
    assert long["section_title"][0] == "x" * 32767  # Excel's longest cell text


async def test_many_rows_and_the_package_around_them_are_openpyxls() -> None:
    many = [grade_row(grade=n % 4 + 1, toolkit_version=n) for n in range(1, 1200)]
    ours = await exported(many)
    assert cells(ours) == cells(openpyxl_workbook(many))
    with zipfile.ZipFile(io.BytesIO(ours)) as package, zipfile.ZipFile(io.BytesIO(openpyxl_workbook(many))) as theirs:
        assert package.testzip() is None
        assert package.namelist() == theirs.namelist()
        for part in theirs.namelist():
            if part not in (SHEET_PART, "docProps/core.xml"):  # core.xml: when it was made
                assert package.read(part) == theirs.read(part), part


async def test_no_rows_is_the_header_alone() -> None:
    assert cells(await exported([])) == cells(openpyxl_workbook([]))


async def test_where_openpyxl_would_differ_the_text_is_kept() -> None:
    # openpyxl raises on control characters (XML cannot hold them) and makes
    # "=…" a formula; an export keeps going and never carries a formula.
    # Without lxml openpyxl also loses a carriage return; it is kept.
    rows = [
        grade_row(
            section_title="bell\x07 and nul\x00 gone",
            organisation_code='=HYPERLINK("x")',
            grade_label="line one\r\nline two",
        )
    ]
    row = dict(zip(COLUMNS, cells(await exported(rows))[1], strict=True))
    assert row["section_title"] == ("bell and nul gone", "s", "General")
    assert row["organisation_code"] == ('=HYPERLINK("x")', "s", "General")
    assert row["grade_label"] == ("line one\r\nline two", "s", "General")
