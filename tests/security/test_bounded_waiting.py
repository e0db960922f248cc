"""No one can stall anyone: every wait has a bound.

A red-team pass stopped the whole service from one auditor's account: ten
``POST /api/audits/{random}/contributions/{random}/submit`` with
``Idempotency-Key``, ``If-Match`` and ``Content-Length: 10`` and no body,
from ten sockets. Each request opened its transaction, then waited for the
body; the ten pooled connections sat idle in their transactions, and every
other person's request (the coordinator's list, the reviewer's judgement)
hung until the sockets closed, ``/readyz`` answering 503. No access to any
audit was needed.

Against a real ``maca serve`` (and a real PostgreSQL as the real
``maca_app`` role), these tests hold such sockets open — on ``/submit``
exactly as found, then on every write route at once — and check that other
people are served while the sockets are held and still unanswered; that a
body too slow is answered 408 and its connection closed; that one person's
writes past their share wait their turn and are then refused 429; that a
full pool answers 503 rather than hang; and that PostgreSQL itself ends a
statement or an idle transaction that runs too long. No test measures
speed: each answer only has to come within a bound far above anything but
a hang.
"""

from __future__ import annotations

import asyncio
import re
import select
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from litestar.routes import HTTPRoute

from server.app import create_app
from server.db import pool
from server.db.migrate import AppTimeouts, migrate
from server.settings import load_settings
from tests.conftest import create_database, drop_database
from tests.security.served import Served, served_maca

pytestmark = pytest.mark.slow

HELD = 10
# Far above any honest answer on a loaded 2-core machine: past this, a
# request is hanging.
ANSWER_WITHIN = 30.0
# How long slow requests are given to take hold of what they would hold
# (the connections found idle in transaction), at most.
TAKE_HOLD = 5.0
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


# --- the slow clients -----------------------------------------------------------------


