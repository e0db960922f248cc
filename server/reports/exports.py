"""The grades export: one row per audit × agency × section, as CSV or XLSX,
written as the rows come from the database.

An agency grades the graded sections of its part of the toolkit on that
case (``agencies.applicability``), so each participant gives one row for
each of them — with the grade once its contribution is submitted, and an
empty grade otherwise (its status says why, or ``not_involved`` when its
submitted contribution says it was not involved in that stage). No case details, no names,
no answers: analysts get grades and where they come from.

Memory: the CSV is sent in chunks of a few hundred rows; the XLSX's rows
are written by XlsxWriter to a temporary file a few hundred at a time, off
the event loop, zipped into another with the rest of the workbook, then
sent from that file in chunks. Neither holds the export in memory.

Formulas (OWASP "CSV injection"): a spreadsheet program opening the CSV
runs a cell starting with =, +, -, @, a tab or a carriage return as a
formula. In the CSV such text (in ``TEXT_COLUMNS``) is prefixed with a
single quote, so ``=cmd`` arrives as ``'=cmd``; in the XLSX every text is a
text cell, which no program runs, so it is written as it is.
"""

from __future__ import annotations

import csv
import datetime
import functools
import io
import re
import tempfile
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import IO, Any

import anyio.to_thread
import msgspec
import xlsxwriter

from agencies.applicability import Participant, applicable_sections
from server.db.exports import ParticipantGradesRow
from toolkits.model import Toolkit
from toolkits.registry import Registry, UnknownToolkit

COLUMNS: tuple[str, ...] = (
    "audit_id",
    "toolkit",
    "toolkit_version",
    "audit_status",
    "period_start",
    "period_end",
    "organisation_code",
    "agency_kind",
    "section_id",
    "section_title",
    "grade",
    "grade_label",
    # "yes" where the agency's submitted contribution says it was not
    # involved in this stage of the work (no grade, left out of the
    # partnership's grade); its reason is the agency's own words, not exported.
    "not_involved",
    "contribution_status",
    "submitted_at",
    # The partnership's grade of the section: as computed from every
    # agency's submitted grade, and as the panel agreed it (moderation),
    # each repeated on every agency's row of the audit's section.
    "partnership_computed_grade",
    "partnership_computed_label",
    "partnership_agreed_grade",
    "partnership_agreed_label",
)

GradeRow = tuple[Any, ...]

# Rows per chunk: of CSV sent to the client, of XLSX written off the event loop.
CHUNK_ROWS = 500
FILE_CHUNK_BYTES = 64 * 1024


class GradedSection(msgspec.Struct, frozen=True, kw_only=True):
    section_id: str
    title: str


class SectionPlan:
    """Which graded sections each kind of participant has, computed once per
    (toolkit version, agency kind, referrer, deciding case details) rather
    than once per row."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._plans: dict[tuple[Any, ...], tuple[GradedSection, ...]] = {}
        self._labels: dict[tuple[str, int, bool], dict[int, str]] = {}

    def toolkit(self, toolkit_id: str, version: int, *, local: bool = False) -> Toolkit | None:
        """A shipped version, or (``local``) one of the partnership's own:
        the registry is the partnership's, with all of its versions."""
        try:
            return self._registry.get(toolkit_id, version, local=local)
        except UnknownToolkit:
            return None

    def sections(self, source: ParticipantGradesRow) -> tuple[GradedSection, ...]:
        conditions = source.conditions or {}
        key = (
            source.toolkit_id,
            source.toolkit_version,
            source.local_toolkit,
            source.agency_kind,
            source.is_referrer,
            tuple(sorted((k, repr(v)) for k, v in conditions.items())),
        )
        plan = self._plans.get(key)
        if plan is None:
            toolkit = self.toolkit(source.toolkit_id, source.toolkit_version, local=source.local_toolkit)
            if toolkit is None:  # a definition removed from disk: no sections to name
                plan = ()
            else:
                who = Participant(agency_kind=source.agency_kind, is_referrer=source.is_referrer)
                plan = tuple(
                    GradedSection(section_id=s.id, title=s.title)
                    for s in applicable_sections(toolkit, who, conditions)
                    if s.judgement is not None
                )
            self._plans[key] = plan
        return plan

    def label(self, toolkit_id: str, version: int, grade: int | None, *, local: bool = False) -> str | None:
        if grade is None:
            return None
        labels = self._labels.get((toolkit_id, version, local))
        if labels is None:
            toolkit = self.toolkit(toolkit_id, version, local=local)
            labels = {g.value: g.label for g in toolkit.scale.grades} if toolkit else {}
            self._labels[(toolkit_id, version, local)] = labels
        return labels.get(grade)


