"""Tidying what expires, on a timer, in every server process.

Sessions end, sign-ins are abandoned and idempotency keys are kept only
24 hours (``server/db/idempotency.py``), but nothing that reads them deletes
them all: without this the tables only grow. Every ``MACA_MAINTENANCE_MINUTES``
each process runs :func:`tidy`, which first takes a transaction-level
advisory lock: while one process (of any replica) is tidying, the others
skip their turn rather than queue for the same rows. A transaction-level
lock holds through PgBouncer in transaction mode, where a session-level one
would not.

Only counts are logged; the rows hold nothing a log needs.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import asyncpg
import msgspec

from server.db import idempotency, sessions
from server.platform.problems import DATABASE_UNAVAILABLE

log = logging.getLogger("maca.maintenance")

# One key among advisory locks, named as server/db/themes.py names its own.
LOCK_NAME = "maca:maintenance"

COULD_NOT_TIDY: tuple[type[BaseException], ...] = (*DATABASE_UNAVAILABLE, asyncpg.PostgresError)


class Tidied(msgspec.Struct, frozen=True, kw_only=True):
    """How many rows one run removed."""

    sessions: int
    sign_ins: int
    idempotency_keys: int

    @property
    def total(self) -> int:
        return self.sessions + self.sign_ins + self.idempotency_keys


async def tidy(connection: asyncpg.Connection[Any]) -> Tidied | None:
    """Delete expired sessions, abandoned sign-ins past their expiry and
    idempotency keys past their 24 hours, in one transaction; ``None``, and
    nothing deleted, when another process is tidying now."""
    async with connection.transaction():
        if not await connection.fetchval("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))", LOCK_NAME):
            return None
        return Tidied(
            sessions=await sessions.forget_expired(connection),
            sign_ins=await sessions.forget_abandoned_sign_ins(connection),
            idempotency_keys=await idempotency.forget_older_than(connection, idempotency.KEPT_FOR_DAYS),
        )


async def tidy_now(pool: asyncpg.Pool[Any]) -> Tidied | None:
    """One run with a connection from ``pool``, its outcome logged (counts only)."""
    try:
        async with pool.acquire() as connection:
            # The pool hands out a proxy that behaves as the connection it wraps.
            tidied = await tidy(cast("asyncpg.Connection[Any]", connection))
    except COULD_NOT_TIDY as error:
        # The next turn tries again; readiness reports the database itself.
        log.warning("maintenance skipped this turn: %s from the database", type(error).__name__)
        return None
    if tidied is None:
        log.debug("maintenance: another process is tidying")
    elif tidied.total:
        log.info(
            "maintenance: removed %d expired sessions, %d abandoned sign-ins, %d idempotency keys",
            tidied.sessions,
            tidied.sign_ins,
            tidied.idempotency_keys,
        )
    return tidied


async def run_every(pool: asyncpg.Pool[Any], minutes: float) -> None:
    """Tidy every ``minutes`` until cancelled (the first run one interval
    after start, so that starting many processes at once does not make a
    burst)."""
    while True:
        await asyncio.sleep(minutes * 60)
        try:
            await tidy_now(pool)
        except Exception as error:
            # The timer must outlive any one run. Like server/platform/problems.py:
            # the type, never the text (it can quote data).
            log.error("maintenance failed: %s", type(error).__name__)