class SlowBodies:
    """Requests whose headers promise a body (``Content-Length: 10``) that
    never comes, each on a socket of its own."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.sockets: list[socket.socket] = []
        self.sent: list[str] = []

    def send(self, method: str, path: str, headers: dict[str, str], *, part: bytes = b"", length: int = 10) -> None:
        connection = socket.create_connection(self.address, timeout=ANSWER_WITHIN)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.address[0]}:{self.address[1]}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines += ["Content-Type: application/json", f"Content-Length: {length}", "", ""]
        connection.sendall("\r\n".join(lines).encode() + part)
        self.sockets.append(connection)
        self.sent.append(f"{method} {path}")

    def unanswered(self) -> list[str]:
        """The requests whose sockets are still open with nothing said back."""
        waiting = []
        for request, connection in zip(self.sent, self.sockets, strict=True):
            readable, _, _ = select.select([connection], [], [], 0)
            if not readable:
                waiting.append(request)
        return waiting

    def close(self) -> None:
        for connection in self.sockets:
            connection.close()


@contextmanager
def slow_bodies(served: Served) -> Iterator[SlowBodies]:
    slow = SlowBodies(served.base_url)
    try:
        yield slow
    finally:
        slow.close()


def answer_on(connection: socket.socket) -> tuple[int, dict[str, str], bytes, bool]:
    """(status, headers, body, whether the server then closed the connection)."""
    connection.settimeout(ANSWER_WITHIN)
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = connection.recv(65536)
        assert chunk, f"the connection closed without an answer: {received!r}"
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = connection.recv(65536)
        assert chunk, "the connection closed in the middle of the answer"
        body += chunk
    try:
        closed = connection.recv(1) == b""
    except TimeoutError:
        closed = False
    return int(status_line.split()[1]), headers, body, closed


# --- what the database shows ----------------------------------------------------------


async def _app_backends(database_url: str, where: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        # ``where`` is one of this module's constants.
        query = f"SELECT count(*) FROM pg_stat_activity WHERE usename = $1 AND datname = current_database() AND {where}"  # noqa: S608
        return int(await connection.fetchval(query, pool.APP_ROLE))
    finally:
        await connection.close()


def wait_for_backends(database_url: str, where: str, count: int, *, within: float) -> int:
    """Poll until ``count`` of Maca's connections match ``where`` or
    ``within`` seconds pass; how many matched last."""
    deadline = time.monotonic() + within
    while True:
        found = asyncio.run(_app_backends(database_url, where))
        if found >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


IDLE_IN_TRANSACTION = "state = 'idle in transaction'"
WAITING_ON_A_LOCK = "wait_event_type = 'Lock'"


def let_them_take_hold(database_url: str) -> None:
    """Give the slow requests the time to take whatever they would take:
    until HELD of Maca's connections sit idle in a transaction (as on the
    day it was found), or TAKE_HOLD seconds have passed."""
    wait_for_backends(database_url, IDLE_IN_TRANSACTION, HELD, within=TAKE_HOLD)


# --- other people --------------------------------------------------------------------


def answered(call: Callable[[], httpx.Response], what: str) -> httpx.Response:
    try:
        return call()
    except httpx.TimeoutException:
        pytest.fail(f"{what} hung for {ANSWER_WITHIN:.0f} s while the slow requests were held")


def everyone_else_is_served(served: Served, audit: dict[str, Any]) -> None:
    listed = answered(lambda: served.request("coordinator", "GET", "/api/audits"), "the coordinator's list")
    assert listed.status_code == 200, listed.text
    judgement = answered(
        lambda: served.request("reviewer", "GET", f"/api/audits/{audit['id']}/judgement"), "the reviewer's judgement"
    )
    assert judgement.status_code == 200, judgement.text
    ready = answered(lambda: served.http.get("/readyz"), "/readyz")
    assert ready.status_code == 200, ready.text
    police = f"/api/audits/{audit['id']}/contributions/{served.organisation_id('police')}"
    seen = answered(lambda: served.request("police", "GET", police), "the police auditor's contribution")
    saved = answered(
        lambda: served.request(
            "police",
            "PUT",
            police,
            json={"overall": {"impact": "Saved meanwhile"}},
            headers={"If-Match": seen.headers["etag"]},
        ),
        "the police auditor's save",
    )
    assert saved.status_code == 200, saved.text


# --- the served Maca --------------------------------------------------------------------


@pytest.fixture(scope="module")
def patient(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Maca waiting long for bodies (five minutes), so that the slow
    sockets are still held, unanswered, when the test looks."""
    folder = tmp_path_factory.mktemp("patient")
    with served_maca(database_url, folder / "data", folder / "maca.log", MACA_BODY_TIMEOUT_SECONDS="300") as served:
        served.http.timeout = httpx.Timeout(ANSWER_WITHIN)
        yield served


def an_audit_everyone_works_on(served: Served) -> dict[str, Any]:
    """Every table starts empty: sign in again, then an open audit of
    health and police with a remedial action for health."""
    served.sign_in_everyone()
    audit = served.open_audit(["health", "police"])
    action = served.request(
        "coordinator",
        "POST",
        f"/api/audits/{audit['id']}/actions",
        json={"action": "Review the plan", "responsible_organisation_id": str(served.organisation_id("health"))},
    )
    assert action.status_code == 201, action.text
    audit["action_id"] = action.json()["id"]
    return audit


def test_ten_slow_bodies_on_submit_stall_nobody(patient: Served, database_url: str) -> None:
    """Exactly as found: random ids, an Idempotency-Key and an If-Match, a
    body promised and never sent, from ten sockets."""
    audit = an_audit_everyone_works_on(patient)
    with slow_bodies(patient) as slow:
        for number in range(HELD):
            slow.send(
                "POST",
                f"/api/audits/{uuid.uuid4()}/contributions/{uuid.uuid4()}/submit",
                {**patient.headers("health"), "Idempotency-Key": f"stall-{number}", "If-Match": '"1"'},
            )
        let_them_take_hold(database_url)

        everyone_else_is_served(patient, audit)

        assert slow.unanswered() == slow.sent  # the slow requests were still held all along
        assert asyncio.run(_app_backends(database_url, IDLE_IN_TRANSACTION)) == 0


