"""``maca backup`` and ``maca restore``: a database in one file that is
known to restore.

``maca backup`` writes ``maca-YYYYMMDDTHHMMSSZ.dump`` (``pg_dump``'s custom
format) into ``MACA_BACKUP_DIR`` (or ``--to``), with
``….dump.sha256`` (``sha256sum -c`` reads it) and ``….dump.json``: when,
the schema version, and the event trail's digest as ``maca events verify``
prints it. The dump and the digest come from one snapshot: a read-only
repeatable-read transaction exports its snapshot, walks the trail, and
``pg_dump --snapshot`` dumps exactly what it saw, however busy Maca is
meanwhile. ``--keep N`` then removes all but the newest N backups there.

``maca restore FILE`` checks the file against its checksum, refuses a
database that is not empty, creates the application's role if the server
has none (roles are not in a dump), restores in one transaction
(``pg_restore --single-transaction --no-owner``: the tables belong to
whoever ``DATABASE_URL`` names), gives ``maca_app`` its password, walks the
trail and compares its digest with the one the backup recorded.

The binaries: with no ``DATABASE_URL`` (the embedded PostgreSQL) those the
``pgserver`` package ships beside its server (``pginstall/bin``), so the
versions match; with a ``DATABASE_URL``, ``pg_dump`` and ``pg_restore`` from
the ``PATH`` (PostgreSQL's client tools, of the server's major version or
newer), or, when the PATH has none (as in Maca's container image), pgserver's
PostgreSQL 16 ones. The password never appears on a command line (``PGPASSWORD``).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import asyncpg

from server.cli.database import CommandError, database_url
from server.db import backups
from server.db.migrate import pending_migrations, set_app_password
from server.db.pool import app_password
from server.db.verify import Verdict, verify
from server.settings import Settings

PREFIX = "maca-"
SUFFIX = ".dump"


def _shipped(name: str) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: no XDG_RUNTIME_DIR
        import pgserver

    return Path(pgserver.__file__).parent / "pginstall" / "bin" / name


def binary(settings: Settings, name: str) -> str:
    """``pg_dump`` or ``pg_restore``: the embedded PostgreSQL's own; for a
    configured database the PATH's, or, with none there (Maca's image), the
    one pgserver ships (PostgreSQL 16: it dumps servers up to 16)."""
    shipped = _shipped(name)
    if settings.database_url is None:
        if not shipped.exists():
            raise CommandError(f"the embedded PostgreSQL has no {name} at {shipped}")
        return str(shipped)
    found = shutil.which(name)
    if found is not None:
        return found
    if shipped.exists():
        print(f"{name} is not on the PATH: using the PostgreSQL 16 {name} the pgserver package ships")
        return str(shipped)
    raise CommandError(
        f"{name} is not on the PATH: install PostgreSQL's client tools (the server's major version or newer)"
    )


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """``url`` without its password, and the environment that carries it."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    password = unquote(parts.password or "") or dict(query).get("password", "")
    netloc = parts.netloc.rpartition("@")[2]
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    query = [(key, value) for key, value in query if key != "password"]
    clean = urlunsplit(parts._replace(netloc=netloc, query=urlencode(query)))
    return clean, ({"PGPASSWORD": password} if password else {})


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _environment(extra: Mapping[str, str]) -> dict[str, str]:
    return {**os.environ, **extra}


async def _connect(url: str, settings: Settings) -> asyncpg.Connection[Any]:
    return await asyncpg.connect(url, statement_cache_size=settings.db_statement_cache)


