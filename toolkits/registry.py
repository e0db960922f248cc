"""Loading toolkit definitions from their data files, and the registry of
every version an audit may name.

Layout: ``<directory>/<toolkit id>/v<version>.yaml``. Every version stays on
disk and loadable, because an audit keeps the version it was created with.

A partnership may also have versions of its own (seed 003: the tool "can be
customised e.g. to provide a specific focus"), uploaded by its
administrator and kept by the server. :meth:`Registry.with_local` gives the
registry as one partnership sees it: the shipped versions, beside them its
own, and which version of each toolkit its new audits take. Where its
versions come from is the server's business; this module only holds them.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path

from toolkits.loading import Problem, read_toolkit
from toolkits.model import Toolkit

DEFINITIONS = Path(__file__).parent / "definitions"

_VERSION_FILE = re.compile(r"^v(\d+)\.yaml$")


class DefinitionError(Exception):
    """A definition file that cannot be loaded: which file, where in it
    (line and path), what. ``problems`` are the paths and messages;
    ``located`` the same with their lines."""

    def __init__(self, file: Path, problems: list[str], located: list[Problem] | None = None) -> None:
        self.file = file
        self.problems = problems
        self.located = located if located is not None else [Problem(path="", message=p) for p in problems]
        super().__init__("\n".join(problem.located(str(file)) for problem in self.located))


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
    """Decode and check one definition file, or raise :class:`DefinitionError`
    naming every problem (:func:`toolkits.loading.read_toolkit`)."""
    reading = read_toolkit(file.read_bytes(), agency_kinds=agency_kinds, merge_policies=merge_policies)
    problems = list(reading.problems)
    toolkit = reading.toolkit
    if toolkit is not None:
        match = _VERSION_FILE.match(file.name)
        if file.parent.name != toolkit.id:
            problems.append(reading.place("$.id", f"{toolkit.id!r} does not match its folder {file.parent.name!r}"))
        if match is None or int(match.group(1)) != toolkit.version:
            problems.append(reading.place("$.version", f"{toolkit.version} does not match the file name {file.name!r}"))
    if problems or toolkit is None:
        raise DefinitionError(file, [str(problem) for problem in problems], problems)
    return toolkit


def definition_text(toolkit_id: str, version: int, directory: Path = DEFINITIONS) -> str:
    """A shipped version's YAML as written: where a partnership's own
    version starts from."""
    file = directory / toolkit_id / f"v{version}.yaml"
    if file.parent.parent != directory or not file.is_file():
        raise UnknownToolkit(toolkit_id, version)
    return file.read_text(encoding="utf-8")


def definition_files(directory: Path = DEFINITIONS) -> Iterator[Path]:
    yield from sorted(directory.glob("*/v*.yaml"))


class Registry:
    """Every loaded toolkit version, by id and version. Immutable once built.

    A registry for one partnership (:meth:`with_local`) also holds that
    partnership's own versions, kept apart from the shipped ones: an audit
    says which kind of version it was created with, so a shipped version
    published later under the same number never takes a partnership's
    version's place."""

    def __init__(
        self,
        toolkits: Collection[Toolkit],
        *,
        local: Collection[Toolkit] = (),
        chosen: Mapping[str, tuple[int, bool]] | None = None,
    ) -> None:
        self._versions: dict[str, dict[int, Toolkit]] = {}
        for toolkit in toolkits:
            self._versions.setdefault(toolkit.id, {})[toolkit.version] = toolkit
        self._local: dict[str, dict[int, Toolkit]] = {}
        for toolkit in local:
            self._local.setdefault(toolkit.id, {})[toolkit.version] = toolkit
        # toolkit id → (version, whether it is local): what new audits take.
        self._chosen: dict[str, tuple[int, bool]] = dict(chosen or {})

    def with_local(self, local: Collection[Toolkit], *, chosen: Mapping[str, tuple[int, bool]]) -> Registry:
        """This registry's shipped versions, a partnership's own ``local``
        versions beside them, and ``chosen``: for a toolkit id, the version
        (and whether it is one of ``local``) its new audits take instead of
        the newest shipped one."""
        shipped = [toolkit for versions in self._versions.values() for toolkit in versions.values()]
        registry = Registry(shipped, local=local, chosen=chosen)
        for toolkit_id, (version, is_local) in registry._chosen.items():
            registry.get(toolkit_id, version, local=is_local)  # UnknownToolkit if it is not there
        return registry

    def ids(self) -> list[str]:
        return sorted(set(self._versions) | set(self._chosen))

    def current(self, toolkit_id: str) -> Toolkit:
        """What a new audit is created with: the chosen version, or else the
        newest shipped one."""
        chosen = self._chosen.get(toolkit_id)
        if chosen is not None:
            return self.get(toolkit_id, chosen[0], local=chosen[1])
        versions = self._versions.get(toolkit_id)
        if not versions:
            raise UnknownToolkit(toolkit_id)
        return versions[max(versions)]

    def current_is_local(self, toolkit_id: str) -> bool:
        chosen = self._chosen.get(toolkit_id)
        return chosen is not None and chosen[1]

    def get(self, toolkit_id: str, version: int, *, local: bool = False) -> Toolkit:
        """A shipped version, or with ``local`` one of the partnership's own."""
        try:
            return (self._local if local else self._versions)[toolkit_id][version]
        except KeyError:
            raise UnknownToolkit(toolkit_id, version) from None

    def versions(self, toolkit_id: str) -> list[int]:
        """The shipped versions of ``toolkit_id``."""
        return sorted(self._versions.get(toolkit_id, {}))

    def local_ids(self) -> list[str]:
        """The toolkits the partnership has versions of its own of."""
        return sorted(self._local)

    def local_versions(self, toolkit_id: str) -> list[int]:
        """The partnership's own versions of ``toolkit_id``."""
        return sorted(self._local.get(toolkit_id, {}))

    def newest_version(self, toolkit_id: str) -> int:
        """The highest version number of ``toolkit_id``, shipped or local
        (0 for a toolkit not known at all): a new local version comes after it."""
        numbers = [*self._versions.get(toolkit_id, {}), *self._local.get(toolkit_id, {})]
        return max(numbers, default=0)

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