def write_routes() -> list[tuple[str, str]]:
    """Every route that writes (POST, PUT, PATCH, DELETE), from the
    application's own route table: the API, the pages, signing in and out."""
    app = create_app(
        load_settings({}, env="test", data_dir=tempfile.mkdtemp()), database_url="postgresql://unused/maca"
    )
    return sorted(
        (method, route.path) for route in app.routes if isinstance(route, HTTPRoute) for method in route.methods - SAFE
    )


def test_the_write_routes_are_all_found() -> None:
    routes = write_routes()
    assert ("POST", "/api/audits/{audit_id:uuid}/contributions/{organisation:str}/submit") in routes
    assert ("POST", "/audits/{audit_id:uuid}/judgement/{section_id:str}") in routes
    assert len(routes) >= 20


def test_slow_bodies_on_every_write_route_at_once_stall_nobody(patient: Served, database_url: str) -> None:
    audit = an_audit_everyone_works_on(patient)
    values = {
        "audit_id": audit["id"],
        "organisation_id": str(patient.organisation_id("health")),
        "organisation": str(patient.organisation_id("health")),
        "action_id": audit["action_id"],
        "section_id": "overall",
        # The administrator's routes: their bodies never come either.
        "toolkit_id": "multi-agency-cp",
        "client_id": "an-agency-system",
        # Issues 20 and 21's routes: a body that never comes is waited for
        # before anything looks the concern, programme or theme up.
        "concern_id": str(uuid.uuid4()),
        "programme_id": str(uuid.uuid4()),
        "theme_id": str(uuid.uuid4()),
    }
    routes = write_routes()
    with slow_bodies(patient) as slow:
        for method, template in routes:
            path = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values[m.group(1)], template)
            for number in range(HELD):
                slow.send(
                    method,
                    path,
                    {**patient.headers("health"), "Idempotency-Key": f"{path}-{number}", "If-Match": '"1"'},
                )
        let_them_take_hold(database_url)

        everyone_else_is_served(patient, audit)

        assert slow.unanswered() == slow.sent
        assert len(slow.sent) == HELD * len(routes)


def test_a_body_that_never_arrives_is_answered_408_and_its_connection_closed(database_url: str, tmp_path: Path) -> None:
    with served_maca(database_url, tmp_path / "data", tmp_path / "maca.log", MACA_BODY_TIMEOUT_SECONDS="1") as served:
        served.http.timeout = httpx.Timeout(ANSWER_WITHIN)
        path = f"/api/audits/{uuid.uuid4()}/contributions/{uuid.uuid4()}/submit"
        with slow_bodies(served) as slow:
            slow.send("POST", path, {**served.headers("health"), "Idempotency-Key": "k", "If-Match": '"1"'})
            # Three bytes of the ten promised, then nothing.
            slow.send("PUT", path.removesuffix("/submit"), served.headers("health"), part=b'{"a')
            for connection in slow.sockets:
                status, headers, body, closed = answer_on(connection)
                assert status == 408, body
                assert headers["content-type"].startswith("application/problem+json")
                assert b"did not arrive within 1 seconds" in body
                assert closed, "the connection was kept open for a client that does not send"
        # A body larger than allowed is refused on its Content-Length alone,
        # before any of it is read.
        with slow_bodies(served) as slow:
            slow.send("PUT", path.removesuffix("/submit"), served.headers("health"), length=1_048_577)
            status, headers, body, _ = answer_on(slow.sockets[0])
            assert status == 413, body


# --- one person's share of the writes ----------------------------------------------------


