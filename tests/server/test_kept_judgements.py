"""A judgement merged before is served again while nothing it was merged
from has changed, and never after (issue 24): after every change a reader
would see, the judgement read through the process's kept judgements is the
very judgement a process that keeps none merges, byte for byte.

The partnership's people change what a judgement is merged from as they
would: agencies submit, a reviewer moderates, an administrator renames an
organisation, the coordinator closes the audit.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
from litestar import Litestar

from server.audits.judgement import KeptJudgements
from tests.server.audit_fixtures import (
    People,
    an_open_audit,
    people_fixture,  # noqa: F401 - fixture
    request,
)
from tests.server.test_judgement_api import contribute
from tests.web.test_list_queries import counted


async def judgement_text(app: Litestar, people: People, audit: dict[str, Any], *, kept: bool) -> tuple[str, str]:
    """The reviewer's judgement (body, ETag): through the kept judgements as
    they stand, or as a process that kept none would merge it."""
    if not kept:
        KeptJudgements.of(app.state)._kept.clear()
    response = await request(people, "reviewer", "GET", f"/api/audits/{audit['id']}/judgement")
    assert response.status_code == 200, response.text
    return response.text, response.headers["etag"]


async def same_judgement_kept_or_not(app: Litestar, people: People, audit: dict[str, Any]) -> str:
    kept = await judgement_text(app, people, audit, kept=True)
    merged = await judgement_text(app, people, audit, kept=False)
    assert kept == merged
    return kept[0]


async def test_the_kept_judgement_is_the_merged_judgement_after_every_change(
    app: Litestar, people: People, db: asyncpg.Connection[Any]
) -> None:
    audit = await an_open_audit(people, participants=["health", "police"], referrer="health")
    first = await same_judgement_kept_or_not(app, people, audit)

    await contribute(people, "health", audit, 2)
    after_health = await same_judgement_kept_or_not(app, people, audit)
    assert after_health != first

    await contribute(people, "police", audit, 4)
    after_police = await same_judgement_kept_or_not(app, people, audit)
    assert after_police != after_health

    _, etag = await judgement_text(app, people, audit, kept=True)
    moderated = await request(
        people,
        "reviewer",
        "PUT",
        f"/api/audits/{audit['id']}/judgement/sections/overall",
        json={"grade": 3, "reason": "The panel agreed requires improvement"},
        headers={"If-Match": etag},
    )
    assert moderated.status_code == 200, moderated.text
    after_moderation = await same_judgement_kept_or_not(app, people, audit)
    assert "The panel agreed requires improvement" in after_moderation

    # An administrator's correction of a name the judgement shows.
    await db.execute(
        "UPDATE organisations SET name = 'Demo Police (renamed)' WHERE id = $1", people.organisation_id("police")
    )
    after_rename = await same_judgement_kept_or_not(app, people, audit)
    assert "Demo Police (renamed)" in after_rename

    # Closing makes it final.
    await db.execute("UPDATE audits SET status = 'closed', closed_at = now() WHERE id = $1", uuid.UUID(audit["id"]))
    after_closing = await same_judgement_kept_or_not(app, people, audit)
    assert '"final":true' in after_closing and '"final":true' not in after_rename


async def test_a_kept_judgement_is_checked_by_one_read_of_versions(app: Litestar, people: People) -> None:
    audit = await an_open_audit(people, participants=["health", "police"], referrer="health")
    await contribute(people, "health", audit, 2)
    await judgement_text(app, people, audit, kept=False)  # merged and kept

    with counted(app) as pool:
        again = await request(people, "reviewer", "GET", f"/api/audits/{audit['id']}/judgement")
        await asyncio.sleep(0)
    assert again.status_code == 200, again.text
    # No contribution's content, nor the moderations, were read again.
    assert not any("c.content" in statement for statement in pool.statements), pool.statements
    assert not any("FROM moderations m LEFT JOIN users" in s and "m.reason" in s for s in pool.statements)
