"""The headers every response carries, so that a browser confines Maca's
pages to what they need: scripts, styles and images from Maca itself only,
no framing, no referrer leaking case ids in URLs, no MIME sniffing, and
HTTPS only (HSTS) outside development.

Two parts:

- :class:`SecurityHeaders`, a ``before_send`` hook: it sees every response
  the application sends, including the router's own 404 and 405 answers
  and the redirects the authentication middleware sends itself, which no
  route middleware would see. A header a handler set is left alone.
- :class:`SwaggerPagePolicy`, a middleware on the API documentation page
  only: Litestar's Swagger UI page carries the OpenAPI document in an inline
  ``<script>`` and an inline ``<style>``. Rather than allow inline script
  (``'unsafe-inline'``), the page's policy names exactly those blocks by
  their SHA-256 hashes (CSP Level 2), so nothing else inline can run there.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from typing import Any, Final

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from server.settings import Settings

CSP: Final = "content-security-policy"

# Maca's own pages: no inline script or style anywhere (GOV.UK Frontend
# needs neither), and forms post only back to Maca.
PAGE_POLICY: Final[Mapping[str, str]] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'none'",
}

# Browser features no Maca page uses, switched off for the pages and
# anything they could embed.
PERMISSIONS_POLICY: Final = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)

# Two years, the HSTS preload list's minimum.
HSTS: Final = "max-age=63072000; includeSubDomains"

DOCUMENTATION_PREFIX: Final = "/schema"


def content_security_policy(extra: Mapping[str, str] | None = None) -> str:
    """The page policy, with ``extra`` sources appended to its directives."""
    directives = dict(PAGE_POLICY)
    for name, sources in (extra or {}).items():
        directives[name] = f"{directives.get(name, '')} {sources}".strip()
    return "; ".join(f"{name} {sources}" for name, sources in directives.items())


def baseline_headers(settings: Settings) -> dict[str, str]:
    """Every response's security headers for ``settings``."""
    headers = {
        CSP: content_security_policy(),
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
        "permissions-policy": PERMISSIONS_POLICY,
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
    }
    if settings.env != "development":
        # Development runs on http://127.0.0.1, where HSTS would make the
        # browser insist on https for localhost for two years.
        headers["strict-transport-security"] = HSTS
    return headers


class SecurityHeaders:
    """The ``before_send`` hook that adds :func:`baseline_headers`."""

    def __init__(self, settings: Settings) -> None:
        self.headers = baseline_headers(settings)

    async def __call__(self, message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        for name, value in self.headers.items():
            if name not in headers:
                headers[name] = value


_INLINE = re.compile(rb"<(script|style)(?P<attributes>[^>]*)>(?P<body>.*?)</\1>", re.DOTALL | re.IGNORECASE)


def inline_hashes(page: bytes) -> dict[str, list[str]]:
    """CSP hash sources for the inline ``<script>`` and ``<style>`` blocks of
    ``page`` (scripts with a ``src`` are not inline)."""
    found: dict[str, list[str]] = {"script-src": [], "style-src": []}
    for match in _INLINE.finditer(page):
        if b"src=" in match.group("attributes").lower():
            continue
        digest = base64.b64encode(hashlib.sha256(match.group("body")).digest()).decode()
        kind = match.group(1).lower().decode()
        found[f"{kind}-src"].append(f"'sha256-{digest}'")
    return found


class SwaggerPagePolicy(ASGIMiddleware):
    """Hash-based CSP for the HTML pages under ``/schema`` (Swagger UI)."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if not scope["path"].startswith(DOCUMENTATION_PREFIX):
            await next_app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffered(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if _is_html(message):
                    start = message
                    return
                await send(message)
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            page = b"".join(chunks)
            hashes = inline_hashes(page)
            headers = MutableScopeHeaders.from_message(start)
            headers[CSP] = content_security_policy({name: " ".join(v) for name, v in hashes.items() if v})
            await send(start)
            await send({"type": "http.response.body", "body": page, "more_body": False})

        await next_app(scope, receive, buffered)


def _is_html(message: Mapping[str, Any]) -> bool:
    return any(
        name.lower() == b"content-type" and value.lower().startswith(b"text/html")
        for name, value in message.get("headers", [])
    )
