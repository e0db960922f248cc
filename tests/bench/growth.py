"""How cost grows with the number of audits (issue 24): the draft save, the
judgement, the audit list and the themes dashboard measured over 10,000 and
100,000 audits (``BENCH_GROWTH``), each should stay flat.

One embedded PostgreSQL per size, kept under
``MACA_DATA_DIR/bench/growth/<size>`` so that each is generated once per
clone: ``maca demo --audits N`` adds what is missing (an audit's id follows
from the seed and its number, so a database already of that size gets
nothing), ``maca serve`` starts on it, and each endpoint runs under wrk at
``BENCH_GROWTH_CONCURRENCY`` (8) for ``BENCH_SECONDS``. A database per size,
rather than one grown from size to size, lets the largest be generated
ahead of time (niced, while other work goes on) and measured later on a
quiet machine, and lets a size be measured again without generating again.

1,000,000 audits is not in the default: ``maca demo`` generates about 700
audits a second on the 2-core machine (24 minutes for a million before
anything is measured, beyond ``make bench``'s time); ``BENCH_GROWTH=10000,
100000,1000000`` measures it where there is time, and a second run reuses
the generated database.
"""

from __future__ import annotations

import os
import time
from typing import Any

from server.settings import load_settings
from tests.bench.figures import DRAFT_SAVE, Measurement, error_notes, errors_cell
from tests.bench.load import (
    AUDIT_LIST,
    JUDGEMENT,
    THEMES,
    Runner,
    build_plan,
    database,
    free_port,
    load_demo,
    maca,
    scenarios,
    serving,
)

MEASURED = (DRAFT_SAVE, JUDGEMENT, AUDIT_LIST, THEMES)


def run() -> dict[str, Any]:
    sizes = [int(n) for n in os.environ.get("BENCH_GROWTH", "10000,100000").split(",")]
    concurrency = int(os.environ.get("BENCH_GROWTH_CONCURRENCY", "8"))
    seconds = int(os.environ.get("BENCH_SECONDS", "5"))
    workers = os.environ.get("BENCH_WORKERS", "2")
    base = load_settings()
    folder = base.data_path.resolve() / "bench" / "growth"  # wrk runs elsewhere: absolute
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("MACA_", "OIDC_"))} | {
        "MACA_ENV": "development",
        "MACA_HOST": "127.0.0.1",
        "MACA_PORT": str(port),
        "MACA_WORKERS": workers,
        "MACA_LOG_LEVEL": "warning",
        "MACA_WORKER": "off",  # as tests/bench/load.py says why
        "MACA_DATA_DIR": str(folder / "data"),
        "MACA_METRICS_PORT": "0",
    }
    rows: dict[int, dict[str, Measurement]] = {}
    generated: dict[int, float] = {}
    load_before = os.getloadavg()
    for size in sorted(sizes):
        with database(base, folder / str(size) / "db") as database_url:
            environment["DATABASE_URL"] = database_url
            settings = load_settings(environment)
            maca(environment, "migrate")
            started = time.monotonic()
            load_demo(environment, size)
            generated[size] = time.monotonic() - started
            print(f"  {size:,} audits ready ({generated[size]:.0f} s)", flush=True)
            if os.environ.get("BENCH_GROWTH_GENERATE_ONLY"):
                continue
            with serving(environment, settings.base_url, folder / "server.log"):
                plan = build_plan(settings, settings.base_url, database_url, concurrency)
                runner = Runner(settings.base_url, database_url, folder, seconds)
                chosen = [(name, measure) for name, measure in scenarios(plan, runner) if name in MEASURED]
                for _name, measure in chosen:
                    measure(concurrency, 2)
                rows[size] = {}
                for name, measure in chosen:
                    rows[size][name] = measure(concurrency, None)
                    print(f"  {size:,} audits, {name}: {rows[size][name].per_second:,.0f}/s", flush=True)
    load_after = os.getloadavg()
    if not rows:  # BENCH_GROWTH_GENERATE_ONLY: the databases are ready, nothing measured
        return {"sizes": [], "generation_seconds": generated, "figures": {}, "table": ""}
    smallest = min(rows)
    lines = [
        f"How cost grows: req/s (p99 ms; errors by kind, if any) at c={concurrency}, {workers} workers, "
        f"{seconds} s a run; ratio to {smallest:,} audits.",
        "",
        "| audits | " + " | ".join(MEASURED) + " |",
        "|--:|" + "--:|" * len(MEASURED),
    ]
    for size in sorted(rows):
        cells = []
        for name in MEASURED:
            m = rows[size].get(name)
            first = rows[smallest].get(name)
            if m is None or first is None:
                cells.append("")
                continue
            errors = f", errors {errors_cell(m)}" if m.errors else ""
            cells.append(f"{m.per_second:,.0f} ({m.p99_ms:.0f}) ×{m.per_second / first.per_second:.2f}{errors}")
        lines.append(f"| {size:,} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.extend(f"Errors: {note}." for note in error_notes(m for by_name in rows.values() for m in by_name.values()))
    lines.append(
        f"Load average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after, on {os.cpu_count()} cores."
    )
    printed = "\n".join(lines)
    print()
    print(printed)
    return {
        "sizes": sorted(rows),
        "generation_seconds": generated,
        "figures": {str(size): {n: m.as_json() for n, m in by_name.items()} for size, by_name in rows.items()},
        "table": printed,
    }


__all__ = ["run"]
