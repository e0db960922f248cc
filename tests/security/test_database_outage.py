"""A database outage: with PostgreSQL stopped under a running Maca, every
request that needs it is answered 503 with Retry-After, promptly (no 500,
no hang); when PostgreSQL is back, the same Maca process serves again.

The test starts its own embedded PostgreSQL (never the shared test server)
and its own ``maca serve``, with a one-second database timeout."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from server.db import embedded
from server.db.migrate import migrate
from server.settings import load_settings
from tests.deploy.processes import maca_environment, maca_server
from tests.security.served import Served, tokens_for

pytestmark = pytest.mark.slow

# Far above the one-second database timeout: a request still unanswered
# after this is hanging.
ANSWER_WITHIN = 20.0
RECOVERY_DEADLINE = 60.0


async def migrated(url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await migrate(connection)
    finally:
        await connection.close()


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "database" in response.json()["detail"]


def test_requests_get_503_while_postgresql_is_down_and_maca_recovers_without_restart(tmp_path: Path) -> None:
    own_postgres = tmp_path / "outage-postgres"
    server = embedded.start(own_postgres)
    url = server.url()
    asyncio.run(migrated(url))
    data_dir = tmp_path / "data"
    env = maca_environment(url, data_dir, MACA_DB_TIMEOUT_SECONDS="1")
    with maca_server(env, tmp_path / "maca.log") as base_url:
        settings = load_settings({}, env="test", data_dir=str(data_dir), port=urlsplit(base_url).port or 0)
        served = Served(base_url, settings, tokens_for(settings))
        served.http.timeout = httpx.Timeout(ANSWER_WITHIN)
        try:
            served.sign_in_everyone()
            audit = served.open_audit(["health"])
            contribution = f"/api/audits/{audit['id']}/contributions/{served.organisation_id('health')}"
            etag = served.request("health", "GET", contribution).headers["etag"]

            server.stop()  # PostgreSQL goes away under the running Maca

            assert_unavailable(served.http.get("/readyz"))
            assert_unavailable(served.request("coordinator", "GET", "/api/audits"))
            assert_unavailable(served.request("health", "GET", f"/api/audits/{audit['id']}"))
            assert_unavailable(
                served.request(
                    "health",
                    "PUT",
                    contribution,
                    json={"overall": {"impact": "written during the outage"}},
                    headers={"If-Match": etag},
                )
            )
            # What needs no database still answers.
            assert served.http.get("/healthz").status_code == 200
            assert served.http.get("/api/toolkits").status_code == 200

            server = embedded.start(own_postgres)
            assert server.url() == url
            deadline = time.monotonic() + RECOVERY_DEADLINE
            while served.http.get("/readyz").status_code != 200:
                assert time.monotonic() < deadline, "Maca did not recover once PostgreSQL was back"
                time.sleep(0.2)

            listed = served.request("coordinator", "GET", "/api/audits")
            assert listed.status_code == 200, listed.text
            assert [a["id"] for a in listed.json()["audits"]] == [audit["id"]]
            saved = served.request(
                "health",
                "PUT",
                contribution,
                json={"overall": {"impact": "written after the outage"}},
                headers={"If-Match": etag},
            )
            # The write refused during the outage was not half-applied: the
            # version read before it is still the current one.
            assert saved.status_code == 200, saved.text
            assert saved.json()["content"]["overall"]["impact"] == "written after the outage"
        finally:
            served.close()
            server.stop()
