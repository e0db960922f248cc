"""Who may call what: every route's access in one table, and one guard.

``ROUTES`` maps (HTTP method, path template exactly as registered) to the
access it allows:

- ``PUBLIC`` — anyone, signed in or not (no credentials are even read);
- ``SIGNED_IN`` — any authenticated principal, whatever their roles;
- ``roles("coordinator", "reviewer")`` — a principal with at least one of
  these roles.

The global guard (:func:`authorise`, on the app) looks the matched route up:
a route missing from the table is refused (deny by default), and a test
checks that every registered route has a row. A new route adds its row
here, in its part's block.

The table says which *roles* reach a route. Which *resources* they reach is
for the resource code, with the helpers below: an agency's auditor reaches
only the audits its organisation takes part in and only its own
organisation's contribution; anything else answers 404, so that no one
learns what exists elsewhere.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Any, Final, Literal
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from server.auth.principal import Principal, Role
from server.platform.problems import Forbidden, NotFound, Unauthorized

log = logging.getLogger("maca.authz")

PUBLIC: Final = "public"
SIGNED_IN: Final = "signed-in"

Access = Literal["public", "signed-in"] | frozenset[Role]

# RFC 6750 §3: a request with no credentials gets the challenge and no error.
CHALLENGE: Final = 'Bearer realm="maca"'


def roles(*names: Role) -> frozenset[Role]:
    return frozenset(names)


ANY_ROLE: Final = roles("coordinator", "auditor", "reviewer", "admin")
STAFF: Final = roles("coordinator", "reviewer")

ROUTES: dict[tuple[str, str], Access] = {
    # --- health, documentation and assets: public --------------------------
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/schema"): PUBLIC,
    ("GET", "/schema/{path:str}"): PUBLIC,
    ("GET", "/schema/openapi.json"): PUBLIC,
    ("GET", "/schema/oauth2-redirect.html"): PUBLIC,
    ("GET", "/static/swagger-ui/{file_path:path}"): PUBLIC,
    ("HEAD", "/static/swagger-ui/{file_path:path}"): PUBLIC,
    # --- toolkits: the audit tools are public ------------------------------
    ("GET", "/api/toolkits"): PUBLIC,
    ("GET", "/api/toolkits/{toolkit_id:str}"): PUBLIC,
    ("GET", "/api/toolkits/{toolkit_id:str}/fhir"): PUBLIC,
    # --- identity ------------------------------------------------------------
    ("GET", "/api/me"): SIGNED_IN,
    ("GET", "/sign-in"): PUBLIC,
    ("GET", "/auth/callback"): PUBLIC,
    ("GET", "/signed-out"): PUBLIC,
    ("POST", "/sign-out"): SIGNED_IN,
    ("GET", "/account"): SIGNED_IN,
    # The development identity provider (only registered without OIDC_ISSUER).
    ("GET", "/dev-idp/.well-known/openid-configuration"): PUBLIC,
    ("GET", "/dev-idp/jwks"): PUBLIC,
    ("GET", "/dev-idp/authorize"): PUBLIC,
    ("POST", "/dev-idp/authorize"): PUBLIC,
    ("POST", "/dev-idp/token"): PUBLIC,
    # --- audits (issue 5) ----------------------------------------------------
    # The roles each route admits; the handlers narrow an auditor to its own
    # organisation's audits and contribution (404 otherwise).
    ("POST", "/api/audits"): roles("coordinator"),
    ("GET", "/api/audits"): roles("coordinator", "reviewer", "auditor"),
    ("GET", "/api/audits/{audit_id:uuid}"): roles("coordinator", "reviewer", "auditor"),
    ("PATCH", "/api/audits/{audit_id:uuid}"): roles("coordinator"),
    ("POST", "/api/audits/{audit_id:uuid}/status"): roles("coordinator"),
    ("GET", "/api/audits/{audit_id:uuid}/progress"): STAFF,
    ("GET", "/api/audits/{audit_id:uuid}/events"): STAFF,
    ("GET", "/api/audits/{audit_id:uuid}/contributions/{organisation_id:uuid}"): roles(
        "auditor", "coordinator", "reviewer"
    ),
    ("PUT", "/api/audits/{audit_id:uuid}/contributions/{organisation_id:uuid}"): roles("auditor"),
    ("POST", "/api/audits/{audit_id:uuid}/contributions/{organisation_id:uuid}/submit"): roles("auditor"),
    ("POST", "/api/audits/{audit_id:uuid}/contributions/{organisation_id:uuid}/return"): roles("coordinator"),
    ("GET", "/api/audits/{audit_id:uuid}/contributions/{organisation_id:uuid}/versions"): roles(
        "auditor", "coordinator", "reviewer"
    ),
    ("GET", "/api/audits/{audit_id:uuid}/actions"): roles("coordinator", "reviewer", "auditor"),
    ("POST", "/api/audits/{audit_id:uuid}/actions"): STAFF,
    ("PATCH", "/api/audits/{audit_id:uuid}/actions/{action_id:uuid}"): roles("auditor", "coordinator", "reviewer"),
    ("GET", "/api/audits/{audit_id:uuid}/judgement"): roles("coordinator", "reviewer", "auditor"),
    ("PUT", "/api/audits/{audit_id:uuid}/judgement/sections/{section_id:str}"): roles("reviewer"),
    # --- end of audits (issue 5) ---------------------------------------------
    ("GET", "/api/organisations"): roles("coordinator", "reviewer", "auditor"),
    # --- web pages: common and agency auditor (issue 7) ----------------------
    ("GET", "/static/govuk/{file_path:path}"): PUBLIC,
    ("HEAD", "/static/govuk/{file_path:path}"): PUBLIC,
    ("GET", "/assets/{file_path:path}"): PUBLIC,
    ("HEAD", "/assets/{file_path:path}"): PUBLIC,
    ("GET", "/static/maca/{file_path:path}"): PUBLIC,
    ("HEAD", "/static/maca/{file_path:path}"): PUBLIC,
    ("GET", "/"): SIGNED_IN,
    # The handlers narrow an auditor to its own organisation's audits (404
    # otherwise), as the API does.
    ("GET", "/your-audits"): roles("auditor"),
    ("GET", "/your-audits/{audit_id:uuid}"): roles("auditor"),
    ("GET", "/your-audits/{audit_id:uuid}/sections/{section_id:str}"): roles("auditor"),
    ("POST", "/your-audits/{audit_id:uuid}/sections/{section_id:str}"): roles("auditor"),
    ("GET", "/your-audits/{audit_id:uuid}/overall"): roles("auditor"),
    ("POST", "/your-audits/{audit_id:uuid}/overall"): roles("auditor"),
    ("GET", "/your-audits/{audit_id:uuid}/check"): roles("auditor"),
    ("POST", "/your-audits/{audit_id:uuid}/submit"): roles("auditor"),
    ("GET", "/your-audits/{audit_id:uuid}/submitted"): roles("auditor"),
    # --- end of web pages: common and agency auditor -------------------------
    # --- web pages: coordinator and reviewer (issue 7) -----------------------
    # Coordinators and reviewers share the audits list and an audit's page;
    # the handlers show the forms that change an audit to coordinators only.
    ("GET", "/audits"): STAFF,
    ("GET", "/audits/new"): roles("coordinator"),
    ("GET", "/audits/new/details"): roles("coordinator"),
    ("POST", "/audits/new/details"): roles("coordinator"),
    ("POST", "/audits/new"): roles("coordinator"),
    ("GET", "/audits/{audit_id:uuid}"): STAFF,
    ("POST", "/audits/{audit_id:uuid}/status"): roles("coordinator"),
    ("GET", "/audits/{audit_id:uuid}/contributions/{organisation_id:uuid}/return"): roles("coordinator"),
    ("POST", "/audits/{audit_id:uuid}/contributions/{organisation_id:uuid}/return"): roles("coordinator"),
    ("GET", "/audits/{audit_id:uuid}/judgement"): STAFF,
    ("GET", "/audits/{audit_id:uuid}/judgement/{section_id:str}"): roles("reviewer"),
    ("POST", "/audits/{audit_id:uuid}/judgement/{section_id:str}"): roles("reviewer"),
    ("GET", "/audits/{audit_id:uuid}/actions"): STAFF,
    ("POST", "/audits/{audit_id:uuid}/actions"): STAFF,
    # As the API: a coordinator changes an action (the responsible agency
    # records progress on its own pages).
    ("GET", "/audits/{audit_id:uuid}/actions/{action_id:uuid}"): roles("coordinator"),
    ("POST", "/audits/{audit_id:uuid}/actions/{action_id:uuid}"): roles("coordinator"),
    # --- end of web pages: coordinator and reviewer --------------------------
    # --- reports: themes and dashboard (issue 8) -----------------------------
    # Auditors reach the API for their own organisation's grades only (the
    # handler narrows them); the dashboard page is the partnership's.
    ("GET", "/api/reports/themes"): roles("coordinator", "reviewer", "auditor"),
    ("GET", "/reports/themes"): STAFF,
    # --- end of reports: themes and dashboard --------------------------------
    # --- reports: combined report and exports (issue 8) ----------------------
    # The handlers narrow an auditor: the report only of a closed audit its
    # organisation is in (own contribution, partnership grades); exports of
    # its own organisation's part only (server/reports/*_api.py).
    ("GET", "/api/audits/{audit_id:uuid}/report.html"): roles("coordinator", "reviewer", "auditor"),
    ("GET", "/api/audits/{audit_id:uuid}/report.pdf"): roles("coordinator", "reviewer", "auditor"),
    ("GET", "/api/audits/{audit_id:uuid}/export.json"): roles("coordinator", "reviewer", "auditor"),
    ("GET", "/api/audits/{audit_id:uuid}/contributions/{organisation_id:uuid}/fhir"): roles(
        "coordinator", "reviewer", "auditor"
    ),
    ("GET", "/api/exports/grades.csv"): roles("coordinator", "reviewer", "auditor"),
    ("GET", "/api/exports/grades.xlsx"): roles("coordinator", "reviewer", "auditor"),
    ("GET", "/static/report/{file_path:path}"): PUBLIC,
    ("HEAD", "/static/report/{file_path:path}"): PUBLIC,
    # --- end of reports: combined report and exports -------------------------
}

_TYPED_PARAMETER = re.compile(r"\{(\w+):[^}]+\}")


@functools.lru_cache(maxsize=1024)  # a few hundred route templates; asked twice per request
def path_format(template: str) -> str:
    """``/api/audits/{audit_id:uuid}`` → ``/api/audits/{audit_id}``: the form
    Litestar reports for the matched route (``scope["path_template"]``)."""
    return _TYPED_PARAMETER.sub(r"{\1}", template)


_BY_FORMAT: dict[tuple[str, str], Access] = {}


def _index() -> dict[tuple[str, str], Access]:
    # Built on first use, and again if rows were added since.
    if len(_BY_FORMAT) != len(ROUTES):
        _BY_FORMAT.clear()
        _BY_FORMAT.update({(method, path_format(path)): access for (method, path), access in ROUTES.items()})
    return _BY_FORMAT


def access_for(method: str, path_template: str) -> Access | None:
    """The access the table gives the route; None when it has no row.

    ``OPTIONS`` is public everywhere: Litestar answers it itself with the
    path's allowed methods, running no handler."""
    if method == "OPTIONS":
        return PUBLIC
    return _index().get((method, path_format(path_template)))


def access_for_scope(scope: Any) -> Access | None:
    return access_for(scope.get("method", "GET"), scope.get("path_template") or scope.get("path", ""))


async def authorise(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """The one global guard: the table's verdict on this request. Async,
    though it never waits: Litestar runs a sync guard in a thread pool,
    which cost every request a thread hand-off (make bench's profile)."""
    access = access_for_scope(connection.scope)
    if access is None:
        log.error(
            "refused %s %s: the route is not in the route table (server/auth/permissions.py)",
            connection.scope.get("method"),
            connection.scope.get("path_template"),
        )
        raise Forbidden("this route is not open to anyone yet")
    if access == PUBLIC:
        return
    principal = connection.scope.get("user")
    if not isinstance(principal, Principal):
        raise Unauthorized("sign in first", headers={"WWW-Authenticate": CHALLENGE})
    if access == SIGNED_IN:
        return
    assert isinstance(access, frozenset)
    if not principal.roles & access:
        raise Forbidden(f"this needs the role {' or '.join(sorted(access))}")


# --- for resource code: scoping to one's own organisation ---------------------


def require_role(principal: Principal, *wanted: Role) -> None:
    """403 unless ``principal`` has one of ``wanted``."""
    if not principal.has_role(*wanted):
        raise Forbidden(f"this needs the role {' or '.join(sorted(wanted))}")


def require_same_organisation(principal: Principal, organisation_id: UUID, *, what: str = "no such resource") -> None:
    """404 unless ``organisation_id`` is the principal's own organisation:
    another organisation's resource is not said to exist."""
    if organisation_id != principal.organisation_id:
        raise NotFound(what)


def require_same_partnership(principal: Principal, partnership_id: UUID, *, what: str = "no such resource") -> None:
    """404 unless the resource belongs to the principal's partnership."""
    if partnership_id != principal.partnership_id:
        raise NotFound(what)


def is_partnership_staff(principal: Principal) -> bool:
    """Coordinators and reviewers see every organisation's part of their
    partnership's audits; auditors only their own organisation's."""
    return principal.has_role("coordinator", "reviewer")


def may_see_organisation(principal: Principal, organisation_id: UUID) -> bool:
    return is_partnership_staff(principal) or organisation_id == principal.organisation_id
