"""``GET /api/reports/themes``: the partnership's themes across audits.

Coordinators and reviewers see their partnership's; an agency's auditor
sees only its own organisation's submitted grades and the overdue actions
its organisation is responsible for, never the partnership-wide grades,
disagreements or concerns (which are made from other agencies' work). The
rules and the figures: :mod:`server.audits.themes`; the same dashboard as a
page: :mod:`server.pages.dashboard`.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from server.audits.themes import read_themes
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
from server.platform.transactions import unit_of_work
from server.reports.themes import Filters, Themes
from server.reports.themes_cache import ThemesCache


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
        opt=needs(Permission.REPORT_READ),
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
        programme: Annotated[str | None, QueryParameter(description="only this programme's audits (its id)")] = None,
    ) -> Themes:
        filters = Filters(
            period_from=period_from,
            period_to=period_to,
            toolkit=toolkit,
            agency_kind=agency_kind,
            status=status,
            programme=programme,
        )
        async with unit_of_work(state, principal) as connection:
            return await read_themes(connection, principal, state.toolkits, ThemesCache.of(state), filters)


route_handlers: list[Any] = [ThemesController]
