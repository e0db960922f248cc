"""Behind a reverse proxy, sign-in attempts are counted per client address
only if Maca believes the proxy's X-Forwarded-For: ``maca serve
--forwarded-allow-ips`` (or MACA_FORWARDED_ALLOW_IPS) names the proxies to
believe, by default none but 127.0.0.1. Each case starts a real ``maca serve``
and looks at the address (its hash) the sign-in limit counted."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from server.cli.main import main
from tests.deploy.processes import background, free_port, maca_environment, wait_until_ready

pytestmark = pytest.mark.slow

PERSON = "203.0.113.5"  # what the proxy says the person's address is
PROXY_ELSEWHERE = "192.0.2.10"  # a proxy on another machine, not this test


@contextmanager
def maca_serve(database_url: str, folder: Path, args: list[str], env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    log = folder / "maca.log"
    environment = maca_environment(database_url, folder / "data", MACA_PORT=str(port), **env)
    command = [sys.executable, "-m", "server.cli", "serve", *args]
    with background(command, log, environment) as process:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_ready(base_url, process, log)
        yield base_url


def hashed(address: str) -> bytes:
    return hashlib.sha256(address.encode()).digest()


@pytest.mark.parametrize(
    ("args", "env", "counted_as"),
    [
        pytest.param([], {}, PERSON, id="default: a proxy on this machine is believed"),
        pytest.param(
            ["--forwarded-allow-ips", PROXY_ELSEWHERE], {}, "127.0.0.1", id="option: only that proxy is believed"
        ),
        pytest.param(
            [], {"MACA_FORWARDED_ALLOW_IPS": PROXY_ELSEWHERE}, "127.0.0.1", id="setting: only that proxy is believed"
        ),
        pytest.param(
            ["--forwarded-allow-ips", "127.0.0.0/8"],
            {"MACA_FORWARDED_ALLOW_IPS": PROXY_ELSEWHERE},
            PERSON,
            id="the option wins over the setting",
        ),
    ],
)
async def test_the_sign_in_limit_counts_the_address_a_trusted_proxy_forwards(
    db: asyncpg.Connection[Any],
    database_url: str,
    tmp_path: Path,
    args: list[str],
    env: dict[str, str],
    counted_as: str,
) -> None:
    with maca_serve(database_url, tmp_path, args, env) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            response = await http.get("/sign-in", headers={"X-Forwarded-For": PERSON}, follow_redirects=False)
    assert response.status_code == 303, response.text
    counted = {row["client_hash"] for row in await db.fetch("SELECT client_hash FROM sign_in_attempts")}
    assert counted == {hashed(counted_as)}


def test_an_option_that_names_no_address_stops_maca_serve(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--forwarded-allow-ips", "10.0.0.1,proxy.example"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("maca: configuration: --forwarded-allow-ips: 'proxy.example'"), error
