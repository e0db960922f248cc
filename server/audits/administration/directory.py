"""What the rest of Maca reads of what the administrator recorded, with no
person asking: whom in an organisation to tell about an audit, and when a
partnership's agencies are reminded of a due date.

These are reads for Maca's own work (sending notifications), so they check
no permission and record no event; the connection's transaction decides
what row-level security lets them see (migration 0012: a transaction
carrying the partnership reads its organisations' contacts and settings;
a worker acting for no one reads as the tables' owner or through a
function that returns only this). Nothing here is for showing to a person:
the administration pages read through ``organisations`` and
``partnership``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from server.db import organisations, partnerships

__all__ = ["OrganisationContacts", "ReminderSchedule", "organisation_contacts", "reminder_schedule"]


class OrganisationContacts(msgspec.Struct, frozen=True, kw_only=True):
    """Whom to tell in an organisation: its named safeguarding lead (an
    immediate concern: "the manager must be notified") and the addresses
    its audit requests go to. Either may be empty: the organisation's own
    people who signed in are the fallback."""

    organisation_id: UUID
    safeguarding_lead_name: str | None
    safeguarding_lead_email: str | None
    audit_contacts: tuple[str, ...]


class ReminderSchedule(msgspec.Struct, frozen=True, kw_only=True):
    """When agencies that have not submitted are reminded: so many days
    before the due date (largest first), then every ``overdue_every_days``
    while overdue (0: not again); and the default due period of new audits."""

    partnership_id: UUID
    days_before_due: tuple[int, ...]
    overdue_every_days: int
    default_due_days: int | None


async def organisation_contacts(
    connection: asyncpg.Connection[Any], organisation_ids: Sequence[UUID]
) -> dict[UUID, OrganisationContacts]:
    """The contacts of each organisation, in one statement."""
    found = await organisations.contacts_of(connection, organisation_ids)
    result: dict[UUID, OrganisationContacts] = {}
    for organisation_id, contacts in found.items():
        lead = next((c for c in contacts if c.kind == "safeguarding-lead"), None)
        result[organisation_id] = OrganisationContacts(
            organisation_id=organisation_id,
            safeguarding_lead_name=None if lead is None else lead.name,
            safeguarding_lead_email=None if lead is None else lead.email,
            audit_contacts=tuple(c.email for c in contacts if c.kind == "audit-contact"),
        )
    return result


async def reminder_schedule(connection: asyncpg.Connection[Any], partnership_id: UUID) -> ReminderSchedule | None:
    """The partnership's reminder schedule (its defaults where its
    administrator set none); None for no such partnership."""
    found = await partnerships.settings(connection, partnership_id)
    if found is None:
        return None
    return ReminderSchedule(
        partnership_id=partnership_id,
        days_before_due=tuple(sorted(found.reminder_days_before, reverse=True)),
        overdue_every_days=found.overdue_reminder_days,
        default_due_days=found.default_due_days,
    )
