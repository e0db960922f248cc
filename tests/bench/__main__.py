"""`make bench`: run every benchmark, print one table, save it as JSON."""

from __future__ import annotations

import json
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from server.settings import load_settings


def machine() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "cpus": __import__("os").cpu_count(),
    }


def merge_benchmark() -> dict[str, Any]:
    from merging import bench

    return bench.run()


BENCHMARKS = {"merge": merge_benchmark}


def main() -> int:
    started = time.monotonic()
    results: dict[str, Any] = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine()}
    for name, benchmark in BENCHMARKS.items():
        print(f"running {name} …", flush=True)
        results[name] = benchmark()
    results["seconds"] = round(time.monotonic() - started, 1)

    print()
    print(f"{'benchmark':20} figures")
    for name in BENCHMARKS:
        figures = ", ".join(f"{key}={value}" for key, value in results[name].items())
        print(f"{name:20} {figures}")

    folder = Path(load_settings().data_dir) / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"bench-{results['when'].replace(':', '')}.json"
    target.write_text(json.dumps(results, indent=2))
    print(f"\nsaved to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
