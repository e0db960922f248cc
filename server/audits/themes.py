"""The partnership's themes across audits (the dashboard), as its reader may
see them: coordinators and reviewers their partnership's; an agency's
auditor only its own organisation's submitted grades and the overdue
actions its organisation is responsible for — never the partnership-wide
grades, disagreements or concerns, which are made from other agencies'
work.

A dashboard is added up from counted rows (``server/audits/summaries.py``
keeps them) and kept by the process under the partnership's themes version
(``server/reports/themes_cache.py``).
"""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

import asyncpg

from agencies.kinds import AGENCY_KIND_CODES
from merging import OVERALL
from server.audits import events
from server.audits.events import EventName
from server.audits.programmes import check_programme_filter
from server.auth.permissions import Permission, is_partnership_staff, require
from server.auth.principal import Principal
from server.db import plans, theme_versions
from server.db import themes as stored
from server.platform.problems import FieldError, InvalidInput
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

__all__ = ["check_filters", "read_themes"]

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
    if filters.programme is not None and programme_id(filters) is None:
        problems.append(FieldError(field="programme", message="must be a programme's id"))
    if problems:
        raise InvalidInput(errors=problems)
    return first, last


def programme_id(filters: Filters) -> UUID | None:
    try:
        return None if filters.programme is None else UUID(filters.programme)
    except ValueError:
        return None


async def read_themes(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    cache: ThemesCache,
    filters: Filters,
) -> Themes:
    """The dashboard for ``principal``, recorded as one event (the filters,
    never figures). Served from ``cache`` while the partnership's themes
    version and the day are those it was computed at."""
    require(principal, Permission.REPORT_READ)
    first, last = check_filters(registry, filters)
    await check_programme_filter(connection, principal, programme_id(filters))
    own = None if is_partnership_staff(principal) else principal.organisation_id
    today = datetime.date.today()
    # Read first: a change committed while the figures are read below makes
    # them newer than this version, never older.
    key = (
        principal.partnership_id,
        await theme_versions.current(connection, principal.partnership_id),
        today,
        own,
        filters,
    )
    themes = await cache.get_or_compute(
        key, lambda: _compute(connection, registry, principal, filters, first, last, own, today)
    )
    await events.record(
        connection,
        principal,
        EventName.THEMES_READ,
        detail={
            "filters": {f: getattr(filters, f) for f in filters.__struct_fields__ if getattr(filters, f) is not None}
        },
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
    programme = programme_id(filters)
    if programme is None:
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
    else:
        agency = await stored.programme_agency_rows(
            connection,
            principal.partnership_id,
            programme,
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
        programme_id=programme,
    )
    # An agency's auditor never sees the partnership-wide figures.
    sections: list[stored.SectionRow] | None = None
    trend: list[stored.QuarterRow] | None = None
    if own is None and programme is None:
        sections, trend = await stored.section_rows(
            connection,
            principal.partnership_id,
            participating_kind=filters.agency_kind or EVERY_AUDIT,
            first=first,
            last=last,
            toolkit_id=filters.toolkit,
            status=filters.status,
        )
    elif own is None and programme is not None:
        sections, trend = await stored.programme_section_rows(
            connection,
            principal.partnership_id,
            programme,
            participating_kind=filters.agency_kind or EVERY_AUDIT,
            first=first,
            last=last,
            toolkit_id=filters.toolkit,
            status=filters.status,
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
