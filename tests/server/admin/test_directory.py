"""What notifications read of what the administrator recorded: whom in an
organisation to tell, and the partnership's reminder schedule — one read
each, with no person asking (here as the tables' owner, as a worker acting
for no one reads)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.audits.administration.directory import organisation_contacts, reminder_schedule
from tests.identity import ALL_PERSONAS, signed_in_people
from tests.server.admin.builders import as_admin, register


async def test_notifications_read_an_organisations_contacts_and_the_reminder_schedule(
    app: Litestar, client: AsyncTestClient[Litestar], db: asyncpg.Connection[Any]
) -> None:
    people = await signed_in_people(app, client, ALL_PERSONAS)
    trust = await register(
        people,
        "RX1",
        "Riverside Hospital",
        "health",
        lead=("Sam Lead", "sam.lead@riverside.nhs.uk"),
        audit_contacts=["audits@riverside.nhs.uk", "named.nurse@riverside.nhs.uk"],
    )
    quiet = await register(people, "RX2", "Quiet Clinic", "health")
    settings = await as_admin(
        people,
        "PUT",
        "/api/admin/partnership",
        json={"code": "demo-partnership", "name": "Demo", "reminder_days_before": [3, 10], "overdue_reminder_days": 2},
        version=0,
    )
    assert settings.status_code == 200, settings.text

    contacts = await organisation_contacts(db, [UUID(trust["id"]), UUID(quiet["id"])])
    schedule = await reminder_schedule(db, UUID(settings.json()["id"]))

    riverside = contacts[UUID(trust["id"])]
    assert (riverside.safeguarding_lead_name, riverside.safeguarding_lead_email, riverside.audit_contacts) == (
        "Sam Lead",
        "sam.lead@riverside.nhs.uk",
        ("audits@riverside.nhs.uk", "named.nurse@riverside.nhs.uk"),
    )
    assert contacts[UUID(quiet["id"])].safeguarding_lead_email is None
    assert schedule is not None
    assert (schedule.days_before_due, schedule.overdue_every_days, schedule.default_due_days) == ((10, 3), 2, None)
