"""The test session's PostgreSQL and application.

One real PostgreSQL for the whole run: ``DATABASE_URL`` if set, otherwise an
embedded one in a temporary folder. A fresh database is created and migrated
for the run, and every table is emptied after each test, so tests cannot see
each other's data. Nothing here is a mock.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.app import create_app, load_toolkits
from server.db import embedded
from server.db.migrate import migrate
from server.settings import Settings, load_settings
from toolkits.registry import Registry

_OWN_BASETEMP = "_maca_own_basetemp"


def pytest_configure(config: pytest.Config) -> None:
    """Each run gets a temporary folder of its own, outside pytest's shared
    ``pytest-of-<user>`` folder. Every run that starts makes that shared
    folder private again (mode 0700), and the embedded PostgreSQL, which
    runs as its own system user, then loses its data folder: two runs at
    once (two checkouts on one machine) broke each other's databases."""
    if config.option.basetemp is None:
        folder = tempfile.mkdtemp(prefix="maca-pytest-")
        config.option.basetemp = folder
        setattr(config, _OWN_BASETEMP, folder)


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = getattr(config, _OWN_BASETEMP, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def with_database(url: str, database: str) -> str:
    """``url`` pointing at another database on the same server."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The PostgreSQL server: DATABASE_URL's, or an embedded one."""
    configured = load_settings().database_url
    if configured is not None:
        yield configured
        return
    server = embedded.start(tmp_path_factory.mktemp("postgres"))
    try:
        yield server.url()
    finally:
        server.stop()


async def create_database(server_url: str, prefix: str = "maca_test") -> str:
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return with_database(server_url, name)


async def drop_database(server_url: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
async def database_url(server_url: str) -> AsyncIterator[str]:
    """A fresh, migrated database for this test run."""
    url = await create_database(server_url)
    connection = await asyncpg.connect(url)
    try:
        await migrate(connection)
    finally:
        await connection.close()
    yield url
    await drop_database(server_url, url)


@pytest.fixture
async def empty_database(server_url: str) -> AsyncIterator[str]:
    """A database with nothing in it, not even migrations (for migration tests)."""
    url = await create_database(server_url, "maca_empty")
    yield url
    await drop_database(server_url, url)


@pytest.fixture(scope="session")
def toolkits() -> Registry:
    return load_toolkits()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # MACA_DATA_DIR in a temporary folder: the development issuer's signing
    # key is written there, not into the working tree.
    return load_settings({}, env="test", data_dir=str(tmp_path_factory.mktemp("maca-data")), worker="off")


@pytest.fixture(scope="session")
def app(settings: Settings, database_url: str, toolkits: Registry) -> Litestar:
    return create_app(settings, database_url=database_url, registry=toolkits)


@pytest.fixture(scope="session")
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app) as client:
        yield client


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection[Any]]:
    """A direct connection to the test database, for arranging and checking state."""
    connection = await asyncpg.connect(database_url)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture(autouse=True)
async def _empty_tables_after_each_test(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "database_url" not in request.fixturenames:
        return
    url = request.getfixturevalue("database_url")
    connection = await asyncpg.connect(url)
    try:
        tables = await connection.fetch(
            "SELECT quote_ident(tablename) AS name FROM pg_tables "
            "WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
        )
        if tables:
            await connection.execute(f"TRUNCATE {', '.join(t['name'] for t in tables)} CASCADE")
        # The job queue's own schema (migration 0015): jobs left by a test.
        if await connection.fetchval("SELECT to_regclass('maca_queue.pgqueuer') IS NOT NULL"):
            await connection.execute("TRUNCATE maca_queue.pgqueuer, maca_queue.pgqueuer_log")
    finally:
        await connection.close()
