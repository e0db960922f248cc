"""What an operator's dashboards read from the database at each scrape of
the metrics endpoint: counts only, no ids, nothing personal."""

from __future__ import annotations

from typing import Any

import asyncpg


async def open_audits_with_immediate_concerns(connection: asyncpg.Connection[Any]) -> int:
    """Audits not yet closed whose partnership judgement, as last summarised
    (``audit_summaries``: refreshed whenever it can change), lists at least
    one immediate concern."""
    count: int = await connection.fetchval(
        "SELECT count(*) FROM audit_summaries WHERE status <> 'closed' AND immediate_concerns > 0"
    )
    return count
