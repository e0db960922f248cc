"""Placeholder: filled in by the web pages work (issue 7)."""

from __future__ import annotations

from typing import Any

route_handlers: list[Any] = []
