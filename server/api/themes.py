"""``GET /api/reports/themes``: the partnership's themes across audits.

Coordinators and reviewers see their partnership's; an agency's auditor
sees only its own organisation's submitted grades and the overdue actions
its organisation is responsible for, never the partnership-wide grades,
disagreements or concerns (which are made from other agencies' work).
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any
from uuid import UUID

import asyncpg
from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from agencies.kinds import AGENCY_KIND_CODES, AGENCY_KINDS
from merging import OVERALL
from server.audits import events
from server.audits.events import EventName
from server.auth.permissions import is_partnership_staff
from server.auth.principal import Principal
from server.db import plans, theme_versions
from server.db import themes as stored
from server.pages.rendering import FormErrors, PageController, render_page
from server.platform.problems import FieldError, InvalidInput
from server.platform.transactions import unit_of_work
from server.reports import charts
from server.reports.themes import (
    EVERY_AUDIT,
    STATUSES,
    Filters,
    OverdueActions,
    Themes,
    agency_kind_themes,
    parse_quarter,
    quarter_after,
    quarter_themes,
    section_themes,
    titles_and_labels,
)
from server.reports.themes_cache import ThemesCache
from toolkits.registry import Registry

EARLIEST = datetime.date(1900, 1, 1)
LATEST = datetime.date(9999, 10, 1)


def check_filters(registry: Registry, filters: Filters) -> tuple[datetime.date, datetime.date]:
    """The first and last quarter asked for; 422 naming every wrong field."""
    problems: list[FieldError] = []
    first, last = EARLIEST, LATEST
    for field, value in (("from", filters.period_from), ("to", filters.period_to)):
        if value is None:
            continue
        quarter = parse_quarter(value)
        if quarter is None:
            problems.append(FieldError(field=field, message="must be a quarter written YYYY-Qn, such as 2025-Q2"))
        elif field == "from":
            first = quarter
        else:
            last = quarter
    if first > last:
        problems.append(FieldError(field="to", message="is before the start of the period"))
    if filters.toolkit is not None and filters.toolkit not in registry.ids():
        problems.append(FieldError(field="toolkit", message=f"no such toolkit; one of: {', '.join(registry.ids())}"))
    if filters.agency_kind is not None and filters.agency_kind not in AGENCY_KIND_CODES:
        problems.append(
            FieldError(
                field="agency_kind", message=f"no such agency kind; one of: {', '.join(sorted(AGENCY_KIND_CODES))}"
            )
        )
    if filters.status is not None and filters.status not in STATUSES:
        problems.append(FieldError(field="status", message=f"must be one of: {', '.join(STATUSES)}"))
    if problems:
        raise InvalidInput(errors=problems)
    return first, last


def _cache(state: State) -> ThemesCache:
    cache = getattr(state, "themes_cache", None)
    if cache is None:
        cache = ThemesCache()
        state.themes_cache = cache
    return cache


async def read_themes(state: State, principal: Principal, filters: Filters) -> Themes:
    """The dashboard for ``principal``, recorded as one event (the filters,
    never figures). Served from this process's cache while the
    partnership's themes version and the day are those it was computed at."""
    registry: Registry = state.toolkits
    first, last = check_filters(registry, filters)
    staff = is_partnership_staff(principal)
    own = None if staff else principal.organisation_id
    today = datetime.date.today()
    cache = _cache(state)
    async with unit_of_work(state, principal) as connection:
        # Read first: a change committed while the figures are read below
        # makes them newer than this version, never older.
        key = (
            principal.partnership_id,
            await theme_versions.current(connection, principal.partnership_id),
            today,
            own,
            filters,
        )
        themes = cache.get(key)
        if themes is None:
            themes = await _compute(connection, registry, principal, filters, first, last, own, today)
            cache.put(key, themes)
        await events.record(
            connection,
            principal,
            EventName.THEMES_READ,
            detail={"filters": {k: v for k, v in msgspec_builtins(filters).items() if v is not None}},
        )
    return themes


