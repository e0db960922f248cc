"""The audit list pages run the same number of SQL statements whatever the
number of audits: the coordinator's ``/audits`` and the auditor's
``/your-audits`` read their rows with the one query the API list uses (and,
for the coordinator, one more for every listed audit's participants), never
a query or two per row.

The statements are counted by asyncpg itself (``Connection.add_query_logger``)
on every connection the application's pool hands out while a page is asked
for: the session lookup, the transaction and everything the step runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from litestar import Litestar

from tests.server.audit_fixtures import an_open_audit
from tests.web.conftest import Pages, PageSession


class CountingPool:
    """The application's pool, logging each statement sent on the
    connections it hands out (then passing them on as they are)."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool
        self.statements: list[str] = []

    def _log(self, record: Any) -> None:
        self.statements.append(record.query)

    @asynccontextmanager
    async def acquire(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        async with self._pool.acquire(*args, **kwargs) as connection:
            connection.add_query_logger(self._log)
            try:
                yield connection
            finally:
                connection.remove_query_logger(self._log)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


@contextmanager
def counted(app: Litestar) -> Iterator[CountingPool]:
    real = app.state.pool
    counting = CountingPool(real)
    app.state.pool = counting
    try:
        yield counting
    finally:
        app.state.pool = real


async def statements_for(app: Litestar, session: PageSession, path: str) -> list[str]:
    with counted(app) as pool:
        page = await session.get(path)
        assert page.status_code == 200, page.text[:500]
        # asyncpg hands each logged statement to the logger on the next turn
        # of the event loop.
        await asyncio.sleep(0)
    return pool.statements


async def open_audits(pages: Pages, count: int) -> None:
    for _ in range(count):
        await an_open_audit(pages.people, participants=["health", "police"])


async def test_the_list_pages_run_as_many_statements_for_50_audits_as_for_5(pages: Pages) -> None:
    coordinator = await pages.signed_in("coordinator")
    health = await pages.signed_in("health")

    await open_audits(pages, 5)
    coordinator_5 = await statements_for(pages.app, coordinator, "/audits")
    auditor_5 = await statements_for(pages.app, health, "/your-audits")

    await open_audits(pages, 45)
    coordinator_50 = await statements_for(pages.app, coordinator, "/audits")
    auditor_50 = await statements_for(pages.app, health, "/your-audits")
    listed = await health.get("/your-audits")
    # The list's own links (issue 20's "What needs you" above it links each
    # audit still to complete too, as a banner's links).
    assert listed.text.count('class="govuk-link" href="/your-audits/') == 50

    for name, five, fifty in (("/audits", coordinator_5, coordinator_50), ("/your-audits", auditor_5, auditor_50)):
        # Not vacuous: the counter saw the page's own list query.
        assert any("FROM audits a" in statement for statement in five), (name, five)
        assert len(five) == len(fifty), f"{name}: {len(five)} statements for 5 audits, {len(fifty)} for 50"
