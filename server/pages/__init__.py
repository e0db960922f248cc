"""Server-rendered pages in the GOV.UK Design System, for people who will
not use an API: each user's pages live in their own package
(``auditor/``, ``coordinator/``, ``reviewer/``, ``admin/``); what more than one role
sees is beside them (``common``, ``themes``, ``action_plan``, ``case_details``), with the
rendering every page uses (``rendering``). A page calls a step of
``server.audits``, as the API does, and shapes what it returns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar.static_files import create_static_files_router

from server.auth.permissions import PUBLIC, needs
from server.pages import (
    action_plan,
    admin,
    common,
    concerns,
    dev_mail,
    history,
    learning,
    mail_preferences,
    panel,
    programmes,
    themes,
)
from server.pages.auditor import voice, your_audits
from server.pages.coordinator import audit_details, audits, contributions
from server.pages.reviewer import judgement

route_handlers: list[Any] = [
    *common.route_handlers,
    *themes.route_handlers,
    *action_plan.route_handlers,
    *panel.route_handlers,
    *learning.route_handlers,
    *programmes.route_handlers,
    *history.route_handlers,
    *your_audits.route_handlers,
    *voice.route_handlers,
    *audits.route_handlers,
    *audit_details.route_handlers,
    *contributions.route_handlers,
    *judgement.route_handlers,
    *admin.route_handlers,
    *concerns.route_handlers,
    *dev_mail.route_handlers,
    *mail_preferences.route_handlers,
]

# Maca's own CSS and JavaScript (no inline styles or scripts anywhere).
OWN_STATIC = Path(__file__).resolve().parent.parent / "static"


def static_routers(node_modules: Path) -> list[Any]:
    """GOV.UK Frontend's files from the npm package the Makefile installs
    (``/static/govuk``), its fonts and images where its precompiled CSS
    looks for them (``/assets``), and Maca's own (``/static/maca``)."""
    routers: list[Any] = [
        create_static_files_router(
            path="/static/maca",
            directories=[OWN_STATIC],
            include_in_schema=False,
            name="maca-static",
            opt=needs(PUBLIC),
        )
    ]
    dist = node_modules / "govuk-frontend" / "dist" / "govuk"
    if dist.is_dir():
        routers += [
            create_static_files_router(
                path="/static/govuk",
                directories=[dist],
                include_in_schema=False,
                name="govuk-frontend",
                opt=needs(PUBLIC),
            ),
            create_static_files_router(
                path="/assets",
                directories=[dist / "assets"],
                include_in_schema=False,
                name="govuk-assets",
                opt=needs(PUBLIC),
            ),
        ]
    return routers
