"""Server-rendered pages in the GOV.UK Design System, for people who will
not use an API: each user's pages live in their own module."""

from __future__ import annotations

from typing import Any

from server.web import auditor_pages, common_pages, coordinator_pages, reviewer_pages

route_handlers: list[Any] = [
    *common_pages.route_handlers,
    *auditor_pages.route_handlers,
    *coordinator_pages.route_handlers,
    *reviewer_pages.route_handlers,
]
