"""Who may do what is said in two places only: the permission each route
handler declares, and the one table of which role holds which permission
(``server/auth/permissions.py``).

- Every handler the app serves declares a permission, or that it is open to
  anyone or to any signed-in person. One that forgets is refused to
  everyone at run time; this names it before it ships.
- Every permission is held by some role, or listed as held by none with the
  reason; each says in words what it allows; each is used somewhere.
- No module of the API, the pages or the audit steps names a role: they
  ask for permissions (a step checks its own with ``require``/``may``), so
  changing what a role may do is one line in the table.

Each check is also run on a deliberate violation, so a check that had
stopped looking (a renamed folder, a walker that finds nothing) fails here.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import Path

import pytest
from litestar import Litestar, get
from litestar.routes import BaseRoute

from server.app import create_app
from server.auth.permissions import (
    GRANTED_TO_NO_ROLE,
    IN_WORDS,
    ROLE_PERMISSIONS,
    Permission,
    access_of,
    route_handlers,
)
from server.auth.principal import ROLES
from server.settings import Settings
from toolkits.registry import Registry

ROOT = Path(__file__).resolve().parents[2]
# Everything that decides who may do what, besides the table itself: the
# transport (API, pages) and the domain steps that check their own
# preconditions.
DECIDING = (ROOT / "server" / "api", ROOT / "server" / "pages", ROOT / "server" / "audits")

# The app is only built, never started: no database is reached.
UNUSED_DATABASE = "postgresql://unused.invalid/maca"


@pytest.fixture(scope="module")
def app(settings: Settings, toolkits: Registry) -> Litestar:
    return create_app(settings, database_url=UNUSED_DATABASE, registry=toolkits)


def undeclared(routes: Iterable[BaseRoute]) -> list[str]:
    """``GET /path (module.function)`` for each handler declaring nothing usable."""
    return [
        f"{method} {route.path} ({handler.handler_name})"
        for method, route, handler in route_handlers(routes)
        if access_of(handler) is None
    ]


def test_every_handler_declares_a_permission(app: Litestar) -> None:
    assert undeclared(app.routes) == [], (
        "declare what these need: opt=needs(Permission.…), needs(SIGNED_IN) or needs(PUBLIC) "
        "(server/auth/permissions.py)"
    )


def test_the_walk_sees_every_kind_of_handler(app: Litestar) -> None:
    paths = {route.path for _method, route, _handler in route_handlers(app.routes)}
    # API, pages, sign-in, the development provider, static files, the OpenAPI document.
    for expected in ("/api/audits", "/your-audits", "/sign-in", "/dev-idp/jwks", "/static/maca/{file_path:path}"):
        assert expected in paths
    assert any(path.startswith("/schema") for path in paths)


def test_an_undeclared_handler_is_named(settings: Settings, toolkits: Registry) -> None:
    @get("/api/forgot-to-declare")
    async def forgot() -> str:
        return ""

    app = create_app(settings, database_url=UNUSED_DATABASE, registry=toolkits)
    app.register(forgot)
    assert undeclared(app.routes) == [f"GET /api/forgot-to-declare ({forgot.handler_name})"]


# --- the table ------------------------------------------------------------------


def test_the_table_names_every_role_and_only_roles() -> None:
    assert set(ROLE_PERMISSIONS) == set(ROLES)


def test_every_permission_is_held_by_some_role_or_by_none_for_a_stated_reason() -> None:
    held = set().union(*ROLE_PERMISSIONS.values())
    unheld = [p for p in Permission if p not in held and p not in GRANTED_TO_NO_ROLE]
    assert unheld == [], "grant these to a role in ROLE_PERMISSIONS, or say in GRANTED_TO_NO_ROLE why no one has them"
    assert [p for p in GRANTED_TO_NO_ROLE if p in held] == [], "held by a role yet listed as held by none"
    assert all(reason.strip() for reason in GRANTED_TO_NO_ROLE.values())


def test_every_permission_is_named_resource_action_and_said_in_words() -> None:
    # An Enum member with another's value would silently become its alias.
    assert len(Permission.__members__) == len(list(Permission))
    for permission in Permission:
        assert re.fullmatch(r"[a-z]+:[a-z-]+", permission.value), permission
        assert IN_WORDS[permission].strip(), permission
    assert set(IN_WORDS) == set(Permission)


def _permissions_named_in(sources: Iterable[Path]) -> set[str]:
    named: set[str] = set()
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Permission":
                named.add(node.attr)
    return named


def test_every_permission_is_declared_or_asked_for_somewhere() -> None:
    """A permission no handler declares and no code asks for grants nothing."""
    sources = [p for p in (ROOT / "server").rglob("*.py") if p != ROOT / "server" / "auth" / "permissions.py"]
    unused = sorted(p.name for p in Permission if p.name not in _permissions_named_in(sources))
    assert unused == []


# --- no role names outside the table ------------------------------------------


def role_mentions(source: str, filename: str) -> list[str]:
    """Where ``source`` decides by role: a role name as a string, a
    ``has_role`` call, or the ``Role`` type. A toolkit section's
    ``completed_by == "coordinator"`` is another thing (which form a
    question is on, from the seed tools) and is not counted."""
    tree = ast.parse(source)
    exempt: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(
            isinstance(side, ast.Attribute) and side.attr == "completed_by" for side in (node.left, *node.comparators)
        ):
            exempt |= {id(side) for side in node.comparators}
            exempt.add(id(node.left))
    found: list[str] = []
    for node in ast.walk(tree):
        where = f"{filename}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Constant) and node.value in ROLES and id(node) not in exempt:
            found.append(f"{where}: the role {node.value!r}")
        elif isinstance(node, ast.Attribute) and node.attr == "has_role":
            found.append(f"{where}: has_role")
        elif isinstance(node, ast.alias) and node.name == "Role":
            found.append(f"{where}: imports Role")
    return found


def test_no_api_page_or_step_module_names_a_role() -> None:
    found = [
        mention
        for folder in DECIDING
        for path in sorted(folder.rglob("*.py"))
        for mention in role_mentions(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    assert found == [], "ask may(principal, Permission.…) instead; roles are mapped to permissions in one table"


def test_a_role_check_is_found() -> None:
    source = """
from server.auth.principal import Role
if principal.has_role("coordinator"):
    pass
START = {"auditor": "/your-audits"}
if section.completed_by == "coordinator":
    pass
"""
    assert sorted(role_mentions(source, "page.py")) == [
        "page.py:2: imports Role",
        "page.py:3: has_role",
        "page.py:3: the role 'coordinator'",
        "page.py:5: the role 'auditor'",
    ]


# --- the README's copy of the table --------------------------------------------

README_ROW = re.compile(r"^\| `([a-z]+:[a-z-]+)` \| (.+?) \|(.*)\|$", re.MULTILINE)
README_ROLES = ("coordinator", "auditor", "reviewer", "admin")


def test_the_readme_table_is_the_table() -> None:
    """README "Signing in" shows who holds what; it says what is true."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = {
        permission: (words, [cell.strip() == "✓" for cell in cells.split("|")])
        for permission, words, cells in README_ROW.findall(readme)
    }
    true = {
        permission.value: (IN_WORDS[permission], [permission in ROLE_PERMISSIONS[role] for role in README_ROLES])
        for permission in Permission
    }
    assert shown == true
    assert set(README_ROLES) == set(ROLES)
