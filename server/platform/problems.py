"""Errors as values at the edge: the domain exceptions Maca raises, and the
one place that turns every error into an RFC 9457 problem response.

Every error body has the same shape::

    {"type": "about:blank", "title": "…", "status": 422, "detail": "…",
     "errors": [{"field": "$.answers.q1.value", "message": "…"}]}

Nothing from inside the server (tracebacks, SQL, exception text that may
carry data) reaches the client or the log.
"""

from __future__ import annotations

import asyncio
import logging
import re
import traceback
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import asyncpg
import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException

from server.db.pool import PoolExhausted

log = logging.getLogger("maca.errors")

PROBLEM_JSON = "application/problem+json"
FHIR_JSON = "application/fhir+json"


class FieldError(msgspec.Struct, frozen=True, kw_only=True):
    field: str  # a JSON path into the request body, or a parameter name
    message: str


class ProblemBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    type: str
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] = []
    allowed: list[str] = []


class Problem(Exception):
    """A request Maca will not carry out, with the reason for the caller."""

    status = 400
    title = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[FieldError] = (),
        headers: Mapping[str, str] | None = None,
        allowed: Sequence[str] = (),
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = list(errors)
        self.headers = dict(headers or {})
        self.allowed = list(allowed)


class Unauthorized(Problem):
    status = 401
    title = "Not signed in"


class Forbidden(Problem):
    status = 403
    title = "Not allowed"


class NotFound(Problem):
    status = 404
    title = "Not found"


class Conflict(Problem):
    status = 409
    title = "Conflict"


class PreconditionFailed(Problem):
    status = 412
    title = "Changed since you read it"


class PayloadTooLarge(Problem):
    status = 413
    title = "Request body too large"


class InvalidInput(Problem):
    status = 422
    title = "Invalid input"


class PreconditionRequired(Problem):
    status = 428
    title = "If-Match required"


class ServiceUnavailable(Problem):
    status = 503
    title = "Service unavailable"


class RequestTimeout(Problem):
    status = 408
    title = "Request body too slow"


class TooManyRequests(Problem):
    status = 429
    title = "Too many requests"


# --- for FHIR clients ------------------------------------------------------------------

# FHIR R4 issue types (http://hl7.org/fhir/issue-type) for each status.
_ISSUE_TYPES: Mapping[int, str] = {
    400: "structure",
    401: "login",
    403: "forbidden",
    404: "not-found",
    408: "timeout",
    409: "conflict",
    412: "conflict",
    413: "too-long",
    415: "not-supported",
    422: "invalid",
    428: "required",
    429: "throttled",
    503: "transient",
}


class OutcomeIssue(msgspec.Struct, frozen=True, kw_only=True):
    """One issue of a FHIR ``OperationOutcome``: what is wrong and, as a
    FHIRPath expression, where."""

    message: str
    expression: str | None = None
    code: str = "invalid"


