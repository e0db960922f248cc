"""Two Maca processes against one database, as two replicas behind a load
balancer: whichever one a request reaches, the answer is the same, because
Maca keeps no state of its own (deploy/README.md, "Scaling past one machine").

Today this covers what exists: the toolkits API and readiness, and two
replicas migrating one empty database as they start together. The audit
journey (create an audit, contribute, merge, sign off) is to be added here,
alternating its steps between the two processes, once the audits API lands.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.deploy.processes import background, free_port, maca_environment, maca_server, wait_until_ready

pytestmark = pytest.mark.slow


@pytest.fixture
def two_replicas(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    with ExitStack() as stack:
        urls = tuple(
            stack.enter_context(
                maca_server(maca_environment(database_url, tmp_path / f"data-{name}"), tmp_path / f"{name}.log")
            )
            for name in ("a", "b")
        )
        yield urls[0], urls[1]


def test_requests_alternating_between_two_processes_get_the_same_answers(two_replicas: tuple[str, str]) -> None:
    a, b = two_replicas
    assert a != b
    listing = {base: httpx.get(f"{base}/api/toolkits", timeout=10) for base in (a, b)}
    assert [r.status_code for r in listing.values()] == [200, 200]
    assert listing[a].json() == listing[b].json()
    toolkit_ids = [toolkit["id"] for toolkit in listing[a].json()]
    assert toolkit_ids

    for step, toolkit_id in enumerate(toolkit_ids * 2):
        base = (a, b)[step % 2]
        other = (b, a)[step % 2]
        here = httpx.get(f"{base}/api/toolkits/{toolkit_id}", timeout=10)
        there = httpx.get(f"{other}/api/toolkits/{toolkit_id}", timeout=10)
        assert (here.status_code, there.status_code) == (200, 200)
        assert here.json() == there.json()
        assert httpx.get(f"{base}/readyz", timeout=10).json() == {"status": "ready"}


def test_both_processes_answer_concurrent_requests(two_replicas: tuple[str, str]) -> None:
    def fetch(index: int) -> int:
        base = two_replicas[index % 2]
        path = "/api/toolkits" if index % 3 else "/readyz"
        return httpx.get(base + path, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(fetch, range(90)))
    assert statuses == [200] * len(statuses)


def test_one_process_stopping_leaves_the_other_serving(database_url: str, tmp_path: Path) -> None:
    env = maca_environment(database_url, tmp_path / "data")
    with maca_server(env, tmp_path / "survivor.log") as survivor:
        with maca_server(env, tmp_path / "leaver.log") as leaver:
            assert httpx.get(f"{leaver}/readyz", timeout=10).status_code == 200
        # The leaver is gone (stopped at the end of its block).
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{leaver}/healthz", timeout=2)
        assert httpx.get(f"{survivor}/readyz", timeout=10).json() == {"status": "ready"}
        assert httpx.get(f"{survivor}/api/toolkits", timeout=10).status_code == 200


def test_two_processes_starting_together_with_migrate_share_one_empty_database(
    empty_database: str, tmp_path: Path
) -> None:
    """`maca serve --migrate` on two replicas at once: the advisory lock lets
    one apply the migrations while the other waits, and both come up."""
    env = maca_environment(empty_database, tmp_path / "data")
    command = [sys.executable, "-m", "server.cli", "serve", "--migrate"]
    with ExitStack() as stack:
        started = []
        for name in ("a", "b"):
            port = free_port()
            log = tmp_path / f"{name}.log"
            process = stack.enter_context(background(command, log, {**env, "MACA_PORT": str(port)}))
            started.append((f"http://127.0.0.1:{port}", process, log))
        for base, process, log in started:
            wait_until_ready(base, process, log)
            assert httpx.get(f"{base}/api/toolkits", timeout=10).status_code == 200
        logs = [log.read_text() for _, _, log in started]
    applied = [text for text in logs if "migrations applied: 0001_" in text]
    assert len(applied) == 1, logs
    assert sum("database schema is up to date" in text for text in logs) == 1, logs
