"""Recording the people behind tokens on first sight, without a database
write on every request of a busy API.

A validated token's identity is recorded (users, organisations and
partnerships upserted, ``server/db/users.py``) and the resulting principal
kept for a few minutes per (issuer, subject). The cache is only used while
the token says exactly what it said when the principal was recorded: new
roles or another organisation are recorded at once.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, cast

import asyncpg

from server.auth.claims import ClaimsRejected, Identity
from server.auth.principal import ROLES, Principal
from server.db import users


def principal_of(user: users.UserRow, *, is_machine_client: bool = False) -> Principal:
    """The recorded person as Maca's authorisation sees them (roles Maca
    does not know are dropped)."""
    return Principal(
        issuer=user.issuer,
        subject=user.subject,
        user_id=user.user_id,
        display_name=user.display_name,
        organisation_id=user.organisation_id,
        organisation_code=user.organisation_code,
        organisation_name=user.organisation_name,
        agency_kind=user.agency_kind,
        partnership_id=user.partnership_id,
        roles=frozenset(role for role in ROLES if role in user.roles),
        is_machine_client=is_machine_client,
    )


def _claimed(identity: Identity) -> users.Claimed:
    return users.Claimed(
        issuer=identity.issuer,
        subject=identity.subject,
        organisation_code=identity.organisation_code,
        organisation_name=identity.organisation_name,
        agency_kind=identity.agency_kind,
        partnership_code=identity.partnership_code,
        display_name=identity.display_name,
        roles=tuple(sorted(identity.roles)),
    )


class IdentityRecorder:
    def __init__(
        self,
        *,
        ttl_seconds: float = 300.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._seen: OrderedDict[tuple[str, str], tuple[Identity, Principal, float]] = OrderedDict()

    async def principal(self, pool: asyncpg.Pool[Any], identity: Identity) -> Principal:
        key = (identity.issuer, identity.subject)
        now = self._clock()
        cached = self._seen.get(key)
        if cached is not None and cached[0] == identity and now - cached[2] < self.ttl_seconds:
            # The principal carries this token's view of who the client is.
            return cached[1]
        async with pool.acquire() as connection:
            # The pool hands out a proxy that behaves as the connection it wraps.
            try:
                user = await users.record(cast("asyncpg.Connection[Any]", connection), _claimed(identity))
            except users.IdentityConflict as conflict:
                raise ClaimsRejected(str(conflict)) from None
        principal = principal_of(user, is_machine_client=identity.is_machine_client)
        if self.ttl_seconds > 0:
            self._seen[key] = (identity, principal, now)
            self._seen.move_to_end(key)
            while len(self._seen) > self.max_entries:
                self._seen.popitem(last=False)
        return principal

    def forget(self) -> None:
        """Record everyone again on their next request."""
        self._seen.clear()
