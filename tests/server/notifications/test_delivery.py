"""Delivered, not just attempted (issue 20): the worker (`maca worker`, a
process of its own) sends what the outbox holds through real SMTP to an
aiosmtpd catcher. Killed with SIGKILL mid-send it loses nothing and sends
nothing twice; with the mail server down it keeps trying, with back-off,
and sends once the server is back."""

from __future__ import annotations

import asyncio
import collections
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from server.platform.dev_mail import Catcher, caught_messages
from tests.deploy.processes import background, free_port, maca_environment, output

pytestmark = pytest.mark.slow

WAIT = 90.0


async def some_notifications(db: asyncpg.Connection[Any], count: int) -> None:
    partnership = await db.fetchval(
        "INSERT INTO partnerships (code, name) VALUES ('delivery-test', 'Delivery test') RETURNING id"
    )
    await db.executemany(
        "INSERT INTO notifications (key, partnership_id, message, recipient, recipient_role, subject, body, link) "
        "VALUES ($1, $2, 'audit-distributed', $3, 'audit-contact', 'An audit to complete', 'Please complete it.', "
        "'/your-audits')",
        [(f"test:{n}", partnership, f"person{n}@agency.example") for n in range(count)],
    )


def worker_environment(database_url: str, tmp_path: Path, port: int) -> dict[str, str]:
    return maca_environment(
        database_url,
        tmp_path / "data",
        MACA_SMTP_HOST="127.0.0.1",
        MACA_SMTP_PORT=str(port),
        MACA_SMTP_SECURITY="none",
        MACA_SMTP_TIMEOUT_SECONDS="5",
        MACA_DELIVERY_RETRY_SECONDS="1",
        MACA_WORKER_HEARTBEAT_SECONDS="2",
    )


async def wait_for(db: asyncpg.Connection[Any], query: str, expected: Any, log: Path) -> None:
    deadline = time.monotonic() + WAIT
    found = None
    while time.monotonic() < deadline:
        found = await db.fetchval(query)
        if found == expected:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{query} gave {found!r}, not {expected!r}; the worker said:\n{output(log)}")


async def test_a_worker_killed_mid_send_loses_nothing_and_sends_nothing_twice(
    db: asyncpg.Connection[Any], database_url: str, tmp_path: Path
) -> None:
    holding = threading.Event()
    holding.set()
    started = threading.Event()

    async def hold_while_asked(envelope: Any) -> str | None:
        # The first worker's sends stop mid-DATA; once it is dead they end
        # without the server taking the message, as a dropped connection does.
        started.set()
        while holding.is_set():  # noqa: ASYNC110 - a threading.Event, set from the test's thread
            await asyncio.sleep(0.05)
        return "451 the sender went away"

    first_catcher = Catcher(tmp_path / "mail", on_message=hold_while_asked).start()
    port = first_catcher.port
    env = worker_environment(database_url, tmp_path, port)
    command = [sys.executable, "-m", "server.cli", "worker"]
    await some_notifications(db, 5)
    try:
        with background(command, tmp_path / "first.log", env) as first:
            assert await asyncio.to_thread(started.wait, WAIT), output(tmp_path / "first.log")
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
    finally:
        holding.clear()
        first_catcher.stop()
    assert caught_messages(tmp_path / "mail") == []
    assert await db.fetchval("SELECT count(*) FROM notifications WHERE status = 'sent'") == 0

    with Catcher(tmp_path / "mail", port=port), background(command, tmp_path / "second.log", env):
        await wait_for(db, "SELECT count(*) FROM notifications WHERE status = 'sent'", 5, tmp_path / "second.log")
    caught = caught_messages(tmp_path / "mail")
    counted = collections.Counter(m.message_id for m in caught)
    assert len(counted) == 5 and set(counted.values()) == {1}, counted
    assert sorted(m.to for m in caught) == [f"person{n}@agency.example" for n in range(5)]


async def test_with_the_mail_server_down_a_message_is_sent_once_it_is_back(
    db: asyncpg.Connection[Any], database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = worker_environment(database_url, tmp_path, port)
    await some_notifications(db, 2)
    log = tmp_path / "worker.log"
    with background([sys.executable, "-m", "server.cli", "worker"], log, env):
        # Down: each attempt fails, its reason kept for the administrator.
        await wait_for(db, "SELECT count(*) FROM notifications WHERE last_error IS NOT NULL", 2, log)
        reasons = await db.fetch("SELECT last_error, status FROM notifications")
        assert all("could not reach the mail server" in r["last_error"] for r in reasons)
        assert {r["status"] for r in reasons} == {"queued"}
        await asyncio.sleep(5)  # "a minute", shortened
        with Catcher(tmp_path / "mail", port=port):
            await wait_for(db, "SELECT count(*) FROM notifications WHERE status = 'sent'", 2, log)
    assert len(caught_messages(tmp_path / "mail")) == 2
    assert await db.fetchval("SELECT count(*) FROM notifications WHERE last_error IS NOT NULL") == 0
