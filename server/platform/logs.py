"""How Maca's log lines look: one JSON object per line in production (for
the platform's log collector), a human line in development.

Both carry the request id (``record.request_id``, from
``server/platform/log_filter.py``), and the JSON lines the trace and span
ids when tracing is on, so a line, a trace and a person's quoted reference
lead to each other.

A JSON line::

    {"time": "2026-12-06T03:04:05.678Z", "level": "error", "logger": "maca.errors",
     "message": "unhandled KeyError in GET /api/audits/… at …", "request_id": "9f…"}

An exception logged with a traceback gives its type and where it was
raised (``file:line`` of the innermost frames), never its message or the
traceback's text: both can quote data (a SQL error quotes values), the
same rule as ``server/platform/problems.py``.

``MACA_LOG_FORMAT`` chooses (``json`` or ``text``; by default ``json``
when ``MACA_ENV=production``). :func:`configure` sets up the process that
runs a command; :func:`uvicorn_log_config` gives ``maca serve``'s workers
the same, uvicorn's own loggers included.
"""

from __future__ import annotations

import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any, Final

import msgspec

from server.settings import Settings

TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def log_format(settings: Settings) -> str:
    if settings.log_format is not None:
        return settings.log_format
    return "json" if settings.env == "production" else "text"


def _where(exc_info: Any) -> str | None:
    if not exc_info or exc_info[2] is None:
        return None
    frames = traceback.extract_tb(exc_info[2])
    return " <- ".join(f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}" for frame in reversed(frames[-5:]))


def _trace_ids() -> dict[str, str]:
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request = getattr(record, "request_id", None)
        if request and request != "-":
            line["request_id"] = request
        line.update(_trace_ids())
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = {"type": record.exc_info[0].__name__, "where": _where(record.exc_info)}
        return msgspec.json.encode(line).decode()


class TextFormatter(logging.Formatter):
    """The development line: time, level, logger, request id, message."""

    def __init__(self, fmt: str | None = None, datefmt: str | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(fmt or TEXT_FORMAT, datefmt, *args, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = "-"
        return super().format(record)


def _formatter_path(settings: Settings) -> str:
    name = "JsonFormatter" if log_format(settings) == "json" else "TextFormatter"
    return f"{__name__}.{name}"


def configure(settings: Settings) -> None:
    """This process's root logger: one handler on stderr in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format(settings) == "json" else TextFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())


def uvicorn_log_config(settings: Settings) -> dict[str, Any]:
    """``logging.config.dictConfig`` for ``maca serve``: uvicorn applies it in
    every worker it starts, so its own lines (start-up, errors, the access
    log) and Maca's go out in the same format, with the request id."""
    level = settings.log_level.upper()
    formatter = {"()": _formatter_path(settings)}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"maca": formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "maca", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"level": level},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"level": level},
        },
    }


__all__ = ["JsonFormatter", "TextFormatter", "configure", "log_format", "uvicorn_log_config"]
