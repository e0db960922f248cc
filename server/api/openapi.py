"""The OpenAPI document says what Maca really answers when it refuses.

Litestar documents a generic 400 with its own ``{status_code, detail,
extra}`` body on every route with parameters; Maca answers every error
with an RFC 9457 problem document (``server/platform/problems.py``) and uses more
statuses than 400. This rewrites each operation's error responses to the
ones it can give, all ``application/problem+json`` with the ``ProblemBody``
schema generated from :class:`server.platform.problems.ProblemBody`, and names the
bearer-token security scheme on every operation that needs a signed-in
caller. Clients (and the API fuzzing tests, which check every response
against the document) can then rely on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import msgspec
from litestar import Litestar

# Litestar keeps the served document on this plugin; it has no public name.
from litestar._openapi.plugin import OpenAPIPlugin

from server.api.preconditions import IDEMPOTENCY_KEY, IF_MATCH, declared_preconditions
from server.auth.permissions import PUBLIC, Access, declared_access
from server.platform.problems import FHIR_JSON, PROBLEM_JSON, OperationOutcomeBody, ProblemBody

COMPONENTS: Final = "#/components/schemas/{name}"
SECURITY_SCHEME: Final = "bearer"

WHY: Final[dict[int, str]] = {
    400: "A parameter or header could not be read; `errors` names each",
    401: "Not signed in, or the access token was refused (`WWW-Authenticate` says why)",
    403: "Signed in, but without the permission this needs (or a form's CSRF token is missing)",
    404: "No such resource, or not one the caller may see",
    408: "The request body did not arrive within `MACA_BODY_TIMEOUT_SECONDS`; send it again",
    409: "Not allowed in the resource's current state; `allowed` lists what is",
    412: "Changed since the caller read it: `If-Match` does not match the `ETag`",
    413: "The request body is larger than the server accepts",
    415: "The body is not sent as the media type the operation reads (`application/json` unless it says another)",
    422: "The request body (or a query parameter) is not valid; `errors` names each field and what is wrong",
    428: "`If-Match` is required: read the resource first and send its `ETag` back",
    429: "The caller has too many of these in progress; try again after `Retry-After` seconds",
    503: "The database is not answering, or Maca is too busy to finish in time; try again after `Retry-After` seconds",
}

# Routes that answer without the database.
_NO_DATABASE: Final = ("/healthz", "/api/toolkits")
_WRITES: Final = frozenset({"post", "put", "patch", "delete"})
# Reads of work rationed per person (server/reports/pdf.py).
_RATIONED: Final = ("/report.pdf",)


# How each precondition header is documented as a parameter.
HEADERS: Final[dict[str, dict[str, Any]]] = {
    IF_MATCH: {
        "required": True,
        "description": (
            'The ETag of this resource as you last read it, such as "3" (a contribution\'s own, from '
            "GET /api/audits/{audit_id}/contributions/{organisation}; an audit's from GET /api/audits/{audit_id}; "
            "the judgement's from its GET). 428 without it; 412 when it has changed since, naming whose "
            "version was stale."
        ),
        # No "examples" here: schemathesis would then want example-only tests.
        "schema": {"type": "string"},
    },
    IDEMPOTENCY_KEY: {
        "required": False,
        "description": (
            "A key of your choosing (1-200 characters): a retry with the same key and body gets the first "
            "answer again (Idempotent-Replayed: true); the same key with another body is refused (422). "
            "Kept for 24 hours."
        ),
        "schema": {"type": "string", "maxLength": 200},
    },
}


def statuses_for(
    method: str,
    path: str,
    access: Access | None,
    *,
    has_query: bool = False,
    headers: tuple[str, ...] = (),
) -> list[int]:
    """The error statuses an operation can answer; ``access``: what its
    handler declares; ``has_query``: it takes query parameters, whose values
    a handler may refuse (422) after they were read; ``headers``: the
    preconditions it declares (``If-Match``: 412 and 428)."""
    statuses = [400]
    if access is not PUBLIC:
        statuses += [401, 403]
    if "{" in path or path.startswith(("/api/audits", "/api/admin")):
        statuses.append(404)
    if method in _WRITES:
        # 408: the body came too slowly (server/platform/body_first.py);
        # 429: the caller's other writes are still in progress (writes.py).
        statuses += [408, 409, 413, 415, 422, 429]
    if IF_MATCH in headers:
        statuses += [412, 428]
    if IDEMPOTENCY_KEY in headers:
        statuses.append(422)
    if path.endswith(_RATIONED):
        statuses.append(429)
    if has_query:
        statuses.append(422)
    if not path.startswith(_NO_DATABASE):
        statuses.append(503)
    return sorted(set(statuses))


def _problem_response(status: int, problem: dict[str, Any], outcome: dict[str, Any] | None) -> dict[str, Any]:
    content = {PROBLEM_JSON: {"schema": problem}}
    if outcome is not None:
        # A FHIR client's refusals past the sign-in are OperationOutcomes.
        content[FHIR_JSON] = {"schema": outcome}
    response: dict[str, Any] = {"description": WHY[status], "content": content}
    if status in (429, 503):
        response["headers"] = {
            "Retry-After": {"description": "seconds to wait", "schema": {"type": "string"}},
        }
    if status == 401:
        response["headers"] = {"WWW-Authenticate": {"description": "the challenge", "schema": {"type": "string"}}}
    return response


def describe_problems(
    document: dict[str, Any],
    access: Mapping[tuple[str, str], Access | None],
    headers: Mapping[tuple[str, str], tuple[str, ...]] | None = None,
) -> dict[str, Any]:
    """``document`` (an OpenAPI 3.1 document as a dict) with Maca's error
    responses, security scheme and precondition headers; changed in place
    and returned. ``access``, ``headers``: what each (method, path) handler
    declares (:func:`declared_access`, :func:`declared_preconditions`)."""
    (problem, outcome), definitions = msgspec.json.schema_components(
        [ProblemBody, OperationOutcomeBody], ref_template=COMPONENTS
    )
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.update(definitions)
    components.setdefault("securitySchemes", {})[SECURITY_SCHEME] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token from the partnership's OpenID provider",
    }
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status in [s for s in responses if s.startswith(("4", "5"))]:
                del responses[status]  # Litestar's generic 400
            has_query = any(parameter.get("in") == "query" for parameter in operation.get("parameters", []))
            declared = access.get((method.upper(), path))
            needed = (headers or {}).get((method.upper(), path), ())
            for name in needed:
                operation.setdefault("parameters", []).append({"name": name, "in": "header", **HEADERS[name]})
            reads_fhir = FHIR_JSON in operation.get("requestBody", {}).get("content", {})
            for status in statuses_for(method, path, declared, has_query=has_query, headers=needed):
                responses[str(status)] = _problem_response(status, problem, outcome if reads_fhir else None)
            if declared is not PUBLIC:
                operation["security"] = [{SECURITY_SCHEME: []}]
    return document


def install(app: Litestar) -> None:
    """Serve the described document from ``/schema`` (it is built once,
    here, from the routes registered so far)."""
    plugin = app.plugins.get(OpenAPIPlugin)
    describe_problems(plugin.provide_openapi_schema(), declared_access(app.routes), declared_preconditions(app.routes))
