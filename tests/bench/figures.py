"""The load benchmark's pure parts: the draft an auditor saves, reading what
wrk and pgbench report, and the table ``make bench`` prints.

No I/O here, so these are tested like any other function
(``tests/bench/test_figures.py``); ``tests/bench/load.py`` runs the processes.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

# What an agency auditor's draft looks like on the wire: every question it
# answers with a comment, every section graded with its impact (~9 KB).
DRAFT_BYTES = 9_000

# A comment in the words auditors write; never anything about a person.
_COMMENT = (
    "Seen in the case records and confirmed with the named practitioner; the plan was followed "
    "and reviewed at supervision, with actions recorded and dates met. "
)

_SAMPLE: dict[str, Any] = {
    "grade": 2,
    "yes-no": "yes",
    "yes-partly-no": "partly",
    "yes-sometimes-no": "sometimes",
    "always-sometimes-never": "sometimes",
    "tick": True,
    "date": "2025-03-01",
    "text": "Recorded in the case notes and in the chronology",
    "number": 1,
    "evidence": [{"document": "Case notes", "date": "2025-03-01"}],
}


def _answer_value(question: Mapping[str, Any]) -> Any:
    kind = question["kind"]
    if kind in _SAMPLE:
        return _SAMPLE[kind]
    if kind == "single-choice":
        return question["choices"][0]["value"]
    if kind == "multiple-choice":
        return [question["choices"][0]["value"]]
    if kind == "rows":
        return [{c["id"]: "x" for c in question["columns"] if c.get("kind", "text") == "text"}]
    raise ValueError(f"no sample answer for a {kind} question")


def draft_content(questions: Mapping[str, Any], target_bytes: int = DRAFT_BYTES) -> dict[str, Any]:
    """A draft answering every agency question in ``questions`` (the
    ``questions`` of ``GET /api/audits/{id}`` as the auditor sees it), with
    a comment wherever the question has a comments box, every graded
    section judged; comments and free-text answers are lengthened evenly so
    the JSON comes to about ``target_bytes``."""
    agency_sections = [s for s in questions["sections"] if s.get("completed_by", "agency") == "agency"]
    asked = [question for section in agency_sections for question in section.get("questions", [])]
    if not asked:
        raise ValueError("the auditor answers no questions on this audit")
    graded = [s["id"] for s in agency_sections if s.get("judgement")]

    def build(words: int) -> dict[str, Any]:
        written = (_COMMENT * (1 + words // len(_COMMENT)))[:words].strip()
        answers: dict[str, Any] = {}
        for question in asked:
            value = written if question["kind"] == "text" else _answer_value(question)
            answers[question["id"]] = {"value": value}
            if question.get("comments", "none") != "none":
                answers[question["id"]]["comments"] = written
        return {
            "answers": answers,
            "judgements": {s: {"grade": 2, "impact": "Plans were followed through and reviewed"} for s in graded},
            "overall": {"grade": 2, "impact": "Good multi-agency work overall"},
        }

    slots = sum(q["kind"] == "text" for q in asked) + sum(q.get("comments", "none") != "none" for q in asked)
    bare = len(json.dumps(build(1)))
    return build(min(max(1, (target_bytes - bare) // max(slots, 1)), 2_000))


# --- what the load generators report ---------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Measurement:
    """One endpoint (or pgbench) at one concurrency."""

    name: str
    concurrency: int
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    error_kinds: dict[str, int] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def as_json(self) -> dict[str, Any]:
        figures = asdict(self)
        figures["per_second"] = round(self.per_second, 1)
        return figures


_WRK_LINE = re.compile(r"^BENCH (\{.*\})\s*$", re.MULTILINE)


def from_wrk(name: str, concurrency: int, output: str) -> Measurement:
    """A measurement from the line ``tests/bench/wrk/report.lua`` prints.

    Errors are every response of 400 or more, by status code (the
    scripts count them: ``statuses``), and every socket error or timeout;
    wrk counts a request whose connection failed as not made."""
    found = _WRK_LINE.search(output)
    if found is None:
        raise ValueError(f"wrk printed no figures for {name}: {output.strip()[-500:]}")
    figures = json.loads(found.group(1))
    sockets = ("connect", "read", "write", "timeout")
    if "statuses" in figures:
        # Told apart by status code, as the scripts count them.
        kinds = {code: int(n) for code, n in sorted(figures["statuses"].items()) if int(code) >= 400 and n}
    else:
        kinds = {"status": int(figures["status"])} if figures["status"] else {}
    kinds |= {k: int(figures[k]) for k in sockets if figures[k]}
    return Measurement(
        name=name,
        concurrency=concurrency,
        requests=int(figures["requests"]),
        seconds=figures["duration_us"] / 1e6,
        errors=sum(kinds.values()),
        p50_ms=figures["p50_us"] / 1000,
        p95_ms=figures["p95_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        error_kinds=kinds,
    )


def percentile(sorted_values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0–100) of sorted values."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(share / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


_PGBENCH_SECONDS = re.compile(r"^duration: (\d+) s", re.MULTILINE)
_PGBENCH_FAILED = re.compile(r"^number of failed transactions: (\d+)", re.MULTILINE)
_PGBENCH_TPS = re.compile(r"^tps = ([\d.]+) \(without initial connection time\)", re.MULTILINE)


def from_pgbench(name: str, concurrency: int, output: str, log_lines: Iterable[str]) -> Measurement:
    """A measurement from pgbench's summary and its per-transaction log
    (``-l``: the third field is the latency in microseconds)."""
    tps = _PGBENCH_TPS.search(output)
    if tps is None:
        raise ValueError(f"pgbench printed no tps: {output.strip()[-500:]}")
    latencies = sorted(int(line.split()[2]) / 1000 for line in log_lines if line.strip())
    failed = _PGBENCH_FAILED.search(output)
    errors = int(failed.group(1)) if failed else 0
    # Throughput from the log's own count and pgbench's rate, so requests and
    # seconds agree with the tps pgbench printed.
    rate = float(tps.group(1))
    seconds = len(latencies) / rate if rate > 0 else 0.0
    return Measurement(
        name=name,
        concurrency=concurrency,
        requests=len(latencies),
        seconds=seconds,
        errors=errors,
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        p99_ms=percentile(latencies, 99),
        error_kinds={"failed": errors} if errors else {},
    )


# --- the table -------------------------------------------------------------------

# What each kind of error is, for the note under a table that has any.
ERROR_KINDS = {
    "409": "409: a conflict (a submit of a contribution already submitted: the prepared ones ran out)",
    "412": "412: a stale ETag (a connection's If-Match no longer the contribution's version)",
    "429": (
        "429: shed load, not a failure: one person's writes beyond MACA_WRITES_PER_USER running and four times "
        "as many waiting are refused (issue 18); in a benchmark, connections writing as one person"
    ),
    "503": (
        "503: shed load, not a failure: a request waited MACA_DB_TIMEOUT_SECONDS for a database connection "
        "and was told to try again (Retry-After) rather than queue without bound (issue 18)"
    ),
    "timeout": "timeout: no answer within wrk's 5 s (counted by wrk, the request still answered later)",
    "connect": "connect: the connection was refused or reset",
    "read": "read: the connection failed while reading the answer",
    "write": "write: the connection failed while sending the request",
    "failed": "failed: pgbench transactions that failed (a deadlock or a serialization failure)",
    "status": "status: a response of 400 or more (not told apart: an old wrk script)",
}


def errors_cell(m: Measurement) -> str:
    """The errors, by kind: "0", or "347 (503: 340; timeout: 7)"."""
    if not m.errors:
        return "0"
    kinds = "; ".join(f"{kind}: {n:,}" for kind, n in m.error_kinds.items())
    return f"{m.errors:,} ({kinds})" if kinds else f"{m.errors:,}"


def error_notes(measurements: Iterable[Measurement]) -> list[str]:
    """What each kind of error found in ``measurements`` is, once each."""
    seen: list[str] = []
    for m in measurements:
        for kind in m.error_kinds:
            if kind not in seen:
                seen.append(kind)
    return [ERROR_KINDS.get(kind, f"{kind}: HTTP {kind}") for kind in sorted(seen)]


@dataclass(frozen=True, kw_only=True)
class Memory:
    """The server's resident memory in MB: all its processes, and its largest worker."""

    peak_total_mb: float
    peak_worker_mb: float
    end_total_mb: float
    end_worker_mb: float
    workers: int


