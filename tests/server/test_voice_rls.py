"""The practitioner and family voice behind row-level security (migration
0017), tried as maca_app with the server's real seals, as an injected
statement would run: one agency never sees another's voice, draft or
submitted; the partnership's overseers see an agency's only once its
contribution is submitted; nobody writes as another agency or another
person; kept versions are never changed; a closed audit's stay as they are.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from server.db import identity
from server.db.identity import Sealer
from server.db.pool import app_database_url
from server.settings import Settings
from tests.server.audit_fixtures import (
    People,
    an_open_audit,
    contribution_url,
    draft_and_submit,
    people_fixture,  # noqa: F401 - fixture
    request,
)
from tests.server.test_rls import Person, as_person, person

SAID = "The practitioner said the family had moved twice"


@pytest.fixture
async def as_app(settings: Settings, database_url: str) -> AsyncIterator[asyncpg.Connection[Any]]:
    """A connection logged in as maca_app, as the pool connects."""
    connection = await asyncpg.connect(app_database_url(settings, database_url))
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
async def sealer(db: asyncpg.Connection[Any]) -> Sealer:
    """The server's sealer, with the key `maca migrate` stored."""
    key = await identity.stored_key(db)
    assert key is not None
    return Sealer(configured=key, owner_dsn=None)


async def recorded(people: People, persona: str, audit: dict[str, Any], said: str) -> None:
    url = f"{contribution_url(audit, people, persona)}/voice"
    current = await request(people, persona, "GET", url)
    saved = await request(
        people,
        persona,
        "PUT",
        url,
        json={"findings_discussed": "yes", "practitioner_views": said},
        headers={"If-Match": current.headers["etag"]},
    )
    assert saved.status_code == 200, saved.text


async def voices_seen(connection: asyncpg.Connection[Any], sealer: Sealer, who: Person) -> set[str]:
    async with connection.transaction():
        await as_person(connection, sealer, who)
        rows = await connection.fetch("SELECT practitioner_views FROM contribution_voices")
    return {row["practitioner_views"] for row in rows}


async def test_one_agency_never_sees_anothers_voice_and_the_partnership_only_once_submitted(
    people: People, as_app: asyncpg.Connection[Any], sealer: Sealer
) -> None:
    audit = await an_open_audit(people, participants=["health", "police"])
    await recorded(people, "health", audit, f"health draft: {SAID}")
    await recorded(people, "police", audit, f"police: {SAID}")
    await draft_and_submit(people, "police", audit)
    health, police, reviewer = (person(people, p) for p in ("health", "police", "reviewer"))

    assert await voices_seen(as_app, sealer, health) == {f"health draft: {SAID}"}
    assert await voices_seen(as_app, sealer, police) == {f"police: {SAID}"}
    # Health's is a draft (not submitted): not the reviewer's yet.
    assert await voices_seen(as_app, sealer, reviewer) == {f"police: {SAID}"}

    await draft_and_submit(people, "health", audit)
    assert await voices_seen(as_app, sealer, reviewer) == {f"health draft: {SAID}", f"police: {SAID}"}
    assert await voices_seen(as_app, sealer, police) == {f"police: {SAID}"}, "submitted, still not another agency's"
    async with as_app.transaction():
        assert await as_app.fetchval("SELECT count(*) FROM contribution_voices") == 0, "no identity sees nothing"


async def test_nobody_writes_as_another_agency_or_person_or_changes_a_kept_version(
    people: People, as_app: asyncpg.Connection[Any], sealer: Sealer
) -> None:
    audit = await an_open_audit(people, participants=["health", "police"])
    await recorded(people, "health", audit, SAID)
    health, police, reviewer = (person(people, p) for p in ("health", "police", "reviewer"))
    insert = (
        "INSERT INTO contribution_voices (audit_id, organisation_id, version, findings_discussed, created_by) "
        "VALUES ($1, $2, 2, 'no', $3)"
    )
    for who, as_whom in ((police, health), (reviewer, health), (health, police)):
        async with as_app.transaction():
            await as_person(as_app, sealer, who)
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await as_app.execute(insert, audit["id"], health.organisation_id, as_whom.user_id)
    for statement in (
        "UPDATE contribution_voices SET practitioner_views = 'rewritten'",
        "DELETE FROM contribution_voices",
    ):
        async with as_app.transaction():
            await as_person(as_app, sealer, health)
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await as_app.execute(statement)
    assert await voices_seen(as_app, sealer, health) == {SAID}


async def test_a_closed_audits_voice_refuses_a_new_version_in_the_database(
    people: People, as_app: asyncpg.Connection[Any], sealer: Sealer
) -> None:
    audit = await an_open_audit(people, participants=["health"])
    await recorded(people, "health", audit, SAID)
    await draft_and_submit(people, "health", audit)
    for move in (
        {"status": "in-review"},
        {"status": "closed", "confirm_outstanding": True, "reason": "Agreed at panel"},
    ):
        current = await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}")
        moved = await request(
            people,
            "coordinator",
            "POST",
            f"/api/audits/{audit['id']}/status",
            json=move,
            headers={"If-Match": current.headers["etag"]},
        )
        assert moved.status_code == 200, moved.text
    health = person(people, "health")
    async with as_app.transaction():
        await as_person(as_app, sealer, health)
        with pytest.raises(asyncpg.PostgresError) as refused:
            await as_app.execute(
                "INSERT INTO contribution_voices (audit_id, organisation_id, version, findings_discussed, created_by) "
                "VALUES ($1, $2, 2, 'no', $3)",
                audit["id"],
                health.organisation_id,
                health.user_id,
            )
    assert refused.value.sqlstate == "55M01"
