"""Who a validated token's bearer is: their organisation, its agency kind
and partnership, and their roles, decided from what the token says and
what Maca has recorded; recorded on first sight, without a database write
on every request of a busy API.

- **An organisation an administrator registered** supplies its own agency
  kind and partnership: a token need only name the organisation. A token
  that names a different kind or partnership is refused, naming the claim,
  rather than moving the organisation (an identity provider's mistake must
  not quietly hand one agency's audits to another); an administrator
  corrects a wrong record (Administration → Organisations), and the next
  token is accepted.
- **An organisation nobody registered** is recorded at its people's first
  sign-in from the token's agency kind and partnership (the partnership
  claim, or ``OIDC_DEFAULT_PARTNERSHIP``), flagged for an administrator to
  confirm. A token that does not say enough is refused, naming each claim
  that is missing.
- **An inactive organisation**'s people are refused.
- **An agency's system** (a machine client) registered by an administrator
  may leave the organisation out of its tokens, and gets the registered
  roles when the provider gives it none.

The resulting principal is kept for a few minutes per (issuer, subject),
and used only while the token says exactly what it said when it was
recorded: new roles or another organisation are recorded at once. An
administrator's change reaches a process's kept principals at once
(:meth:`IdentityRecorder.forget`) and other processes' within
``ttl_seconds``.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, cast

import asyncpg

from server.auth.claims import ClaimMapping, ClaimsRejected, Identity, where_roles_come_from
from server.auth.principal import ROLES, Principal
from server.db import machine_clients, users
from server.db.machine_clients import RegistrationRow
from server.db.users import OrganisationRow

log = logging.getLogger("maca.auth")

CORRECT_IT = "an administrator can correct the organisation's record in Maca"


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
        partnership_code=user.partnership_code,
        partnership_name=user.partnership_name,
        roles=frozenset(role for role in ROLES if role in user.roles),
        is_machine_client=is_machine_client,
    )


async def _registration(connection: asyncpg.Connection[Any], identity: Identity) -> RegistrationRow | None:
    if not identity.is_machine_client or identity.client_id is None:
        return None
    found = await machine_clients.registration(connection, identity.client_id)
    if found is not None and not found.active:
        raise ClaimsRejected(
            f"the client '{identity.client_id}' is registered in Maca but not active; "
            "ask your partnership's administrator"
        )
    return found


async def _new_organisation(
    connection: asyncpg.Connection[Any], identity: Identity, code: str, mapping: ClaimMapping
) -> OrganisationRow:
    missing = []
    if identity.agency_kind is None:
        missing.append(f"its agency kind (claim '{mapping.agency_kind}')")
    partnership = identity.partnership_code or mapping.default_partnership
    if partnership is None:
        missing.append(f"its partnership (claim '{mapping.partnership}', or OIDC_DEFAULT_PARTNERSHIP)")
    if missing or identity.agency_kind is None or partnership is None:
        raise ClaimsRejected(
            f"the organisation '{code}' is new to Maca and the token does not name {' or '.join(missing)}; "
            "an administrator can register the organisation first"
        )
    partnership_id = await users.record_partnership(connection, partnership)
    recorded = await users.record_organisation(
        connection,
        partnership_id=partnership_id,
        partnership_code=partnership,
        code=code,
        name=identity.organisation_name or code,
        agency_kind=identity.agency_kind,
    )
    log.info("recorded organisation %s at its first sign-in; an administrator is to confirm it", code)
    return recorded


async def _organisation(
    connection: asyncpg.Connection[Any],
    identity: Identity,
    registration: RegistrationRow | None,
    mapping: ClaimMapping,
) -> OrganisationRow:
    code = identity.organisation_code
    if code is None:
        if registration is None:
            client = ""
            if identity.is_machine_client:
                client = f"; its client '{identity.client_id}' is not registered to one"
            raise ClaimsRejected(f"the token names no organisation (claim '{mapping.organisation}'){client}")
        found = await users.organisation_by_id(connection, registration.organisation_id)
        assert found is not None  # a registration refers to its organisation
        return found
    found = await users.organisation_by_code(connection, code)
    if registration is not None and (found is None or found.id != registration.organisation_id):
        raise ClaimsRejected(
            f"the organisation claim '{mapping.organisation}' names '{code}', but the client "
            f"'{identity.client_id}' is registered to another organisation in Maca"
        )
    return found if found is not None else await _new_organisation(connection, identity, code, mapping)


def _check_against_record(identity: Identity, organisation: OrganisationRow, mapping: ClaimMapping) -> None:
    if not organisation.active:
        raise ClaimsRejected(
            f"the organisation '{organisation.code}' is not active in Maca; ask your partnership's administrator"
        )
    if identity.agency_kind is not None and identity.agency_kind != organisation.agency_kind:
        raise ClaimsRejected(
            f"the agency kind claim '{mapping.agency_kind}' says '{identity.agency_kind}', but Maca has "
            f"recorded '{organisation.code}' as '{organisation.agency_kind}'; {CORRECT_IT}"
        )
    if identity.partnership_code is not None and identity.partnership_code != organisation.partnership_code:
        raise ClaimsRejected(
            f"the partnership claim '{mapping.partnership}' says '{identity.partnership_code}', but Maca has "
            f"recorded '{organisation.code}' in the partnership '{organisation.partnership_code}'; {CORRECT_IT}"
        )


async def record(connection: asyncpg.Connection[Any], identity: Identity, mapping: ClaimMapping) -> Principal:
    """The bearer of a validated token, recorded (or refreshed) in the
    caller's transaction; :class:`ClaimsRejected` naming the claim when the
    token does not say enough or contradicts the record."""
    registration = await _registration(connection, identity)
    organisation = await _organisation(connection, identity, registration, mapping)
    _check_against_record(identity, organisation, mapping)
    roles = identity.roles
    if not roles and registration is not None:
        roles = frozenset(role for role in ROLES if role in registration.roles)
    if not roles:
        log.info(
            "%s of organisation %s has no Maca role: none in %s",
            "client " + identity.client_id if identity.is_machine_client and identity.client_id else "a person",
            organisation.code,
            where_roles_come_from(mapping),
        )
    user_id = await users.record_user(
        connection,
        issuer=identity.issuer,
        subject=identity.subject,
        organisation_id=organisation.id,
        organisation_code=organisation.code,
        display_name=identity.display_name,
        roles=tuple(sorted(roles)),
        email=identity.email,
    )
    return Principal(
        issuer=identity.issuer,
        subject=identity.subject,
        user_id=user_id,
        display_name=identity.display_name,
        organisation_id=organisation.id,
        organisation_code=organisation.code,
        organisation_name=organisation.name,
        agency_kind=organisation.agency_kind,
        partnership_id=organisation.partnership_id,
        partnership_code=organisation.partnership_code,
        partnership_name=organisation.partnership_name,
        roles=roles,
        is_machine_client=identity.is_machine_client,
    )


class IdentityRecorder:
    def __init__(
        self,
        mapping: ClaimMapping | None = None,
        *,
        ttl_seconds: float = 300.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.mapping = mapping or ClaimMapping()
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
            bare = cast("asyncpg.Connection[Any]", connection)
            try:
                async with bare.transaction():
                    principal = await record(bare, identity, self.mapping)
            except ClaimsRejected as rejected:
                log.info("refused a token of %s: %s", identity.issuer, rejected)
                raise
        if self.ttl_seconds > 0:
            self._seen[key] = (identity, principal, now)
            self._seen.move_to_end(key)
            while len(self._seen) > self.max_entries:
                self._seen.popitem(last=False)
        return principal

    def forget(self) -> None:
        """Record everyone again on their next request (after an
        administrator changed an organisation or a client's registration)."""
        self._seen.clear()
