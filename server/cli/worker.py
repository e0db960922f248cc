"""``maca worker``: deliver the outbox and run the scheduled jobs
(``server/platform/queue.py``), as a process of its own. It connects as the
tables' owner (``DATABASE_URL``), as ``maca migrate`` does. Any number may
run; each job is taken by one."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import signal
from typing import Any

from server.cli.database import database_url
from server.settings import Settings

__all__ = ["add_worker_command"]


def cmd_worker(settings: Settings, args: argparse.Namespace) -> None:
    from server.audits.jobs import scheduled_jobs
    from server.platform.mail import channel_for
    from server.platform.queue import Worker

    heartbeat = datetime.timedelta(seconds=float(os.environ.get("MACA_WORKER_HEARTBEAT_SECONDS", "30")))

    async def run(url: str) -> None:
        worker = Worker(settings, url, channel_for(settings), scheduled_jobs(settings))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, worker.stop)
        print("maca worker: delivering notifications and running scheduled jobs", flush=True)
        await worker.run(heartbeat=heartbeat)

    with database_url(settings) as url:
        asyncio.run(run(url))


def add_worker_command(commands: Any) -> None:
    worker = commands.add_parser("worker", help="deliver notifications and run the scheduled jobs")
    worker.set_defaults(handler=cmd_worker)
