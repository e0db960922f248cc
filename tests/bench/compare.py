"""Before and after in the same run: the code of another revision (``BASE``,
default ``main``) and this checkout, each with its own PostgreSQL and
``maca serve`` up at once, driven alternately by the same wrk runs, so both
meet the same load from whatever else the machine is doing (issue 24: the
machine is shared; figures from different runs do not compare).

``make bench BENCH=compare BASE=<revision>``. Knobs as the load benchmark
(``BENCH_SECONDS``, ``BENCH_WORKERS``, ``BENCH_CONCURRENCY``,
``BENCH_ENDPOINTS``; ``BENCH_AUDITS`` defaults to 2,000 here), and
``BENCH_ROUNDS`` (3): each endpoint and concurrency is measured that many
times on each side, alternating, and the medians are compared.

Beside the rates, the CPU time each request cost (milliseconds of the
server's workers, and of its PostgreSQL's processes, per request, from
/proc): on a machine other work keeps busy, rates move with the load while
the CPU a request costs barely does, so it says what a change bought.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]  # no stubs in the lock

from server.settings import load_settings
from tests.bench.figures import DRAFT_SAVE, Measurement
from tests.bench.load import (
    ROOT,
    Knobs,
    MemorySampler,
    Runner,
    _sql,
    build_plan,
    database,
    free_port,
    load_demo,
    maca,
    scenarios,
    serving,
)


def export(revision: str, into: Path) -> str:
    """The files of ``revision`` under ``into`` (its installed packages and
    assets are this checkout's); the commit it names."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", revision], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    (into / "node_modules").symlink_to(ROOT / "node_modules")
    return commit


def cpu_seconds(processes: list[psutil.Process]) -> float:
    """User and system CPU of ``processes`` and their children so far."""
    total = 0.0
    for process in processes:
        for one in [process, *process.children(recursive=True)]:
            try:
                times = one.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
    return total


def postmaster(pgdata: Path) -> psutil.Process:
    for process in psutil.process_iter(["cmdline"]):
        command = process.info["cmdline"] or []
        if any(part.endswith("postgres") for part in command[:1]) and str(pgdata) in " ".join(command):
            return process
    raise RuntimeError(f"no PostgreSQL serving {pgdata}")


def run() -> dict[str, Any]:
    os.environ.setdefault("BENCH_AUDITS", "2000")
    knobs = Knobs.from_environment()
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    base_revision = os.environ.get("BASE", "main")
    load_before = os.getloadavg()
    scratch = Path(tempfile.mkdtemp(prefix="maca-compare-"))
    sides: dict[str, dict[str, Any]] = {}
    results: dict[tuple[str, str, int], list[Measurement]] = {}
    costs: dict[tuple[str, str, int], list[tuple[float, float]]] = {}
    try:
        base_root = scratch / "base"
        base_root.mkdir()
        commit = export(base_revision, base_root)
        with ExitStack() as stack:
            for side, root in (("before", base_root), ("after", ROOT)):
                folder = scratch / side
                folder.mkdir()
                port = free_port()
                environment = {
                    key: value for key, value in os.environ.items() if not key.startswith(("MACA_", "OIDC_"))
                } | {
                    "MACA_ENV": "development",
                    "MACA_HOST": "127.0.0.1",
                    "MACA_PORT": str(port),
                    "MACA_WORKERS": str(knobs.workers),
                    "MACA_LOG_LEVEL": "warning",
                    "MACA_WORKER": "off",  # as tests/bench/load.py says why
                    "MACA_DATA_DIR": str(folder),
                    # Two servers at once: neither serves metrics (one port).
                    "MACA_METRICS_PORT": "0",
                }
                base = load_settings(environment)
                database_url = stack.enter_context(database(base, folder / "db"))
                environment["DATABASE_URL"] = database_url
                settings = load_settings(environment)
                maca(environment, "migrate", root=root)
                load_demo(environment, knobs.audits, root=root)
                server = stack.enter_context(serving(environment, settings.base_url, folder / "server.log", root=root))
                memory = stack.enter_context(MemorySampler(server, knobs.workers))
                plan = build_plan(settings, settings.base_url, database_url, max(knobs.concurrency))
                runner = Runner(settings.base_url, database_url, folder, knobs.seconds)
                prepared = [
                    (name, measure)
                    for name, measure in scenarios(plan, runner)
                    if not knobs.endpoints or name in knobs.endpoints
                ]
                asyncio.run(_sql(database_url, "SELECT 1"))
                sides[side] = {
                    "prepared": prepared,
                    "memory": memory,
                    "server": server,
                    "database": postmaster(folder / "db" / "pgdata"),
                }
                print(f"  {side}: {root if side == 'after' else commit} serving on {port}", flush=True)
            for side in sides.values():
                for _name, measure in side["prepared"]:
                    measure(8, 2)
            for round_number in range(rounds):
                for concurrency in knobs.concurrency:
                    for name, _ in sides["after"]["prepared"]:
                        order = ("before", "after") if round_number % 2 == 0 else ("after", "before")
                        for side in order:
                            measure = dict(sides[side]["prepared"])[name]
                            server_before = cpu_seconds([sides[side]["server"]])
                            database_before = cpu_seconds([sides[side]["database"]])
                            measured = measure(concurrency, None)
                            requests = max(measured.requests, 1)
                            server_ms = (cpu_seconds([sides[side]["server"]]) - server_before) * 1000 / requests
                            database_ms = (cpu_seconds([sides[side]["database"]]) - database_before) * 1000 / requests
                            results.setdefault((name, side, concurrency), []).append(measured)
                            costs.setdefault((name, side, concurrency), []).append((server_ms, database_ms))
                    print(f"  round {round_number + 1}, c={concurrency} done", flush=True)
            memories = {side: sides[side]["memory"].memory() for side in sides}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    names = sorted({name for name, _, _ in results}, key=lambda n: (n != DRAFT_SAVE, n))
    lines = [
        f"before: {commit} ({base_revision}); after: this checkout. Medians of {rounds} alternating runs of "
        f"{knobs.seconds} s, {knobs.workers} workers, {knobs.audits:,} audits.",
        "",
        "| endpoint | c | before req/s | after req/s | after/before | before p99 ms | after p99 ms "
        "| CPU ms/request, server before → after | PostgreSQL before → after |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    figures: list[dict[str, Any]] = []
    for name in names:
        for concurrency in knobs.concurrency:
            before = results.get((name, "before", concurrency), [])
            after = results.get((name, "after", concurrency), [])
            if not before or not after:
                continue
            rate_before = statistics.median(m.per_second for m in before)
            rate_after = statistics.median(m.per_second for m in after)
            p99_before = statistics.median(m.p99_ms for m in before)
            p99_after = statistics.median(m.p99_ms for m in after)
            figures.append(
                {
                    "endpoint": name,
                    "concurrency": concurrency,
                    "before_per_second": rate_before,
                    "after_per_second": rate_after,
                    "before_p99_ms": p99_before,
                    "after_p99_ms": p99_after,
                }
            )
            server = [statistics.median(c[0] for c in costs[(name, side, concurrency)]) for side in ("before", "after")]
            data = [statistics.median(c[1] for c in costs[(name, side, concurrency)]) for side in ("before", "after")]
            figures[-1] |= {"server_cpu_ms": server, "database_cpu_ms": data}
            lines.append(
                f"| {name} | {concurrency} | {rate_before:,.0f} | {rate_after:,.0f} | "
                f"{rate_after / rate_before:.2f} | {p99_before:.1f} | {p99_after:.1f} | "
                f"{server[0]:.2f} → {server[1]:.2f} | {data[0]:.2f} → {data[1]:.2f} |"
            )
    load_after = os.getloadavg()
    lines.append("")
    lines.append(
        "Largest worker: before {:.0f} MB, after {:.0f} MB. Load average (1 min) {:.1f} before, {:.1f} after, "
        "on {} cores; {}".format(
            memories["before"].peak_worker_mb,
            memories["after"].peak_worker_mb,
            load_before[0],
            load_after[0],
            os.cpu_count(),
            time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        )
    )
    printed = "\n".join(lines)
    print()
    print(printed)
    return {"base": commit, "rounds": rounds, "figures": figures, "table": printed}
