"""OpenTelemetry traces: a span for each request (the ASGI instrumentation)
and for each database statement (the asyncpg instrumentation), sent over
OTLP/HTTP to the collector ``OTEL_EXPORTER_OTLP_ENDPOINT`` names. Off when
it is unset: nothing is instrumented and nothing is sent.

Spans carry route templates and ids, never personal data. Three layers make
sure of it:

1. A request span is named by its method alone until routing is done, then
   ``GET /api/audits/{audit_id}`` (``server/platform/telemetry.py``
   renames it and adds ``http.route`` and the path's ids as ``maca.*``).
2. Statements' parameters are never captured (the asyncpg
   instrumentation's default, kept): Maca's SQL is parameterised, so a
   statement's text holds no value a person wrote.
3. :class:`OnlyIdsExporter` sends each span with only the attributes on
   :data:`KEPT_ATTRIBUTES` (and ``maca.*``): the URL, its query (which can
   hold an OAuth code or a ``next`` address), the client's address, the
   user agent, and an exception's message and stack (a PostgreSQL error
   quotes values) are dropped before anything leaves the process.

The SDK reads its other standard variables itself (``OTEL_EXPORTER_OTLP_HEADERS``,
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, ``OTEL_TRACES_SAMPLER``,
``OTEL_BSP_SCHEDULE_DELAY`` …).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from server.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
    from opentelemetry.util.types import AttributeValue

log = logging.getLogger("maca.tracing")

# What a span may carry: how the request or statement went, never what it was about.
KEPT_ATTRIBUTES: Final = frozenset(
    {
        # HTTP (old and new semantic conventions)
        "http.method",
        "http.request.method",
        "http.route",
        "http.status_code",
        "http.response.status_code",
        "http.scheme",
        "url.scheme",
        "http.flavor",
        "network.protocol.version",
        "error.type",
        # The database: which one, and the statement's text (parameters never)
        "db.system",
        "db.system.name",
        "db.name",
        "db.namespace",
        "db.user",
        "db.statement",
        "db.query.text",
        "net.peer.name",
        "net.peer.port",
        "server.address",
        "server.port",
        "net.transport",
        "network.transport",
    }
)
KEPT_PREFIXES: Final = ("maca.",)
KEPT_EVENT_ATTRIBUTES: Final = frozenset({"exception.type", "exception.escaped"})


def _kept(attributes: Any) -> dict[str, AttributeValue]:
    return {
        key: value
        for key, value in (attributes or {}).items()
        if key in KEPT_ATTRIBUTES or key.startswith(KEPT_PREFIXES)
    }


def only_ids(span: ReadableSpan) -> ReadableSpan:
    """``span`` with nothing but what :data:`KEPT_ATTRIBUTES` allows."""
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.trace import Status

    events = [
        Event(
            event.name,
            attributes={k: v for k, v in (event.attributes or {}).items() if k in KEPT_EVENT_ATTRIBUTES},
            timestamp=event.timestamp,
        )
        for event in span.events
    ]
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=_kept(span.attributes),
        events=events,
        links=(),
        kind=span.kind,
        # The status's description is an exception's text: the code is enough.
        status=Status(span.status.status_code),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _only_ids_exporter(inner: SpanExporter) -> SpanExporter:
    from opentelemetry.sdk.trace.export import SpanExporter

    class OnlyIdsExporter(SpanExporter):
        """Sends through ``inner`` each span reduced by :func:`only_ids`."""

        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            return inner.export([only_ids(span) for span in spans])

        def shutdown(self) -> None:
            inner.shutdown()

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return inner.force_flush(timeout_millis)

    return OnlyIdsExporter()


_provider: TracerProvider | None = None


def provider(settings: Settings, version: str) -> TracerProvider | None:
    """This process's tracer provider, set up once; ``None`` when tracing is off."""
    global _provider
    if not settings.tracing:
        return None
    if _provider is not None:
        return _provider
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": settings.otel_service_name, "service.version": version})
    created = TracerProvider(resource=resource)
    created.add_span_processor(BatchSpanProcessor(_only_ids_exporter(OTLPSpanExporter())))
    # Parameters are not captured (the default, said out loud).
    instrumentor = AsyncPGInstrumentor(capture_parameters=False)  # type: ignore[no-untyped-call]
    instrumentor.instrument(tracer_provider=created)
    _provider = created
    log.info("tracing: spans go to the OTLP collector at OTEL_EXPORTER_OTLP_ENDPOINT")
    return created


def _method_only(scope: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A request span's first name: its method, never its path (renamed by
    route template once routed)."""
    method = str(scope.get("method", "HTTP"))
    return method, {}


def instrument(app: Any, settings: Settings, version: str) -> Any:
    """``app`` (an ASGI callable) inside the OpenTelemetry ASGI middleware,
    when tracing is on; ``app`` itself otherwise."""
    created = provider(settings, version)
    if created is None:
        return app
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    return OpenTelemetryMiddleware(
        app,
        default_span_details=_method_only,
        tracer_provider=created,
        # One span per request, not one per chunk sent or received.
        exclude_spans=["receive", "send"],
    )


def name_request_span(method: str, route: str, ids: dict[str, str]) -> None:
    """Name the current request span by its route template, with the path's ids."""
    from opentelemetry import trace

    span = trace.get_current_span()
    if not span.is_recording():
        return
    span.update_name(f"{method} {route}")
    span.set_attribute("http.route", route)
    for name, value in ids.items():
        span.set_attribute(f"maca.{name}", value)


def flush() -> None:
    """Send what is waiting (a worker stopping)."""
    if _provider is not None:
        _provider.force_flush(5000)


__all__ = ["KEPT_ATTRIBUTES", "flush", "instrument", "name_request_span", "only_ids", "provider"]
