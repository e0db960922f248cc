"""A request body, checked before its handler sees it: the media type it is
sent as, whether it is JSON at all, and every problem with its shape at once.

Litestar would decode any body as JSON whatever its ``Content-Type`` (a
``text/plain`` body was taken, XML got "JSON is malformed: invalid character
(byte 0)"), and converts the JSON to the handler's type leniently (``"2"``
became the grade 2 in one place and was refused in another), stopping at the
first problem, which msgspec names by position (``$.answers[...]``) rather
than by key. :func:`check_request_body` runs before every handler that takes
a JSON body (``before_request``):

- **415** unless the body is sent as the media type its handler reads:
  ``application/json``, or the one it declares instead
  (``application/merge-patch+json``, ``application/fhir+json``), in UTF-8;
- **400** "The request body is not JSON", saying where and what, for a
  person: "it ends too soon (cut off?)", "unexpected character at byte 12";
- **422** naming every field that is wrong, each by its real key
  (``$.case_details.answers.age``), checked strictly (a grade is a number,
  never the text ``"2"``), in words (``must be a whole number, not text``).

A body that passes is exactly one Litestar's lenient conversion gives the
same value for, so handlers keep their typed ``data`` (and the OpenAPI
document its schema); the JSON decoded here is handed on to Litestar, so
the body is decoded once.

:func:`merge_patch` is RFC 7396's algorithm, for the routes that take a JSON
Merge Patch.
"""

from __future__ import annotations

import enum
import re
import types
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Final, Literal, Union, get_args, get_origin

import msgspec
from litestar import Request
from litestar.handlers import HTTPRouteHandler
from litestar.params import BodyKwarg
from litestar.utils.scope.state import ScopeState

from server.platform.problems import FHIR_JSON, FieldError, InvalidInput, Problem, as_fhir

__all__ = [
    "FHIR_JSON",
    "JSON",
    "MERGE_PATCH_JSON",
    "NotJson",
    "UnsupportedMediaType",
    "body_problems",
    "check_request_body",
    "decode_json",
    "field_path",
    "media_type_of",
    "merge_patch",
]

JSON: Final = "application/json"
MERGE_PATCH_JSON: Final = "application/merge-patch+json"


class UnsupportedMediaType(Problem):
    status = 415
    title = "Unsupported media type"


class NotJson(Problem):
    status = 400
    title = "The request body is not JSON"


# --- media types -------------------------------------------------------------------------


def media_type_of(content_type: str | None) -> tuple[str, dict[str, str]]:
    """``Content-Type``'s media type (lower case) and its parameters."""
    if not content_type:
        return "", {}
    kind, *parameters = content_type.split(";")
    values: dict[str, str] = {}
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        values[name.strip().lower()] = value.strip().strip('"').lower()
    return kind.strip().lower(), values


def _check_media_type(request: Request[Any, Any, Any], accepted: str) -> None:
    kind, parameters = media_type_of(request.headers.get("content-type"))
    sent = f"it was sent as {kind}" if kind else "it was sent with no Content-Type"
    if kind != accepted:
        headers = {"Accept-Patch": accepted} if request.method == "PATCH" else {}
        raise UnsupportedMediaType(f"send the body as JSON with Content-Type: {accepted}; {sent}", headers=headers)
    charset = parameters.get("charset")
    if charset is not None and charset.replace("-", "") != "utf8":
        raise UnsupportedMediaType(f"send the body in UTF-8 (charset={charset} is not read)")


# --- JSON --------------------------------------------------------------------------------

_AT_BYTE = re.compile(r"\(byte (\d+)\)")


def decode_json(body: bytes) -> Any:
    """``body`` as JSON, or :class:`NotJson` saying what is wrong in words."""
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError as error:
        raise NotJson(_why_not_json(str(error), body)) from None
    except UnicodeDecodeError:
        raise NotJson("the request body is not valid UTF-8") from None
    except RecursionError:
        raise NotJson("the request body is nested too deeply") from None


def _why_not_json(message: str, body: bytes) -> str:
    if not body.strip():
        return "the request body is empty: send a JSON object"
    if message == "Input data was truncated":
        return "the JSON ends too soon: a bracket, brace or quote is not closed (was it cut off?)"
    where = _AT_BYTE.search(message)
    if where is not None:
        position = int(where.group(1))
        found = body[position : position + 1]
        if not found:
            return "the JSON ends too soon: a bracket, brace or quote is not closed (was it cut off?)"
        character = found.decode("ascii", "replace")
        shown = repr(character) if character.isprintable() and character.strip() else f"byte {found[0]:#04x}"
        if position == 0 and body.lstrip()[:1] == b"<":
            return "this looks like XML or HTML; send JSON"
        if message.startswith("JSON is malformed: trailing characters"):
            return "there is more after the JSON value: send one JSON object"
        return f"unexpected {shown} at byte {position}: the JSON is not well formed there"
    return "the JSON is not well formed"


