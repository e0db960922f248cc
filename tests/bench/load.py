"""The load benchmark: Maca as it runs in production, driven by wrk, beside
pgbench doing what a draft save does in SQL against the same PostgreSQL —
the ceiling no server on this machine can pass (issue 10).

1. PostgreSQL: ``DATABASE_URL``, or the embedded one the themes benchmark
   keeps under ``MACA_DATA_DIR/bench/themes``.
2. Data: migrations, ``maca demo --audits N`` (the themes dashboard's
   audits) when that command exists, then audits built through the API as
   the personas would: one per wrk connection for draft saves, and audits
   every agency has submitted to, for the judgement.
3. Maca: ``maca serve`` (uvicorn with uvloop and httptools, ``BENCH_WORKERS``
   workers, logging at warning), tokens from the development issuer.
4. At each concurrency: every endpoint under wrk for ``BENCH_SECONDS``, then
   pgbench; the server's memory sampled from /proc throughout.

Knobs (environment, for ``make bench``): ``BENCH_SECONDS`` (default 5),
``BENCH_WORKERS`` (2: one per core of the 2-core machine this is tuned for),
``BENCH_AUDITS`` (100000: audits behind the themes dashboard),
``BENCH_CONCURRENCY`` ("1,8,32"), ``BENCH_ENDPOINTS`` (all: or a comma
separated list of the table's endpoint names, "draft save (PUT),judgement (GET)").
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import psutil  # type: ignore[import-untyped]  # no stubs in the lock

from server.auth.middleware import SESSION_COOKIE
from server.db import embedded, sessions
from server.settings import Settings, load_settings
from tests.bench import own_sql
from tests.bench.figures import (
    AMENDMENT,
    AMENDMENT_CEILING,
    CEILING,
    DRAFT_SAVE,
    NO_OP,
    OWN_STATEMENTS,
    SUBMIT,
    SUBMIT_CEILING,
    Measurement,
    Memory,
    draft_content,
    from_pgbench,
    from_wrk,
    table,
)
from tests.identity import bearer, token_for
from tests.server.audit_fixtures import CASE_DETAILS, ORGANISATION_OF, complete_answers

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
WRK_SCRIPTS = HERE / "wrk"
PGBENCH_SCRIPT = HERE / "pgbench" / "save_draft.sql"
# Each write, and the pgbench script of its SQL.
PGBENCH_SCRIPTS = {
    DRAFT_SAVE: PGBENCH_SCRIPT,
    SUBMIT: HERE / "pgbench" / "submit.sql",
    AMENDMENT: HERE / "pgbench" / "amend.sql",
}
CEILINGS = {DRAFT_SAVE: CEILING, SUBMIT: SUBMIT_CEILING, AMENDMENT: AMENDMENT_CEILING}

AUDIT = "audit (GET)"
AUDIT_LIST = "audit list (GET)"
JUDGEMENT = "judgement (GET)"
THEMES = "themes dashboard (GET)"
SECTION_PAGE = "section page (GET)"
PLAIN_EVENTS = "pgbench, plain events table"
ORDER = (
    DRAFT_SAVE,
    CEILING,
    PLAIN_EVENTS,
    OWN_STATEMENTS,
    SUBMIT,
    SUBMIT_CEILING,
    AMENDMENT,
    AMENDMENT_CEILING,
    AUDIT,
    AUDIT_LIST,
    JUDGEMENT,
    THEMES,
    SECTION_PAGE,
    NO_OP,
)

# Every agency taking part in the judgement audits submits in full.
SUBMITTING = ("health", "police", "education", "social-care")
# The submitted and amended contributions: health's, of audits the drafts'
# three agencies take part in (the pgbench scripts' counted rows are those
# such a submit and amendment write: 72 and 9, 8 and 2).
WRITING = ("health", "police", "education")
COUNTED_ROWS = {SUBMIT: (72, 9), AMENDMENT: (8, 2), DRAFT_SAVE: (0, 0)}
AMENDMENT_REASON = "Corrected after the panel met"
JUDGEMENT_AUDITS = 4
# The agency section page: the health auditor's longest section to fill in.
SECTION = "planning-implementing-plan"
WARM_UP_SECONDS = 2

# pgbench's rows: a copy of contributions (no foreign keys: an update that
# keeps its keys never checks them), and, beside Maca's own events table
# with whatever its triggers do, one as it was before any trigger.
CEILING_TABLES = """
DROP TABLE IF EXISTS bench_contributions, bench_events;
CREATE TABLE bench_contributions (LIKE contributions INCLUDING DEFAULTS INCLUDING INDEXES);
CREATE TABLE bench_events (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    user_id uuid,
    organisation_id uuid,
    action text NOT NULL,
    audit_id uuid,
    target_organisation_id uuid,
    detail jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX bench_events_audit ON bench_events (audit_id, id) WHERE audit_id IS NOT NULL;
DROP TABLE IF EXISTS bench_contribution_versions, bench_audit_summaries, bench_theme_section_counts,
    bench_theme_agency_counts, bench_theme_versions;
CREATE TABLE bench_contribution_versions (LIKE contribution_versions INCLUDING DEFAULTS INCLUDING INDEXES);
CREATE TABLE bench_audit_summaries (LIKE audit_summaries INCLUDING DEFAULTS INCLUDING INDEXES);
CREATE TABLE bench_theme_section_counts (LIKE theme_section_counts INCLUDING DEFAULTS INCLUDING INDEXES)
    WITH (fillfactor = 70);
CREATE TABLE bench_theme_agency_counts (LIKE theme_agency_counts INCLUDING DEFAULTS INCLUDING INDEXES)
    WITH (fillfactor = 70);
CREATE TABLE bench_theme_versions (LIKE theme_versions INCLUDING DEFAULTS INCLUDING INDEXES);
"""
BENCH_TABLES = (
    "bench_contributions, bench_events, bench_contribution_versions, bench_audit_summaries, "
    "bench_theme_section_counts, bench_theme_agency_counts, bench_theme_versions"
)
# Each pgbench client's own contribution row, as the submit and amendment
# scripts update it (the draft save's upserts it).
BENCH_ROWS = """
INSERT INTO bench_contributions (id, audit_id, organisation_id, status, content, answered, applicable, updated_by)
SELECT md5('contribution' || n::text)::uuid, md5('audit' || n::text)::uuid, $1::uuid, 'in-progress', '{}',
       0, 0, $2::uuid
  FROM generate_series(0, $3::int - 1) n
"""


@dataclass(frozen=True, kw_only=True)
class Knobs:
    seconds: int
    workers: int
    audits: int
    concurrency: tuple[int, ...]
    endpoints: frozenset[str] = frozenset()  # empty: every endpoint

    submits: int = 800  # complete contributions prepared for each submit run
    submit_seconds: int = 2

    @classmethod
    def from_environment(cls) -> Knobs:
        return cls(
            submits=int(os.environ.get("BENCH_SUBMITS", "800")),
            submit_seconds=int(os.environ.get("BENCH_SUBMIT_SECONDS", "2")),
            seconds=int(os.environ.get("BENCH_SECONDS", "5")),
            workers=int(os.environ.get("BENCH_WORKERS", "2")),
            audits=int(os.environ.get("BENCH_AUDITS", "100000")),
            concurrency=tuple(int(c) for c in os.environ.get("BENCH_CONCURRENCY", "1,8,32").split(",")),
            endpoints=frozenset(e.strip() for e in os.environ.get("BENCH_ENDPOINTS", "").split(",") if e.strip()),
        )


def pgbench_binary() -> Path:
    import pgserver

    return Path(pgserver.__file__).parent / "pginstall" / "bin" / "pgbench"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model or platform.processor(),
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


# --- the processes ------------------------------------------------------------------


@contextmanager
def database(settings: Settings, folder: Path) -> Iterator[str]:
    if settings.database_url is not None:
        yield settings.database_url
        return
    server = embedded.start(folder)
    try:
        yield server.url()
    finally:
        server.stop()


def maca(environment: dict[str, str], *args: str, root: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        env=environment,
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    )


@contextmanager
def serving(environment: dict[str, str], base_url: str, log: Path, *, root: Path = ROOT) -> Iterator[psutil.Process]:
    """``maca serve`` (of the code under ``root``) until the block ends; its
    process (the uvicorn supervisor). What it says (warnings and worse) goes
    to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    output = log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve"],
        env=environment,
        cwd=root,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        # Generous: on a shared machine under load, two workers' imports alone took over a minute.
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"maca serve stopped: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("maca serve did not become ready within 180 s")
            time.sleep(0.2)
        yield psutil.Process(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        output.close()


class MemorySampler:
    """The server's resident memory, read from /proc a few times a second."""

    def __init__(self, server: psutil.Process, workers: int) -> None:
        self.server = server
        self.workers = workers
        self.peak_total = 0
        self.peak_worker = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> tuple[int, int]:
        """(all the server's processes, its largest worker) in bytes."""
        processes = [self.server, *self.server.children(recursive=True)]
        sizes: list[tuple[int, bool]] = []
        for process in processes:
            try:
                command = " ".join(process.cmdline())
                # uvicorn runs a single worker in its own process; several
                # are spawned children (multiprocessing's spawn_main).
                is_worker = "spawn_main" in command if self.workers > 1 else process == self.server
                sizes.append((process.memory_info().rss, is_worker))
            except psutil.Error:
                continue
        total = sum(size for size, _ in sizes)
        largest = max((size for size, worker in sizes if worker), default=0)
        self.peak_total = max(self.peak_total, total)
        self.peak_worker = max(self.peak_worker, largest)
        return total, largest

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self.sample()

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def memory(self) -> Memory:
        total, largest = self.sample()
        mb = 2**20
        return Memory(
            peak_total_mb=self.peak_total / mb,
            peak_worker_mb=self.peak_worker / mb,
            end_total_mb=total / mb,
            end_worker_mb=largest / mb,
            workers=self.workers,
        )


# --- the data -----------------------------------------------------------------------


@dataclass(kw_only=True)
class Plan:
    """What the load generators are pointed at."""

    headers: dict[str, dict[str, str]]  # persona → request headers
    # One health auditor per connection, each writing as themselves: one
    # person's writes beyond MACA_WRITES_PER_USER wait or are refused (429),
    # as #18 meant them to be; 32 auditors saving at once are 32 people.
    auditors: list[str]  # their bearer tokens
    draft_paths: list[str]
    draft_body: bytes
    amend_paths: list[str]  # health's submitted contributions, one per connection
    amend_bodies: tuple[bytes, bytes]  # complete, with a reason, one section's grade differing
    submit_body: bytes  # a complete contribution, saved before it is submitted
    read_audit: str  # an audit of submitted contributions, which the pgbench scripts read
    audit_paths: list[str]
    judgement_paths: list[str]
    themes_paths: list[str]
    section_page: tuple[str, str] | None  # (path, cookie)
    organisation_id: str
    user_id: str


def _ok(response: httpx.Response, *expected: int) -> httpx.Response:
    if response.status_code not in (expected or (200,)):
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text[:300]}"
        )
    return response


