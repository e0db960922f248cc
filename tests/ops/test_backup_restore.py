"""Backups that restore: the audit journey's first half against one
database, ``maca backup``, ``maca restore`` into an empty database, the
same event trail digest from ``maca events verify`` on both, and the
journey's second half against the restored one, to the audit's close.

A configured ``DATABASE_URL`` uses the PATH's ``pg_dump`` and
``pg_restore``; here the PATH leads to the embedded PostgreSQL's own
(``pgserver``'s ``pginstall/bin``), as the test server is one. The embedded
case (no ``DATABASE_URL``) is tested on its own, end to end."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from tests.deploy.processes import ROOT, maca_environment
from tests.ops.journey import agencies_contribute, review_and_close
from tests.security.served import served_maca

pytestmark = pytest.mark.slow

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # platformdirs: no XDG_RUNTIME_DIR in CI
    import pgserver

PG_BIN = Path(pgserver.__file__).parent / "pginstall" / "bin"


def maca(*arguments: str, env: dict[str, str], ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", *arguments], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    if ok:
        assert done.returncode == 0, f"maca {' '.join(arguments)}: {done.stdout}\n{done.stderr}"
    return done


def environment(database_url: str | None, data_dir: Path) -> dict[str, str]:
    env = maca_environment(database_url or "", data_dir, PATH=f"{PG_BIN}{os.pathsep}{os.environ['PATH']}")
    if database_url is None:
        del env["DATABASE_URL"]
    return env


def trail_digest(env: dict[str, str]) -> str:
    printed = maca("events", "verify", env=env).stdout
    match = re.search(r"intact: (\d+) events; newest hash (\S+)", printed)
    assert match, printed
    assert int(match.group(1)) > 0
    return match.group(2)


def test_backup_restore_verify_and_the_journey_goes_on(database_url: str, empty_database: str, tmp_path: Path) -> None:
    first, restored = environment(database_url, tmp_path / "a"), environment(empty_database, tmp_path / "b")
    with served_maca(database_url, tmp_path / "a", tmp_path / "a.log") as served:
        audit = agencies_contribute(served)
    digest = trail_digest(first)

    backed_up = maca("backup", "--to", str(tmp_path / "backups"), env=first).stdout
    (dump,) = (tmp_path / "backups").glob("maca-*.dump")
    assert f"newest hash {digest}" in backed_up
    assert dump.stat().st_mode & 0o077 == 0, "a backup is readable by its owner only"
    assert Path(f"{dump}.sha256").read_text().split() == [
        hashlib.sha256(dump.read_bytes()).hexdigest(),
        dump.name,
    ]

    done = maca("restore", str(dump), env=restored).stdout
    assert "the same as when it was backed up" in done
    assert trail_digest(restored) == digest

    # Restoring again, over what is now there, is refused.
    again = maca("restore", str(dump), env=restored, ok=False)
    assert again.returncode != 0 and "not empty" in again.stderr

    with served_maca(empty_database, tmp_path / "b", tmp_path / "b.log") as served:
        judgement = review_and_close(served, audit)
    assert judgement["overall"]["grade"] == 2 and judgement["overall"]["moderation"] is not None
    assert trail_digest(restored) != digest  # the trail went on, intact


def test_a_damaged_backup_is_refused_and_nothing_restored(
    database_url: str, empty_database: str, tmp_path: Path
) -> None:
    maca("backup", "--to", str(tmp_path), env=environment(database_url, tmp_path / "a"))
    (dump,) = tmp_path.glob("maca-*.dump")
    # Damaged for certain: four bytes from the middle, each inverted. (Zeros
    # written there changed nothing once the middle of the dump fell on
    # zeros already, and the test then restored an undamaged backup.)
    with dump.open("r+b") as file:
        file.seek(dump.stat().st_size // 2)
        found = file.read(4)
        file.seek(dump.stat().st_size // 2)
        file.write(bytes(byte ^ 0xFF for byte in found))
    refused = maca("restore", str(dump), env=environment(empty_database, tmp_path / "b"), ok=False)
    assert refused.returncode != 0
    assert "does not match its checksum" in refused.stderr


def test_the_embedded_database_backs_up_and_restores_with_its_own_binaries(tmp_path: Path) -> None:
    here, there = environment(None, tmp_path / "here"), environment(None, tmp_path / "there")
    here["PATH"] = there["PATH"] = "/nonexistent"  # only pgserver's own binaries will do
    here["MACA_BACKUP_DIR"] = str(tmp_path / "backups")
    maca("migrate", env=here)
    maca("backup", env=here)
    (dump,) = (tmp_path / "backups").glob("maca-*.dump")
    assert "the same as when it was backed up" in maca("restore", str(dump), env=there).stdout
    assert "database schema is up to date" in maca("migrate", env=there).stdout
