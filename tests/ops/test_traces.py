"""Traces, as a collector receives them: after the audit journey against a
real ``maca serve`` exporting to a local OTLP collector, the spans name
routes by template and carry ids, and nothing a person wrote, no case
identifier, no URL query, client address or user agent, no exception text."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.ops.collector import attributes, otlp_collector
from tests.ops.journey import SECRETS, agencies_contribute, review_and_close
from tests.security.served import served_maca

pytestmark = pytest.mark.slow

DROPPED = (
    "url.query",
    "url.full",
    "http.url",
    "http.target",
    "url.path",
    "client.address",
    "net.peer.ip",
    "http.user_agent",
    "user_agent.original",
    "http.client_ip",
    "db.statement.parameters",
)


def test_traces_of_a_journey_carry_route_templates_and_ids_and_nothing_personal(
    database_url: str, tmp_path: Path
) -> None:
    with otlp_collector() as collector:
        environment = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
        with served_maca(database_url, tmp_path / "data", tmp_path / "maca.log", **environment) as served:
            audit = agencies_contribute(served)
            review_and_close(served, audit)
            served.http.get("/sign-in?next=/audits/C-SENTINEL-4471", headers={"Accept": "text/html"})
        # maca serve flushes its spans as it stops; give the collector a moment.
        deadline = time.monotonic() + 10
        while not collector.spans() and time.monotonic() < deadline:
            time.sleep(0.1)
        spans = collector.spans()
        received = collector.text()

    assert set(collector.paths) == {"/v1/traces"}
    by_name = {span.name for span in spans}
    assert "POST /api/audits" in by_name
    assert "PUT /api/audits/{audit_id}/contributions/{organisation}" in by_name
    assert "PUT /api/audits/{audit_id}/judgement/sections/{section_id}" in by_name
    assert "GET /sign-in" in by_name
    server_spans = [span for span in spans if "http.route" in attributes(span)]
    assert server_spans, "no request span has its route template"
    assert any(attributes(span).get("maca.audit_id") == audit["id"] for span in server_spans)
    statements = [attributes(span) for span in spans if attributes(span).get("db.system") == "postgresql"]
    assert statements, "no database statement was traced"
    assert any("contributions" in str(values.get("db.statement", "")) for values in statements)

    for span in spans:
        values = attributes(span)
        assert not set(values) & set(DROPPED), (span.name, set(values) & set(DROPPED))
        for event in span.events:
            assert {a.key for a in event.attributes} <= {"exception.type", "exception.escaped"}
        assert span.status.message == ""
    assert "GET /sign-in" in received and "maca.audit_id" in received  # the text is what was sent
    leaked = {what: word for what, word in SECRETS.items() if word in received}
    assert leaked == {}
    assert "C-SENTINEL" not in received and "next=" not in received
