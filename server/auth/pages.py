"""The few server-rendered pages of signing in and out: plain Jinja2
templates under ``server/templates``, escaped by default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from litestar import MediaType, Response

from server.platform.bidi import bdi
from server.platform.log_filter import current_request_id

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
# The id of the request being answered, shown on the sign-in failure page.
_environment.globals["request_id"] = current_request_id
# Names from the identity provider, isolated from the page around them.
_environment.filters["bdi"] = bdi


def render(
    template: str, *, status_code: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> Response[str]:
    html = _environment.get_template(template).render(**context)
    return Response(
        content=html,
        status_code=status_code,
        media_type=MediaType.HTML,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )
