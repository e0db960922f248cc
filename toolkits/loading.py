"""Reading a toolkit definition from its YAML text: every problem at once,
each with its place in the text (line and JSON path) and what is wrong.

The same reading serves the definition files shipped with Maca
(:func:`toolkits.registry.load_definition`, ``maca toolkits validate``) and
a partnership's own versions uploaded by its administrator, so both are
told their mistakes in the same words::

    v2.yaml:41: $.sections[1].questions[0].applies_to: unknown selector 'police-only'; known: csc-only

Type errors are found by msgspec, which stops at the first; so a field of
the wrong type or an unknown one is taken out and the text decoded again,
and so on, until it decodes or what is wrong cannot be taken out (a
required field missing). The checks on the decoded toolkit
(:mod:`toolkits.checks`) then run on what remains, so one reading reports
a misspelt key, an unknown selector and a duplicate id together.

Uploaded text is not trusted: aliases (``*``) are followed only while the
whole stays smaller than any definition needs (a few nested aliases expand
into billions of values, "billion laughs"), nesting is bounded, and a key
given twice is refused (YAML would keep the last, silently). Pure: text in, a toolkit and problems out.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import msgspec
import yaml

from toolkits.checks import check_toolkit
from toolkits.model import Toolkit

__all__ = ["MAX_DEPTH", "MAX_NODES", "Problem", "Reading", "read_toolkit"]

# The deepest a definition goes is about ten levels
# ($.sections[0].questions[0].columns[0].choices[0].label).
MAX_DEPTH: Final = 32
# Far more values than the largest seed tool (about 6,000), far fewer than
# a few nested aliases can make ("billion laughs").
MAX_NODES: Final = 200_000
# Type errors taken out one at a time before giving up: far more than a
# person fixes in one go.
_MAX_REPAIRS: Final = 200

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SEGMENT = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")
_QUOTED = re.compile(r"`([^`]*)`")


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """What is wrong in a definition, where: a JSON path into it (``""``
    for the text as a whole) and, when the text shows it, the line."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def located(self, name: str) -> str:
        """``v2.yaml:41: $.sections[1].id: …``, as compilers and
        ``maca toolkits validate`` print a place."""
        where = f"{name}:{self.line}" if self.line is not None else name
        return f"{where}: {self}"


@dataclass(frozen=True)
class Reading:
    """The toolkit a text decodes to (None when it does not) and every
    problem found; a toolkit may be used only when there are none."""

    toolkit: Toolkit | None
    problems: tuple[Problem, ...]
    # The YAML node tree, to place problems found later (file name checks).
    _root: Any = field(default=None, repr=False)

    def place(self, path: str, message: str) -> Problem:
        """A problem at ``path`` of this text, with its line."""
        return Problem(path=path, message=message, line=_line_of(self._root, path))


