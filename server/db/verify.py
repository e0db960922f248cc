"""Walk the hash-chained event trail and say what is wrong with it.

Each event holds the hash of the one before it and its own,
``sha256(previous_hash || events_canonical(event))`` (migration 0005).
Walking each strand of events in chain order (``strand``, ``position``) finds:

- an **edited** event: its content no longer gives its hash;
- a **deleted** event: the next one names a predecessor that is no longer
  in the trail (or the chain head names a newest event that is gone);
- a **reordered** event: it names a predecessor that is in the trail, but
  not the event before it.

The check is only as good as the newest hash: someone who may rewrite the
table could rewrite every hash after their edit, or delete the newest
events and move their strand's head back. A :class:`Mark` — each strand's
newest position and one digest of their hashes — written down outside the
database shows both later: ``maca events verify`` prints one, ``--expect``
checks one, and the server writes signed ones as checkpoints
(``server/platform/trail.py``).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import asyncpg
import msgspec

GENESIS = bytes(32)


class TrailProblem(msgspec.Struct, frozen=True, kw_only=True):
    """Where the event trail is broken (an event, or the trail as a whole) and how."""

    event_id: int | None
    position: int | None
    what: str

    def __str__(self) -> str:
        where = f"event {self.event_id} (position {self.position})" if self.event_id is not None else "the trail"
        return f"{where}: {self.what}"


class Mark(msgspec.Struct, frozen=True, kw_only=True):
    """How far the trail reached at some moment: each strand's newest
    position (strands with events only), and :func:`trail_digest` of their
    hashes. Written ``v1:<strand>.<position>,…:<digest>``, one word."""

    positions: tuple[tuple[int, int], ...]
    digest: str

    def __str__(self) -> str:
        return "v1:" + ",".join(f"{strand}.{position}" for strand, position in self.positions) + ":" + self.digest

    @classmethod
    def parse(cls, text: str) -> Mark:
        version, _, rest = text.strip().partition(":")
        places, _, digest = rest.rpartition(":")
        if version != "v1" or not _HEX_DIGEST.fullmatch(digest):
            raise ValueError("a trail mark reads v1:<strand>.<position>,…:<64 hex digits>")
        positions: list[tuple[int, int]] = []
        for place in filter(None, places.split(",")):
            strand, _, position = place.partition(".")
            if not (strand.isdigit() and position.isdigit()):
                raise ValueError(f"{place!r} is not <strand>.<position>")
            positions.append((int(strand), int(position)))
        return cls(positions=tuple(sorted(positions)), digest=digest)


_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


class Verdict(msgspec.Struct, frozen=True, kw_only=True):
    events: int
    newest_hash: str | None
    problems: tuple[TrailProblem, ...]
    mark: Mark | None = None

    @property
    def intact(self) -> bool:
        return not self.problems


def event_hash(previous_hash: bytes, canonical: str) -> bytes:
    return hashlib.sha256(previous_hash + canonical.encode()).digest()


async def _event_with_hash(connection: asyncpg.Connection[Any], digest: bytes) -> int | None:
    event_id: int | None = await connection.fetchval("SELECT id FROM events WHERE hash = $1 LIMIT 1", digest)
    return event_id


async def verify(connection: asyncpg.Connection[Any], *, batch: int = 2000) -> Verdict:
    """Check the whole trail, strand by strand and oldest first, streaming it
    in batches (migration 0008: the trail is 16 independent hash chains)."""
    problems: list[TrailProblem] = []
    count = 0
    ends: dict[int, tuple[bytes, int | None, int]] = {}  # strand → (newest hash, its event, its position)
    strand: int | None = None
    expected_previous = GENESIS
    previous_id: int | None = None
    previous_position = 0
    async with connection.transaction(isolation="repeatable_read", readonly=True):
        cursor = connection.cursor(
            "SELECT e.id, e.strand, e.position, e.previous_hash, e.hash, events_canonical(e) AS canonical "
            "FROM events e ORDER BY e.strand, e.position",
            prefetch=batch,
        )
        async for row in cursor:
            if row["strand"] != strand:
                strand, expected_previous, previous_id, previous_position = row["strand"], GENESIS, None, 0
            count += 1
            event_id, position = row["id"], row["position"]
            if event_hash(row["previous_hash"], row["canonical"]) != row["hash"]:
                problems.append(
                    TrailProblem(
                        event_id=event_id, position=position, what="edited: its content no longer matches its hash"
                    )
                )
            if row["previous_hash"] != expected_previous:
                recorded_after = await _event_with_hash(connection, row["previous_hash"])
                if recorded_after is not None:
                    follows = f"event {previous_id}" if previous_id is not None else "the start of the trail"
                    what = f"out of order: it was recorded after event {recorded_after} but now follows {follows}"
                else:
                    after = f"after event {previous_id}" if previous_id is not None else "at the start of the trail"
                    what = f"the event recorded before it is missing (deleted {after})"
                problems.append(TrailProblem(event_id=event_id, position=position, what=what))
            elif position != previous_position + 1:
                problems.append(
                    TrailProblem(
                        event_id=event_id,
                        position=position,
                        what=f"positions {previous_position + 1} to {position - 1} are missing",
                    )
                )
            expected_previous, previous_id, previous_position = row["hash"], event_id, position
            ends[row["strand"]] = (expected_previous, previous_id, previous_position)
        heads = await connection.fetch("SELECT strand, position, hash FROM event_strand_heads ORDER BY strand")
    for head in heads:
        newest, newest_id, newest_position = ends.get(head["strand"], (GENESIS, None, 0))
        if head["hash"] != newest:
            gone = head["position"] - newest_position
            after = f"after event {newest_id}" if newest_id is not None else "(all of them)"
            problems.append(
                TrailProblem(
                    event_id=None,
                    position=None,
                    what=f"the newest {gone if gone > 0 else 'events'} event(s) {after} are missing (deleted)",
                )
            )
    return Verdict(
        events=count,
        newest_hash=trail_digest(ends) if count else None,
        problems=tuple(problems),
        mark=_mark(ends),
    )


def _mark(ends: dict[int, tuple[bytes, int | None, int]]) -> Mark:
    return Mark(positions=tuple((strand, ends[strand][2]) for strand in sorted(ends)), digest=trail_digest(ends))


async def current_mark(connection: asyncpg.Connection[Any]) -> Mark:
    """The trail's mark now, from the strands' heads (``maca_trail_heads``,
    which the application's role may call: positions and hashes only)."""
    rows = await connection.fetch('SELECT strand, "position", hash FROM maca_trail_heads() WHERE "position" > 0')
    return _mark({row["strand"]: (row["hash"], None, row["position"]) for row in rows})


async def check_mark(connection: asyncpg.Connection[Any], mark: Mark) -> tuple[TrailProblem, ...]:
    """Whether the trail still reaches as far as ``mark`` says, with the
    same events up to it (as the owner: it reads the events). A trail cut
    back — the newest events deleted and their strand's head moved to the
    event before them — passes :func:`verify`, and fails here."""
    rows = await connection.fetch(
        "SELECT e.strand, e.position, e.hash FROM events e "
        "JOIN unnest($1::smallint[], $2::bigint[]) AS m(strand, position) "
        "ON e.strand = m.strand AND e.position = m.position",
        [strand for strand, _ in mark.positions],
        [position for _, position in mark.positions],
    )
    found = {(row["strand"], row["position"]): row["hash"] for row in rows}
    problems = [
        TrailProblem(
            event_id=None,
            position=position,
            what=f"strand {strand} no longer reaches position {position}, as it did at mark {mark}: "
            "its newest events were deleted",
        )
        for strand, position in mark.positions
        if (strand, position) not in found
    ]
    if not problems:
        ends: dict[int, tuple[bytes, int | None, int]] = {
            strand: (found[(strand, position)], None, position) for strand, position in mark.positions
        }
        if trail_digest(ends) != mark.digest:
            problems.append(
                TrailProblem(
                    event_id=None,
                    position=None,
                    what=f"the events up to mark {mark} have been rewritten since it was taken",
                )
            )
    return tuple(problems)


def trail_digest(ends: dict[int, tuple[bytes, int | None, int]]) -> str:
    """One hash for the whole trail as it stands: each strand's newest hash,
    in strand order. Kept outside the database, it shows a trail rewritten
    from end to end (which the links alone cannot)."""
    if len(ends) == 1:
        return next(iter(ends.values()))[0].hex()
    # With no events at all, the digest of nothing.
    return hashlib.sha256(b"".join(ends[strand][0] for strand in sorted(ends))).hexdigest()