@contextmanager
def row_locked(database_url: str, statement: str, *args: Any) -> Iterator[None]:
    """A row locked by another session (as the tables' owner) until the
    block ends: writes that need it wait inside their transactions."""
    started = threading.Event()
    release = threading.Event()
    failed: list[BaseException] = []

    async def hold() -> None:
        connection = await asyncpg.connect(database_url)
        try:
            async with connection.transaction():
                await connection.execute(statement, *args)
                started.set()
                await asyncio.to_thread(release.wait)
        finally:
            await connection.close()

    def run() -> None:
        try:
            asyncio.run(hold())
        except BaseException as error:  # reported below
            failed.append(error)
            started.set()

    holder = threading.Thread(target=run, daemon=True)
    holder.start()
    assert started.wait(ANSWER_WITHIN)
    try:
        assert not failed, failed
        yield
    finally:
        release.set()
        holder.join(ANSWER_WITHIN)


LOCK_CONTRIBUTION = "SELECT 1 FROM contributions WHERE audit_id = $1 AND organisation_id = $2 FOR UPDATE"


def saves(served: Served, persona: str, audit: dict[str, Any], count: int) -> list[Future[httpx.Response]]:
    url = f"/api/audits/{audit['id']}/contributions/{served.organisation_id(persona)}"
    etag = served.request(persona, "GET", url).headers["etag"]
    executor = ThreadPoolExecutor(max_workers=count)

    def save(number: int) -> httpx.Response:
        with httpx.Client(base_url=served.base_url, timeout=ANSWER_WITHIN) as http:
            return http.put(
                url,
                json={"overall": {"impact": f"save {number}"}},
                headers={**served.headers(persona), "If-Match": etag},
            )

    futures = [executor.submit(save, number) for number in range(count)]
    executor.shutdown(wait=False)
    return futures


def test_one_persons_writes_past_their_share_wait_their_turn_then_get_429(database_url: str, tmp_path: Path) -> None:
    with served_maca(
        database_url,
        tmp_path / "data",
        tmp_path / "maca.log",
        MACA_WRITES_PER_USER="2",
        MACA_DB_TIMEOUT_SECONDS="1",
    ) as served:
        served.http.timeout = httpx.Timeout(ANSWER_WITHIN)
        audit = an_audit_everyone_works_on(served)
        health = served.organisation_id("health")
        with row_locked(database_url, LOCK_CONTRIBUTION, uuid.UUID(audit["id"]), health):
            futures = saves(served, "health", audit, 6)
            # Two run (and wait on the locked row, each holding a connection);
            # four wait their turn, holding none, and are refused.
            deadline = time.monotonic() + ANSWER_WITHIN
            while sum(future.done() for future in futures) < 4:
                assert time.monotonic() < deadline, "the writes past the share were not answered"
                time.sleep(0.05)
            refused = [future.result() for future in futures if future.done()]
            assert len(refused) == 4, [r.status_code for r in refused]
            for response in refused:
                assert response.status_code == 429, response.text
                assert int(response.headers["retry-after"]) >= 1
                assert response.headers["content-type"].startswith("application/problem+json")
            assert wait_for_backends(database_url, WAITING_ON_A_LOCK, 2, within=ANSWER_WITHIN) == 2
            # Meanwhile everybody else is served.
            listed = answered(lambda: served.request("coordinator", "GET", "/api/audits"), "the coordinator's list")
            assert listed.status_code == 200, listed.text
        done = sorted(future.result(ANSWER_WITHIN).status_code for future in futures)
        # The two that ran finish once the row is free: one saves, the other
        # finds its If-Match stale. Nothing waited without bound.
        assert done == [200, 412, 429, 429, 429, 429]


# --- the pool, and PostgreSQL's own limits -----------------------------------------------


@pytest.fixture
def own_database(server_url: str) -> Iterator[str]:
    """A database of this test's own, migrated with short timeouts for
    ``maca_app`` (one second), so other tests keep the defaults."""
    url = asyncio.run(create_database(server_url, "maca_bounded"))

    async def migrated() -> None:
        connection = await asyncpg.connect(url)
        try:
            await migrate(connection, app_timeouts=AppTimeouts(statement_seconds=1, idle_in_transaction_seconds=1))
        finally:
            await connection.close()

    asyncio.run(migrated())
    try:
        yield url
    finally:
        asyncio.run(drop_database(server_url, url))


