"""The partnership's register of organisations, kept by its administrator.

An organisation is registered before anyone from it signs in (code — the
value its people's tokens carry, such as an NHS ODS code or a school's
URN —, name, agency kind, contacts), so its people's tokens need name
only the organisation. One nobody registered is recorded at its people's
first sign-in (``server/auth/recording.py``) and waits here, flagged, for
the administrator to confirm it.

A record that is wrong — the agency kind, or the partnership an
organisation was bound to by a test token — is corrected with a reason:
the correction is in the trail, the organisation's next token is
accepted, and its existing audits keep what they were created with (each
participant's agency kind is kept on the audit; an audit stays in its
partnership). An organisation wrongly recorded in another partnership,
which no administrator there has confirmed, may be moved here by this
partnership's administrator, with a reason, in both partnerships' trails.
"""

from __future__ import annotations

import re
from typing import Any, Final
from uuid import UUID

import asyncpg
import msgspec

from agencies.kinds import AGENCY_KIND_CODES
from agencies.organisations import CODE_PATTERN
from server.audits import events
from server.audits.administration.partnership import TrailEntryView, read_trail
from server.audits.administration.views import RegisteredOrganisationView, registered_view
from server.audits.checks import check_reason, check_seen_version, invalid
from server.audits.events import EventName
from server.auth.permissions import Permission, require
from server.auth.principal import Principal
from server.db import organisations, partnerships
from server.db.organisations import ContactRow, RegisteredRow
from server.platform.problems import Conflict, NotFound, PreconditionFailed
from toolkits.validation import FieldProblem

__all__ = [
    "MAX_AUDIT_CONTACTS",
    "MAX_NAME",
    "Claim",
    "ContactIn",
    "Correction",
    "NewOrganisation",
    "OrganisationChanges",
    "change_organisation",
    "changes_problems",
    "claim_organisation",
    "claim_problems",
    "confirm_organisation",
    "correct_organisation",
    "correction_problems",
    "email_problem",
    "list_register",
    "new_organisation_problems",
    "read_registered",
    "read_with_trail",
    "register_organisation",
]

MAX_NAME: Final = 200
MAX_AUDIT_CONTACTS: Final = 20
MAX_EMAIL: Final = 254  # RFC 5321's limit on a path
# Deliberately loose: an address is checked by the mail it receives; this
# only catches what cannot be one (no @, spaces, no domain).
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
NO_SUCH: Final = "no organisation of your partnership has this id"


class ContactIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A named contact: the organisation's safeguarding lead."""

    name: str | None = None
    email: str


class NewOrganisation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    code: str
    name: str
    agency_kind: str
    safeguarding_lead: ContactIn | None = None
    # Where the organisation's audit requests go.
    audit_contacts: list[str] = msgspec.field(default_factory=list)
    active: bool = True


class OrganisationChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Absent fields stay as they are; ``null`` clears the safeguarding lead."""

    name: str | msgspec.UnsetType = msgspec.UNSET
    safeguarding_lead: ContactIn | msgspec.UnsetType | None = msgspec.UNSET
    audit_contacts: list[str] | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
    reason: str | None = None


class Correction(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A recorded agency kind or partnership (its code) that is wrong."""

    agency_kind: str | msgspec.UnsetType = msgspec.UNSET
    partnership: str | msgspec.UnsetType = msgspec.UNSET
    reason: str | None = None


