"""The JSON API: one controller module per resource. Each handler declares
the permission it needs (``opt=needs(Permission.…)``,
:mod:`server.auth.permissions`); it parses the request, calls one step of
``server.audits`` and shapes the answer."""

from __future__ import annotations

from typing import Any

from server.api import (
    action_plan,
    actions,
    admin_organisations,
    admin_partnership,
    audits,
    concerns,
    contributions,
    exports,
    health,
    judgement,
    learning,
    learning_report,
    organisations,
    panel,
    programmes,
    reports,
    themes,
    toolkits,
    voices,
)

route_handlers: list[Any] = [
    *health.route_handlers,
    *toolkits.route_handlers,
    *audits.route_handlers,
    *programmes.route_handlers,
    *contributions.route_handlers,
    *voices.route_handlers,
    *actions.route_handlers,
    *action_plan.route_handlers,
    *concerns.route_handlers,
    *judgement.route_handlers,
    *panel.route_handlers,
    *learning.route_handlers,
    *learning_report.route_handlers,
    *organisations.route_handlers,
    *themes.route_handlers,
    *reports.route_handlers,
    *exports.route_handlers,
    *admin_organisations.route_handlers,
    *admin_partnership.route_handlers,
]
