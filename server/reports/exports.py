"""The grades export: one row per audit × agency × section, as CSV or XLSX,
written as the rows come from the database.

An agency grades the graded sections of its part of the toolkit on that
case (``agencies.applicability``), so each participant gives one row for
each of them — with the grade once its contribution is submitted, and an
empty grade otherwise (its status says why). No case details, no names,
no answers: analysts get grades and where they come from.

Memory: the CSV is sent in chunks of a few hundred rows; the XLSX's rows
are written to a temporary file a few hundred at a time, zipped with the
rest of the workbook (made by openpyxl) into another, then sent from that
file in chunks. Neither holds the export in memory.
"""

from __future__ import annotations

import csv
import datetime
import functools
import io
import re
import shutil
import tempfile
import zipfile
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import IO, Any
from xml.sax.saxutils import escape

import anyio.to_thread
import msgspec
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel

from agencies.applicability import Participant, applicable_sections
from server.db.exports import ParticipantGrades
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
    "contribution_status",
    "submitted_at",
)

GradeRow = tuple[Any, ...]

# Rows per chunk sent to the client.
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
        self._labels: dict[tuple[str, int], dict[int, str]] = {}

    def toolkit(self, toolkit_id: str, version: int) -> Toolkit | None:
        try:
            return self._registry.get(toolkit_id, version)
        except UnknownToolkit:
            return None

    def sections(self, source: ParticipantGrades) -> tuple[GradedSection, ...]:
        conditions = source.conditions or {}
        key = (
            source.toolkit_id,
            source.toolkit_version,
            source.agency_kind,
            source.is_referrer,
            tuple(sorted((k, repr(v)) for k, v in conditions.items())),
        )
        plan = self._plans.get(key)
        if plan is None:
            toolkit = self.toolkit(source.toolkit_id, source.toolkit_version)
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

    def label(self, toolkit_id: str, version: int, grade: int | None) -> str | None:
        if grade is None:
            return None
        labels = self._labels.get((toolkit_id, version))
        if labels is None:
            toolkit = self.toolkit(toolkit_id, version)
            labels = {g.value: g.label for g in toolkit.scale.grades} if toolkit else {}
            self._labels[(toolkit_id, version)] = labels
        return labels.get(grade)


def condition_details(registry: Registry) -> list[str]:
    """Every case detail some toolkit's conditional section depends on."""
    return sorted(
        {
            section.condition.case_detail
            for toolkit_id in registry.ids()
            for version in registry.versions(toolkit_id)
            for section in registry.get(toolkit_id, version).sections
            if section.condition is not None
        }
    )


def rows_of(plan: SectionPlan, source: ParticipantGrades) -> Iterator[GradeRow]:
    """One participant's rows: each graded section of its part."""
    judgements = source.judgements or {}
    for section in plan.sections(source):
        judgement = judgements.get(section.section_id) or {}
        grade = judgement.get("grade") if isinstance(judgement, dict) else None
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
            plan.label(source.toolkit_id, source.toolkit_version, grade),
            source.contribution_status,
            source.submitted_at,
        )


async def grade_rows(plan: SectionPlan, sources: AsyncIterator[ParticipantGrades]) -> AsyncIterator[GradeRow]:
    async for source in sources:
        for row in rows_of(plan, source):
            yield row


