"""The partnership's review across audits: themes, the combined audit
report, and exports for analysts."""

from __future__ import annotations

from typing import Any

from server.reports import exports_api, report_api, themes_api

route_handlers: list[Any] = [
    *themes_api.route_handlers,
    *report_api.route_handlers,
    *exports_api.route_handlers,
]