DRAFT_SAVE = "draft save (PUT)"
CEILING = "pgbench draft save"  # pgbench rows all start with "pgbench"
SUBMIT = "submit (POST)"
SUBMIT_CEILING = "pgbench submit"
AMENDMENT = "amendment (PUT)"
AMENDMENT_CEILING = "pgbench amendment"
# The draft save's second ceiling: pgbench sending Maca's own statements as
# maca_app, sealed, row-level security on (tests/bench/own_sql.py).
OWN_STATEMENTS = "pgbench draft save, Maca's own statements"
# The HTTP server's own ceiling on this machine: a request that does nothing
# (no database, no session), through the same middleware, uvicorn and wrk.
# What no endpoint can pass here; a yardstick, not a target.
NO_OP = "no-op (GET /healthz)"
# Each write measured beside pgbench doing its SQL, and the row of pgbench's.
WRITES = {DRAFT_SAVE: CEILING, SUBMIT: SUBMIT_CEILING, AMENDMENT: AMENDMENT_CEILING}

# The targets; reported beside the figures, never asserted.
TARGET_CONCURRENCY = 32
P99_TARGET_MS = 50.0
RSS_TARGET_MB = 200.0
RATE_TARGETS = {"judgement (GET)": 2_000.0, "section page (GET)": 1_000.0}
P95_TARGETS = {"themes dashboard (GET)": 200.0}
CEILING_SHARE_TARGET = 0.5


