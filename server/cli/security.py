"""``maca events verify`` and ``maca purge``: maintenance run as the
tables' owner (``DATABASE_URL``), outside any request."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import asyncpg

from server.audits.retention import PurgeResult, purge
from server.cli.database import CommandError, database_url
from server.db.verify import Verdict, verify
from server.settings import Settings


class TrailBroken(Exception):
    """``maca events verify`` found problems (already printed)."""


async def _connect(url: str, settings: Settings) -> asyncpg.Connection[Any]:
    return await asyncpg.connect(url, statement_cache_size=settings.db_statement_cache)


async def _verify(url: str, settings: Settings) -> Verdict:
    connection = await _connect(url, settings)
    try:
        return await verify(connection)
    finally:
        await connection.close()


async def _purge(url: str, settings: Settings, dry_run: bool) -> PurgeResult:
    connection = await _connect(url, settings)
    try:
        return await purge(connection, settings.retention_days, dry_run=dry_run)
    finally:
        await connection.close()


def cmd_events(settings: Settings, args: argparse.Namespace) -> None:
    with database_url(settings) as url:
        verdict = asyncio.run(_verify(url, settings))
    for problem in verdict.problems:
        print(problem)
    if not verdict.intact:
        raise CommandError(f"the event trail has been tampered with: {len(verdict.problems)} problem(s) above")
    newest = verdict.newest_hash or "none (no events yet)"
    print(f"the event trail is intact: {verdict.events} events; newest hash {newest}")


def cmd_purge(settings: Settings, args: argparse.Namespace) -> None:
    with database_url(settings) as url:
        result = asyncio.run(_purge(url, settings, args.dry_run))
    when = result.closed_before.date().isoformat()
    verb = "would remove" if result.dry_run else "removed"
    print(f"{verb} {len(result.audit_ids)} closed audit(s) closed before {when} ({settings.retention_days} days)")
    for audit_id in result.audit_ids:
        print(f"  audit {audit_id}")
    for table, count in sorted(result.rows.items()):
        print(f"  {table}: {count} row(s)")
    if result.event_id is not None:
        print(f"recorded as event {result.event_id}")


def add_security_commands(commands: Any) -> None:
    events = commands.add_parser("events", help="check the tamper-evident event trail")
    events.add_argument("action", choices=["verify"], help="verify: walk the hash chain and report any tampering")
    events.set_defaults(handler=cmd_events)

    purge_command = commands.add_parser(
        "purge", help="remove closed audits older than the retention period (MACA_RETENTION_DAYS)"
    )
    purge_command.add_argument("--dry-run", action="store_true", help="say what would be removed; remove nothing")
    purge_command.set_defaults(handler=cmd_purge)