def test_a_full_pool_answers_503_with_retry_after_instead_of_hanging(database_url: str, tmp_path: Path) -> None:
    with served_maca(
        database_url, tmp_path / "data", tmp_path / "maca.log", MACA_DB_POOL_MAX="2", MACA_DB_TIMEOUT_SECONDS="1"
    ) as served:
        served.http.timeout = httpx.Timeout(ANSWER_WITHIN)
        audit = an_audit_everyone_works_on(served)
        audit_id = uuid.UUID(audit["id"])
        with (
            row_locked(database_url, LOCK_CONTRIBUTION, audit_id, served.organisation_id("health")),
            row_locked(database_url, LOCK_CONTRIBUTION, audit_id, served.organisation_id("police")),
        ):
            held = saves(served, "health", audit, 1) + saves(served, "police", audit, 1)
            assert wait_for_backends(database_url, WAITING_ON_A_LOCK, 2, within=ANSWER_WITHIN) == 2

            busy = answered(lambda: served.request("coordinator", "GET", "/api/audits"), "the coordinator's list")

            assert busy.status_code == 503, busy.text
            assert int(busy.headers["retry-after"]) >= 1
            assert busy.headers["content-type"].startswith("application/problem+json")
            assert "busy" in busy.json()["detail"]
        assert [future.result(ANSWER_WITHIN).status_code for future in held] == [200, 200]
        assert served.request("coordinator", "GET", "/api/audits").status_code == 200


def test_postgresql_ends_a_statement_waiting_too_long_and_maca_answers_503(own_database: str, tmp_path: Path) -> None:
    with served_maca(own_database, tmp_path / "data", tmp_path / "maca.log") as served:
        served.http.timeout = httpx.Timeout(ANSWER_WITHIN)
        audit = an_audit_everyone_works_on(served)
        health = served.organisation_id("health")
        with row_locked(own_database, LOCK_CONTRIBUTION, uuid.UUID(audit["id"]), health):
            (blocked,) = saves(served, "health", audit, 1)
            # statement_timeout is one second in this database: PostgreSQL
            # cancels the save waiting on the locked row, and Maca says so.
            cancelled = blocked.result(ANSWER_WITHIN)
        assert cancelled.status_code == 503, cancelled.text
        assert int(cancelled.headers["retry-after"]) >= 1
        assert "nothing was changed" in cancelled.json()["detail"]
        url = f"/api/audits/{audit['id']}/contributions/{health}"
        assert served.request("health", "GET", url).json()["content"].get("overall") is None


def test_maca_app_has_both_timeouts_from_maca_migrate(database_url: str, own_database: str) -> None:
    settings = load_settings({})

    async def shown(url: str) -> tuple[str, str]:
        connection = await asyncpg.connect(pool.app_database_url(settings, url))
        try:
            return (
                await connection.fetchval("SHOW statement_timeout"),
                await connection.fetchval("SHOW idle_in_transaction_session_timeout"),
            )
        finally:
            await connection.close()

    assert asyncio.run(shown(database_url)) == ("30s", "30s")  # the defaults
    assert asyncio.run(shown(own_database)) == ("1s", "1s")


def test_postgresql_ends_a_session_left_idle_in_its_transaction(own_database: str) -> None:
    async def left_idle() -> None:
        connection = await asyncpg.connect(pool.app_database_url(load_settings({}), own_database))
        try:
            await connection.execute("BEGIN")
            backend = await connection.fetchval("SELECT pg_backend_pid()")
            # Nothing more is sent: PostgreSQL ends the session after one second.
            owner = await asyncpg.connect(own_database)
            try:
                deadline = time.monotonic() + ANSWER_WITHIN
                while await owner.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", backend):
                    assert time.monotonic() < deadline, "the idle transaction was left open"
                    await asyncio.sleep(0.2)
            finally:
                await owner.close()
            with pytest.raises((asyncpg.exceptions.IdleInTransactionSessionTimeoutError, asyncpg.InterfaceError)):
                await connection.fetchval("SELECT 1")
        finally:
            await connection.close()

    asyncio.run(left_idle())
