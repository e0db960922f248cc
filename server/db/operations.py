"""What an operator's dashboards read from the database at each scrape of
the metrics endpoint: counts only, no ids, nothing personal."""

from __future__ import annotations

from typing import Any

import asyncpg


async def open_audits_with_immediate_concerns(connection: asyncpg.Connection[Any]) -> int:
    """Audits not yet closed whose partnership judgement, as last summarised
    (``audit_summaries``: refreshed whenever it can change), lists at least
    one immediate concern. Counted by the owner's function
    (``maca_open_audits_with_immediate_concerns``, migration 0015): the
    scrape has no one's identity, so row-level security would show it none."""
    count: int = await connection.fetchval("SELECT maca_open_audits_with_immediate_concerns()")
    return count


async def queue_depths(connection: asyncpg.Connection[Any]) -> list[tuple[str, int, float]]:
    """Jobs waiting on the queue, by entrypoint: how many, and the age in
    seconds of the oldest (``maca_queue_depth``, migration 0015)."""
    rows = await connection.fetch("SELECT entrypoint, queued, oldest_seconds FROM maca_queue_depth()")
    return [(row["entrypoint"], int(row["queued"]), max(0.0, float(row["oldest_seconds"]))) for row in rows]


async def open_concern_ages(connection: asyncpg.Connection[Any]) -> list[tuple[float, bool]]:
    """Each immediate concern not yet closed: seconds since it was raised,
    and whether someone acknowledged it (``maca_open_concern_ages``)."""
    rows = await connection.fetch("SELECT age_seconds, acknowledged FROM maca_open_concern_ages()")
    return [(max(0.0, float(row["age_seconds"])), bool(row["acknowledged"])) for row in rows]


async def undelivered_notifications(connection: asyncpg.Connection[Any]) -> dict[str, int]:
    """Messages given up on (``failed``) and being retried (``retrying``)."""
    rows = await connection.fetch("SELECT state, count FROM maca_undelivered_notifications()")
    return {row["state"]: int(row["count"]) for row in rows}
