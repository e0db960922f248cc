"""Events are recorded only by the steps of ``server/audits``: a controller
or a page that recorded one itself could record a different action, or
forget one, and the API and the pages would drift apart.

The server's source is read as Python (``ast``), and every call of the
recorder (``server.audits.events.record`` / ``record_unattributed``) and of
the statement that appends an event (``server.db.events.append``) is found,
however it was imported. The test also counts the calls it finds inside
``server/audits``, so it fails if it stopped finding anything at all.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from server.audits.events import EventName

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "server"

RECORDER = "server.audits.events"
RECORDING = {"record", "record_unattributed"}
STORE = "server.db.events"
APPENDING = {"append"}


def modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(SERVER.rglob("*.py")):
        relative = path.relative_to(ROOT)
        yield relative.as_posix(), ast.parse(path.read_text(), filename=str(path))


def calls(tree: ast.Module, module: str, functions: set[str]) -> list[int]:
    """The lines calling ``module``'s ``functions``, through any import of them."""
    parent, _, leaf = module.rpartition(".")
    as_module: set[str] = set()  # local names bound to the module
    as_function: set[str] = set()  # local names bound to one of its functions
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == module and alias.asname:
                    as_module.add(alias.asname)
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if node.module == parent and alias.name == leaf:
                    as_module.add(alias.asname or alias.name)
                elif node.module == module and alias.name in functions:
                    as_function.add(alias.asname or alias.name)
    found: list[int] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        if (isinstance(function, ast.Name) and function.id in as_function) or (
            isinstance(function, ast.Attribute)
            and function.attr in functions
            and (
                (isinstance(function.value, ast.Name) and function.value.id in as_module)
                # server.audits.events.record(...), spelt out in full
                or ast.unparse(function.value) == module
            )
        ):
            found.append(node.lineno)
    return found


def test_events_are_recorded_only_by_the_steps_in_server_audits() -> None:
    outside: list[str] = []
    inside = 0
    for name, tree in modules():
        lines = calls(tree, RECORDER, RECORDING)
        if name.startswith("server/audits/"):
            inside += len(lines)
        else:
            outside += [f"{name}:{line}" for line in lines]
    assert outside == [], f"events recorded outside server/audits: {outside}"
    # One call per event a step records (23 actions, some recorded by
    # several steps): a count this low means the search is broken.
    assert inside >= 23, inside


def test_only_the_recorder_appends_to_the_event_log() -> None:
    appending = {f"{name}:{line}" for name, tree in modules() for line in calls(tree, STORE, APPENDING)}
    assert appending, "the recorder's own call was not found: the search is broken"
    assert {entry.split(":")[0] for entry in appending} == {"server/audits/events.py"}, appending
    written_by_hand = [
        name
        for name, _tree in modules()
        if name != "server/db/events.py" and "INSERT INTO events" in (ROOT / name).read_text()
    ]
    assert written_by_hand == []


def test_event_names_are_spelled_only_in_the_enum() -> None:
    """``EventName`` is the one place an event's name is written: a string
    spelt anywhere else (``"demo.generated"`` was, in maca demo's bulk load)
    could drift from what the steps record and the trail is searched for."""
    names = {name.value for name in EventName}
    spelt = [
        f"{module}:{node.lineno}: {node.value!r}"
        for module, tree in modules()
        if module != "server/audits/events.py"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in names
    ]
    assert spelt == []
