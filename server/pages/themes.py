"""The themes dashboard as a page (``/reports/themes``): the coordinators'
and reviewers' view of their partnership's grades across audits, with
accessible charts made from the same figures as its tables. The figures
and who may see which are :func:`server.audits.themes.read_themes`, as
``GET /api/reports/themes`` reads them."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from agencies.kinds import AGENCY_KINDS
from server.audits import concerns as concern_steps
from server.audits.themes import read_themes
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
from server.pages.concerns import concern_items
from server.pages.rendering import FormErrors, PageController, render_page
from server.platform.problems import InvalidInput
from server.platform.transactions import unit_of_work
from server.reports import charts
from server.reports.themes import STATUSES, Filters, Themes
from server.reports.themes_cache import ThemesCache
from toolkits.registry import Registry


def _options(values: list[tuple[str, str]], chosen: str | None, everything: str) -> list[dict[str, Any]]:
    return [{"value": "", "text": everything, "selected": not chosen}] + [
        {"value": value, "text": text, "selected": value == chosen} for value, text in values
    ]


def legend(grade: Any) -> str:
    """A grade in a chart's legend as every page names it: "Good (2)"
    (and "Not graded yet"), never a bare number."""
    return grade.label if grade.grade is None else f"{grade.label} ({grade.grade})"


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
        # The audits behind the dashboard's count, in the audits list
        # (its filters: the toolkit and the status; the list has no period).
        "audits_link": "/audits"
        + (
            "?" + urlencode({k: v for k, v in (("toolkit", filters.toolkit), ("status", filters.status)) if v})
            if filters.toolkit or filters.status
            else ""
        ),
        "trend_chart": None,
        "section_groups": [],
    }
    if themes is None or themes.sections is None:
        return context
    if themes.trend:
        grade_names = [legend(g) for g in themes.trend[0].grades]
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
        grade_names = [legend(g) for g in sections[0].grades]
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

    @get("/", opt=needs(Permission.PARTNERSHIP_OVERSEE))
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
        programme: Annotated[str | None, QueryParameter()] = None,
    ) -> Response[str]:
        filters = Filters(
            period_from=period_from or None,
            period_to=period_to or None,
            toolkit=toolkit or None,
            agency_kind=agency_kind or None,
            status=status or None,
            programme=programme or None,
        )
        errors = FormErrors()
        themes: Themes | None = None
        waiting: list[Any] = []
        try:
            async with unit_of_work(state, principal) as connection:
                themes = await read_themes(connection, principal, state.toolkits, ThemesCache.of(state), filters)
                # The open immediate concerns head the dashboard too.
                waiting = await concern_steps.open_concerns(connection, principal)
        except InvalidInput as problem:
            for error in problem.errors:
                errors.add(error.field, f"{error.field.replace('_', ' ').capitalize()} {error.message}")
        return render_page(
            request,
            "web/reports/themes.html",
            title="Themes across audits",
            errors=errors,
            status_code=422 if errors else 200,
            open_concerns=concern_items(waiting),
            **page_context(state.toolkits, themes, filters),
        )


route_handlers: list[Any] = [ThemesPage]