def read_toolkit(
    text: bytes | str,
    *,
    agency_kinds: Collection[str] | None = None,
    merge_policies: Collection[str] | None = None,
) -> Reading:
    """Decode and check one definition's text, reporting every problem."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            return Reading(toolkit=None, problems=(Problem(path="", message=f"not UTF-8 text (byte {error.start})"),))
    try:
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            shape = list(_shape_problems(root))
            data = None if shape or root is None else loader.construct_document(root)
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        return Reading(toolkit=None, problems=(_yaml_problem(error),))
    if shape:
        return Reading(toolkit=None, problems=tuple(shape), _root=root)
    if not isinstance(data, dict):
        return Reading(
            toolkit=None, problems=(Problem(path="$", message="a definition is a mapping of fields", line=1),)
        )
    toolkit, type_problems = _decode(data, root)
    problems = list(type_problems)
    if toolkit is not None:
        problems += [
            Problem(path=p.path, message=p.message, line=_line_of(root, p.path))
            for p in check_toolkit(toolkit, agency_kinds=agency_kinds, merge_policies=merge_policies)
        ]
    return Reading(toolkit=toolkit, problems=tuple(problems), _root=root)


# --- the text's shape ------------------------------------------------------------


def _yaml_problem(error: yaml.YAMLError) -> Problem:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    what = getattr(error, "problem", None) or str(error)
    return Problem(
        path="",
        message=f"not valid YAML: {what}",
        line=None if mark is None else mark.line + 1,
    )


def _shape_problems(root: yaml.Node | None) -> Iterator[Problem]:
    """Repeated keys, runaway nesting and aliases that expand into more than
    any definition holds, found before anything is built from the text
    (building is what would explode). The walk follows aliases, so it
    counts what building would make, and stops at the limit."""
    if root is None:
        yield Problem(path="", message="the text is empty")
        return
    checked_keys: set[int] = set()
    stack: list[tuple[yaml.Node, str, int]] = [(root, "$", 1)]
    count = 0
    while stack:
        node, path, depth = stack.pop()
        count += 1
        line = node.start_mark.line + 1
        if count > MAX_NODES:
            yield Problem(
                path=path, message=f"more than {MAX_NODES} values once its aliases (*) are expanded", line=line
            )
            return
        if depth > MAX_DEPTH:
            yield Problem(path=path, message=f"nested more than {MAX_DEPTH} levels deep", line=line)
            return
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key, value in node.value:
                name = str(key.value)
                if name in keys and id(node) not in checked_keys:
                    yield Problem(path=path, message=f"the key {name!r} is given twice", line=key.start_mark.line + 1)
                keys.add(name)
                stack.append((value, f"{path}.{name}", depth + 1))
            checked_keys.add(id(node))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                stack.append((item, f"{path}[{i}]", depth + 1))


# --- types, every problem at once ---------------------------------------------------


def _decode(data: dict[str, Any], root: yaml.Node) -> tuple[Toolkit | None, list[Problem]]:
    """The toolkit, after taking out each field msgspec cannot decode (one
    problem each); None if something that cannot be taken out is wrong."""
    problems: list[Problem] = []
    for _ in range(_MAX_REPAIRS):
        try:
            return msgspec.convert(data, Toolkit, builtin_types=(datetime.datetime, datetime.date)), problems
        except msgspec.ValidationError as error:
            message, _, where = str(error).rpartition(" - at ")
            path = where.strip("`") if message else "$"
            message = message or str(error)
            problems.append(_type_problem(root, path, message))
            if not _take_out(data, path, message):
                return None, problems
    return None, problems


def _type_problem(root: yaml.Node, path: str, message: str) -> Problem:
    unknown = message.startswith("Object contains unknown field")
    named = _QUOTED.search(message)
    if unknown and named:
        # The line of the misspelt key, not of the object holding it.
        return Problem(path=path, message=message, line=_line_of(root, f"{path}.{named.group(1)}"))
    return Problem(path=path, message=message, line=_line_of(root, path))


def _take_out(data: dict[str, Any], path: str, message: str) -> bool:
    """Remove what ``message`` is about from ``data``; whether it could be."""
    named = _QUOTED.search(message)
    if message.startswith("Object contains unknown field") and named:
        container = _at(data, path)
        if isinstance(container, dict) and named.group(1) in container:
            del container[named.group(1)]
            return True
        return False
    if message.startswith("Object missing required field"):
        return False
    parent_path, key = _split(path)
    parent = _at(data, parent_path) if parent_path is not None else None
    # Only a mapping's key is taken out: removing an item of a list would
    # move every later item's place, and the problems found after it would
    # name the wrong ones.
    if isinstance(parent, dict) and key in parent:
        del parent[key]
        return True
    return False


def _segments(path: str) -> list[str | int]:
    return [int(index) if index else name for name, index in _SEGMENT.findall(path.removeprefix("$"))]


def _split(path: str) -> tuple[str | None, str]:
    segments = _SEGMENT.findall(path.removeprefix("$"))
    if not segments or not segments[-1][0]:
        return None, ""
    return path[: path.rindex("." + segments[-1][0])], segments[-1][0]


def _at(data: Any, path: str) -> Any:
    node = data
    for segment in _segments(path):
        if isinstance(segment, int):
            node = node[segment] if isinstance(node, list) and segment < len(node) else None
        elif isinstance(node, dict):
            node = node.get(segment, node.get(int(segment)) if segment.isdigit() else None)
        else:
            return None
    return node


def _line_of(root: yaml.Node | None, path: str) -> int | None:
    """The line where ``path`` is written: the key naming it, or the item."""
    if root is None:
        return None
    node: yaml.Node = root
    line = node.start_mark.line + 1
    for segment in _segments(path):
        if isinstance(segment, int):
            if not isinstance(node, yaml.SequenceNode) or segment >= len(node.value):
                return line
            node = node.value[segment]
            line = node.start_mark.line + 1
        else:
            if not isinstance(node, yaml.MappingNode):
                return line
            found = next(((k, v) for k, v in node.value if str(k.value) == segment), None)
            if found is None:
                return line
            line = found[0].start_mark.line + 1
            node = found[1]
    return line
