"""A burst of distribution notifications (issue 20): 1,000 messages written
to the outbox at once (an audit distributed to many agencies, or many
audits), then the worker (``server/platform/queue.py``, in this process)
sends them through real SMTP to an aiosmtpd catcher. The figure is the
time from the burst's commit to the last message recorded as sent.

In an embedded PostgreSQL under ``MACA_DATA_DIR/bench/notifications``.
Knobs: ``BENCH_NOTIFICATIONS`` (1000)."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg

from server.db import embedded
from server.db.migrate import migrate
from server.platform.dev_mail import Catcher
from server.platform.mail import SmtpChannel
from server.platform.queue import Worker
from server.settings import load_settings


async def _burst(url: str, count: int, folder: Path) -> dict[str, Any]:
    connection = await asyncpg.connect(url)
    try:
        await migrate(connection)
        await connection.execute("TRUNCATE notifications CASCADE")
        await connection.execute("TRUNCATE maca_queue.pgqueuer, maca_queue.pgqueuer_log")
        partnership = await connection.fetchval(
            "INSERT INTO partnerships (code, name) VALUES ('bench-notifications', 'Bench') "
            "ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name RETURNING id"
        )
        with Catcher(folder) as catcher:
            settings = load_settings(
                {},
                env="test",
                smtp_host=catcher.host,
                smtp_port=catcher.port,
                smtp_security="none",
                log_level="warning",
            )
            worker = Worker(settings, url, SmtpChannel(settings), [])
            running = asyncio.create_task(worker.run())
            await asyncio.sleep(1.0)  # the worker listening
            started = time.perf_counter()
            await connection.execute(
                """
                INSERT INTO notifications (key, partnership_id, message, recipient, recipient_role, subject, body, link)
                SELECT 'bench:' || n, $1, 'audit-distributed', 'agency' || n || '@bench.example', 'audit-contact',
                       'A case audit to complete: MACA-0000BEEF', 'Please complete it.', '/your-audits'
                  FROM generate_series(1, $2) AS n
                """,
                partnership,
                count,
            )
            written = time.perf_counter() - started
            sent = "SELECT count(*) FROM notifications WHERE status = 'sent'"
            while await connection.fetchval(sent) < count:  # noqa: ASYNC110 - polling the database
                await asyncio.sleep(0.05)
            seconds = time.perf_counter() - started
            worker.stop()
            await asyncio.wait_for(running, 30)
        caught = len(await asyncio.to_thread(lambda: list(folder.glob("*.eml"))))
    finally:
        await connection.close()
    return {
        "messages": count,
        "write_seconds": round(written, 3),
        "send_seconds": round(seconds, 2),
        "messages_per_second": round(count / seconds),
        "caught": caught,
    }


def run() -> dict[str, Any]:
    count = int(os.environ.get("BENCH_NOTIFICATIONS", "1000"))
    settings = load_settings({**os.environ, "MACA_LOG_LEVEL": "warning"})
    server = None
    url = settings.database_url
    if url is None:
        server = embedded.start(settings.data_path / "bench" / "notifications")
        url = server.url()
    try:
        with tempfile.TemporaryDirectory() as folder:
            return asyncio.run(_burst(url, count, Path(folder)))
    finally:
        if server is not None:
            server.stop()
