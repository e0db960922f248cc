"""The steps the API and the web pages share (``server/audits/``),
called directly in a transaction as either caller opens it, against the real
database: each checks its rule, writes, records its event and refreshes the
audit's themes summary, or refuses with the problem both callers turn into
their own answer."""

from __future__ import annotations

import datetime
import json
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.datastructures import State

from server.audits import audits, contributions, moderation
from server.audits.audits import NewAudit
from server.audits.facts import audit_toolkit
from server.audits.judgement import judgement_of, partnership_result
from server.auth.middleware import principal_for_token
from server.auth.principal import Principal
from server.db import judgements, themes
from server.db.pool import create_pool
from server.db.themes import AuditSummaryRow
from server.platform.problems import Conflict, Forbidden, InvalidInput, NotFound, PreconditionFailed
from server.platform.transactions import unit_of_work
from server.settings import Settings
from tests.identity import SignedInPeople
from tests.server.audit_fixtures import (
    CASE_DETAILS,
    a_draft_audit,
    an_open_audit,
    complete_answers,
    draft_and_submit,
    people_fixture,  # noqa: F401 - fixture
    read_audit,
)
from toolkits.answers import CaseDetails, ContributionContent
from toolkits.registry import Registry

# --- helpers ---------------------------------------------------------------------


@pytest.fixture
async def state(app: Litestar, settings: Settings, database_url: str) -> AsyncIterator[State]:
    """What a request's transaction is opened from: a pool of the test's own
    (the app's pool belongs to the test client's event loop), and the app's
    way of telling who a token's bearer is."""
    pool = await create_pool(settings, database_url)
    try:
        yield State(
            {
                "pool": pool,
                "token_validator": app.state.token_validator,
                "claim_mapping": app.state.claim_mapping,
                "identity_recorder": app.state.identity_recorder,
            }
        )
    finally:
        await pool.close()


async def signed_in(state: State, people: SignedInPeople, persona: str) -> Principal:
    """``persona`` as the authentication middleware sees them."""
    return await principal_for_token(state, people.tokens[persona])


async def recorded(db: asyncpg.Connection[Any], audit_id: UUID, action: str) -> list[dict[str, Any]]:
    """The details of the audit's ``action`` events, oldest first."""
    rows = await db.fetch(
        "SELECT detail::text AS detail FROM events WHERE audit_id = $1 AND action = $2 ORDER BY id", audit_id, action
    )
    return [json.loads(row["detail"]) for row in rows]


async def summary(db: asyncpg.Connection[Any], audit_id: UUID) -> AuditSummaryRow:
    found = await themes.stored_summary(db, audit_id)
    assert found is not None, "the themes summary was never written"
    return found


def complete_content(audit_as_auditor: dict[str, Any]) -> ContributionContent:
    return msgspec.convert(complete_answers(audit_as_auditor), ContributionContent)


# --- creating an audit --------------------------------------------------------------


async def test_a_coordinator_creates_a_draft_with_its_participants_event_and_summary(
    state: State, people: SignedInPeople, toolkits: Registry, db: asyncpg.Connection[Any]
) -> None:
    coordinator = await signed_in(state, people, "coordinator")
    toolkit = toolkits.current("multi-agency-cp")
    health, police = people.organisation_id("health"), people.organisation_id("police")
    new = NewAudit(
        toolkit=toolkit.id,
        case_details=msgspec.convert(CASE_DETAILS, CaseDetails),
        participants=[str(health), "demo-police", str(health)],  # by id or code; named twice, invited once
        referring_organisation="demo-police",
    )
    async with unit_of_work(state, coordinator) as connection:
        audit = await audits.create_audit(connection, coordinator, toolkits, new)

    assert (audit.status, audit.toolkit_version, audit.referring_organisation_id) == ("draft", toolkit.version, police)
    invited = await db.fetch("SELECT organisation_id FROM audit_participants WHERE audit_id = $1", audit.id)
    assert sorted(row["organisation_id"] for row in invited) == sorted([health, police])
    assert await recorded(db, audit.id, "audit.created") == [
        {"toolkit": "multi-agency-cp", "toolkit_version": toolkit.version, "participants": [str(health), str(police)]}
    ]
    assert (await summary(db, audit.id)).status == "draft"


