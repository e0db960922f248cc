"""Who may see what: decided here once, for the API and the pages alike.

Which *people* may do a thing is the permission model's
(:mod:`server.auth.permissions`: each route declares what it needs, and a
step calls :func:`~server.auth.permissions.require` for what it does);
which *resources* they reach is decided here. Those who oversee the
partnership (``partnership:oversee``: coordinators and reviewers) see every
audit of their partnership; those who write their organisation's
contribution (``contribution:write``: an agency's auditors) see an audit
once it is distributed, while their organisation takes part, and only
their own organisation's working copy of a contribution. Anything else is
"not found" (404), so ids do not leak what exists elsewhere.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

import asyncpg

from server.auth.permissions import Permission, is_partnership_staff, may, require
from server.auth.principal import Principal
from server.db import audits, contributions, identity
from server.db.audits import AuditRow
from server.db.contributions import ContributionRow
from server.platform.problems import NotFound

__all__ = [
    "OrganisationReference",
    "Reader",
    "contribution_reader",
    "listed_organisation",
    "open_own_contribution",
    "own_contribution_row",
    "referenced_organisation",
    "takes_part",
    "taking_part_as",
    "visible_audit",
]

# Which copy of an organisation's contribution someone reads: its own
# auditors the working copy (a draft included); the partnership's
# coordinators and reviewers what it last submitted, never a draft.
Reader = Literal["own agency", "partnership"]

# An organisation as a path names it: its id, or its code (an ODS code, say)
# as POST /api/audits takes it.
OrganisationReference = UUID | str


async def referenced_organisation(
    connection: asyncpg.Connection[Any], principal: Principal, reference: OrganisationReference
) -> UUID:
    """The id of the organisation ``reference`` names: an id as it is, a code
    looked up among the caller's partnership's organisations (404 when none
    has it)."""
    if isinstance(reference, UUID):
        return reference
    try:
        return UUID(reference)
    except ValueError:
        pass
    await identity.declare_pending(connection)  # a lookup before the work's first read
    found = await audits.partnership_organisations(connection, principal.partnership_id, [reference])
    if reference not in found:
        raise NotFound("no organisation of your partnership has this code")
    return found[reference].id


async def visible_audit(
    connection: asyncpg.Connection[Any], principal: Principal, audit_id: UUID, *, for_update: bool = False
) -> AuditRow:
    """The audit if ``principal`` may see it; 404 otherwise."""
    audit = await audits.get(connection, audit_id, for_update=for_update, participant=principal.organisation_id)
    return _visible(principal, audit)


def _visible(principal: Principal, audit: AuditRow | None) -> AuditRow:
    """``audit`` (read with the caller's participation) if ``principal`` may
    see it; 404 otherwise."""
    if audit is not None and audit.partnership_id == principal.partnership_id:
        if is_partnership_staff(principal):
            return audit
        if (
            may(principal, Permission.CONTRIBUTION_WRITE)
            and audit.status != "draft"
            and audit.participation == (principal.organisation_id, True)
        ):
            return audit
    raise NotFound("no such audit")


async def takes_part(connection: asyncpg.Connection[Any], audit: AuditRow, organisation_id: UUID) -> bool:
    """Whether the organisation currently takes part in the audit: known
    already when the audit was read for it (:func:`visible_audit`)."""
    if audit.participation is not None and audit.participation[0] == organisation_id:
        return audit.participation[1]
    return await audits.is_participant(connection, audit.id, organisation_id)


async def own_contribution_row(
    connection: asyncpg.Connection[Any], principal: Principal, audit: AuditRow, organisation_id: UUID
) -> ContributionRow:
    """The caller's organisation's contribution; 404 for anyone else's."""
    if organisation_id != principal.organisation_id or not may(principal, Permission.CONTRIBUTION_WRITE):
        raise NotFound("no such contribution")
    if not await takes_part(connection, audit, organisation_id):
        raise NotFound("no such contribution")
    contribution = await contributions.get(connection, audit.id, organisation_id)
    if contribution is None:
        raise NotFound("no such contribution")
    return contribution


async def open_own_contribution(
    connection: asyncpg.Connection[Any], principal: Principal, audit_id: UUID, organisation_id: UUID
) -> tuple[AuditRow, ContributionRow]:
    """The audit and the caller's organisation's contribution to it, read
    together (with the transaction's identity, if it is still to be set:
    ``server.db.contributions.open_own``) and checked as :func:`visible_audit`
    then :func:`own_contribution_row` check them: 404 for an audit the
    caller may not see, or a contribution not theirs."""
    audit, row = await contributions.open_own(connection, audit_id, principal.organisation_id)
    audit = _visible(principal, audit)
    if organisation_id != principal.organisation_id or not may(principal, Permission.CONTRIBUTION_WRITE):
        raise NotFound("no such contribution")
    if audit.participation != (organisation_id, True) or row is None:
        raise NotFound("no such contribution")
    return audit, row


def taking_part_as(audit: AuditRow, principal: Principal) -> str:
    """The agency kind ``principal``'s organisation answers ``audit`` as:
    its kind when it was added to the audit (an administrator may have
    corrected the organisation's kind since; the questions it was given do
    not change), or its kind now if the read did not say."""
    if audit.participation is not None and audit.participation[0] == principal.organisation_id:
        return audit.participant_kind or principal.agency_kind
    return principal.agency_kind


def contribution_reader(principal: Principal, organisation_id: UUID) -> Reader:
    """How ``principal`` reads ``organisation_id``'s contribution: as its own
    agency (the working copy) or as the partnership (the last submitted
    version); 404 for anyone else. An auditor of the organisation who is
    also partnership staff reads their own working copy."""
    if organisation_id == principal.organisation_id and may(principal, Permission.CONTRIBUTION_WRITE):
        return "own agency"
    if is_partnership_staff(principal):
        return "partnership"
    raise NotFound("no such contribution")


def listed_organisation(principal: Principal) -> UUID | None:
    """Whose audits (and actions) a list shows ``principal``: the whole
    partnership's (None) for coordinators and reviewers, their own
    organisation's for anyone else who may see audits (an auditor); 403
    for anyone who may not."""
    require(principal, Permission.AUDIT_READ)
    if is_partnership_staff(principal):
        return None
    return principal.organisation_id
