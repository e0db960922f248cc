"""The demo partnership that `make run` loads once, so a new developer can
sign in as each persona straight away."""

from __future__ import annotations

from typing import Any

import asyncpg

DEMO_PARTNERSHIP = ("demo-partnership", "Demo Safeguarding Children Partnership")

# (code, name, agency kind): one organisation per demo persona's agency.
DEMO_ORGANISATIONS: tuple[tuple[str, str, str], ...] = (
    ("demo-csc", "Demo Council Children's Social Care", "childrens-social-care"),
    ("demo-health", "Demo NHS Foundation Trust", "health"),
    ("demo-police", "Demo Police", "police"),
    ("demo-school", "Demo Primary School", "education"),
    ("demo-partnership-team", "Demo Safeguarding Partnership Team", "childrens-social-care"),
)


async def load_demo_data(connection: asyncpg.Connection[Any]) -> bool:
    """Insert the demo partnership and organisations; False if already there."""
    async with connection.transaction():
        partnership_id = await connection.fetchval(
            "INSERT INTO partnerships (code, name) VALUES ($1, $2) ON CONFLICT (code) DO NOTHING RETURNING id",
            *DEMO_PARTNERSHIP,
        )
        if partnership_id is None:
            return False
        await connection.executemany(
            "INSERT INTO organisations (partnership_id, code, name, agency_kind) VALUES ($1, $2, $3, $4)",
            [(partnership_id, *organisation) for organisation in DEMO_ORGANISATIONS],
        )
        return True


async def load_demo_data_once(url: str, statement_cache: int) -> None:
    connection = await asyncpg.connect(url, statement_cache_size=statement_cache)
    try:
        if await load_demo_data(connection):
            print("demo partnership loaded")
    finally:
        await connection.close()
