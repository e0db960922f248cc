"""A stored audit as the pure packages read it: its toolkit version, its
case details, an agency's part in the case, a contribution's content, and
the case facts the merging rules are given. Each is made here and only
here, so the judgement, the summaries and the pages read an audit alike."""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

import asyncpg
import msgspec

from agencies.applicability import Participant
from merging import CaseFacts, Policy, policy_for, policy_named
from server.audits.catalogue import local_toolkit
from server.db.contributions import ContributionRow
from server.platform.problems import Conflict
from toolkits.answers import CaseDetails, ContributionContent
from toolkits.model import Toolkit
from toolkits.registry import Registry, UnknownToolkit

__all__ = [
    "StoredCase",
    "audit_policy",
    "audit_toolkit",
    "case_details_of",
    "case_facts",
    "contribution_content",
    "participant_of",
]


class StoredCase(Protocol):
    """What an audit row says about its case: an audit, or an audit as a
    list reads it."""

    @property
    def toolkit_id(self) -> str: ...
    @property
    def toolkit_version(self) -> int: ...
    @property
    def case_details(self) -> dict[str, Any]: ...
    @property
    def referring_organisation_id(self) -> UUID | None: ...
    @property
    def local_toolkit_version_id(self) -> UUID | None: ...


async def audit_toolkit(connection: asyncpg.Connection[Any], registry: Registry, audit: StoredCase) -> Toolkit:
    """The toolkit version the audit was created with: a shipped one, or
    its partnership's own (kept in the database, read once per process);
    409 if a shipped one is no longer installed (an operator's error)."""
    if audit.local_toolkit_version_id is not None:
        return await local_toolkit(connection, audit.local_toolkit_version_id)
    try:
        return registry.get(audit.toolkit_id, audit.toolkit_version)
    except UnknownToolkit:
        raise Conflict(f"toolkit {audit.toolkit_id} version {audit.toolkit_version} is no longer installed") from None


def case_details_of(audit: StoredCase) -> CaseDetails:
    return msgspec.convert(audit.case_details, CaseDetails)


def participant_of(audit: StoredCase, organisation_id: UUID, agency_kind: str) -> Participant:
    """The organisation's part in the case: its agency kind, and whether it referred."""
    return Participant(agency_kind=agency_kind, is_referrer=audit.referring_organisation_id == organisation_id)


def contribution_content(contribution: ContributionRow) -> ContributionContent:
    return msgspec.convert(contribution.content, ContributionContent)


def case_facts(audit: StoredCase) -> CaseFacts:
    """The case as the merging rules read it: who referred, and the
    coordinator's case details (question id → value)."""
    return CaseFacts.of(case_details_of(audit), referring_organisation_id=audit.referring_organisation_id)


class _JudgedCase(Protocol):
    @property
    def judgement_rules(self) -> int: ...
    @property
    def merge_policy(self) -> str | None: ...


def audit_policy(toolkit: Toolkit, audit: _JudgedCase) -> Policy:
    """The merge policy the audit is judged by: the one its partnership had
    chosen when the audit was created (None: its toolkit version's own), as
    it was in the edition of the rules the audit was created under — so
    neither a later choice nor a later rule changes an audit's judgement."""
    if audit.merge_policy:
        return policy_named(audit.merge_policy, audit.judgement_rules)
    return policy_for(toolkit, audit.judgement_rules)
