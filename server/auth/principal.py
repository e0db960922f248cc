"""Who is making a request, as Maca's authorisation sees them."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import msgspec

Role = Literal["coordinator", "auditor", "reviewer", "admin"]
ROLES: tuple[Role, ...] = ("coordinator", "auditor", "reviewer", "admin")


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """A signed-in person or an agency's machine client.

    Built from a validated token's claims (through the configured claim
    mapping) and recorded on first sight: ``user_id`` and
    ``organisation_id`` are Maca's own ids for them.
    """

    issuer: str
    subject: str
    user_id: UUID
    display_name: str | None
    organisation_id: UUID
    organisation_code: str  # the organisation claim's value
    organisation_name: str
    agency_kind: str
    partnership_id: UUID
    roles: frozenset[Role]
    is_machine_client: bool = False
    # The partnership as people know it (the partnership claim's value, or
    # OIDC_DEFAULT_PARTNERSHIP), and its name.
    partnership_code: str = ""
    partnership_name: str = ""

    def has_role(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)
