"""From a validated token's claims to who is asking, through the configured
claim mapping (README "Signing in"). Pure: no I/O.

Identity providers disagree on where things live: Keycloak puts realm roles
in ``realm_access.roles``, Entra ID app roles in ``roles`` and the client in
``azp`` or ``appid``, RFC 9068 tokens name the client in ``client_id``. The
mapping says which claim holds each part; a dotted name reaches into nested
objects. Providers disagree on what roles are called too: ``OIDC_ROLE_MAP``
says which claim values or scopes (``audit:contribute``) give which of
Maca's roles.

Only the organisation is needed, and not even that from an agency's system
registered to its organisation: an organisation an administrator has
registered supplies its own agency kind and partnership, and a deployment
for one partnership names it once (``OIDC_DEFAULT_PARTNERSHIP``). Deciding
that is :mod:`server.auth.recording`'s; this module reads what the token
says.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from agencies.kinds import AGENCY_KIND_CODES
from agencies.organisations import CODE_PATTERN
from server.auth.principal import ROLES, Role
from server.settings import Settings, SettingsError, role_map


class ClaimsRejected(Exception):
    """The token is valid but does not say enough for Maca to act on it.
    The message is for the caller (it names claims, never their values)."""


class ClaimMapping(msgspec.Struct, frozen=True, kw_only=True):
    organisation: str = "organisation"
    # Optional, and not configurable: it only names an organisation Maca
    # has not seen before (otherwise it is named by its code).
    organisation_name: str = "organisation_name"
    agency_kind: str = "agency_kind"
    partnership: str = "partnership"
    roles: str = "roles"
    name: str = "name"
    # "maca:" makes the scope "maca:auditor" grant the auditor role.
    role_scope_prefix: str | None = None
    # (claim value or scope, role): OIDC_ROLE_MAP.
    role_map: tuple[tuple[str, Role], ...] = ()
    # The partnership of a new organisation whose token names none.
    default_partnership: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ClaimMapping:
        """The mapping the settings describe; :class:`SettingsError` for a
        role map naming a role Maca does not have."""
        mapped: list[tuple[str, Role]] = []
        for claimed, role in role_map(settings.oidc_role_map).items():
            known = next((r for r in ROLES if r == role), None)
            if known is None:
                raise SettingsError(
                    "OIDC_ROLE_MAP", f"{role!r} (for {claimed!r}) is not one of Maca's roles: {', '.join(ROLES)}"
                )
            mapped.append((claimed, known))
        return cls(
            organisation=settings.oidc_claim_organisation,
            agency_kind=settings.oidc_claim_agency_kind,
            partnership=settings.oidc_claim_partnership,
            roles=settings.oidc_claim_roles,
            name=settings.oidc_claim_name,
            role_scope_prefix=settings.oidc_role_scope_prefix,
            role_map=tuple(mapped),
            default_partnership=settings.oidc_default_partnership,
        )


class Identity(msgspec.Struct, frozen=True, kw_only=True):
    """What a token says about its bearer, before Maca has recorded them.

    ``agency_kind`` and ``partnership_code`` may be absent: an organisation
    Maca already knows keeps its recorded kind and partnership. So may
    ``organisation_code``, for an agency's system registered to its
    organisation by an administrator.
    """

    issuer: str
    subject: str
    organisation_code: str | None
    organisation_name: str | None
    agency_kind: str | None
    partnership_code: str | None
    roles: frozenset[Role]
    display_name: str | None
    client_id: str | None
    is_machine_client: bool
    # The OpenID `email` claim, where the token carries one: where Maca writes
    # to this person (issue 20). Not checked beyond its shape.
    email: str | None = None


def claim_at(claims: Mapping[str, Any], path: str) -> Any:
    """The claim named ``path``: a top-level name first (claims may contain
    dots, as URIs do), then a dotted path into nested objects."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _email(claims: Mapping[str, Any]) -> str | None:
    """The `email` claim when it looks like an address (one @, no spaces,
    at most 254 characters); anything else is ignored rather than refused:
    a sign-in does not fail for want of somewhere to write."""
    value = claims.get("email")
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not 3 <= len(value) <= 254 or value.count("@") != 1 or any(c.isspace() for c in value):
        return None
    return value


def _single_text(claims: Mapping[str, Any], path: str, what: str) -> str | None:
    value = claim_at(claims, path)
    if isinstance(value, list) and len(value) == 1:
        # Group and attribute mappers often give a one-element list.
        value = value[0]
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ClaimsRejected(f"the {what} claim '{path}' must be a single text value")
    return value.strip() or None