def condition_details(registry: Registry) -> list[str]:
    """Every case detail some toolkit's conditional section depends on."""
    return sorted(
        {
            section.condition.case_detail
            for toolkit_id in sorted(set(registry.ids()) | set(registry.local_ids()))
            for version, local in [
                *((v, False) for v in registry.versions(toolkit_id)),
                *((v, True) for v in registry.local_versions(toolkit_id)),
            ]
            for section in registry.get(toolkit_id, version, local=local).sections
            if section.condition is not None
        }
    )


def _partnership_grades(source: ParticipantGradesRow) -> dict[str, tuple[int | None, int | None]]:
    """Section id → (computed grade, agreed grade) from the audit's summary."""
    found: dict[str, tuple[int | None, int | None]] = {}
    for summary in source.partnership or ():
        if isinstance(summary, dict) and isinstance(summary.get("section_id"), str):
            agreed = summary.get("grade") if summary.get("moderated") else None
            found[summary["section_id"]] = (summary.get("computed_grade"), agreed)
    return found


def rows_of(plan: SectionPlan, source: ParticipantGradesRow) -> Iterator[GradeRow]:
    """One participant's rows: each graded section of its part."""
    judgements = source.judgements or {}
    not_involved = source.not_involved or {}
    partnership = _partnership_grades(source)
    label = functools.partial(plan.label, source.toolkit_id, source.toolkit_version)
    for section in plan.sections(source):
        judgement = judgements.get(section.section_id) or {}
        grade = judgement.get("grade") if isinstance(judgement, dict) else None
        computed, agreed = partnership.get(section.section_id, (None, None))
        yield (
            str(source.audit_id),
            source.toolkit_id,
            source.toolkit_version,
            source.audit_status,
            source.period_start,
            source.period_end,
            source.organisation_code,
            source.agency_kind,
            section.section_id,
            section.title,
            grade,
            plan.label(source.toolkit_id, source.toolkit_version, grade, local=source.local_toolkit),
            "yes" if section.section_id in not_involved else None,
            source.contribution_status,
            source.submitted_at,
            computed,
            label(computed),
            agreed,
            label(agreed),
        )


async def grade_rows(plan: SectionPlan, sources: AsyncIterator[ParticipantGradesRow]) -> AsyncIterator[GradeRow]:
    async for source in sources:
        for row in rows_of(plan, source):
            yield row


