"""Signing in and out of the web pages: Maca as an OpenID Connect relying
party, and ``GET /api/me``.

``GET /sign-in`` starts the authorization code flow with PKCE (S256, RFC
7636): the state, code verifier and nonce are kept server-side
(``sign_in_requests``), keyed by a short-lived cookie, and the browser goes
to the provider. ``GET /auth/callback`` checks the state, exchanges the code
(with the verifier) for tokens at the provider's token endpoint, validates
the access token exactly as the API does and the ID token's nonce, records
the person, and starts a server-side session (``sessions``) whose random
key is the ``maca_session`` cookie: HttpOnly, SameSite=Lax, Secure outside
development. ``POST /sign-out`` (with the CSRF token) deletes the session.
"""

from __future__ import annotations

import logging
import secrets
import warnings
from typing import Any
from uuid import UUID

# Imported first on purpose: it installs an "always" filter for Authlib's
# warnings, which the "ignore" below must come after to win.
import authlib.deprecate  # noqa: F401
import httpx
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.response import Redirect

from agencies.kinds import agency_kind as agency_kind_named
from server.auth.middleware import CSRF_FIELD, SESSION_COOKIE, principal_for_token
from server.auth.pages import render
from server.auth.permissions import PUBLIC, SIGNED_IN, needs
from server.auth.principal import Principal
from server.auth.tokens import IssuerUnavailable, TokenExpired, TokenRejected
from server.db import sessions
from server.platform import metrics
from server.platform.metrics import SignInRefusal
from server.platform.problems import Problem
from server.platform.transactions import unit_of_work
from server.settings import Settings

with warnings.catch_warnings():
    # Authlib prefers the httpx2 package and warns when it falls back to
    # httpx; httpx is what Maca uses everywhere, on purpose.
    warnings.filterwarnings("ignore", message="The httpx module is deprecated", category=DeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError

log = logging.getLogger("maca.auth")

SIGN_IN_COOKIE = "maca_sign_in"
CALLBACK_PATH = "/auth/callback"
# Where a person lands after signing in when no page asked them to: the
# home page, which sends each person to their own start page (their
# audits, or administration; the account page only for someone with no
# role), never the bare account page (issue 23).
DEFAULT_RETURN = "/"


def secure_cookies(settings: Settings) -> bool:
    return settings.env == "production" or settings.base_url.startswith("https://")


def local_path(candidate: str | None) -> str:
    """``candidate`` if it is a path on this site; otherwise the default
    (never an open redirect: no scheme, host or protocol-relative URL)."""
    if (
        not candidate
        or not candidate.startswith("/")
        or candidate.startswith(("//", "/\\"))
        or len(candidate) > 2000
        or any(ord(c) < 0x20 or c == "\\" for c in candidate)
    ):
        return DEFAULT_RETURN
    return candidate


def oauth_client(settings: Settings) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        token_endpoint_auth_method="client_secret_basic" if settings.oidc_client_secret else "none",
        scope=settings.oidc_scopes,
        redirect_uri=f"{settings.base_url}{CALLBACK_PATH}",
        code_challenge_method="S256",
        timeout=httpx.Timeout(10.0, connect=5.0),
        follow_redirects=False,
    )


class Me(msgspec.Struct, frozen=True, kw_only=True):
    """Who the caller is signed in as."""

    subject: str
    user_id: UUID
    display_name: str | None
    organisation_id: UUID
    organisation_code: str
    organisation_name: str
    agency_kind: str
    partnership_id: UUID
    partnership_code: str
    partnership_name: str
    roles: list[str]
    is_machine_client: bool
    authenticated_by: str  # "bearer" or "session"


class MeController(Controller):
    path = "/api/me"
    tags = ("identity",)

    @get("/", summary="Who you are signed in as", cache=False, opt=needs(SIGNED_IN))
    async def me(self, request: Request[Any, Any, Any], principal: NamedDependency[Principal]) -> Me:
        return Me(
            subject=principal.subject,
            user_id=principal.user_id,
            display_name=principal.display_name,
            organisation_id=principal.organisation_id,
            organisation_code=principal.organisation_code,
            organisation_name=principal.organisation_name,
            agency_kind=principal.agency_kind,
            partnership_id=principal.partnership_id,
            partnership_code=principal.partnership_code,
            partnership_name=principal.partnership_name,
            roles=sorted(principal.roles),
            is_machine_client=principal.is_machine_client,
            authenticated_by=str(request.scope.get("auth") or ""),
        )


def _failed(
    reason: str, status_code: int = 400, refusal: SignInRefusal | None = SignInRefusal.CALLBACK_INVALID
) -> Response[str]:
    """The sign-in failed page, counted under ``refusal`` (``None``: already
    counted where the token was refused)."""
    if refusal is not None:
        metrics.sign_in_refused(refusal)
    response = render("auth/sign_in_failed.html", status_code=status_code, reason=reason)
    response.delete_cookie(SIGN_IN_COOKIE, path=CALLBACK_PATH)
    return response


