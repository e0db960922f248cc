"""The partnership's own settings — its name and code, the default period
agencies are given to contribute, the reminder schedule, and how long its
closed audits are kept — and the administration trail.

The code is what tokens name the partnership by (the partnership claim,
or ``OIDC_DEFAULT_PARTNERSHIP``): changing it here without changing it
there refuses everyone's next sign-in, so the pages say so.
"""

from __future__ import annotations

import datetime
from typing import Any, Final
from uuid import UUID

import asyncpg
import msgspec

from agencies.organisations import CODE_PATTERN
from server.audits import events
from server.audits.catalogue import catalogue_of
from server.audits.checks import check_seen_version, invalid
from server.audits.events import EventName
from server.auth.permissions import Permission, require
from server.auth.principal import Principal
from server.db import machine_clients, organisations, partnerships, trail
from server.db.partnerships import SettingsRow
from server.platform.problems import Conflict, NotFound, PreconditionFailed
from toolkits.registry import Registry
from toolkits.validation import FieldProblem

__all__ = [
    "MAX_REMINDERS",
    "OverviewView",
    "PartnershipSettings",
    "PartnershipSettingsView",
    "TrailEntryView",
    "change_settings",
    "read_overview",
    "read_settings",
    "read_trail",
    "settings_problems",
]

MAX_REMINDERS: Final = 10
MAX_NAME: Final = 200


class PartnershipSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Everything the settings page sets, sent whole (``PUT``)."""

    code: str
    name: str
    # Days from creating an audit to the agencies' due date (None: no default).
    default_due_days: int | None = None
    # Days before the due date an agency that has not submitted is reminded.
    reminder_days_before: list[int] = msgspec.field(default_factory=lambda: [7, 1])
    # Then every so many days while it is overdue (0: not again).
    overdue_reminder_days: int = 7
    # Days a closed audit is kept (None: MACA_RETENTION_DAYS).
    retention_days: int | None = None


class PartnershipSettingsView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    code: str
    name: str
    default_due_days: int | None
    reminder_days_before: list[int]
    overdue_reminder_days: int
    retention_days: int | None
    # What applies when retention_days is None (MACA_RETENTION_DAYS).
    default_retention_days: int
    row_version: int
    updated_at: datetime.datetime | None


class TrailEntryView(msgspec.Struct, frozen=True, kw_only=True):
    """One change to the partnership's administration: what, who, when, to
    which organisation, and its detail (ids, changed fields, the reason
    given; never a contact's name or address)."""

    id: int
    at: datetime.datetime
    action: str
    by: str | None
    by_organisation: str | None
    organisation_id: UUID | None
    organisation_code: str | None
    organisation_name: str | None
    detail: dict[str, Any]


def _view(row: SettingsRow, default_retention_days: int) -> PartnershipSettingsView:
    return PartnershipSettingsView(
        id=row.partnership_id,
        code=row.code,
        name=row.name,
        default_due_days=row.default_due_days,
        reminder_days_before=list(row.reminder_days_before),
        overdue_reminder_days=row.overdue_reminder_days,
        retention_days=row.retention_days,
        default_retention_days=default_retention_days,
        row_version=row.row_version,
        updated_at=row.updated_at,
    )


def settings_problems(new: PartnershipSettings) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if not CODE_PATTERN.match(new.code):
        problems.append(
            FieldProblem(field="$.code", message="a code is 1 to 100 letters, digits and . _ : / - (no spaces)")
        )
    if not new.name.strip():
        problems.append(FieldProblem(field="$.name", message="a name is required"))
    elif len(new.name) > MAX_NAME:
        problems.append(FieldProblem(field="$.name", message=f"is longer than {MAX_NAME} characters"))
    if new.default_due_days is not None and not 1 <= new.default_due_days <= 366:
        problems.append(FieldProblem(field="$.default_due_days", message="must be between 1 and 366 days"))
    if len(new.reminder_days_before) > MAX_REMINDERS:
        problems.append(FieldProblem(field="$.reminder_days_before", message=f"at most {MAX_REMINDERS} reminders"))
    for i, days in enumerate(new.reminder_days_before):
        if not 1 <= days <= 90:
            problems.append(FieldProblem(field=f"$.reminder_days_before[{i}]", message="must be between 1 and 90 days"))
    if len(set(new.reminder_days_before)) != len(new.reminder_days_before):
        problems.append(FieldProblem(field="$.reminder_days_before", message="a day is listed twice"))
    if not 0 <= new.overdue_reminder_days <= 90:
        problems.append(FieldProblem(field="$.overdue_reminder_days", message="must be between 0 (never) and 90 days"))
    if new.retention_days is not None and not 365 <= new.retention_days <= 36525:
        problems.append(
            FieldProblem(field="$.retention_days", message="must be between 365 days (a year) and 36525 (a century)")
        )
    return problems


async def _settings(connection: asyncpg.Connection[Any], principal: Principal) -> SettingsRow:
    found = await partnerships.settings(connection, principal.partnership_id)
    if found is None:
        raise NotFound("no such partnership")
    return found


async def read_settings(
    connection: asyncpg.Connection[Any], principal: Principal, *, default_retention_days: int
) -> PartnershipSettingsView:
    require(principal, Permission.PARTNERSHIP_ADMINISTER)
    return _view(await _settings(connection, principal), default_retention_days)


async def change_settings(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    new: PartnershipSettings,
    *,
    seen_version: int | None,
    default_retention_days: int,
) -> PartnershipSettingsView:
    require(principal, Permission.PARTNERSHIP_ADMINISTER)
    current = await _settings(connection, principal)
    check_seen_version(
        seen_version, current.row_version, resource="the partnership's settings", read_at="/api/admin/partnership"
    )
    problems = settings_problems(new)
    if problems:
        raise invalid(problems)
    reminders = tuple(sorted(new.reminder_days_before, reverse=True))
    renamed = (new.code, new.name.strip()) != (current.code, current.name)
    if renamed and not await partnerships.rename(
        connection, principal.partnership_id, code=new.code, name=new.name.strip()
    ):
        raise Conflict(f"another partnership has the code '{new.code}'")
    saved = await partnerships.save_settings(
        connection,
        principal.partnership_id,
        current.row_version,
        default_due_days=new.default_due_days,
        reminder_days_before=reminders,
        overdue_reminder_days=new.overdue_reminder_days,
        retention_days=new.retention_days,
        user_id=principal.user_id,
    )
    if not saved:
        raise PreconditionFailed("someone changed the partnership's settings since you read them; read them again")
    after = await _settings(connection, principal)
    changed = {
        name: {"from": before, "to": now}
        for name, before, now in (
            ("code", current.code, after.code),
            ("name", current.name, after.name),
            ("default_due_days", current.default_due_days, after.default_due_days),
            ("reminder_days_before", list(current.reminder_days_before), list(after.reminder_days_before)),
            ("overdue_reminder_days", current.overdue_reminder_days, after.overdue_reminder_days),
            ("retention_days", current.retention_days, after.retention_days),
        )
        if before != now
    }
    if changed:
        await events.record(
            connection,
            principal,
            EventName.PARTNERSHIP_CHANGED,
            detail={"partnership_ids": [str(principal.partnership_id)], "changed": changed},
        )
    return _view(after, default_retention_days)


async def read_trail(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    *,
    organisation_id: UUID | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[TrailEntryView]:
    """The partnership's administration trail, newest first (or one
    organisation's part of it)."""
    require(
        principal, Permission.PARTNERSHIP_ADMINISTER if organisation_id is None else Permission.ORGANISATION_ADMINISTER
    )
    if organisation_id is not None:
        found = await organisations.get(connection, organisation_id)
        if found is None or found.partnership_id != principal.partnership_id:
            raise NotFound("no organisation of your partnership has this id")
    rows = await trail.administration(
        connection, principal.partnership_id, organisation_id=organisation_id, before=before, limit=limit
    )
    return [
        TrailEntryView(
            id=row.id,
            at=row.at,
            action=row.action,
            by=row.user_name,
            by_organisation=row.user_organisation,
            organisation_id=row.target_organisation_id,
            organisation_code=row.target_code,
            organisation_name=row.target_name,
            detail={k: v for k, v in row.detail.items() if k != "partnership_ids"},
        )
        for row in rows
    ]


class OverviewView(msgspec.Struct, frozen=True, kw_only=True):
    """The administrator's first page: where the partnership stands."""

    settings: PartnershipSettingsView
    organisations: int
    to_confirm: int
    inactive: int
    without_contacts: int
    clients: int
    toolkits_offered: int
    own_versions: int
    recent: list[TrailEntryView]


async def read_overview(
    connection: asyncpg.Connection[Any], principal: Principal, registry: Registry, *, default_retention_days: int
) -> OverviewView:
    """What the administration's home page shows: the partnership, how
    many organisations wait to be confirmed or have no contacts, its
    agencies' systems and toolkits, and the latest changes."""
    require(principal, Permission.PARTNERSHIP_ADMINISTER)
    settings = await _settings(connection, principal)
    registered = await organisations.of_partnership(connection, principal.partnership_id)
    contacts = await organisations.contacts_of(connection, [row.id for row in registered])
    catalogue = await catalogue_of(connection, registry, principal.partnership_id)
    return OverviewView(
        settings=_view(settings, default_retention_days),
        organisations=len(registered),
        to_confirm=sum(1 for row in registered if row.needs_confirmation),
        inactive=sum(1 for row in registered if not row.active),
        without_contacts=sum(1 for row in registered if row.active and not contacts[row.id]),
        clients=len(await machine_clients.of_partnership(connection, principal.partnership_id)),
        toolkits_offered=len(catalogue.offered_toolkits()),
        own_versions=len(catalogue.versions),
        recent=await read_trail(connection, principal, limit=5),
    )
