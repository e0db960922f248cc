"""The request body arrives whole, in bounded time, before anything else of
the request runs.

A red-team pass stalled every user of Maca from one auditor's account: ten
``POST …/submit`` requests with ``Idempotency-Key``, ``If-Match`` and
``Content-Length: 10`` and no body, from ten sockets. Each opened its
transaction and only then read the body (for the idempotency key's
digest), so all ten pooled connections sat "idle in transaction" and every
other person's request waited for a connection until the sockets closed.

So the body is read here, first, on every route: at most
``MACA_MAX_BODY_BYTES`` (413 past it, before a byte is read when
``Content-Length`` says so) and within ``MACA_BODY_TIMEOUT_SECONDS`` of the
first read (408 and the connection closed after it). Only then does the
request go on — to sign-in checks, the rate limits, the handler and its
transaction — with the body handed on as one message, so nothing after
this waits on the client. A slow client costs a waiting coroutine and at
most the body limit in memory, never a database connection.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

from litestar import Request
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from server.platform.problems import PayloadTooLarge, RequestTimeout

__all__ = ["BodyFirst", "request_body"]

# Where the body read first is kept on the request's scope.
_BODY: Final = "maca.body"


def _announced(scope: Scope) -> tuple[int | None, bool]:
    """(Content-Length, whether the body is chunked) from the headers."""
    length: int | None = None
    chunked = False
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                length = None
        elif name == b"transfer-encoding":
            chunked = True
    return length, chunked


async def _read_whole(receive: Receive, limit: int, seconds: float) -> bytes | None:
    """The body, or ``None`` if the client went away before sending it."""
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(seconds):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                chunk = message.get("body", b"")
                assert isinstance(chunk, bytes)
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)
    except TimeoutError:
        raise RequestTimeout(
            f"the request body did not arrive within {seconds:g} seconds; send it again",
            headers={"Connection": "close"},
        ) from None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` as one message, then whatever the
    client does next (its disconnection, which streaming answers watch for)."""
    given = False

    async def replayed() -> ReceiveMessage:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


class BodyFirst(ASGIMiddleware):
    """Reads each request's body before the rest of the application runs
    (the outermost middleware of ``create_app``)."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        settings = scope["litestar_app"].state.settings
        length, chunked = _announced(scope)
        if not chunked and not length:
            scope.setdefault("state", {})[_BODY] = b""
            await next_app(scope, receive, send)
            return
        if length is not None and length > settings.max_body_bytes:
            raise PayloadTooLarge(f"the request body is larger than {settings.max_body_bytes} bytes")
        body = await _read_whole(receive, settings.max_body_bytes, settings.body_timeout_seconds)
        if body is None:
            return  # nobody is left to answer
        scope.setdefault("state", {})[_BODY] = body
        await next_app(scope, _replay(body, receive), send)


def request_body(request: Request[Any, Any, Any]) -> bytes:
    """The body :class:`BodyFirst` read before the request went on: at hand
    at once, so code inside a transaction never waits on the client."""
    state = request.scope.get("state", {})
    if _BODY not in state:
        raise RuntimeError("the request body was not read first: create_app's BodyFirst middleware is missing")
    body: bytes = state[_BODY]
    return body