def _cell(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return "" if value is None else value


# What a spreadsheet program takes for the start of a formula when it opens
# a CSV file (OWASP, "CSV injection"): =, + and - (also a sign), @ (Lotus's
# functions), and a tab or carriage return ahead of any of them.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The columns whose text comes from outside Maca's own code: organisation
# codes from the sign-in provider's claims, toolkit and section ids, section
# titles and grade labels from the definition files. Ids Maca makes, dates,
# versions, grades and the fixed vocabularies of statuses and agency kinds
# can never start like a formula, and are left as they are.
TEXT_COLUMNS = frozenset(
    {
        "toolkit",
        "organisation_code",
        "section_id",
        "section_title",
        "grade_label",
        "partnership_computed_label",
        "partnership_agreed_label",
    }
)
_IS_TEXT = tuple(column in TEXT_COLUMNS for column in COLUMNS)


def csv_text(value: str) -> str:
    """Text that a spreadsheet program opening the CSV would run as a
    formula, with a single quote in front, as OWASP recommends: the program
    takes it for text, and a reader still sees what it says."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_row(row: GradeRow) -> list[Any]:
    return [
        csv_text(value) if is_text and isinstance(value, str) else _cell(value)
        for value, is_text in zip(row, _IS_TEXT, strict=True)
    ]


async def csv_chunks(rows: AsyncIterator[GradeRow], *, chunk_rows: int = CHUNK_ROWS) -> AsyncIterator[bytes]:
    """The rows as CSV (RFC 4180, UTF-8 with a header row), a chunk at a
    time, text that would start a formula quoted (``csv_text``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    pending = 0
    async for row in rows:
        writer.writerow(csv_row(row))
        pending += 1
        if pending >= chunk_rows:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode()


SHEET_NAME = "Grades"
# Excel's last row is 1,048,576: the header and this many rows per sheet.
ROWS_PER_SHEET = 1_048_575
# XlsxWriter is a writer only, made for long sheets: with ``constant_memory``
# each row goes to a temporary file once the next one starts, text inline
# (no table of shared strings growing with the export).
WORKBOOK_OPTIONS = {
    "constant_memory": True,
    # Text stays text, however it looks: never a formula, a number or a link.
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}
DATE_FORMAT = "yyyy-mm-dd"
TIMESTAMP_FORMAT = "yyyy-mm-dd h:mm:ss"
# Characters XML 1.0 cannot carry: dropped rather than break an export half
# sent.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAK = re.compile("\r\n?")


def sheet_text(value: str) -> str:
    """Text as a cell holds it. A line break is Excel's own, ``\\n``: XlsxWriter
    would write a carriage return as ``_x000D_``, which Excel reads back but
    openpyxl (so pandas) shows as it is."""
    return _LINE_BREAK.sub("\n", _NOT_XML.sub("", value))


class GradesWorkbook:
    """An XLSX workbook being written row by row: the sheet "Grades" with
    the header row, then "Grades 2", "Grades 3"… with the header again when
    the rows outgrow a sheet. Every text is written as text (never a
    formula), a date or timestamp as Excel's with its number format."""

    def __init__(self, target: IO[bytes], folder: str, *, rows_per_sheet: int = ROWS_PER_SHEET) -> None:
        self._workbook = xlsxwriter.Workbook(target, {**WORKBOOK_OPTIONS, "tmpdir": folder})
        self._date = self._workbook.add_format({"num_format": DATE_FORMAT})
        self._timestamp = self._workbook.add_format({"num_format": TIMESTAMP_FORMAT})
        self._rows_per_sheet = rows_per_sheet
        # Statuses, codes, section titles: the same few texts row after row.
        # One export's own cache, so nothing of it outlives the export.
        self._text = functools.lru_cache(maxsize=256)(sheet_text)
        self.rows = 0
        self._sheets = 0
        self._sheet = self._new_sheet()
        self._row = 0

    def _new_sheet(self) -> Any:
        self._sheets += 1
        sheet = self._workbook.add_worksheet(SHEET_NAME if self._sheets == 1 else f"{SHEET_NAME} {self._sheets}")
        for column, title in enumerate(COLUMNS):
            sheet.write_string(0, column, title)
        return sheet

    def append_all(self, rows: Iterable[GradeRow]) -> None:
        for values in rows:
            self.append(values)

    def append(self, values: GradeRow) -> None:
        if self._row == self._rows_per_sheet:
            self._sheet = self._new_sheet()
            self._row = 0
        self._row += 1
        self.rows += 1
        for column, value in enumerate(values):
            if value is not None:
                self._write(column, value)

    def _write(self, column: int, value: Any) -> None:
        sheet, row = self._sheet, self._row
        if isinstance(value, str):
            if text := self._text(value):  # no text, no cell: blank, as in the CSV
                sheet.write_string(row, column, text)
        elif isinstance(value, bool):
            sheet.write_boolean(row, column, value)
        elif isinstance(value, int | float):
            sheet.write_number(row, column, value)
        elif isinstance(value, datetime.datetime):
            # Excel has no time zones: a timestamp is written in UTC, as the
            # CSV's ISO 8601 says.
            if value.tzinfo is not None:
                value = value.astimezone(datetime.UTC).replace(tzinfo=None)
            sheet.write_datetime(row, column, value, self._timestamp)
        elif isinstance(value, datetime.date):
            sheet.write_datetime(row, column, value, self._date)
        else:
            raise TypeError(f"no spreadsheet cell for {type(value).__name__}")

    def close(self) -> None:
        """Copy the sheets' rows into the workbook and zip it into the target."""
        self._workbook.close()


async def xlsx_file(
    rows: AsyncIterator[GradeRow],
    target: IO[bytes],
    *,
    rows_per_sheet: int = ROWS_PER_SHEET,
    chunk_rows: int = CHUNK_ROWS,
) -> int:
    """Write the rows into ``target`` as an XLSX workbook, sheet "Grades";
    returns how many rows. The rows go to a temporary file a batch at a
    time, so memory stays flat however many there are; that file lives in a
    folder of this export's own, removed even when the export is abandoned
    half way."""
    with tempfile.TemporaryDirectory(prefix="maca-export-") as folder:
        workbook = GradesWorkbook(target, folder, rows_per_sheet=rows_per_sheet)
        batch: list[GradeRow] = []
        async for row in rows:
            batch.append(row)
            if len(batch) >= chunk_rows:
                # Making the cells takes several times longer than reading
                # the rows: off the event loop, so other requests go on.
                await anyio.to_thread.run_sync(workbook.append_all, batch)
                batch = []
        await anyio.to_thread.run_sync(workbook.append_all, batch)
        # Copying the rows and zipping the workbook: off the event loop too.
        await anyio.to_thread.run_sync(workbook.close)
    return workbook.rows


def file_chunks(source: IO[bytes], size: int = FILE_CHUNK_BYTES) -> Iterable[bytes]:
    source.seek(0)
    while chunk := source.read(size):
        yield chunk


async def xlsx_chunks(rows: AsyncIterator[GradeRow], *, chunk_rows: int = CHUNK_ROWS) -> AsyncIterator[bytes]:
    with tempfile.TemporaryFile(prefix="maca-export-", suffix=".xlsx") as target:
        await xlsx_file(rows, target, chunk_rows=chunk_rows)
        for chunk in file_chunks(target):
            yield chunk
