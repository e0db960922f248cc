"""Sign-in attempts are limited per client address: past the limit, 429
with Retry-After; the count is shared by every Maca process (PostgreSQL)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.auth.rate_limit import LIMITED_ROUTES, SIGN_IN, START, TOKEN, Limit, count_attempt
from tests.deploy.processes import maca_environment, maca_server


def persona_pick(persona: str = "nobody") -> dict[str, str]:
    # Not a valid authorization request: the development provider answers
    # 400, which still counts as an attempt.
    return {"persona": persona, "client_id": "someone-else"}


async def test_the_persona_picker_answers_429_past_the_limit(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection[Any]
) -> None:
    for _ in range(SIGN_IN.attempts):
        response = await client.post("/dev-idp/authorize", data=persona_pick(), follow_redirects=False)
        assert response.status_code == 400, response.text
    refused = await client.post("/dev-idp/authorize", data=persona_pick(), follow_redirects=False)
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert 1 <= int(refused.headers["retry-after"]) <= SIGN_IN.window_seconds
    assert "too many sign-in attempts" in refused.json()["detail"]
    # The callback is the same kind of attempt, so it is refused too; a
    # browser is shown a page saying so.
    callback = await client.get(
        "/auth/callback?code=x&state=y", headers={"Accept": "text/html"}, follow_redirects=False
    )
    assert callback.status_code == 429
    assert callback.headers["content-type"].startswith("text/html")
    assert "too many sign-in attempts" in callback.text
    assert int(callback.headers["retry-after"]) >= 1
    # … while the rest of Maca answers as before.
    assert (await client.get("/api/toolkits")).status_code == 200
    # Nothing but a hash of the address is kept.
    rows = await db.fetch("SELECT bucket, client_hash, attempts FROM sign_in_attempts")
    assert {row["bucket"] for row in rows} == {"sign-in"}
    assert all(len(row["client_hash"]) == 32 for row in rows)
    assert max(row["attempts"] for row in rows) == SIGN_IN.attempts + 2


async def test_the_token_endpoint_and_starting_a_sign_in_have_their_own_limits(
    client: AsyncTestClient[Litestar],
) -> None:
    for _ in range(TOKEN.attempts):
        assert (await client.post("/dev-idp/token", data={"grant_type": "password"})).status_code == 400
    assert (await client.post("/dev-idp/token", data={"grant_type": "password"})).status_code == 429
    # Other buckets are untouched by the token endpoint's count.
    assert (await client.post("/dev-idp/authorize", data=persona_pick(), follow_redirects=False)).status_code == 400
    assert {limit.bucket for limit in LIMITED_ROUTES.values()} == {SIGN_IN.bucket, TOKEN.bucket, START.bucket}


async def test_each_address_is_counted_on_its_own(db: asyncpg.Connection[Any]) -> None:
    one, other = hashlib.sha256(b"192.0.2.1").digest(), hashlib.sha256(b"192.0.2.2").digest()
    for expected in range(1, 4):
        attempts, remaining = await count_attempt(db, SIGN_IN, one)
        assert attempts == expected
        assert 0 < remaining <= SIGN_IN.window_seconds
    assert (await count_attempt(db, SIGN_IN, other))[0] == 1


@pytest.fixture
def two_processes(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    env = maca_environment(database_url, tmp_path / "data")
    with ExitStack() as stack:
        a = stack.enter_context(maca_server(env, tmp_path / "a.log"))
        b = stack.enter_context(maca_server(env, tmp_path / "b.log"))
        yield a, b


@pytest.mark.slow
def test_the_limit_is_shared_by_every_process(two_processes: tuple[str, str]) -> None:
    a, b = two_processes
    statuses = []
    for attempt in range(SIGN_IN.attempts + 1):
        base = (a, b)[attempt % 2]
        statuses.append(
            httpx.post(f"{base}/dev-idp/authorize", data=persona_pick(), timeout=10, follow_redirects=False).status_code
        )
    assert statuses == [400] * SIGN_IN.attempts + [429]


async def test_a_window_opens_with_the_first_attempt_and_closes_after_its_length(
    db: asyncpg.Connection[Any],
) -> None:
    short = Limit(bucket="test-short", attempts=2, window_seconds=1)
    client = hashlib.sha256(b"192.0.2.9").digest()
    assert (await count_attempt(db, short, client))[0] == 1
    assert (await count_attempt(db, short, client))[0] == 2
    await asyncio.sleep(1.2)  # past the window's end: a new one opens
    attempts, remaining = await count_attempt(db, short, client)
    assert attempts == 1
    assert 0 < remaining <= 1
