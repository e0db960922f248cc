"""A small OTLP/HTTP collector for the tests: it receives what an
OpenTelemetry exporter sends to ``/v1/traces`` (protobuf) and keeps it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import text_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span


class Collector:
    def __init__(self, port: int) -> None:
        self.endpoint = f"http://127.0.0.1:{port}"
        self.bodies: list[bytes] = []
        self.paths: list[str] = []
        self._lock = threading.Lock()

    def requests(self) -> list[ExportTraceServiceRequest]:
        with self._lock:
            bodies = list(self.bodies)
        decoded = []
        for body in bodies:
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            decoded.append(request)
        return decoded

    def text(self) -> str:
        """Everything received, as readable text: every name, attribute,
        event and resource, with the random trace, span and parent ids
        cleared (as raw bytes they spell two-letter words by chance, as
        often as one run in three: "ZJ" was once found in a span id)."""
        readable = []
        for request in self.requests():
            for resource in request.resource_spans:
                for scope in resource.scope_spans:
                    for span in scope.spans:
                        span.ClearField("trace_id")
                        span.ClearField("span_id")
                        span.ClearField("parent_span_id")
                        for link in span.links:
                            link.ClearField("trace_id")
                            link.ClearField("span_id")
            readable.append(text_format.MessageToString(request, as_utf8=True))
        return "\n".join(readable)

    def spans(self) -> list[Span]:
        return [
            span
            for request in self.requests()
            for resource in request.resource_spans
            for scope in resource.scope_spans
            for span in scope.spans
        ]


def attributes(span: Span) -> dict[str, object]:
    values: dict[str, object] = {}
    for attribute in span.attributes:
        value = attribute.value
        values[attribute.key] = getattr(value, value.WhichOneof("value")) if value.WhichOneof("value") else None
    return values


@contextmanager
def otlp_collector() -> Iterator[Collector]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    collector = Collector(server.server_address[1])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with collector._lock:
                collector.paths.append(self.path)
                collector.bodies.append(body)
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield collector
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
