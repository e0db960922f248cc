"""Who is asking: the authentication middleware, and the ``principal``
dependency route handlers declare.

For every route whose handler is not declared public
(``server/auth/permissions.py``), the middleware reads the credentials and
puts the :class:`Principal` on the request (``request.user``):

- ``Authorization: Bearer <JWT>`` — an access token from the OpenID
  provider, validated (``server/auth/tokens.py``), mapped through the claim
  mapping and recorded on first sight. A bad token is answered at once:
  401, ``WWW-Authenticate: Bearer error="invalid_token",
  error_description="…"`` (RFC 6750 §3) and a problem document saying what
  was wrong.
- the ``maca_session`` cookie — a browser session from signing in
  (``server/auth/web.py``). State-changing requests it authenticates
  (POST, PUT, PATCH, DELETE) must carry the session's CSRF token, in the
  ``csrf_token`` form field or the ``X-CSRF-Token`` header; bearer-token
  requests are exempt (a browser never adds them by itself).

No credentials: the request goes on with no principal and the global guard
answers 401 (``WWW-Authenticate: Bearer realm="maca"``); a browser asking
for a page is sent to sign in instead.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any
from urllib.parse import quote

from litestar import Request
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from server.auth.claims import ClaimsRejected, identity_from_claims
from server.auth.permissions import PUBLIC, access_for_scope
from server.auth.principal import Principal
from server.auth.recording import principal_of
from server.auth.tokens import IssuerUnavailable, TokenExpired, TokenRejected
from server.db import sessions
from server.platform import metrics
from server.platform.metrics import SignInRefusal
from server.platform.problems import Forbidden, ServiceUnavailable, Unauthorized

log = logging.getLogger("maca.auth")

SESSION_COOKIE = "maca_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _quoted(text: str) -> str:
    """Only the characters RFC 6750 §3 allows in error_description."""
    return "".join(c if 0x20 <= ord(c) <= 0x7E and c not in '"\\' else "'" if c == '"' else "?" for c in text)


def invalid_token(description: str) -> Unauthorized:
    """RFC 6750 §3.1 ``invalid_token``, with the reason in the header and body."""
    challenge = f'Bearer realm="maca", error="invalid_token", error_description="{_quoted(description)}"'
    return Unauthorized(description, headers={"WWW-Authenticate": challenge})


async def principal_for_token(state: State, token: str) -> Principal:
    """The principal for a bearer token; raises the 401 to answer otherwise."""
    try:
        claims = await state.token_validator.validate(token)
        identity = identity_from_claims(claims, state.claim_mapping)
        principal: Principal = await state.identity_recorder.principal(state.pool, identity)
    except (TokenRejected, ClaimsRejected) as rejected:
        metrics.sign_in_refused(
            SignInRefusal.TOKEN_EXPIRED
            if isinstance(rejected, TokenExpired)
            else SignInRefusal.CLAIMS_INVALID
            if isinstance(rejected, ClaimsRejected)
            else SignInRefusal.TOKEN_INVALID
        )
        raise invalid_token(str(rejected)) from None
    except IssuerUnavailable as error:
        metrics.sign_in_refused(SignInRefusal.ISSUER_UNAVAILABLE)
        log.warning("cannot check a token: %s", error)
        raise ServiceUnavailable("the identity provider is not answering; try again shortly") from None
    return principal


def _is_page_visit(scope: Scope, request: Request[Any, Any, Any]) -> bool:
    """A browser navigating to a page (not a script calling the API)."""
    return (
        scope.get("method") == "GET"
        and not scope["path"].startswith("/api/")
        and "text/html" in request.headers.get("accept", "")
    )


async def _check_csrf(request: Request[Any, Any, Any], expected: str) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        # Litestar keeps the body it reads here for the handler.
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not secrets.compare_digest(sent.encode(), expected.encode()):
        raise Forbidden("the form is out of date or did not come from Maca; reload the page and try again")


class AuthenticationMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        access = access_for_scope(scope)
        if access is None or access == PUBLIC:
            # Public routes read no credentials; undeclared ones the guard refuses.
            await next_app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = Request(scope, receive, send)
        state = request.app.state
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() == "bearer":
            if not token.strip():
                raise invalid_token("the Authorization header has no token")
            scope["user"] = await principal_for_token(state, token.strip())
            scope["auth"] = "bearer"
            await next_app(scope, receive, send)
            return
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            async with state.pool.acquire() as connection:
                session = await sessions.find(connection, cookie)
            if session is not None:
                if scope.get("method") not in SAFE_METHODS:
                    await _check_csrf(request, session.csrf_token)
                scope["user"] = principal_of(session.user)
                scope["auth"] = "session"
                scope.setdefault("state", {})[CSRF_FIELD] = session.csrf_token
                await next_app(scope, receive, send)
                return
        if _is_page_visit(scope, request):
            here = scope["path"] + (f"?{scope['query_string'].decode('latin-1')}" if scope.get("query_string") else "")
            await _redirect(send, f"/sign-in?next={quote(here, safe='')}")
            return
        await next_app(scope, receive, send)


async def _redirect(send: Send, location: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [(b"location", location.encode("latin-1")), (b"content-length", b"0")],
        }
    )
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """The ``principal`` dependency: who is asking (the guard has already
    refused anyone unauthenticated on a route that needs a principal)."""
    user = request.scope.get("user")
    if not isinstance(user, Principal):
        raise Unauthorized("sign in first", headers={"WWW-Authenticate": 'Bearer realm="maca"'})
    return user
