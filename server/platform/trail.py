"""Signed checkpoints of the event trail, kept outside the database.

The hash chain (migrations 0005, 0008) shows any edited, deleted or
reordered event, but not the newest events deleted with their strand's head
moved back to match: what remains is a whole, shorter chain. Only a record
of how far the trail reached, kept where the database's owner cannot
reach, shows that. So every ``MACA_TRAIL_CHECKPOINT_MINUTES`` each server
process writes one line,

    maca-trail-checkpoint v1 <when, UTC> <mark> <HMAC-SHA-256 of the rest>

to ``MACA_TRAIL_CHECKPOINT_FILE`` (appended) or, unset, to its log. The
mark names each strand's newest position and one digest of their hashes
(``server/db/verify.py``); ``maca events verify --checkpoints FILE`` checks
every line's signature, then that the trail still holds each marked event
with the same hash. The signing key is ``MACA_TRAIL_CHECKPOINT_KEY`` or one
generated into ``MACA_DATA_DIR``: never the database's, whose owner could
otherwise write checkpoints of their own.

The heads are read through ``maca_trail_heads()`` (migration 0011), which
``maca_app`` may call: hashes and positions, nothing of any event's content.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import hashlib
import hmac
import logging
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import asyncpg
import msgspec

from server.db.verify import Mark, current_mark
from server.platform.problems import DATABASE_UNAVAILABLE
from server.settings import Settings

log = logging.getLogger("maca.trail")

KEY_FILE = "trail-checkpoint.key"
PREFIX = "maca-trail-checkpoint"
_LINE = re.compile(PREFIX + r" (v1 (\S+) (\S+)) ([0-9a-f]{64})")

COULD_NOT_CHECKPOINT: tuple[type[BaseException], ...] = (*DATABASE_UNAVAILABLE, asyncpg.PostgresError)


class Checkpoint(msgspec.Struct, frozen=True, kw_only=True):
    """One line of checkpoints, read back: where, when, the mark, and
    whether its signature is this Maca's."""

    line: int
    at: str
    mark: Mark | None
    signed: bool


def signing_key(settings: Settings) -> bytes:
    """``MACA_TRAIL_CHECKPOINT_KEY``, or the key in ``MACA_DATA_DIR``,
    generated there (mode 0600) on first use by whichever process is first."""
    if settings.trail_checkpoint_key:
        return hashlib.sha256(settings.trail_checkpoint_key.encode()).digest()
    path = settings.data_path / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as file:
                file.write(secrets.token_hex(32) + "\n")
            with contextlib.suppress(FileExistsError):  # another process's key won
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    return bytes.fromhex(path.read_text(encoding="ascii").strip())


def _signature(key: bytes, body: str) -> str:
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def checkpoint_line(key: bytes, mark: Mark, at: datetime.datetime) -> str:
    body = f"v1 {at.astimezone(datetime.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')} {mark}"
    return f"{PREFIX} {body} {_signature(key, body)}"


def read_checkpoints(key: bytes, lines: Iterator[str]) -> list[Checkpoint]:
    """Every checkpoint in ``lines`` (a checkpoints file, or a log: other
    lines, and whatever a log puts before each, are passed over)."""
    found: list[Checkpoint] = []
    for number, text in enumerate(lines, start=1):
        match = _LINE.search(text)
        if match is None:
            continue
        body, at, mark, signature = match.groups()
        signed = hmac.compare_digest(_signature(key, body), signature)
        try:
            parsed: Mark | None = Mark.parse(mark)
        except ValueError:
            parsed = None
        found.append(Checkpoint(line=number, at=at, mark=parsed, signed=signed and parsed is not None))
    return found


def write(settings: Settings, line: str) -> None:
    """Append ``line`` to the checkpoints file, or put it in the log."""
    if settings.trail_checkpoint_file is None:
        log.info("%s", line)
        return
    path = Path(settings.trail_checkpoint_file)
    # One write of a short line to a file opened for appending: lines from
    # several processes never interleave.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    try:
        os.write(descriptor, (line + "\n").encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


async def checkpoint_now(pool: asyncpg.Pool[Any], settings: Settings) -> str | None:
    """Read the trail's heads and write one signed checkpoint; the line, or
    None when the database did not answer (the next turn tries again)."""
    try:
        async with pool.acquire() as connection:
            # The pool hands out a proxy that behaves as the connection it wraps.
            mark = await current_mark(cast("asyncpg.Connection[Any]", connection))
    except COULD_NOT_CHECKPOINT as error:
        log.warning("trail checkpoint skipped this turn: %s from the database", type(error).__name__)
        return None
    line = checkpoint_line(signing_key(settings), mark, datetime.datetime.now(datetime.UTC))
    write(settings, line)
    return line


async def run_every(pool: asyncpg.Pool[Any], settings: Settings) -> None:
    """Write a checkpoint every ``MACA_TRAIL_CHECKPOINT_MINUTES`` until
    cancelled (the first one interval after start)."""
    if settings.trail_checkpoint_file is None and not log.hasHandlers():
        # A worker process whose logging nobody configured would drop the
        # line; the checkpoints are the point of the log here.
        log.addHandler(logging.StreamHandler())
    log.setLevel(logging.INFO)
    if settings.trail_checkpoint_key is None and settings.env == "production":
        log.warning(
            "MACA_TRAIL_CHECKPOINT_KEY is unset: trail checkpoints are signed with a key generated into "
            "MACA_DATA_DIR, which other replicas and a replaced pod do not share; set the same key everywhere"
        )
    while True:
        await asyncio.sleep(settings.trail_checkpoint_minutes * 60)
        try:
            await checkpoint_now(pool, settings)
        except Exception as error:
            # The timer must outlive any one run; the type, never the text.
            log.error("trail checkpoint failed: %s", type(error).__name__)
