"""Sign-in attempts, limited per client address.

Signing in is where guessing happens (codes, personas, replayed callbacks),
and each attempt writes rows and calls the identity provider, so the routes
that start or finish a sign-in are counted per client address, in a window
that opens with the first attempt (so a burst is never split in two by a
clock boundary). Past the limit the answer is ``429 Too Many Requests`` with
``Retry-After`` (RFC 6585 §4) until the window ends.

The counts live in PostgreSQL (``sign_in_attempts``, migration 0007), one
upsert per attempt, so every Maca process and replica shares them: a limit
kept in one process's memory would multiply by the number of processes.
Behind a proxy, the address is the proxy's unless the server is told to
trust forwarded headers (uvicorn ``--forwarded-allow-ips``).
"""

from __future__ import annotations

import hashlib
import math
from typing import Any, Final

import asyncpg
import msgspec
from litestar import Request
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from server.auth.pages import render
from server.platform import metrics
from server.platform.problems import Problem


class Limit(msgspec.Struct, frozen=True, kw_only=True):
    bucket: str
    attempts: int  # allowed per window
    window_seconds: int


SIGN_IN: Final = Limit(bucket="sign-in", attempts=30, window_seconds=60)
TOKEN: Final = Limit(bucket="token", attempts=30, window_seconds=60)
# Starting a sign-in stores its state; more generous, as every page visit
# without a session is sent here.
START: Final = Limit(bucket="sign-in-start", attempts=60, window_seconds=60)

# (method, path) → the limit that counts it.
LIMITED_ROUTES: Final[dict[tuple[str, str], Limit]] = {
    ("GET", "/sign-in"): START,
    ("GET", "/auth/callback"): SIGN_IN,
    ("POST", "/dev-idp/authorize"): SIGN_IN,
    ("POST", "/dev-idp/token"): TOKEN,
}


class TooManyAttempts(Problem):
    status = 429
    title = "Too many sign-in attempts"


def client_hash(scope: Scope) -> bytes:
    client = scope.get("client")
    address = client[0] if client else "unknown"
    return hashlib.sha256(str(address).encode()).digest()


async def count_attempt(connection: asyncpg.Connection[Any], limit: Limit, client: bytes) -> tuple[int, float]:
    """Count one attempt; the attempts so far in this window and the seconds
    until it ends."""
    row = await connection.fetchrow(
        """
        WITH open_window AS (
            SELECT window_start FROM sign_in_attempts
            WHERE bucket = $1 AND client_hash = $2 AND window_start > now() - make_interval(secs => $3)
            ORDER BY window_start DESC
            LIMIT 1
        )
        INSERT INTO sign_in_attempts AS seen (bucket, client_hash, window_start, attempts)
        VALUES ($1, $2, coalesce((SELECT window_start FROM open_window), now()), 1)
        ON CONFLICT (bucket, client_hash, window_start) DO UPDATE SET attempts = seen.attempts + 1
        RETURNING attempts,
                  extract(epoch FROM window_start + make_interval(secs => $3) - now())::float8 AS remaining
        """,
        limit.bucket,
        client,
        limit.window_seconds,
    )
    assert row is not None
    if row["attempts"] == 1:
        # A new window: forget windows long past while here.
        await connection.execute("DELETE FROM sign_in_attempts WHERE window_start < now() - interval '1 hour'")
    return int(row["attempts"]), float(row["remaining"])


class SignInRateLimit(ASGIMiddleware):
    """Refuses sign-in attempts past :data:`LIMITED_ROUTES`' limits."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        limit = LIMITED_ROUTES.get((str(scope.get("method", "")), scope["path"]))
        if limit is not None:
            async with scope["litestar_app"].state.pool.acquire() as connection:
                attempts, remaining = await count_attempt(connection, limit, client_hash(scope))
            if attempts > limit.attempts:
                metrics.sign_in_refused(metrics.SignInRefusal.RATE_LIMITED)
                wait = max(1, math.ceil(remaining))
                detail = f"too many sign-in attempts from this address; try again in {wait} seconds"
                headers = {"Retry-After": str(wait)}
                request: Request[Any, Any, Any] = Request(scope, receive, send)
                if "text/html" not in request.headers.get("accept", ""):
                    raise TooManyAttempts(detail, headers=headers)
                # A person at the sign-in pages gets a page, not JSON.
                page = render(
                    "auth/sign_in_failed.html",
                    status_code=429,
                    headers=headers,
                    reason=f"There have been too many sign-in attempts from here. Try again in {wait} seconds.",
                )
                await page.to_asgi_response(None, request)(scope, receive, send)
                return
        await next_app(scope, receive, send)