async def test_only_a_coordinator_creates_an_audit(
    state: State, people: SignedInPeople, toolkits: Registry, db: asyncpg.Connection[Any]
) -> None:
    reviewer = await signed_in(state, people, "reviewer")
    new = NewAudit(toolkit="multi-agency-cp", participants=[str(people.organisation_id("health"))])
    with pytest.raises(Forbidden):
        async with unit_of_work(state, reviewer) as connection:
            await audits.create_audit(connection, reviewer, toolkits, new)
    assert await db.fetchval("SELECT count(*) FROM audits") == 0


async def test_creating_an_audit_checks_what_it_is_given_whoever_calls(
    state: State, people: SignedInPeople, toolkits: Registry, db: asyncpg.Connection[Any]
) -> None:
    """The pages check their form first; the step checks again, and names
    every problem, so no caller can create an audit the API would refuse."""
    coordinator = await signed_in(state, people, "coordinator")
    new = NewAudit(
        toolkit="multi-agency-cp",
        participants=["demo-health", "not-in-this-partnership"],
        referring_organisation="nor-this-one",
        period_start=datetime.date(2025, 6, 1),
        period_end=datetime.date(2025, 1, 1),
    )
    with pytest.raises(InvalidInput) as refused:
        async with unit_of_work(state, coordinator) as connection:
            await audits.create_audit(connection, coordinator, toolkits, new)
    assert [e.field for e in refused.value.errors] == ["$.period_end", "$.participants[1]", "$.referring_organisation"]
    assert await db.fetchval("SELECT count(*) FROM audits") == 0


# --- moving an audit on -------------------------------------------------------------------


async def test_moving_an_audit_on_checks_the_version_the_move_and_the_reason(
    state: State, people: SignedInPeople, toolkits: Registry, db: asyncpg.Connection[Any]
) -> None:
    draft = await a_draft_audit(people, participants=["health"])
    audit_id, seen = UUID(draft["id"]), draft["row_version"]
    coordinator = await signed_in(state, people, "coordinator")

    async def move(target: str, reason: str | None, seen_version: int | None) -> Any:
        async with unit_of_work(state, coordinator) as connection:
            return await audits.move_audit(
                connection, coordinator, toolkits, audit_id, target, reason, seen_version=seen_version
            )

    for stale in (seen + 1, None):  # someone else's change since, or a form without its version
        with pytest.raises(PreconditionFailed):
            await move("open", None, stale)
    with pytest.raises(Conflict) as refused:
        await move("closed", None, seen)
    assert refused.value.allowed == ["open"]
    assert await recorded(db, audit_id, "audit.status-changed") == []

    opened = await move("open", None, seen)
    assert (opened.status, opened.row_version) == ("open", seen + 1)
    assert await recorded(db, audit_id, "audit.status-changed") == [{"from": "draft", "to": "open", "reason": None}]
    assert (await summary(db, audit_id)).status == "open"

    with pytest.raises(InvalidInput) as refused_review:
        await move("in-review", "  ", opened.row_version)
    assert refused_review.value.detail == "the audit cannot move on yet"
    assert [(e.field, e.message) for e in refused_review.value.errors] == [
        ("$.reason", "a reason is required to review before every agency has submitted")
    ]
    reviewed = await move("in-review", "The panel meets on Monday", opened.row_version)
    assert reviewed.status == "in-review"


async def test_an_audit_is_distributed_only_with_complete_case_details(
    state: State, people: SignedInPeople, toolkits: Registry
) -> None:
    draft = await a_draft_audit(people, participants=["health"], case_details={"answers": {}})
    coordinator = await signed_in(state, people, "coordinator")
    with pytest.raises(InvalidInput) as refused:
        async with unit_of_work(state, coordinator) as connection:
            await audits.move_audit(
                connection, coordinator, toolkits, UUID(draft["id"]), "open", None, seen_version=draft["row_version"]
            )
    assert refused.value.errors and all(e.field.startswith("$.case_details") for e in refused.value.errors)


# --- an agency's contribution ---------------------------------------------------------------


