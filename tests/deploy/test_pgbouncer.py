"""Maca behind PgBouncer in transaction pooling mode (deploy/README.md,
"Connection pooling"): a real pgbouncer in front of the test PostgreSQL, and
real ``maca serve`` / ``maca migrate`` processes talking through it.

Needs Debian's ``pgbouncer`` package, which ``make test`` installs when it
is missing (Makefile, "system packages"): without it these tests fail,
never skip.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest

from server.db import pool
from server.settings import load_settings
from tests.deploy.processes import (
    ROOT,
    background,
    free_port,
    maca_environment,
    maca_server,
    output,
)

pytestmark = pytest.mark.slow

PGBOUNCER_PATHS = ("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin")


def find_pgbouncer() -> str | None:
    return shutil.which("pgbouncer") or shutil.which("pgbouncer", path=os.pathsep.join(PGBOUNCER_PATHS))


MISSING = "pgbouncer is not installed: `make test` installs Debian's pgbouncer package (make test-packages)"


def test_pgbouncer_is_installed() -> None:
    """A missing pgbouncer is a failure, never a silent skip."""
    assert find_pgbouncer() is not None, MISSING


def _server_address(url: str) -> tuple[str, int, str, str]:
    """(host or socket directory, port, user, password) of a PostgreSQL URL."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    host = query.get("host") or parts.hostname or "/var/run/postgresql"
    port = int(query.get("port") or parts.port or 5432)
    return host, port, unquote(parts.username or "postgres"), unquote(parts.password or "")


def _run_as(host: str) -> str | None:
    """PgBouncer refuses to run as root: as root, run it as the owner of the
    PostgreSQL socket directory (so it can reach the socket), or nobody."""
    if os.geteuid() != 0:
        return None
    if host.startswith("/"):
        owner = pwd.getpwuid(os.stat(host).st_uid).pw_name
        if owner != "root":
            return owner
    return "nobody"


class PgBouncer:
    def __init__(self, port: int, user: str, password: str) -> None:
        self.port = port
        self.user = user
        self.password = password

    def url(self, database_url: str) -> str:
        """``database_url`` (same database name) reached through PgBouncer."""
        database = urlsplit(database_url).path.lstrip("/")
        credentials = self.user + (f":{self.password}" if self.password else "")
        return f"postgresql://{credentials}@127.0.0.1:{self.port}/{database}"


@pytest.fixture(scope="module")
def pgbouncer(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgBouncer]:
    binary = find_pgbouncer()
    if binary is None:
        pytest.fail(MISSING)
    host, port, user, password = _server_address(server_url)
    run_as = _run_as(host)
    folder = tmp_path_factory.mktemp("pgbouncer")
    folder.chmod(0o755)  # readable by the user pgbouncer drops to
    listen_port = free_port()
    users = folder / "userlist.txt"
    # The owner (maca migrate) and the application's own role, maca_app
    # (server/db/pool.py), each logging in as itself: PgBouncer pools per user.
    app_password = pool.app_password(load_settings({}), server_url) or ""
    users.write_text(f'"{user}" "{password}"\n"{pool.APP_ROLE}" "{app_password}"\n')
    config = folder / "pgbouncer.ini"
    server = f"host={host} port={port}"
    config.write_text(
        "\n".join(
            [
                "[databases]",
                # Any database name the client asks for, on the test server.
                f"* = {server}",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {listen_port}",
                "unix_socket_dir =",
                "pool_mode = transaction",
                "auth_type = trust",
                f"auth_file = {users}",
                "max_client_conn = 200",
                "default_pool_size = 5",
                "server_reset_query =",
                "ignore_startup_parameters = extra_float_digits",
                "admin_users =",
                "",
            ]
        )
    )
    for file in (users, config):
        file.chmod(0o644)
    command = [binary, *(["-u", run_as] if run_as else []), str(config)]
    log = folder / "pgbouncer.log"
    with background(command, log) as process:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                pytest.fail(f"pgbouncer exited with {process.returncode}:\n{output(log)}")
            try:
                with socket.create_connection(("127.0.0.1", listen_port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"pgbouncer did not listen on {listen_port}:\n{output(log)}")
                time.sleep(0.1)
        yield PgBouncer(listen_port, user, password)
        assert process.poll() is None, f"pgbouncer died during the tests:\n{output(log)}"


@pytest.fixture
def maca_env(tmp_path: Path) -> Callable[[str], dict[str, str]]:
    def make(database_url: str) -> dict[str, str]:
        return maca_environment(database_url, tmp_path / "data", MACA_DB_STATEMENT_CACHE="0", MACA_DB_POOL_MAX="4")

    return make


def test_maca_serves_through_pgbouncer_in_transaction_mode(
    pgbouncer: PgBouncer, database_url: str, maca_env: Callable[[str], dict[str, str]], tmp_path: Path
) -> None:
    with maca_server(maca_env(pgbouncer.url(database_url)), tmp_path / "maca.log") as base_url:
        assert httpx.get(base_url + "/readyz", timeout=10).json() == {"status": "ready"}

        # More concurrent requests than pool connections (4) and PgBouncer
        # server connections (5): connections are shared between clients
        # from one transaction to the next.
        def fetch(index: int) -> tuple[int, int]:
            path = "/api/toolkits" if index % 2 else "/readyz"
            response = httpx.get(base_url + path, timeout=30)
            return index, response.status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(fetch, range(120)))
        failures = [(index, status) for index, status in results if status != 200]
        assert not failures, f"failed requests: {failures[:10]}\n{output(tmp_path / 'maca.log')}"
        toolkits = httpx.get(base_url + "/api/toolkits", timeout=10).json()
        assert toolkits, "no toolkits listed"


def _maca_migrate(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "server.cli", "migrate"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    try:
        stdout, stderr = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate(timeout=10)
        pytest.fail(f"maca migrate did not finish in 120s:\n{stdout}\n{stderr}")
    return process.returncode, stdout, stderr


def test_maca_migrate_through_pgbouncer_applies_each_migration_once_and_is_idempotent(
    pgbouncer: PgBouncer, empty_database: str, maca_env: Callable[[str], dict[str, str]]
) -> None:
    env = maca_env(pgbouncer.url(empty_database))
    # Two at once: the transaction-level advisory lock serialises them even
    # though PgBouncer hands each transaction whichever server connection is free.
    processes = [_maca_migrate(env), _maca_migrate(env)]
    try:
        results = [_finish(process) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    for returncode, stdout, stderr in results:
        assert returncode == 0, f"maca migrate failed through pgbouncer:\n{stdout}\n{stderr}"
    outputs = sorted(stdout.strip() for _, stdout, _ in results)
    assert outputs[0] == "database schema is up to date"
    assert outputs[1].startswith("migrations applied: 0001_")

    # Again, one after another: each run may get a server connection an
    # earlier run used.
    for _ in range(3):
        returncode, stdout, stderr = _finish(_maca_migrate(env))
        assert (returncode, stdout.strip()) == (0, "database schema is up to date"), stderr
