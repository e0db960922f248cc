"""``maca demo --audits N``: the generator makes what it says, valid for
each toolkit, and its summaries agree with the judgement the API computes."""

from __future__ import annotations

import datetime
import json
from typing import Any

import asyncpg
import msgspec

from agencies.applicability import Participant
from agencies.contributions import validate_contribution
from server.audits import summaries
from server.cli.demo import check_case_details, generate
from server.db import themes as stored
from server.reports.themes import (
    add_agency_counts,
    add_section_counts,
    agency_counts,
    section_counts,
)
from toolkits.answers import ContributionContent
from toolkits.registry import Registry

NOW = datetime.datetime(2026, 1, 15, 12, tzinfo=datetime.UTC)


async def test_the_generator_makes_what_it_reports(db: asyncpg.Connection[Any], toolkits: Registry) -> None:
    plan = await generate(db, toolkits, audits=300, seed=7, now=NOW)
    assert plan.audits == 300 and plan.skipped == 0
    assert await db.fetchval("SELECT count(*) FROM audits") == 300
    assert await db.fetchval("SELECT count(*) FROM audit_summaries") == 300
    assert await db.fetchval("SELECT count(DISTINCT toolkit_id) FROM audits") == len(toolkits.ids())
    assert await db.fetchval("SELECT count(DISTINCT status) FROM audits") == 4
    by_status = {
        r["status"]: r["n"] for r in await db.fetch("SELECT status, count(*) AS n FROM contributions GROUP BY status")
    }
    assert by_status == {k: v for k, v in plan.contributions.items() if k != "not-started"}
    assert await db.fetchval("SELECT count(*) FROM moderations") == plan.moderations > 0
    assert await db.fetchval("SELECT count(*) FROM remedial_actions") == plan.actions > 0
    overdue = await db.fetchval(
        "SELECT count(*) FROM remedial_actions WHERE NOT completed AND due_date < $1", NOW.date()
    )
    assert overdue == plan.overdue_actions > 0
    # Spread over two years; every submitted contribution has its version.
    first, last = await db.fetchrow("SELECT min(created_at), max(created_at) FROM audits")
    assert (last - first).days > 600 and last <= NOW
    assert (
        await db.fetchval(
            "SELECT count(*) FROM contributions c WHERE status IN ('submitted', 'returned') "
            "AND NOT EXISTS (SELECT 1 FROM contribution_versions v WHERE v.contribution_id = c.id)"
        )
        == 0
    )
    # Agencies disagree on some sections, and concerns are raised.
    assert await db.fetchval("SELECT sum(disagreed) FROM theme_section_counts WHERE participating_kind = '*'") > 0
    assert await db.fetchval("SELECT sum(immediate_concerns) FROM audit_summaries") > 0


async def test_the_generator_makes_the_audit_cycle_around_the_audits(
    db: asyncpg.Connection[Any], toolkits: Registry
) -> None:
    plan = await generate(db, toolkits, audits=300, seed=7, now=NOW)
    assert await db.fetchval("SELECT count(*) FROM programmes") == plan.programmes > 0
    assert 0 < await db.fetchval("SELECT count(*) FROM audits WHERE programme_id IS NOT NULL") < 300
    # An audit's programme is of its toolkit.
    assert (
        await db.fetchval(
            "SELECT count(*) FROM audits a JOIN programmes p ON p.id = a.programme_id "
            "WHERE p.toolkit_id <> a.toolkit_id"
        )
        == 0
    )
    assert await db.fetchval("SELECT count(*) FROM panel_records") == plan.panels > 0
    assert (
        await db.fetchval(
            "SELECT count(*) FROM panel_records r JOIN audits a ON a.id = r.audit_id WHERE a.status NOT IN "
            "('in-review', 'closed')"
        )
        == 0
    )
    assert await db.fetchval("SELECT count(*) FROM learning_tags") == plan.learning_tags > 0
    assert await db.fetchval("SELECT count(*) FROM learning_themes") == 6
    # Actions' status agrees with their completion.
    assert await db.fetchval("SELECT count(*) FROM remedial_actions WHERE completed <> (status = 'completed')") == 0


async def test_submitted_contributions_are_valid_for_their_agency_on_their_case(
    db: asyncpg.Connection[Any], toolkits: Registry
) -> None:
    check_case_details(toolkits)
    await generate(db, toolkits, audits=120, seed=3, now=NOW)
    rows = await db.fetch(
        """
        SELECT a.toolkit_id, a.toolkit_version, a.case_details::text AS details, a.referring_organisation_id,
               c.organisation_id, o.agency_kind, c.content::text AS content
          FROM contributions c JOIN audits a ON a.id = c.audit_id JOIN organisations o ON o.id = c.organisation_id
         WHERE c.status = 'submitted'
        """
    )
    assert len(rows) > 50
    for row in rows:
        toolkit = toolkits.get(row["toolkit_id"], row["toolkit_version"])
        details = msgspec.json.decode(row["details"])
        values = {q: a["value"] for q, a in details["answers"].items()}
        who = Participant(
            agency_kind=row["agency_kind"], is_referrer=row["referring_organisation_id"] == row["organisation_id"]
        )
        content = msgspec.json.decode(row["content"], type=ContributionContent)
        assert validate_contribution(toolkit, who, content, case_details=values, complete=True) == []


async def test_a_second_run_adds_only_what_is_missing(db: asyncpg.Connection[Any], toolkits: Registry) -> None:
    await generate(db, toolkits, audits=50, seed=5, now=NOW)
    again = await generate(db, toolkits, audits=80, seed=5, now=NOW)
    assert (again.audits, again.skipped) == (30, 50)
    assert await db.fetchval("SELECT count(*) FROM audits") == 80


async def test_counted_rows_equal_the_summaries_and_the_summaries_the_apis_judgement(
    db: asyncpg.Connection[Any], toolkits: Registry
) -> None:
    await generate(db, toolkits, audits=60, seed=11, now=NOW)
    # As the application's pool reads jsonb (server/db/pool.py).
    await db.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    expected_sections: dict[Any, Any] = {}
    expected_agencies: dict[Any, int] = {}
    for row in await db.fetch("SELECT audit_id FROM audit_summaries"):
        generated = await stored.stored_summary(db, row["audit_id"])
        assert generated is not None
        add_section_counts(expected_sections, section_counts(generated))
        add_agency_counts(expected_agencies, agency_counts(generated))
        # The refresh the API runs, from what was stored, finds the same.
        async with db.transaction():
            await summaries.refresh(db, toolkits, row["audit_id"])
            assert await stored.stored_summary(db, row["audit_id"]) == generated
    counted = await db.fetchval("SELECT sum(audits) FROM theme_section_counts WHERE participating_kind = '*'")
    assert counted == sum(v[0] for k, v in expected_sections.items() if k[1] == "*")
    assert await db.fetchval("SELECT sum(grades) FROM theme_agency_counts") == sum(expected_agencies.values())
