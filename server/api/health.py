"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import msgspec
from litestar import Controller, get
from litestar.datastructures import State

from server.auth.permissions import PUBLIC, needs
from server.auth.tokens import IssuerUnavailable
from server.platform.problems import DATABASE_UNAVAILABLE, LOGIN_REFUSED, ServiceUnavailable

log = logging.getLogger("maca.health")


class Health(msgspec.Struct, frozen=True):
    status: str


class HealthController(Controller):
    path = ""
    include_in_schema = True
    tags = ("health",)

    @get("/healthz", summary="The process is alive", cache=False, opt=needs(PUBLIC))
    async def healthz(self) -> Health:
        return Health(status="ok")

    @get("/readyz", summary="The database and the identity provider answer", cache=False, opt=needs(PUBLIC))
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
        if state.settings.oidc_issuer is not None:
            # Without the provider's keys no token can be checked. Its
            # discovery document is kept for an hour once fetched, so this
            # asks the provider only until it first answers, and a short
            # outage later does not take every replica out of service.
            try:
                await state.token_validator.metadata()
            except IssuerUnavailable as error:
                log.warning("not ready: the identity provider cannot be reached: %s", error)
                raise ServiceUnavailable(f"the identity provider cannot be reached: {error}") from None
        return Health(status="ready")


route_handlers: list[Any] = [HealthController]
