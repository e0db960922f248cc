"""The tamper-evident trail: events are hash-chained, appending is safe
under concurrent transactions, and `maca events verify` names each edited,
deleted or reordered event. Tampering is done as the owner, with triggers
switched off — what an attacker with the owner's rights could do short of
rewriting every hash after their change."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest

from server.cli.main import main
from server.db import identity
from server.db.pool import app_database_url
from server.db.verify import GENESIS, event_hash, verify
from server.settings import Settings


async def some_events(db: asyncpg.Connection[Any], count: int = 5) -> list[int]:
    return [
        await db.fetchval(
            "INSERT INTO events (action, detail) VALUES ('audit.read', $1::text::jsonb) RETURNING id", f'{{"n": {n}}}'
        )
        for n in range(count)
    ]


async def tamper(db: asyncpg.Connection[Any], *statements: tuple[str, int]) -> None:
    async with db.transaction():
        # Triggers off for this transaction only (superuser): the append-only
        # guard no longer stops the change.
        await db.execute("SET LOCAL session_replication_role = replica")
        for statement, event_id in statements:
            await db.execute(statement, event_id)


def verify_command(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str) -> tuple[int, str]:
    monkeypatch.setenv("DATABASE_URL", url)
    status = main(["events", "verify"])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


async def test_each_event_holds_the_hash_of_the_one_before(db: asyncpg.Connection[Any]) -> None:
    await some_events(db)
    rows = await db.fetch(
        "SELECT position, previous_hash, hash, events_canonical(e) AS canonical FROM events e ORDER BY position"
    )
    previous = GENESIS
    for position, row in enumerate(rows, start=1):
        assert row["position"] == position
        assert row["previous_hash"] == previous
        assert row["hash"] == event_hash(previous, row["canonical"])
        previous = row["hash"]
    verdict = await verify(db)
    assert (verdict.intact, verdict.events, verdict.newest_hash) == (True, 5, previous.hex())


async def test_the_hash_does_not_depend_on_the_sessions_time_zone(db: asyncpg.Connection[Any]) -> None:
    await db.execute("SET TIME ZONE 'Asia/Tokyo'")
    await some_events(db, 2)
    await db.execute("SET TIME ZONE 'UTC'")
    assert (await verify(db)).intact


async def test_concurrent_transactions_append_one_unbroken_chain(
    settings: Settings, database_url: str, db: asyncpg.Connection[Any]
) -> None:
    key = await identity.stored_key(db)
    assert key is not None
    sealer = identity.Sealer(configured=key, owner_dsn=None)
    record = "SELECT maca_record_event($1, NULL, NULL, '{}')"
    connections = [await asyncpg.connect(app_database_url(settings, database_url)) for _ in range(6)]
    try:

        async def writer(connection: asyncpg.Connection[Any]) -> None:
            # The application records events only through maca_record_event,
            # as the person its transaction is sealed for (migration 0011).
            for _ in range(10):
                async with connection.transaction():
                    sealed = sealer.identity(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), ["auditor"])
                    await connection.execute("SELECT set_config('maca.identity', $1, true)", sealed)
                    await connection.fetchval(record, "contribution.saved")
                    await asyncio.sleep(0)  # let the others reach the lock
                    await connection.fetchval(record, "contribution.read")

        await asyncio.gather(*(writer(c) for c in connections))
    finally:
        for connection in connections:
            await connection.close()
    verdict = await verify(db)
    assert (verdict.intact, verdict.events) == (True, 120), verdict.problems
    # Each connection appends to its own strand (migration 0008): every
    # strand's positions run 1..n with no gap, and together they hold all.
    strands = await db.fetch("SELECT strand, max(position) AS newest, count(*) AS n FROM events GROUP BY strand")
    assert all(s["newest"] == s["n"] for s in strands)
    assert sum(s["n"] for s in strands) == 120
    assert len(strands) > 1  # six connections did not all queue on one head


async def test_an_edited_event_is_named(db: asyncpg.Connection[Any]) -> None:
    ids = await some_events(db)
    await tamper(db, ("UPDATE events SET detail = '{\"n\": 99}' WHERE id = $1", ids[2]))
    problems = [str(p) for p in (await verify(db)).problems]
    assert problems == [f"event {ids[2]} (position 3): edited: its content no longer matches its hash"]


async def test_an_edit_that_recomputes_the_events_own_hash_breaks_the_next_link(db: asyncpg.Connection[Any]) -> None:
    ids = await some_events(db)
    await tamper(
        db,
        ("UPDATE events SET action = 'nothing' WHERE id = $1", ids[1]),
        (
            "UPDATE events e SET hash = sha256(e.previous_hash || convert_to(events_canonical(e), 'UTF8')) "
            "WHERE id = $1",
            ids[1],
        ),
    )
    problems = [str(p) for p in (await verify(db)).problems]
    assert problems == [
        f"event {ids[2]} (position 3): the event recorded before it is missing (deleted after event {ids[1]})"
    ]


async def test_a_deleted_event_is_named(db: asyncpg.Connection[Any]) -> None:
    ids = await some_events(db)
    await tamper(db, ("DELETE FROM events WHERE id = $1", ids[2]))
    problems = [str(p) for p in (await verify(db)).problems]
    assert problems == [
        f"event {ids[3]} (position 4): the event recorded before it is missing (deleted after event {ids[1]})"
    ]


async def test_deleting_the_newest_events_is_noticed(db: asyncpg.Connection[Any]) -> None:
    ids = await some_events(db)
    await tamper(db, ("DELETE FROM events WHERE id >= $1", ids[3]))
    problems = [str(p) for p in (await verify(db)).problems]
    assert problems == [f"the trail: the newest 2 event(s) after event {ids[2]} are missing (deleted)"]


async def test_reordered_events_are_named(db: asyncpg.Connection[Any]) -> None:
    ids = await some_events(db)
    await tamper(
        db,
        ("UPDATE events SET position = -1 WHERE id = $1", ids[1]),
        ("UPDATE events SET position = 2 WHERE id = $1", ids[2]),
        ("UPDATE events SET position = 3 WHERE id = $1", ids[1]),
    )
    problems = [str(p) for p in (await verify(db)).problems]
    assert problems == [
        f"event {ids[2]} (position 2): out of order: it was recorded after event {ids[1]} "
        f"but now follows event {ids[0]}",
        f"event {ids[1]} (position 3): out of order: it was recorded after event {ids[0]} "
        f"but now follows event {ids[2]}",
        f"event {ids[3]} (position 4): out of order: it was recorded after event {ids[2]} "
        f"but now follows event {ids[1]}",
    ]


async def test_maca_events_verify_says_intact_or_names_the_event_and_fails(
    db: asyncpg.Connection[Any],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ids = await some_events(db)
    status, output = await asyncio.to_thread(verify_command, monkeypatch, capsys, database_url)
    assert status == 0, output
    assert "the event trail is intact: 5 events; newest hash " in output

    await tamper(db, ("UPDATE events SET action = 'nothing' WHERE id = $1", ids[0]))
    status, output = await asyncio.to_thread(verify_command, monkeypatch, capsys, database_url)
    assert status == 1
    assert f"event {ids[0]} (position 1): edited" in output
    assert "maca: the event trail has been tampered with: 1 problem(s) above" in output