async def _compute(
    connection: asyncpg.Connection[Any],
    registry: Registry,
    principal: Principal,
    filters: Filters,
    first: datetime.date,
    last: datetime.date,
    own: UUID | None,
    today: datetime.date,
) -> Themes:
    titles, labels = titles_and_labels(registry.current(i) for i in registry.ids())
    await plans.plan_for_the_values_given(connection)
    agency = await stored.agency_rows(
        connection,
        principal.partnership_id,
        first=first,
        last=last,
        toolkit_id=filters.toolkit,
        status=filters.status,
        agency_kind=filters.agency_kind,
        organisation_id=own,
    )
    overdue = await stored.overdue_actions(
        connection,
        principal.partnership_id,
        today=today,
        first=first,
        after_last=quarter_after(last),
        toolkit_id=filters.toolkit,
        status=filters.status,
        agency_kind=filters.agency_kind,
        organisation_id=own,
    )
    # An agency's auditor never sees the partnership-wide figures.
    sections, trend = (
        await stored.section_rows(
            connection,
            principal.partnership_id,
            participating_kind=filters.agency_kind or EVERY_AUDIT,
            first=first,
            last=last,
            toolkit_id=filters.toolkit,
            status=filters.status,
        )
        if own is None
        else (None, None)
    )
    overdue_actions = tuple(OverdueActions(agency_kind=kind, overdue=n) for kind, n in overdue)
    return Themes(
        scope="partnership" if own is None else "organisation",
        filters=filters,
        audits=None if sections is None else sum(r.audits for r in sections if r.section_id == OVERALL),
        sections=None if sections is None else section_themes(sections, titles, labels),
        agency_kinds=agency_kind_themes(agency, titles, labels),
        trend=None if trend is None else quarter_themes(trend, labels),
        immediate_concerns=None if sections is None else sum(r.concerns for r in sections if r.section_id == OVERALL),
        overdue_actions=overdue_actions,
        overdue_total=sum(a.overdue for a in overdue_actions),
    )


def msgspec_builtins(filters: Filters) -> dict[str, Any]:
    return {f: getattr(filters, f) for f in filters.__struct_fields__}


class ThemesController(Controller):
    path = "/api/reports/themes"
    tags = ("reports",)

    @get(
        "/",
        summary="Themes across the partnership's audits: grades per section, per agency kind, per quarter",
        description=(
            "Coordinators and reviewers: the distribution of the partnership's grades per section, each agency "
            "kind's own grades, the overall grade by quarter, how often each section was disagreed on or "
            "moderated, immediate concerns raised and overdue remedial actions. An agency's auditor: only its "
            "own organisation's submitted grades and overdue actions (the partnership-wide parts are null). "
            "Periods are whole quarters (from=2024-Q3&to=2025-Q2) of when audits were created."
        ),
    )
    async def themes(
        self,
        state: State,
        principal: NamedDependency[Principal],
        period_from: Annotated[str | None, QueryParameter(name="from", description="first quarter, YYYY-Qn")] = None,
        period_to: Annotated[str | None, QueryParameter(name="to", description="last quarter, YYYY-Qn")] = None,
        toolkit: Annotated[str | None, QueryParameter(description="a toolkit id")] = None,
        agency_kind: Annotated[str | None, QueryParameter(description="audits this agency kind took part in")] = None,
        status: Annotated[str | None, QueryParameter(description="draft, open, in-review or closed")] = None,
    ) -> Themes:
        filters = Filters(
            period_from=period_from, period_to=period_to, toolkit=toolkit, agency_kind=agency_kind, status=status
        )
        return await read_themes(state, principal, filters)


# --- the dashboard page ------------------------------------------------------------


def _options(values: list[tuple[str, str]], chosen: str | None, everything: str) -> list[dict[str, Any]]:
    return [{"value": "", "text": everything, "selected": not chosen}] + [
        {"value": value, "text": text, "selected": value == chosen} for value, text in values
    ]


