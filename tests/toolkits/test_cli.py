"""`maca toolkits …` from the command line, as an operator runs it."""

from __future__ import annotations

import json
import subprocess
import sys

from fhir.resources.R4B.questionnaire import Questionnaire


def maca(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, timeout=60)


def test_list_names_every_toolkit_with_its_version() -> None:
    result = maca("toolkits", "list")
    assert result.returncode == 0, result.stderr
    assert [line.split()[:2] for line in result.stdout.splitlines()] == [
        ["childs-journey-early-help", "v1"],
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