def _cell(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return "" if value is None else value


async def csv_chunks(rows: AsyncIterator[GradeRow], *, chunk_rows: int = CHUNK_ROWS) -> AsyncIterator[bytes]:
    """The rows as CSV (RFC 4180, UTF-8 with a header row), a chunk at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    pending = 0
    async for row in rows:
        writer.writerow([_cell(value) for value in row])
        pending += 1
        if pending >= chunk_rows:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode()


# The sheet's rows are written here rather than through openpyxl's cells:
# openpyxl builds a Cell object per value, infers its type and looks up its
# style, a few thousand rows a second; these rows are known to hold text,
# whole numbers, dates and timestamps. Every other part of the workbook
# (header row, styles, the package around the sheet) is openpyxl's own.
SHEET_PART = "xl/worksheets/sheet1.xml"
_LETTERS = tuple(get_column_letter(number) for number in range(1, len(COLUMNS) + 1))
_STYLE_OF = re.compile(rb'<c r="([A-Z]+)2" s="(\d+)"')
# Characters XML 1.0 cannot carry (openpyxl refuses them); dropped rather
# than break an export half sent.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_TEXT_ENTITIES = {"\r": "&#13;"}  # as lxml writes it, so it reads back as \r
# Excel's longest cell text; openpyxl cuts there too.
LONGEST_TEXT = 32767


def _inline_text(value: str) -> str:
    """A text cell after its reference, as openpyxl writes it."""
    text = _NOT_XML.sub("", value)[:LONGEST_TEXT]
    if not text:
        return ' t="inlineStr"></c>'
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f' t="inlineStr"><is><t{space}>{escape(text, _TEXT_ENTITIES)}</t></is></c>'


class XlsxTemplate:
    """What openpyxl writes for a "Grades" sheet with the header row: every
    part of the workbook but the data rows, and the style ids of a date and
    of a timestamp in it."""

    def __init__(self) -> None:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Grades")
        sheet.append(list(COLUMNS))
        # A date and a timestamp, so the workbook holds their number formats.
        sheet.append([datetime.date(2000, 1, 1), datetime.datetime(2000, 1, 1)])
        made = io.BytesIO()
        workbook.save(made)
        self.package = made.getvalue()
        with zipfile.ZipFile(made) as parts:
            sheet_xml = parts.read(SHEET_PART)
        self.head = sheet_xml[: sheet_xml.index(b'<row r="2"')]
        self.tail = sheet_xml[sheet_xml.index(b"</sheetData>") :]
        styles = {column.decode(): style.decode() for column, style in _STYLE_OF.findall(sheet_xml)}
        self.date_style, self.timestamp_style = styles["A"], styles["B"]
        # Statuses, codes, section titles: the same few texts row after row.
        # One export's own cache, so nothing of it outlives the export.
        self._text = functools.lru_cache(maxsize=256)(_inline_text)

    def row(self, number: int, values: GradeRow) -> str:
        """Row ``number`` of the sheet (1 is the header), as openpyxl writes it."""
        cells = "".join(
            self.cell(f"{letter}{number}", value)
            for letter, value in zip(_LETTERS, values, strict=True)
            if value is not None
        )
        return f'<row r="{number}">{cells}</row>'

    def cell(self, reference: str, value: Any) -> str:
        if isinstance(value, str):
            return f'<c r="{reference}"{self._text(value)}'
        if isinstance(value, bool):
            return f'<c r="{reference}" t="b"><v>{value:d}</v></c>'
        if isinstance(value, int | float):
            return f'<c r="{reference}" t="n"><v>{value:.16g}</v></c>'
        if isinstance(value, datetime.datetime):
            # Excel has no time zones: a timestamp is written in UTC, as the
            # CSV's ISO 8601 says.
            if value.tzinfo is not None:
                value = value.astimezone(datetime.UTC).replace(tzinfo=None)
            return f'<c r="{reference}" s="{self.timestamp_style}" t="n"><v>{to_excel(value):.16g}</v></c>'
        if isinstance(value, datetime.date):
            return f'<c r="{reference}" s="{self.date_style}" t="n"><v>{to_excel(value):.16g}</v></c>'
        raise TypeError(f"no spreadsheet cell for {type(value).__name__}")

    def save(self, rows: IO[bytes], target: IO[bytes]) -> None:
        """The workbook into ``target``: openpyxl's parts, with the sheet's
        data rows read from ``rows``."""
        size = rows.seek(0, io.SEEK_END) + len(self.head) + len(self.tail)
        rows.seek(0)
        with (
            zipfile.ZipFile(io.BytesIO(self.package)) as parts,
            zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as workbook,
        ):
            for part in parts.infolist():
                if part.filename != SHEET_PART:
                    workbook.writestr(part, parts.read(part))
                    continue
                sheet = zipfile.ZipInfo(SHEET_PART, date_time=part.date_time)
                sheet.compress_type = zipfile.ZIP_DEFLATED
                sheet.file_size = size  # ZIP64 only when the sheet needs it
                with workbook.open(sheet, "w") as entry:
                    entry.write(self.head)
                    shutil.copyfileobj(rows, entry, FILE_CHUNK_BYTES)
                    entry.write(self.tail)


async def xlsx_file(rows: AsyncIterator[GradeRow], target: IO[bytes]) -> int:
    """Write the rows into ``target`` as an XLSX workbook with one sheet,
    "Grades"; returns how many rows. The sheet's rows go to a temporary
    file as they come, as openpyxl's write-only sheet does, so memory stays
    flat however many there are."""
    template = XlsxTemplate()
    count = 0
    with tempfile.TemporaryFile(prefix="maca-export-", suffix=".xml") as sheet_rows:
        async for row in rows:
            count += 1
            sheet_rows.write(template.row(count + 1, row).encode())
        # Zipping the sheet is CPU work: off the event loop.
        await anyio.to_thread.run_sync(template.save, sheet_rows, target)
    return count


def file_chunks(source: IO[bytes], size: int = FILE_CHUNK_BYTES) -> Iterable[bytes]:
    source.seek(0)
    while chunk := source.read(size):
        yield chunk


async def xlsx_chunks(rows: AsyncIterator[GradeRow]) -> AsyncIterator[bytes]:
    with tempfile.TemporaryFile(prefix="maca-export-", suffix=".xlsx") as target:
        await xlsx_file(rows, target)
        for chunk in file_chunks(target):
            yield chunk
