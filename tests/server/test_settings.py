"""Settings come from the environment and a bad one stops Maca with one clear line."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from server.settings import SettingsError, load_settings


@pytest.mark.parametrize(
    ("environment", "variable", "problem"),
    [
        ({"MACA_ENV": "staging"}, "MACA_ENV", "'staging' is not one of: development, test, production"),
        ({"MACA_PORT": "eighty"}, "MACA_PORT", "'eighty' is not a whole number"),
        ({"MACA_PORT": "70000"}, "MACA_PORT", "must be at most 65535, not '70000'"),
        ({"MACA_WORKERS": "0"}, "MACA_WORKERS", "must be at least 1, not '0'"),
        ({"DATABASE_URL": "mysql://db/maca"}, "DATABASE_URL", "must be a postgresql:// URL, not mysql://…"),
        ({"DATABASE_URL": "postgresql:///maca"}, "DATABASE_URL", "names no host"),
        ({"MACA_ENV": "production"}, "DATABASE_URL", "must be set when MACA_ENV=production (no embedded database)"),
        ({"MACA_PUBLIC_URL": "ftp://maca"}, "MACA_PUBLIC_URL", "must start with https:// (or http:// in development)"),
        ({"MACA_LOG_LEVEL": "loud"}, "MACA_LOG_LEVEL", "'loud' is not one of: debug, info, warning, error"),
    ],
)
def test_a_bad_value_names_the_variable_and_the_problem(
    environment: dict[str, str], variable: str, problem: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(environment)
    assert (raised.value.variable, raised.value.problem) == (variable, problem)


def test_defaults_serve_development_on_port_8000() -> None:
    settings = load_settings({})
    assert (settings.env, settings.host, settings.port, settings.database_url) == (
        "development",
        "127.0.0.1",
        8000,
        None,
    )
    assert settings.base_url == "http://127.0.0.1:8000"


def test_values_are_converted_and_empty_ones_take_defaults() -> None:
    settings = load_settings(
        {"MACA_PORT": "9001", "MACA_DB_TIMEOUT_SECONDS": "2.5", "DATABASE_URL": "", "MACA_HOST": "::1"}
    )
    assert (settings.port, settings.db_timeout_seconds, settings.database_url) == (9001, 2.5, None)


def _maca(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_command_prints_one_line_and_no_traceback() -> None:
    result = _maca("migrate", env={"MACA_ENV": "staging"})
    assert result.returncode == 2
    assert result.stderr == ("maca: configuration: MACA_ENV: 'staging' is not one of: development, test, production\n")
    assert "Traceback" not in result.stdout + result.stderr


def test_a_busy_port_is_refused_before_anything_starts(tmp_path: object) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _maca(
            "serve",
            env={
                "MACA_PORT": str(port),
                "DATABASE_URL": "postgresql://127.0.0.1:1/none",
                "MACA_DATA_DIR": str(tmp_path),
            },
        )
    assert result.returncode == 2
    assert result.stderr == f"maca: configuration: MACA_PORT: port {port} on 127.0.0.1 is already in use\n"