async def test_a_draft_is_saved_submitted_and_amended_with_its_events_and_summary(
    state: State, people: SignedInPeople, toolkits: Registry, db: asyncpg.Connection[Any]
) -> None:
    audit = await an_open_audit(people, participants=["health", "police"])
    audit_id, organisation_id = UUID(audit["id"]), people.organisation_id("health")
    health = await signed_in(state, people, "health")
    seen = await read_audit(people, "health", audit)
    content = complete_content(seen)

    async def save(reason: str | None, seen_version: int) -> Any:
        async with unit_of_work(state, health) as connection:
            return await contributions.save_contribution(
                connection, health, toolkits, audit_id, organisation_id, content, reason, seen_version=seen_version
            )

    async def submit(seen_version: int) -> Any:
        async with unit_of_work(state, health) as connection:
            return await contributions.submit_contribution(
                connection, health, toolkits, audit_id, organisation_id, seen_version=seen_version
            )

    first = seen["contribution"]["row_version"]
    with pytest.raises(InvalidInput) as refused:
        await save("no reason is asked of a draft", first)
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("$.reason", "only an amendment after submission has a reason")
    ]

    saved = await save(None, first)
    assert (saved.status, saved.row_version) == ("in-progress", first + 1)
    assert saved.answered == saved.applicable > 0
    assert await recorded(db, audit_id, "contribution.saved") == [{"status": "in-progress", "answered": saved.answered}]
    with pytest.raises(PreconditionFailed):
        await save(None, first)

    submitted = await submit(saved.row_version)
    assert submitted.status == "submitted"
    assert await recorded(db, audit_id, "contribution.submitted") == [
        {"version": 1, "answered": saved.answered, "applicable": saved.applicable}
    ]
    with pytest.raises(Conflict, match="already submitted"):
        await submit(submitted.row_version)

    with pytest.raises(InvalidInput) as refused:
        await save(None, submitted.row_version)
    assert refused.value.detail == "an amendment must be complete"
    assert [e.field for e in refused.value.errors] == ["$.reason"]
    amended = await save("The strategy meeting date was wrong", submitted.row_version)
    assert amended.status == "submitted"
    assert await recorded(db, audit_id, "contribution.amended") == [
        {
            "status": "submitted",
            "answered": saved.answered,
            "version": 2,
            "reason": "The strategy meeting date was wrong",
        }
    ]


async def test_an_incomplete_contribution_is_not_submitted(
    state: State, people: SignedInPeople, toolkits: Registry, db: asyncpg.Connection[Any]
) -> None:
    audit = await an_open_audit(people, participants=["health"])
    health = await signed_in(state, people, "health")
    seen = await read_audit(people, "health", audit)
    with pytest.raises(InvalidInput) as refused:
        async with unit_of_work(state, health) as connection:
            await contributions.submit_contribution(
                connection,
                health,
                toolkits,
                UUID(audit["id"]),
                people.organisation_id("health"),
                seen_version=seen["contribution"]["row_version"],
            )
    assert refused.value.detail == "the contribution is not complete" and refused.value.errors
    assert await recorded(db, UUID(audit["id"]), "contribution.submitted") == []


async def test_an_agency_saves_only_its_own_contribution_and_drafts_only_while_open(
    state: State, people: SignedInPeople, toolkits: Registry
) -> None:
    audit = await an_open_audit(people, participants=["health", "police"])
    audit_id = UUID(audit["id"])
    health = await signed_in(state, people, "health")
    seen = await read_audit(people, "health", audit)
    content = complete_content(seen)
    with pytest.raises(NotFound):
        async with unit_of_work(state, health) as connection:
            await contributions.save_contribution(
                connection, health, toolkits, audit_id, people.organisation_id("police"), content, None, seen_version=1
            )

    coordinator = await signed_in(state, people, "coordinator")
    async with unit_of_work(state, coordinator) as connection:
        await audits.move_audit(
            connection,
            coordinator,
            toolkits,
            audit_id,
            "in-review",
            "Police are late",
            seen_version=audit["row_version"],
        )
    with pytest.raises(Conflict, match="the audit is in-review; drafts are saved while it is open"):
        async with unit_of_work(state, health) as connection:
            await contributions.save_contribution(
                connection,
                health,
                toolkits,
                audit_id,
                people.organisation_id("health"),
                content,
                None,
                seen_version=seen["contribution"]["row_version"],
            )


