"""A second ceiling for the draft save: pgbench sending Maca's own
statements (``pgbench/save_draft_own.sql``) as Maca sends them — as
``maca_app`` under row-level security, with an identity sealed by the
server's key — where ``pgbench/save_draft.sql`` sends the plain upsert and
event a save amounted to before the sealed identity and migration 0019.

The ratio of the save to this ceiling is what the HTTP server and Python
add on top of the database's own work for the same save; the ratio to the
plain ceiling is the issue's yardstick. Both are printed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from server.db import identity, pool
from server.settings import load_settings

SCRIPT = Path(__file__).parent / "pgbench" / "save_draft_own.sql"


async def prepare(owner_url: str, audit_ids: list[str], user: dict[str, Any]) -> str:
    """Who owns which audit (a plain table ``maca_app`` may read), and the
    health auditor's identity sealed with the database's key. A seal is good
    for 60 seconds (migration 0011): made again before every run."""
    connection = await asyncpg.connect(owner_url)
    try:
        await connection.execute(
            """
            DROP TABLE IF EXISTS bench_owned;
            CREATE TABLE bench_owned (client integer PRIMARY KEY, audit_id uuid NOT NULL);
            GRANT SELECT ON bench_owned TO maca_app;
            """
        )
        await connection.executemany(
            "INSERT INTO bench_owned (client, audit_id) VALUES ($1, $2)",
            [(n, UUID(a)) for n, a in enumerate(audit_ids)],
        )
        key = await identity.stored_key(connection)
    finally:
        await connection.close()
    if key is None:
        raise RuntimeError("the bench database has no identity key: was it migrated?")
    sealer = identity.Sealer(configured=key, owner_dsn=None)
    return sealer.identity(
        UUID(user["user_id"]), UUID(user["organisation_id"]), UUID(user["partnership_id"]), user["roles"]
    )


async def forget(owner_url: str) -> None:
    """Drop the table :func:`prepare` made (a table without row-level
    security must not outlive the run: ``tests/server/test_rls.py`` counts
    every table)."""
    connection = await asyncpg.connect(owner_url)
    try:
        await connection.execute("DROP TABLE IF EXISTS bench_owned")
    finally:
        await connection.close()


def command(
    pgbench: Path, owner_url: str, sealed: str, user: dict[str, Any], content: str, concurrency: int, seconds: int,
    logs: Path,
) -> list[str]:  # fmt: skip
    """The pgbench command line, once :func:`prepare` has made the table of
    who owns what and the seal (``sealed``)."""
    app_url = pool.app_database_url(load_settings({}), owner_url)
    return [
        str(pgbench), "-n", "-M", "prepared", f"-c{concurrency}", f"-j{min(concurrency, 2)}", f"-T{seconds}",
        "-f", str(SCRIPT), "-l", f"--log-prefix={logs / 'tx'}",
        "-D", f"seal={sealed}", "-D", f"organisation={user['organisation_id']}", "-D", f"content={content}",
        app_url,
    ]  # fmt: skip


def run_pgbench(argv: list[str], logs: Path) -> tuple[str, list[str]]:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"pgbench (Maca's own statements) failed: {done.stderr.strip()[-1000:]}")
    lines = [line for log in sorted(logs.iterdir()) for line in log.read_text().splitlines()]
    shutil.rmtree(logs)
    return done.stdout, lines


__all__ = ["SCRIPT", "command", "forget", "prepare", "run_pgbench"]