def page_context(registry: Registry, themes: Themes | None, filters: Filters) -> dict[str, Any]:
    """What the page shows besides the themes: charts (accessible SVG made
    here from the same figures as the tables) and the filters' choices."""
    kinds = {kind.code: kind.name for kind in AGENCY_KINDS}
    toolkit_titles = {i: registry.current(i).title for i in registry.ids()}
    context: dict[str, Any] = {
        "filters": filters,
        "themes": themes,
        "kind_names": kinds,
        "toolkit_options": _options(list(toolkit_titles.items()), filters.toolkit, "Every toolkit"),
        "kind_options": _options(sorted(kinds.items()), filters.agency_kind, "Any agency"),
        "status_options": _options([(s, s.replace("-", " ").capitalize()) for s in STATUSES], filters.status, "Any"),
        "trend_chart": None,
        "section_groups": [],
    }
    if themes is None or themes.sections is None:
        return context
    if themes.trend:
        grade_names = [g.label for g in themes.trend[0].grades]
        context["trend_chart"] = charts.stacked_bars(
            "trend-chart",
            title="Overall grade of audits by quarter created",
            description=", ".join(
                f"{q.quarter}: {q.audits} audits, average grade {q.average if q.average is not None else 'none'}"
                for q in themes.trend
            )
            + ". The table beside this chart gives every count.",
            categories=[q.quarter for q in themes.trend],
            series=[(name, [q.grades[i].count for q in themes.trend]) for i, name in enumerate(grade_names)],
        )
    for toolkit_id in dict.fromkeys(s.toolkit_id for s in themes.sections):
        sections = [s for s in themes.sections if s.toolkit_id == toolkit_id]
        most = max(sections, key=lambda s: s.disagreed)
        grade_names = [g.label for g in sections[0].grades]
        chart = charts.stacked_bars(
            f"sections-chart-{toolkit_id}",
            title=f"{toolkit_titles.get(toolkit_id, toolkit_id)}: partnership grades by section",
            description=(
                f"{len(sections)} sections of {sections[-1].audits} audits. Most disagreed on: {most.title} "
                f"({most.disagreed} audits). The table beside this chart gives every count."
            ),
            categories=[s.title for s in sections],
            series=[(name, [s.grades[i].count for s in sections]) for i, name in enumerate(grade_names)],
            horizontal=True,
        )
        context["section_groups"].append(
            {
                "toolkit_id": toolkit_id,
                "title": toolkit_titles.get(toolkit_id, toolkit_id),
                "sections": sections,
                "chart": chart,
            }
        )
    return context


class ThemesPage(PageController):
    path = "/reports/themes"

    @get("/")
    async def page(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        period_from: Annotated[str | None, QueryParameter(name="from")] = None,
        period_to: Annotated[str | None, QueryParameter(name="to")] = None,
        toolkit: Annotated[str | None, QueryParameter()] = None,
        agency_kind: Annotated[str | None, QueryParameter()] = None,
        status: Annotated[str | None, QueryParameter()] = None,
    ) -> Response[str]:
        filters = Filters(
            period_from=period_from or None,
            period_to=period_to or None,
            toolkit=toolkit or None,
            agency_kind=agency_kind or None,
            status=status or None,
        )
        errors = FormErrors()
        themes: Themes | None = None
        try:
            themes = await read_themes(state, principal, filters)
        except InvalidInput as problem:
            for error in problem.errors:
                errors.add(error.field, f"{error.field.replace('_', ' ').capitalize()} {error.message}")
        return render_page(
            request,
            "web/reports/themes.html",
            title="Themes across audits",
            errors=errors,
            status_code=422 if errors else 200,
            **page_context(state.toolkits, themes, filters),
        )


route_handlers: list[Any] = [ThemesController, ThemesPage]
