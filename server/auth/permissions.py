"""Who may call what: named permissions, one table of which role holds which,
and every route handler declaring the one it needs.

A **permission** (:class:`Permission`) names something a person does, as
``resource:action`` (``audit:create``, ``contribution:write``,
``judgement:moderate``), as pypi/warehouse names its permissions. Roles
come from the identity provider's token; :data:`ROLE_PERMISSIONS` is the
one place that says which permissions each role holds. No other module
names a role when it decides something (a test keeps ``server/api`` and
``server/pages`` free of role names).

**Every route handler declares** what it needs, in Litestar's ``opt``::

    @post("/", summary="Create an audit of a case", opt=needs(Permission.AUDIT_CREATE))

or that it needs none: ``needs(PUBLIC)`` — anyone, signed in or not (no
credentials are even read); ``needs(SIGNED_IN)`` — any signed-in person,
whatever their roles. A router declares for all its handlers
(``create_static_files_router(..., opt=needs(PUBLIC))``).

**One global guard** (:func:`authorise`, on the app) enforces the
declaration: not signed in → 401 with the ``WWW-Authenticate`` challenge;
signed in without the permission → 403 saying in plain words what is
needed; a handler that declares nothing (or something that is not a
permission) is refused to everyone, and logged (deny by default).
``tests/architecture/test_permissions.py`` walks the app's routes and names
any handler that forgets.

The declaration says which *people* reach a route. Which *resources* they
reach is for the audit steps (``server/audits/``): an agency's auditor
reaches only the audits its organisation takes part in and only its own
organisation's contribution; anything else answers 404, so that no one
learns what exists elsewhere. Code that must check a permission itself
calls :func:`require` (403) or asks :func:`may` (to show or hide a form).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Iterator, Mapping
from enum import StrEnum
from typing import Any, Final
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.routes import BaseRoute, HTTPRoute

from server.auth.principal import ROLES, Principal, Role
from server.platform.problems import Forbidden, NotFound, Unauthorized

__all__ = (
    "CHALLENGE",
    "GRANTED_TO_NO_ROLE",
    "IN_WORDS",
    "PUBLIC",
    "ROLE_PERMISSIONS",
    "SIGNED_IN",
    "Access",
    "Open",
    "Permission",
    "access_for_scope",
    "access_of",
    "authorise",
    "declared_access",
    "holders_of",
    "is_partnership_staff",
    "may",
    "needs",
    "permissions_of",
    "refusal",
    "require",
    "require_same_organisation",
    "require_same_partnership",
    "route_handlers",
)

log = logging.getLogger("maca.authz")


class Permission(StrEnum):
    """What a person may do, named ``resource:action``. Keep each group in
    the order of the audit cycle; say in :data:`IN_WORDS` what it allows."""

    # --- audits --------------------------------------------------------------
    AUDIT_CREATE = "audit:create"
    AUDIT_READ = "audit:read"
    AUDIT_EDIT = "audit:edit"
    AUDIT_MOVE = "audit:move"

    # --- every agency's part at once: the partnership's view -----------------
    # Also what decides, in the steps, that someone sees every organisation's
    # part of an audit rather than only their own organisation's.
    PARTNERSHIP_OVERSEE = "partnership:oversee"

    # --- audit programmes (themed rounds of audits) ---------------------------
    PROGRAMME_READ = "programme:read"
    PROGRAMME_MANAGE = "programme:manage"

    # --- contributions -------------------------------------------------------
    CONTRIBUTION_READ = "contribution:read"
    CONTRIBUTION_WRITE = "contribution:write"
    CONTRIBUTION_RETURN = "contribution:return"

    # --- the partnership's judgement -----------------------------------------
    JUDGEMENT_READ = "judgement:read"
    JUDGEMENT_MODERATE = "judgement:moderate"
    PANEL_RECORD = "panel:record"
    LEARNING_TAG = "learning:tag"

    # --- immediate concerns ---------------------------------------------------
    CONCERN_READ = "concern:read"
    CONCERN_HANDLE = "concern:handle"

    # --- remedial actions ----------------------------------------------------
    ACTION_READ = "action:read"
    ACTION_AGREE = "action:agree"
    ACTION_CHANGE = "action:change"
    ACTION_PROGRESS = "action:progress"

    # --- organisations, reports and exports ----------------------------------
    ORGANISATION_READ = "organisation:read"
    REPORT_READ = "report:read"
    EXPORT_DOWNLOAD = "export:download"

    # --- administering the partnership ---------------------------------------
    ORGANISATION_ADMINISTER = "organisation:administer"
    PARTNERSHIP_ADMINISTER = "partnership:administer"
    TOOLKIT_ADMINISTER = "toolkit:administer"


# What each permission allows, in the words a refusal uses ("only a
# coordinator may create audits"). The steps narrow each to the resources
# the person may reach (their own organisation's part, audits it takes
# part in).
IN_WORDS: Final[Mapping[Permission, str]] = {
    Permission.AUDIT_CREATE: "create audits",
    Permission.AUDIT_READ: "see audits",
    Permission.AUDIT_EDIT: "correct an audit's case details, agencies and dates",
    Permission.AUDIT_MOVE: "distribute, review, close or reopen audits",
    Permission.PARTNERSHIP_OVERSEE: "see every agency's part of the partnership's audits",
    Permission.PROGRAMME_READ: "see the partnership's audit programmes and their progress",
    Permission.PROGRAMME_MANAGE: "set up audit programmes (their cases, added one by one or from a CSV file, are "
    "audits a coordinator creates)",
    Permission.CONTRIBUTION_READ: "read contributions",
    Permission.CONTRIBUTION_WRITE: "write and submit your organisation's contribution",
    Permission.CONTRIBUTION_RETURN: "return a contribution to its agency",
    Permission.JUDGEMENT_READ: "see the partnership's judgement",
    Permission.JUDGEMENT_MODERATE: "moderate the partnership's judgement",
    Permission.PANEL_RECORD: "write the multi-agency panel's record of an audit",
    Permission.LEARNING_TAG: "tag passages of learning with the partnership's learning themes",
    Permission.CONCERN_READ: "see the partnership's immediate concerns",
    Permission.CONCERN_HANDLE: "acknowledge and close immediate concerns",
    Permission.ACTION_READ: "see remedial actions",
    Permission.ACTION_AGREE: "agree remedial actions",
    Permission.ACTION_CHANGE: "change any remedial action",
    Permission.ACTION_PROGRESS: "record progress on remedial actions",
    Permission.ORGANISATION_READ: "list the partnership's organisations",
    Permission.REPORT_READ: "read reports",
    Permission.EXPORT_DOWNLOAD: "download exports",
    Permission.ORGANISATION_ADMINISTER: "register organisations, correct their records and contacts, and register "
    "agencies' systems",
    Permission.PARTNERSHIP_ADMINISTER: "set the partnership's name, due period, reminders and retention, and see its "
    "administration trail",
    Permission.TOOLKIT_ADMINISTER: "upload, preview and activate the partnership's toolkit versions, and choose its "
    "toolkits and merge policies",
}

# --- the one table: which role holds which permissions ------------------------

ROLE_PERMISSIONS: Final[Mapping[Role, frozenset[Permission]]] = {
    # Creates audits, fills in the case details once, distributes, chases,
    # returns contributions, closes and reopens; changes any remedial action,
    # its progress included.
    "coordinator": frozenset(
        {
            Permission.AUDIT_CREATE,
            Permission.AUDIT_READ,
            Permission.AUDIT_EDIT,
            Permission.AUDIT_MOVE,
            Permission.PROGRAMME_READ,
            Permission.PROGRAMME_MANAGE,
            Permission.PARTNERSHIP_OVERSEE,
            Permission.CONTRIBUTION_READ,
            Permission.CONTRIBUTION_RETURN,
            Permission.JUDGEMENT_READ,
            Permission.PANEL_RECORD,
            Permission.CONCERN_READ,
            Permission.CONCERN_HANDLE,
            Permission.ACTION_READ,
            Permission.ACTION_AGREE,
            Permission.ACTION_CHANGE,
            Permission.ACTION_PROGRESS,
            Permission.ORGANISATION_READ,
            Permission.REPORT_READ,
            Permission.EXPORT_DOWNLOAD,
        }
    ),
    # An agency's auditor: its own organisation's contribution to the audits
    # it takes part in, and what the partnership shares with it.
    "auditor": frozenset(
        {
            Permission.AUDIT_READ,
            Permission.CONTRIBUTION_READ,
            Permission.CONTRIBUTION_WRITE,
            Permission.JUDGEMENT_READ,
            Permission.ACTION_READ,
            Permission.ACTION_PROGRESS,
            Permission.ORGANISATION_READ,
            Permission.REPORT_READ,
            Permission.EXPORT_DOWNLOAD,
        }
    ),
    # The partnership's reviewer: every contribution side by side, moderation,
    # remedial actions, themes.
    "reviewer": frozenset(
        {
            Permission.AUDIT_READ,
            Permission.PROGRAMME_READ,
            Permission.PARTNERSHIP_OVERSEE,
            Permission.CONTRIBUTION_READ,
            Permission.JUDGEMENT_READ,
            Permission.JUDGEMENT_MODERATE,
            Permission.PANEL_RECORD,
            Permission.LEARNING_TAG,
            Permission.CONCERN_READ,
            Permission.CONCERN_HANDLE,
            Permission.ACTION_READ,
            Permission.ACTION_AGREE,
            Permission.ORGANISATION_READ,
            Permission.REPORT_READ,
            Permission.EXPORT_DOWNLOAD,
        }
    ),
    # The partnership's administrator (its business manager or IT): the
    # register of organisations and their contacts, identity bindings,
    # agencies' systems, the partnership's settings and toolkit versions,
    # and its audit programmes (whose cases a coordinator adds); no audit.
    "admin": frozenset(
        {
            Permission.ORGANISATION_READ,
            Permission.PROGRAMME_READ,
            Permission.PROGRAMME_MANAGE,
            Permission.ORGANISATION_ADMINISTER,
            Permission.PARTNERSHIP_ADMINISTER,
            Permission.TOOLKIT_ADMINISTER,
        }
    ),
}

# Permissions deliberately held by no role, each with the reason. Every other
# permission is held by some role (a test checks both).
GRANTED_TO_NO_ROLE: Final[Mapping[Permission, str]] = {}


# --- what a handler declares ----------------------------------------------------


class Open(StrEnum):
    """Routes that need no permission, declared as such."""

    ANYONE = "public"
    SIGNED_IN = "signed-in"


PUBLIC: Final = Open.ANYONE
SIGNED_IN: Final = Open.SIGNED_IN

Access = Permission | Open

# The ``opt`` key a declaration is kept under.
_KEY: Final = "permission"

# RFC 6750 §3: a request with no credentials gets the challenge and no error.
CHALLENGE: Final = 'Bearer realm="maca"'


def needs(access: Access) -> dict[str, Access]:
    """The ``opt`` of a route handler (or router) that needs ``access``."""
    return {_KEY: access}


def _is_litestar_options(handler: BaseRouteHandler) -> bool:
    """Litestar's own ``OPTIONS`` answer (the path's allowed methods), which
    it adds to every path and which runs no code of ours."""
    return getattr(handler, "http_methods", None) == {"OPTIONS"} and getattr(handler.fn, "__module__", "").startswith(
        "litestar."
    )


def access_of(handler: BaseRouteHandler | None) -> Access | None:
    """What ``handler`` declared; None when it declared nothing usable."""
    if handler is None:
        return None
    declared = handler.opt.get(_KEY)
    if isinstance(declared, Permission | Open):
        return declared
    if declared is None and _is_litestar_options(handler):
        return PUBLIC
    return None


def access_for_scope(scope: Any) -> Access | None:
    """The matched route handler's declaration (the router puts the handler
    on the scope before any middleware runs)."""
    return access_of(scope.get("route_handler"))


# --- who holds what ---------------------------------------------------------------


@functools.lru_cache(maxsize=64)  # one entry per combination of roles seen
def _permissions_of_roles(roles: frozenset[Role]) -> frozenset[Permission]:
    return frozenset().union(*(ROLE_PERMISSIONS.get(role, frozenset()) for role in roles))


def permissions_of(principal: Principal) -> frozenset[Permission]:
    return _permissions_of_roles(principal.roles)


def may(principal: Principal, permission: Permission) -> bool:
    """Whether ``principal`` holds ``permission`` (to show or hide a form)."""
    return permission in _permissions_of_roles(principal.roles)


def holders_of(permission: Permission) -> list[Role]:
    """The roles holding ``permission``, in the order of :data:`ROLES`."""
    return [role for role in ROLES if permission in ROLE_PERMISSIONS.get(role, frozenset())]


def _article(role: str) -> str:
    return f"an {role}" if role[:1] in "aeiou" else f"a {role}"


def refusal(permission: Permission) -> str:
    """``only a coordinator may create audits``: what is needed, in plain words."""
    holders = holders_of(permission)
    if not holders:
        return f"no one may {IN_WORDS[permission]} yet"
    who = [_article(role) for role in holders]
    either = who[0] if len(who) == 1 else f"{', '.join(who[:-1])} or {who[-1]}"
    return f"only {either} may {IN_WORDS[permission]}"


def require(principal: Principal, permission: Permission) -> None:
    """403, saying what is needed, unless ``principal`` holds ``permission``."""
    if not may(principal, permission):
        raise Forbidden(refusal(permission))


def is_partnership_staff(principal: Principal) -> bool:
    """Whether ``principal`` sees every organisation's part of their
    partnership's audits (coordinators and reviewers) rather than only their
    own organisation's: :attr:`Permission.PARTNERSHIP_OVERSEE`."""
    return may(principal, Permission.PARTNERSHIP_OVERSEE)


