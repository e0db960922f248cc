"""Every write says which request headers it needs, and says it truly: a
handler that reads ``If-Match`` declares it (so the OpenAPI document marks
it required, with 412 and 428), one that replays ``Idempotency-Key``
declares that, and none declares what it does not read."""

from __future__ import annotations

import inspect
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.api.preconditions import IDEMPOTENCY_KEY, IF_MATCH, declared_preconditions
from server.auth.permissions import route_handlers

# What in a handler's own code reads each header.
READS = {IF_MATCH: ("expected_version(", '"if-match"'), IDEMPOTENCY_KEY: ("idempotent(",)}


def reads(handler: Any) -> set[str]:
    source = inspect.getsource(handler.fn)
    return {header for header, marks in READS.items() if any(mark in source for mark in marks)}


def test_each_handler_declares_exactly_the_headers_it_reads(app: Litestar) -> None:
    checked = 0
    for method, route, handler in route_handlers(app.routes):
        if not route.path.startswith("/api/"):
            continue
        declared = set(handler.opt.get("preconditions", ()))
        assert declared == reads(handler), (method, route.path)
        checked += bool(declared)
    assert checked >= 11


def test_the_writes_that_need_if_match_are_the_ones_a_client_expects(app: Litestar) -> None:
    declared = declared_preconditions(app.routes)
    needing = {key for key, headers in declared.items() if IF_MATCH in headers}
    contribution = "/api/audits/{audit_id}/contributions/{organisation}"
    assert needing == {
        ("PATCH", "/api/audits/{audit_id}"),
        ("POST", "/api/audits/{audit_id}/status"),
        ("PUT", contribution),
        ("PATCH", contribution),
        ("PUT", f"{contribution}/fhir"),
        ("POST", f"{contribution}/submit"),
        ("POST", f"{contribution}/return"),
        ("PUT", f"{contribution}/voice"),
        ("PATCH", "/api/audits/{audit_id}/actions/{action_id}"),
        ("POST", "/api/actions/{action_id}/updates"),
        ("PUT", "/api/audits/{audit_id}/judgement/sections/{section_id}"),
        ("PUT", "/api/audits/{audit_id}/panel"),
        # The administrator's corrections and settings.
        ("PATCH", "/api/admin/organisations/{organisation_id}"),
        ("POST", "/api/admin/organisations/{organisation_id}/confirm"),
        ("POST", "/api/admin/organisations/{organisation_id}/corrections"),
        ("PATCH", "/api/admin/clients/{client_id}"),
        ("PUT", "/api/admin/partnership"),
        ("PUT", "/api/admin/toolkits/{toolkit_id}"),
        ("POST", "/api/admin/toolkits/{toolkit_id}/activation"),
        # Handling an immediate concern (issue 20): against the version read.
        ("POST", "/api/concerns/{concern_id}/acknowledgement"),
        ("POST", "/api/concerns/{concern_id}/closure"),
    }


async def test_the_openapi_document_names_each_operations_headers(client: AsyncTestClient[Litestar]) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    operations = [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "responses" in operation
    ]
    status_change = document["paths"]["/api/audits/{audit_id}/status"]["post"]
    headers = {p["name"]: p for p in status_change["parameters"] if p["in"] == "header"}
    assert headers[IF_MATCH]["required"] is True and headers[IDEMPOTENCY_KEY]["required"] is False
    for method, path, operation in operations:
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        responses = set(operation["responses"])
        if IF_MATCH in names:
            assert {"412", "428"} <= responses, (method, path)
        else:
            assert "428" not in responses and "412" not in responses, (method, path)
    create = document["paths"]["/api/audits"]["post"]
    assert {p["name"] for p in create["parameters"] if p["in"] == "header"} == {IDEMPOTENCY_KEY}