def an_open_audit(client: httpx.Client, people: dict[str, dict[str, str]], participants: Sequence[str]) -> str:
    """Create and distribute an audit of multi-agency-cp, referred by health."""
    body = {
        "toolkit": "multi-agency-cp",
        "participants": [ORGANISATION_OF[p] for p in participants],
        "referring_organisation": ORGANISATION_OF["health"],
        "case_details": CASE_DETAILS,
        "period_start": "2025-01-01",
        "period_end": "2025-12-31",
    }
    created = _ok(client.post("/api/audits", json=body, headers=people["coordinator"]), 201).json()
    _ok(
        client.post(
            f"/api/audits/{created['id']}/status",
            json={"status": "open"},
            headers={**people["coordinator"], "If-Match": f'"{created["row_version"]}"'},
        )
    )
    return str(created["id"])


def saved_complete(
    client: httpx.Client, people: dict[str, dict[str, str]], url: str, body: bytes, persona: str = "health"
) -> str:
    """Save ``body`` (complete) over the contribution at ``url``; its ETag."""
    current = _ok(client.get(url, headers=people[persona]))
    saved = _ok(
        client.put(
            url,
            content=body,
            headers={**people[persona], "If-Match": current.headers["etag"], "Content-Type": "application/json"},
        )
    )
    return saved.headers["etag"]