class FhirProblem(Problem):
    """A refusal for a FHIR client: answered as a FHIR R4 ``OperationOutcome``
    (``application/fhir+json``), as FHIR servers answer, rather than as a
    problem document."""

    def __init__(
        self, status: int, title: str, issues: Sequence[OutcomeIssue], *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(issues[0].message if issues else title, headers=headers)
        self.status = status
        self.title = title
        self.issues = list(issues)


class OutcomeText(msgspec.Struct, frozen=True, kw_only=True):
    text: str


class OutcomeEntry(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    severity: Literal["fatal", "error", "warning", "information"]
    code: str  # http://hl7.org/fhir/issue-type
    details: OutcomeText
    expression: list[str] = []  # FHIRPath of where in the resource


class OperationOutcomeBody(msgspec.Struct, frozen=True, kw_only=True, rename={"resource_type": "resourceType"}):
    """A FHIR R4 ``OperationOutcome`` as Maca writes one (the OpenAPI
    document's schema for a FHIR client's refusals is this)."""

    resource_type: Literal["OperationOutcome"] = "OperationOutcome"
    issue: list[OutcomeEntry]


def operation_outcome(issues: Sequence[OutcomeIssue]) -> dict[str, Any]:
    """``issues`` as an ``OperationOutcome`` resource (a dict ready for JSON)."""
    body = OperationOutcomeBody(
        issue=[
            OutcomeEntry(
                severity="error",
                code=issue.code,
                details=OutcomeText(text=issue.message),
                expression=[issue.expression] if issue.expression is not None else [],
            )
            for issue in issues
        ]
    )
    outcome: dict[str, Any] = msgspec.to_builtins(body)
    return outcome


def as_fhir(problem: Problem, resource_type: str) -> FhirProblem:
    """``problem`` for a FHIR client sending a ``resource_type``: each field
    it names (a JSON path into the body) as a FHIRPath into the resource."""
    if isinstance(problem, FhirProblem):
        return problem
    code = _ISSUE_TYPES.get(problem.status, "processing")
    issues = [
        OutcomeIssue(
            message=error.message,
            expression=resource_type + error.field[1:] if error.field.startswith("$") else None,
            code="required" if "required" in error.message else code,
        )
        for error in problem.errors
    ]
    if problem.detail or not issues:
        issues.insert(0, OutcomeIssue(message=problem.detail or problem.title, code=code))
    return FhirProblem(problem.status, problem.title, issues, headers=problem.headers)


RETRY_AFTER_SECONDS = "5"

# Errors that mean "the database did not finish in time": every pooled
# connection stayed in use for MACA_DB_TIMEOUT_SECONDS (server/db/pool.py),
# PostgreSQL cancelled a statement running past the role's statement_timeout
# or ended a session idle in a transaction past its
# idle_in_transaction_session_timeout (both set by `maca migrate`). The
# request is not done; asked again shortly it may be: 503, not 500.
DATABASE_BUSY: tuple[type[BaseException], ...] = (
    PoolExhausted,
    asyncpg.exceptions.QueryCanceledError,
    asyncpg.exceptions.IdleInTransactionSessionTimeoutError,
    asyncpg.exceptions.TransactionTimeoutError,
)

# Errors that mean "the database is away", not "Maca is broken".
DATABASE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    *DATABASE_BUSY,
    OSError,
    asyncio.TimeoutError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.ConnectionFailureError,
)

# PostgreSQL answers but will not let the application in: a wrong
# MACA_DB_APP_PASSWORD (28P01 is a kind of 28000), a maca_app role that
# `maca migrate` has not created yet or that may not log in, a database that
# does not exist. Maca is not ready; it is not broken: 503, not 500.
LOGIN_REFUSED: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.InvalidAuthorizationSpecificationError,
    asyncpg.exceptions.InvalidCatalogNameError,
)


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    errors: Sequence[FieldError] = (),
    headers: Mapping[str, str] | None = None,
    allowed: Sequence[str] = (),
) -> Response[bytes]:
    body = ProblemBody(
        type="about:blank", title=title, status=status, detail=detail, errors=list(errors), allowed=list(allowed)
    )
    return Response(
        content=msgspec.json.encode(body),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=dict(headers or {}),
    )


def _from_problem(_: Request[Any, Any, Any], exc: Problem) -> Response[bytes]:
    headers = dict(exc.headers)
    if isinstance(exc, ServiceUnavailable):
        headers.setdefault("Retry-After", RETRY_AFTER_SECONDS)
    if isinstance(exc, FhirProblem):
        return Response(
            content=msgspec.json.encode(operation_outcome(exc.issues)),
            status_code=exc.status,
            media_type=FHIR_JSON,
            headers=headers,
        )
    return problem_response(exc.status, exc.title, exc.detail, errors=exc.errors, headers=headers, allowed=exc.allowed)


def _from_validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[bytes]:
    """Litestar's own validation (request body decoding, parameters)."""
    errors: list[FieldError] = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "invalid"))
        field = str(item.get("key") or "")
        # msgspec: "Expected `int`, got `str` - at `$.grade`"
        if " - at `" in message:
            message, _sep, where = message.rpartition(" - at `")
            field = field or where.rstrip("`")
        if item.get("source") == "body" and not field.startswith("$"):
            # Litestar names body fields without msgspec's "$." and calls the
            # body itself "data"; an unknown field is named in the message.
            path = "$" if field in ("", "data") else f"$.{field}"
            unknown = re.match(r"Object contains unknown field `(.+)`$", message)
            field = f"{path}.{unknown.group(1)}" if unknown else path
        errors.append(FieldError(field=field or "body", message=message))
    detail = exc.detail if exc.detail and not exc.detail.startswith("Validation failed for") else None
    if not errors:
        return problem_response(400, "Bad request", detail or "the request could not be read")
    return problem_response(422 if _is_body_shape(errors) else 400, "Invalid input", detail, errors=errors)


def _is_body_shape(errors: list[FieldError]) -> bool:
    return all(error.field.startswith("$") for error in errors)


