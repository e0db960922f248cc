"""Report PDFs under load: the memory of every server process before,
during and after twelve concurrent PDF requests, and what was answered.

A red-team pass asked one coordinator's twelve report PDFs at once: each
took 53-57 s and the worker's memory went from 236 to 513 MB and stayed
there (target: under 200 MB per process). PDFs are now laid out in
processes of their own, a bounded number at a time (``server/reports/pdf.py``).

1. An embedded PostgreSQL of its own, migrated; ``maca serve`` as in
   production (``BENCH_WORKERS`` workers, logging at warning).
2. One audit every agency has submitted to in full, with a moderation and
   remedial actions: the longest report the seed tools make.
3. Every server process's resident memory (``/proc`` through psutil),
   sampled a few times a second and named by what it is (the supervisor,
   each worker, each PDF layout process), before any PDF, during each
   scenario, and after it:

   - one PDF at a time (the layout time, for reference);
   - one coordinator asking twelve at once (the finding);
   - twelve coordinators asking twelve at once;
   - twelve coordinators asking again as soon as answered, for
     ``BENCH_PDF_SECONDS`` (20), so that layout processes are replaced
     after ``MACA_PDF_RENDERS_PER_PROCESS`` PDFs.

Knobs: ``BENCH_WORKERS`` (2), ``BENCH_PDF_SECONDS`` (20).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped]  # no stubs in the lock

from server.db import embedded
from server.settings import Settings, load_settings
from tests.bench.load import _ok, an_open_audit, free_port, maca, serving
from tests.identity import bearer, token_for
from tests.server.audit_fixtures import complete_answers

SUBMITTING = ("health", "police", "education", "social-care")
CONCURRENT = 12
MB = 2**20
RSS_TARGET_MB = 200.0


def _role(process: psutil.Process, supervisor: psutil.Process, workers: int) -> str:
    """What a server process is: the supervisor, a worker, a PDF layout
    process, or multiprocessing's resource tracker."""
    if process.pid == supervisor.pid:
        return "worker" if workers == 1 else "supervisor"
    command = " ".join(process.cmdline())
    if "resource_tracker" in command:
        return "resource tracker"
    if "spawn_main" in command:
        parent = process.parent()
        if parent is not None and parent.pid == supervisor.pid and workers > 1:
            return "worker"
        return "pdf layout"
    return "other"


