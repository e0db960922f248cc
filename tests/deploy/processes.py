"""Starting and stopping real Maca processes (and their helpers) for the
deployment tests: every process is bounded by a deadline and always killed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (right now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def maca_environment(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a Maca process: this one's, minus every MACA_ and
    OIDC_ variable a developer may have set, plus what the test says."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MACA_", "OIDC_", "OTEL_", "PROMETHEUS_"))}
    env.update(
        {
            "DATABASE_URL": database_url,
            "MACA_ENV": "test",
            "MACA_HOST": "127.0.0.1",
            "MACA_DATA_DIR": str(data_dir),
            "MACA_LOG_LEVEL": "warning",
            # No metrics port unless a test asks for one: processes started
            # side by side would all want the default.
            "MACA_METRICS_PORT": "0",
            "PYTHONUNBUFFERED": "1",
            # Processes of a test deliver no mail unless the test says so:
            # several share one database, and so one queue (issue 20).
            "MACA_WORKER": "off",
        }
    )
    env.update(extra)
    return env


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after STOP_TIMEOUT; the whole process group."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT)


def output(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:] if log.exists() else ""


@contextmanager
def background(
    command: list[str], log: Path, env: Mapping[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A long-running process in its own process group, its output in ``log``."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=dict(env) if env is not None else None,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        stop(process)


def wait_until_ready(base_url: str, process: subprocess.Popen[bytes], log: Path, path: str = "/readyz") -> None:
    """Poll ``path`` until it answers 200; fail with the process's output if
    it exits or START_TIMEOUT passes first."""
    deadline = time.monotonic() + START_TIMEOUT
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"process exited with {process.returncode} before it was ready:\n{output(log)}")
        try:
            response = httpx.get(base_url + path, timeout=2.0)
        except httpx.TransportError as error:
            last = repr(error)
        else:
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:200]}"
        time.sleep(0.2)
    raise AssertionError(f"{base_url}{path} not ready after {START_TIMEOUT:.0f}s ({last}):\n{output(log)}")


@contextmanager
def maca_server(env: Mapping[str, str], log: Path) -> Iterator[str]:
    """``maca serve`` on a free port; yields its base URL once /readyz is 200."""
    port = free_port()
    command = [sys.executable, "-m", "server.cli", "serve"]
    with background(command, log, {**env, "MACA_PORT": str(port)}) as process:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_ready(base_url, process, log)
        yield base_url
