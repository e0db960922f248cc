"""The toolkits as one partnership's audits use them: the versions shipped
with Maca (files), the partnership's own versions (kept in PostgreSQL,
``server/db/toolkit_versions.py``), and what the partnership chose for each
toolkit — whether new audits may use it, its merge policy, and which
version new audits take.

A partnership's own version is never changed once stored, so each process
keeps the versions it has read (64 at most) by their id, and an audit
created with one finds it again without a round trip; the choices are
read from the database whenever a new audit is made, so every process and
replica takes an activated version at once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final
from uuid import UUID

import asyncpg
import msgspec

from server.db import partnerships, toolkit_versions
from server.db.partnerships import SettingsRow, ToolkitChoiceRow
from server.db.toolkit_versions import LocalVersionRow
from server.platform.problems import Conflict
from toolkits.model import Toolkit
from toolkits.registry import Registry

__all__ = ["Catalogue", "catalogue_of", "local_toolkit", "local_toolkits"]

_KEPT: Final = 64
_kept: OrderedDict[UUID, Toolkit] = OrderedDict()


def _keep(version_id: UUID, toolkit: Toolkit) -> None:
    _kept[version_id] = toolkit
    _kept.move_to_end(version_id)
    while len(_kept) > _KEPT:
        _kept.popitem(last=False)


async def local_toolkits(connection: asyncpg.Connection[Any], version_ids: Iterable[UUID]) -> dict[UUID, Toolkit]:
    """The partnership's own versions by id: kept ones at once, the others
    in one statement. Row-level security lets a transaction read only its
    own partnership's."""
    wanted = list(dict.fromkeys(version_ids))
    found = {version_id: _kept[version_id] for version_id in wanted if version_id in _kept}
    missing = [version_id for version_id in wanted if version_id not in found]
    if missing:
        for version_id, definition in (await toolkit_versions.definitions(connection, missing)).items():
            toolkit = msgspec.json.decode(definition, type=Toolkit)
            _keep(version_id, toolkit)
            found[version_id] = toolkit
    return found


async def local_toolkit(connection: asyncpg.Connection[Any], version_id: UUID) -> Toolkit:
    """One of the partnership's own versions (an audit's); 409 if it cannot
    be read (it is never deleted: this is another partnership's id)."""
    found = await local_toolkits(connection, [version_id])
    if version_id not in found:
        raise Conflict("this audit's toolkit version cannot be read")
    return found[version_id]


@dataclass(frozen=True)
class Catalogue:
    """One partnership's toolkits: ``registry`` answers ``current(id)``
    with the version its new audits take."""

    registry: Registry
    settings: SettingsRow
    choices: dict[str, ToolkitChoiceRow]
    versions: tuple[LocalVersionRow, ...]

    def offered(self, toolkit_id: str) -> bool:
        choice = self.choices.get(toolkit_id)
        shipped = bool(self.registry.versions(toolkit_id))
        if choice is None:
            return shipped
        return choice.offered and (shipped or choice.local_version_id is not None)

    def offered_toolkits(self) -> list[Toolkit]:
        """What a coordinator may create an audit with, by title."""
        return sorted(
            (self.registry.current(toolkit_id) for toolkit_id in self.registry.ids() if self.offered(toolkit_id)),
            key=lambda toolkit: toolkit.title,
        )

    def merge_policy(self, toolkit_id: str) -> str | None:
        """The policy the partnership chose for the toolkit (None: the
        definition's own)."""
        choice = self.choices.get(toolkit_id)
        return None if choice is None else choice.merge_policy

    def current_local_id(self, toolkit_id: str) -> UUID | None:
        """The partnership's own version new audits of ``toolkit_id`` take
        (None: the newest shipped one)."""
        choice = self.choices.get(toolkit_id)
        return None if choice is None else choice.local_version_id


async def catalogue_of(
    connection: asyncpg.Connection[Any], registry: Registry, partnership_id: UUID, *, every_version: bool = False
) -> Catalogue:
    """The partnership's catalogue: its settings, its choices, and its own
    versions — the active ones loaded (``every_version``: all of them, for
    an export spanning audits of every version)."""
    settings = await partnerships.settings(connection, partnership_id)
    if settings is None:
        raise Conflict("no such partnership")
    choices = {choice.toolkit_id: choice for choice in await partnerships.toolkit_choices(connection, partnership_id)}
    versions = tuple(await toolkit_versions.of_partnership(connection, partnership_id))
    wanted = [v.id for v in versions] if every_version else [c.local_version_id for c in choices.values()]
    loaded = await local_toolkits(connection, [version_id for version_id in wanted if version_id is not None])
    chosen = {
        toolkit_id: (choice.local_version, True)
        for toolkit_id, choice in choices.items()
        if choice.local_version_id is not None and choice.local_version is not None
    }
    return Catalogue(
        registry=registry.with_local(list(loaded.values()), chosen=chosen),
        settings=settings,
        choices=choices,
        versions=versions,
    )
