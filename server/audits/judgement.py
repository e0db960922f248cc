"""The partnership's judgement of an audit, as every part of Maca computes it.

The judgement API, the reviewer's pages, the combined report, the exports
and the themes summaries all call :func:`judgement_of`, so none of them can
show a grade the others would not. The judgement is computed from the
contributions (``merging.merge``); only moderations are stored
(``server/audits/moderation.py``). Its readers (the judgement API and the
reviewer's page) are served a judgement the process merged before while
nothing it was merged from has changed (:class:`KeptJudgements`): checked by
one read of versions, never of the contributions' content (issue 24).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from merging import PartnershipJudgement, merge
from server.audits import events
from server.audits.access import visible_audit
from server.audits.events import EventName
from server.audits.facts import audit_policy, audit_toolkit, case_details_of, case_facts
from server.audits.voices import AgencyVoice, partnership_voices
from server.auth.permissions import Permission, is_partnership_staff, require
from server.auth.principal import Principal
from server.db import judgements
from server.db.audits import AuditRow
from server.platform.problems import Forbidden
from toolkits.answers import CaseDetails
from toolkits.model import Toolkit
from toolkits.registry import Registry

__all__ = [
    "JudgementRead",
    "KeptJudgements",
    "PartnershipResult",
    "PartnershipSectionResult",
    "judgement_of",
    "kept_judgement",
    "partnership_result",
    "read_judgement",
]


class PartnershipSectionResult(msgspec.Struct, frozen=True, kw_only=True):
    section_id: str
    title: str
    grade: int | None
    label: str | None
    moderated: bool


class PartnershipResult(msgspec.Struct, frozen=True, kw_only=True):
    """What an agency auditor sees once an audit is closed: the partnership's
    grades, not the other agencies' own."""

    toolkit_id: str
    toolkit_version: int
    sections: tuple[PartnershipSectionResult, ...]
    overall_grade: int | None
    overall_label: str | None
    final: bool = False  # the audit is closed: these grades are final


async def judgement_of(connection: asyncpg.Connection[Any], toolkit: Toolkit, audit: AuditRow) -> PartnershipJudgement:
    """The partnership judgement of ``audit``: its agencies' submitted
    contributions merged by the rules of the edition it was created under,
    with the reviewers' moderations applied; final once it is closed."""
    contributions = await judgements.agency_contributions(connection, audit.id)
    agreed = [judgements.as_moderation(row) for row in await judgements.moderations(connection, audit.id)]
    # The merge policy the partnership had chosen when the audit was
    # created (None: the toolkit's own), in the edition of the rules it was
    # created under, so neither a later choice nor a later rule changes a
    # closed audit's judgement (audit_policy).
    return merge(
        toolkit,
        case_facts(audit),
        contributions,
        audit_policy(toolkit, audit),
        moderations=agreed,
        final=audit.status == "closed",
    )


# What a kept judgement was merged from: the audit's row version and status
# (its case details, and whether the judgement is final), the toolkit
# version and merge policy it is judged by, and the versions and names of
# its participants' contributions and moderations (judgements.JudgementState).
KeptKey = tuple[int, str, str, int, UUID | None, str | None, int, str, str]


class KeptJudgements:
    """Judgements merged by this process, the most recently read
    ``max_entries`` audits', each under what it was merged from: a read
    whose audit and state are the same is given it without merging again
    (a judgement is a pure function of them). Kept on the application's
    state; only ever handed to a reader who has passed the same checks, in
    a transaction whose row-level security read the state."""

    @classmethod
    def of(cls, state: Any) -> KeptJudgements:
        kept = getattr(state, "kept_judgements", None)
        if kept is None:
            kept = cls()
            state.kept_judgements = kept
        return kept

    def __init__(self, max_entries: int = 64) -> None:
        self.max_entries = max_entries
        self._kept: OrderedDict[UUID, tuple[KeptKey, PartnershipJudgement]] = OrderedDict()

    def get(self, audit_id: UUID, key: KeptKey) -> PartnershipJudgement | None:
        found = self._kept.get(audit_id)
        if found is None or found[0] != key:
            return None
        self._kept.move_to_end(audit_id)
        return found[1]

    def put(self, audit_id: UUID, key: KeptKey, judgement: PartnershipJudgement) -> None:
        self._kept[audit_id] = (key, judgement)
        self._kept.move_to_end(audit_id)
        while len(self._kept) > self.max_entries:
            self._kept.popitem(last=False)

    def __len__(self) -> int:
        return len(self._kept)


