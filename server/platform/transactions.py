"""What every write to an audit shares: one transaction, versions as ETags,
``If-Match`` for updates and ``Idempotency-Key`` for POSTs.

- A resource's ``ETag`` is its row version, ``"7"``. An update must send
  it back in ``If-Match``: without it 428, with a stale one 412 — never a
  silent overwrite.
- A POST with ``Idempotency-Key`` stores its first response; a retry with
  the same key and the same body gets that response again, the same key
  with a different body is refused (422).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar, cast
from uuid import UUID

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.datastructures import State

from server.db import idempotency, identity
from server.platform.body_first import request_body
from server.platform.problems import FieldError, InvalidInput, PreconditionFailed, PreconditionRequired

T = TypeVar("T")


class Actor(Protocol):
    """Who a transaction works for, as far as this module needs to know:
    ``server.auth.principal.Principal`` is one (kept structural, so the
    platform does not import the layer above it)."""

    @property
    def user_id(self) -> UUID: ...
    @property
    def organisation_id(self) -> UUID: ...
    @property
    def partnership_id(self) -> UUID: ...
    @property
    def roles(self) -> frozenset[str]: ...


MAX_IDEMPOTENCY_KEY = 200


async def _begin_as(connection: asyncpg.Connection[Any], principal: Actor, *, by_first_statement: bool) -> None:
    """``BEGIN``, then who is asking, sealed so that ``maca_app`` cannot
    forge it (``server/db/identity.py``, migration 0011) and sent as a
    statement parameter — two round trips where the unsealed settings took
    one, because a value in a statement's text is shown to every session of
    the same role (``pg_stat_activity``) and could be replayed. Or, with
    ``by_first_statement``, one: the seal rides with the transaction's
    first statement (``identity.seal_for_first_statement``)."""
    await connection.execute("BEGIN")
    who = (principal.user_id, principal.organisation_id, principal.partnership_id, principal.roles)
    if by_first_statement:
        identity.seal_for_first_statement(connection, *who)
    else:
        await identity.declare(connection, *who)


@asynccontextmanager
async def unit_of_work(
    state: State, principal: Actor, *, identity_with_first_statement: bool = False
) -> AsyncIterator[asyncpg.Connection[Any]]:
    """A pooled connection inside one transaction: the change and its event
    commit together or not at all. The transaction carries who is asking
    (user, organisation, partnership, roles, sealed; local to it, so a
    pooled connection or a PgBouncer server connection never keeps them),
    and row-level security confines it by them: an agency to its own
    organisation's contributions and the audits it takes part in,
    coordinators and reviewers to their partnership's (migration 0011). A
    transaction that sets none, or a forged one, sees nothing.

    The connection is waited for at most ``MACA_DB_TIMEOUT_SECONDS`` (then
    503, ``server/db/pool.py``); the request's body was read before
    (``server/platform/body_first.py``), so nothing inside waits on the client.

    ``identity_with_first_statement``: the seal is set by the work's first
    statement, which must be one that takes it (a contribution's save:
    ``maca_open_contribution``, migration 0019), saving a round trip; a
    statement before it would see nothing (issue 24)."""
    pool: asyncpg.Pool[Any] = state.pool
    async with pool.acquire() as connection:
        # The pool hands out a proxy that behaves as the connection it wraps.
        plain = cast("asyncpg.Connection[Any]", connection)
        try:
            await _begin_as(plain, principal, by_first_statement=identity_with_first_statement)
            yield plain
        except BaseException:
            if not connection.is_closed():
                # The error that ended the work is the one to report; a
                # connection that cannot roll back is dropped by the pool.
                with contextlib.suppress(Exception):
                    await connection.execute("ROLLBACK")
            raise
        finally:
            # A seal never set dies with its transaction: the next one on
            # this pooled connection is someone else's.
            identity.pending_seal(plain)
        await connection.execute("COMMIT")


def etag(row_version: int) -> str:
    return f'"{row_version}"'


def expected_version(request: Request[Any, Any, Any]) -> int:
    """The row version named by ``If-Match`` (428 when absent)."""
    header = request.headers.get("if-match")
    if header is None or not header.strip():
        raise PreconditionRequired("send the ETag you last read in If-Match, so a newer change is not overwritten")
    value = header.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    if not value.isdigit():
        raise PreconditionFailed("If-Match does not name a version of this resource")
    return int(value)


def check_version(expected: int, current: int) -> None:
    if expected != current:
        raise PreconditionFailed(
            "someone changed this since you read it; read it again and reapply your change",
            headers={"ETag": etag(current)},
        )


def json_response(content: T, *, status: int = 200, headers: dict[str, str] | None = None) -> Response[T]:
    return Response(content=content, status_code=status, headers=headers or {})


async def idempotent(
    request: Request[Any, Any, Any],
    connection: asyncpg.Connection[Any],
    principal: Actor,
    write: Callable[[], Awaitable[Response[T]]],
) -> Response[T]:
    """Run ``write`` once per ``Idempotency-Key`` (if the request has one),
    inside the caller's transaction."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return await write()
    if not key.strip() or len(key) > MAX_IDEMPOTENCY_KEY:
        raise InvalidInput(
            errors=[FieldError(field="Idempotency-Key", message=f"must be 1 to {MAX_IDEMPOTENCY_KEY} characters")]
        )
    # Read before the transaction opened (server/platform/body_first.py): waiting
    # on the client here would hold a connection idle in the transaction.
    body = request_body(request)
    digest = hashlib.sha256(request.method.encode() + b" " + request.url.path.encode() + b"\n" + body).hexdigest()
    await identity.declare_pending(connection)  # the key is the sender's own: a read before the work's first
    stored = await idempotency.claim(connection, principal.user_id, key, request.method, request.url.path, digest)
    if stored is not None:
        if stored.request_hash != digest or stored.status is None:
            raise InvalidInput(
                "this Idempotency-Key was used for a different request; use a new key for a new request",
                errors=[FieldError(field="Idempotency-Key", message="already used for a different request")],
            )
        replay = Response(
            content=stored.body or b"",
            status_code=stored.status,
            media_type="application/json",
            headers={**stored.headers, "Idempotent-Replayed": "true"},
        )
        return cast("Response[T]", replay)
    response = await write()
    headers = {name: value for name, value in response.headers.items() if name.lower() in ("etag", "location")}
    body_bytes = msgspec.json.encode(response.content)
    await idempotency.store(connection, principal.user_id, key, response.status_code or 200, body_bytes, headers)
    return response


async def once_per_key(
    connection: asyncpg.Connection[Any],
    principal: Actor,
    key: str,
    path: str,
    request_hash: str,
    make: Callable[[], Awaitable[str]],
) -> tuple[str, bool]:
    """A form's ``Idempotency-Key``: run ``make`` (which returns where what
    it made is) the first time ``key`` is sent, inside the caller's
    transaction, and give every later sending of the same key that place
    back; (location, whether it was given back). No key: ``make`` runs."""
    if not key:
        return await make(), False
    await identity.declare_pending(connection)
    earlier = await idempotency.claim(connection, principal.user_id, f"web:{key}", "POST", path, request_hash)
    if earlier is not None and earlier.headers.get("location"):
        return earlier.headers["location"], True
    location = await make()
    await idempotency.store(connection, principal.user_id, f"web:{key}", 303, b"", {"location": location})
    return location, False