def ceiling_ratios(measurements: Sequence[Measurement], write: str = DRAFT_SAVE) -> dict[int, float]:
    """Maca's ``write`` (a draft save, a submit, an amendment) per second
    over pgbench's transactions of the same SQL, at each concurrency."""
    saves = {m.concurrency: m.per_second for m in measurements if m.name == write}
    ceilings = {m.concurrency: m.per_second for m in measurements if m.name == WRITES[write]}
    return {c: saves[c] / ceilings[c] for c in sorted(saves) if ceilings.get(c)}


def own_statement_ratios(measurements: Sequence[Measurement]) -> dict[int, float]:
    """The draft save per second over pgbench's transactions of the very
    statements the server sends for it: what HTTP and Python add to the
    database's own work for the same save."""
    saves = {m.concurrency: m.per_second for m in measurements if m.name == DRAFT_SAVE}
    own = {m.concurrency: m.per_second for m in measurements if m.name == OWN_STATEMENTS}
    return {c: saves[c] / own[c] for c in sorted(saves) if own.get(c)}


def targets(measurements: Sequence[Measurement], memory: Memory | None) -> list[tuple[str, bool]]:
    """Each target of the issue, and whether this run met it."""
    return [(what, met) for what, met, _ratio in targets_with_ratios(measurements, memory)]


