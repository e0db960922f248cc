"""A cap on how many writes one person has in flight.

Each server process has ``MACA_DB_POOL_MAX`` database connections for
everyone. A write holds one from its transaction's start to its commit, so
one person's burst of writes (a script, or someone stalling the service on
purpose) could hold them all while everybody else waited. A person may have
``MACA_WRITES_PER_USER`` writes (POST, PUT, PATCH, DELETE) running at once
in a process; more wait their turn, holding no connection, for at most
``MACA_DB_TIMEOUT_SECONDS``, and then — or at once, when as many again are
already waiting — are answered ``429 Too Many Requests`` with
``Retry-After``. An agency's system saving many contributions together is
served in turn rather than refused; nobody holds more than their share.

The count is per process, as the pool it protects is. It runs after
authentication (it needs to know who is asking) and after the body has
been read (``server.platform.body_first``), so time spent waiting on a slow
client is not counted against anyone.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Final

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from server.platform.problems import TooManyRequests

__all__ = ["InFlight", "WriteLimit"]

READS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
# How many more than the cap may wait their turn, as a multiple of the cap.
WAITING_PER_RUNNING: Final = 4


@dataclass
class _Turns:
    running: asyncio.Semaphore
    holders: int = 0  # running or waiting


@dataclass
class InFlight:
    """How many things each key (a person) has in flight in this process:
    ``cap`` at a time, up to ``cap * WAITING_PER_RUNNING`` more waiting at
    most ``wait`` seconds for their turn."""

    cap: int
    wait: float
    _turns: dict[Hashable, _Turns] = field(default_factory=dict)

    def in_flight(self, key: Hashable) -> int:
        turns = self._turns.get(key)
        return 0 if turns is None else turns.holders

    @asynccontextmanager
    async def turn(self, key: Hashable) -> AsyncIterator[None]:
        turns = self._turns.setdefault(key, _Turns(asyncio.Semaphore(self.cap)))
        retry = {"Retry-After": str(max(1, math.ceil(self.wait)))}
        if turns.holders >= self.cap * (1 + WAITING_PER_RUNNING):
            raise TooManyRequests(
                f"you already have {turns.holders} changes in progress; wait for them to finish", headers=retry
            )
        turns.holders += 1
        try:
            try:
                async with asyncio.timeout(self.wait):
                    await turns.running.acquire()
            except TimeoutError:
                raise TooManyRequests(
                    f"your other changes took more than {self.wait:g} seconds; try this one again shortly",
                    headers=retry,
                ) from None
            try:
                yield
            finally:
                turns.running.release()
        finally:
            turns.holders -= 1
            if turns.holders == 0:
                del self._turns[key]


class WriteLimit(ASGIMiddleware):
    """Gives each signed-in person's writes their turn (:class:`InFlight`,
    sized from the settings on first use); placed after authentication."""

    scopes = (ScopeType.HTTP,)

    def __init__(self) -> None:
        self._in_flight: InFlight | None = None

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        who = getattr(scope.get("user"), "user_id", None)
        if who is None or scope.get("method") in READS:
            await next_app(scope, receive, send)
            return
        if self._in_flight is None:
            settings = scope["litestar_app"].state.settings
            self._in_flight = InFlight(cap=settings.writes_per_user, wait=settings.db_timeout_seconds)
        async with self._in_flight.turn(who):
            await next_app(scope, receive, send)
