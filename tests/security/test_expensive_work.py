"""Expensive work is bounded: report PDFs.

A red-team pass asked one coordinator's twelve report PDFs at once: laid
out in threads of the server process, each took 53-57 s and the worker's
memory went from 236 to 513 MB and stayed there. Now a PDF is laid out in a
process of its own (never in the server's), a bounded number at a time: one
person past their share gets 429, everyone past what Maca lays out and
queues gets 503, both with Retry-After, and a layout process is replaced
after a number of PDFs. Memory under twelve concurrent requests is measured
by ``make bench BENCH=pdf`` (a benchmark, not a timed test).

The requests admitted are held at a known point — the event each report
records, with the events table locked by the test — so which are admitted
and which refused does not depend on timing.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import psutil  # type: ignore[import-untyped]  # no stubs in the lock
import pytest

from server.platform.problems import ServiceUnavailable, TooManyRequests
from server.reports.pdf import PdfRenderer
from server.settings import load_settings
from tests.deploy.processes import background, free_port, maca_environment, wait_until_ready
from tests.security.served import Served, tokens_for

pytestmark = pytest.mark.slow

ANSWER_WITHIN = 60.0  # far above any layout: past this, a request is hanging


# --- admission, in the renderer itself --------------------------------------------------


async def test_a_person_past_their_share_gets_429_and_everyone_past_the_queue_503() -> None:
    renderer = PdfRenderer(processes=1, renders_per_process=5, per_user=2, queue=1)
    async with renderer.admitted("coordinator"), renderer.admitted("coordinator"):
        with pytest.raises(TooManyRequests) as too_many:
            async with renderer.admitted("coordinator"):
                pass
        assert int(too_many.value.headers["Retry-After"]) >= 1
        # Two laid out or waiting: one more fits, the next is refused whoever asks.
        with pytest.raises(ServiceUnavailable) as busy:
            async with renderer.admitted("reviewer"), renderer.admitted("reviewer"):
                pass
        assert int(busy.value.headers["Retry-After"]) >= 1
        assert renderer.in_progress == 2
    assert renderer.in_progress == 0
    async with renderer.admitted("reviewer"), renderer.admitted("reviewer"):
        assert renderer.in_progress == 2


# --- against a real maca serve -----------------------------------------------------------


@contextmanager
def serving(database_url: str, folder: Path, **environment: str) -> Iterator[tuple[psutil.Process, Served]]:
    port = free_port()
    env = maca_environment(database_url, folder / "data", MACA_PORT=str(port), **environment)
    log = folder / "maca.log"
    with background([sys.executable, "-m", "server.cli", "serve"], log, env) as process:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_ready(base_url, process, log)
        settings = load_settings({}, env="test", data_dir=str(folder / "data"), port=urlsplit(base_url).port or 0)
        served = Served(base_url, settings, tokens_for(settings))
        served.http.timeout = httpx.Timeout(ANSWER_WITHIN)
        try:
            served.sign_in_everyone()
            yield psutil.Process(process.pid), served
        finally:
            served.close()


@contextmanager
def events_locked(database_url: str) -> Iterator[None]:
    """No event can be recorded until the block ends (the table's owner
    holds a lock that every insert waits for; reads go on)."""
    started, release = threading.Event(), threading.Event()

    async def hold() -> None:
        connection = await asyncpg.connect(database_url)
        try:
            async with connection.transaction():
                await connection.execute("LOCK TABLE events IN EXCLUSIVE MODE")
                started.set()
                await asyncio.to_thread(release.wait)
        finally:
            await connection.close()

    holder = threading.Thread(target=lambda: asyncio.run(hold()), daemon=True)
    holder.start()
    assert started.wait(ANSWER_WITHIN)
    try:
        yield
    finally:
        release.set()
        holder.join(ANSWER_WITHIN)


def pdfs(served: Served, persona: str, audit_id: str, count: int) -> list[Future[httpx.Response]]:
    executor = ThreadPoolExecutor(max_workers=count)

    def ask() -> httpx.Response:
        with httpx.Client(base_url=served.base_url, timeout=ANSWER_WITHIN) as http:
            return http.get(f"/api/audits/{audit_id}/report.pdf", headers=served.headers(persona))

    futures = [executor.submit(ask) for _ in range(count)]
    executor.shutdown(wait=False)
    return futures


def wait_until_answered(futures: list[Future[httpx.Response]], count: int) -> list[httpx.Response]:
    deadline = time.monotonic() + ANSWER_WITHIN
    while sum(future.done() for future in futures) < count:
        assert time.monotonic() < deadline, "the refused requests were not answered"
        time.sleep(0.05)
    return [future.result() for future in futures if future.done()]


def layout_processes(server: psutil.Process) -> list[psutil.Process]:
    """The server's processes laying PDFs out (spawned by multiprocessing;
    not its resource tracker)."""
    found = []
    for child in server.children(recursive=True):
        try:
            if "spawn_main" in " ".join(child.cmdline()) and child.status() != psutil.STATUS_ZOMBIE:
                found.append(child)
        except psutil.Error:
            continue
    return found


def maps_pango(process: psutil.Process) -> bool:
    return any("libpango" in region.path for region in process.memory_maps())


def app_backends_waiting_on_a_lock(database_url: str) -> int:
    async def count() -> int:
        connection = await asyncpg.connect(database_url)
        try:
            return int(
                await connection.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE usename = 'maca_app' "
                    "AND datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        finally:
            await connection.close()

    return asyncio.run(count())


def wait_for_waiting(database_url: str, count: int) -> None:
    deadline = time.monotonic() + ANSWER_WITHIN
    while app_backends_waiting_on_a_lock(database_url) < count:
        assert time.monotonic() < deadline, f"{count} PDF requests never got as far as recording their event"
        time.sleep(0.05)


def test_pdfs_are_laid_out_in_another_process_replaced_after_so_many(database_url: str, tmp_path: Path) -> None:
    with serving(database_url, tmp_path, MACA_PDF_RENDERS_PER_PROCESS="2") as (server, served):
        audit = served.open_audit(["health", "police"])
        assert layout_processes(server) == []  # none until the first PDF
        seen: list[int] = []
        for _ in range(3):
            answer = served.request("coordinator", "GET", f"/api/audits/{audit['id']}/report.pdf")
            assert answer.status_code == 200, answer.text
            assert answer.content.startswith(b"%PDF-")
            alive = layout_processes(server)
            assert len(alive) <= 1
            seen += [process.pid for process in alive if process.pid not in seen]
            # Laid out elsewhere: the server process has not even loaded Pango.
            assert not maps_pango(server)
            assert all(maps_pango(process) for process in alive)
        # The first process made two PDFs and was replaced for the third.
        assert len(seen) == 2


def test_twelve_pdfs_from_one_coordinator_two_are_made_ten_refused_429(database_url: str, tmp_path: Path) -> None:
    with serving(database_url, tmp_path, MACA_PDF_QUEUE="2") as (_, served):
        audit = served.open_audit(["health", "police"])
        with events_locked(database_url):
            coordinators = pdfs(served, "coordinator", audit["id"], 12)
            refused = wait_until_answered(coordinators, 10)
            # Ten refused at once: the coordinator has two in progress.
            for response in refused:
                assert response.status_code == 429, response.text
                assert int(response.headers["retry-after"]) >= 1
                assert response.headers["content-type"].startswith("application/problem+json")
            wait_for_waiting(database_url, 2)
            # The reviewer's first fits in the queue; with three in progress
            # (one laid out, two waiting) the next is refused: Maca is busy.
            reviewers = pdfs(served, "reviewer", audit["id"], 1)
            wait_for_waiting(database_url, 3)
            (busy,) = pdfs(served, "reviewer", audit["id"], 1)
            busy_answer = busy.result(ANSWER_WITHIN)
            assert busy_answer.status_code == 503, busy_answer.text
            assert int(busy_answer.headers["retry-after"]) >= 1
            # What is not a PDF is answered meanwhile.
            assert served.http.get("/readyz").status_code == 200
        answers = [future.result(ANSWER_WITHIN) for future in coordinators + reviewers]
        made = [response for response in answers if response.status_code != 429]
        assert [response.status_code for response in made] == [200, 200, 200]
        assert all(response.content.startswith(b"%PDF-") for response in made)