class Sampler:
    """Every server process's RSS, by role and pid, a few times a second."""

    def __init__(self, supervisor: psutil.Process, workers: int) -> None:
        self.supervisor = supervisor
        self.workers = workers
        self.peaks: dict[tuple[str, int], int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> dict[tuple[str, int], int]:
        found: dict[tuple[str, int], int] = {}
        for process in [self.supervisor, *self.supervisor.children(recursive=True)]:
            try:
                if process.status() == psutil.STATUS_ZOMBIE:
                    continue
                found[(_role(process, self.supervisor, self.workers), process.pid)] = process.memory_info().rss
            except psutil.Error:
                continue
        for key, rss in found.items():
            self.peaks[key] = max(self.peaks.get(key, 0), rss)
        return found

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.sample()

    @contextmanager
    def running(self) -> Iterator[Sampler]:
        self.peaks = {}
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()


def _summary(sizes: dict[tuple[str, int], int]) -> dict[str, Any]:
    """By role: how many processes, the largest and the total, in MB."""
    by_role: dict[str, list[int]] = {}
    for (role, _pid), rss in sizes.items():
        by_role.setdefault(role, []).append(rss)
    return {
        role: {
            "processes": len(values),
            "largest_mb": round(max(values) / MB, 1),
            "total_mb": round(sum(values) / MB, 1),
        }
        for role, values in sorted(by_role.items())
    }


def build(settings: Settings, base_url: str) -> tuple[str, dict[str, dict[str, str]]]:
    """The audit, and the people asking for its report."""
    personas = ("coordinator", "reviewer", *SUBMITTING)
    people = {p: bearer(asyncio.run(token_for(settings, p))) for p in personas}
    # Twelve coordinators of the same partnership: the persona with twelve subjects.
    for number in range(CONCURRENT):
        people[f"coordinator-{number}"] = bearer(
            asyncio.run(
                token_for(settings, "coordinator", sub=f"bench-coordinator-{number}", name=f"Coordinator {number}")
            )
        )
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for persona in people:
            _ok(client.get("/api/me", headers=people[persona]))
        audit_id = an_open_audit(client, people, SUBMITTING)
        organisations = {p: _ok(client.get("/api/me", headers=people[p])).json()["organisation_id"] for p in SUBMITTING}
        for persona in SUBMITTING:
            view = _ok(client.get(f"/api/audits/{audit_id}", headers=people[persona])).json()
            url = f"/api/audits/{audit_id}/contributions/{organisations[persona]}"
            current = _ok(client.get(url, headers=people[persona]))
            saved = _ok(
                client.put(
                    url, json=complete_answers(view), headers={**people[persona], "If-Match": current.headers["etag"]}
                )
            )
            _ok(client.post(f"{url}/submit", headers={**people[persona], "If-Match": saved.headers["etag"]}))
        judgement = _ok(client.get(f"/api/audits/{audit_id}/judgement", headers=people["reviewer"]))
        _ok(
            client.put(
                f"/api/audits/{audit_id}/judgement/sections/overall",
                json={"grade": 2, "reason": "The panel agreed the plan was followed through by every agency."},
                headers={**people["reviewer"], "If-Match": judgement.headers["etag"]},
            )
        )
        for number in range(3):
            _ok(
                client.post(
                    f"/api/audits/{audit_id}/actions",
                    json={"action": f"Review the plan with every agency ({number + 1})", "who": "Panel chair"},
                    headers=people["coordinator"],
                ),
                201,
            )
    return audit_id, people


def ask(base_url: str, headers: dict[str, str], audit_id: str) -> tuple[int, float]:
    with httpx.Client(base_url=base_url, timeout=300) as client:
        started = time.monotonic()
        response = client.get(f"/api/audits/{audit_id}/report.pdf", headers=headers)
        return response.status_code, time.monotonic() - started


def at_once(base_url: str, audit_id: str, headers: list[dict[str, str]]) -> dict[str, Any]:
    with ThreadPoolExecutor(max_workers=len(headers)) as pool:
        answers = list(pool.map(lambda h: ask(base_url, h, audit_id), headers))
    made = [seconds for status, seconds in answers if status == 200]
    return {
        "answers": dict(sorted(Counter(str(status) for status, _ in answers).items())),
        "pdf_seconds_max": round(max(made), 2) if made else None,
    }


def sustained(base_url: str, audit_id: str, headers: list[dict[str, str]], seconds: float) -> dict[str, Any]:
    """Each client asks again as soon as answered (after the Retry-After a
    refusal names, as a client should)."""
    deadline = time.monotonic() + seconds
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def client(header: dict[str, str]) -> None:
        with httpx.Client(base_url=base_url, timeout=300) as http:
            while time.monotonic() < deadline:
                response = http.get(f"/api/audits/{audit_id}/report.pdf", headers=header)
                with lock:
                    counts[str(response.status_code)] += 1
                if response.status_code in (429, 503):
                    time.sleep(min(float(response.headers.get("retry-after", "1")), 5.0))

    threads = [threading.Thread(target=client, args=(header,)) for header in headers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"answers": dict(sorted(counts.items())), "pdfs_made": counts["200"], "seconds": seconds}


def scenario(sampler: Sampler, name: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    before = _summary(sampler.sample())
    with sampler.running():
        figures = work()
    during = _summary(sampler.peaks)
    time.sleep(2)  # what is left once the work is done
    after = _summary(sampler.sample())
    # Before and after too: work done before the sampler's first tick (the
    # idle scenario) leaves no sample "during".
    largest = max(
        (value["largest_mb"] for summary in (before, during, after) for value in summary.values()), default=0.0
    )
    print(f"  {name}: {figures['answers']}; largest process {largest} MB before, during or after", flush=True)
    return {
        "name": name,
        **figures,
        "rss_before": before,
        "rss_during_peak": during,
        "rss_after": after,
        "largest_process_mb": largest,
        "peak_by_process": [
            {"role": role, "pid": pid, "mb": round(rss / MB, 1)} for (role, pid), rss in sorted(sampler.peaks.items())
        ],
    }


def run() -> dict[str, Any]:
    workers = int(os.environ.get("BENCH_WORKERS", "2"))
    seconds = float(os.environ.get("BENCH_PDF_SECONDS", "20"))
    folder = Path(tempfile.mkdtemp(prefix="maca-bench-pdf-"))
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("MACA_", "OIDC_"))} | {
        "MACA_ENV": "development",
        "MACA_HOST": "127.0.0.1",
        "MACA_PORT": str(port),
        "MACA_WORKERS": str(workers),
        "MACA_LOG_LEVEL": "warning",
        "MACA_DATA_DIR": str(folder),
    }
    server_log = load_settings().data_path / "bench" / "pdf-server.log"
    results: list[dict[str, Any]] = []
    try:
        postgres = embedded.start(folder / "postgres")
        try:
            environment["DATABASE_URL"] = postgres.url()
            settings = load_settings(environment)
            maca(environment, "migrate")
            with serving(environment, settings.base_url, server_log) as supervisor:
                sampler = Sampler(supervisor, workers)
                audit_id, people = build(settings, settings.base_url)
                base = settings.base_url
                results.append(scenario(sampler, "idle, no PDF yet", lambda: {"answers": {}}))
                sequential: list[float] = []

                def one_at_a_time() -> dict[str, Any]:
                    statuses: Counter[str] = Counter()
                    for _ in range(6):
                        status, took = ask(base, people["coordinator"], audit_id)
                        statuses[str(status)] += 1
                        sequential.append(took)
                    return {
                        "answers": dict(statuses),
                        "pdf_seconds_first": round(sequential[0], 2),
                        "pdf_seconds_median": round(statistics.median(sequential[1:]), 2),
                    }

                results.append(scenario(sampler, "one at a time (6)", one_at_a_time))
                one = [people["coordinator"]] * CONCURRENT
                results.append(scenario(sampler, "one coordinator, 12 at once", lambda: at_once(base, audit_id, one)))
                twelve = [people[f"coordinator-{n}"] for n in range(CONCURRENT)]
                results.append(
                    scenario(sampler, "12 coordinators, 12 at once", lambda: at_once(base, audit_id, twelve))
                )
                results.append(
                    scenario(
                        sampler,
                        f"12 coordinators asking again for {seconds:.0f} s",
                        lambda: sustained(base, audit_id, twelve, seconds),
                    )
                )
        finally:
            postgres.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    largest = max(result["largest_process_mb"] for result in results)
    print(f"  largest server process at any time: {largest} MB (target < {RSS_TARGET_MB:.0f} MB)")
    return {
        "workers": workers,
        "largest_process_mb": largest,
        "target_mb": RSS_TARGET_MB,
        "met": largest < RSS_TARGET_MB,
        "scenarios": results,
    }
