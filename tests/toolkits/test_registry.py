"""Loading definitions: broken files are refused with the file, the place
inside it and the problem; every version stays loadable."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
import yaml

from agencies.kinds import AGENCY_KIND_CODES
from toolkits.registry import (
    DEFINITIONS,
    DefinitionError,
    InvalidDefinitions,
    UnknownToolkit,
    definition_files,
    load_definition,
    load_registry,
)

FIXTURES = Path(__file__).parent / "fixtures"
POLICIES = {"overall-75-25", "weakest-link", "median"}
TOOLKIT_IDS = {
    "multi-agency-cp",
    "early-intervention",
    "csc-practice-criteria",
    "tier2-cin-cp",
    "childs-journey-early-help",
}


def minimal() -> dict:
    return yaml.safe_load((FIXTURES / "minimal.yaml").read_text())


def write(directory: Path, definition: dict, *, folder: str | None = None, version: int | None = None) -> Path:
    target = directory / (folder or definition["id"]) / f"v{version or definition['version']}.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(definition, sort_keys=False))
    return target


def problems_of(tmp_path: Path, definition: dict) -> list[str]:
    file = write(tmp_path, definition)
    with pytest.raises(DefinitionError) as raised:
        load_definition(file, agency_kinds=AGENCY_KIND_CODES, merge_policies=POLICIES)
    assert raised.value.file == file
    return raised.value.problems


def test_the_minimal_fixture_loads(tmp_path: Path) -> None:
    toolkit = load_definition(write(tmp_path, minimal()), agency_kinds=AGENCY_KIND_CODES, merge_policies=POLICIES)
    assert [s.id for s in toolkit.sections] == ["case-details", "referral"]


def _edit(path: str, value: object) -> dict:
    definition = minimal()
    *parents, last = path.split(".")
    node: object = definition
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]  # type: ignore[index]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value  # type: ignore[index]
    return definition


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("version", "one", "$.version: Expected `int`, got `str`"),
        ("sections.1.questions.0.kind", "essay", "$.sections[1].questions[0].kind: Invalid enum value 'essay'"),
        ("sections.1.questions.0.colour", "red", "$.sections[1].questions[0]: Object contains unknown field `colour`"),
        ("sections.1.questions.1.id", "referral-why", "$.sections[1].questions[1].id: duplicate question id"),
        ("sections.1.id", "case-details", "$.sections[1].id: duplicate section id 'case-details'"),
        ("sections.1.questions.0.id", "case-details", "$.sections[1].questions[0].id: 'case-details' is already a"),
        ("sections.1.questions.0.text", "  ", "$.sections[1].questions[0].text: must not be empty"),
        ("sections.1.questions.1.applies_to", "police-only", "$.sections[1].questions[1].applies_to: unknown selector"),
        ("selectors.csc-only.agencies", ["social-work"], "$.selectors.csc-only: unknown agency kind 'social-work'"),
        ("merge_policy", "best-of", "$.merge_policy: unknown policy 'best-of'"),
        ("scale.grades.3.value", 5, "$.scale.grades: must be the grades 1, 2, 3, 4 in order"),
        ("sections.1.questions.0.id", "Referral Why", "$.sections[1].questions[0].id: 'Referral Why' is not an id"),
        (
            "sections.1.judgement.descriptors",
            {7: "x"},
            "$.sections[1].judgement.descriptors.7: grade must be 1, 2, 3 or 4",
        ),
        (
            "sections.1.questions.1.alert",
            {"kind": "child-not-safe", "when": ["maybe"], "message": "Tell the manager"},
            "$.sections[1].questions[1].alert.when: 'maybe' is not an answer to this question",
        ),
        (
            "sections.1.questions.0.kind",
            "single-choice",
            "$.sections[1].questions[0].choices: a single-choice question needs choices",
        ),
        ("sections.1.questions.0.kind", "rows", "$.sections[1].questions[0].columns: a rows question needs columns"),
        (
            "sections.1.questions.1.condition",
            {"case_detail": "plan-type", "any_of": ["cp"]},
            "$.sections[1].questions[1].condition.case_detail: 'plan-type' is not a case detail",
        ),
        (
            "sections.1.questions.0.in_judgement",
            True,
            "$.sections[1].questions[0].in_judgement: a text answer cannot be merged",
        ),
        (
            "sections.1.judgement.features",
            [{"id": "timely", "texts": {1: "Outstanding work"}}],
            "$.sections[1].judgement.features[0].texts.1: features are described at grades 2, 3 and 4",
        ),
        (
            "sections.1.judgement.features",
            [{"id": "timely", "texts": {2: "on time"}}, {"id": "timely", "texts": {4: "late"}}],
            "$.sections[1].judgement.features[1].id: duplicate feature id 'timely'",
        ),
        ("not_involved", {"label": " ", "reason_label": "Why?"}, "$.not_involved.label: must not be empty"),
    ],
)
def test_a_malformed_definition_is_refused_with_where_and_what(
    tmp_path: Path, path: str, value: object, expected: str
) -> None:
    problems = problems_of(tmp_path, _edit(path, value))
    assert any(problem.startswith(expected) for problem in problems), problems


def test_a_file_whose_name_disagrees_with_its_version_is_refused(tmp_path: Path) -> None:
    file = write(tmp_path, minimal(), version=2)
    with pytest.raises(DefinitionError, match=r"\$\.version: 1 does not match the file name 'v2\.yaml'"):
        load_definition(file)


def test_a_file_in_another_toolkits_folder_is_refused(tmp_path: Path) -> None:
    file = write(tmp_path, minimal(), folder="other")
    with pytest.raises(DefinitionError, match=r"\$\.id: 'minimal' does not match its folder 'other'"):
        load_definition(file)


def test_invalid_yaml_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "minimal" / "v1.yaml"
    file.parent.mkdir()
    file.write_text("id: [unclosed\n")
    with pytest.raises(DefinitionError, match="not valid YAML"):
        load_definition(file)


def test_every_broken_file_is_reported_at_once(tmp_path: Path) -> None:
    write(tmp_path, _edit("title", ""))
    second = minimal() | {"id": "second"}
    second["merge_policy"] = "best-of"
    write(tmp_path, second)
    with pytest.raises(InvalidDefinitions) as raised:
        load_registry(tmp_path, merge_policies=POLICIES)
    assert sorted(error.file.parent.name for error in raised.value.errors) == ["minimal", "second"]


def test_older_versions_stay_loadable_and_the_newest_is_current(tmp_path: Path) -> None:
    write(tmp_path, minimal())
    newer = minimal() | {"version": 2, "title": "Minimal audit tool, revised"}
    write(tmp_path, newer)
    registry = load_registry(tmp_path)
    assert registry.versions("minimal") == [1, 2]
    assert registry.current("minimal").title == "Minimal audit tool, revised"
    assert registry.get("minimal", 1).title == "Minimal audit tool"
    with pytest.raises(UnknownToolkit):
        registry.get("minimal", 3)
    with pytest.raises(UnknownToolkit):
        registry.current("nothing")


def test_the_five_seed_toolkits_are_shipped_and_load() -> None:
    registry = load_registry(agency_kinds=AGENCY_KIND_CODES, merge_policies=POLICIES)
    assert set(registry.ids()) == TOOLKIT_IDS
    assert {file.parent.name for file in definition_files()} == TOOLKIT_IDS
    for toolkit in registry:
        assert [g.value for g in toolkit.scale.grades] == [1, 2, 3, 4]
        assert any(section.judgement for section in toolkit.sections), toolkit.id


# The definition files existing audits were created with. An audit keeps
# its toolkit version, so a version in use never changes: a changed
# definition is a new file (v2.yaml beside v1.yaml). A digest here changes
# only if someone edits a shipped version.
SHIPPED_VERSIONS = {
    ("childs-journey-early-help", 1): "9d95b5a552d4c0128e9020037768957f311be879122dec6d4125757b095319d3",
    ("csc-practice-criteria", 1): "0e2132b86e8233c21f0cc478e9299ad34bd892bfde0d0f374b4f85f8182993f7",
    ("early-intervention", 1): "72e5ebc28b7fe795f123248b4e5336d956c0b3e2c9938da60a0f86cefe79bd41",
    ("multi-agency-cp", 1): "580eacd54faee3d238d5938b4275b13f7944f2c3fc0d270806e632cec708ecb9",
    ("tier2-cin-cp", 1): "e0083b013f54697e5053097ffb4b6631ae5c0fe3cef6cdfb3deff9aae3e68db8",
}


@pytest.mark.parametrize(("toolkit_id", "version"), sorted(SHIPPED_VERSIONS))
def test_a_shipped_definition_version_never_changes(toolkit_id: str, version: int) -> None:
    file = DEFINITIONS / toolkit_id / f"v{version}.yaml"
    assert hashlib.sha256(file.read_bytes()).hexdigest() == SHIPPED_VERSIONS[(toolkit_id, version)], (
        f"{file} was edited: audits created with it would change. Add v{version + 1}.yaml beside it instead."
    )


def test_maca_toolkits_validate_lists_every_shipped_toolkit() -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "server.cli", "toolkits", "validate"], capture_output=True, text=True, timeout=60
    )
    assert ok.returncode == 0, ok.stderr
    assert sorted(line.split()[1] for line in ok.stdout.splitlines()) == sorted(TOOLKIT_IDS)


def test_a_partnerships_own_versions_sit_beside_the_shipped_ones(tmp_path: Path) -> None:
    """A partnership's version 2 and a shipped version 2 published later are
    two versions: an audit says which kind it was created with."""
    write(tmp_path, minimal())
    shipped_two = minimal() | {"version": 2, "title": "Shipped later"}
    write(tmp_path, shipped_two)
    shipped = load_registry(tmp_path)
    local_two = msgspec.structs.replace(shipped.get("minimal", 1), version=2, title="Ours")

    chosen = shipped.with_local([local_two], chosen={"minimal": (2, True)})

    assert chosen.current("minimal").title == "Ours"
    assert chosen.get("minimal", 2).title == "Shipped later"
    assert chosen.get("minimal", 2, local=True).title == "Ours"
    assert (chosen.versions("minimal"), chosen.local_versions("minimal"), chosen.newest_version("minimal")) == (
        [1, 2],
        [2],
        2,
    )
    assert shipped.current("minimal").title == "Shipped later", "the shipped registry is unchanged"
    assert shipped.with_local([local_two], chosen={}).current("minimal").title == "Shipped later"
    with pytest.raises(UnknownToolkit):
        shipped.with_local([], chosen={"minimal": (3, True)})