class SignInController(Controller):
    path = ""
    include_in_schema = False

    @get("/sign-in", cache=False, opt=needs(PUBLIC))
    async def sign_in(self, request: Request[Any, Any, Any], state: State) -> Response[Any]:
        """Start the authorization code flow; ``?next=/path`` is where to
        come back to."""
        settings: Settings = state.settings
        try:
            endpoint = await state.token_validator.endpoint("authorization_endpoint")
        except IssuerUnavailable as error:
            log.warning("cannot start signing in: %s", error)
            return _failed(
                "The sign-in service is not answering. Try again in a minute.", 503, SignInRefusal.ISSUER_UNAVAILABLE
            )
        verifier = secrets.token_urlsafe(64)  # 86 characters of RFC 7636's alphabet
        nonce = secrets.token_urlsafe(24)
        async with oauth_client(settings) as client:
            url, oauth_state = client.create_authorization_url(endpoint, code_verifier=verifier, nonce=nonce)
        pending = sessions.SignInRequest(
            state=oauth_state,
            code_verifier=verifier,
            nonce=nonce,
            return_to=local_path(request.query_params.get("next")),
        )
        async with state.pool.acquire() as connection:
            key = await sessions.start_sign_in(connection, pending)
        response: Response[Any] = Redirect(url, status_code=303)
        response.set_cookie(
            SIGN_IN_COOKIE,
            key,
            path=CALLBACK_PATH,
            max_age=sessions.SIGN_IN_MINUTES * 60,
            httponly=True,
            secure=secure_cookies(settings),
            samesite="lax",
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    @get(CALLBACK_PATH, cache=False, opt=needs(PUBLIC))
    async def callback(self, request: Request[Any, Any, Any], state: State) -> Response[Any]:
        settings: Settings = state.settings
        key = request.cookies.get(SIGN_IN_COOKIE)
        if not key:
            return _failed("This sign-in was started in another browser, or too long ago.")
        async with state.pool.acquire() as connection:
            pending = await sessions.finish_sign_in(connection, key)
        if pending is None:
            return _failed("This sign-in has expired or was already used.")
        if not secrets.compare_digest(request.query_params.get("state", "").encode(), pending.state.encode()):
            return _failed("The answer from the sign-in service does not match the sign-in Maca started.")
        if request.query_params.get("error"):
            return _failed(f"The sign-in service said: {request.query_params['error'][:100]}.")
        code = request.query_params.get("code")
        if not code:
            return _failed("The sign-in service sent no authorization code.")
        try:
            token_endpoint = await state.token_validator.endpoint("token_endpoint")
            async with oauth_client(settings) as client:
                tokens = await client.fetch_token(
                    token_endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=pending.code_verifier,
                    redirect_uri=f"{settings.base_url}{CALLBACK_PATH}",
                )
        except (IssuerUnavailable, OAuthError, httpx.HTTPError, ValueError, KeyError) as error:
            log.warning("the token endpoint refused or failed: %s", type(error).__name__)
            return _failed(
                "The sign-in service did not give Maca a token. Try again.", 502, SignInRefusal.PROVIDER_FAILED
            )
        access_token = tokens.get("access_token")
        id_token = tokens.get("id_token")
        if not isinstance(access_token, str) or not isinstance(id_token, str):
            return _failed(
                "The sign-in service did not give Maca an access token and an ID token.",
                502,
                SignInRefusal.PROVIDER_FAILED,
            )
        try:
            await state.token_validator.validate_id_token(
                id_token, client_id=settings.oidc_client_id, nonce=pending.nonce
            )
            principal = await principal_for_token(state, access_token)
        except TokenRejected as rejected:  # the ID token (the access token's refusals are counted as it is checked)
            refusal = SignInRefusal.TOKEN_EXPIRED if isinstance(rejected, TokenExpired) else SignInRefusal.TOKEN_INVALID
            return _failed(f"Maca cannot accept this sign-in: {rejected}.", 401, refusal)
        except Problem as problem:
            return _failed(f"Maca cannot accept this sign-in: {problem.detail}.", problem.status, None)
        # The session is opened in a transaction sealed for the person it is
        # for: the database lets maca_app open no one else's (migration 0011).
        async with unit_of_work(state, principal) as connection:
            # A new session key on every sign-in (no session fixation).
            previous = request.cookies.get(SESSION_COOKIE)
            if previous:
                await sessions.end(connection, previous)
            session_key, _csrf = await sessions.create(connection, principal.user_id, settings.session_hours)
        response: Response[Any] = Redirect(pending.return_to, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            session_key,
            path="/",
            max_age=int(settings.session_hours * 3600),
            httponly=True,
            secure=secure_cookies(settings),
            samesite="lax",
        )
        response.delete_cookie(SIGN_IN_COOKIE, path=CALLBACK_PATH)
        response.headers["Cache-Control"] = "no-store"
        log.info("signed in: user %s of organisation %s", principal.user_id, principal.organisation_code)
        return response

    @post("/sign-out", status_code=303, opt=needs(SIGNED_IN))
    async def sign_out(self, request: Request[Any, Any, Any], state: State) -> Response[Any]:
        """End the browser session (the CSRF token was checked on the way in)."""
        key = request.cookies.get(SESSION_COOKIE)
        if key:
            async with state.pool.acquire() as connection:
                await sessions.end(connection, key)
        response: Response[Any] = Redirect("/signed-out", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @get("/signed-out", cache=False, opt=needs(PUBLIC))
    async def signed_out(self) -> Response[str]:
        return render("auth/signed_out.html")

    @get("/account", cache=False, opt=needs(SIGNED_IN))
    async def account(self, request: Request[Any, Any, Any], principal: NamedDependency[Principal]) -> Response[str]:
        try:
            kind = agency_kind_named(principal.agency_kind).name
        except LookupError:
            kind = principal.agency_kind
        return render(
            "auth/account.html",
            principal=principal,
            agency_kind=kind,
            roles=", ".join(sorted(principal.roles)),
            csrf_token=request.scope.get("state", {}).get(CSRF_FIELD, ""),
        )
