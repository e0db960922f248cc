"""Earlier releases of Maca, run from their own code: ``deploy/releases.txt``
names them; ``git archive`` puts a release's code in a temporary folder,
and its own ``maca`` commands run from there (with this checkout's Python
packages: a release's imports resolve to its own ``server``, ``toolkits``…
ahead of everything installed)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.deploy.processes import ROOT, START_TIMEOUT, free_port, output, stop

RELEASES_FILE = ROOT / "deploy" / "releases.txt"


@dataclass(frozen=True)
class Release:
    name: str
    commit: str


def releases() -> list[Release]:
    found = []
    for line in RELEASES_FILE.read_text(encoding="utf-8").splitlines():
        words = line.split("#", 1)[0].split()
        if words:
            name, commit = words
            found.append(Release(name, commit))
    return found


def shallow_clone() -> bool:
    done = subprocess.run(
        ["git", "rev-parse", "--is-shallow-repository"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.strip() == "true"


def checkout(release: Release, folder: Path) -> Path:
    """The release's code, as it was, in ``folder``."""
    folder.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", release.commit], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    if (ROOT / "node_modules").is_dir():
        (folder / "node_modules").symlink_to(ROOT / "node_modules")
    return folder


def has(code: Path, text: str, *paths: str) -> bool:
    """Whether any of the release's files under ``paths`` contain ``text``."""
    return any(text in file.read_text(errors="replace") for path in paths for file in (code / path).rglob("*.py"))


class ReleaseCode:
    """One release's code and the environment its commands run in."""

    def __init__(self, code: Path, environment: Mapping[str, str]) -> None:
        self.code = code
        self.environment = {**environment, "PYTHONPATH": str(code)}

    @property
    def can_generate_audits(self) -> bool:
        return has(self.code, '"--audits"', "server")

    @property
    def signs_in(self) -> bool:
        return has(self.code, "def add_token_command", "server")

    @property
    def verifies_events(self) -> bool:
        return has(self.code, "def cmd_events", "server")

    def maca(self, *arguments: str, timeout: float = 600, **extra: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "server.cli", *arguments],
            cwd=self.code,
            env={**self.environment, **extra},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"{self.code.name}: maca {' '.join(arguments)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    @contextmanager
    def serving(self, log: Path, *arguments: str) -> Iterator[tuple[str, dict[str, str]]]:
        """``maca serve`` of this release on a free port: its base URL and
        the environment its ``maca token`` must share (the issuer names the port)."""
        port = free_port()
        env = {**self.environment, "MACA_PORT": str(port)}
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "server.cli", "serve", *arguments],
                cwd=self.code,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while True:
                assert process.poll() is None, f"the release's server exited:\n{output(log)}"
                assert time.monotonic() < deadline, f"the release's server did not start:\n{output(log)}"
                try:
                    if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
            yield base_url, {"MACA_PORT": str(port)}
        finally:
            stop(process)
