"""The partnership's toolkits: which are offered for new audits and with
which merge policy, and its own versions of them.

Seed 003: the tool "can be customised e.g. to provide a specific focus".
An administrator uploads a version in the same YAML format as the shipped
definitions; every problem the loader finds is shown at once, each at its
line (``toolkits/loading.py``, as ``maca toolkits validate`` prints them).
A version with none is kept (never changed afterwards), previewed as each
agency would see it, and activated: new audits of the toolkit take it,
audits already created keep the version they were created with. The
shipped definitions stay files; going back to them is activating none.

Its number comes after every version of the toolkit the partnership has,
shipped or its own, so "version 2" means one thing in the partnership.
"""

from __future__ import annotations

import datetime
from typing import Any, Final
from uuid import UUID

import asyncpg
import msgspec

from agencies.applicability import Participant, applicable_sections, view_for
from agencies.kinds import AGENCY_KIND_CODES, AGENCY_KINDS
from merging import POLICIES, policy_names
from server.audits import events
from server.audits.catalogue import Catalogue, catalogue_of, local_toolkit
from server.audits.checks import check_seen_version, invalid
from server.audits.events import EventName
from server.auth.permissions import Permission, require
from server.auth.principal import Principal
from server.db import partnerships, toolkit_versions
from server.db.toolkit_versions import LocalVersionRow
from server.platform.problems import Conflict, FieldError, InvalidInput, NotFound, PreconditionFailed
from toolkits.loading import Problem, read_toolkit
from toolkits.model import Toolkit
from toolkits.registry import Registry, definition_text
from toolkits.validation import FieldProblem

__all__ = [
    "MAX_UPLOAD_BYTES",
    "AgencyPartView",
    "LocalVersionView",
    "PolicyView",
    "PreviewView",
    "ToolkitChoice",
    "ToolkitChoiceView",
    "ToolkitsView",
    "activate_version",
    "change_choice",
    "preview_version",
    "read_toolkits",
    "shipped_source",
    "upload_problems",
    "upload_version",
    "version_source",
]

# The largest seed tool is 50 KB of YAML.
MAX_UPLOAD_BYTES: Final = 512 * 1024


