"""The README says what is true: it lists every route Maca serves, the
headers each write needs, and its worked example — every ```` ```sh example````
block, in order — runs against a real ``maca serve`` loaded as ``make run``
loads it, each line marked ``# →`` being what its block printed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar

from server.api.preconditions import declared_preconditions
from server.auth.permissions import route_handlers
from tests.conftest import create_database, drop_database
from tests.deploy.processes import ROOT, background, free_port, maca_environment, wait_until_ready

README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLE = re.compile(r"^```sh example\n(.*?)^```$", re.DOTALL | re.MULTILINE)
EXPECTED = re.compile(r"^# → (.*)$", re.MULTILINE)
ROUTE = re.compile(r"`(GET|HEAD|POST|PUT|PATCH|DELETE) (/[^`]*)`")
MARK = "@@ block {} @@"


def shape(path: str) -> str:
    """A path with its parameters unnamed: /api/audits/{}/contributions/{}."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def table_rows(heading: str) -> list[list[str]]:
    """The rows of the first table after ``heading``, as cells."""
    section = README.split(f"\n{heading}\n", 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif rows:
            break
    return rows[2:]  # the header and its rule


def listed_routes() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for heading in ("## HTTP API", "### Web pages"):
        for row in table_rows(heading):
            found |= {(method, shape(path)) for method, path in ROUTE.findall(row[0])}
    return found


def test_the_readme_lists_every_route_maca_serves_and_no_other(app: Litestar) -> None:
    served = {
        (method, shape(route.path_format))
        for method, route, _ in route_handlers(app.routes)
        if not route.path_format.startswith(("/static/", "/schema/"))
    }
    served.add(("GET", "/schema"))  # the documentation page, served by Litestar's own router
    served = {(m, p) for m, p in served if m != "*"}
    assert listed_routes() == served


def test_the_readme_names_the_headers_each_write_needs(app: Litestar) -> None:
    declared = {
        (method, shape(path)): set(headers)
        for (method, path), headers in declared_preconditions(app.routes).items()
        if path.startswith("/api/")
    }
    shown: dict[tuple[str, str], set[str]] = {}
    for row in table_rows("## HTTP API"):
        route, _who, headers, _what = row
        for method, path in ROUTE.findall(route):
            if path.startswith("/api/"):
                shown[(method, shape(path))] = set(re.findall(r"`(If-Match|Idempotency-Key)`", headers))
    assert shown == declared


# --- the worked example --------------------------------------------------------------


def example_script(base_url: str) -> tuple[str, list[list[str]]]:
    blocks = EXAMPLE.findall(README)
    assert len(blocks) >= 8
    script = "set -euo pipefail\n" + "".join(f"echo '{MARK.format(i)}'\n{block}" for i, block in enumerate(blocks))
    return script.replace("http://127.0.0.1:8000", base_url), [EXPECTED.findall(block) for block in blocks]


@pytest.fixture(scope="module")
async def fresh_database(server_url: str) -> Iterator[str]:
    url = await create_database(server_url, "maca_readme")
    yield url
    await drop_database(server_url, url)


@pytest.fixture(scope="module")
def like_make_run(fresh_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``maca serve --migrate --demo-data`` (what ``make run`` runs) on an
    empty database, and its data folder."""
    folder = tmp_path_factory.mktemp("readme")
    data_dir = folder / "data"
    port = free_port()
    env = {**maca_environment(fresh_database, data_dir), "MACA_PORT": str(port)}
    command = [sys.executable, "-m", "server.cli", "serve", "--migrate", "--demo-data"]
    with background(command, folder / "maca.log", env) as process:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_ready(base_url, process, folder / "maca.log")
        yield base_url, data_dir


def test_the_worked_example_runs_and_prints_what_the_readme_says(like_make_run: tuple[str, Path]) -> None:
    base_url, data_dir = like_make_run
    script, expected = example_script(base_url)
    # A new user's shell: no Maca settings but where `make run` keeps its
    # data (`maca token` finds the running Maca there).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MACA_", "OIDC_", "DATABASE_URL"))}
    env["MACA_DATA_DIR"] = str(data_dir)
    ran = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert ran.returncode == 0, f"{ran.stdout[-3000:]}\n{ran.stderr[-3000:]}"
    printed = ran.stdout.split("\n")
    starts = [printed.index(MARK.format(i)) for i in range(len(expected))] + [len(printed)]
    for i, lines in enumerate(expected):
        output = printed[starts[i] + 1 : starts[i + 1]]
        remaining = iter(output)
        missing = [line for line in lines if not any(line == got for got in remaining)]
        assert not missing, f"block {i} printed:\n" + "\n".join(output)
