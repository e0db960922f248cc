"""`maca toolkits …` from the command line, as an operator runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fhir.resources.R4B.questionnaire import Questionnaire


def maca(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, timeout=60)


def test_list_names_every_toolkit_with_its_version() -> None:
    result = maca("toolkits", "list")
    assert result.returncode == 0, result.stderr
    assert [line.split()[:2] for line in result.stdout.splitlines()] == [
        ["childs-journey-early-help", "v2"],
        ["csc-practice-criteria", "v2"],
        ["early-intervention", "v2"],
        ["multi-agency-cp", "v2"],
        ["tier2-cin-cp", "v2"],
    ]


def test_show_for_an_agency_gives_only_what_it_answers() -> None:
    whole = json.loads(maca("toolkits", "show", "multi-agency-cp").stdout)
    education = json.loads(maca("toolkits", "show", "multi-agency-cp", "--agency", "education").stdout)

    def ids(definition: dict) -> set[str]:
        return {q["id"] for s in definition["sections"] for q in s.get("questions", [])}

    assert ids(education) < ids(whole)


def test_show_refuses_an_unknown_toolkit_or_agency_in_one_line() -> None:
    unknown = maca("toolkits", "show", "no-such-tool")
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("maca: no toolkit 'no-such-tool'; known: childs-journey-early-help,")
    agency = maca("toolkits", "show", "multi-agency-cp", "--agency", "wizards")
    assert agency.returncode == 1
    assert agency.stderr.startswith("maca: --agency: unknown agency kind 'wizards'")


def test_export_prints_a_valid_fhir_questionnaire() -> None:
    result = maca("toolkits", "export", "tier2-cin-cp", "--format", "fhir")
    assert result.returncode == 0, result.stderr
    questionnaire = Questionnaire.model_validate(json.loads(result.stdout))
    assert questionnaire.url == "urn:maca:toolkit:tier2-cin-cp"


def test_validate_checks_a_partnerships_own_version_as_an_upload_is_checked(tmp_path: Path) -> None:
    shipped = (Path(__file__).resolve().parents[2] / "toolkits/definitions/multi-agency-cp/v1.yaml").read_text()
    good = tmp_path / "v2.yaml"
    good.write_text(shipped.replace("version: 1\n", "version: 2\n", 1))
    bad = tmp_path / "v2-broken.yaml"
    bad.write_text(shipped.replace("merge_policy: overall-75-25", "merge_policy: best-of"))

    ok = maca("toolkits", "validate", str(good))
    assert (ok.returncode, ok.stdout.strip()) == (0, "ok  v2.yaml: multi-agency-cp version 2")
    refused = maca("toolkits", "validate", str(good), str(bad))
    line = shipped[: shipped.index("merge_policy: overall-75-25")].count("\n") + 1
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[0] == (
        f"v2-broken.yaml:{line}: $.merge_policy: unknown policy 'best-of'; known: median, overall-75-25, weakest-link"
    )
    assert "1 of 2 file(s) have problems" in refused.stderr
