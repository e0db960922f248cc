"""Identity's parts, ready for ``create_app`` to wire in: route handlers,
the authentication middleware, the global guard, the ``principal``
dependency, what goes on app state, and the lifespan that closes the HTTP
client used for the provider."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from litestar import Litestar
from litestar.di import Provide

from server.auth.claims import ClaimMapping
from server.auth.dev_idp import DevIdpController, DevIssuer
from server.auth.middleware import AuthenticationMiddleware, provide_principal
from server.auth.permissions import authorise
from server.auth.recording import IdentityRecorder
from server.auth.tokens import TokenValidator
from server.auth.web import MeController, SignInController
from server.settings import Settings

log = logging.getLogger("maca.auth")

# How long a recorded principal is reused before the next upsert.
RECORD_AGAIN_AFTER_SECONDS = 300.0


@dataclass
class IdentityParts:
    route_handlers: list[Any]
    middleware: list[Any]
    guards: list[Any]
    dependencies: dict[str, Provide | Callable[..., Any]]
    state: dict[str, Any]
    lifespan: Callable[[Litestar], AbstractAsyncContextManager[None]]
    dev_issuer: DevIssuer | None = field(default=None)


def identity_parts(settings: Settings) -> IdentityParts:
    # Keys are fetched over the issuer's own scheme, never downgraded: an
    # https:// issuer's jwks_uri must be https:// too.
    plain_http = settings.issuer.startswith("http://")
    if plain_http and settings.env == "production":
        log.warning("OIDC_ISSUER is http://: signing keys travel unprotected; use https:// outside a trial")
    validator = TokenValidator(
        issuer=settings.issuer,
        audience=settings.oidc_audience,
        accept_plain_jwt=settings.oidc_accept_plain_jwt,
        allow_http=plain_http,
    )
    dev_issuer = DevIssuer.for_settings(settings) if settings.uses_dev_issuer else None
    # Tests empty every table between tests, which a principal remembered
    # for minutes would not notice; they record on every request instead.
    mapping = ClaimMapping.from_settings(settings)
    recorder = IdentityRecorder(mapping, ttl_seconds=0.0 if settings.env == "test" else RECORD_AGAIN_AFTER_SECONDS)

    @asynccontextmanager
    async def provider_client(_: Litestar) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await validator.aclose()

    handlers: list[Any] = [MeController, SignInController]
    if dev_issuer is not None:
        handlers.append(DevIdpController)
    return IdentityParts(
        route_handlers=handlers,
        middleware=[AuthenticationMiddleware()],
        guards=[authorise],
        dependencies={"principal": Provide(provide_principal)},
        state={
            "token_validator": validator,
            "claim_mapping": mapping,
            "identity_recorder": recorder,
            "dev_issuer": dev_issuer,
        },
        lifespan=provider_client,
        dev_issuer=dev_issuer,
    )
