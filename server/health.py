"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
import msgspec
from litestar import Controller, get
from litestar.datastructures import State

from server.problems import DATABASE_UNAVAILABLE, ServiceUnavailable

log = logging.getLogger("maca.health")

# PostgreSQL answers but will not let the application in: a wrong
# MACA_DB_APP_PASSWORD (28P01 is a kind of 28000), a maca_app role that
# `maca migrate` has not created yet or that may not log in, a database that
# does not exist. Maca is not ready; it is not broken, and an orchestrator
# should hear "not ready" (503), not a server error.
LOGIN_REFUSED: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.InvalidAuthorizationSpecificationError,
    asyncpg.exceptions.InvalidCatalogNameError,
)


class Health(msgspec.Struct, frozen=True):
    status: str


class HealthController(Controller):
    path = ""
    include_in_schema = True
    tags = ("health",)

    @get("/healthz", summary="The process is alive", cache=False)
    async def healthz(self) -> Health:
        return Health(status="ok")

    @get("/readyz", summary="The database answers", cache=False)
    async def readyz(self, state: State) -> Health:
        timeout = state.settings.db_timeout_seconds
        try:
            async with asyncio.timeout(timeout):
                async with state.pool.acquire() as connection:
                    await connection.fetchval("SELECT 1")
        except DATABASE_UNAVAILABLE:
            raise ServiceUnavailable("the database is not answering") from None
        except LOGIN_REFUSED as error:
            # PostgreSQL's message names the role and database; the type is
            # enough to act on, and neither answer nor log quotes a setting.
            log.warning(
                "not ready: the database refused the application's connection (%s); check "
                "MACA_DB_APP_PASSWORD, the database in DATABASE_URL, and that `maca migrate` has run",
                type(error).__name__,
            )
            raise ServiceUnavailable("the database refused the application's connection") from None
        return Health(status="ready")
