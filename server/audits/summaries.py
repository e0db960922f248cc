"""Each audit's summary for the themes dashboard, kept as its judgement moves.

A step that may move an audit's partnership judgement (a submission, an
amendment, a return, a moderation, a status change, a change of who takes
part) calls :func:`refresh` in its own transaction: the judgement is merged
as every reader computes it (:func:`server.audits.judgement.judgement_of`),
summarised (:func:`server.reports.themes.summarise`), and only the
difference between the old and the new summary's counted rows is written,
so the dashboard adds up counted rows instead of merging every audit.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

from server.audits.catalogue import local_toolkit
from server.audits.judgement import judgement_of
from server.db import audits, theme_versions
from server.db import themes as stored
from server.db.themes import AgencyKey, SectionKey, SectionValues
from server.reports.themes import add_agency_counts, add_section_counts, difference, summarise
from toolkits.registry import Registry, UnknownToolkit

__all__ = ["forget", "refresh"]


async def refresh(connection: asyncpg.Connection[Any], registry: Registry, audit_id: UUID) -> None:
    """Summarise the audit's partnership judgement as it now stands and move
    the counted rows from its old summary to the new one, in the caller's
    transaction. Only grades and counts are written; nothing read here
    leaves this function (it may read every agency's contribution, whoever
    the caller is: :func:`server.db.themes.summarising`)."""
    async with stored.summarising(connection, audit_id):
        audit = await audits.get(connection, audit_id)
        if audit is None:
            return
        if audit.local_toolkit_version_id is not None:
            toolkit = await local_toolkit(connection, audit.local_toolkit_version_id)
        else:
            try:
                toolkit = registry.get(audit.toolkit_id, audit.toolkit_version)
            except UnknownToolkit:  # a definition removed from disk: nothing to summarise against
                return
        new = summarise(
            await judgement_of(connection, toolkit, audit),
            audit_id=str(audit.id),
            partnership_id=str(audit.partnership_id),
            status=audit.status,
            created=audit.created_at.astimezone(datetime.UTC).date(),
            participating_kinds=await stored.participating_kinds(connection, audit_id),
        )
        old = await stored.stored_summary(connection, audit_id)
        sections, agencies = difference(old, new)
        await stored.add_counts(connection, sections, agencies)
        await stored.store_summaries(connection, [new])
        if sections or agencies:
            await theme_versions.bump(connection, audit.partnership_id)


async def forget(connection: asyncpg.Connection[Any], audit_ids: Sequence[UUID]) -> None:
    """Take the audits' counts away from the counted rows (audits about to
    be removed with their summaries), in the caller's transaction."""
    section_total: dict[SectionKey, SectionValues] = {}
    agency_total: dict[AgencyKey, int] = {}
    partnerships: set[UUID] = set()
    for summary in await stored.stored_summaries(connection, audit_ids):
        sections, agencies = difference(summary, None)
        add_section_counts(section_total, dict(sections))
        add_agency_counts(agency_total, dict(agencies))
        partnerships.add(UUID(summary.partnership_id))
    await stored.add_counts(
        connection,
        sorted((k, v) for k, v in section_total.items() if any(v)),
        sorted((k, v) for k, v in agency_total.items() if v),
    )
    for partnership_id in sorted(partnerships):
        await theme_versions.bump(connection, partnership_id)
