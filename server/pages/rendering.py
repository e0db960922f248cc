"""Rendering Maca's web pages in the GOV.UK Design System.

How to write a page (for every page module: ``auditor/``, ``coordinator/``,
``reviewer/``, and beside them what more than one role sees — ``common``,
``themes``):

1. **A controller** subclasses :class:`PageController` (no OpenAPI entry;
   errors answered as HTML pages: a signed-out visitor is sent to
   ``/sign-in?next=…``, a 403/404/409 gets a GOV.UK error page, never JSON).
   Every route declares the permission it needs
   (``@get("/", cache=False, opt=needs(Permission.AUDIT_CREATE))``, see
   ``server/auth/permissions.py``); the app's guard refuses anyone without
   it, so the handler does not check roles again. To show or hide a form,
   ask ``may(principal, Permission.…)``, never a role: roles are mapped to
   permissions in one table. List the controller in the module's
   ``route_handlers``. A role's pages never import another role's, nor
   ``server.api``: what two roles share goes in ``server/pages/common.py``.

2. **A GET** calls one read step of ``server.audits`` inside
   ``unit_of_work`` — the same step the API calls, which decides what this
   person may see and records the read — and renders a template under
   ``server/templates/web/``::

       async with unit_of_work(state, principal) as connection:
           found, total = await audits.list_audits(connection, principal, state.toolkits, limit=20, offset=0)
       return render_page(request, "web/coordinator/audits.html", title="Audits", audits=found)

   A page never imports ``server.db`` and never records an event: both are
   the step's (``make lint`` and ``tests/architecture`` check it). Show a
   grade with :func:`grade_label` (``"Good (2)"``, also a template global)
   and an audit by ``server.audits.views.audit_reference`` (the reads give it
   as ``reference``), never a format of your own.
   :func:`render_page` adds what every page needs: ``principal`` (who is
   signed in), ``csrf_token``, ``navigation`` (service navigation for the
   person's roles), ``notice`` (a one-off success message, see 4) and
   ``current_path``; it answers ``Cache-Control: no-store``. Templates
   ``{% extends "web/base.html" %}``, set ``{% block pageTitle %}`` and fill
   ``{% block content %}`` (a ``title`` in the context makes the <title>);
   import the GOV.UK macros by their package path, e.g. ``{% from
   "govuk_frontend_jinja/components/radios/macro.html" import govukRadios
   %}``, and ours *with context* (they read ``csrf_token``): ``{% from
   "web/common/forms.html" import csrf_field, version_field with context
   %}``. The base template already shows the error summary (``errors``) and
   the success banner (``notice``) above your content.
   Autoescape is on; never mark user input ``| safe``.

3. **A form** is ``<form method="post" novalidate>`` with ``{{ csrf_field() }}``
   (the auth middleware refuses a POST without the session's token). Read it
   with ``form = await read_form(request)`` — a :class:`Form`:
   ``form.text("name")``, ``form.values`` (to re-render what the person
   typed), ``form.int_field("row_version")``. Collect problems in a
   :class:`FormErrors` (``errors.add("field-id", "Enter …")``: the id must be
   the input's ``id``, so the error summary links to it), and when there are
   some re-render the same template with ``errors=errors, values=form.values``
   and ``status_code=422``; pass ``errors.message_for("field-id")`` as the
   macro's ``errorMessage``. To show every problem at once, call the step's
   pure ``…_problems`` function (``contributions.save_problems``,
   ``audits.status_change_problems``); :func:`field_problems_to_errors`
   turns its ``FieldProblem``s (``$.answers.q1.value``) into field ids with
   a mapping you give. Then call the write step inside ``unit_of_work``: it
   checks everything again (who may, the state, the version, the content)
   and records the event, so a page cannot do what the API would refuse.
   Catch the step's problems you can show on the form (``InvalidInput``,
   ``Conflict``, ``PreconditionFailed``); let the others become error
   pages. Never call our own API over HTTP.

4. **After a successful POST**, redirect (POST-redirect-GET)::

       return redirect_with_notice("/audits/…", "Audit created")

   The next page shows the message in a GOV.UK success notification banner
   (a short-lived cookie carries it; the text is escaped, keep personal data
   out of it).

5. **Concurrency**: put the row version you rendered from in a hidden field
   (``{{ version_field(contribution.row_version) }}``, name ``row_version``)
   and give it to the step as ``seen_version``: if someone changed the row
   meanwhile the step raises ``PreconditionFailed``; re-render with
   ``errors.add(..., STALE_MESSAGE)`` — never overwrite silently.

Tests: ``tests/web/conftest.py`` has fixtures for an in-process client signed
in by session (``page_client``) and for a real browser against a running
``maca serve`` (``live_server``, ``signed_in_page``); see its docstring.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, unquote, urlsplit

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, select_autoescape
from litestar import Controller, MediaType, Request, Response
from litestar.datastructures import FormMultiDict
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect
from markupsafe import Markup

from server.audits.notifications import audit_reference as mail_reference
from server.auth.middleware import CSRF_FIELD
from server.auth.permissions import Permission, may
from server.auth.principal import Principal
from server.pages.markup_cache import question_markup
from server.platform.bidi import bdi, bdi_lines, isolated
from server.platform.log_filter import current_request_id
from server.platform.problems import DATABASE_UNAVAILABLE, EXCEPTION_HANDLERS, LOGIN_REFUSED, Problem, Unauthorized
from server.reports.dates import date_text, datetime_text
from server.reports.wording import agreed_when, plain, plain_trace
from toolkits.model import Grade

log = logging.getLogger("maca.web")

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
NOTICE_COOKIE: Final = "maca_notice"
NOTICE_MAX_CHARS: Final = 200
VERSION_FIELD: Final = "row_version"
STALE_MESSAGE: Final = (
    "Someone else saved a change to this since you opened it. Check the answers below: "
    "if you save again, your answers will replace theirs"
)

environment = Environment(
    loader=ChoiceLoader(
        [
            FileSystemLoader(TEMPLATES),
            # The macros import each other as "govuk_frontend_jinja/…".
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja", "templates")}),
        ]
    ),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
    # Templates ship with the code and change only with a restart; checking
    # every template file's time on every render (the GOV.UK macros import
    # each other inside each macro call) cost a tenth of a section page.
    auto_reload=False,
    # The GOV.UK macros test optional parameters by reading them, so a
    # missing key must be falsy rather than an error.
)


# --- navigation ----------------------------------------------------------------

# Where a person starts, and the service navigation they see: each page by
# the permission its route declares, so a link shows exactly when its page
# would let the person in. A person with several roles starts at the first
# start page they may open and sees every link they may follow.
START_PAGES: Final[tuple[tuple[Permission, str], ...]] = (
    (Permission.PARTNERSHIP_OVERSEE, "/audits"),
    (Permission.CONTRIBUTION_WRITE, "/your-audits"),
    (Permission.PARTNERSHIP_ADMINISTER, "/admin"),
)
NAVIGATION: Final[tuple[tuple[Permission, str, str], ...]] = (
    (Permission.PARTNERSHIP_OVERSEE, "Audits", "/audits"),
    (Permission.AUDIT_CREATE, "Create an audit", "/audits/new"),
    (Permission.PROGRAMME_READ, "Programmes", "/programmes"),
    (Permission.CONCERN_READ, "Concerns", "/concerns"),
    (Permission.PARTNERSHIP_OVERSEE, "Themes dashboard", "/reports/themes"),
    (Permission.CONTRIBUTION_WRITE, "Your audits", "/your-audits"),
    # The same page: the whole plan for those who oversee the partnership,
    # an agency's own actions for its auditors (the first entry wins).
    (Permission.PARTNERSHIP_OVERSEE, "Action plan", "/actions"),
    (Permission.ACTION_READ, "Your actions", "/actions"),
    (Permission.PARTNERSHIP_OVERSEE, "Learning", "/learning"),
    (Permission.PARTNERSHIP_ADMINISTER, "Administration", "/admin"),
    (Permission.ORGANISATION_ADMINISTER, "Organisations", "/admin/organisations"),
    (Permission.TOOLKIT_ADMINISTER, "Toolkits", "/admin/toolkits"),
    (Permission.PARTNERSHIP_ADMINISTER, "Learning themes", "/admin/learning-themes"),
)


def start_page(principal: Principal) -> str:
    for permission, path in START_PAGES:
        if may(principal, permission):
            return path
    return "/account"


def navigation_for(principal: Principal | None, current_path: str) -> list[dict[str, Any]]:
    """Service navigation items (``govukServiceNavigation``'s ``navigation``)."""
    if principal is None:
        return []
    seen: dict[str, str] = {}
    for permission, text, href in NAVIGATION:
        if may(principal, permission):
            seen.setdefault(href, text)
    items: list[dict[str, Any]] = []
    for href, text in seen.items():
        # The deepest matching link is the current section of the service.
        items.append({"href": href, "text": text})
    best = max(
        (item for item in items if current_path == item["href"] or current_path.startswith(item["href"] + "/")),
        key=lambda item: len(item["href"]),
        default=None,
    )
    if best is not None:
        best["active"] = True
        best["current"] = current_path == best["href"]
    return items


# --- form errors -----------------------------------------------------------------


@dataclass
class FormErrors:
    """Problems with a submitted form, in the order they are shown; each
    names the id of the input it is about (the error summary links there)."""

    messages: dict[str, str] = field(default_factory=dict)

    def add(self, field_id: str, message: str) -> None:
        # The first problem with a field is the one to fix first.
        self.messages.setdefault(field_id, message)

    def __bool__(self) -> bool:
        return bool(self.messages)

    def __contains__(self, field_id: object) -> bool:
        return field_id in self.messages

    def message_for(self, field_id: str) -> dict[str, str] | None:
        """The ``errorMessage`` parameter of a GOV.UK macro (None: no error)."""
        message = self.messages.get(field_id)
        return None if message is None else {"text": message}

    def summary(self) -> list[dict[str, str]]:
        """The ``errorList`` of ``govukErrorSummary``."""
        # An id links to the field on this page; a path ("/…#id") to a
        # field on another page (the check-your-answers page's problems).
        return [
            {"text": message, "href": field_id if field_id.startswith("/") else f"#{field_id}"}
            for field_id, message in self.messages.items()
        ]


def field_problems_to_errors(
    problems: Iterable[Any], field_id: Mapping[str, str] | None = None, *, default: str | None = None
) -> FormErrors:
    """``FieldProblem``s from ``toolkits.validation`` as form errors: each
    problem's JSON path is looked up in ``field_id`` (path → input id);
    unmapped paths go to ``default`` (or an id made from the path)."""
    errors = FormErrors()
    for problem in problems:
        path: str = problem.field
        target = (field_id or {}).get(path) or default or path_to_id(path)
        errors.add(target, problem.message[:1].upper() + problem.message[1:])
    return errors


def path_to_id(path: str) -> str:
    """``$.answers.q1.value`` → ``answers-q1-value``: a valid HTML id."""
    cleaned = path.removeprefix("$.").replace("[", ".").replace("]", "")
    return "-".join(part for part in cleaned.split(".") if part)


# --- forms ----------------------------------------------------------------------


@dataclass
class Form:
    """A submitted HTML form (application/x-www-form-urlencoded)."""

    data: FormMultiDict

    @property
    def values(self) -> dict[str, Any]:
        """What the person typed, to put back into the inputs: one string
        per field, a list for fields given more than once (checkboxes)."""
        out: dict[str, Any] = {}
        for name in self.data:
            if name == CSRF_FIELD:
                continue
            every = [v for v in self.data.getall(name) if isinstance(v, str)]
            out[name] = every if len(every) > 1 else (every[0] if every else "")
        return out

    def text(self, name: str) -> str:
        value = self.data.get(name)
        return value.strip() if isinstance(value, str) else ""

    def raw(self, name: str) -> str:
        value = self.data.get(name)
        return value if isinstance(value, str) else ""

    def all(self, name: str) -> list[str]:
        return [v for v in self.data.getall(name) if isinstance(v, str)] if name in self.data else []

    def int_field(self, name: str) -> int | None:
        text = self.text(name)
        return int(text) if text.isdigit() and len(text) < 12 else None


async def read_form(request: Request[Any, Any, Any]) -> Form:
    return Form(await request.form())


# --- responses --------------------------------------------------------------------


def _principal(request: Request[Any, Any, Any]) -> Principal | None:
    user = request.scope.get("user")
    return user if isinstance(user, Principal) else None


def csrf_token(request: Request[Any, Any, Any]) -> str:
    token = request.scope.get("state", {}).get(CSRF_FIELD, "")
    return token if isinstance(token, str) else ""


def render_page(
    request: Request[Any, Any, Any],
    template: str,
    *,
    status_code: int = 200,
    errors: FormErrors | None = None,
    **context: Any,
) -> Response[str]:
    """The page ``template`` rendered for the person making ``request``."""
    principal = _principal(request)
    notice = request.cookies.get(NOTICE_COOKIE)
    html = environment.get_template(template).render(
        principal=principal,
        csrf_token=csrf_token(request),
        navigation=navigation_for(principal, request.url.path),
        current_path=request.url.path,
        notice=unquote(notice)[:NOTICE_MAX_CHARS] if notice else None,
        errors=errors or FormErrors(),
        **context,
    )
    response: Response[str] = Response(
        content=html,
        status_code=status_code,
        media_type=MediaType.HTML,
        headers={"Cache-Control": "no-store"},
    )
    if notice:
        response.delete_cookie(NOTICE_COOKIE, path="/")
    return response


def redirect(location: str) -> Response[Any]:
    """303 See Other: after a POST, the browser GETs ``location``."""
    response: Response[Any] = Redirect(location, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


def redirect_with_notice(location: str, notice: str) -> Response[Any]:
    """Redirect and show ``notice`` in a success banner on the next page."""
    response = redirect(location)
    response.set_cookie(
        NOTICE_COOKIE,
        quote(notice[:NOTICE_MAX_CHARS], safe=""),
        path="/",
        max_age=120,
        httponly=True,
        samesite="lax",
    )
    return response


# --- errors as pages ------------------------------------------------------------

_ERROR_TITLES: Final[dict[int, str]] = {
    400: "There is a problem with your request",
    403: "You cannot do this",
    404: "Page not found",
    405: "You cannot do this",
    409: "This cannot be done now",
    412: "Someone else changed this",
    413: "What you sent is too large",
    422: "There is a problem with what you sent",
    503: "Sorry, the service is unavailable",
}


def error_page(request: Request[Any, Any, Any], status: int, detail: str | None) -> Response[str]:
    title = _ERROR_TITLES.get(status, "Sorry, there is a problem with the service")
    return render_page(request, "web/common/error.html", status_code=status, title=title, detail=detail)


def sign_in_redirect(request: Request[Any, Any, Any]) -> Response[Any]:
    """Send a signed-out visitor to sign in and back to where they were
    going (for a form post: to the page the form was on)."""
    if request.method == "GET":
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        # A form's address answers POST only; come back to the page it was on.
        referer = urlsplit(request.headers.get("referer", ""))
        here = referer.path if referer.netloc == request.url.netloc and referer.path.startswith("/") else "/"
    return redirect(f"/sign-in?next={quote(here, safe='')}")


def from_a_browser(request: Request[Any, Any, Any]) -> bool:
    """A person's browser (a page visit or a form post), not a script: a
    script asking a page's address without a session still gets the API's
    401, so the route table's promises hold for every caller."""
    return "text/html" in request.headers.get("accept", "") or request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    )


def _from_problem(request: Request[Any, Any, Any], exc: Problem) -> Response[Any]:
    if isinstance(exc, Unauthorized):
        return sign_in_redirect(request) if from_a_browser(request) else problem_handler(request, exc)
    page = error_page(request, exc.status, exc.detail)
    page.headers.update(exc.headers)  # Retry-After (429, 503), Connection: close (408)
    return page


def _from_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if exc.status_code == 401 and from_a_browser(request):
        return sign_in_redirect(request)
    return error_page(request, exc.status_code, None)


def _from_validation(request: Request[Any, Any, Any], _: ValidationException) -> Response[Any]:
    # A path parameter or query Litestar could not read: a mistyped address.
    return error_page(request, 404, None)


def _from_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, (*DATABASE_UNAVAILABLE, *LOGIN_REFUSED)):
        log.warning("database unavailable during %s %s: %s", request.method, request.url.path, type(exc).__name__)
        response = error_page(request, 503, "Try again in a few minutes.")
        response.headers["Retry-After"] = "5"
        return response
    # Like server/platform/problems.py: the type and where, never the message (it
    # can quote answers).
    frames = traceback.extract_tb(exc.__traceback__)
    where = " <- ".join(f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}" for frame in reversed(frames[-5:]))
    log.error("unhandled %s in %s %s at %s", type(exc).__name__, request.method, request.url.path, where)
    return error_page(request, 500, "Try again later. What you entered on this page may not have been saved.")


