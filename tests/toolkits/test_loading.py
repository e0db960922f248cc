"""Reading a definition's text: every problem at once, each with the line
and the place in the definition where it is, whether the text is a file
shipped with Maca or a version a partnership's administrator uploads."""

from __future__ import annotations

from pathlib import Path

import pytest

from agencies.kinds import AGENCY_KIND_CODES
from toolkits.loading import MAX_DEPTH, MAX_NODES, read_toolkit
from toolkits.registry import DefinitionError, load_definition

FIXTURES = Path(__file__).parent / "fixtures"
POLICIES = {"overall-75-25", "weakest-link", "median"}
MINIMAL = (FIXTURES / "minimal.yaml").read_text()


def line_of(text: str, fragment: str) -> int:
    """The line (from 1) where ``fragment`` is written in ``text``."""
    return text[: text.index(fragment)].count("\n") + 1


def test_the_minimal_text_reads_without_a_problem() -> None:
    reading = read_toolkit(MINIMAL, agency_kinds=AGENCY_KIND_CODES, merge_policies=POLICIES)
    assert reading.problems == ()
    assert reading.toolkit is not None and reading.toolkit.id == "minimal"


def test_three_mistakes_are_reported_together_each_at_its_line() -> None:
    """A misspelt key (a type error msgspec alone would stop at), a selector
    that does not exist and a merge policy Maca does not know: one reading
    names all three, with the line an editor jumps to."""
    text = (
        MINIMAL.replace("kind: text, evidence: optional}", "kind: text, evidnce: optional}")
        .replace("applies_to: csc-only}", "applies_to: police-only}")
        .replace("merge_policy: weakest-link", "merge_policy: best-of")
    )
    reading = read_toolkit(text, agency_kinds=AGENCY_KIND_CODES, merge_policies=POLICIES)
    located = sorted((p.line, str(p)) for p in reading.problems)
    assert located == [
        (
            line_of(text, "merge_policy: best-of"),
            "$.merge_policy: unknown policy 'best-of'; known: median, overall-75-25, weakest-link",
        ),
        (line_of(text, "evidnce"), "$.sections[1].questions[0]: Object contains unknown field `evidnce`"),
        (
            line_of(text, "police-only"),
            "$.sections[1].questions[1].applies_to: unknown selector 'police-only'; known: csc-only",
        ),
    ]


def test_a_problem_reads_as_file_line_place_and_message() -> None:
    text = MINIMAL.replace("title: Case details", "title: '  '")
    [problem] = read_toolkit(text).problems
    line = line_of(text, "title: '  '")
    assert problem.located("v2.yaml") == f"v2.yaml:{line}: $.sections[0].title: must not be empty"


def test_a_missing_required_field_stops_the_reading_after_what_came_before() -> None:
    text = MINIMAL.replace("    title: Referral\n", "    titel: Referral\n")
    messages = [str(p) for p in read_toolkit(text).problems]
    assert messages == [
        "$.sections[1]: Object contains unknown field `titel`",
        "$.sections[1]: Object missing required field `title`",
    ]


def test_text_that_is_not_yaml_is_refused_at_its_line() -> None:
    [problem] = read_toolkit("id: minimal\ntitle: [unclosed\nversion: 1\n").problems
    assert problem.message.startswith("not valid YAML") and problem.line == 3


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("", "the text is empty"),
        ("- a\n- b\n", "a definition is a mapping of fields"),
        (b"id: \xff\xfe\n", "not UTF-8 text"),
        ("id: one\nid: two\n", "the key 'id' is given twice"),
    ],
)
def test_text_that_is_no_definition_is_refused(text: str | bytes, said: str) -> None:
    reading = read_toolkit(text)
    assert reading.toolkit is None
    assert [said in p.message for p in reading.problems] == [True]


def test_aliases_that_would_expand_into_billions_of_values_are_refused_quickly() -> None:
    """ "Billion laughs": ten aliases of ten aliases … The reading counts what
    building would make and stops at the limit, without building it."""
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        name, previous = chr(97 + i), chr(96 + i)
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]")
    [problem] = read_toolkit("\n".join(lines)).problems
    assert f"more than {MAX_NODES} values" in problem.message


def test_a_self_referring_alias_is_refused() -> None:
    [problem] = read_toolkit("a: &a [*a]\n").problems
    assert f"nested more than {MAX_DEPTH} levels deep" in problem.message


def test_a_shipped_file_is_refused_with_file_and_line(tmp_path: Path) -> None:
    file = tmp_path / "minimal" / "v1.yaml"
    file.parent.mkdir()
    file.write_text(MINIMAL.replace("version: 1", "version: 2"))
    with pytest.raises(DefinitionError) as raised:
        load_definition(file)
    assert (
        str(raised.value)
        == f"{file}:{line_of(MINIMAL, 'version: 1')}: $.version: 2 does not match the file name 'v1.yaml'"
    )
