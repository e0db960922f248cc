"""The trail's digest leaves the database: marks printed by `maca events
verify`, and checkpoints the server signs and writes outside the database,
find what the hash chain alone cannot — the newest events deleted and their
strand's head moved back to match (a whole, shorter chain), or every hash
rewritten after an edit. Tampering is done as the owner, with triggers off,
as an owner who wanted to hide something would."""

from __future__ import annotations

import asyncio
import datetime
import logging
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest

from server.cli.main import main
from server.db.pool import create_pool
from server.db.verify import Mark, check_mark, verify
from server.platform import trail
from server.settings import Settings


async def some_events(db: asyncpg.Connection[Any], count: int = 6) -> list[int]:
    return [
        await db.fetchval(
            "INSERT INTO events (action, detail) VALUES ('audit.read', $1::text::jsonb) RETURNING id", f'{{"n": {n}}}'
        )
        for n in range(count)
    ]


async def cut_back(db: asyncpg.Connection[Any], newest: int) -> None:
    """Delete the ``newest`` events of the strand and move its head back to
    the event before them: what verify alone cannot see."""
    async with db.transaction():
        await db.execute("SET LOCAL session_replication_role = replica")
        strand = await db.fetchval("SELECT strand FROM events ORDER BY id DESC LIMIT 1")
        await db.execute(
            "DELETE FROM events WHERE strand = $1 AND position > (SELECT max(position) - $2 FROM events "
            "WHERE strand = $1)",
            strand,
            newest,
        )
        await db.execute(
            "UPDATE event_strand_heads h SET position = e.position, hash = e.hash FROM events e "
            "WHERE h.strand = $1 AND e.strand = $1 "
            "AND e.position = (SELECT max(position) FROM events WHERE strand = $1)",
            strand,
        )


async def rewrite_from(db: asyncpg.Connection[Any], event_id: int) -> None:
    """Edit an event and recompute every hash after it, and the head."""
    async with db.transaction():
        await db.execute("SET LOCAL session_replication_role = replica")
        await db.execute("UPDATE events SET detail = '{\"n\": 99}' WHERE id = $1", event_id)
        rows = await db.fetch(
            "SELECT id, strand, position FROM events WHERE strand = (SELECT strand FROM events WHERE id = $1) "
            "AND position >= (SELECT position FROM events WHERE id = $1) ORDER BY position",
            event_id,
        )
        for row in rows:
            await db.execute(
                "UPDATE events e SET previous_hash = coalesce((SELECT p.hash FROM events p WHERE p.strand = e.strand "
                "AND p.position = e.position - 1), decode(repeat('00', 32), 'hex')) WHERE id = $1",
                row["id"],
            )
            await db.execute(
                "UPDATE events e SET hash = sha256(e.previous_hash || convert_to(events_canonical(e), 'UTF8')) "
                "WHERE id = $1",
                row["id"],
            )
        await db.execute(
            "UPDATE event_strand_heads h SET hash = e.hash FROM events e "
            "WHERE e.strand = h.strand AND e.position = h.position"
        )


def verify_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], settings: Settings, url: str, *extra: str
) -> tuple[int, str]:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("MACA_DATA_DIR", settings.data_dir)  # where the checkpoint key is
    status = main(["events", "verify", *extra])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def printed_mark(output: str) -> str:
    return output.rsplit("--expect): ", 1)[1].split()[0]


