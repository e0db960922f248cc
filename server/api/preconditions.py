"""The request headers a write needs, declared beside its permission so the
OpenAPI document and the README can say them (a client learnt that a status
change needs ``If-Match`` from a 428).

- ``If-Match``: the ``ETag`` of the resource as the client last read it —
  required (428 without it, 412 when it has changed since, naming whose
  version was stale);
- ``Idempotency-Key``: optional on a ``POST`` that is not safe to repeat —
  a retry with the same key and body gets the first answer again.

A handler declares them with its permission::

    @post("/{audit_id:uuid}/status", opt=needs(Permission.AUDIT_MOVE) | preconditions(IF_MATCH, IDEMPOTENCY_KEY))

``tests/architecture`` keeps the declarations true to what handlers read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from litestar.routes import BaseRoute

from server.auth.permissions import route_handlers

__all__ = ["IDEMPOTENCY_KEY", "IF_MATCH", "declared_preconditions", "preconditions"]

IF_MATCH: Final = "If-Match"
IDEMPOTENCY_KEY: Final = "Idempotency-Key"
_KEY: Final = "preconditions"


def preconditions(*headers: str) -> dict[str, Any]:
    """A handler's ``opt`` entry naming the headers it reads."""
    unknown = set(headers) - {IF_MATCH, IDEMPOTENCY_KEY}
    if unknown:
        raise ValueError(f"not a precondition header: {', '.join(sorted(unknown))}")
    return {_KEY: tuple(headers)}


def declared_preconditions(routes: Iterable[BaseRoute]) -> dict[tuple[str, str], tuple[str, ...]]:
    """(method, path as OpenAPI writes it) → the headers its handler declares."""
    return {
        (method, route.path_format): tuple(handler.opt.get(_KEY, ()))
        for method, route, handler in route_handlers(routes)
    }
