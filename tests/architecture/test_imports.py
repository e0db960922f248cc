"""The architecture's import rules ([tool.importlinter] in pyproject.toml)
hold, and would catch a change that broke them.

``make lint`` runs lint-imports on the tree; these tests run it on a copy
of the tree, once as it is and once with a deliberate violation of each
kind, so a contract that had stopped checking anything (a renamed package,
an ignore list that swallowed everything) fails here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("server", "merging", "agencies", "toolkits")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The Python source of the four packages and the configuration."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=lambda _dir, names: [n for n in names if n == "__pycache__" or n.endswith((".html", ".yaml"))],
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def add_module(tree: Path, dotted: str, source: str) -> None:
    path = tree / (dotted.replace(".", "/") + ".py")
    path.write_text(source)


def test_the_tree_keeps_every_contract(tree: Path) -> None:
    result = lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "imports", "contract"),
    [
        ("toolkits.scratch", "merging", "Pure packages point one way"),
        ("toolkits.scratch", "agencies.applicability", "Pure packages point one way"),
        ("agencies.scratch", "merging", "Pure packages point one way"),
        ("merging.scratch", "server.settings", "Pure packages point one way"),
        ("server.db.scratch", "server.audits", "each layer imports only the layers below it"),
        ("server.audits.scratch", "server.api", "each layer imports only the layers below it"),
        ("server.api.scratch", "server.pages", "each layer imports only the layers below it"),
        ("server.pages.scratch", "server.api", "each layer imports only the layers below it"),
        ("server.api.scratch", "server.db.audits", "Transport never reaches past the domain steps into SQL"),
        ("server.pages.scratch", "server.db.events", "Transport never reaches past the domain steps into SQL"),
        ("server.db.scratch", "server.auth.principal", "SQL stores and fetches"),
        ("server.pages.reviewer.scratch", "server.pages.auditor", "A person's pages do not import another role's"),
    ],
)
def test_a_deliberate_violation_is_refused(tree: Path, module: str, imports: str, contract: str) -> None:
    add_module(tree, module, f"import {imports}  # a deliberate violation\n")
    result = lint(tree)
    assert result.returncode != 0, result.stdout
    broken = result.stdout[result.stdout.index("Broken contracts") :]
    assert contract in broken.replace("\n", " ")
    assert f"{module} -> {imports}" in broken


def test_a_cycle_between_siblings_is_refused(tree: Path) -> None:
    # Each import on its own points down; together they make a circle.
    add_module(tree, "server.cli.scratch_one", "import server.cli.scratch_two\n")
    add_module(tree, "server.cli.scratch_two", "import server.cli.scratch_one\n")
    result = lint(tree)
    assert result.returncode != 0, result.stdout
    assert "No cycles are allowed in server.cli" in result.stdout
