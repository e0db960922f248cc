"""How Maca scales out on this machine (issue 24): one ``maca serve`` with 1,
2 and 4 workers, then two ``maca serve`` processes (one worker each) behind
PgBouncer in transaction mode, as replicas would be, each given half of the
connections by a wrk of its own. The draft save and the audit read at
``BENCH_SCALE_CONCURRENCY`` (32) for ``BENCH_SECONDS``, over
``BENCH_SCALE_AUDITS`` (10,000) generated audits.

On a 2-core machine that PostgreSQL and wrk share with Maca, more workers
than cores cannot add much: the table says how much each step adds here, for
deploy/README.md's sizing to read per core.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

from server.db import pool
from server.settings import load_settings
from tests.bench.figures import DRAFT_SAVE, Measurement, error_notes, errors_cell
from tests.bench.load import (
    AUDIT,
    Plan,
    Runner,
    auditor_tokens,
    build_plan,
    database,
    free_port,
    load_demo,
    maca,
    serving,
)
from tests.deploy.test_pgbouncer import _run_as, _server_address, find_pgbouncer
from tests.identity import bearer, token_for

WORKER_COUNTS = (1, 2, 4)


@contextmanager
def pgbouncer(server_url: str, folder: Path) -> Iterator[int]:
    """PgBouncer in transaction mode in front of ``server_url``; its port."""
    binary = find_pgbouncer()
    if binary is None:
        raise RuntimeError("pgbouncer is not installed (make test-packages installs it)")
    host, port, user, password = _server_address(server_url)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)
    listen = free_port()
    users = folder / "userlist.txt"
    app_password = pool.app_password(load_settings({}), server_url) or ""
    users.write_text(f'"{user}" "{password}"\n"{pool.APP_ROLE}" "{app_password}"\n')
    config = folder / "pgbouncer.ini"
    config.write_text(
        "\n".join(
            [
                "[databases]",
                f"* = host={host} port={port}",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {listen}",
                "unix_socket_dir =",
                "pool_mode = transaction",
                "auth_type = trust",
                f"auth_file = {users}",
                "max_client_conn = 400",
                "default_pool_size = 20",
                "server_reset_query =",
                "ignore_startup_parameters = extra_float_digits",
                "",
            ]
        )
    )
    for file in (users, config):
        file.chmod(0o644)
    run_as = _run_as(host)
    log = (folder / "pgbouncer.log").open("wb")
    process = subprocess.Popen(
        [binary, *(["-u", run_as] if run_as else []), str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"pgbouncer stopped: {(folder / 'pgbouncer.log').read_text()[-1000:]}")
            try:
                with socket.create_connection(("127.0.0.1", listen), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("pgbouncer did not listen within 15 s") from None
                time.sleep(0.1)
        yield listen
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def through(port: int, server_url: str) -> str:
    _host, _port, user, password = _server_address(server_url)
    database = server_url.split("?")[0].rsplit("/", 1)[-1] or "postgres"
    credentials = user + (f":{password}" if password else "")
    return f"postgresql://{credentials}@127.0.0.1:{port}/{database}"


def environment_for(folder: Path, database_url: str, workers: int, **extra: str) -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith(("MACA_", "OIDC_"))} | {
        "MACA_ENV": "development",
        "MACA_HOST": "127.0.0.1",
        "MACA_PORT": str(free_port()),
        "MACA_WORKERS": str(workers),
        "MACA_LOG_LEVEL": "warning",
        "MACA_WORKER": "off",  # as tests/bench/load.py says why
        "MACA_DATA_DIR": str(folder),
        "MACA_METRICS_PORT": "0",
        "DATABASE_URL": database_url,
        **extra,
    }


def together(measures: list[Callable[[], Measurement]], name: str, concurrency: int) -> Measurement:
    """Several wrk runs at once (one per server): their rates added, the
    worst of their latencies."""
    with ThreadPoolExecutor(max_workers=len(measures)) as threads:
        done = list(threads.map(lambda measure: measure(), measures))
    kinds = {kind for m in done for kind in m.error_kinds}
    return dataclasses.replace(
        done[0],
        name=name,
        concurrency=concurrency,
        requests=sum(m.requests for m in done),
        seconds=max(m.seconds for m in done),
        p50_ms=max(m.p50_ms for m in done),
        p95_ms=max(m.p95_ms for m in done),
        p99_ms=max(m.p99_ms for m in done),
        errors=sum(m.errors for m in done),
        error_kinds={kind: sum(m.error_kinds.get(kind, 0) for m in done) for kind in sorted(kinds)},
    )


def run() -> dict[str, Any]:
    concurrency = int(os.environ.get("BENCH_SCALE_CONCURRENCY", "32"))
    seconds = int(os.environ.get("BENCH_SECONDS", "5"))
    audits = int(os.environ.get("BENCH_SCALE_AUDITS", "10000"))
    base = load_settings()
    folder = base.data_path.resolve() / "bench" / "scale"  # wrk runs elsewhere: absolute
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, Measurement, Measurement]] = []
    load_before = os.getloadavg()
    with database(base, folder / "db") as database_url:
        first = environment_for(folder / "data", database_url, 1)
        maca(first, "migrate")
        load_demo(first, audits)
        for workers in WORKER_COUNTS:
            environment = environment_for(folder / "data", database_url, workers)
            settings = load_settings(environment)
            with serving(environment, settings.base_url, folder / "server.log"):
                plan = build_plan(settings, settings.base_url, database_url, concurrency)
                runner = Runner(settings.base_url, database_url, folder, seconds)
                runner.save_drafts(plan, 8, seconds=2)
                save = runner.save_drafts(plan, concurrency)
                read = runner.get(AUDIT, plan.headers["health"], plan.audit_paths, concurrency)
            rows.append((f"one `maca serve`, {workers} worker{'s' if workers > 1 else ''}", save, read))
            print(f"  {rows[-1][0]}: save {save.per_second:,.0f}/s, read {read.per_second:,.0f}/s", flush=True)
        with ExitStack() as stack:
            bouncer = stack.enter_context(pgbouncer(database_url, folder / "pgbouncer"))
            pooled = through(bouncer, database_url)
            servers: list[tuple[Plan, Runner]] = []
            half = concurrency // 2
            plan_of_all: Plan | None = None
            for index in range(2):
                # One data directory, as replicas share one configuration: the
                # development issuer's signing key is kept there.
                environment = environment_for(
                    folder / "data", pooled, 1, MACA_DB_STATEMENT_CACHE="0", MACA_DB_POOL_MAX="10"
                )
                settings = load_settings(environment)
                stack.enter_context(serving(environment, settings.base_url, folder / f"server-{index}.log"))
                if plan_of_all is None:
                    plan_of_all = build_plan(settings, settings.base_url, database_url, concurrency)
                # Each server's development issuer names its own address.
                own_tokens = {p: bearer(asyncio.run(token_for(settings, p))) for p in plan_of_all.headers}
                own_auditors = auditor_tokens(settings, concurrency)[index * half : (index + 1) * half]
                for token in own_auditors:
                    httpx.get(f"{settings.base_url}/api/me", headers=bearer(token), timeout=30).raise_for_status()
                mine = dataclasses.replace(
                    plan_of_all,
                    headers=own_tokens,
                    auditors=own_auditors,
                    draft_paths=plan_of_all.draft_paths[index * half : (index + 1) * half],
                    audit_paths=plan_of_all.audit_paths[index * half : (index + 1) * half],
                )
                servers.append((mine, Runner(settings.base_url, database_url, folder / f"run-{index}", seconds)))
            for _, runner in servers:
                runner.folder.mkdir(parents=True, exist_ok=True)
            together([lambda p=p, r=r: r.save_drafts(p, half, seconds=2) for p, r in servers], DRAFT_SAVE, concurrency)
            save = together([lambda p=p, r=r: r.save_drafts(p, half) for p, r in servers], DRAFT_SAVE, concurrency)
            read = together(
                [lambda p=p, r=r: r.get(AUDIT, p.headers["health"], p.audit_paths, half) for p, r in servers],
                AUDIT,
                concurrency,
            )
            rows.append(("two `maca serve` (1 worker each) behind PgBouncer", save, read))
            print(f"  {rows[-1][0]}: save {save.per_second:,.0f}/s, read {read.per_second:,.0f}/s", flush=True)
    load_after = os.getloadavg()
    lines = [
        f"How it scales out on {os.cpu_count()} cores: c={concurrency}, {seconds} s a run, {audits:,} audits.",
        "",
        "| servers | draft save req/s | p99 ms | errors | audit read req/s | p99 ms | errors |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for label, save, read in rows:
        lines.append(
            f"| {label} | {save.per_second:,.0f} | {save.p99_ms:.1f} | {errors_cell(save)} | "
            f"{read.per_second:,.0f} | {read.p99_ms:.1f} | {errors_cell(read)} |"
        )
    lines.append("")
    lines.extend(f"Errors: {note}." for note in error_notes([m for _, *measured in rows for m in measured]))
    lines.append(f"Load average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after.")
    printed = "\n".join(lines)
    print()
    print(printed)
    return {
        "rows": [{"servers": label, "save": s.as_json(), "read": r.as_json()} for label, s, r in rows],
        "table": printed,
    }
