"""The GOV.UK markup and the GOV.UK styles come from two registries: the
Jinja macros from PyPI (govuk-frontend-jinja, requirements.lock) and the
CSS and JavaScript from npm (govuk-frontend, package-lock.json). Each
govuk-frontend-jinja release ports one GOV.UK Frontend release's Nunjucks
macros, so the two must be a pair the port was made for; otherwise pages
carry class names and structure the served CSS was not written for
(govuk-frontend-jinja 4.1's phase banner brings its own width container,
which inside Maca's header doubled the banner's side margins on a phone
under Frontend 5's CSS)."""

from __future__ import annotations

import importlib.metadata
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# govuk-frontend-jinja release -> the GOV.UK Frontend release its macros port,
# from the "Supported" table of govuk-frontend-jinja's README
# (https://github.com/LandRegistry/govuk-frontend-jinja#supported, as of 4.1.0).
# Add a row when moving either package to a newer release.
PORTED_RELEASES: dict[tuple[int, int], tuple[int, int]] = {
    (4, 1): (6, 3),
    (4, 0): (6, 0),
    (3, 10): (5, 14),
    (3, 9): (5, 13),
    (3, 8): (5, 12),
    (3, 7): (5, 11),
    (3, 6): (5, 10),
}


def minor_release(version: str) -> tuple[int, int]:
    """(major, minor) of a version such as "5.14.0"; patch releases of either
    package only fix bugs, so they do not change which pair is right."""
    found = re.match(r"(\d+)\.(\d+)", version)
    assert found, f"not a version: {version!r}"
    return int(found.group(1)), int(found.group(2))


def macros_match_styles(jinja_version: str, frontend_version: str) -> bool:
    return PORTED_RELEASES.get(minor_release(jinja_version)) == minor_release(frontend_version)


@pytest.mark.parametrize(
    ("jinja_version", "frontend_version", "matches"),
    [
        ("3.10.0", "5.14.0", True),
        ("4.1.0", "6.3.0", True),
        ("4.1.0", "5.14.0", False),  # v6 macros under v5 CSS
        ("3.10.0", "6.3.0", False),
        ("3.10.0", "5.11.0", False),
        ("2.8.0", "4.8.0", False),  # a release this table does not vouch for
    ],
)
def test_a_pair_matches_only_when_the_macros_port_that_frontend_release(
    jinja_version: str, frontend_version: str, matches: bool
) -> None:
    assert macros_match_styles(jinja_version, frontend_version) is matches


def locked_jinja_version() -> str:
    found = re.search(r"^govuk-frontend-jinja==(\S+)$", (ROOT / "requirements.lock").read_text(), re.M)
    assert found, "govuk-frontend-jinja is not pinned in requirements.lock"
    return found.group(1)


def locked_frontend_version() -> str:
    lock = json.loads((ROOT / "package-lock.json").read_text())
    version: str = lock["packages"]["node_modules/govuk-frontend"]["version"]
    return version


def test_the_locked_macros_and_styles_are_a_pair() -> None:
    jinja, frontend = locked_jinja_version(), locked_frontend_version()
    assert macros_match_styles(jinja, frontend), (
        f"requirements.lock has govuk-frontend-jinja {jinja} but package-lock.json has govuk-frontend {frontend}"
    )


def test_the_installed_macros_and_styles_are_a_pair() -> None:
    jinja = importlib.metadata.version("govuk-frontend-jinja")
    installed = json.loads((ROOT / "node_modules" / "govuk-frontend" / "package.json").read_text())
    frontend = installed["version"]
    assert macros_match_styles(jinja, frontend), (
        f"installed govuk-frontend-jinja {jinja} renders markup for another GOV.UK Frontend than "
        f"the installed govuk-frontend {frontend} (run make install)"
    )