def targets_with_ratios(measurements: Sequence[Measurement], memory: Memory | None) -> list[tuple[str, bool, float]]:
    """Each target, whether this run met it, and how far: the measured
    figure over the target (a rate, a share of pgbench) or the target over
    the measured figure (a latency, a size), so that 1.0 or more is met."""
    at_target = [m for m in measurements if m.concurrency == TARGET_CONCURRENCY]
    verdicts: list[tuple[str, bool, float]] = []
    for write in WRITES:
        ratios = ceiling_ratios(measurements, write)
        what = write.split(" (")[0]
        for concurrency in (8, TARGET_CONCURRENCY):
            ratio = ratios.get(concurrency)
            if ratio is not None:
                verdicts.append(
                    (
                        f"{what} at c={concurrency} ≥ 50% of pgbench ({ratio:.0%})",
                        ratio >= CEILING_SHARE_TARGET,
                        ratio / CEILING_SHARE_TARGET,
                    )
                )
    for m in at_target:
        if not m.name.startswith("pgbench") and m.name != NO_OP:
            verdicts.append(
                (
                    f"{m.name} p99 < {P99_TARGET_MS:.0f} ms ({m.p99_ms:.1f})",
                    m.p99_ms < P99_TARGET_MS,
                    P99_TARGET_MS / m.p99_ms if m.p99_ms else math.inf,
                )
            )
        if m.name in RATE_TARGETS:
            goal = RATE_TARGETS[m.name]
            verdicts.append(
                (f"{m.name} ≥ {goal:,.0f}/s ({m.per_second:,.0f})", m.per_second >= goal, m.per_second / goal)
            )
        if m.name in P95_TARGETS:
            goal = P95_TARGETS[m.name]
            verdicts.append(
                (
                    f"{m.name} p95 < {goal:.0f} ms ({m.p95_ms:.1f})",
                    m.p95_ms < goal,
                    goal / m.p95_ms if m.p95_ms else math.inf,
                )
            )
    if memory is not None:
        verdicts.append(
            (
                f"RSS per worker < {RSS_TARGET_MB:.0f} MB ({memory.peak_worker_mb:.0f} at peak)",
                memory.peak_worker_mb < RSS_TARGET_MB,
                RSS_TARGET_MB / memory.peak_worker_mb if memory.peak_worker_mb else math.inf,
            )
        )
    return verdicts


def table(measurements: Sequence[Measurement], memory: Memory | None) -> str:
    """One table, as ``make bench`` prints it and the README shows it
    (GitHub Markdown)."""
    ratios = {write: ceiling_ratios(measurements, write) for write in WRITES}
    rows = [
        "| endpoint | c | req/s | p50 ms | p95 ms | p99 ms | errors | vs pgbench |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for m in measurements:
        ratio = f"{ratios[m.name][m.concurrency]:.0%}" if m.concurrency in ratios.get(m.name, {}) else ""
        rows.append(
            f"| {m.name} | {m.concurrency} | {m.per_second:,.0f} | {m.p50_ms:.1f} | {m.p95_ms:.1f} | "
            f"{m.p99_ms:.1f} | {errors_cell(m)} | {ratio} |"
        )
    own = own_statement_ratios(measurements)
    if own:
        rows.append("")
        rows.append(
            "Draft save over pgbench sending Maca's own statements (as maca_app, sealed, row-level security on): "
            + ", ".join(f"{ratio:.0%} at c={c}" for c, ratio in own.items())
            + "."
        )
    notes = error_notes(measurements)
    if notes:
        rows.append("")
        rows.extend(f"Errors: {note}." for note in notes)
    if memory is not None:
        rows.append("")
        rows.append(
            f"Server RSS: peak {memory.peak_total_mb:.0f} MB over {memory.workers} workers and their supervisor, "
            f"largest worker {memory.peak_worker_mb:.0f} MB; at the end {memory.end_total_mb:.0f} MB, "
            f"largest worker {memory.end_worker_mb:.0f} MB."
        )
    verdicts = targets_with_ratios(measurements, memory)
    if verdicts:
        rows.append("")
        rows.append("| target | met? | measured / target |")
        rows.append("|---|---|--:|")
        rows.extend(f"| {what} | {'met' if met else 'MISSED'} | {ratio:.2f} |" for what, met, ratio in verdicts)
    return "\n".join(rows)
