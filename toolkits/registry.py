"""Loading toolkit definitions from their data files.

Layout: ``<directory>/<toolkit id>/v<version>.yaml``. Every version stays on
disk and loadable, because an audit keeps the version it was created with.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from pathlib import Path

import msgspec

from toolkits.checks import check_toolkit
from toolkits.model import Toolkit

DEFINITIONS = Path(__file__).parent / "definitions"

_VERSION_FILE = re.compile(r"^v(\d+)\.yaml$")


class DefinitionError(Exception):
    """A definition file that cannot be loaded: which file, where in it, what."""

    def __init__(self, file: Path, problems: list[str]) -> None:
        self.file = file
        self.problems = problems
        super().__init__("\n".join(f"{file}: {problem}" for problem in problems))


class InvalidDefinitions(Exception):
    """One or more definition files could not be loaded."""

    def __init__(self, errors: list[DefinitionError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(error) for error in errors))


class UnknownToolkit(LookupError):
    def __init__(self, toolkit_id: str, version: int | None = None) -> None:
        self.toolkit_id = toolkit_id
        self.version = version
        what = toolkit_id if version is None else f"{toolkit_id} version {version}"
        super().__init__(f"no toolkit {what}")


def load_definition(
    file: Path,
    *,
    agency_kinds: Collection[str] | None = None,
    merge_policies: Collection[str] | None = None,
) -> Toolkit:
    """Decode and check one definition file, or raise :class:`DefinitionError`."""
    try:
        toolkit = msgspec.yaml.decode(file.read_bytes(), type=Toolkit)
    except msgspec.ValidationError as error:
        # msgspec says "Expected `int`, got `str` - at `$.version`".
        message, _, where = str(error).rpartition(" - at ")
        raise DefinitionError(file, [f"{where.strip('`')}: {message}" if message else str(error)]) from None
    except msgspec.DecodeError as error:
        raise DefinitionError(file, [f"not valid YAML: {error}"]) from None
    problems = [str(p) for p in check_toolkit(toolkit, agency_kinds=agency_kinds, merge_policies=merge_policies)]
    match = _VERSION_FILE.match(file.name)
    if file.parent.name != toolkit.id:
        problems.append(f"$.id: {toolkit.id!r} does not match its folder {file.parent.name!r}")
    if match is None or int(match.group(1)) != toolkit.version:
        problems.append(f"$.version: {toolkit.version} does not match the file name {file.name!r}")
    if problems:
        raise DefinitionError(file, problems)
    return toolkit


def definition_files(directory: Path = DEFINITIONS) -> Iterator[Path]:
    yield from sorted(directory.glob("*/v*.yaml"))


class Registry:
    """Every loaded toolkit version, by id and version. Immutable once built."""

    def __init__(self, toolkits: Collection[Toolkit]) -> None:
        self._versions: dict[str, dict[int, Toolkit]] = {}
        for toolkit in toolkits:
            self._versions.setdefault(toolkit.id, {})[toolkit.version] = toolkit

    def ids(self) -> list[str]:
        return sorted(self._versions)

    def current(self, toolkit_id: str) -> Toolkit:
        """The newest version: what a new audit is created with."""
        versions = self._versions.get(toolkit_id)
        if not versions:
            raise UnknownToolkit(toolkit_id)
        return versions[max(versions)]

    def get(self, toolkit_id: str, version: int) -> Toolkit:
        try:
            return self._versions[toolkit_id][version]
        except KeyError:
            raise UnknownToolkit(toolkit_id, version) from None

    def versions(self, toolkit_id: str) -> list[int]:
        return sorted(self._versions.get(toolkit_id, {}))

    def __iter__(self) -> Iterator[Toolkit]:
        for toolkit_id in self.ids():
            yield self.current(toolkit_id)


def load_registry(
    directory: Path = DEFINITIONS,
    *,
    agency_kinds: Collection[str] | None = None,
    merge_policies: Collection[str] | None = None,
) -> Registry:
    """Load every definition under ``directory``; all problems of all files
    are reported together, so one run shows everything to fix."""
    toolkits: list[Toolkit] = []
    errors: list[DefinitionError] = []
    for file in definition_files(directory):
        try:
            toolkits.append(load_definition(file, agency_kinds=agency_kinds, merge_policies=merge_policies))
        except DefinitionError as error:
            errors.append(error)
    if errors:
        raise InvalidDefinitions(errors)
    return Registry(toolkits)
