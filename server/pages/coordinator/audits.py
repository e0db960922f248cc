"""The coordinator's pages: the partnership's audits with each agency's
progress, creating an audit (choose a toolkit, case details and who takes
part, check your answers), and an audit's page where it is distributed,
moved to review, closed or reopened, and a submitted contribution returned.

Coordinators and reviewers share the audits list and an audit's page (the
reviewer's start page); only coordinators see the forms that change an
audit. Every read and change is the same step as the API's
(``server.audits.audits``, ``server.audits.contributions``), in one
transaction with its event, and a change carries the version it was made
from, so nobody overwrites a change they have not seen.
"""

from __future__ import annotations

import datetime
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath

from server.audits import audits as steps
from server.audits import concerns as concern_steps
from server.audits import contributions as contribution_steps
from server.audits import notifications as notification_steps
from server.audits.audits import STATUSES, TRANSITIONS, AuditChanges, NewAudit, NewAuditOptions
from server.audits.checks import MAX_REASON
from server.audits.views import MAX_REFERENCE, OrganisationView, audit_overdue, today
from server.auth.permissions import Permission, may, needs
from server.auth.principal import Principal
from server.pages import case_details as case_form
from server.pages.common import STATUS_TAGS, status_tag
from server.pages.concerns import concern_items
from server.pages.rendering import (
    Form,
    FormErrors,
    PageController,
    field_problems_to_errors,
    read_form,
    redirect,
    redirect_with_notice,
    render_page,
)
from server.platform.problems import Conflict, InvalidInput, PreconditionFailed
from server.platform.transactions import once_per_key, unit_of_work
from toolkits.answers import CaseDetails
from toolkits.model import Toolkit
from toolkits.text import has_visible_character, is_case_reference, isolated
from toolkits.validation import validate_case_details

PAGE_SIZE: Final = 20

CHANGED_BY_SOMEONE_ELSE: Final = (
    "Someone else changed this audit since you opened the page. The page now shows the latest; check it and try again"
)

# The buttons that move an audit on, by the status they lead to.
MOVES: Final[dict[tuple[str, str], str]] = {
    ("draft", "open"): "Distribute to the agencies",
    ("open", "in-review"): "Move to review",
    ("in-review", "closed"): "Close the audit",
    ("in-review", "open"): "Reopen the audit",
    ("closed", "open"): "Reopen the audit",
}
MOVE_NOTICES: Final[dict[str, str]] = {
    "open": "The audit is open: the agencies can see it and fill in their sections",
    "in-review": "The audit is in review",
    "closed": "The audit is closed",
}


# --- creating an audit: pure checks -------------------------------------------------------


@dataclass(frozen=True)
class NewAuditForm:
    """What the coordinator typed to create an audit, read and checked."""

    toolkit: Toolkit
    reference: str | None
    case_details: CaseDetails
    participants: list[str]  # organisation ids
    referrer: str | None  # organisation id
    period_start: datetime.date | None
    period_end: datetime.date | None
    due_date: datetime.date | None
    errors: FormErrors


# The new audit form's inputs after the case details, top to bottom.
FORM_AFTER_CASE_DETAILS: Final = ("participants", "referrer", "period-start", "period-end", "due-date")


