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
from server.platform.metrics import ConcernAge, QueueDepth

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


# Read at every scrape, in this order. The job queue adds one giving
# queue_depth_families(...), the stored concerns one giving
# concern_age_family(...).
DATABASE_SOURCES: list[Source] = [immediate_concerns_now]


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
    """Open (unacknowledged) immediate concerns by age bucket
    (``server.platform.metrics.concern_ages`` counts them)."""
    from prometheus_client.core import GaugeMetricFamily

    family = GaugeMetricFamily(
        "maca_immediate_concerns_open", "Immediate concerns not yet acknowledged, by age", labels=["age"]
    )
    for age in ages:
        family.add_metric([age.age], age.open)
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
    "immediate_concerns_now",
    "queue_depth_families",
    "start",
]
