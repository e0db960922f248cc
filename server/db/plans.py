"""Query plans for the statements whose filters are optional.

A statement such as ``WHERE ($2::text IS NULL OR status = $2)`` is
prepared once per connection (asyncpg's statement cache). After five runs
PostgreSQL may switch it to one generic plan for every filter, which cannot
know which filters are empty: the dashboard's overdue-actions count went
from about 22 ms to 250-340 ms on its sixth run over 100,000 audits. Such
reads ask for a plan made for their actual values, each time, for the rest
of their transaction (planning them costs well under a millisecond).
"""

from __future__ import annotations

from typing import Any

import asyncpg

from server.db import identity


async def plan_for_the_values_given(connection: asyncpg.Connection[Any]) -> None:
    """For the rest of the caller's transaction: plan every statement for the
    values it is run with (``plan_cache_mode = force_custom_plan``). A
    transaction opened to set who is asking with its first statement
    (``identity.seal_for_first_statement``) sets it with this one: a list's
    work starts here, so its seal costs no round trip of its own."""
    sealed = identity.pending_seal(connection)
    if sealed is None:
        await connection.execute("SELECT set_config('plan_cache_mode', 'force_custom_plan', true)")
        return
    await connection.execute(
        "SELECT set_config('maca.identity', $1, true), set_config('plan_cache_mode', 'force_custom_plan', true)",
        sealed,
    )
