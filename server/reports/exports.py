"""The grades export: one row per audit × agency × section, as CSV or XLSX,
written as the rows come from the database.

An agency grades the graded sections of its part of the toolkit on that
case (``agencies.applicability``), so each participant gives one row for
each of them — with the grade once its contribution is submitted, and an
empty grade otherwise (its status says why). No case details, no names,
no answers: analysts get grades and where they come from.

Memory: the CSV is sent in chunks of a few hundred rows; the XLSX is
written by openpyxl's write-only workbook, which keeps its rows in a
temporary file, then sent from that file in chunks. Neither holds the
export in memory.
"""

from __future__ import annotations

import csv
import datetime
import io
import tempfile
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import IO, Any

import anyio.to_thread
import msgspec
from openpyxl import Workbook

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


def _xlsx_cell(value: Any) -> Any:
    # Excel has no time zones: a timestamp is written in UTC, as the CSV's
    # ISO 8601 says.
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.UTC).replace(tzinfo=None)
    return value


async def xlsx_file(rows: AsyncIterator[GradeRow], target: IO[bytes]) -> int:
    """Write the rows into ``target`` as an XLSX workbook with one sheet,
    "Grades"; returns how many rows. openpyxl's write-only sheet streams its
    rows to a temporary file, so memory stays flat however many there are."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Grades")
    sheet.append(list(COLUMNS))
    count = 0
    async for row in rows:
        sheet.append([_xlsx_cell(value) for value in row])
        count += 1
    # Zipping the sheet is CPU work: off the event loop.
    await anyio.to_thread.run_sync(workbook.save, target)
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
