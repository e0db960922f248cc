"""Saving part of a contribution without losing the rest.

``PUT`` replaces the whole contribution: an agency's system that saved two
answers, then sent a third alone, lost the first two (one of them "the
child is not safe"). ``PATCH`` takes a JSON Merge Patch (RFC 7396) of the
same document ``PUT`` sends — ``{"answers", "judgements", "overall",
"not_involved", "significant_failures"}`` —
applied to the contribution as stored: an object merges key by key, so
``{"answers": {"q3": {"value": "no"}}}`` adds or changes one answer and
keeps every other; ``null`` removes (``{"answers": {"q3": null}}``); a list
(evidence references, rows) is replaced whole. The result is saved exactly
as ``PUT`` would save it (:func:`server.audits.contributions.save_own`):
a draft may be partial; after submission it is an amendment, checked in
full, with its ``reason`` (sent beside the patch, not part of the document).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from server.audits.access import OrganisationReference
from server.audits.contributions import OwnContribution, load_own_contribution, save_own
from server.auth.principal import Principal
from server.db.contributions import ContributionRow
from server.platform.bodies import body_problems, merge_patch
from server.platform.problems import InvalidInput
from toolkits.answers import ContributionContent
from toolkits.registry import Registry

__all__ = ["patch_contribution", "patched_content"]


def patched_content(own: OwnContribution, patch: Mapping[str, Any]) -> ContributionContent:
    """The caller's contribution as stored, with ``patch`` (RFC 7396) applied."""
    merged = merge_patch(msgspec.to_builtins(own.content), patch)
    # A patch may leave a part incomplete (a new "not involved" without its
    # reason, a significant failure without its description): 422 naming
    # it, as a whole PUT would be refused.
    problems = body_problems(merged, ContributionContent)
    if problems:
        raise InvalidInput("the contribution with this patch applied is incomplete", errors=problems)
    return msgspec.convert(merged, ContributionContent)


async def patch_contribution(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    audit_id: UUID,
    organisation: OrganisationReference,
    patch: Mapping[str, Any],
    reason: str | None,
    *,
    seen_version: int | None,
) -> tuple[ContributionRow, ContributionContent]:
    """Apply ``patch`` to the caller's organisation's contribution and save
    the result as a draft, or after submission as an amendment with
    ``reason`` (:func:`~server.audits.contributions.save_own`, which checks
    who may, the version seen, the audit's state and every problem); the
    contribution as saved, and its content."""
    own = await load_own_contribution(connection, principal, registry, audit_id, organisation)
    content = patched_content(own, patch)
    saved = await save_own(connection, principal, registry, own, content, reason, seen_version=seen_version)
    return saved, content
