"""The metrics endpoint: ``http://MACA_METRICS_HOST:MACA_METRICS_PORT/metrics``.

It is a port of its own, served by the ``maca serve`` process that starts
the workers (a thread beside them), not a route of the application: the
Service and the ingress that carry people's requests never reach it, and by
default it listens on 127.0.0.1 only. In a cluster it listens on the pod's
address for the scraper, and a NetworkPolicy admits only the monitoring
namespace (``deploy/k8s``).

Each scrape adds up every worker's counts (prometheus-client's
multiprocess files) and reads what is counted in the database with one
short connection as ``maca_app``: :data:`DATABASE_SOURCES`. A database that
does not answer within two seconds gives ``maca_metrics_database_up 0``;
the workers' own counts are served all the same.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Final

import asyncpg

from server.db import operations
from server.platform.metrics import ConcernAge, QueueDepth, concern_ages

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

log = logging.getLogger("maca.metrics")

DATABASE_TIMEOUT_SECONDS: Final = 2.0

# A source reads something counted in the database and gives its families.
Source = Callable[["asyncpg.Connection[Any]"], Awaitable[list["Metric"]]]


async def immediate_concerns_now(connection: asyncpg.Connection[Any]) -> list[Metric]:
    """What exists today: concerns are computed by the merge on every read,
    and summarised (counted per audit) whenever an audit's judgement can
    change. So this counts audits, not concerns, and gives no age. The ages
    (:func:`concern_age_family`) come from a source reading the stored
    concerns, with when each was raised and whether it was acknowledged."""
    from prometheus_client.core import GaugeMetricFamily

    count = await operations.open_audits_with_immediate_concerns(connection)
    return [
        GaugeMetricFamily(
            "maca_open_audits_with_immediate_concerns",
            "Audits not closed whose partnership judgement, as last summarised, lists an immediate concern",
            value=count,
        )
    ]


# What each of the queue's entrypoints is, as the ``kind`` label says it
# (a scheduled job's entrypoint is its own name: concerns.escalate, …).
JOB_KINDS: Final = {"deliver": "notification"}


async def job_queue_now(connection: asyncpg.Connection[Any]) -> list[Metric]:
    """The queue's depth and its oldest job's age, by kind (zero for a
    notification queue that is empty), and the messages not delivered:
    given up on, or being retried (README "Operating Maca")."""
    from prometheus_client.core import GaugeMetricFamily

    depths = {kind: QueueDepth(kind=kind, queued=0, oldest_seconds=0.0) for kind in JOB_KINDS.values()}
    for entrypoint, queued, oldest in await operations.queue_depths(connection):
        kind = JOB_KINDS.get(entrypoint, entrypoint)
        depths[kind] = QueueDepth(kind=kind, queued=queued, oldest_seconds=oldest)
    undelivered = GaugeMetricFamily(
        "maca_notifications_undelivered",
        "Messages not delivered, by state: failed (given up on, shown to the administrator) or retrying",
        labels=["state"],
    )
    for state, count in sorted((await operations.undelivered_notifications(connection)).items()):
        undelivered.add_metric([state], count)
    return [*queue_depth_families(list(depths.values())), undelivered]


async def concerns_by_age_now(connection: asyncpg.Connection[Any]) -> list[Metric]:
    """Immediate concerns not yet closed, by age and acknowledgement."""
    return concern_age_family(concern_ages(await operations.open_concern_ages(connection)))


# Read at every scrape, in this order.
DATABASE_SOURCES: list[Source] = [immediate_concerns_now, job_queue_now, concerns_by_age_now]


def queue_depth_families(depths: Sequence[QueueDepth]) -> list[Metric]:
    """The queue's depth and the age of its oldest job, by kind."""
    from prometheus_client.core import GaugeMetricFamily

    queued = GaugeMetricFamily("maca_jobs_queued", "Jobs waiting to run, by kind", labels=["kind"])
    oldest = GaugeMetricFamily(
        "maca_job_oldest_queued_age_seconds", "Age of the oldest job waiting to run, by kind", labels=["kind"]
    )
    for depth in depths:
        queued.add_metric([depth.kind], depth.queued)
        oldest.add_metric([depth.kind], depth.oldest_seconds)
    return [queued, oldest]


def concern_age_family(ages: Sequence[ConcernAge]) -> list[Metric]:
    """Immediate concerns not yet closed, by age bucket and whether someone
    acknowledged them (``server.platform.metrics.concern_ages`` counts them)."""
    from prometheus_client.core import GaugeMetricFamily

    family = GaugeMetricFamily(
        "maca_immediate_concerns_open",
        "Immediate concerns not yet closed, by age since raised and whether someone acknowledged them",
        labels=["age", "acknowledged"],
    )
    for age in ages:
        family.add_metric([age.age, "true" if age.acknowledged else "false"], age.open)
    return [family]


async def _read_database(url: str, sources: Iterable[Source]) -> list[Metric]:
    connection = await asyncpg.connect(url, timeout=DATABASE_TIMEOUT_SECONDS, statement_cache_size=0)
    try:
        found: list[Metric] = []
        for source in sources:
            found.extend(await source(connection))
        return found
    finally:
        await connection.close()


class DatabaseCollector:
    """The families counted in the database, read at each scrape."""

    def __init__(self, url: str, sources: Sequence[Source] | None = None) -> None:
        self.url = url
        self.sources = DATABASE_SOURCES if sources is None else sources

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        try:
            found = asyncio.run(asyncio.wait_for(_read_database(self.url, self.sources), DATABASE_TIMEOUT_SECONDS * 2))
            up = 1
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            # The type only: a PostgreSQL message can name roles and databases.
            log.warning("metrics: the database did not answer this scrape (%s)", type(error).__name__)
            found, up = [], 0
        yield GaugeMetricFamily(
            "maca_metrics_database_up", "1 if this scrape could read the database's counts, else 0", value=up
        )
        yield from found


class BuildInfo:
    def __init__(self, version: str) -> None:
        self.version = version

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        info = GaugeMetricFamily("maca_build_info", "Maca's version (always 1)", labels=["version"])
        info.add_metric([self.version], 1)
        yield info


class MetricsServer:
    """The running endpoint; :meth:`stop` closes it."""

    def __init__(self, server: Any, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        self.port: int = int(server.server_port)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def start(host: str, port: int, directory: str, database_url: str, version: str) -> MetricsServer:
    """Serve every worker's counts (written under ``directory``) and the
    database's on ``host:port``; raises ``OSError`` if the port is taken."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    registry.register(DatabaseCollector(database_url))
    registry.register(BuildInfo(version))
    server, thread = start_http_server(port, addr=host, registry=registry)
    return MetricsServer(server, thread)


__all__ = [
    "DATABASE_SOURCES",
    "DatabaseCollector",
    "MetricsServer",
    "Source",
    "concern_age_family",
    "concerns_by_age_now",
    "immediate_concerns_now",
    "job_queue_now",
    "queue_depth_families",
    "start",
]