# --- shapes ------------------------------------------------------------------------------

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NONE_TYPE = type(None)


def field_path(parent: str, key: str | int) -> str:
    """A JSON path to ``parent``'s ``key``: ``$.answers.age``, ``$.items[2]``,
    ``$.answers["odd key"]``."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if _IDENTIFIER.fullmatch(key):
        return f"{parent}.{key}"
    return f"{parent}[{msgspec.json.encode(key).decode()}]"


def body_problems(value: Any, annotation: Any) -> list[FieldError]:
    """Every way ``value`` (decoded JSON) fails to be an ``annotation``,
    strictly, each named by its path from the body (``$``) with real keys;
    empty when it converts."""
    return list(_problems(value, annotation, "$"))


def _problems(value: Any, annotation: Any, path: str) -> Iterator[FieldError]:
    try:
        msgspec.convert(value, annotation, strict=True)
        return
    except msgspec.ValidationError as error:
        failure = error
    inner = _unannotated(annotation)
    found = list(_inside(value, inner, path))
    if found:
        yield from found
        return
    message, _, below = str(failure).partition(" - at `")
    where = path + below.rstrip("`")[1:] if below else path
    yield FieldError(field=where, message=_plain(message, annotation))


def _inside(value: Any, annotation: Any, path: str) -> Iterator[FieldError]:
    """The problems inside a container ``value`` of the right kind, each where
    it is; nothing when the container itself is the problem."""
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct) and isinstance(value, dict):
        yield from _struct_problems(value, annotation, path)
        return
    origin = get_origin(annotation)
    arguments = get_args(annotation)
    if origin is dict and isinstance(value, dict):
        for key, item in value.items():
            yield from _problems(item, arguments[1], field_path(path, key))
    elif origin in (list, tuple) and isinstance(value, list):
        element = arguments[0] if arguments else Any
        if origin is tuple and (len(arguments) != 2 or arguments[1] is not Ellipsis):
            return  # a fixed-length tuple: refused whole
        for index, item in enumerate(value):
            yield from _problems(item, element, field_path(path, index))
    elif origin in (Union, types.UnionType):
        members = [m for m in arguments if m is not _NONE_TYPE and not _is_unset(m)]
        if len(members) == 1 and value is not None:
            yield from _inside(value, _unannotated(members[0]), path)


def _struct_problems(value: dict[str, Any], struct: type[msgspec.Struct], path: str) -> Iterator[FieldError]:
    fields = msgspec.structs.fields(struct)
    names = {field.encode_name for field in fields}
    if struct.__struct_config__.forbid_unknown_fields:
        for key in value:
            if key not in names:
                yield FieldError(
                    field=field_path(path, key),
                    message=f"unknown field; the fields here are {', '.join(sorted(names))}",
                )
    for field in fields:
        if field.encode_name in value:
            yield from _problems(value[field.encode_name], field.type, field_path(path, field.encode_name))
        elif field.required:
            yield FieldError(field=field_path(path, field.encode_name), message="is required")


def _is_unset(annotation: Any) -> bool:
    return annotation is msgspec.UnsetType


def _unannotated(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


_KIND: Final = {
    "int": "a whole number",
    "float": "a number",
    "str": "text",
    "bool": "true or false",
    "null": "null",
    "object": "an object",
    "array": "a list",
}


def _kind(words: str) -> str:
    return " or ".join(_KIND.get(part.strip(), part.strip()) for part in words.split("|"))


def _choices(annotation: Any) -> list[str]:
    inner = _unannotated(annotation)
    if get_origin(inner) is Literal:
        return [str(choice) for choice in get_args(inner)]
    if isinstance(inner, type) and issubclass(inner, enum.Enum):
        return [str(member.value) for member in inner]
    if get_origin(inner) in (Union, types.UnionType):
        return [choice for member in get_args(inner) for choice in _choices(member)]
    return []


_EXPECTED = re.compile(r"Expected `([^`]+)`, got `([^`]+)`$")
_BOUND = re.compile(r"Expected `([^`]+)` (<=|>=|<|>) (\S+)$")
_LENGTH = re.compile(r"Expected `(str|array|object)` of length (<=|>=) (\d+)$")
_WORDS = {"<=": "at most", ">=": "at least", "<": "below", ">": "above"}
_FORMATS: Final = {
    "Invalid RFC3339 encoded date": "must be a date, YYYY-MM-DD",
    "Invalid RFC3339 encoded datetime": "must be a date and time, RFC 3339 (2025-03-01T09:30:00Z)",
    "Invalid UUID": "must be an id (a UUID)",
}


def _plain(message: str, annotation: Any) -> str:
    """msgspec's message, said the way a person reads it."""
    if message in _FORMATS:
        return _FORMATS[message]
    if message.startswith("Invalid enum value"):
        choices = _choices(annotation)
        return f"must be one of: {', '.join(choices)}" if choices else "is not one of the values allowed"
    expected = _EXPECTED.match(message)
    if expected:
        return f"must be {_kind(expected.group(1))}, not {_kind(expected.group(2))}"
    length = _LENGTH.match(message)
    if length:
        what, bound, number = length.groups()
        if bound == ">=" and number == "1":
            return "must not be empty"
        unit = {"str": "characters", "array": "items", "object": "fields"}[what]
        return f"must have {_WORDS[bound]} {number} {unit}"
    bound_match = _BOUND.match(message)
    if bound_match:
        return f"must be {_WORDS[bound_match.group(2)]} {bound_match.group(3)}"
    if message.startswith("Object missing required field"):
        field = message.rsplit("`", 2)[-2] if message.count("`") >= 2 else "a field"
        return f"the field {field} is required"
    if message.startswith("Object contains unknown field"):
        return message.replace("Object contains unknown field", "unknown field")
    return message


