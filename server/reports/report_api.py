"""Placeholder: filled in by the partnership review work (issue 8)."""

from __future__ import annotations

from typing import Any

route_handlers: list[Any] = []
