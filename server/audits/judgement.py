"""The partnership's judgement of an audit, as every part of Maca computes it.

The judgement API, the reviewer's pages, the combined report and the exports
all call :func:`judgement_of`, so none of them can show a grade the others
would not. The judgement is computed from the contributions on every read
(``merging.merge``); only moderations are stored.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from merging import PartnershipJudgement, merge
from server.audits.facts import case_facts
from server.db import audits, judgements
from toolkits.model import Toolkit


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


async def judgement_of(
    connection: asyncpg.Connection[Any], toolkit: Toolkit, audit: audits.Audit
) -> PartnershipJudgement:
    """The partnership judgement of ``audit``: its agencies' submitted
    contributions merged, with the reviewers' moderations applied."""
    contributions = await judgements.agency_contributions(connection, audit.id)
    agreed = [judgements.as_moderation(row) for row in await judgements.moderations(connection, audit.id)]
    return merge(toolkit, case_facts(audit), contributions, moderations=agreed)


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
    )
