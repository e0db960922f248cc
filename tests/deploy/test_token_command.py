"""`maca token` (and `make token PERSONA=…`) mints a development token that
the running Maca accepts, whatever port it was started on; a token minted
for another address is refused naming both issuers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.deploy.processes import ROOT, maca_environment, maca_server

pytestmark = pytest.mark.slow


def without_maca_settings() -> dict[str, str]:
    """A shell's environment with no MACA_ or OIDC_ setting: a new user's."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("MACA_", "OIDC_", "DATABASE_URL"))}


def maca_token(data_dir: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "token", *arguments],
        cwd=ROOT,
        env={**without_maca_settings(), "MACA_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def running(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A Maca started on a port of its own (not 8000), and its data folder."""
    folder = tmp_path_factory.mktemp("token")
    data_dir = folder / "data"
    with maca_server(maca_environment(database_url, data_dir), folder / "maca.log") as base_url:
        yield base_url, data_dir


def me(base_url: str, token: str) -> httpx.Response:
    return httpx.get(f"{base_url}/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_maca_token_mints_for_the_maca_running_from_its_data_folder(running: tuple[str, Path]) -> None:
    base_url, data_dir = running
    minted = maca_token(data_dir, "--persona", "health")
    assert minted.returncode == 0, minted.stderr
    assert minted.stderr.strip() == f"maca token: for the Maca running at {base_url}"
    answer = me(base_url, minted.stdout.strip())
    assert answer.status_code == 200, answer.text
    assert answer.json()["organisation_code"] == "demo-health"


def test_make_token_prints_only_a_token_the_running_maca_accepts(running: tuple[str, Path]) -> None:
    base_url, data_dir = running
    made = subprocess.run(
        ["make", "-s", "-C", str(ROOT), "token", "PERSONA=coordinator"],
        env={**without_maca_settings(), "MACA_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    assert len(made.stdout.split()) == 1  # the token and nothing else, for $(…)
    assert me(base_url, made.stdout.strip()).json()["roles"] == ["coordinator"]


def test_a_token_for_another_address_is_refused_naming_both_issuers(running: tuple[str, Path]) -> None:
    base_url, data_dir = running
    minted = maca_token(data_dir, "--persona", "health", "--url", "http://127.0.0.1:8000")
    assert minted.returncode == 0, minted.stderr
    refused = me(base_url, minted.stdout.strip())
    assert refused.status_code == 401
    assert refused.json()["detail"] == (
        "the token is from another issuer: it was issued by http://127.0.0.1:8000/dev-idp, "
        f"and this Maca accepts tokens from {base_url}/dev-idp"
    )


def test_with_no_maca_running_the_token_is_for_the_configured_address(tmp_path: Path) -> None:
    minted = maca_token(tmp_path, "--persona", "reviewer")
    assert minted.returncode == 0, minted.stderr
    assert minted.stderr == ""
    # A stopped Maca's address is not used (its process is gone).
    (tmp_path / "serving.json").write_text('{"base_url": "http://127.0.0.1:8999", "pid": 999999999}')
    again = maca_token(tmp_path, "--persona", "reviewer")
    assert again.returncode == 0 and again.stderr == ""


def test_a_stopped_maca_leaves_no_address_behind(database_url: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with maca_server(maca_environment(database_url, data_dir), tmp_path / "maca.log"):
        assert (data_dir / "serving.json").exists()
    assert not (data_dir / "serving.json").exists()
