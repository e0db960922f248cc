"""The metrics endpoint, as an operator's Prometheus sees it.

After the whole audit journey against a real ``maca serve`` with two
workers, ``/metrics`` (a port of its own) shows every route the journey
used by its template, with its statuses and latencies; the pool; sign-in
refusals by reason; and no word a person wrote, no case identifier, no id
of an audit or organisation (a label is a template, never a path)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from server.settings import load_settings
from tests.deploy.processes import free_port
from tests.ops.journey import SECRETS, agencies_contribute, review_and_close
from tests.security.served import served_maca

pytestmark = pytest.mark.slow

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, by name and sorted labels."""
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def requests_of(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], route: str, method: str) -> float:
    return sum(
        value
        for (name, labels), value in found.items()
        if name == "maca_http_requests_total" and dict(labels)["route"] == route and dict(labels)["method"] == method
    )


def test_after_a_journey_the_metrics_show_the_routes_served_and_nothing_personal(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    with served_maca(
        database_url, tmp_path / "data", tmp_path / "maca.log", MACA_WORKERS="2", MACA_METRICS_PORT=str(port)
    ) as served:
        audit = agencies_contribute(served)
        review_and_close(served, audit)
        # Every worker counts: 40 health checks, whichever worker answered each.
        for _ in range(40):
            assert served.http.get("/healthz").status_code == 200
        # The endpoint is not a route of the application people reach.
        assert served.http.get("/metrics").status_code == 404
        exposition = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text

    found = samples(exposition)
    contribution = "/api/audits/{audit_id}/contributions/{organisation}"
    assert requests_of(found, "/healthz", "GET") == 40
    assert requests_of(found, "/api/audits/{audit_id}/status", "POST") == 3  # open, in review, closed
    assert requests_of(found, "/api/audits", "POST") == 1
    assert requests_of(found, contribution, "PUT") == 7  # each agency: refused twice, saved; police again
    assert requests_of(found, contribution + "/submit", "POST") == 3
    assert requests_of(found, "/api/audits/{audit_id}/judgement/sections/{section_id}", "PUT") == 1
    assert found[("maca_http_requests_total", (("method", "PUT"), ("route", contribution), ("status", "422")))] == 2
    assert found[("maca_http_requests_total", (("method", "PUT"), ("route", contribution), ("status", "412")))] == 2
    assert found[("maca_http_requests_total", (("method", "GET"), ("route", "unmatched"), ("status", "404")))] >= 1
    latency = (
        "maca_http_request_duration_seconds_count",
        (("method", "POST"), ("route", "/api/audits"), ("status", "201")),
    )
    assert found[latency] == 1
    assert found[("maca_sign_in_refusals_total", (("reason", "token_invalid"),))] >= 1
    assert found[("maca_sign_in_refusals_total", (("reason", "rate_limited"),))] == 0
    # Two workers' pools, each allowed MACA_DB_POOL_MAX connections.
    assert found[("maca_db_pool_max_connections", ())] == 2 * load_settings({}).db_pool_max
    assert ("maca_db_pool_connections", (("state", "in_use"),)) in found
    assert ("maca_db_pool_waiting_requests", ()) in found
    assert found[("maca_metrics_database_up", ())] == 1
    assert ("maca_open_audits_with_immediate_concerns", ()) in found

    # Names follow Prometheus' conventions: maca_, snake case, counters _total, seconds.
    for family in text_string_to_metric_families(exposition):
        assert re.fullmatch(r"maca_[a-z0-9_]+", family.name), family.name
        if family.type == "histogram":
            assert family.name.endswith("_seconds"), family.name
    assert "# TYPE maca_http_requests_total counter" in exposition

    leaked = {what: word for what, word in SECRETS.items() if word in exposition}
    assert leaked == {}
    assert audit["id"] not in exposition
    assert UUID.search(exposition) is None, UUID.search(exposition)
