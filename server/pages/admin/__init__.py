"""The partnership's administrator's pages: its home (where the
partnership stands, what to do on day one), the register of organisations
and agencies' systems, the partnership's settings and trail, its
toolkits, and its learning themes. They import no other role's pages."""

from __future__ import annotations

from typing import Any

from server.pages.admin import learning_themes, notifications, organisations, partnership, toolkits

route_handlers: list[Any] = [
    *partnership.route_handlers,
    *organisations.route_handlers,
    *toolkits.route_handlers,
    *learning_themes.route_handlers,
    *notifications.route_handlers,
]
