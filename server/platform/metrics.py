"""Maca's Prometheus metrics: the families, and the calls that feed them.

Every family is named ``maca_…`` in base units (seconds), counters end in
``_total``, and labels take few values (a route template, never a path; a
status code; a reason from a closed list), as Prometheus' naming guide
asks. Nothing personal is ever a label value: route templates name ids as
``{audit_id}``, and reasons and kinds are Maca's own words.

**Every worker counts.** ``maca serve`` runs several worker processes; each
keeps its counts in memory-mapped files under ``PROMETHEUS_MULTIPROC_DIR``
(prometheus-client's multiprocess mode), and the metrics endpoint
(``server/platform/metrics_server.py``) adds them up. The mode is chosen
when ``prometheus_client`` is first imported, so this module imports it
only when a family is first used — by then ``maca serve`` has set the
directory for every process it starts. A process with no directory (the
in-process tests) counts in its own memory.

What feeds each family:

- HTTP requests: :func:`observe_request`, called once per request by
  ``server/platform/telemetry.py`` (route template, method, status, seconds).
- The database pool: :func:`observe_pool`, sampled every second in each
  worker from the asyncpg pool object itself.
- Sign-in refusals: :func:`sign_in_refused`, called where Maca refuses a
  token, a sign-in or an attempt over the limit (``server/auth``).
- The job queue (notifications; the scheduled escalations, reminders and
  maintenance): the worker calls :func:`job_finished` as each run ends
  (``server/platform/queue.py``). Jobs are put on the queue by a trigger in
  the transaction of the change that causes them, not by Python, so
  :func:`job_enqueued` has no caller; the depth, and the messages failed or
  being retried, are read from the database at each scrape
  (``server/platform/metrics_server.py``, :class:`QueueDepth`).
- Immediate concerns: the stored concerns not yet closed, by age bucket and
  whether someone acknowledged them (:class:`ConcernAge`), read at each
  scrape; and the audits whose last summarised judgement lists one.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

MULTIPROC_DIR_VARIABLE: Final = "PROMETHEUS_MULTIPROC_DIR"

# Request latency buckets (seconds): the benchmark's p50s run from 2 ms (a
# kept dashboard) to 140 ms (a section page at 32 connections), p99s to 0.5 s.
LATENCY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
JOB_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

# The label of a request no route matched (a mistyped address: its path is
# whatever the client sent, so it is never a label).
UNMATCHED_ROUTE: Final = "unmatched"
_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class SignInRefusal(enum.StrEnum):
    """Why Maca refused someone signing in or a token (the ``reason`` label)."""

    TOKEN_EXPIRED = "token_expired"  # noqa: S105 - a reason, not a secret; a bearer or sign-in token past its exp: usually harmless
    TOKEN_INVALID = "token_invalid"  # noqa: S105 - bad signature, unknown key, wrong issuer or audience, unreadable
    CLAIMS_INVALID = "claims_invalid"  # a valid token whose claims Maca cannot map (no organisation …)
    ISSUER_UNAVAILABLE = "issuer_unavailable"  # the identity provider did not answer
    RATE_LIMITED = "rate_limited"  # too many attempts from one address
    CALLBACK_INVALID = "callback_invalid"  # a sign-in callback with no, an expired or a mismatched state
    PROVIDER_FAILED = "provider_failed"  # the provider refused or failed the code exchange


class JobOutcome(enum.StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # will be tried again
    ABANDONED = "abandoned"  # failed for the last time


@dataclass(frozen=True)
class QueueDepth:
    """One queue's state, read from the database at a scrape."""

    kind: str  # "notification", "reminder", …
    queued: int
    oldest_seconds: float  # age of the oldest job waiting; 0 when none


# Bucket edges for the ages of open immediate concerns: an hour, a day, a
# week. DESIGN: a concern "is escalated until acknowledged and closed".
CONCERN_AGE_BUCKETS: Final[tuple[tuple[float, str], ...]] = (
    (3600.0, "under_1h"),
    (86400.0, "1h_to_1d"),
    (7 * 86400.0, "1d_to_7d"),
    (float("inf"), "over_7d"),
)


@dataclass(frozen=True)
class ConcernAge:
    """Open immediate concerns counted by age bucket (a label value of
    :data:`CONCERN_AGE_BUCKETS`) and whether someone acknowledged them."""

    age: str
    open: int
    acknowledged: bool = False


def concern_ages(concerns: Iterable[tuple[float, bool]]) -> list[ConcernAge]:
    """Open concerns, each (seconds since raised, acknowledged), counted
    into every bucket both ways (zeros included, so a bucket that empties
    reads 0, not "no data")."""
    names = [name for _, name in CONCERN_AGE_BUCKETS]
    counts = {(name, acknowledged): 0 for name in names for acknowledged in (False, True)}
    for age, acknowledged in concerns:
        name = next(name for edge, name in CONCERN_AGE_BUCKETS if age < edge)
        counts[(name, acknowledged)] += 1
    return [ConcernAge(age=name, open=count, acknowledged=ack) for (name, ack), count in counts.items()]


