"""Plans for optional-filter reads (server/db/plans.py): asked for within a
transaction, gone with it, so a pooled connection never keeps them."""

from __future__ import annotations

from typing import Any

import asyncpg

from server.db.plans import plan_for_the_values_given


async def test_custom_plans_last_as_long_as_the_transaction(db: asyncpg.Connection[Any]) -> None:
    before = await db.fetchval("SHOW plan_cache_mode")
    async with db.transaction():
        await plan_for_the_values_given(db)
        assert await db.fetchval("SHOW plan_cache_mode") == "force_custom_plan"
    assert await db.fetchval("SHOW plan_cache_mode") == before == "auto"