def read_new_audit(toolkit: Toolkit, form: Form, organisations: list[OrganisationView]) -> NewAuditForm:
    """Read the case details form and collect every problem with it, in the
    order the questions are asked."""
    errors = FormErrors()
    reference = form.text("reference") or None
    if reference is None and not collects_case_reference(toolkit):
        errors.add("reference", "Enter a reference for the audit")
    elif reference is not None and len(reference) > MAX_REFERENCE:
        errors.add("reference", f"The reference must be {MAX_REFERENCE} characters or fewer")
    elif reference is not None and not has_visible_character(reference):
        errors.add("reference", "Enter a reference for the audit")
    details, unreadable = case_form.case_details_from_form(toolkit, form)
    for problem in unreadable:
        errors.add(problem.field_id, problem.message)
    for problem in case_form.missing_answers(toolkit, details):
        errors.add(problem.field_id, problem.message)
    checked = field_problems_to_errors(
        validate_case_details(toolkit, details, complete=True), case_form.problem_paths(toolkit)
    )
    for field_id, message in checked.messages.items():
        errors.add(field_id, message)

    known = {str(o.id) for o in organisations}
    participants = [p for p in dict.fromkeys(form.all("participants")) if p]
    if not participants:
        errors.add("participants", "Select the agencies taking part in the audit")
    elif any(p not in known for p in participants):
        errors.add("participants", "Select agencies of your partnership")
    referrer = form.text("referrer") or None
    if referrer == "none":
        referrer = None
    if referrer is not None and referrer not in known:
        errors.add("referrer", "Select the agency that referred the case, or none")

    period_start, wrong = case_form.parse_date(form, "period-start")
    if wrong:
        errors.add("period-start-day", f"The start of the audit period {wrong}")
    period_end, wrong = case_form.parse_date(form, "period-end")
    if wrong:
        errors.add("period-end-day", f"The end of the audit period {wrong}")
    if period_start and period_end and period_start > period_end:
        errors.add("period-end-day", "The end of the audit period must be after its start")
    due_date, wrong = case_form.parse_date(form, "due-date")
    if wrong:
        errors.add("due-date-day", f"The due date {wrong}")
    elif due_date is None:
        errors.add("due-date-day", "Enter the date the agencies' contributions are due")
    elif due_date < today():
        errors.add("due-date-day", "The due date must be today or in the future")
    # Listed as the form shows its inputs, whichever check found them.
    in_order = case_form.page_order(toolkit, errors.messages, FORM_AFTER_CASE_DETAILS)
    errors = FormErrors({field_id: errors.messages[field_id] for field_id in in_order})
    return NewAuditForm(
        toolkit=toolkit,
        reference=reference,
        case_details=details,
        participants=participants,
        referrer=referrer,
        period_start=period_start,
        period_end=period_end,
        due_date=due_date,
        errors=errors,
    )


def collects_case_reference(toolkit: Toolkit) -> bool:
    """Whether the coordinator's case details include the case's own
    identifier (then the audit's reference defaults to it)."""
    return any(
        question.kind == "text" and is_case_reference(question.id)
        for section in toolkit.sections
        if section.completed_by == "coordinator"
        for question in section.questions
    )


def _submission_hash(form: Form) -> str:
    values = sorted((name, str(value)) for name, value in form.values.items() if name != "submission_key")
    return hashlib.sha256(repr(values).encode()).hexdigest()


def _reason_message(message: str) -> str:
    if message.startswith("a reason is required"):
        return "Enter the reason " + message.removeprefix("a reason is required ")
    return _sentence(message)


def _sentence(message: str) -> str:
    """The domain's lower-case message as a page shows it."""
    return message[:1].upper() + message[1:]


def parse_uuid(text: str | None) -> UUID | None:
    """An id from a query string; None for anything else (a filter that
    matches nothing is never an error on a page of links)."""
    try:
        return UUID(text) if text else None
    except ValueError:
        return None


# --- the controller ----------------------------------------------------------------------