class _Families:
    """Every family a worker writes, created once per process."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        # Families register here, not in prometheus-client's global registry:
        # the endpoint reads every process's files (or, with no directory,
        # this registry).
        self.registry: CollectorRegistry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests: Counter = Counter(
            "maca_http_requests",
            "HTTP requests answered, by route template, method and status",
            ["route", "method", "status"],
            registry=r,
        )
        self.latency: Histogram = Histogram(
            "maca_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by route template, method and status",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.in_progress: Gauge = Gauge(
            "maca_http_requests_in_progress",
            "HTTP requests being answered now",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.pool_connections: Gauge = Gauge(
            "maca_db_pool_connections",
            "Database connections of the workers' pools, by state (in_use, idle)",
            ["state"],
            registry=r,
            multiprocess_mode="livesum",
        )
        self.pool_waiting: Gauge = Gauge(
            "maca_db_pool_waiting_requests",
            "Requests waiting for a database connection from a worker's pool",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.pool_max: Gauge = Gauge(
            "maca_db_pool_max_connections",
            "The most connections the workers' pools may open (MACA_DB_POOL_MAX per worker)",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.sign_in_refusals: Counter = Counter(
            "maca_sign_in_refusals",
            "Sign-ins and tokens refused, by reason",
            ["reason"],
            registry=r,
        )
        self.jobs_enqueued: Counter = Counter(
            "maca_jobs_enqueued", "Jobs put on the queue, by kind", ["kind"], registry=r
        )
        self.jobs_finished: Counter = Counter(
            "maca_jobs_finished",
            "Jobs run, by kind and outcome (succeeded, failed and to be tried again, abandoned)",
            ["kind", "outcome"],
            registry=r,
        )
        self.job_duration: Histogram = Histogram(
            "maca_job_duration_seconds",
            "Time one run of a job took, by kind",
            ["kind"],
            buckets=JOB_BUCKETS,
            registry=r,
        )
        # Zero for every reason, so a rate over a reason never seen reads 0.
        for reason in SignInRefusal:
            self.sign_in_refusals.labels(reason=reason.value)


_families: _Families | None = None


def families() -> _Families:
    global _families
    if _families is None:
        _families = _Families()
    return _families


def multiprocess_directory() -> str | None:
    """The directory every worker writes its counts to, when ``maca serve``
    set one (prometheus-client reads the same variable)."""
    return os.environ.get(MULTIPROC_DIR_VARIABLE) or None


def _method(method: str) -> str:
    return method if method in _METHODS else "other"


# Each (route, method, status)'s counter and histogram, looked up once:
# ``labels()`` takes a lock and builds a key on every call. Bounded: routes
# are the application's templates, methods and statuses few.
_request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    key = (route, method, status)
    children = _request_children.get(key)
    if children is None:
        f = families()
        labels = {"route": route, "method": _method(method), "status": str(status)}
        children = _request_children[key] = (f.requests.labels(**labels), f.latency.labels(**labels))
    children[0].inc()
    children[1].observe(seconds)


def request_started() -> None:
    families().in_progress.inc()


def request_ended() -> None:
    families().in_progress.dec()


def observe_pool(pool: Any) -> None:
    """The pool's state now, read from the asyncpg pool object. asyncpg has
    no public count of waiters: its holder queue (one holder per possible
    connection) is an ``asyncio.LifoQueue``, whose waiting getters are the
    requests waiting for a connection."""
    f = families()
    maximum = int(pool.get_max_size())
    queue = getattr(pool, "_queue", None)
    free_holders = queue.qsize() if queue is not None else maximum
    idle = int(pool.get_idle_size())
    f.pool_connections.labels(state="in_use").set(max(0, maximum - free_holders))
    f.pool_connections.labels(state="idle").set(idle)
    f.pool_waiting.set(len(getattr(queue, "_getters", ()) or ()))
    f.pool_max.set(maximum)


def pool_closed() -> None:
    f = families()
    for state in ("in_use", "idle"):
        f.pool_connections.labels(state=state).set(0)
    f.pool_waiting.set(0)
    f.pool_max.set(0)


def sign_in_refused(reason: SignInRefusal) -> None:
    families().sign_in_refusals.labels(reason=reason.value).inc()


def job_enqueued(kind: str) -> None:
    """The queue calls this when it stores a job (``kind``: "notification",
    "reminder", …: Maca's own words, never a recipient)."""
    families().jobs_enqueued.labels(kind=kind).inc()


def job_finished(kind: str, outcome: JobOutcome, seconds: float) -> None:
    """The queue calls this when one run of a job ends, however it ended."""
    f = families()
    f.jobs_finished.labels(kind=kind, outcome=outcome.value).inc()
    f.job_duration.labels(kind=kind).observe(seconds)


def process_exiting() -> None:
    """A worker stopping: its live gauges (pool, requests in progress) no
    longer count."""
    directory = multiprocess_directory()
    if directory is None or _families is None:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(os.getpid(), directory)  # type: ignore[no-untyped-call]


__all__ = [
    "CONCERN_AGE_BUCKETS",
    "UNMATCHED_ROUTE",
    "ConcernAge",
    "JobOutcome",
    "QueueDepth",
    "SignInRefusal",
    "concern_ages",
    "families",
    "job_enqueued",
    "job_finished",
    "multiprocess_directory",
    "observe_pool",
    "observe_request",
    "pool_closed",
    "process_exiting",
    "request_ended",
    "request_started",
    "sign_in_refused",
]