def amendments(draft: dict[str, Any]) -> tuple[bytes, bytes]:
    """Two amendments of ``draft`` (complete), each with a reason, differing
    in the first graded section's grade: sent in turn, each changes the
    contribution and the dashboard's counted rows, as an amendment does."""
    first = {**draft, "reason": AMENDMENT_REASON}
    section = next(iter(draft["judgements"]))
    other = json.loads(json.dumps(first))
    other["judgements"][section]["grade"] = 3
    return json.dumps(other).encode(), json.dumps(first).encode()


def auditor_tokens(settings: Settings, connections: int) -> list[str]:
    """Tokens of ``connections`` health auditors, one per connection."""

    async def mint() -> list[str]:
        return [
            await token_for(
                settings,
                "health",
                sub=f"bench-health-auditor-{number}",
                email=f"bench-auditor-{number}@health.example",
                name=f"Bench auditor {number}",
            )
            for number in range(connections)
        ]

    return asyncio.run(mint())


def build_plan(settings: Settings, base_url: str, database_url: str, connections: int) -> Plan:
    personas = ("coordinator", "reviewer", *SUBMITTING)
    people = {p: bearer(asyncio.run(token_for(settings, p))) for p in personas}
    auditors = auditor_tokens(settings, connections)
    with httpx.Client(base_url=base_url, timeout=30) as client:
        me = {p: _ok(client.get("/api/me", headers=people[p])).json() for p in personas}
        for token in auditors:  # each signs in once, as a person does
            _ok(client.get("/api/me", headers=bearer(token)))
        organisation = {p: me[p]["organisation_id"] for p in personas}

        def contribution(audit_id: str, persona: str) -> str:
            return f"/api/audits/{audit_id}/contributions/{organisation[persona]}"

        # One audit per draft-saving connection: each owns its contribution.
        drafts = [an_open_audit(client, people, ["health", "police", "education"]) for _ in range(connections)]
        seen = _ok(client.get(f"/api/audits/{drafts[0]}", headers=people["health"])).json()
        body = json.dumps(draft_content(seen["questions"])).encode()
        for audit_id in drafts:
            url = contribution(audit_id, "health")
            current = _ok(client.get(url, headers=people["health"]))
            _ok(
                client.put(
                    url,
                    content=body,
                    headers={
                        **people["health"],
                        "If-Match": current.headers["etag"],
                        "Content-Type": "application/json",
                    },
                )
            )

        # One submitted contribution per amending connection.
        amended = [an_open_audit(client, people, WRITING) for _ in range(connections)]
        for audit_id in amended:
            url = contribution(audit_id, "health")
            etag = saved_complete(client, people, url, body)
            _ok(client.post(f"{url}/submit", headers={**people["health"], "If-Match": etag}))

        judged = []
        for _ in range(JUDGEMENT_AUDITS):
            audit_id = an_open_audit(client, people, SUBMITTING)
            for persona in SUBMITTING:
                view = _ok(client.get(f"/api/audits/{audit_id}", headers=people[persona])).json()
                url = contribution(audit_id, persona)
                current = _ok(client.get(url, headers=people[persona]))
                saved = _ok(
                    client.put(
                        url,
                        json=complete_answers(view),
                        headers={**people[persona], "If-Match": current.headers["etag"]},
                    )
                )
                _ok(client.post(f"{url}/submit", headers={**people[persona], "If-Match": saved.headers["etag"]}))
            judged.append(audit_id)

        themes = "/api/reports/themes"
        has_themes = client.get(themes, headers=people["reviewer"]).status_code != 404

    cookie = asyncio.run(_session_for(database_url, me["health"]["user_id"]))
    page: str | None = f"/your-audits/{drafts[0]}/sections/{SECTION}"
    with httpx.Client(base_url=base_url, timeout=30) as client:
        shown = client.get(
            f"/your-audits/{drafts[0]}/sections/{SECTION}",
            headers={"Cookie": f"{SESSION_COOKIE}={cookie}", "Accept": "text/html"},
        )
        if shown.status_code != 200 or "govuk-" not in shown.text:
            page = None  # the agency pages (issue 7) are not served yet
    return Plan(
        headers=people,
        auditors=auditors,
        draft_paths=[contribution(a, "health") for a in drafts],
        draft_body=body,
        amend_paths=[contribution(a, "health") for a in amended],
        amend_bodies=amendments(json.loads(body)),
        submit_body=body,
        read_audit=amended[0],
        audit_paths=[f"/api/audits/{a}" for a in drafts],
        judgement_paths=[f"/api/audits/{a}/judgement" for a in judged],
        themes_paths=[themes] if has_themes else [],
        section_page=(page, cookie) if page is not None else None,
        organisation_id=organisation["health"],
        user_id=me["health"]["user_id"],
    )