async def _dump(settings: Settings, url: str, target: Path) -> dict[str, Any]:
    """Dump into ``target`` from one snapshot; what the manifest records."""
    dsn, secret = libpq_target(url)
    connection = await _connect(url, settings)
    try:
        async with connection.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await backups.export_snapshot(connection)
            version = await backups.schema_version(connection)
            verdict = await verify(connection)
            command = [
                binary(settings, "pg_dump"),
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={target}",
                f"--dbname={dsn}",
            ]
            process = await asyncio.create_subprocess_exec(
                *command, env=_environment(secret), stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            _, error = await process.communicate()
            if process.returncode != 0:
                raise CommandError(f"pg_dump failed: {error.decode(errors='replace').strip()[:500]}")
    finally:
        await connection.close()
    return {
        "schema_version": version,
        "events": verdict.events,
        "trail_digest": verdict.newest_hash,
        "trail_intact": verdict.intact,
    }


def cmd_backup(settings: Settings, args: argparse.Namespace) -> None:
    folder = Path(args.to) if args.to else settings.backup_path
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    created = datetime.now(UTC)
    name = f"{PREFIX}{created.strftime('%Y%m%dT%H%M%SZ')}{SUFFIX}"
    final = folder / name
    partial = folder / f".{name}.partial"
    with database_url(settings) as url:
        try:
            recorded = asyncio.run(_dump(settings, url, partial))
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    # RESTRICTED data: readable by the account that made it, no one else.
    partial.chmod(0o600)
    checksum = sha256_of(partial)
    partial.replace(final)
    Path(f"{final}.sha256").write_text(f"{checksum}  {name}\n", encoding="utf-8")
    manifest = {"file": name, "sha256": checksum, "bytes": final.stat().st_size, "created_at": created.isoformat()}
    manifest.update(recorded)
    Path(f"{final}.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"backed up to {final} ({manifest['bytes']:,} bytes, sha256 {checksum})")
    print(f"event trail: {recorded['events']} events; newest hash {recorded['trail_digest'] or 'none (no events yet)'}")
    if not recorded["trail_intact"]:
        print("warning: the event trail is NOT intact in this backup; run maca events verify")
    if args.keep is not None:
        if args.keep < 1:
            raise CommandError("--keep: keep at least the backup just made (1 or more)")
        for old in sorted(folder.glob(f"{PREFIX}*{SUFFIX}"))[: -args.keep]:
            for path in (old, Path(f"{old}.sha256"), Path(f"{old}.json")):
                path.unlink(missing_ok=True)
            print(f"removed the older backup {old.name}")


def _checked(file: Path) -> dict[str, Any]:
    """The backup's manifest, once the file matches its checksum."""
    if not file.is_file():
        raise CommandError(f"no backup at {file}")
    checksum_file = Path(f"{file}.sha256")
    if not checksum_file.is_file():
        raise CommandError(f"{checksum_file.name} is missing: a backup is restored only when its checksum is known")
    expected = checksum_file.read_text(encoding="utf-8").split()[0]
    if sha256_of(file) != expected:
        raise CommandError(f"{file.name} does not match its checksum: it is damaged or incomplete; restore another")
    manifest_file = Path(f"{file}.json")
    manifest: dict[str, Any] = json.loads(manifest_file.read_text(encoding="utf-8")) if manifest_file.is_file() else {}
    return manifest


async def _prepare(settings: Settings, url: str) -> None:
    connection = await _connect(url, settings)
    try:
        found = await backups.relations_in_public(connection)
        if found:
            raise CommandError(
                f"the database is not empty ({found} tables and sequences): restore into a new, empty database"
            )
        await backups.ensure_app_role(connection)
    finally:
        await connection.close()


async def _after_restore(settings: Settings, url: str) -> tuple[Verdict, int]:
    connection = await _connect(url, settings)
    try:
        password = app_password(settings, url)
        if password is not None:
            await set_app_password(connection, password)
        return await verify(connection), len(await pending_migrations(connection))
    finally:
        await connection.close()


def cmd_restore(settings: Settings, args: argparse.Namespace) -> None:
    file = Path(args.file)
    manifest = _checked(file)
    with database_url(settings) as url:
        asyncio.run(_prepare(settings, url))
        dsn, secret = libpq_target(url)
        command = [
            binary(settings, "pg_restore"),
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            f"--dbname={dsn}",
            str(file),
        ]
        done = subprocess.run(command, env=_environment(secret), capture_output=True, text=True, check=False)  # noqa: S603 - our own arguments
        if done.returncode != 0:
            raise CommandError(f"pg_restore failed, nothing was restored: {done.stderr.strip()[:500]}")
        verdict, pending = asyncio.run(_after_restore(settings, url))
    print(f"restored {file.name} (sha256 checked)")
    newest = verdict.newest_hash or "none (no events yet)"
    print(f"the event trail: {verdict.events} events; newest hash {newest}")
    expected = manifest.get("trail_digest", newest)
    if not verdict.intact or (manifest and expected != verdict.newest_hash):
        raise CommandError(f"the restored event trail differs from the backup's (it recorded {expected})")
    if manifest:
        print("the same as when it was backed up")
    if pending:
        print(f"{pending} migration(s) of this version of Maca are not applied yet: run maca migrate")


def add_backup_commands(commands: Any) -> None:
    backup = commands.add_parser("backup", help="dump the database to a file, with its checksum and trail digest")
    backup.add_argument(
        "--to", metavar="DIR", help="where to write it (default: MACA_BACKUP_DIR, else MACA_DATA_DIR/backups)"
    )
    backup.add_argument("--keep", type=int, metavar="N", help="then remove all but the newest N backups there")
    backup.set_defaults(handler=cmd_backup)

    restore = commands.add_parser("restore", help="restore a backup into an empty database, and check its trail")
    restore.add_argument("file", help="the .dump file written by maca backup (its .sha256 beside it)")
    restore.set_defaults(handler=cmd_restore)
