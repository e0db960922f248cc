"""``maca events verify`` and ``maca purge``: maintenance run as the
tables' owner (``DATABASE_URL``), outside any request.

``maca events verify`` walks the hash chain, then checks it against what
was written down outside the database: marks it printed before
(``--expect``) and the server's signed checkpoints (``--checkpoints``,
``server/platform/trail.py``). Only those show a trail whose newest events
were deleted and whose strand heads were moved back to match."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from server.audits.retention import PurgeResult, purge
from server.cli.database import CommandError, database_url
from server.db.verify import Mark, TrailProblem, Verdict, check_mark, verify
from server.platform.trail import read_checkpoints, signing_key
from server.settings import Settings


class TrailBroken(Exception):
    """``maca events verify`` found problems (already printed)."""


async def _connect(url: str, settings: Settings) -> asyncpg.Connection[Any]:
    return await asyncpg.connect(url, statement_cache_size=settings.db_statement_cache)


class Compared(msgspec.Struct, frozen=True, kw_only=True):
    """The trail walked, and what it was compared with."""

    verdict: Verdict
    # (what was compared: "mark …" or "checkpoint at … (line n)", its problems)
    comparisons: tuple[tuple[str, tuple[TrailProblem, ...]], ...]


async def _verify(url: str, settings: Settings, marks: list[tuple[str, Mark]]) -> Compared:
    connection = await _connect(url, settings)
    try:
        verdict = await verify(connection)
        comparisons = [(label, await check_mark(connection, mark)) for label, mark in marks]
        return Compared(verdict=verdict, comparisons=tuple(comparisons))
    finally:
        await connection.close()


def _marks_to_check(settings: Settings, args: argparse.Namespace) -> tuple[list[tuple[str, Mark]], list[str]]:
    """The marks of ``--expect`` and of the checkpoints in ``--checkpoints``,
    and what is wrong with the checkpoints file itself."""
    marks: list[tuple[str, Mark]] = []
    for text in args.expect or []:
        try:
            marks.append((f"mark {text}", Mark.parse(text)))
        except ValueError as error:
            raise CommandError(f"--expect: {error}") from None
    problems: list[str] = []
    if args.checkpoints is not None:
        path = Path(args.checkpoints)
        try:
            with path.open(encoding="utf-8", errors="replace") as lines:
                checkpoints = read_checkpoints(signing_key(settings), lines)
        except OSError as error:
            raise CommandError(f"--checkpoints: cannot read {path}: {error.strerror}") from None
        if not checkpoints:
            problems.append(f"{path} holds no trail checkpoint")
        for checkpoint in checkpoints:
            label = f"checkpoint of {checkpoint.at} ({path.name} line {checkpoint.line})"
            if not checkpoint.signed or checkpoint.mark is None:
                problems.append(
                    f"{label}: its signature does not match (not written by this Maca, altered, "
                    "or MACA_TRAIL_CHECKPOINT_KEY differs)"
                )
                continue
            marks.append((label, checkpoint.mark))
    return marks, problems


async def _purge(url: str, settings: Settings, dry_run: bool) -> PurgeResult:
    connection = await _connect(url, settings)
    try:
        return await purge(connection, settings.retention_days, dry_run=dry_run)
    finally:
        await connection.close()


def cmd_events(settings: Settings, args: argparse.Namespace) -> None:
    marks, unreadable = _marks_to_check(settings, args)
    with database_url(settings) as url:
        compared = asyncio.run(_verify(url, settings, marks))
    verdict = compared.verdict
    problems = [str(problem) for problem in verdict.problems] + unreadable
    for label, found in compared.comparisons:
        problems.extend(f"{label}: {problem.what}" for problem in found)
    for problem in problems:
        print(problem)
    if problems:
        raise CommandError(f"the event trail has been tampered with: {len(problems)} problem(s) above")
    newest = verdict.newest_hash or "none (no events yet)"
    print(f"the event trail is intact: {verdict.events} events; newest hash {newest}")
    if compared.comparisons:
        print(f"it still holds everything {len(compared.comparisons)} earlier mark(s) and checkpoint(s) recorded")
    if verdict.mark is not None:
        print(f"trail mark (keep it outside the database; check later with --expect): {verdict.mark}")


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
    events.add_argument(
        "--expect",
        action="append",
        metavar="MARK",
        help="a trail mark printed earlier: check the trail still holds everything it did then (repeatable)",
    )
    events.add_argument(
        "--checkpoints",
        metavar="FILE",
        help="the server's signed trail checkpoints (MACA_TRAIL_CHECKPOINT_FILE, or its log): check each",
    )
    events.set_defaults(handler=cmd_events)

    purge_command = commands.add_parser(
        "purge", help="remove closed audits older than the retention period (MACA_RETENTION_DAYS)"
    )
    purge_command.add_argument("--dry-run", action="store_true", help="say what would be removed; remove nothing")
    purge_command.set_defaults(handler=cmd_purge)