def _from_http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    headers = dict(exc.headers or {})
    if exc.status_code == 503:
        headers.setdefault("Retry-After", RETRY_AFTER_SECONDS)
    title = {
        401: "Not signed in",
        403: "Not allowed",
        404: "Not found",
        405: "Method not allowed",
        413: "Request body too large",
        415: "Unsupported media type",
        429: "Too many requests",
    }.get(exc.status_code, "Error")
    detail = exc.detail if exc.detail and exc.detail != title else None
    return problem_response(exc.status_code, title, detail, headers=headers)


def _unreadable_body(exc: Exception) -> str | None:
    """Why the request body could not be decoded, when ``exc`` is msgspec
    refusing it with something other than ``DecodeError`` (which Litestar
    turns into a 400 itself): invalid UTF-8, or nesting deeper than the
    decoder recurses."""
    if not isinstance(exc, UnicodeDecodeError | RecursionError):
        return None
    if not any(frame.filename.endswith("msgspec_hooks.py") for frame in traceback.extract_tb(exc.__traceback__)):
        return None
    if isinstance(exc, UnicodeDecodeError):
        return "the request body is not valid UTF-8"
    return "the request body is nested too deeply"


# PostgreSQL's text and jsonb cannot hold U+0000 (NUL): storing one fails,
# and the transaction that tried is rolled back whole.
UNSTORABLE_TEXT: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.CharacterNotInRepertoireError,
    asyncpg.exceptions.UntranslatableCharacterError,
)


# The database's own refusal to change a closed audit (migration 0011):
# a route that forgot to check answers as the ones that check do.
AUDIT_CLOSED_SQLSTATE = "55M01"


def _from_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    if isinstance(exc, asyncpg.PostgresError) and exc.sqlstate == AUDIT_CLOSED_SQLSTATE:
        log.warning("the database refused a change to a closed audit in %s %s", request.method, request.url.path)
        return problem_response(409, "Conflict", "the audit is closed; reopen it to change it", allowed=["open"])
    unreadable = _unreadable_body(exc)
    if unreadable is not None:
        return problem_response(400, "Bad request", unreadable, errors=[FieldError(field="$", message=unreadable)])
    if isinstance(exc, UNSTORABLE_TEXT):
        message = "contains the NUL character (\\u0000), which Maca cannot store"
        return problem_response(
            422, "Invalid input", "a text contains the NUL character", errors=[FieldError(field="$", message=message)]
        )
    if isinstance(exc, LOGIN_REFUSED):
        # PostgreSQL's message names the role and database: the type is
        # enough to act on, and neither answer nor log quotes a setting.
        log.warning(
            "the database refused the application's connection during %s %s (%s); check MACA_DB_APP_PASSWORD, "
            "the database in DATABASE_URL, and that `maca migrate` has run",
            request.method,
            request.url.path,
            type(exc).__name__,
        )
        return problem_response(
            503,
            "Service unavailable",
            "the database refused the application's connection; try again shortly",
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    if isinstance(exc, DATABASE_BUSY):
        log.warning("database busy during %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return problem_response(
            503,
            "Service unavailable",
            "Maca is busy and could not finish this in time; nothing was changed; try again shortly",
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    if isinstance(exc, DATABASE_UNAVAILABLE):
        log.warning("database unavailable during %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return problem_response(
            503,
            "Service unavailable",
            "the database is not answering; try again shortly",
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    # The exception's message can quote data (SQL errors quote values), so
    # the log gets its type and where it happened, never its text.
    frames = traceback.extract_tb(exc.__traceback__)
    where = " <- ".join(f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}" for frame in reversed(frames[-5:]))
    log.error("unhandled %s in %s %s at %s", type(exc).__name__, request.method, request.url.path, where)
    return problem_response(500, "Internal error", "something went wrong on our side; it has been logged")


EXCEPTION_HANDLERS: Mapping[Any, Any] = {
    Problem: _from_problem,
    ValidationException: _from_validation,
    HTTPException: _from_http,
    Exception: _from_unexpected,
}

__all__ = [
    "EXCEPTION_HANDLERS",
    "FHIR_JSON",
    "Conflict",
    "FhirProblem",
    "FieldError",
    "Forbidden",
    "InvalidInput",
    "MediaType",
    "NotFound",
    "OperationOutcomeBody",
    "OutcomeIssue",
    "PayloadTooLarge",
    "PreconditionFailed",
    "PreconditionRequired",
    "Problem",
    "RequestTimeout",
    "ServiceUnavailable",
    "TooManyRequests",
    "Unauthorized",
    "as_fhir",
    "operation_outcome",
    "problem_response",
]