class AuditPages(PageController):
    path = "/audits"

    # The list: coordinators and reviewers start here.
    @get("/", cache=False, opt=needs(Permission.PARTNERSHIP_OVERSEE))
    async def audits_list(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        params = request.query_params
        status = params.get("status") or None
        if status not in (None, *STATUSES):
            status = None
        overdue_only = params.get("overdue") == "yes"
        search = (params.get("reference") or "").strip()[:MAX_REFERENCE] or None
        # One programme's audits (a link from the programme's page).
        programme = parse_uuid(params.get("programme"))
        page_text = params.get("page") or "1"
        page = int(page_text) if page_text.isdigit() and 0 < int(page_text) < 100_000 else 1
        async with unit_of_work(state, principal) as connection:
            filters = await steps.list_filters(connection, principal, state.toolkits)
            toolkit_id = params.get("toolkit") or None
            if toolkit_id not in {t for t, _ in filters.toolkits}:
                toolkit_id = None
            agency = params.get("agency") or None
            agency_id = next((o.id for o in filters.organisations if str(o.id) == agency), None)
            found, total = await steps.list_audits(
                connection,
                principal,
                state.toolkits,
                status=status,
                toolkit_id=toolkit_id,
                overdue=overdue_only,
                search=search,
                agency_id=agency_id,
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
                with_progress=True,
                programme_id=programme,
            )
            # What needs you: the open immediate concerns head the page.
            waiting = await concern_steps.open_concerns(connection, principal)
        # An audit of a toolkit version no longer installed is left out.
        listed = [
            {
                "id": a.id,
                "reference": a.reference,
                "toolkit_title": a.toolkit_title,
                "status": a.status,
                "due_date": a.due_date,
                "overdue": a.overdue,
                "participants": a.progress or [],
                "submitted": a.submitted,
            }
            for a in found
            if a.toolkit is not None
        ]
        pages = max(1, -(-total // PAGE_SIZE))
        chosen = {
            "reference": search or "",
            "status": status or "",
            "toolkit": toolkit_id or "",
            "agency": str(agency_id) if agency_id else "",
            "overdue": "yes" if overdue_only else "",
            "programme": str(programme) if programme else "",
        }
        query = urlencode({name: value for name, value in chosen.items() if value})
        return render_page(
            request,
            "web/coordinator/audits.html",
            title="Audits",
            audits=listed,
            total=total,
            filtered=bool(query),
            chosen=chosen,
            overdue_only=overdue_only,
            programme=programme,
            status_options=[
                {"value": "", "text": "Any status", "selected": status is None},
                *({"value": s, "text": STATUS_TAGS[s][0], "selected": s == status} for s in STATUSES),
            ],
            toolkit_options=[
                {"value": "", "text": "Any audit tool", "selected": toolkit_id is None},
                *({"value": t, "text": title, "selected": t == toolkit_id} for t, title in filters.toolkits),
            ],
            agency_options=[
                {"value": "", "text": "Any agency", "selected": agency_id is None},
                *({"value": str(o.id), "text": o.name, "selected": o.id == agency_id} for o in filters.organisations),
            ],
            page=page,
            pages=pages,
            query=query,
            status_tag=status_tag,
            date_text=case_form.date_text,
            may_create=may(principal, Permission.AUDIT_CREATE),
            open_concerns=concern_items(waiting),
        )

    # --- creating an audit ---

    @get("/new", cache=False, opt=needs(Permission.AUDIT_CREATE))
    async def choose_toolkit(
        self, request: Request[Any, Any, Any], state: State, principal: NamedDependency[Principal]
    ) -> Response[Any]:
        return self._choose_page(request, await self._options(state, principal), FormErrors(), None)

    async def _options(self, state: State, principal: Principal) -> NewAuditOptions:
        """The toolkits the partnership offers, as its new audits take them."""
        async with unit_of_work(state, principal) as connection:
            return await steps.new_audit_options(connection, principal, state.toolkits)

    def _choose_page(
        self, request: Request[Any, Any, Any], options: NewAuditOptions, errors: FormErrors, chosen: str | None
    ) -> Response[Any]:
        return render_page(
            request,
            "web/coordinator/choose_toolkit.html",
            status_code=422 if errors else 200,
            errors=errors,
            title="Which audit tool will this audit use?",
            toolkits=options.toolkits,
            chosen=chosen,
        )

    async def _organisations(self, state: State, principal: Principal) -> list[OrganisationView]:
        async with unit_of_work(state, principal) as connection:
            return await steps.partnership_organisations(connection, principal)

    def _details_page(
        self,
        request: Request[Any, Any, Any],
        toolkit: Toolkit,
        organisations: list[OrganisationView],
        values: dict[str, Any],
        errors: FormErrors,
    ) -> Response[Any]:
        return render_page(
            request,
            "web/coordinator/case_details.html",
            status_code=422 if errors else 200,
            errors=errors,
            title="Case details and who takes part",
            toolkit=toolkit,
            collects_case_reference=collects_case_reference(toolkit),
            fields=case_form.fields(toolkit, values),
            organisations=organisations,
            values=values,
        )

    @get("/new/details", cache=False, opt=needs(Permission.AUDIT_CREATE))
    async def case_details(
        self, request: Request[Any, Any, Any], state: State, principal: NamedDependency[Principal]
    ) -> Response[Any]:
        options = await self._options(state, principal)
        toolkit = options.toolkit(request.query_params.get("toolkit") or "")
        if toolkit is None:
            errors = FormErrors()
            errors.add("toolkit", "Select the audit tool this audit will use")
            return self._choose_page(request, options, errors, None)
        organisations = await self._organisations(state, principal)
        due = options.default_due_date
        # The partnership's default due period, to keep or change.
        values = (
            {} if due is None else {"due-date-day": due.day, "due-date-month": due.month, "due-date-year": due.year}
        )
        return self._details_page(request, toolkit, organisations, values, FormErrors())

    @post("/new/details", cache=False, opt=needs(Permission.AUDIT_CREATE))
    async def check_details(
        self, request: Request[Any, Any, Any], state: State, principal: NamedDependency[Principal]
    ) -> Response[Any]:
        """Check what was typed: the same form with its problems, or the
        "check your answers" page carrying it on in hidden fields."""
        form = await read_form(request)
        options = await self._options(state, principal)
        toolkit = options.toolkit(form.text("toolkit"))
        if toolkit is None:
            errors = FormErrors()
            errors.add("toolkit", "Select the audit tool this audit will use")
            return self._choose_page(request, options, errors, None)
        organisations = await self._organisations(state, principal)
        values = {name: value for name, value in form.values.items() if name not in ("change", "submission_key")}
        if form.text("change"):
            return self._details_page(request, toolkit, organisations, values, FormErrors())
        checked = read_new_audit(toolkit, form, organisations)
        if checked.errors:
            return self._details_page(request, toolkit, organisations, values, checked.errors)
        by_id = {str(o.id): o for o in organisations}
        return render_page(
            request,
            "web/coordinator/check_answers.html",
            title="Check the audit before you create it",
            toolkit=toolkit,
            reference=checked.reference,
            summary=case_form.summary(toolkit, checked.case_details),
            field_ids={q.id: case_form.input_id(q) for _s, q in case_form.case_questions(toolkit)},
            participants=[by_id[p] for p in checked.participants],
            referrer=by_id.get(checked.referrer or ""),
            period_start=case_form.date_text(checked.period_start),
            period_end=case_form.date_text(checked.period_end),
            due_date=case_form.date_text(checked.due_date),
            hidden=case_form.hidden_fields(values),
            # One creation per "Create" page, however often the button is pressed.
            submission_key=str(uuid.uuid4()),
        )

    @post("/new", cache=False, opt=needs(Permission.AUDIT_CREATE))
    async def create_audit(
        self, request: Request[Any, Any, Any], state: State, principal: NamedDependency[Principal]
    ) -> Response[Any]:
        form = await read_form(request)
        options = await self._options(state, principal)
        toolkit = options.toolkit(form.text("toolkit"))
        if toolkit is None:
            errors = FormErrors()
            errors.add("toolkit", "Select the audit tool this audit will use")
            return self._choose_page(request, options, errors, None)
        organisations = await self._organisations(state, principal)
        checked = read_new_audit(toolkit, form, organisations)
        values = {name: value for name, value in form.values.items() if name not in ("change", "submission_key")}
        if checked.errors:
            return self._details_page(request, toolkit, organisations, values, checked.errors)
        new = NewAudit(
            toolkit=toolkit.id,
            reference=checked.reference,
            participants=checked.participants,
            case_details=checked.case_details,
            period_start=checked.period_start,
            period_end=checked.period_end,
            referring_organisation=checked.referrer,
            due_date=checked.due_date,
        )
        async with unit_of_work(state, principal) as connection:

            async def create() -> str:
                audit = await steps.create_audit(connection, principal, state.toolkits, new)
                return f"/audits/{audit.id}"

            # One audit per "Create" page, however often the button is pressed.
            location, replayed = await once_per_key(
                connection, principal, form.text("submission_key")[:200], "/audits/new", _submission_hash(form), create
            )
        if replayed:
            return redirect(location)
        return redirect_with_notice(location, "Audit created as a draft. Distribute it when you are ready")

    # --- one audit ---

    async def _audit_page(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: Principal,
        audit_id: FromPath[UUID],
        *,
        errors: FormErrors | None = None,
        values: dict[str, Any] | None = None,
    ) -> Response[Any]:
        async with unit_of_work(state, principal, identity_with_first_statement=True) as connection:
            read = await steps.read_audit(connection, principal, state.toolkits, audit_id)
            audit_concerns = await concern_steps.concerns_of_audit(connection, principal, audit_id)
            told = await notification_steps.told_about(connection, principal, audit_id)
        audit, toolkit, active = read.audit, read.toolkit, read.active
        by_id = {p.organisation_id: p for p in read.participants or ()}
        referrer = by_id.get(audit.referring_organisation_id) if audit.referring_organisation_id else None
        moves = [(target, MOVES[(audit.status, target)]) for target in TRANSITIONS[audit.status]]
        return render_page(
            request,
            "web/coordinator/audit.html",
            status_code=(409 if errors and "move" in errors else 422) if errors else 200,
            errors=errors,
            values=values or {},
            title=read.reference,
            audit_concerns=concern_items(audit_concerns),
            told=told,
            audit=audit,
            toolkit=toolkit,
            summary=case_form.summary(toolkit, read.case_details),
            field_ids={q.id: case_form.input_id(q) for _s, q in case_form.case_questions(toolkit)},
            # Corrected on its own page, as the API's PATCH allows, until closed.
            correct_href=f"/audits/{audit.id}/details"
            if may(principal, Permission.AUDIT_EDIT) and audit.status != "closed"
            else None,
            participants=active,
            overdue=[p for p in active if p.overdue],
            referrer=referrer,
            submitted=sum(1 for p in active if p.contribution_status == "submitted"),
            audit_overdue=audit_overdue(audit),
            moves=moves if may(principal, Permission.AUDIT_MOVE) else [],
            may_edit=may(principal, Permission.AUDIT_EDIT) and audit.status != "closed",
            outstanding=read.outstanding,
            may_return=may(principal, Permission.CONTRIBUTION_RETURN),
            status_tag=status_tag,
            date_text=case_form.date_text,
        )

    @get("/{audit_id:uuid}", cache=False, opt=needs(Permission.PARTNERSHIP_OVERSEE))
    async def audit(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
    ) -> Response[Any]:
        return await self._audit_page(request, state, principal, audit_id)

    @post("/{audit_id:uuid}/status", cache=False, opt=needs(Permission.AUDIT_MOVE))
    async def change_status(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
    ) -> Response[Any]:
        form = await read_form(request)
        target = form.text("status")
        reason = form.text("reason") or None
        confirmed = form.text("confirm-outstanding") == "yes"
        errors = FormErrors()
        if target not in STATUSES:
            errors.add("move", "Choose what to do with the audit")
        elif reason is not None and len(reason) > MAX_REASON:
            errors.add(f"reason-{target}", f"The reason must be {MAX_REASON} characters or fewer")
        else:
            try:
                async with unit_of_work(state, principal) as connection:
                    await steps.move_audit(
                        connection,
                        principal,
                        state.toolkits,
                        audit_id,
                        target,
                        reason,
                        seen_version=form.int_field("row_version"),
                        confirm_outstanding=confirmed,
                    )
                return redirect_with_notice(f"/audits/{audit_id}", MOVE_NOTICES.get(target, "Done"))
            except PreconditionFailed:
                errors.add("move", CHANGED_BY_SOMEONE_ELSE)
            except Conflict as conflict:
                errors.add("move", (conflict.detail or "This cannot be done now").capitalize())
            except InvalidInput as invalid:
                for problem in invalid.errors:
                    if problem.field == "$.confirm_outstanding":
                        errors.add(
                            "confirm-outstanding",
                            "Confirm that you are closing the audit with these things outstanding",
                        )
                    elif problem.field == "$.reason":
                        errors.add(f"reason-{target}", _reason_message(problem.message))
                    elif problem.field.startswith("$.case_details"):
                        errors.add("case-details", f"Case details: {problem.message}")
                    else:
                        errors.add("participants", "Add at least one agency before distributing the audit")
        return await self._audit_page(
            request,
            state,
            principal,
            audit_id,
            errors=errors,
            values={f"reason-{target}": form.raw("reason"), "confirm-outstanding": form.text("confirm-outstanding")},
        )

    # --- the audit's reference ---

    async def _reference_page(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: Principal,
        audit_id: UUID,
        *,
        errors: FormErrors | None = None,
        value: str | None = None,
    ) -> Response[Any]:
        async with unit_of_work(state, principal, identity_with_first_statement=True) as connection:
            read = await steps.read_audit(connection, principal, state.toolkits, audit_id)
        return render_page(
            request,
            "web/coordinator/reference.html",
            status_code=422 if errors else 200,
            errors=errors,
            title="Change the audit’s reference",
            audit=read.audit,
            reference=read.reference,
            value=read.reference if value is None else value,
        )

    @get("/{audit_id:uuid}/reference", cache=False, opt=needs(Permission.AUDIT_EDIT))
    async def reference_form(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
    ) -> Response[Any]:
        return await self._reference_page(request, state, principal, audit_id)

    @post("/{audit_id:uuid}/reference", cache=False, opt=needs(Permission.AUDIT_EDIT))
    async def change_reference(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
    ) -> Response[Any]:
        """The API's ``PATCH /api/audits/{id}`` with ``reference``, for a form."""
        form = await read_form(request)
        reference = form.text("reference")
        errors = FormErrors()
        if not has_visible_character(reference):
            errors.add("reference", "Enter a reference for the audit")
        elif len(reference) > MAX_REFERENCE:
            errors.add("reference", f"The reference must be {MAX_REFERENCE} characters or fewer")
        if not errors:
            try:
                async with unit_of_work(state, principal) as connection:
                    await steps.change_audit(
                        connection,
                        principal,
                        state.toolkits,
                        audit_id,
                        AuditChanges(reference=reference),
                        seen_version=form.int_field("row_version"),
                    )
            except PreconditionFailed:
                errors.add("reference", CHANGED_BY_SOMEONE_ELSE)
            except Conflict as conflict:
                errors.add("reference", _sentence(conflict.detail or "This cannot be done now"))
            else:
                return redirect_with_notice(f"/audits/{audit_id}", "The audit’s reference is changed")
        return await self._reference_page(
            request, state, principal, audit_id, errors=errors, value=form.raw("reference")
        )

    # --- returning a contribution ---

    async def _return_page(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: Principal,
        audit_id: FromPath[UUID],
        organisation_id: FromPath[UUID],
        *,
        errors: FormErrors | None = None,
        comment: str = "",
    ) -> Response[Any]:
        async with unit_of_work(state, principal) as connection:
            read = await contribution_steps.read_for_return(
                connection, principal, state.toolkits, audit_id, organisation_id
            )
        return render_page(
            request,
            "web/coordinator/return.html",
            status_code=422 if errors else 200,
            errors=errors,
            title=f"Return {isolated(read.participant.organisation_name)}'s contribution",
            audit=read.audit,
            participant=read.participant,
            contribution=read.contribution,
            comment=comment,
            returnable=read.returnable,
        )

    @get(
        "/{audit_id:uuid}/contributions/{organisation_id:uuid}/return",
        cache=False,
        opt=needs(Permission.CONTRIBUTION_RETURN),
    )
    async def return_form(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        organisation_id: FromPath[UUID],
    ) -> Response[Any]:
        return await self._return_page(request, state, principal, audit_id, organisation_id)

    @post(
        "/{audit_id:uuid}/contributions/{organisation_id:uuid}/return",
        cache=False,
        opt=needs(Permission.CONTRIBUTION_RETURN),
    )
    async def return_contribution(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        organisation_id: FromPath[UUID],
    ) -> Response[Any]:
        """The API's ``POST …/contributions/{org}/return``, for a form."""
        form = await read_form(request)
        comment = form.text("comment")
        errors = FormErrors()
        if not has_visible_character(comment):
            errors.add("comment", "Enter what the agency needs to do")
        elif len(comment) > MAX_REASON:
            errors.add("comment", f"What the agency needs to do must be {MAX_REASON} characters or fewer")
        if not errors:
            try:
                async with unit_of_work(state, principal) as connection:
                    await contribution_steps.return_contribution(
                        connection,
                        principal,
                        state.toolkits,
                        audit_id,
                        organisation_id,
                        comment,
                        seen_version=form.int_field("row_version"),
                    )
            except PreconditionFailed:
                errors.add("comment", "The agency changed its contribution since you opened this page; check it")
            except Conflict as conflict:
                errors.add("comment", _sentence(conflict.detail or "This cannot be done now"))
            else:
                return redirect_with_notice(f"/audits/{audit_id}", "Contribution returned to the agency")
        return await self._return_page(
            request, state, principal, audit_id, organisation_id, errors=errors, comment=form.raw("comment")
        )


route_handlers: list[Any] = [AuditPages]