def _words(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def scopes_of(claims: Mapping[str, Any]) -> list[str]:
    """The token's scopes: ``scope`` (RFC 9068, a space-separated string)
    and ``scp`` (Entra ID, a list or string)."""
    return _words(claims.get("scope")) + _words(claims.get("scp"))


def roles_from(claims: Mapping[str, Any], mapping: ClaimMapping) -> frozenset[Role]:
    """Maca's roles given by the token: each value of the roles claim (a
    list, or a space-separated string) and each scope that the role map
    names, values of the roles claim that are Maca's role names, and, with
    a role scope prefix, scopes such as ``maca:auditor``. Anything else
    (``offline_access``…) gives nothing."""
    mapped = dict(mapping.role_map)
    values = _words(claim_at(claims, mapping.roles))
    scopes = scopes_of(claims)
    named: set[str] = {mapped[value] for value in values + scopes if value in mapped}
    named |= {value.lower() for value in values}
    prefix = mapping.role_scope_prefix
    if prefix:
        named |= {scope[len(prefix) :].lower() for scope in scopes if scope.startswith(prefix)}
    return frozenset(role for role in ROLES if role in named)


def where_roles_come_from(mapping: ClaimMapping) -> str:
    """Where this deployment looks for roles, in words for a refusal or the
    log: "the roles claim 'groups' or a scope OIDC_ROLE_MAP names"."""
    places = [f"the roles claim {mapping.roles!r}"]
    if mapping.role_map:
        places.append("a claim value or scope OIDC_ROLE_MAP names")
    if mapping.role_scope_prefix:
        places.append(f"a scope starting {mapping.role_scope_prefix!r}")
    return " or ".join(places)


def client_of(claims: Mapping[str, Any]) -> str | None:
    """The OAuth client the token was issued to: ``client_id`` (RFC 9068),
    ``azp`` (Keycloak, OpenID Connect) or ``appid`` (Entra ID v1)."""
    for name in ("client_id", "azp", "appid"):
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _is_machine_client(claims: Mapping[str, Any], client_id: str | None, display_name: str | None) -> bool:
    """A client-credentials token: an agency's own system acting for itself.

    Entra ID says so (``idtyp: app``); RFC 9068 makes ``sub`` the client's
    id; Keycloak names its service accounts ``service-account-…``; otherwise
    a token with a client and no sign of a person (no name, username or
    email) is a machine's.
    """
    if claims.get("idtyp") == "app":
        return True
    if client_id is None:
        return False
    if claims.get("sub") == client_id:
        return True
    username = claims.get("preferred_username")
    if isinstance(username, str) and username.startswith("service-account-"):
        return True
    return display_name is None and not any(claims.get(name) for name in ("preferred_username", "email", "upn"))


def identity_from_claims(claims: Mapping[str, Any], mapping: ClaimMapping) -> Identity:
    """The bearer of a validated token, as the mapping reads its claims."""
    issuer = claims.get("iss")
    subject = claims.get("sub")
    if not isinstance(issuer, str) or not isinstance(subject, str) or not subject:
        raise ClaimsRejected("the token names no subject")
    organisation = _single_text(claims, mapping.organisation, "organisation")
    if organisation is not None and not CODE_PATTERN.match(organisation):
        raise ClaimsRejected(f"the organisation claim '{mapping.organisation}' is not a usable organisation code")
    kind = _single_text(claims, mapping.agency_kind, "agency kind")
    if kind is not None and kind not in AGENCY_KIND_CODES:
        raise ClaimsRejected(
            f"the agency kind claim '{mapping.agency_kind}' names no agency kind Maca knows "
            f"(one of: {', '.join(sorted(AGENCY_KIND_CODES))})"
        )
    partnership = _single_text(claims, mapping.partnership, "partnership")
    if partnership is not None and not CODE_PATTERN.match(partnership):
        raise ClaimsRejected(f"the partnership claim '{mapping.partnership}' is not a usable partnership code")
    client_id = client_of(claims)
    display_name = _single_text(claims, mapping.name, "name")
    machine = _is_machine_client(claims, client_id, display_name)
    return Identity(
        issuer=issuer,
        subject=subject,
        organisation_code=organisation,
        organisation_name=_single_text(claims, mapping.organisation_name, "organisation name"),
        agency_kind=kind,
        partnership_code=partnership,
        roles=roles_from(claims, mapping),
        display_name=display_name or (client_id if machine else None),
        client_id=client_id,
        is_machine_client=machine,
        email=_email(claims),
    )
