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
    from tests.bench import merge

    return merge.run()


def load_benchmark() -> dict[str, Any]:
    from tests.bench import load

    return load.run()


def themes_benchmark() -> dict[str, Any]:
    from tests.bench import themes

    return themes.run()


def learning_benchmark() -> dict[str, Any]:
    from tests.bench import learning

    return learning.run()


def exports_benchmark() -> dict[str, Any]:
    from tests.bench import exports

    return exports.run()


def notifications_benchmark() -> dict[str, Any]:
    from tests.bench import notifications

    return notifications.run()


def migrations_benchmark() -> dict[str, Any]:
    from tests.bench import migrations

    return migrations.run()


def pdf_benchmark() -> dict[str, Any]:
    from tests.bench import pdf

    return pdf.run()


def growth_benchmark() -> dict[str, Any]:
    from tests.bench import growth

    return growth.run()


def scale_benchmark() -> dict[str, Any]:
    from tests.bench import scale

    return scale.run()


def compare_benchmark() -> dict[str, Any]:
    from tests.bench import compare

    return compare.run()


BENCHMARKS = {
    "merge": merge_benchmark,
    "load": load_benchmark,
    "themes": themes_benchmark,
    "learning": learning_benchmark,
    "growth": growth_benchmark,
    "scale": scale_benchmark,
    "exports": exports_benchmark,
    "notifications": notifications_benchmark,
    "migrations": migrations_benchmark,
    "pdf": pdf_benchmark,
}
# Run only when named (make bench BENCH=compare BASE=…): it serves two revisions.
ON_REQUEST = {"compare": compare_benchmark}


def main(argv: list[str] | None = None) -> int:
    # `python -m tests.bench [NAME …]`: the named benchmarks, or all of them.
    chosen = (sys.argv[1:] if argv is None else argv) or list(BENCHMARKS)
    known = BENCHMARKS | ON_REQUEST
    unknown = [name for name in chosen if name not in known]
    if unknown:
        print(f"no benchmark {', '.join(unknown)}; known: {', '.join(known)}", file=sys.stderr)
        return 2
    started = time.monotonic()
    results: dict[str, Any] = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine()}
    for name in chosen:
        print(f"running {name} …", flush=True)
        results[name] = known[name]()
    results["seconds"] = round(time.monotonic() - started, 1)

    print()
    print(f"{'benchmark':20} figures")
    for name in chosen:
        # A benchmark that printed its own table (load) is summed up by it.
        figures = ", ".join(
            f"{key}={value}"
            for key, value in results[name].items()
            if not isinstance(value, (dict, list)) and "\n" not in str(value)
        )
        print(f"{name:20} {figures}")

    folder = Path(load_settings().data_dir) / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"bench-{results['when'].replace(':', '')}.json"
    target.write_text(json.dumps(results, indent=2))
    print(f"\nsaved to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
