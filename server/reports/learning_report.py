"""The learning report: per programme or per period, for the partnership's
board, anonymised.

What it holds: a cover, a summary, grades by section and by agency with
charts, the disagreements between agencies and how the panel resolved
them, the learning themes with representative passages, good practice,
and the action plan's status. What it never holds: a child's initials or
name, a case identifier, a date of birth, a practitioner's name, an audit's
id. Audits are numbered ("Audit 3"); organisations are named (they are
not people); free text (passages, reasons, narratives, actions) is shown
with every identifying value of the report's audits removed
(:func:`redactor`), and no column that names a person (the action's "Who?",
who moderated) is shown at all.

As HTML (accessible: headings, captions, charts as SVG with a text
description) and as a tagged PDF (PDF/UA-1, WeasyPrint's ``pdf_variant``)
from the same template.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Final, cast

import msgspec
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from server.platform.bidi import bdi, bdi_lines, isolated
from server.reports import charts

__all__ = [
    "ActionStatusCount",
    "GradeRow",
    "LearningReport",
    "ReportDisagreement",
    "ReportPassage",
    "ThemePassages",
    "redactor",
    "render_learning_html",
    "render_learning_pdf",
]

SERVER = Path(__file__).resolve().parent.parent
TEMPLATES = SERVER / "templates"
STYLESHEET = SERVER / "static" / "report" / "report.css"
REMOVED: Final = "[removed]"

# Case details that say who the child, their family or their workers are
# (by the words of the questions' ids): never shown, and removed from any
# free text of the same audit.
_IDENTIFYING: Final = ("initials", "name", "identifier", "case-id", "-id", "birth", "worker", "manager", "family")


class GradeRow(msgspec.Struct, frozen=True, kw_only=True):
    """How many audits (or agencies) had each grade: 1 … 4, then ungraded."""

    label: str
    counts: tuple[int, ...]


class ReportDisagreement(msgspec.Struct, frozen=True, kw_only=True):
    audit_number: int
    section: str
    between: str  # "Demo Police (Good) and Demo NHS Trust (Inadequate)"
    resolution: str  # the agreed grade and reason, or the panel's narrative, or "not resolved"


class ReportPassage(msgspec.Struct, frozen=True, kw_only=True):
    audit_number: int
    organisation_name: str
    kind: str
    text: str


class ThemePassages(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    passages: int
    audits: int
    representative: tuple[ReportPassage, ...]


class ActionStatusCount(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    count: int


class ReportActionLine(msgspec.Struct, frozen=True, kw_only=True):
    audit_number: int
    action: str
    organisation_name: str | None
    status: str
    due: str | None
    overdue: bool


class LearningReport(msgspec.Struct, frozen=True, kw_only=True):
    title: str  # the programme's name, or the period
    scope: str  # "Programme: …" or "Audits created from … to …"
    partnership_name: str
    generated_at: datetime.datetime
    audits: int
    closed: int
    contributions_submitted: int
    scale: tuple[str, ...]  # the grade labels, best first
    sections: tuple[GradeRow, ...]  # partnership grade per section
    agencies: tuple[GradeRow, ...]  # each agency kind's own overall grades
    overall: GradeRow
    disagreements: tuple[ReportDisagreement, ...]
    themes: tuple[ThemePassages, ...]
    good_practice: tuple[ReportPassage, ...]
    action_statuses: tuple[ActionStatusCount, ...]
    actions_overdue: int
    actions: tuple[ReportActionLine, ...]


def redactor(*contents: Mapping[str, Any] | None) -> Callable[[str], str]:
    """A function that removes from a text every identifying value of the
    audits given: their case details' and contributions' (``{"answers": …}``)
    answers to questions that identify someone — the child's initials and
    name, the case identifier, the date of birth in ISO and written forms,
    workers', managers', practitioners' and auditors' names, family
    members' initials."""
    values: set[str] = set()

    def collect(value: Any) -> None:
        if isinstance(value, str) and len(value.strip()) >= 2:
            values.add(value.strip())
            try:
                day = datetime.date.fromisoformat(value.strip())
            except ValueError:
                return
            values.update({f"{day.day} {day:%B %Y}", f"{day:%d/%m/%Y}", f"{day.day}/{day.month}/{day.year}"})
        elif isinstance(value, list):
            for item in value:
                collect(item)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)

    for content in contents:
        answers = (content or {}).get("answers") or {}
        for question_id, answer in answers.items():
            if any(word in question_id for word in _IDENTIFYING) and isinstance(answer, dict):
                collect(answer.get("value"))
    if not values:
        return lambda text: text
    pattern = re.compile(
        "|".join(rf"(?<!\w){re.escape(v)}(?!\w)" for v in sorted(values, key=len, reverse=True)), re.IGNORECASE
    )
    return lambda text: pattern.sub(REMOVED, text)


# --- rendering ------------------------------------------------------------------------------

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
# What a person wrote is shown isolated (server/platform/bidi.py), on the
# page and in the PDF made from it.
_environment.filters["bdi"] = bdi
_environment.filters["lines"] = bdi_lines
_environment.filters["isolated"] = isolated


def _charts(report: LearningReport) -> dict[str, Markup | None]:
    def chart(chart_id: str, title: str, rows: Iterable[GradeRow]) -> Markup | None:
        rows = [r for r in rows if sum(r.counts)]
        if not rows:
            return None
        labels = [*report.scale, "Not graded"]
        return charts.stacked_bars(
            chart_id,
            title=title,
            description="; ".join(
                f"{r.label}: " + ", ".join(f"{n} {labels[i]}" for i, n in enumerate(r.counts) if n) for r in rows
            ),
            categories=[r.label for r in rows],
            series=[(labels[i], [r.counts[i] for r in rows]) for i in range(len(labels))],
            horizontal=True,
        )

    return {
        "sections_chart": chart("sections-chart", "The partnership's grade of each section", report.sections),
        "agencies_chart": chart("agencies-chart", "Each agency's own overall grade", report.agencies),
    }


def render_learning_html(report: LearningReport, *, stylesheet_url: str | None) -> str:
    return _environment.get_template("web/report/learning.html").render(
        report=report, stylesheet_url=stylesheet_url, **_charts(report)
    )


def render_learning_pdf(report: LearningReport) -> bytes:
    """The same template as the page, as a tagged PDF (PDF/UA-1: a structure
    tree, the document's language and title) for screen readers."""
    # Imported on first use: loading Pango takes a second.
    from weasyprint import CSS, HTML

    document = HTML(string=render_learning_html(report, stylesheet_url=None), base_url=str(STYLESHEET.parent))
    pdf = document.write_pdf(stylesheets=[CSS(filename=str(STYLESHEET))], pdf_variant="pdf/ua-1")
    assert pdf is not None
    return cast("bytes", pdf)
