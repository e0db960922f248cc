"""A fresh machine: `make run` and `make test` install the Debian packages
they need when they are missing, saying which, and CI runs nothing but
`make test`.

The machine that runs these tests has every package already, so each test
runs make on a machine made to look fresh: a PATH holding only the tools
make's checks use (no npm, pgbouncer, curl or jq), Chromium looked for
where there is none, and an ``apt-get`` that writes down what it was asked
to install instead of installing it."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.deploy.processes import ROOT

# What make's own checks and recipes call, and nothing Maca needs from Debian.
TOOLS = ("bash", "sh", "grep", "id", "ldconfig", "fc-list", "cat", "env")
SERVER = "nodejs npm"
TESTS = "chromium pgbouncer curl jq"


def fresh_machine(folder: Path, *, with_apt: bool = True, fonts: bool = False) -> dict[str, str]:
    """An environment in which make finds none of Maca's system packages
    (but Pango and fonts, which the machine's own ldconfig and fc-list
    report; ``fonts=False`` hides the fonts too)."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        assert found is not None, tool
        (bin_dir / tool).symlink_to(found)
    if not fonts:
        (bin_dir / "fc-list").unlink()
        (bin_dir / "fc-list").write_text("#!/bin/sh\nexit 0\n")
        (bin_dir / "fc-list").chmod(0o755)
    if with_apt:
        apt = bin_dir / "apt-get"
        apt.write_text(f'#!/bin/sh\necho "$@" >> {folder / "apt.log"}\n')
        apt.chmod(apt.stat().st_mode | stat.S_IXUSR)
    return {"PATH": str(bin_dir), "HOME": str(folder), "LANG": "C.UTF-8"}


def make(folder: Path, env: dict[str, str], *targets: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            shutil.which("make") or "make",
            "-s",
            "-C",
            str(ROOT),
            "CHROMIUM=/nonexistent/chromium",
            "SBIN_DIRS=",
            *targets,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_on_this_machine_nothing_is_missing(tmp_path: Path) -> None:
    listed = subprocess.run(
        ["make", "-s", "-C", str(ROOT), "missing-packages"], capture_output=True, text=True, timeout=60, check=True
    )
    assert listed.stdout.splitlines() == ["server: ", "tests: "]


def test_on_a_fresh_machine_make_knows_what_is_missing(tmp_path: Path) -> None:
    listed = make(tmp_path, fresh_machine(tmp_path), "missing-packages")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [f"server: {SERVER} fonts-dejavu-core", f"tests: {TESTS}"]


def test_make_installs_what_is_missing_saying_what(tmp_path: Path) -> None:
    env = fresh_machine(tmp_path)
    installed = make(tmp_path, env, "system-packages", "test-packages")
    assert installed.returncode == 0, installed.stderr
    assert installed.stdout.splitlines() == [
        f"make: installing the system packages for Maca: {SERVER} fonts-dejavu-core",
        f"make: installing the system packages for the tests: {TESTS}",
    ]
    asked = (tmp_path / "apt.log").read_text().splitlines()
    assert asked == [
        "update -qq",
        f"install -y -qq --no-install-recommends {SERVER} fonts-dejavu-core",
        "update -qq",
        f"install -y -qq --no-install-recommends {TESTS}",
    ]


def test_without_apt_make_says_what_to_install_and_stops(tmp_path: Path) -> None:
    refused = make(tmp_path, fresh_machine(tmp_path, with_apt=False), "test-packages")
    assert refused.returncode != 0
    assert f"apt-get install {TESTS}" in refused.stderr


def test_make_test_installs_the_tests_packages_and_make_run_the_servers() -> None:
    """The dependency chain: run → install → system-packages, and
    pytest (so test) → test-packages; npm runs only after system-packages."""
    plan = subprocess.run(
        ["make", "-C", str(ROOT), "-p", "-n", "-q", "missing-packages"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    ).stdout
    rules = {
        line.split(":", 1)[0]: line.split(":", 1)[1]
        for line in plan.splitlines()
        if ":" in line and not line.startswith(("#", "\t", " ")) and "=" not in line.split(":", 1)[0]
    }
    assert "system-packages" in rules["install"].split()
    assert "install" in rules["run"].split()
    assert {"install", "test-packages"} <= set(rules["pytest"].split())
    assert {"lint", "typecheck", "pytest"} <= set(rules["test"].split())
    assert "| system-packages" in rules["node_modules/.installed"]


def test_ci_runs_make_test_and_nothing_else() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    commands = [
        line.strip()
        for line in script.splitlines()
        if line.strip() and not line.strip().startswith("#") and not line.startswith(("set ", "cd "))
    ]
    assert commands == ["exec make test"]
    assert os.access(ROOT / ".ci" / "run", os.X_OK)


@pytest.mark.parametrize("persona", ["", "nobody"])
def test_make_token_without_a_persona_lists_them(persona: str) -> None:
    refused = subprocess.run(
        ["make", "-s", "-C", str(ROOT), "token", f"PERSONA={persona}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode != 0
    for name in ("coordinator", "health", "health-2", "police", "education", "social-care", "reviewer", "admin"):
        assert f"'{name}'" in refused.stderr
