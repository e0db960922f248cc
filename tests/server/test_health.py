"""Liveness, readiness, and the one shape every error has."""

from __future__ import annotations

import time

from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.settings import Settings
from toolkits.registry import Registry


async def test_healthz_answers_while_the_process_lives(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_answers_when_the_database_does(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ready"})


async def test_readyz_is_503_with_retry_after_when_the_database_is_down(settings: Settings, toolkits: Registry) -> None:
    # Port 1 on loopback: nothing listens, so connecting fails at once.
    app = create_app(settings, database_url="postgresql://maca@127.0.0.1:1/maca", registry=toolkits)
    started = time.monotonic()
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/readyz")
        alive = await client.get("/healthz")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Service unavailable",
        "status": 503,
        "detail": "the database is not answering",
    }
    assert alive.status_code == 200
    assert time.monotonic() - started < settings.db_timeout_seconds + 5


async def test_an_unknown_route_is_a_problem_document(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/no/such/page")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Not found"


async def test_the_openapi_document_is_3_1_and_lists_the_health_checks(client: AsyncTestClient[Litestar]) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    assert {"/healthz", "/readyz", "/api/toolkits"} <= set(document["paths"])


async def test_the_interactive_docs_render_from_local_assets(client: AsyncTestClient[Litestar]) -> None:
    page = await client.get("/schema")
    assert page.status_code == 200
    assert "SwaggerUIBundle" in page.text
    assert '<script src="/static/swagger-ui/swagger-ui-bundle.js"' in page.text
    script = await client.get("/static/swagger-ui/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 100_000