async def kept_judgement(
    connection: asyncpg.Connection[Any], toolkit: Toolkit, audit: AuditRow, kept: KeptJudgements | None
) -> tuple[PartnershipJudgement, str]:
    """The audit's judgement (as :func:`judgement_of` merges it) and its
    ETag: the one ``kept`` has if nothing it was merged from has changed,
    else merged now and kept. The state is read before the contributions,
    so a change committed in between leaves a judgement under a state no
    later read will show, never an older judgement under a newer state."""
    state = await judgements.judgement_state(connection, audit.id)
    key: KeptKey = (
        audit.row_version,
        audit.status,
        audit.toolkit_id,
        audit.toolkit_version,
        audit.local_toolkit_version_id,
        audit.merge_policy,
        audit.judgement_rules,
        state.etag,
        state.names,
    )
    judgement = kept.get(audit.id, key) if kept is not None else None
    if judgement is None:
        judgement = await judgement_of(connection, toolkit, audit)
        if kept is not None:
            kept.put(audit.id, key, judgement)
    return judgement, state.etag


def partnership_result(judgement: PartnershipJudgement) -> PartnershipResult:
    """Only the partnership's grades of ``judgement``: what an agency may see."""
    return PartnershipResult(
        toolkit_id=judgement.toolkit_id,
        toolkit_version=judgement.toolkit_version,
        sections=tuple(
            PartnershipSectionResult(
                section_id=s.section_id,
                title=s.title,
                grade=s.grade,
                label=s.label,
                moderated=s.moderation is not None,
            )
            for s in judgement.sections
        ),
        overall_grade=judgement.overall.grade,
        overall_label=judgement.overall.label,
        final=judgement.final,
    )


@dataclass(frozen=True, kw_only=True)
class JudgementRead:
    """The judgement as its reader may see it: coordinators and reviewers
    the whole of it and its version (the ETag a moderation must send);
    an agency's auditor only the partnership's grades."""

    audit: AuditRow
    toolkit: Toolkit
    judgement: PartnershipJudgement | None
    version: str | None
    result: PartnershipResult | None
    # Coordinators and reviewers: each submitted agency's practitioner and family voice.
    voices: tuple[AgencyVoice, ...] = ()

    @property
    def case_details(self) -> CaseDetails:
        return case_details_of(self.audit)


async def read_judgement(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    audit_id: UUID,
    kept: KeptJudgements | None = None,
    *,
    with_voices: bool = True,
) -> JudgementRead:
    """The audit's judgement for ``principal``, the read recorded. An agency
    sees the partnership's grades once the audit is closed (403 before).
    With ``kept``, a judgement merged before is reused while it still holds
    (:func:`kept_judgement`). ``with_voices``: the agencies' practitioner and
    family voices beside it, for the partnership (the judgement page shows
    them; the API's judgement does not carry them, and skips their read)."""
    require(principal, Permission.JUDGEMENT_READ)
    audit = await visible_audit(connection, principal, audit_id)
    staff = is_partnership_staff(principal)
    if not staff and audit.status != "closed":
        raise Forbidden("the partnership's judgement is shared with agencies when the audit is closed")
    toolkit = await audit_toolkit(connection, registry, audit)
    await events.record(connection, principal, EventName.JUDGEMENT_READ, audit_id=audit.id)
    # Row-level security lets a participant's transaction read every
    # contribution of a closed audit (migration 0005); for an agency, only
    # the partnership's grades leave this function.
    judgement, version = await kept_judgement(connection, toolkit, audit, kept)
    if staff:
        return JudgementRead(
            audit=audit,
            toolkit=toolkit,
            judgement=judgement,
            version=version,
            result=None,
            voices=tuple(await partnership_voices(connection, principal, audit)) if with_voices else (),
        )
    return JudgementRead(
        audit=audit, toolkit=toolkit, judgement=None, version=None, result=partnership_result(judgement)
    )