async def _session_for(database_url: str, user_id: str) -> str:
    """A browser session for the bench, made as signing in makes one."""
    connection = await asyncpg.connect(database_url)
    try:
        key, _csrf = await sessions.create(connection, UUID(user_id), hours=1)
        return key
    finally:
        await connection.close()


async def _sql(database_url: str, statements: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(statements)
    finally:
        await connection.close()


# --- the load -----------------------------------------------------------------------


class Runner:
    def __init__(
        self,
        base_url: str,
        database_url: str,
        folder: Path,
        seconds: int,
        *,
        submits: int = 800,
        submit_seconds: int = 2,
    ) -> None:
        self.base_url = base_url
        self.database_url = database_url
        self.folder = folder
        self.seconds = seconds
        self.submits = submits
        self.submit_seconds = submit_seconds
        self.submit_rate: float | None = None  # the last submit run's, to size the next one's
        self.notes: list[str] = []

    def _plan_file(
        self,
        name: str,
        headers: dict[str, str],
        paths: Sequence[str],
        etags: Sequence[str] = (),
        tokens: Sequence[str] = (),
    ) -> Path:
        lines = [f"H {k}: {v}" for k, v in headers.items()]
        lines += [
            f"P {path} {etags[i] if etags else ''} {tokens[i] if tokens else ''}".rstrip()
            for i, path in enumerate(paths)
        ]
        target = self.folder / f"{name}.plan"
        target.write_text("\n".join(lines) + "\n")
        target.chmod(0o600)
        return target

    def wrk(
        self,
        name: str,
        script: str,
        concurrency: int,
        args: Sequence[Path | str],
        *,
        seconds: int,
        thread_per_connection: bool = False,
    ) -> Measurement:
        threads = concurrency if thread_per_connection else min(concurrency, 2)
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{concurrency}",
            f"-d{seconds}s",
            "--timeout",
            "5s",
            "-s",
            script,
            self.base_url,
            "--",
            *map(str, args),
        ]
        done = subprocess.run(command, cwd=WRK_SCRIPTS, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"wrk ({name}, c={concurrency}) failed: {done.stderr.strip()[-1000:]}")
        return from_wrk(name, concurrency, done.stdout)

    def get(
        self, name: str, headers: dict[str, str], paths: Sequence[str], concurrency: int, *, seconds: int | None = None
    ) -> Measurement:
        plan = self._plan_file("get", headers, paths)
        return self.wrk(name, "get.lua", concurrency, [plan], seconds=seconds or self.seconds)

    def save_drafts(self, plan: Plan, concurrency: int, *, seconds: int | None = None) -> Measurement:
        return self._saves(DRAFT_SAVE, plan, plan.draft_paths, [plan.draft_body], concurrency, seconds=seconds)

    def amend(self, plan: Plan, concurrency: int, *, seconds: int | None = None) -> Measurement:
        """Amendments of submitted contributions, each connection its own,
        two bodies in turn (:func:`amendments`)."""
        return self._saves(AMENDMENT, plan, plan.amend_paths, list(plan.amend_bodies), concurrency, seconds=seconds)

    def _saves(
        self,
        name: str,
        plan: Plan,
        paths: Sequence[str],
        bodies: Sequence[bytes],
        concurrency: int,
        *,
        seconds: int | None,
    ) -> Measurement:
        # Each connection starts from its contribution's current ETag.
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            etags = [_ok(client.get(p, headers=plan.headers["health"])).headers["etag"] for p in paths[:concurrency]]
        tokens = [plan.auditors[i % len(plan.auditors)] for i in range(min(concurrency, len(paths)))]
        plan_file = self._plan_file("saves", plan.headers["health"], paths[:concurrency], etags, tokens)
        body_files = []
        for number, body in enumerate(bodies):
            body_files.append(self.folder / f"body-{number}.json")
            body_files[-1].write_bytes(body)
        return self.wrk(
            name,
            "save_draft.lua",
            concurrency,
            [plan_file, *body_files],
            seconds=seconds or self.seconds,
            thread_per_connection=True,
        )

    def submit(self, plan: Plan, concurrency: int, *, seconds: int | None = None) -> Measurement:
        """Submits of complete contributions, each once: they are prepared
        through the API first (an audit each, health's contribution saved
        complete), three times as many as the last submit run's rate would
        submit (connections do not keep pace with each other), at least 16 a
        connection, at most ``self.submits``; then wrk
        submits them for ``submit_seconds`` (a short run: each costs an
        audit to prepare)."""
        run_seconds = min(seconds or self.submit_seconds, self.submit_seconds)
        count = self.submits if seconds is None else self.submits // 4  # a warm-up: fewer
        if self.submit_rate is not None:
            count = min(count, math.ceil(self.submit_rate * run_seconds * 3))
        count = max(count, 16 * concurrency)
        prepared = self.prepare_submits(plan, count)
        # Connection k submits paths k, k + c, ...: each as its own auditor.
        tokens = [plan.auditors[i % concurrency % len(plan.auditors)] for i in range(len(prepared))]
        plan_file = self._plan_file(
            "submits", {}, [path for path, _ in prepared], [etag for _, etag in prepared], tokens
        )
        measured = self.wrk(
            SUBMIT,
            "submit.lua",
            concurrency,
            [plan_file, str(concurrency)],
            seconds=run_seconds,
            thread_per_connection=True,
        )
        self.submit_rate = measured.per_second
        # A connection that ran out sends its last contribution again: its
        # version is past the ETag (412) or, with a fresh one, submitted (409).
        again = measured.error_kinds.get("409", 0) + measured.error_kinds.get("412", 0)
        if again and seconds is None:
            self.notes.append(
                f"submit at c={concurrency}: {again:,} submits of a contribution already submitted (409, 412): "
                f"a connection's share of the {count:,} prepared ran out; raise BENCH_SUBMITS"
            )
        return measured

    def prepare_submits(self, plan: Plan, count: int) -> list[tuple[str, str]]:
        """``count`` complete, unsubmitted contributions: (path, ETag)."""

        def one(_: int) -> tuple[str, str]:
            with httpx.Client(base_url=self.base_url, timeout=60) as client:
                audit_id = an_open_audit(client, plan.headers, WRITING)
                url = f"/api/audits/{audit_id}/contributions/{plan.organisation_id}"
                return url, saved_complete(client, plan.headers, url, plan.submit_body)

        with ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(one, range(count)))

    def pgbench(
        self, plan: Plan, concurrency: int, *, events: str = "events", write: str = DRAFT_SAVE, read: ReadRow
    ) -> Measurement:
        """pgbench running ``write``'s script (PGBENCH_SCRIPTS) at ``concurrency``."""
        logs = self.folder / f"pgbench-{concurrency}"
        logs.mkdir(exist_ok=True)
        script = self.folder / f"{PGBENCH_SCRIPTS[write].stem}_{events}.sql"
        script.write_text(PGBENCH_SCRIPTS[write].read_text().replace("{events}", events))
        section_rows, agency_rows = COUNTED_ROWS[write]
        content = plan.draft_body if write != AMENDMENT else plan.amend_bodies[0]
        command = [
            str(pgbench_binary()),
            "-n",
            "-M",
            "prepared",
            f"-c{concurrency}",
            f"-j{min(concurrency, 2)}",
            f"-T{self.seconds}",
            "-f",
            str(script),
            "-l",
            f"--log-prefix={logs / 'tx'}",
            "-D",
            f"organisation={plan.organisation_id}",
            "-D",
            f"person={plan.user_id}",
            "-D",
            f"content={content.decode()}",
            "-D",
            f"partnership={read.partnership_id}",
            "-D",
            f"quarter={read.quarter}",
            "-D",
            f"audit={plan.read_audit}",
            "-D",
            f"seal={read.seal}",
            "-D",
            f"section_rows={section_rows}",
            "-D",
            f"agency_rows={agency_rows}",
            self.database_url,
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"pgbench at c={concurrency} failed: {done.stderr.strip()[-1000:]}")
        lines = [line for log in sorted(logs.iterdir()) for line in log.read_text().splitlines()]
        shutil.rmtree(logs)
        return from_pgbench(CEILINGS[write] if events == "events" else PLAIN_EVENTS, concurrency, done.stdout, lines)

    def own_statements(self, plan: Plan, concurrency: int) -> Measurement:
        """pgbench sending the draft save's own statements as the server
        sends them (``own_sql``), one contribution a client as wrk's."""
        logs = self.folder / f"pgbench-own-{concurrency}"
        logs.mkdir(exist_ok=True)
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            me = _ok(client.get("/api/me", headers=plan.headers["health"])).json()
        audits = [path.split("/")[3] for path in plan.draft_paths]
        # A seal is good for 60 seconds (migration 0011): made before each run.
        sealed = asyncio.run(own_sql.prepare(self.database_url, audits[:concurrency], me))
        argv = own_sql.command(
            pgbench_binary(), self.database_url, sealed, me, plan.draft_body.decode(), concurrency, self.seconds, logs
        )
        output, lines = own_sql.run_pgbench(argv, logs)
        return from_pgbench(OWN_STATEMENTS, concurrency, output, lines)


