"""Which migrations lock big tables, and for how long, over 100,000 audits.

The earliest release that could generate audits (``demo`` in
``deploy/releases.txt``) makes the database with its own ``maca migrate``
and ``maca demo --audits N`` (``BENCH_AUDITS``, 100,000 by default); then
each later migration of this version is applied alone, in its own
transaction, as ``maca migrate`` would. A second connection watches
``pg_locks`` every few milliseconds for the relation locks the migrating
backend holds, noting when each was first granted; every lock is held until
the commit, so its hold time is commit minus first sight.

The trail is lengthened to ``BENCH_EVENTS_PER_AUDIT`` events per audit
(20), as a partnership's use would (every read and write is recorded; the
generator records one).

Reported per migration: its time; each table of more than 10,000 rows it
locked in a mode that blocks the application's reads (ACCESS EXCLUSIVE) or
writes (SHARE and stronger), and for how long; the longest of these. And
the whole upgrade as ``maca migrate`` runs it, every pending migration in
one transaction, so every lock is held until the last one commits.

Migrations older than that release cannot be measured at this size: no
release before it could make 100,000 audits (``tests/ops/test_migration_locks.py``
lists what they lock).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from server.db import embedded
from server.db.migrate import BODIES_REPLACED_LATER, Migration, read_migrations
from tests.conftest import create_database, with_database
from tests.deploy.processes import maca_environment
from tests.ops.releases import ReleaseCode, checkout, releases

BLOCKS_READS = frozenset({"AccessExclusiveLock"})
BLOCKS_WRITES = frozenset({"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"})
BIG_TABLE_ROWS = 10_000
POLL_SECONDS = 0.005


async def _watch(url: str, pid: int, seen: dict[tuple[str, str], float], stop: asyncio.Event) -> None:
    watcher = await asyncpg.connect(url)
    try:
        while not stop.is_set():
            rows = await watcher.fetch(
                "SELECT relation::regclass::text AS relation, mode FROM pg_locks "
                "WHERE pid = $1 AND granted AND locktype = 'relation'",
                pid,
            )
            now = time.perf_counter()
            for row in rows:
                seen.setdefault((row["relation"], row["mode"]), now)
            await asyncio.sleep(POLL_SECONDS)
    finally:
        await watcher.close()


async def _apply(url: str, migrations: list[Migration]) -> dict[str, Any]:
    """Apply ``migrations`` in one transaction, watching its locks."""
    connection = await asyncpg.connect(url)
    seen: dict[tuple[str, str], float] = {}
    stop = asyncio.Event()
    watching = asyncio.create_task(_watch(url, connection.get_server_pid(), seen, stop))
    try:
        await asyncio.sleep(0.05)
        started = time.perf_counter()
        async with connection.transaction():
            for migration in migrations:
                if migration.version in BODIES_REPLACED_LATER:  # as maca migrate applies it
                    await connection.execute("SET LOCAL check_function_bodies = off")
                await connection.execute(migration.sql)
                await connection.execute("SET LOCAL check_function_bodies = on")
                await connection.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
            await asyncio.sleep(POLL_SECONDS * 4)  # one more look before the commit
        committed = time.perf_counter()
        stop.set()
        await watching
        sizes: dict[str, int] = {}
        # Names only: a relation dropped by the migration shows as its oid.
        for relation in {relation for relation, _ in seen if relation.isidentifier()}:
            kind = await connection.fetchval("SELECT relkind::text FROM pg_class WHERE oid = to_regclass($1)", relation)
            if kind == "r":  # a table (indexes and sequences are counted with theirs)
                sizes[relation] = await connection.fetchval(f"SELECT count(*) FROM {relation}")  # noqa: S608 - from pg_locks
    finally:
        stop.set()
        await connection.close()
    locks = []
    for (relation, mode), first in seen.items():
        rows = sizes.get(relation, 0)
        if mode in BLOCKS_WRITES and rows > BIG_TABLE_ROWS:
            locks.append(
                {
                    "table": relation,
                    "rows": rows,
                    "mode": mode,
                    "blocks": "reads and writes" if mode in BLOCKS_READS else "writes",
                    "held_seconds": round(committed - first, 3),
                }
            )
    locks.sort(key=lambda lock: -lock["held_seconds"])
    return {
        "migrations": [f"{m.version:04d}_{m.name}" for m in migrations],
        "seconds": round(committed - started, 3),
        "locks": locks,
        "longest_lock_seconds": locks[0]["held_seconds"] if locks else 0.0,
    }


async def _add_events(url: str, per_audit: int) -> int:
    """The trail a partnership's use leaves: ``maca demo`` records one event
    per audit, but every read and write of an audit is recorded, so a real
    trail is many times longer (``BENCH_EVENTS_PER_AUDIT``, 20 by default),
    and 0008 locks and indexes the whole of it. Added in one statement with
    the chain trigger off (through it, a row at a time, two million events
    took longer than 20 minutes on this machine): positions follow on, but
    the hashes are not chained. What is measured is locks, not the trail."""
    connection = await asyncpg.connect(url)
    try:
        async with connection.transaction():
            await connection.execute("ALTER TABLE events DISABLE TRIGGER events_chain")
            await connection.execute(
                """
                INSERT INTO events (action, audit_id, position, previous_hash, hash)
                SELECT 'audit.read', a.id,
                       (SELECT max(position) FROM events) + row_number() OVER (),
                       '\\x00'::bytea, sha256(convert_to(a.id::text || n::text, 'UTF8'))
                  FROM audits a, generate_series(2, $1) AS n
                """,
                per_audit,
            )
            await connection.execute(
                "UPDATE event_chain_head SET position = (SELECT max(position) FROM events), "
                "hash = (SELECT hash FROM events ORDER BY position DESC LIMIT 1)"
            )
            await connection.execute("ALTER TABLE events ENABLE TRIGGER events_chain")
        count: int = await connection.fetchval("SELECT count(*) FROM events")
        return count
    finally:
        await connection.close()


async def _pending(url: str) -> list[Migration]:
    connection = await asyncpg.connect(url)
    try:
        applied = {row["version"] for row in await connection.fetch("SELECT version FROM schema_migrations")}
    finally:
        await connection.close()
    return [m for m in read_migrations() if m.version not in applied]


def _report(name: str, measured: dict[str, Any]) -> None:
    print(f"  {name}: {measured['seconds']:.2f} s in all")
    for lock in measured["locks"]:
        print(
            f"    {lock['mode']} on {lock['table']} ({lock['rows']:,} rows, blocks {lock['blocks']}): "
            f"held {lock['held_seconds']:.2f} s"
        )


def run() -> dict[str, Any]:
    audits = int(os.environ.get("BENCH_AUDITS", "100000"))
    per_audit = int(os.environ.get("BENCH_EVENTS_PER_AUDIT", "20"))
    (release,) = [r for r in releases() if r.name == "demo"]
    with tempfile.TemporaryDirectory(prefix="maca-bench-migrations-") as folder:
        where = Path(folder)
        server = embedded.start(where / "postgres")
        try:
            url = asyncio.run(create_database(server.url(), "maca_bench_migrations"))
            old = ReleaseCode(checkout(release, where / "release"), maca_environment(url, where / "data"))
            old.maca("migrate")
            started = time.perf_counter()
            old.maca("demo", "--audits", str(audits), "--seed", "1", timeout=3600)
            generated = time.perf_counter() - started
            print(f"  {audits:,} audits generated by the {release.name} release in {generated:.0f} s")
            events = asyncio.run(_add_events(url, per_audit))
            print(f"  {events:,} events in the trail")
            pending = asyncio.run(_pending(url))
            # Each alone, on a copy of the database as the release left it;
            # then all together, as maca migrate applies them.
            template = urlsplit(url).path.lstrip("/")
            results: dict[str, Any] = {"audits": audits, "events": events, "release": release.name, "each": {}}

            async def copy(name: str) -> str:
                admin = await asyncpg.connect(server.url())
                try:
                    await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                finally:
                    await admin.close()
                return with_database(url, name)

            alone = asyncio.run(copy("maca_bench_migrations_alone"))
            for migration in pending:
                measured = asyncio.run(_apply(alone, [migration]))
                key = f"{migration.version:04d}_{migration.name}"
                results["each"][key] = measured
                _report(key, measured)
            together = asyncio.run(_apply(asyncio.run(copy("maca_bench_migrations_together")), pending))
            results["together"] = together
            _report("all of them in one transaction (maca migrate)", together)
            results["longest_lock_seconds"] = max(
                [m["longest_lock_seconds"] for m in results["each"].values()] + [together["longest_lock_seconds"]]
            )
            results["generated_seconds"] = round(generated, 1)
            return results
        finally:
            server.stop()