async def test_a_trail_cut_back_passes_the_chain_but_not_an_earlier_mark(
    db: asyncpg.Connection[Any],
    database_url: str,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await some_events(db)
    status, output = await asyncio.to_thread(verify_command, monkeypatch, capsys, settings, database_url)
    assert status == 0, output
    mark = printed_mark(output)
    await some_events(db, 2)  # the trail grows after the mark: that is fine
    status, output = await asyncio.to_thread(
        verify_command, monkeypatch, capsys, settings, database_url, "--expect", mark
    )
    assert status == 0, output
    assert "still holds everything 1 earlier mark(s)" in output

    await cut_back(db, newest=4)
    assert (await verify(db)).intact, "a trail cut back is a whole chain: the links alone cannot tell"
    status, output = await asyncio.to_thread(
        verify_command, monkeypatch, capsys, settings, database_url, "--expect", mark
    )
    assert status == 1
    assert "no longer reaches position 6" in output
    assert "its newest events were deleted" in output


async def test_a_trail_rewritten_from_end_to_end_fails_an_earlier_mark(db: asyncpg.Connection[Any]) -> None:
    ids = await some_events(db)
    before = (await verify(db)).mark
    assert before is not None
    await rewrite_from(db, ids[2])
    assert (await verify(db)).intact, "every hash after the edit was recomputed"
    problems = await check_mark(db, before)
    assert [p.what for p in problems] == [f"the events up to mark {before} have been rewritten since it was taken"]


async def test_the_servers_checkpoints_find_a_trail_cut_back(
    db: asyncpg.Connection[Any],
    database_url: str,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    checkpoints = tmp_path / "trail-checkpoints.log"
    to_file = msgspec.structs.replace(settings, trail_checkpoint_file=str(checkpoints))
    await some_events(db)
    pool = await create_pool(to_file, database_url)
    try:
        # As the server does, as maca_app: it reads only the strands' heads.
        first = await trail.checkpoint_now(pool, to_file)
        await some_events(db, 2)
        second = await trail.checkpoint_now(pool, to_file)
    finally:
        await pool.close()
    assert first is not None and second is not None
    assert checkpoints.read_text().splitlines() == [first, second]
    status, output = await asyncio.to_thread(
        verify_command, monkeypatch, capsys, settings, database_url, "--checkpoints", str(checkpoints)
    )
    assert status == 0, output
    assert "still holds everything 2 earlier mark(s) and checkpoint(s)" in output

    await cut_back(db, newest=1)
    status, output = await asyncio.to_thread(
        verify_command, monkeypatch, capsys, settings, database_url, "--checkpoints", str(checkpoints)
    )
    assert status == 1
    problems = [line for line in output.splitlines() if line.startswith("checkpoint of ")]
    assert len(problems) == 1 and "line 2" in problems[0] and "its newest events were deleted" in problems[0]


async def test_a_checkpoint_not_signed_with_the_servers_key_is_refused(
    db: asyncpg.Connection[Any],
    database_url: str,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Someone who cut the trail back cannot write a checkpoint to match."""
    await some_events(db)
    mark = (await verify(db)).mark
    assert mark is not None
    checkpoints = tmp_path / "checkpoints.log"
    forged = trail.checkpoint_line(b"not the key" * 3, mark, datetime.datetime.now(datetime.UTC))
    genuine = trail.checkpoint_line(trail.signing_key(settings), mark, datetime.datetime.now(datetime.UTC))
    altered = genuine.replace(mark.digest, "0" * 64)
    checkpoints.write_text(f"{forged}\n{altered}\n")
    status, output = await asyncio.to_thread(
        verify_command, monkeypatch, capsys, settings, database_url, "--checkpoints", str(checkpoints)
    )
    assert status == 1
    assert output.count("its signature does not match") == 2


async def test_checkpoints_go_to_the_log_when_no_file_is_named(
    db: asyncpg.Connection[Any], database_url: str, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    await some_events(db)
    pool = await create_pool(settings, database_url)
    try:
        with caplog.at_level(logging.INFO, logger="maca.trail"):
            line = await trail.checkpoint_now(pool, settings)
    finally:
        await pool.close()
    assert line is not None and line in caplog.text
    # Read back from a log, whatever each line starts with.
    logged = [f"2026-01-01 12:00:00 INFO maca.trail: {record.getMessage()}" for record in caplog.records]
    found = trail.read_checkpoints(trail.signing_key(settings), iter(logged))
    assert [(c.signed, c.mark) for c in found] == [(True, (await verify(db)).mark)]


async def test_the_server_writes_checkpoints_on_its_timer(
    db: asyncpg.Connection[Any], database_url: str, settings: Settings, tmp_path: Path
) -> None:
    await some_events(db)
    checkpoints = tmp_path / "timer.log"
    often = msgspec.structs.replace(settings, trail_checkpoint_file=str(checkpoints), trail_checkpoint_minutes=0.001)
    pool = await create_pool(often, database_url)
    timer = asyncio.create_task(trail.run_every(pool, often))
    try:
        for _ in range(200):
            if checkpoints.exists() and len(checkpoints.read_text().splitlines()) >= 2:
                break
            await asyncio.sleep(0.05)
    finally:
        timer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await timer
        await pool.close()
    lines = checkpoints.read_text().splitlines()
    assert len(lines) >= 2
    marks = {c.mark for c in trail.read_checkpoints(trail.signing_key(settings), iter(lines)) if c.signed}
    assert marks == {(await verify(db)).mark}


def test_a_mark_reads_back_as_it_was_written() -> None:
    mark = Mark(positions=((0, 12), (7, 3)), digest="a" * 64)
    assert str(mark) == "v1:0.12,7.3:" + "a" * 64
    assert Mark.parse(str(mark)) == mark
    for wrong in ("", "v2:0.1:" + "a" * 64, "v1:0.x:" + "a" * 64, "v1:0.1:abc"):
        with pytest.raises(ValueError):
            Mark.parse(wrong)
