"""/readyz when PostgreSQL answers but refuses the application's login: a
wrong MACA_DB_APP_PASSWORD, or a maca_app role that `maca migrate` has not
created yet. Not ready (503 with Retry-After), never a 500, and neither the
answer nor the log quotes the password.

Each test starts its own embedded PostgreSQL (never the shared test server):
one requires a password of maca_app, the other has no maca_app at all."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.db import embedded
from server.db.migrate import migrate
from server.settings import load_settings
from toolkits.registry import Registry

pytestmark = pytest.mark.slow

RIGHT_PASSWORD = "the-right-app-password"
WRONG_PASSWORD = "a-wrong-app-password"


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[str]:
    """A PostgreSQL of this test's own; the owner's (trusted) address."""
    server = embedded.start(tmp_path / "readyz-postgres")
    try:
        yield server.url()
    finally:
        server.stop()


async def _migrate(url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await migrate(connection)
    finally:
        await connection.close()


SCRAM_FOR_APP = "local all maca_app scram-sha-256\nhost all maca_app all scram-sha-256\n"


def _put_first(hba: Path, rules: str) -> None:
    # pg_hba.conf: the first matching line decides.
    hba.write_text(rules + hba.read_text())


async def _require_app_password(url: str) -> None:
    """maca_app gets a password and must give it (SCRAM), as on a real server;
    everyone else stays trusted."""
    owner = await asyncpg.connect(url)
    try:
        await owner.execute(f"ALTER ROLE maca_app PASSWORD '{RIGHT_PASSWORD}'")
        _put_first(Path(await owner.fetchval("SHOW hba_file")), SCRAM_FOR_APP)
        await owner.execute("SELECT pg_reload_conf()")
    finally:
        await owner.close()


def _as_app(url: str, password: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"maca_app:{quote(password)}@"))


async def _readyz(url: str, tmp_path: Path, toolkits: Registry, **settings: Any) -> httpx.Response:
    return (await _get(url, tmp_path, toolkits, ["/readyz"], **settings))[0]


async def _get(url: str, tmp_path: Path, toolkits: Registry, paths: list[str], **settings: Any) -> list[httpx.Response]:
    config = load_settings(
        {}, env="test", data_dir=str(tmp_path / "data"), db_timeout_seconds=5, worker="off", **settings
    )
    app = create_app(config, database_url=url, registry=toolkits)
    async with AsyncTestClient(app=app) as client:
        return [await client.get(path) for path in paths]


def assert_not_ready(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "the database refused the application's connection"


async def test_a_wrong_app_password_is_503_and_no_secret_is_told(
    own_postgres: str, tmp_path: Path, toolkits: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    await _migrate(own_postgres)
    await _require_app_password(own_postgres)
    # The server really does check maca_app's password now.
    with pytest.raises(asyncpg.exceptions.InvalidPasswordError):
        await asyncpg.connect(_as_app(own_postgres, WRONG_PASSWORD))
    (await asyncpg.connect(_as_app(own_postgres, RIGHT_PASSWORD))).terminate()

    with caplog.at_level(logging.DEBUG):
        response = await _readyz(own_postgres, tmp_path, toolkits, db_app_password=WRONG_PASSWORD)
    assert_not_ready(response)
    assert WRONG_PASSWORD not in response.text and RIGHT_PASSWORD not in response.text
    assert WRONG_PASSWORD not in caplog.text and RIGHT_PASSWORD not in caplog.text
    assert "InvalidPasswordError" in caplog.text and "MACA_DB_APP_PASSWORD" in caplog.text

    # Any other request that needs the database hears the same, not a 500:
    # the public toolkit list reads none, the sign-in rate limit does.
    with caplog.at_level(logging.DEBUG):
        [signing_in] = await _get(own_postgres, tmp_path, toolkits, ["/sign-in"], db_app_password=WRONG_PASSWORD)
    assert signing_in.status_code == 503, signing_in.text
    assert WRONG_PASSWORD not in signing_in.text and WRONG_PASSWORD not in caplog.text

    # The same database with the right password is ready.
    ready = await _readyz(own_postgres, tmp_path, toolkits, db_app_password=RIGHT_PASSWORD)
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


async def test_a_missing_app_role_is_503_until_maca_migrate_creates_it(
    own_postgres: str, tmp_path: Path, toolkits: Registry
) -> None:
    # Never migrated: PostgreSQL answers, but there is no role maca_app.
    assert_not_ready(await _readyz(own_postgres, tmp_path, toolkits))

    await _migrate(own_postgres)
    ready = await _readyz(own_postgres, tmp_path, toolkits)
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
