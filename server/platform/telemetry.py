"""What Maca notes about every request it answers: an id, a count, a time.

:class:`RequestTelemetry` wraps the whole application (outside its
exception handling and routing, so the router's own 404s and 405s are seen
too) and, for each HTTP request:

- gives it an **id**: 32 hex digits, or the ``X-Request-Id`` a proxy in
  front already gave it if that is 16 to 64 hex digits or a UUID (anything
  else a client sends is ignored: an id is never a place for words). The id
  is in every log line written while answering (``record.request_id``), in
  the ``X-Request-Id`` response header, and on every error page, so a
  person can quote it;
- counts it and times it, by **route template** (``/api/audits/{audit_id}``,
  or ``unmatched`` when no route matched: a path is whatever the client
  typed), method and status (``server/platform/metrics.py``);
- names the request's trace span by the same template, with the ids of its
  path (``server/platform/tracing.py``).
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Final
from uuid import UUID

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from server.platform import metrics, tracing
from server.platform.log_filter import request_id

HEADER: Final = "x-request-id"
_ACCEPTED: Final = re.compile(
    r"[0-9a-fA-F]{16,64}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def new_request_id() -> str:
    return secrets.token_hex(16)


def _given_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == HEADER.encode():
            candidate = value.decode("latin-1").strip()
            return candidate.lower() if _ACCEPTED.fullmatch(candidate) else None
    return None


def _route(scope: Scope) -> str:
    """The matched route's template (Litestar's, without its converters:
    ``/api/audits/{audit_id}``), or ``unmatched``."""
    return str(scope["path_template"]) if "route_handler" in scope else metrics.UNMATCHED_ROUTE


def _path_ids(scope: Scope) -> dict[str, str]:
    """The path's parameters that are ids (UUIDs, numbers): what a span may carry."""
    ids: dict[str, str] = {}
    if "route_handler" not in scope:
        return ids
    for name, value in (scope.get("path_params") or {}).items():
        if isinstance(value, UUID | int) and not isinstance(value, bool):
            ids[str(name)] = str(value)
    return ids


class RequestTelemetry:
    """The ASGI wrapper described above."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        rid = _given_id(scope) or new_request_id()
        token = request_id.set(rid)
        scope.setdefault("state", {})["request_id"] = rid
        header = (HEADER.encode(), rid.encode())
        status = 500  # unless an answer starts
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                # Now, not after the answer: the request's span ends with its last chunk.
                tracing.name_request_span(method, _route(scope), _path_ids(scope))
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        method = str(scope.get("method", ""))
        metrics.request_started()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            metrics.request_ended()
            metrics.observe_request(_route(scope), method, status, time.perf_counter() - started)
            request_id.reset(token)


__all__ = ["HEADER", "RequestTelemetry", "new_request_id"]
