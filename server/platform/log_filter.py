"""A backstop against credentials in the log.

Maca's own log lines name records by id and never quote what people wrote
(tests/security/test_logs.py checks that over the whole audit journey). This
catches what a library or a careless new line might still print: access and
ID tokens (JWTs), ``Authorization`` header values, session cookies, CSRF
tokens, OAuth codes and PKCE verifiers, and e-mail addresses. It is a
backstop, not the guarantee: free text cannot be recognised by pattern, so
the rule stays "log ids, never content".

Installed as the process's log record factory, so it sees every record of
every logger, whatever handlers are configured later (uvicorn's included).
The same factory gives every record the id of the request it was logged in
(``record.request_id``, ``"-"`` outside a request): the id each response
carries in ``X-Request-Id`` and each error page shows, so a person can quote
it and an operator find the lines (``server/platform/telemetry.py`` sets it).
"""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar
from typing import Any, Final

REDACTED: Final = "[redacted]"
NO_REQUEST: Final = "-"

# The id of the request being answered in this task (or none).
request_id: ContextVar[str | None] = ContextVar("maca_request_id", default=None)


def current_request_id() -> str | None:
    return request_id.get()


_PATTERNS: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    # A JWT: three base64url parts, the first a JSON header ("eyJ" = '{"').
    (re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), REDACTED),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {REDACTED}"),
    (
        re.compile(
            r"(?i)\b(maca_session|maca_sign_in|csrf_token|code_verifier|code|state|nonce|access_token|id_token)"
            r"=[^\s&;,'\"]+"
        ),
        rf"\1={REDACTED}",
    ),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+"), REDACTED),
)


def scrub(text: str) -> str:
    """``text`` with every credential-shaped part replaced."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


_installed = False


def install() -> None:
    """Scrub every log record from now on (idempotent)."""
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def scrubbed_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        record.request_id = request_id.get() or NO_REQUEST
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed format: leave it to the handler to report
            return record
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        return record

    logging.setLogRecordFactory(scrubbed_record)
    _installed = True