problem_handler = EXCEPTION_HANDLERS[Problem]

PAGE_EXCEPTION_HANDLERS: Final[Mapping[Any, Any]] = {
    Problem: _from_problem,
    ValidationException: _from_validation,
    HTTPException: _from_http,
    Exception: _from_unexpected,
}


class PageController(Controller):
    """Base of every web page controller: HTML errors, no OpenAPI entry."""

    include_in_schema = False
    exception_handlers = dict(PAGE_EXCEPTION_HANDLERS)  # noqa: RUF012 - Litestar's declaration style


NOT_GRADED: Final = "Not graded"
NOT_GIVEN: Final = "Not given"


def grade_label(grades: Sequence[Grade], value: object, *, missing: str = NOT_GRADED) -> str:
    """``2`` → ``"Good (2)"``: the toolkit's label and the number, so colour
    is never the only signal. Every page shows a grade by this one rule
    (``grades`` is ``toolkit.scale.grades``; templates call it too). No grade
    is ``missing``: "Not graded" for the partnership's judgement, "Not
    given" where a person has yet to give one. A value not on the scale
    (never stored: validation allows 1 to 4) is shown as it is, not hidden."""
    if value is None:
        return missing
    for grade in grades:
        if grade.value == value:
            return f"{grade.label} ({grade.value})"
    return str(value)


