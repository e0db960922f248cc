"""Dashboards already computed, kept by each process between changes.

A dashboard is a function of the partnership's counted rows, its remedial
actions, the day (what is overdue) and who asks (the partnership's view or
one organisation's). The counted rows and actions change only in
transactions that also bump the partnership's themes version
(``server/db/themes.py``, migration 0009), so a dashboard computed after
reading version ``v`` is the right answer for every later request that reads
``v`` on the same day with the same filters and view. Nothing personal is
kept: only grades, counts and section titles.
"""

from __future__ import annotations

import asyncio
import datetime
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from server.reports.themes import Filters, Themes

# (partnership, its themes version, today, organisation whose view it is —
# None for the partnership's —, the filters)
CacheKey = tuple[UUID, int, datetime.date, UUID | None, Filters]


class ThemesCache:
    """The most recently used ``max_entries`` dashboards of this process."""

    @classmethod
    def of(cls, state: Any) -> ThemesCache:
        """The process's cache, kept on the application's ``state`` (made on
        first use, so a state made for one test needs none)."""
        cache = getattr(state, "themes_cache", None)
        if cache is None:
            cache = cls()
            state.themes_cache = cache
        return cache

    def __init__(self, max_entries: int = 128) -> None:
        self.max_entries = max_entries
        self._kept: OrderedDict[CacheKey, Themes] = OrderedDict()
        # Dashboards being computed now, by key: a request that finds its
        # key here waits for that computation instead of starting its own.
        self._computing: dict[CacheKey, asyncio.Future[Themes]] = {}

    async def get_or_compute(self, key: CacheKey, compute: Callable[[], Awaitable[Themes]]) -> Themes:
        """The dashboard kept under ``key``, else computed once by this
        process however many ask for it at the same moment: after a change,
        every reader of the dashboard asked at once, and each computed it
        (32 computations of 50-170 ms over 100,000 audits, p95 0.9 s at 32
        connections in ``make bench``). A computation that fails leaves the
        waiting requests to compute it themselves."""
        found = self.get(key)
        if found is not None:
            return found
        running = self._computing.get(key)
        if running is not None:
            try:
                return await asyncio.shield(running)
            except Exception:  # the computing request reports its own error
                return await compute()
        future: asyncio.Future[Themes] = asyncio.get_running_loop().create_future()
        self._computing[key] = future
        try:
            themes = await compute()
        except BaseException as error:
            future.set_exception(error if isinstance(error, Exception) else RuntimeError("cancelled"))
            # Nobody may be waiting: the exception is retrieved here, so the
            # loop does not log it as never retrieved.
            future.exception()
            raise
        finally:
            del self._computing[key]
        self.put(key, themes)
        future.set_result(themes)
        return themes

    def get(self, key: CacheKey) -> Themes | None:
        found = self._kept.get(key)
        if found is not None:
            self._kept.move_to_end(key)
        return found

    def put(self, key: CacheKey, themes: Themes) -> None:
        self._kept[key] = themes
        self._kept.move_to_end(key)
        while len(self._kept) > self.max_entries:
            self._kept.popitem(last=False)

    def __len__(self) -> int:
        return len(self._kept)
