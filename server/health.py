"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

import asyncio

import msgspec
from litestar import Controller, get
from litestar.datastructures import State

from server.problems import DATABASE_UNAVAILABLE, ServiceUnavailable


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
        return Health(status="ready")