class Claim(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Move an unconfirmed organisation from another partnership to this one."""

    code: str
    reason: str | None = None


# --- pure checks --------------------------------------------------------------------


def email_problem(email: str) -> str | None:
    if len(email) > MAX_EMAIL:
        return f"is longer than {MAX_EMAIL} characters"
    if not _EMAIL.match(email):
        return "is not an e-mail address (name@example.org)"
    return None


def _name_problems(name: str, path: str) -> list[FieldProblem]:
    if not name.strip():
        return [FieldProblem(field=path, message="a name is required")]
    if len(name) > MAX_NAME:
        return [FieldProblem(field=path, message=f"is longer than {MAX_NAME} characters")]
    return []


def _contact_problems(lead: ContactIn | None, audit_contacts: list[str] | None) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if lead is not None:
        if lead.name is None or not lead.name.strip():
            problems.append(
                FieldProblem(field="$.safeguarding_lead.name", message="the safeguarding lead's name is required")
            )
        elif len(lead.name) > MAX_NAME:
            problems.append(
                FieldProblem(field="$.safeguarding_lead.name", message=f"is longer than {MAX_NAME} characters")
            )
        wrong = email_problem(lead.email.strip())
        if wrong:
            problems.append(FieldProblem(field="$.safeguarding_lead.email", message=wrong))
    if audit_contacts is not None:
        if len(audit_contacts) > MAX_AUDIT_CONTACTS:
            problems.append(FieldProblem(field="$.audit_contacts", message=f"at most {MAX_AUDIT_CONTACTS} addresses"))
        seen: set[str] = set()
        for i, email in enumerate(audit_contacts):
            wrong = email_problem(email.strip())
            if wrong:
                problems.append(FieldProblem(field=f"$.audit_contacts[{i}]", message=wrong))
            elif email.strip().lower() in seen:
                problems.append(FieldProblem(field=f"$.audit_contacts[{i}]", message="is listed twice"))
            seen.add(email.strip().lower())
    return problems


def _kind_problems(kind: str, path: str) -> list[FieldProblem]:
    if kind not in AGENCY_KIND_CODES:
        return [
            FieldProblem(field=path, message=f"no such agency kind; one of: {', '.join(sorted(AGENCY_KIND_CODES))}")
        ]
    return []


def _code_problems(code: str, path: str) -> list[FieldProblem]:
    if not CODE_PATTERN.match(code):
        return [
            FieldProblem(
                field=path,
                message="a code is 1 to 100 letters, digits and . _ : / - (no spaces), as the identity provider "
                "puts it in tokens",
            )
        ]
    return []


def new_organisation_problems(new: NewOrganisation) -> list[FieldProblem]:
    """Everything wrong with ``new`` that can be told without the database."""
    return [
        *_code_problems(new.code, "$.code"),
        *_name_problems(new.name, "$.name"),
        *_kind_problems(new.agency_kind, "$.agency_kind"),
        *_contact_problems(new.safeguarding_lead, new.audit_contacts),
    ]


def changes_problems(changes: OrganisationChanges) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if not isinstance(changes.name, msgspec.UnsetType):
        problems += _name_problems(changes.name, "$.name")
    lead = None if isinstance(changes.safeguarding_lead, msgspec.UnsetType) else changes.safeguarding_lead
    contacts = None if isinstance(changes.audit_contacts, msgspec.UnsetType) else changes.audit_contacts
    problems += _contact_problems(lead, contacts)
    problems += check_reason(changes.reason, required=False, why="")
    return problems


def correction_problems(correction: Correction, current: RegisteredRow | None = None) -> list[FieldProblem]:
    """A correction needs a reason and something to correct."""
    problems: list[FieldProblem] = []
    kind = None if isinstance(correction.agency_kind, msgspec.UnsetType) else correction.agency_kind
    partnership = None if isinstance(correction.partnership, msgspec.UnsetType) else correction.partnership
    if kind is not None:
        problems += _kind_problems(kind, "$.agency_kind")
    if partnership is not None:
        problems += _code_problems(partnership, "$.partnership")
    if kind is None and partnership is None:
        problems.append(FieldProblem(field="$.agency_kind", message="give the right agency kind, partnership or both"))
    elif current is not None and kind in (None, current.agency_kind) and partnership is None:
        problems.append(FieldProblem(field="$.agency_kind", message="is the agency kind recorded already"))
    problems += check_reason(correction.reason, required=True, why="to correct an organisation's record")
    return problems


def claim_problems(claim: Claim) -> list[FieldProblem]:
    return [
        *_code_problems(claim.code, "$.code"),
        *check_reason(claim.reason, required=True, why="to move an organisation to your partnership"),
    ]


# --- steps ---------------------------------------------------------------------------


def _contacts(lead: ContactIn | None, audit_contacts: list[str]) -> list[ContactRow]:
    found: list[ContactRow] = []
    if lead is not None:
        found.append(
            ContactRow(kind="safeguarding-lead", name=(lead.name or "").strip() or None, email=lead.email.strip())
        )
    found += [ContactRow(kind="audit-contact", name=None, email=email.strip()) for email in audit_contacts]
    return found


async def _view(connection: asyncpg.Connection[Any], row: RegisteredRow) -> RegisteredOrganisationView:
    return registered_view(row, await organisations.contacts(connection, row.id))


async def _own(
    connection: asyncpg.Connection[Any], principal: Principal, organisation_id: UUID, *, for_update: bool = False
) -> RegisteredRow:
    """One of the principal's partnership's organisations; 404 for any other."""
    row = await organisations.get(connection, organisation_id, for_update=for_update)
    if row is None or row.partnership_id != principal.partnership_id:
        raise NotFound(NO_SUCH)
    return row


async def list_register(connection: asyncpg.Connection[Any], principal: Principal) -> list[RegisteredOrganisationView]:
    """The partnership's organisations with their contacts, those waiting
    for confirmation first (two statements, however many there are)."""
    require(principal, Permission.ORGANISATION_ADMINISTER)
    rows = await organisations.of_partnership(connection, principal.partnership_id)
    contacts = await organisations.contacts_of(connection, [row.id for row in rows])
    return [registered_view(row, contacts[row.id]) for row in rows]


async def read_registered(
    connection: asyncpg.Connection[Any], principal: Principal, organisation_id: UUID
) -> RegisteredOrganisationView:
    require(principal, Permission.ORGANISATION_ADMINISTER)
    return await _view(connection, await _own(connection, principal, organisation_id))


async def read_with_trail(
    connection: asyncpg.Connection[Any], principal: Principal, organisation_id: UUID
) -> tuple[RegisteredOrganisationView, list[TrailEntryView]]:
    """An organisation's page: its record and contacts, and its part of the
    administration trail, newest first."""
    found = await read_registered(connection, principal, organisation_id)
    return found, await read_trail(connection, principal, organisation_id=organisation_id)


async def register_organisation(
    connection: asyncpg.Connection[Any], principal: Principal, new: NewOrganisation
) -> RegisteredOrganisationView:
    """Register an organisation of the principal's partnership; 409 if its
    code is recorded already (here: to confirm; elsewhere: to move here)."""
    require(principal, Permission.ORGANISATION_ADMINISTER)
    problems = new_organisation_problems(new)
    if problems:
        raise invalid(problems)
    created = await organisations.register(
        connection,
        partnership_id=principal.partnership_id,
        code=new.code,
        name=new.name.strip(),
        agency_kind=new.agency_kind,
        active=new.active,
        user_id=principal.user_id,
    )
    if created is None:
        existing = await organisations.by_code(connection, new.code)
        if existing is not None and existing.partnership_id == principal.partnership_id:
            raise Conflict(
                f"'{new.code}' is in your partnership's register already"
                + (" (recorded at a sign-in: confirm it)" if existing.needs_confirmation else "")
            )
        elsewhere = (
            "not yet confirmed there: you may move it to your partnership with a reason"
            if (existing is not None and existing.needs_confirmation)
            else "its administrator can move it to your partnership"
        )
        raise Conflict(f"'{new.code}' is recorded in another partnership; {elsewhere}")
    contacts = _contacts(new.safeguarding_lead, new.audit_contacts)
    await organisations.replace_contacts(connection, created, contacts)
    await events.record(
        connection,
        principal,
        EventName.ORGANISATION_REGISTERED,
        target_organisation_id=created,
        detail={
            "partnership_ids": [str(principal.partnership_id)],
            "code": new.code,
            "agency_kind": new.agency_kind,
            "active": new.active,
            "contacts": len(contacts),
        },
    )
    row = await organisations.get(connection, created)
    assert row is not None
    return registered_view(row, contacts)


async def change_organisation(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    organisation_id: UUID,
    changes: OrganisationChanges,
    *,
    seen_version: int | None,
) -> RegisteredOrganisationView:
    """Change an organisation's name, contacts or whether it is active (its
    people are refused while it is not)."""
    require(principal, Permission.ORGANISATION_ADMINISTER)
    current = await _own(connection, principal, organisation_id, for_update=True)
    check_seen_version(
        seen_version,
        current.row_version,
        resource="the organisation",
        read_at=f"/api/admin/organisations/{current.id}",
    )
    problems = changes_problems(changes)
    if problems:
        raise invalid(problems)
    changed: list[str] = []
    name = current.name if isinstance(changes.name, msgspec.UnsetType) else changes.name.strip()
    active = current.active if isinstance(changes.active, msgspec.UnsetType) else changes.active
    if name != current.name:
        changed.append("name")
    if active != current.active:
        changed.append("active")
    if not isinstance(changes.safeguarding_lead, msgspec.UnsetType) or not isinstance(
        changes.audit_contacts, msgspec.UnsetType
    ):
        before = await organisations.contacts(connection, organisation_id)
        lead = next((c for c in before if c.kind == "safeguarding-lead"), None)
        kept_lead = (
            (None if lead is None else ContactIn(name=lead.name, email=lead.email))
            if isinstance(changes.safeguarding_lead, msgspec.UnsetType)
            else changes.safeguarding_lead
        )
        kept_contacts = (
            [c.email for c in before if c.kind == "audit-contact"]
            if isinstance(changes.audit_contacts, msgspec.UnsetType)
            else changes.audit_contacts
        )
        after = _contacts(kept_lead, kept_contacts)
        if after != before:
            await organisations.replace_contacts(connection, organisation_id, after)
            changed.append("contacts")
    if name != current.name or active != current.active:
        await _write(connection, principal, current, name=name, active=active)
    elif changed:
        await _write(connection, principal, current)  # contacts: the record's version moves on too
    if changed:
        detail: dict[str, Any] = {"partnership_ids": [str(principal.partnership_id)], "changed": changed}
        if changes.reason and changes.reason.strip():
            detail["reason"] = changes.reason.strip()
        await events.record(
            connection, principal, EventName.ORGANISATION_CHANGED, target_organisation_id=organisation_id, detail=detail
        )
    return await _view(connection, await _own(connection, principal, organisation_id))


async def _write(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    current: RegisteredRow,
    *,
    partnership_id: UUID | None = None,
    name: str | None = None,
    agency_kind: str | None = None,
    active: bool | None = None,
    needs_confirmation: bool | None = None,
) -> None:
    written = await organisations.update(
        connection,
        current.id,
        current.row_version,
        partnership_id=partnership_id or current.partnership_id,
        name=current.name if name is None else name,
        agency_kind=agency_kind or current.agency_kind,
        active=current.active if active is None else active,
        needs_confirmation=current.needs_confirmation if needs_confirmation is None else needs_confirmation,
        user_id=principal.user_id,
    )
    if not written:
        raise PreconditionFailed("someone changed this organisation since you read it; read it again")


async def confirm_organisation(
    connection: asyncpg.Connection[Any], principal: Principal, organisation_id: UUID, *, seen_version: int | None
) -> RegisteredOrganisationView:
    """Confirm an organisation first recorded at a sign-in: the
    administrator vouches for its name, kind and partnership."""
    require(principal, Permission.ORGANISATION_ADMINISTER)
    current = await _own(connection, principal, organisation_id, for_update=True)
    check_seen_version(
        seen_version,
        current.row_version,
        resource="the organisation",
        read_at=f"/api/admin/organisations/{current.id}",
    )
    if current.needs_confirmation:
        await _write(connection, principal, current, needs_confirmation=False)
        await events.record(
            connection,
            principal,
            EventName.ORGANISATION_CONFIRMED,
            target_organisation_id=organisation_id,
            detail={"partnership_ids": [str(principal.partnership_id)], "agency_kind": current.agency_kind},
        )
    return await _view(connection, await _own(connection, principal, organisation_id))


async def correct_organisation(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    organisation_id: UUID,
    correction: Correction,
    *,
    seen_version: int | None,
) -> RegisteredOrganisationView:
    """Correct a recorded agency kind or partnership, with a reason. The
    organisation's audits keep the kind it took part as and stay in their
    partnership; its next token is judged against the corrected record.
    Moved to another partnership, it waits there for that partnership's
    administrator to confirm it."""
    require(principal, Permission.ORGANISATION_ADMINISTER)
    current = await _own(connection, principal, organisation_id, for_update=True)
    check_seen_version(
        seen_version,
        current.row_version,
        resource="the organisation",
        read_at=f"/api/admin/organisations/{current.id}",
    )
    problems = correction_problems(correction, current)
    if problems:
        raise invalid(problems)
    assert correction.reason is not None
    detail: dict[str, Any] = {"partnership_ids": [str(principal.partnership_id)], "reason": correction.reason.strip()}
    kind = current.agency_kind if isinstance(correction.agency_kind, msgspec.UnsetType) else correction.agency_kind
    if kind != current.agency_kind:
        detail["agency_kind"] = {"from": current.agency_kind, "to": kind}
    target = current.partnership_id
    if (
        not isinstance(correction.partnership, msgspec.UnsetType)
        and correction.partnership != principal.partnership_code
    ):
        found = await partnerships.by_code(connection, correction.partnership)
        if found is None:
            raise invalid([FieldProblem(field="$.partnership", message="no partnership has this code in Maca")])
        target = found.id
        detail["partnership"] = {"from": principal.partnership_code, "to": found.code}
        detail["partnership_ids"].append(str(found.id))
    if "agency_kind" not in detail and "partnership" not in detail:
        raise invalid([FieldProblem(field="$.agency_kind", message="is the record already: nothing to correct")])
    await _write(
        connection,
        principal,
        current,
        partnership_id=target,
        agency_kind=kind,
        needs_confirmation=True if target != current.partnership_id else None,
    )
    await events.record(
        connection, principal, EventName.ORGANISATION_CORRECTED, target_organisation_id=organisation_id, detail=detail
    )
    row = await organisations.get(connection, organisation_id)
    assert row is not None
    return await _view(connection, row)


async def claim_organisation(
    connection: asyncpg.Connection[Any], principal: Principal, claim: Claim
) -> RegisteredOrganisationView:
    """Move an organisation recorded in another partnership at a sign-in,
    and never confirmed there, to the principal's partnership (a test
    token named the wrong partnership), with a reason. One that an
    administrator there confirmed is theirs to move."""
    require(principal, Permission.ORGANISATION_ADMINISTER)
    problems = claim_problems(claim)
    if problems:
        raise invalid(problems)
    assert claim.reason is not None
    found = await organisations.by_code(connection, claim.code)
    if found is None:
        raise NotFound("no organisation has this code in Maca")
    if found.partnership_id == principal.partnership_id:
        raise Conflict(f"'{claim.code}' is in your partnership already")
    if not found.needs_confirmation:
        raise Conflict(f"'{claim.code}' was confirmed by another partnership's administrator: ask them to move it")
    current = await organisations.get(connection, found.id, for_update=True)
    assert current is not None
    origin = await partnerships.get(connection, current.partnership_id)
    await _write(connection, principal, current, partnership_id=principal.partnership_id, needs_confirmation=False)
    await events.record(
        connection,
        principal,
        EventName.ORGANISATION_CORRECTED,
        target_organisation_id=current.id,
        detail={
            "partnership_ids": [str(current.partnership_id), str(principal.partnership_id)],
            "partnership": {"from": origin.code if origin else None, "to": principal.partnership_code},
            "reason": claim.reason.strip(),
        },
    )
    return await _view(connection, await _own(connection, principal, current.id))
