"""The job queue: PgQueuer on Maca's own PostgreSQL (schema ``maca_queue``,
migration 0015), no Redis.

Why PgQueuer rather than procrastinate: Maca speaks asyncpg, and PgQueuer's
drivers are asyncpg's own (procrastinate 3 needs psycopg 3, a second driver
and pool beside asyncpg's); its cron schedules are claimed in PostgreSQL,
so a scheduled job runs once whatever the number of replicas; it runs
inside a process (``maca serve`` with ``MACA_WORKER=in-process``) or as a
worker of its own (``maca worker``) from the same code; retries with
exponential back-off are re-queued in the database
(``DatabaseRetryEntrypointExecutor``), and a job whose worker died (no
heartbeat) is picked again. Both lock rows with ``FOR UPDATE SKIP LOCKED``
and LISTEN/NOTIFY; neither needs rights beyond its own tables, which only
the tables' owner (the worker's role) holds — ``maca_app`` has none.

Delivery is at least once: :func:`deliver` claims the notification, sends
it, and marks it sent in one transaction that holds the row; a worker
killed mid-send rolls back, and the job is picked again after the
heartbeat times out. A message already marked sent is never sent again.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast
from uuid import UUID

import asyncpg
from pgqueuer import PgQueuer
from pgqueuer.adapters.drivers.asyncpg import AsyncpgDriver
from pgqueuer.adapters.persistence import qb
from pgqueuer.adapters.persistence.queries import Queries
from pgqueuer.domain.settings import DBSettings
from pgqueuer.domain.types import Channel as QueueChannel
from pgqueuer.executors import DatabaseRetryEntrypointExecutor
from pgqueuer.models import Job

from server.db import notifications as outbox
from server.platform import metrics
from server.platform.mail import Channel, DeliveryFailed, Letter
from server.settings import Settings

__all__ = ["DELIVER", "Scheduled", "Worker", "deliver", "queries_for"]

log = logging.getLogger("maca.queue")

SCHEMA = "maca_queue"
CHANNEL = "maca_queue"
DELIVER = "deliver"
MAX_DELAY = datetime.timedelta(hours=1)
CONCURRENT_SENDS = 8


def queue_settings() -> DBSettings:
    return DBSettings(db_schema=SCHEMA, channel=QueueChannel(CHANNEL))


def queries_for(connection: asyncpg.Connection[Any]) -> Queries:
    settings = queue_settings()
    return Queries(
        AsyncpgDriver(connection),
        qbe=qb.QueryBuilderEnvironment(settings),
        qbq=qb.QueryQueueBuilder(settings),
        qbs=qb.QuerySchedulerBuilder(settings),
    )


async def deliver(
    pool: asyncpg.Pool[Any], channel: Channel, notification_id: UUID, *, base_url: str, final: bool
) -> str:
    """Send one notification: ``sent``, ``already-sent`` or ``gone``;
    :class:`DeliveryFailed` after recording why (and, on the ``final``
    attempt, marking it failed for the administrator to see)."""
    async with pool.acquire() as proxy, proxy.transaction():
        # The pool hands out a proxy that behaves as the connection it wraps.
        connection = cast("asyncpg.Connection[Any]", proxy)
        # The row stays locked until the send is recorded: a second worker
        # given the same job meanwhile waits, then finds it sent.
        row = await outbox.claim_for_sending(connection, notification_id)
        if row is None:
            return "already-sent" if await outbox.get(connection, notification_id) else "gone"
        letter = Letter(
            key=row.key,
            message=row.message,
            to=row.recipient,
            subject=row.subject,
            body=row.body,
            link=None if row.link is None else base_url.rstrip("/") + row.link,
        )
        try:
            await channel.send(letter)
        except DeliveryFailed as error:
            failure: DeliveryFailed | None = error
        else:
            failure = None
            await outbox.mark_sent(connection, notification_id, channel.name)
    if failure is not None:
        async with pool.acquire() as proxy:
            connection = cast("asyncpg.Connection[Any]", proxy)
            if final:
                await outbox.mark_failed(connection, notification_id, str(failure))
            else:
                await outbox.mark_attempt_failed(connection, notification_id, str(failure))
        raise failure
    return "sent"


# A scheduled job: its name, its cron expression, and what it does with the
# owner's pool.
Scheduled = tuple[str, str, Callable[["asyncpg.Pool[Any]"], Awaitable[object]]]


class Worker:
    """Delivers the outbox and runs the scheduled jobs, until stopped."""

    def __init__(
        self, settings: Settings, owner_dsn: str, channel: Channel, scheduled: list[Scheduled] | None = None
    ) -> None:
        self.settings = settings
        self.owner_dsn = owner_dsn
        self.channel = channel
        self.scheduled = scheduled or []
        self.queuer: PgQueuer | None = None

    def stop(self) -> None:
        if self.queuer is not None:
            self.queuer.shutdown.set()

    async def run(self, *, heartbeat: datetime.timedelta = datetime.timedelta(seconds=30)) -> None:
        settings = self.settings
        listener = await asyncpg.connect(self.owner_dsn)
        pool = await asyncpg.create_pool(self.owner_dsn, min_size=1, max_size=CONCURRENT_SENDS)
        try:
            queries = queries_for(listener)
            queuer = PgQueuer(queries.driver, channel=QueueChannel(CHANNEL), queries=queries)
            self.queuer = queuer
            attempts = settings.delivery_attempts

            def retrying(parameters: Any) -> DatabaseRetryEntrypointExecutor:
                return DatabaseRetryEntrypointExecutor(
                    parameters=parameters,
                    max_attempts=attempts - 1,
                    initial_delay=datetime.timedelta(seconds=settings.delivery_retry_seconds),
                    max_delay=MAX_DELAY,
                )

            @queuer.entrypoint(DELIVER, executor_factory=retrying, on_failure="hold")
            async def deliver_job(job: Job) -> None:
                assert job.payload is not None
                final = job.attempts + 1 >= attempts
                started = time.perf_counter()
                try:
                    outcome = await deliver(
                        pool, self.channel, UUID(job.payload.decode()), base_url=settings.base_url, final=final
                    )
                except BaseException:
                    failed = metrics.JobOutcome.ABANDONED if final else metrics.JobOutcome.FAILED
                    metrics.job_finished("notification", failed, time.perf_counter() - started)
                    raise
                metrics.job_finished("notification", metrics.JobOutcome.SUCCEEDED, time.perf_counter() - started)
                log.debug("notification job %s: %s", job.id, outcome)

            for name, expression, work in self.scheduled:
                queuer.schedule(name, expression)(_scheduled(work, pool, name))

            # At most CONCURRENT_SENDS jobs picked at once, each with a connection
            # of its own: a burst is taken a batch at a time, and a worker
            # that dies strands no more than that for the heartbeat to free.
            await queuer.run(
                dequeue_timeout=datetime.timedelta(seconds=5),
                batch_size=CONCURRENT_SENDS // 2,
                max_concurrent_tasks=CONCURRENT_SENDS,
                heartbeat_timeout=heartbeat,
            )
        finally:
            await pool.close()
            await listener.close()


def _scheduled(work: Callable[[asyncpg.Pool[Any]], Awaitable[object]], pool: asyncpg.Pool[Any], name: str) -> Any:
    async def run(_schedule: Any) -> None:
        started = time.perf_counter()
        try:
            await work(pool)
        except Exception as error:
            # The schedule must outlive any one run; the type, never the text.
            log.error("scheduled job %s failed: %s", name, type(error).__name__)
            # Not retried: the next run of the schedule does the work.
            metrics.job_finished(name, metrics.JobOutcome.ABANDONED, time.perf_counter() - started)
        else:
            metrics.job_finished(name, metrics.JobOutcome.SUCCEEDED, time.perf_counter() - started)

    return run
