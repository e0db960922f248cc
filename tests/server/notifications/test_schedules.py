"""The scheduled jobs run once per schedule whatever the number of replicas
(issue 20): two workers — each with its own listening connection and pool,
as two `maca worker` processes or two `maca serve` replicas have — run
Maca's own scheduled jobs against one database through the queue. When the
minute comes, the escalation and the maintenance each run once between them,
not once each; and each did its work: the unacknowledged concern went to the
reviewers once, the expired session is gone. The maintenance is the queue's
here, not the server's timer (which a worker replaces)."""

from __future__ import annotations

import asyncio
import collections
import datetime
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest

from server.audits.jobs import scheduled_jobs
from server.platform import metrics
from server.platform.mail import NoChannel
from server.platform.queue import Scheduled, Worker
from server.settings import load_settings
from tests.server.audit_fixtures import (
    People,
    an_open_audit,
    people_fixture,  # noqa: F401 - fixture
    request,
    save_draft,
)

pytestmark = pytest.mark.slow

# A cron minute, and a little for both workers to wake and claim it.
WAIT_SECONDS = 150.0


def counted(runs: list[tuple[str, str, datetime.datetime]], replica: str, job: Scheduled) -> Scheduled:
    """``job`` as it is, noting which replica ran it and when."""
    name, expression, work = job

    async def run(pool: asyncpg.Pool[Any]) -> object:
        runs.append((name, replica, datetime.datetime.now(datetime.UTC)))
        return await work(pool)

    wrapped: Callable[[asyncpg.Pool[Any]], Awaitable[object]] = run
    return (name, expression, wrapped)


async def test_each_scheduled_job_runs_once_across_two_replicas(
    people: People, db: asyncpg.Connection[Any], database_url: str
) -> None:
    # An immediate concern nobody acknowledged for five hours…
    audit = await an_open_audit(people, participants=["police"])
    not_safe = {"answers": {"child-currently-safe": {"value": "no", "comments": "Seen in the records"}}}
    assert (await save_draft(people, "police", audit, not_safe)).status_code == 200
    (concern,) = (await request(people, "coordinator", "GET", "/api/concerns")).json()["concerns"]
    await db.execute("UPDATE concerns SET raised_at = now() - interval '5 hours' WHERE id = $1", concern["id"])
    # … and a session that expired an hour ago.
    expired = secrets.token_bytes(32)
    await db.execute(
        "INSERT INTO sessions (key_hash, user_id, csrf_token, expires_at) "
        "VALUES ($1, $2, 'x', now() - interval '1 hour')",
        expired,
        uuid.UUID(people.me["health"]["user_id"]),  # type: ignore[attr-defined]
    )

    # Escalation every minute (working time: always), maintenance every minute.
    settings = load_settings({}, env="test", mail_channel="none", working_hours="always", maintenance_minutes=1)
    runs: list[tuple[str, str, datetime.datetime]] = []

    def finished(kind: str) -> float:
        found = metrics.families().jobs_finished.labels(kind=kind, outcome="succeeded")
        return float(found._value.get())

    before = {name: finished(name) for name in ("concerns.escalate", "maintenance.tidy")}
    workers = [
        Worker(settings, database_url, NoChannel(), [counted(runs, replica, job) for job in scheduled_jobs(settings)])
        for replica in ("first", "second")
    ]
    tasks = [asyncio.create_task(worker.run(heartbeat=datetime.timedelta(seconds=5))) for worker in workers]
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline and not {"concerns.escalate", "maintenance.tidy"} <= {r[0] for r in runs}:
            assert not any(task.done() for task in tasks), [task.exception() for task in tasks if task.done()]
            await asyncio.sleep(0.5)
        # Time for the other replica to have run it too, were it going to.
        await asyncio.sleep(5)
    finally:
        for worker in workers:
            worker.stop()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)

    ran = {r[0] for r in runs}
    assert {"concerns.escalate", "maintenance.tidy"} <= ran, runs
    per_minute = collections.Counter((name, at.replace(second=0, microsecond=0)) for name, _, at in runs)
    assert set(per_minute.values()) == {1}, f"a job ran more than once in its minute: {runs}"

    # Each run is counted for the operator's metrics (this process's families).
    for name, earlier in before.items():
        assert finished(name) - earlier == sum(1 for r in runs if r[0] == name), name

    # Each did its work, once.
    assert await db.fetchval("SELECT escalations FROM concerns WHERE id = $1", concern["id"]) == 1
    trail = await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}/events")
    assert [e["action"] for e in trail.json()].count("concern.escalated") == 1
    assert await db.fetchval("SELECT count(*) FROM sessions WHERE key_hash = $1", expired) == 0
    # The schedules are claimed in PostgreSQL, one row each, whoever ran them.
    schedules = await db.fetch("SELECT entrypoint, last_run FROM maca_queue.pgqueuer_schedules ORDER BY entrypoint")
    assert {r["entrypoint"] for r in schedules} == {"concerns.escalate", "maintenance.tidy", "reminders.send"}