@dataclass(frozen=True)
class ReadRow:
    """What the submit's and amendment's pgbench scripts take from the
    database: the partnership and quarter of the audit they read, and a
    seal as long as the server's (set, never verified: pgbench is the
    database's superuser)."""

    partnership_id: str
    quarter: str
    seal: str


async def read_row(database_url: str, plan: Plan, clients: int) -> ReadRow:
    connection = await asyncpg.connect(database_url)
    try:
        row = await connection.fetchrow(
            "SELECT partnership_id::text, quarter::text FROM audit_summaries WHERE audit_id = $1", UUID(plan.read_audit)
        )
        if row is None:
            raise RuntimeError("the submitted contributions' audit has no summary")
        seal = "0" * 64 + "." + json.dumps({"k": "identity", "u": plan.user_id, "o": plan.organisation_id})
        await connection.execute(BENCH_ROWS, plan.organisation_id, plan.user_id, clients)
        return ReadRow(partnership_id=row["partnership_id"], quarter=row["quarter"], seal=seal)
    finally:
        await connection.close()


def scenarios(plan: Plan, runner: Runner) -> list[tuple[str, Callable[[int, int | None], Measurement]]]:
    """Each endpoint's run at a concurrency (seconds: None for the full time)."""
    found: list[tuple[str, Callable[[int, int | None], Measurement]]] = [
        (DRAFT_SAVE, lambda c, s: runner.save_drafts(plan, c, seconds=s)),
        (SUBMIT, lambda c, s: runner.submit(plan, c, seconds=s)),
        (AMENDMENT, lambda c, s: runner.amend(plan, c, seconds=s)),
        (AUDIT, lambda c, s: runner.get(AUDIT, plan.headers["health"], plan.audit_paths, c, seconds=s)),
        (AUDIT_LIST, lambda c, s: runner.get(AUDIT_LIST, plan.headers["coordinator"], ["/api/audits"], c, seconds=s)),
        (JUDGEMENT, lambda c, s: runner.get(JUDGEMENT, plan.headers["reviewer"], plan.judgement_paths, c, seconds=s)),
    ]
    if plan.themes_paths:
        found.append(
            (THEMES, lambda c, s: runner.get(THEMES, plan.headers["reviewer"], plan.themes_paths, c, seconds=s))
        )
    if plan.section_page is not None:
        path, cookie = plan.section_page
        page_headers = {"Cookie": f"{SESSION_COOKIE}={cookie}", "Accept": "text/html"}
        found.append((SECTION_PAGE, lambda c, s: runner.get(SECTION_PAGE, page_headers, [path], c, seconds=s)))
    found.append((NO_OP, lambda c, s: runner.get(NO_OP, {}, ["/healthz"], c, seconds=s)))
    return found


