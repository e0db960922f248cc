"""Maintenance: expired sessions, abandoned sign-ins and idempotency keys past
their 24 hours are deleted on a timer, by the application's own role, one
process at a time; what has not expired stays."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.db.pool import create_pool
from server.platform import maintenance
from server.platform.maintenance import Tidied
from server.settings import Settings, SettingsError, load_settings
from toolkits.registry import Registry

# A bound on waiting for something to happen, so a broken build fails
# rather than hangs; nothing is asserted about how long it took.
GIVE_UP_AFTER_SECONDS = 60


async def a_user(db: asyncpg.Connection[Any]) -> UUID:
    user_id: UUID = await db.fetchval(
        "INSERT INTO users (issuer, subject) VALUES ('https://idp.test', $1) RETURNING id", secrets.token_hex(8)
    )
    return user_id


async def a_session(db: asyncpg.Connection[Any], user_id: UUID, ends: str) -> bytes:
    key_hash = secrets.token_bytes(32)
    await db.execute(
        "INSERT INTO sessions (key_hash, user_id, csrf_token, expires_at) "
        "VALUES ($1, $2, 'csrf', now() + $3::text::interval)",
        key_hash,
        user_id,
        ends,
    )
    return key_hash


async def a_sign_in(db: asyncpg.Connection[Any], ends: str) -> bytes:
    key_hash = secrets.token_bytes(32)
    await db.execute(
        "INSERT INTO sign_in_requests (key_hash, state, code_verifier, nonce, return_to, expires_at) "
        "VALUES ($1, 'state', 'verifier', 'nonce', '/', now() + $2::text::interval)",
        key_hash,
        ends,
    )
    return key_hash


async def an_idempotency_key(db: asyncpg.Connection[Any], user_id: UUID, age: str) -> str:
    key = secrets.token_hex(8)
    await db.execute(
        "INSERT INTO idempotency_keys (user_id, key, method, path, request_hash, response_status, created_at) "
        "VALUES ($1, $2, 'POST', '/api/audits', 'hash', 201, now() - $3::text::interval)",
        user_id,
        key,
        age,
    )
    return key


async def remaining(db: asyncpg.Connection[Any]) -> dict[str, set[Any]]:
    return {
        "sessions": {r[0] for r in await db.fetch("SELECT key_hash FROM sessions")},
        "sign_ins": {r[0] for r in await db.fetch("SELECT key_hash FROM sign_in_requests")},
        "idempotency_keys": {r[0] for r in await db.fetch("SELECT key FROM idempotency_keys")},
    }


@pytest.fixture
async def app_pool(settings: Settings, database_url: str) -> AsyncIterator[asyncpg.Pool[Any]]:
    """The server's kind of pool: connections as maca_app."""
    pool = await create_pool(settings, database_url)
    try:
        yield pool
    finally:
        await pool.close()


async def test_one_run_removes_what_has_expired_and_keeps_the_rest(
    db: asyncpg.Connection[Any], app_pool: asyncpg.Pool[Any]
) -> None:
    user_id = await a_user(db)
    await a_session(db, user_id, "-1 minute")
    current_session = await a_session(db, user_id, "8 hours")
    await a_sign_in(db, "-1 minute")
    current_sign_in = await a_sign_in(db, "10 minutes")
    await an_idempotency_key(db, user_id, "25 hours")
    current_key = await an_idempotency_key(db, user_id, "23 hours")

    async with app_pool.acquire() as connection:
        assert await connection.fetchval("SELECT current_user") == "maca_app"
        tidied = await maintenance.tidy(connection)

    assert tidied == Tidied(sessions=1, sign_ins=1, idempotency_keys=1)
    assert await remaining(db) == {
        "sessions": {current_session},
        "sign_ins": {current_sign_in},
        "idempotency_keys": {current_key},
    }


async def _wait_until_waiting_on_a_lock(db: asyncpg.Connection[Any], pid: int) -> None:
    for _ in range(GIVE_UP_AFTER_SECONDS * 20):
        if await db.fetchval("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", pid):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"backend {pid} never waited on a lock")


async def test_while_one_process_tidies_another_does_nothing(
    db: asyncpg.Connection[Any], database_url: str, app_pool: asyncpg.Pool[Any]
) -> None:
    user_id = await a_user(db)
    expired = await a_session(db, user_id, "-1 minute")
    await an_idempotency_key(db, user_id, "2 days")
    # Someone holds the expired session's row, so the first run stops part
    # way through, holding the maintenance lock.
    holder = await asyncpg.connect(database_url)
    try:
        holding = holder.transaction()
        await holding.start()
        await holder.execute("SELECT 1 FROM sessions WHERE key_hash = $1 FOR UPDATE", expired)
        async with app_pool.acquire() as first, app_pool.acquire() as second:
            first_run = asyncio.create_task(maintenance.tidy(first))
            await _wait_until_waiting_on_a_lock(db, first.get_server_pid())

            # Skipped, nothing deleted (without the lock it would wait on the held row).
            assert await asyncio.wait_for(maintenance.tidy(second), GIVE_UP_AFTER_SECONDS) is None
            assert await db.fetchval("SELECT count(*) FROM idempotency_keys") == 1

            await holding.rollback()
            assert await first_run == Tidied(sessions=1, sign_ins=0, idempotency_keys=1)
            # The lock went with the first run's transaction.
            assert await maintenance.tidy(second) == Tidied(sessions=0, sign_ins=0, idempotency_keys=0)
    finally:
        await holder.close()


async def test_the_server_tidies_on_its_timer_and_logs_only_counts(
    db: asyncpg.Connection[Any],
    database_url: str,
    toolkits: Registry,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user_id = await a_user(db)
    expired = await a_session(db, user_id, "-1 minute")
    current = await a_session(db, user_id, "1 hour")
    quick = load_settings({}, env="test", data_dir=str(tmp_path / "data"), maintenance_minutes=0.01, worker="off")
    app = create_app(quick, database_url=database_url, registry=toolkits)

    with caplog.at_level(logging.DEBUG, logger="maca.maintenance"):
        async with AsyncTestClient(app=app) as client:
            for _ in range(GIVE_UP_AFTER_SECONDS * 20):
                if not await db.fetchval("SELECT count(*) FROM sessions WHERE key_hash = $1", expired):
                    break
                await asyncio.sleep(0.05)
            assert (await client.get("/healthz")).status_code == 200
            timer: asyncio.Task[None] = app.state.maintenance
            assert not timer.done()
        # Shutting down stopped the timer, and nothing failed on the way.
        assert timer.cancelled()
    assert await remaining(db) == {"sessions": {current}, "sign_ins": set(), "idempotency_keys": set()}
    records = [r for r in caplog.records if r.name == "maca.maintenance"]
    assert "maintenance: removed 1 expired sessions, 0 abandoned sign-ins, 0 idempotency keys" in [
        r.getMessage() for r in records
    ]
    assert not [r for r in records if r.levelno >= logging.WARNING], [r.getMessage() for r in records]
    assert expired.hex() not in caplog.text and str(user_id) not in caplog.text


@pytest.mark.parametrize("value", ["0", "-5", "often"])
def test_a_maintenance_interval_that_is_not_a_positive_number_stops_maca(value: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"MACA_MAINTENANCE_MINUTES": value})
    assert refused.value.variable == "MACA_MAINTENANCE_MINUTES"
