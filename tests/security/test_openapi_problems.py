"""The OpenAPI document describes the errors Maca really gives: RFC 9457
problem documents, with the statuses each operation can answer."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.platform.problems import PROBLEM_JSON


async def document(client: AsyncTestClient[Litestar]) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "responses" in operation
    ]


async def test_every_error_response_is_a_problem_document(client: AsyncTestClient[Litestar]) -> None:
    doc = await document(client)
    problem = doc["components"]["schemas"]["ProblemBody"]
    assert set(problem["required"]) == {"type", "title", "status"}
    assert {"detail", "errors", "allowed"} <= set(problem["properties"])
    for method, path, operation in operations(doc):
        errors = {status: r for status, r in operation["responses"].items() if status[0] in "45"}
        assert "400" in errors, (method, path)
        for status, response in errors.items():
            # An operation taking FHIR may answer its client in FHIR.
            fhir = ["application/fhir+json"] if path.endswith("/fhir") and method == "PUT" else []
            assert list(response["content"]) == [PROBLEM_JSON, *fhir], (method, path, status)
            assert response["content"][PROBLEM_JSON]["schema"] == {"$ref": "#/components/schemas/ProblemBody"}
            if fhir:
                outcome = response["content"][fhir[0]]["schema"]
                assert outcome == {"$ref": "#/components/schemas/OperationOutcomeBody"}
        # Litestar's own {status_code, detail, extra} body is gone.
        assert "status_code" not in str(errors)


async def test_each_operation_lists_the_statuses_it_can_answer(client: AsyncTestClient[Litestar]) -> None:
    doc = await document(client)
    by_route = {(method, path): operation for method, path, operation in operations(doc)}
    save = by_route[("PUT", "/api/audits/{audit_id}/contributions/{organisation}")]["responses"]
    assert {"400", "401", "403", "404", "409", "412", "413", "422", "428", "503"} <= set(save)
    assert save["503"]["headers"]["Retry-After"]
    toolkits = by_route[("GET", "/api/toolkits")]["responses"]
    assert "401" not in toolkits and "503" not in toolkits
    assert "security" not in by_route[("GET", "/api/toolkits")]
    assert by_route[("GET", "/api/audits")]["security"] == [{"bearer": []}]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