def load_demo(environment: dict[str, str], audits: int, *, root: Path = ROOT) -> str:
    """The themes dashboard's audits, from ``maca demo`` when it exists."""
    probe = subprocess.run([sys.executable, "-m", "server.cli", "demo", "--help"], cwd=root, capture_output=True)
    if probe.returncode != 0:
        return "maca demo --audits is not there yet: no themes dashboard data"
    started = time.monotonic()
    maca(environment, "demo", "--audits", str(audits), root=root)
    return f"maca demo --audits {audits}: {time.monotonic() - started:.0f} s"


def run() -> dict[str, Any]:
    knobs = Knobs.from_environment()
    started = time.monotonic()
    # The machine is shared: say how busy it was, beside the figures.
    load_before = os.getloadavg()
    folder = Path(tempfile.mkdtemp(prefix="maca-bench-"))
    port = free_port()
    base = load_settings()
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("MACA_", "OIDC_"))} | {
        "MACA_ENV": "development",
        "MACA_HOST": "127.0.0.1",
        "MACA_PORT": str(port),
        "MACA_WORKERS": str(knobs.workers),
        "MACA_LOG_LEVEL": "warning",
        # No e-mails sent beside the server (run `maca worker` apart, as production may):
        # the bench's own audits queue thousands (each to every auditor of each agency),
        # whose sending fell in the measurements. Writes still queue theirs.
        "MACA_WORKER": "off",
        "MACA_DATA_DIR": str(folder),
    }
    # Kept after the run: what the server logged at warning and above.
    server_log = base.data_path / "bench" / "server.log"
    notes: list[str] = []
    measurements: list[Measurement] = []
    try:
        # The embedded database is the one the themes benchmark keeps, so the
        # 100,000 audits are generated once per clone (maca demo adds only
        # what is missing) and make bench stays within its 10 minutes.
        with database(base, base.data_path / "bench" / "themes") as database_url:
            environment["DATABASE_URL"] = database_url
            settings = load_settings(environment)
            maca(environment, "migrate")
            notes.append(load_demo(environment, knobs.audits))
            connections = max(knobs.concurrency)
            with (
                serving(environment, settings.base_url, server_log) as server,
                MemorySampler(server, knobs.workers) as memory,
            ):
                plan = build_plan(settings, settings.base_url, database_url, connections)
                runner = Runner(
                    settings.base_url,
                    database_url,
                    folder,
                    knobs.seconds,
                    submits=knobs.submits,
                    submit_seconds=knobs.submit_seconds,
                )
                prepared = [
                    (name, measure)
                    for name, measure in scenarios(plan, runner)
                    if not knobs.endpoints or name in knobs.endpoints
                ]
                print(f"  data ready after {time.monotonic() - started:.0f} s; warming up", flush=True)
                for _name, measure in prepared:
                    measure(8, WARM_UP_SECONDS)
                asyncio.run(_sql(database_url, CEILING_TABLES))
                read = asyncio.run(read_row(database_url, plan, max(knobs.concurrency)))
                for concurrency in knobs.concurrency:
                    for name, measure in prepared:
                        measurements.append(measure(concurrency, None))
                        print(f"  {name} c={concurrency}: {measurements[-1].per_second:,.0f}/s", flush=True)
                        if name in CEILINGS:
                            ceilings = [runner.pgbench(plan, concurrency, write=name, read=read)]
                            if name == DRAFT_SAVE:
                                ceilings.append(runner.pgbench(plan, concurrency, events="bench_events", read=read))
                                ceilings.append(runner.own_statements(plan, concurrency))
                            measurements.extend(ceilings)
                            for ceiling in ceilings:
                                print(f"  {ceiling.name} c={concurrency}: {ceiling.per_second:,.0f}/s", flush=True)
                asyncio.run(_sql(database_url, f"DROP TABLE {BENCH_TABLES}; DROP TABLE IF EXISTS bench_owned;"))
                figures = memory.memory()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    wanted = knobs.endpoints or frozenset(ORDER)
    if THEMES in wanted and not any(m.name == THEMES for m in measurements):
        notes.append("themes dashboard: GET /api/reports/themes not served yet")
    if SECTION_PAGE in wanted and not any(m.name == SECTION_PAGE for m in measurements):
        notes.append("section page: no agency section page served yet")
    notes.extend(runner.notes)
    measurements.sort(key=lambda m: (ORDER.index(m.name), m.concurrency))
    printed = table(measurements, figures)
    print()
    print(printed)
    load_after = os.getloadavg()
    notes.append(
        f"load average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after, on {os.cpu_count()} cores"
    )
    for note in notes:
        print(f"note: {note}")
    return {
        "machine": machine(),
        "workers": knobs.workers,
        "seconds_per_run": knobs.seconds,
        "draft_bytes": len(plan.draft_body),
        "measurements": [m.as_json() for m in measurements],
        "memory": asdict(figures),
        "notes": notes,
        "table": printed,
        "elapsed_seconds": round(time.monotonic() - started, 1),
    }
