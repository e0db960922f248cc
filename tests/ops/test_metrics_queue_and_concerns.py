"""The job queue's and the immediate concerns' metrics (issue 25, with issue
20's queue and concerns), as a scrape reads them: the metrics endpoint's
database collector, connected as maca_app with no one's identity, exactly
as ``maca serve`` starts it. Queue depth and the oldest job's age by kind;
messages failed and being retried; open concerns by age and whether someone
acknowledged them — and no value of anyone's: no address, no name, no id,
no reason a mail server gave."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import asyncpg
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from server.db.pool import app_database_url
from server.platform.metrics_server import DatabaseCollector
from server.settings import Settings

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def scrape(url: str) -> str:
    """One scrape of the database's families (in a thread of its own, as
    the metrics server's: the collector runs its own event loop)."""
    registry = CollectorRegistry()
    registry.register(DatabaseCollector(url))
    return generate_latest(registry).decode()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_a_scrape_counts_the_queue_the_undelivered_and_the_open_concerns_by_age(
    db: asyncpg.Connection[Any], database_url: str, settings: Settings
) -> None:
    partnership = await db.fetchval("INSERT INTO partnerships (code, name) VALUES ('north', 'North LSCP') RETURNING id")
    police = await db.fetchval(
        "INSERT INTO organisations (partnership_id, code, name, agency_kind) "
        "VALUES ($1, 'north-police', 'Northshire Police', 'police') RETURNING id",
        partnership,
    )
    audit = await db.fetchval(
        "INSERT INTO audits (partnership_id, toolkit_id, toolkit_version, status) "
        "VALUES ($1, 'multi-agency-cp', 2, 'open') RETURNING id",
        partnership,
    )
    concern = (
        "INSERT INTO concerns (partnership_id, audit_id, organisation_id, kind, section_id, question_id, raised_at, "
        "acknowledged_at, closed_at, closed_because, action_taken, outcome) "
        "VALUES ($1, $2, $3, 'child-not-safe', $4, 'q', now() - $5::text::interval, "
        "CASE WHEN $6 THEN now() END, CASE WHEN $7 THEN now() END, "
        "CASE WHEN $7 THEN 'resolved' END, CASE WHEN $7 THEN 'Told the lead' END, "
        "CASE WHEN $7 THEN 'A strategy meeting' END)"
    )
    # Two hours old, nobody has it; ten minutes old, acknowledged; three days
    # old and closed (not counted).
    for section, age, acknowledged, closed in (
        ("s1", "2 hours", False, False),
        ("s2", "10 minutes", True, False),
        ("s3", "3 days", True, True),
    ):
        await db.execute(concern, partnership, audit, police, section, age, acknowledged, closed)
    # The audits' summaries: this open audit's judgement lists two concerns;
    # a closed one's lists one (not counted).
    closed_audit = await db.fetchval(
        "INSERT INTO audits (partnership_id, toolkit_id, toolkit_version, status) "
        "VALUES ($1, 'multi-agency-cp', 2, 'closed') RETURNING id",
        partnership,
    )
    for summarised, status, concerns in ((audit, "open", 2), (closed_audit, "closed", 1)):
        await db.execute(
            "INSERT INTO audit_summaries (audit_id, partnership_id, toolkit_id, status, quarter, provisional, "
            "immediate_concerns) VALUES ($1, $2, 'multi-agency-cp', $3, date_trunc('quarter', now())::date, true, $4)",
            summarised,
            partnership,
            status,
            concerns,
        )
    message = (
        "INSERT INTO notifications (key, partnership_id, audit_id, message, recipient, recipient_role, subject, body, "
        "status, last_error) VALUES ($1, $2, $3, 'concern-raised', 'lead@northshire.example', 'safeguarding-lead', "
        "'Immediate concern', 'Sign in', $4, $5)"
    )
    await db.execute(message, "k-failed", partnership, audit, "failed", "550 no such user lead@northshire.example")
    await db.execute(message, "k-retrying", partnership, audit, "queued", "could not reach the mail server")
    await db.execute(message, "k-waiting", partnership, audit, "queued", None)
    # Each message written queued its delivery (the trigger); the failed one's
    # job would be gone once given up: as the worker leaves it.
    await db.execute(
        "UPDATE maca_queue.pgqueuer SET status = 'picked' WHERE convert_from(payload, 'UTF8') = "
        "(SELECT id::text FROM notifications WHERE key = 'k-failed')"
    )

    exposition = await asyncio.to_thread(scrape, app_database_url(settings, database_url))
    found = samples(exposition)
    assert found[("maca_metrics_database_up", ())] == 1
    assert found[("maca_jobs_queued", (("kind", "notification"),))] == 2
    assert found[("maca_job_oldest_queued_age_seconds", (("kind", "notification"),))] >= 0
    assert found[("maca_notifications_undelivered", (("state", "failed"),))] == 1
    assert found[("maca_notifications_undelivered", (("state", "retrying"),))] == 1
    # Read as the owner's count: the scrape's own identity would see no summary.
    assert found[("maca_open_audits_with_immediate_concerns", ())] == 1
    open_concerns = {
        (dict(labels)["age"], dict(labels)["acknowledged"]): value
        for (name, labels), value in found.items()
        if name == "maca_immediate_concerns_open"
    }
    assert open_concerns == {
        ("under_1h", "false"): 0,
        ("under_1h", "true"): 1,
        ("1h_to_1d", "false"): 1,
        ("1h_to_1d", "true"): 0,
        ("1d_to_7d", "false"): 0,
        ("1d_to_7d", "true"): 0,
        ("over_7d", "false"): 0,
        ("over_7d", "true"): 0,
    }
    # Nothing of anyone's: no address, name, id, reason or words typed.
    for word in ("northshire", "Northshire", "lead@", "550", "strategy", "North LSCP", "Told the lead"):
        assert word not in exposition, word
    assert UUID.search(exposition) is None
    for family in text_string_to_metric_families(exposition):
        assert re.fullmatch(r"maca_[a-z0-9_]+", family.name), family.name


async def test_an_empty_queue_reads_zero_not_no_data(database_url: str, settings: Settings) -> None:
    found = samples(await asyncio.to_thread(scrape, app_database_url(settings, database_url)))
    assert found[("maca_jobs_queued", (("kind", "notification"),))] == 0
    assert found[("maca_notifications_undelivered", (("state", "failed"),))] == 0
    assert found[("maca_open_audits_with_immediate_concerns", ())] == 0
    assert found[("maca_immediate_concerns_open", (("acknowledged", "false"), ("age", "under_1h")))] == 0