def lines_html(text: str | None) -> Markup:
    """Text with its line breaks kept (each line escaped, and isolated as
    ``bdi`` isolates): the seeds' questions and people's answers run over
    several lines."""
    return bdi_lines(text)


environment.globals["grade_label"] = grade_label
# A question's markup on a section page, and a section's grade, rendered once per state (issue 24).
environment.globals["question_markup"] = question_markup.render
environment.globals["pure_markup"] = question_markup.pure
# The id of the request being answered, shown on error pages for a person to quote.
environment.globals["request_id"] = current_request_id
environment.filters["lines"] = lines_html
# What a person wrote, isolated from the page around it (server/platform/bidi.py):
# {{ value | bdi }} in the page, {{ value | isolated }} where no markup can go.
environment.filters["bdi"] = bdi
environment.filters["isolated"] = isolated
# Dates and times in GOV.UK's style ("6 December 2026 at 4:11am"), and the
# judgement's words with agencies by name (server/reports/dates.py, wording.py).
environment.filters["date"] = date_text
environment.filters["datetime"] = datetime_text
environment.filters["plain"] = plain
environment.filters["plain_trace"] = plain_trace
environment.globals["agreed_when"] = agreed_when
# What e-mails call an audit (never its case reference: a message carries no
# case detail), shown on its pages so a reader can match the two.
environment.globals["mail_reference"] = mail_reference