# --- the hook ----------------------------------------------------------------------------


class _BodySpec(msgspec.Struct, frozen=True):
    media_type: str
    annotation: Any
    optional: bool


_SPECS: dict[str, _BodySpec | None] = {}


def _spec_of(handler: HTTPRouteHandler) -> _BodySpec | None:
    """What body ``handler`` reads, if JSON: its media type and type."""
    key = handler.handler_id
    if key not in _SPECS:
        _SPECS[key] = _read_spec(handler)
    return _SPECS[key]


def _read_spec(handler: HTTPRouteHandler) -> _BodySpec | None:
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return None
    declared = data.kwarg_definition.media_type if isinstance(data.kwarg_definition, BodyKwarg) else JSON
    media_type = str(getattr(declared, "value", declared))
    kind, _ = media_type_of(media_type)
    if kind != JSON and not kind.endswith("+json"):
        return None  # forms are the pages' own (CSRF-checked) business
    annotation = data.annotation
    optional = get_origin(annotation) in (Union, types.UnionType) and _NONE_TYPE in get_args(annotation)
    return _BodySpec(kind, annotation, optional)


async def check_request_body(request: Request[Any, Any, Any]) -> None:
    """Refuse a body its handler could not read as it means (``before_request``
    of the whole application): its media type, its JSON, its shape."""
    handler = request.route_handler
    if not isinstance(handler, HTTPRouteHandler):
        return
    spec = _spec_of(handler)
    if spec is None:
        return
    body = await request.body()
    if not body.strip():
        if spec.optional:
            return
        raise NotJson("the request body is empty: send a JSON object")
    try:
        _check_media_type(request, spec.media_type)
        value = decode_json(body)
        problems = body_problems(value, spec.annotation)
        if problems:
            raise InvalidInput(errors=problems)
        # Decoded once: Litestar's request.json() takes it from the
        # connection's state instead of decoding the body again (56 µs of
        # a 12 KB draft's 108).
        ScopeState.from_scope(request.scope).json = value
    except Problem as problem:
        if spec.media_type != FHIR_JSON:
            raise
        # A FHIR client is answered in FHIR: an OperationOutcome.
        raise as_fhir(problem, _resource_type(spec.annotation)) from None


def _resource_type(annotation: Any) -> str:
    """The FHIR resource a body type reads (its ``resourceType``'s one value)."""
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        for field in msgspec.structs.fields(annotation):
            if field.encode_name == "resourceType" and get_origin(field.type) is Literal:
                return str(get_args(field.type)[0])
    return "Resource"


# --- RFC 7396 ----------------------------------------------------------------------------


def merge_patch(target: Any, patch: Any) -> Any:
    """``target`` with the JSON Merge Patch ``patch`` applied (RFC 7396 §2):
    an object merges key by key, ``null`` removes a key, anything else
    replaces what was there (arrays whole). Neither argument is changed."""
    if not isinstance(patch, Mapping):
        return patch
    merged: dict[str, Any] = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged
