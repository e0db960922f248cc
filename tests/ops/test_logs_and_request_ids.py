"""Log lines an operator's collector can read, and an id a person can quote.

In production shape (``MACA_LOG_FORMAT=json``) every line ``maca serve``
writes is one JSON object; each line written while answering a request
carries that request's id, which the response gives in ``X-Request-Id``
and an error page shows. An id a proxy in front already gave is kept; a
client's words in its place are not."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import httpx
import pytest

from tests.deploy.processes import maca_environment, maca_server

pytestmark = pytest.mark.slow


def test_json_log_lines_carry_the_request_id_the_response_and_error_page_show(
    database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "maca.log"
    environment = maca_environment(database_url, tmp_path / "data", MACA_LOG_FORMAT="json", MACA_LOG_LEVEL="info")
    with maca_server(environment, log) as base_url:
        page = httpx.get(f"{base_url}/no-such-page", headers={"Accept": "text/html"})
        problem = httpx.get(f"{base_url}/api/audits", headers={"Authorization": "Bearer not-a-token"})
        proxied = httpx.get(f"{base_url}/healthz", headers={"X-Request-Id": "0123456789abcdef0123456789abcdef"})
        worded = httpx.get(f"{base_url}/healthz", headers={"X-Request-Id": "child-AB-case-C-1001-x"})
    output = log.read_text()

    assert page.status_code == 404
    page_id = page.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", page_id)
    assert f"give them this reference: {page_id}" in page.text
    assert problem.status_code == 401 and re.fullmatch(r"[0-9a-f]{32}", problem.headers["x-request-id"])
    assert proxied.headers["x-request-id"] == "0123456789abcdef0123456789abcdef"
    assert re.fullmatch(r"[0-9a-f]{32}", worded.headers["x-request-id"])

    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert lines, "maca serve wrote nothing"
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    requests = {line.get("request_id"): line for line in lines if line["logger"] == "uvicorn.access"}
    assert "/no-such-page" in requests[page_id]["message"]
    assert "0123456789abcdef0123456789abcdef" in requests
    assert "child-AB-case-C-1001-x" not in output
    assert all(line["level"] in {"debug", "info", "warning", "error", "critical"} for line in lines)


def test_a_json_line_names_an_exception_by_type_and_place_never_by_its_message() -> None:
    from server.platform.logs import JsonFormatter

    try:
        raise ValueError("duplicate key value (case_identifier)=(C-SENTINEL-4471)")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "maca.errors", logging.ERROR, __file__, 1, "unhandled %s", ("ValueError",), sys.exc_info()
        )
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "unhandled ValueError"
    assert line["exception"]["type"] == "ValueError"
    assert "test_logs_and_request_ids.py:" in line["exception"]["where"]
    assert "C-SENTINEL" not in json.dumps(line)


def test_in_development_a_log_line_is_for_a_person_and_carries_the_request_id(
    database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "maca.log"
    environment = maca_environment(database_url, tmp_path / "data", MACA_ENV="development", MACA_LOG_LEVEL="info")
    with maca_server(environment, log) as base_url:
        page = httpx.get(f"{base_url}/no-such-page", headers={"Accept": "text/html"})
    output = log.read_text()

    page_id = page.headers["x-request-id"]
    assert f"give them this reference: {page_id}" in page.text
    (access,) = [line for line in output.splitlines() if "/no-such-page" in line]
    # time LEVEL logger [request id] message
    assert re.match(rf"\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ INFO uvicorn\.access \[{page_id}\] ", access), access
    assert not any(line.lstrip().startswith("{") for line in output.splitlines())
    assert re.search(r"INFO uvicorn\.error \[-\] ", output), "a line outside any request shows no id"