async def test_a_step_given_another_organisations_contribution_is_not_fooled(
    state: State, people: SignedInPeople, toolkits: Registry
) -> None:
    """A page loads its own contribution and then saves or submits it; the
    saving steps check again whose it is, rather than trust their caller."""
    audit = await an_open_audit(people, participants=["health", "police"])
    audit_id = UUID(audit["id"])
    police = await signed_in(state, people, "police")
    async with unit_of_work(state, police) as connection:
        theirs = await contributions.load_own_contribution(
            connection, police, toolkits, audit_id, people.organisation_id("police")
        )
    health = await signed_in(state, people, "health")
    with pytest.raises(NotFound):
        async with unit_of_work(state, health) as connection:
            await contributions.save_own(
                connection, health, toolkits, theirs, ContributionContent(), None, seen_version=theirs.row.row_version
            )
    coordinator = await signed_in(state, people, "coordinator")
    with pytest.raises(Forbidden, match="only an auditor may write and submit"):
        async with unit_of_work(state, coordinator) as connection:
            await contributions.submit_own(connection, coordinator, toolkits, theirs, seen_version=None)


# --- returning a contribution -------------------------------------------------------------


async def test_a_coordinator_returns_a_submitted_contribution(
    state: State, people: SignedInPeople, toolkits: Registry, db: asyncpg.Connection[Any]
) -> None:
    audit = await an_open_audit(people, participants=["health", "police"])
    audit_id = UUID(audit["id"])
    submitted = await draft_and_submit(people, "health", audit)
    coordinator = await signed_in(state, people, "coordinator")

    async def give_back(persona_organisation: str, comment: str, seen_version: int | None) -> Any:
        async with unit_of_work(state, coordinator) as connection:
            return await contributions.return_contribution(
                connection,
                coordinator,
                toolkits,
                audit_id,
                people.organisation_id(persona_organisation),
                comment,
                seen_version=seen_version,
            )

    with pytest.raises(InvalidInput):
        await give_back("health", "   ", submitted["row_version"])
    with pytest.raises(PreconditionFailed):
        await give_back("health", "Add the GP's view", submitted["row_version"] - 1)
    police = await read_audit(people, "police", audit)
    with pytest.raises(Conflict, match="only a submitted contribution can be returned; this one is not-started"):
        await give_back("police", "Add the GP's view", police["contribution"]["row_version"])

    returned = await give_back("health", "Add the GP's view", submitted["row_version"])
    assert (returned.status, returned.returned_comment) == ("returned", "Add the GP's view")
    assert await recorded(db, audit_id, "contribution.returned") == [{}]


# --- moderation -----------------------------------------------------------------------------


async def test_a_reviewer_moderates_what_they_have_seen(
    state: State, people: SignedInPeople, toolkits: Registry, db: asyncpg.Connection[Any]
) -> None:
    audit = await an_open_audit(people, participants=["health"])
    audit_id = UUID(audit["id"])
    await draft_and_submit(people, "health", audit)
    reviewer = await signed_in(state, people, "reviewer")
    async with unit_of_work(state, reviewer) as connection:
        seen = await judgements.judgement_etag(connection, audit_id)

    async def moderate(section_id: str, seen_judgement: str) -> Any:
        async with unit_of_work(state, reviewer) as connection:
            return await moderation.moderate(
                connection,
                reviewer,
                toolkits,
                audit_id,
                section_id,
                4,
                "Drift in the plan",
                seen_judgement=seen_judgement,
            )

    with pytest.raises(NotFound):
        await moderate("no-such-section", seen)
    with pytest.raises(PreconditionFailed):
        await moderate("referral", '"not what they saw"')
    coordinator = await signed_in(state, people, "coordinator")
    with pytest.raises(Forbidden):
        async with unit_of_work(state, coordinator) as connection:
            await moderation.moderate(
                connection, coordinator, toolkits, audit_id, "referral", 4, "Drift", seen_judgement=seen
            )

    moderated = await moderate("referral", seen)
    assert await recorded(db, audit_id, "judgement.moderated") == [
        {"section": "referral", "grade": 4, "reason": "Drift in the plan"}
    ]
    referral = next(s for s in (await summary(db, audit_id)).sections if s.section_id == "referral")
    assert (referral.grade, referral.computed_grade, referral.moderated) == (4, 2, True)

    async with unit_of_work(state, reviewer) as connection:
        toolkit = await audit_toolkit(connection, toolkits, moderated.audit)
        judgement = await judgement_of(connection, toolkit, moderated.audit)
    result = partnership_result(judgement)
    shared = next(s for s in result.sections if s.section_id == "referral")
    assert (shared.grade, shared.moderated) == (4, True)
    with pytest.raises(PreconditionFailed):  # the judgement moved on: the old ETag is stale
        await moderate("referral", seen)