# --- the one guard ------------------------------------------------------------------


async def authorise(connection: ASGIConnection[Any, Any, Any, Any], route_handler: BaseRouteHandler) -> None:
    """The one global guard: the handler's declaration, enforced. Async,
    though it never waits: Litestar runs a sync guard in a thread pool,
    which cost every request a thread hand-off (make bench's profile)."""
    access = access_of(route_handler)
    if access is None:
        log.error(
            "refused %s %s: its handler declares no permission (opt=needs(...), server/auth/permissions.py)",
            connection.scope.get("method"),
            connection.scope.get("path_template"),
        )
        raise Forbidden("this route is not open to anyone yet")
    if access is PUBLIC:
        return
    principal = connection.scope.get("user")
    if not isinstance(principal, Principal):
        raise Unauthorized("sign in first", headers={"WWW-Authenticate": CHALLENGE})
    if access is SIGNED_IN:
        return
    assert isinstance(access, Permission)
    require(principal, access)


# --- the declarations, read from the app's routes -----------------------------------


def route_handlers(routes: Iterable[BaseRoute]) -> Iterator[tuple[str, BaseRoute, BaseRouteHandler]]:
    """(method, route, handler) for every handler the app serves, leaving
    out Litestar's own ``OPTIONS`` answers; a websocket or mounted ASGI
    handler is listed with the method ``*``."""
    for route in routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                if _is_litestar_options(handler):
                    continue
                for method in sorted(handler.http_methods):
                    yield method, route, handler
        else:
            other: BaseRouteHandler | None = getattr(route, "route_handler", None)
            if other is not None:
                yield "*", route, other


def declared_access(routes: Iterable[BaseRoute]) -> dict[tuple[str, str], Access | None]:
    """(method, path as OpenAPI writes it: ``/api/audits/{audit_id}``) →
    what its handler declared (None: nothing)."""
    return {(method, route.path_format): access_of(handler) for method, route, handler in route_handlers(routes)}


# --- for resource code: scoping to one's own organisation ---------------------


def require_same_organisation(principal: Principal, organisation_id: UUID, *, what: str = "no such resource") -> None:
    """404 unless ``organisation_id`` is the principal's own organisation:
    another organisation's resource is not said to exist."""
    if organisation_id != principal.organisation_id:
        raise NotFound(what)


def require_same_partnership(principal: Principal, partnership_id: UUID, *, what: str = "no such resource") -> None:
    """404 unless the resource belongs to the principal's partnership."""
    if partnership_id != principal.partnership_id:
        raise NotFound(what)