class PolicyView(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    description: str


class LocalVersionView(msgspec.Struct, frozen=True, kw_only=True):
    """One of the partnership's own toolkit versions."""

    id: UUID
    toolkit_id: str
    version: int
    title: str
    file_name: str
    uploaded_by: str | None
    uploaded_at: datetime.datetime
    active: bool
    audits: int


class ToolkitChoiceView(msgspec.Struct, frozen=True, kw_only=True):
    """One toolkit as the partnership uses it."""

    toolkit_id: str
    title: str
    offered: bool
    # The policy the partnership chose (None: the definition's own,
    # default_merge_policy); merge_policy is the one new audits take.
    chosen_merge_policy: str | None
    default_merge_policy: str
    merge_policy: str
    # What new audits take: a shipped version or one of the partnership's own.
    current_version: int
    current_is_local: bool
    shipped_versions: list[int]
    local_versions: list[LocalVersionView]
    row_version: int


class ToolkitsView(msgspec.Struct, frozen=True, kw_only=True):
    toolkits: list[ToolkitChoiceView]
    policies: list[PolicyView]


class ToolkitChoice(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Whether new audits may use a toolkit, and its merge policy (None:
    the definition's own)."""

    offered: bool = True
    merge_policy: str | None = None


class AgencyPartView(msgspec.Struct, frozen=True, kw_only=True):
    """How much of a version one agency kind answers (as a referrer or not)."""

    agency_kind: str
    name: str
    sections: int
    questions: int
    as_referrer_questions: int


class PreviewView(msgspec.Struct, frozen=True, kw_only=True):
    """A version as one agency sees it, and how much each agency answers."""

    version: LocalVersionView
    agency_kind: str
    is_referrer: bool
    toolkit: Toolkit
    agencies: list[AgencyPartView]
    # The version of the partnership's choices for the toolkit, to activate
    # this version from the preview (If-Match).
    choice_version: int
    # The version new audits take now, and the questions this agency is
    # asked in this version and not in that one, and the reverse.
    compared_with: int | None = None
    added: list[str] = msgspec.field(default_factory=list)
    removed: list[str] = msgspec.field(default_factory=list)


def _version_view(row: LocalVersionRow) -> LocalVersionView:
    return LocalVersionView(
        id=row.id,
        toolkit_id=row.toolkit_id,
        version=row.version,
        title=row.title,
        file_name=row.file_name,
        uploaded_by=row.uploaded_by_name,
        uploaded_at=row.uploaded_at,
        active=row.active,
        audits=row.audits,
    )


def _choice_view(catalogue: Catalogue, toolkit_id: str) -> ToolkitChoiceView:
    registry = catalogue.registry
    current = registry.current(toolkit_id)
    choice = catalogue.choices.get(toolkit_id)
    chosen = None if choice is None else choice.merge_policy
    return ToolkitChoiceView(
        toolkit_id=toolkit_id,
        title=current.title,
        offered=catalogue.offered(toolkit_id),
        chosen_merge_policy=chosen,
        # The policy named by the definition new audits take.
        default_merge_policy=current.merge_policy,
        merge_policy=chosen or current.merge_policy,
        current_version=current.version,
        current_is_local=registry.current_is_local(toolkit_id),
        shipped_versions=registry.versions(toolkit_id),
        local_versions=[_version_view(v) for v in catalogue.versions if v.toolkit_id == toolkit_id],
        row_version=0 if choice is None else choice.row_version,
    )


async def read_toolkits(connection: asyncpg.Connection[Any], principal: Principal, registry: Registry) -> ToolkitsView:
    """Every toolkit the partnership has — shipped, or only its own (listed
    once one of its versions is uploaded) — with its choices and versions."""
    require(principal, Permission.TOOLKIT_ADMINISTER)
    catalogue = await catalogue_of(connection, registry, principal.partnership_id)
    ids = sorted(set(catalogue.registry.ids()) | {v.toolkit_id for v in catalogue.versions})
    views = []
    for toolkit_id in ids:
        if toolkit_id in catalogue.registry.ids():
            views.append(_choice_view(catalogue, toolkit_id))
        else:  # only its own versions, none active yet
            versions = [v for v in catalogue.versions if v.toolkit_id == toolkit_id]
            newest = versions[-1]
            views.append(
                ToolkitChoiceView(
                    toolkit_id=toolkit_id,
                    title=newest.title,
                    offered=False,
                    chosen_merge_policy=catalogue.merge_policy(toolkit_id),
                    default_merge_policy="",
                    merge_policy=catalogue.merge_policy(toolkit_id) or "",
                    current_version=0,
                    current_is_local=True,
                    shipped_versions=[],
                    local_versions=[_version_view(v) for v in versions],
                    row_version=catalogue.choices[toolkit_id].row_version if toolkit_id in catalogue.choices else 0,
                )
            )
    return ToolkitsView(
        toolkits=sorted(views, key=lambda view: view.title),
        policies=[PolicyView(name=name, description=POLICIES[name].description) for name in policy_names()],
    )


async def change_choice(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    toolkit_id: str,
    choice: ToolkitChoice,
    *,
    seen_version: int | None,
) -> ToolkitChoiceView:
    """Offer a toolkit for new audits or not, and choose its merge policy.
    Audits already created keep the policy they were created with."""
    require(principal, Permission.TOOLKIT_ADMINISTER)
    catalogue = await catalogue_of(connection, registry, principal.partnership_id)
    known = set(catalogue.registry.ids()) | {v.toolkit_id for v in catalogue.versions}
    if toolkit_id not in known:
        raise NotFound("no such toolkit")
    current = catalogue.choices.get(toolkit_id)
    check_seen_version(
        seen_version,
        0 if current is None else current.row_version,
        resource="the toolkit's choice",
        read_at="/api/admin/toolkits",
    )
    if choice.merge_policy is not None and choice.merge_policy not in POLICIES:
        raise invalid(
            [FieldProblem(field="$.merge_policy", message=f"no such policy; one of: {', '.join(policy_names())}")]
        )
    saved = await partnerships.save_toolkit_choice(
        connection,
        principal.partnership_id,
        toolkit_id,
        0 if current is None else current.row_version,
        offered=choice.offered,
        merge_policy=choice.merge_policy,
        local_version_id=None if current is None else current.local_version_id,
        user_id=principal.user_id,
    )
    if not saved:
        raise PreconditionFailed("someone changed this toolkit's settings since you read them; read them again")
    await events.record(
        connection,
        principal,
        EventName.TOOLKIT_CHOICE_CHANGED,
        detail={
            "partnership_ids": [str(principal.partnership_id)],
            "toolkit_id": toolkit_id,
            "offered": choice.offered,
            "merge_policy": choice.merge_policy,
        },
    )
    return _choice_view(await catalogue_of(connection, registry, principal.partnership_id), toolkit_id)


def upload_problems(registry: Registry, file_name: str, text: bytes) -> tuple[Toolkit | None, list[Problem]]:
    """The toolkit an uploaded text defines, and every problem with it,
    each at its place: what the loader finds, then whether it can be this
    partnership's next version (``registry``: the partnership's, with all
    of its own versions)."""
    if len(text) > MAX_UPLOAD_BYTES:
        return None, [Problem(path="", message=f"is larger than {MAX_UPLOAD_BYTES // 1024} KB")]
    reading = read_toolkit(text, agency_kinds=AGENCY_KIND_CODES, merge_policies=policy_names())
    problems = list(reading.problems)
    toolkit = reading.toolkit
    if toolkit is not None and not problems:
        newest = registry.newest_version(toolkit.id)
        if toolkit.version <= newest:
            problems.append(
                reading.place(
                    "$.version",
                    f"must be above {newest}, the newest version of {toolkit.id!r} your partnership has "
                    f"(use {newest + 1})",
                )
            )
    return (toolkit if not problems else None), problems


def _refusal(file_name: str, problems: list[Problem]) -> InvalidInput:
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    return InvalidInput(
        f"{file_name} has {count}; nothing was kept",
        errors=[FieldError(field=p.path or "$", message=p.located(file_name)) for p in problems],
    )


async def upload_version(
    connection: asyncpg.Connection[Any], principal: Principal, registry: Registry, file_name: str, text: bytes
) -> LocalVersionView:
    """Keep an uploaded version if the loader finds nothing wrong with it
    (422 listing every problem, each located, otherwise). It is not used
    until it is activated."""
    require(principal, Permission.TOOLKIT_ADMINISTER)
    name = (file_name or "upload.yaml").rsplit("/", 1)[-1][:200] or "upload.yaml"
    catalogue = await catalogue_of(connection, registry, principal.partnership_id, every_version=True)
    toolkit, problems = upload_problems(catalogue.registry, name, text)
    if toolkit is None:
        raise _refusal(name, problems)
    added = await toolkit_versions.add(
        connection,
        partnership_id=principal.partnership_id,
        toolkit_id=toolkit.id,
        version=toolkit.version,
        title=toolkit.title,
        file_name=name,
        source=text.decode("utf-8"),
        definition_json=msgspec.json.encode(toolkit),
        user_id=principal.user_id,
    )
    if added is None:  # another upload took the number meanwhile
        raise Conflict(f"version {toolkit.version} of {toolkit.id!r} was uploaded meanwhile; use the next number")
    await events.record(
        connection,
        principal,
        EventName.TOOLKIT_VERSION_UPLOADED,
        detail={
            "partnership_ids": [str(principal.partnership_id)],
            "toolkit_id": toolkit.id,
            "version": toolkit.version,
            "version_id": str(added),
            "file_name": name,
        },
    )
    row = await toolkit_versions.get(connection, added)
    assert row is not None
    return _version_view(row)


async def _own_version(connection: asyncpg.Connection[Any], principal: Principal, version_id: UUID) -> LocalVersionRow:
    row = await toolkit_versions.get(connection, version_id)
    if row is None or row.partnership_id != principal.partnership_id:
        raise NotFound("no toolkit version of your partnership has this id")
    return row


def _part(toolkit: Toolkit, kind: str, is_referrer: bool) -> tuple[int, int]:
    sections = applicable_sections(toolkit, Participant(agency_kind=kind, is_referrer=is_referrer))
    return len(sections), sum(len(s.questions) for s in sections)


def _questions(toolkit: Toolkit, participant: Participant) -> dict[str, str]:
    return {q.id: q.text for s in applicable_sections(toolkit, participant) for q in s.questions}


async def preview_version(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    version_id: UUID,
    *,
    agency_kind: str,
    is_referrer: bool = False,
) -> PreviewView:
    """A version as ``agency_kind`` would see it (having referred the case
    or not), what that agency is asked that the version new audits take
    now does not ask (and the reverse), and how much every agency kind
    answers."""
    require(principal, Permission.TOOLKIT_ADMINISTER)
    if agency_kind not in AGENCY_KIND_CODES:
        raise InvalidInput(
            errors=[FieldError(field="agency", message=f"one of: {', '.join(sorted(AGENCY_KIND_CODES))}")]
        )
    row = await _own_version(connection, principal, version_id)
    toolkit = await local_toolkit(connection, version_id)
    agencies = []
    for kind in AGENCY_KINDS:
        sections, questions = _part(toolkit, kind.code, False)
        _, as_referrer = _part(toolkit, kind.code, True)
        agencies.append(
            AgencyPartView(
                agency_kind=kind.code,
                name=kind.name,
                sections=sections,
                questions=questions,
                as_referrer_questions=as_referrer,
            )
        )
    catalogue = await catalogue_of(connection, registry, principal.partnership_id)
    current = catalogue.choices.get(row.toolkit_id)
    participant = Participant(agency_kind=agency_kind, is_referrer=is_referrer)
    compared: Toolkit | None = None
    if row.toolkit_id in catalogue.registry.ids():
        compared = catalogue.registry.current(row.toolkit_id)
    asked = _questions(toolkit, participant)
    before = {} if compared is None else _questions(compared, participant)
    return PreviewView(
        choice_version=0 if current is None else current.row_version,
        version=_version_view(row),
        agency_kind=agency_kind,
        is_referrer=is_referrer,
        toolkit=view_for(toolkit, participant),
        agencies=agencies,
        compared_with=None if compared is None else compared.version,
        added=[text for question_id, text in asked.items() if question_id not in before],
        removed=[text for question_id, text in before.items() if question_id not in asked],
    )


def shipped_source(principal: Principal, registry: Registry, toolkit_id: str, version: int) -> tuple[str, str]:
    """(file name, the YAML) of a version shipped with Maca: the start of a
    partnership's own version."""
    require(principal, Permission.TOOLKIT_ADMINISTER)
    if version not in registry.versions(toolkit_id):
        raise NotFound("no such shipped toolkit version")
    return f"{toolkit_id}-v{version}.yaml", definition_text(toolkit_id, version)


async def version_source(
    connection: asyncpg.Connection[Any], principal: Principal, version_id: UUID
) -> tuple[str, str]:
    """(file name, the YAML as uploaded)."""
    require(principal, Permission.TOOLKIT_ADMINISTER)
    await _own_version(connection, principal, version_id)
    found = await toolkit_versions.source(connection, version_id)
    assert found is not None
    return found


async def activate_version(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    toolkit_id: str,
    version_id: UUID | None,
    *,
    seen_version: int | None,
) -> ToolkitChoiceView:
    """Make new audits of ``toolkit_id`` take one of the partnership's own
    versions (``None``: the newest shipped one again). Audits already
    created keep theirs."""
    require(principal, Permission.TOOLKIT_ADMINISTER)
    catalogue = await catalogue_of(connection, registry, principal.partnership_id)
    current = catalogue.choices.get(toolkit_id)
    check_seen_version(
        seen_version,
        0 if current is None else current.row_version,
        resource="the toolkit's choice",
        read_at="/api/admin/toolkits",
    )
    version: LocalVersionRow | None = None
    if version_id is not None:
        version = await _own_version(connection, principal, version_id)
        if version.toolkit_id != toolkit_id:
            raise NotFound("this version is of another toolkit")
    elif not registry.versions(toolkit_id):
        raise Conflict(f"{toolkit_id!r} has no shipped version to go back to")
    saved = await partnerships.save_toolkit_choice(
        connection,
        principal.partnership_id,
        toolkit_id,
        0 if current is None else current.row_version,
        # A partnership's own toolkit is offered once it has an active version.
        offered=True if current is None else current.offered,
        merge_policy=None if current is None else current.merge_policy,
        local_version_id=version_id,
        user_id=principal.user_id,
    )
    if not saved:
        raise PreconditionFailed("someone changed this toolkit's settings since you read them; read them again")
    await events.record(
        connection,
        principal,
        EventName.TOOLKIT_VERSION_ACTIVATED,
        detail={
            "partnership_ids": [str(principal.partnership_id)],
            "toolkit_id": toolkit_id,
            "version": None if version is None else version.version,
            "version_id": None if version_id is None else str(version_id),
            "shipped": version is None,
        },
    )
    return _choice_view(await catalogue_of(connection, registry, principal.partnership_id), toolkit_id)
