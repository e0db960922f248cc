"""The agency auditor's pages: their organisation's audits, and its
contribution to one audit — a task list of the sections that apply to the
agency, a page per section, the overall judgement, check your answers,
submit, and amend with a reason after submission.

Every read and change is the same step as the contributions API's
(``server/audits/contributions.py``): the same validation, the same
row-level security (``unit_of_work``), the same row versions and the same
events.
"""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

import asyncpg
import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath

from agencies.applicability import is_area, may_be_not_involved
from agencies.contributions import area_suggestion, contribution_progress, overall_suggestion
from server.audits import audits as audit_steps
from server.audits import contributions as steps
from server.audits import voices as voice_steps
from server.audits.contributions import OwnContribution
from server.audits.views import ListedAudit, audit_reference, given_reference
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
from server.pages.auditor.forms import (
    PlacedProblem,
    answer_text,
    comments_label,
    evidence_label,
    feature_items,
    has_comments,
    in_page_order,
    input_id,
    long_date,
    overall_values,
    place_problems,
    question_groups,
    read_overall,
    read_section,
    row_count,
    section_values,
    short_text,
    with_section,
)
from server.pages.common import STATUS_TAGS
from server.pages.rendering import (
    NOT_GIVEN,
    STALE_MESSAGE,
    Form,
    FormErrors,
    PageController,
    grade_label,
    read_form,
    redirect,
    redirect_with_notice,
    render_page,
)
from server.platform.problems import Conflict, NotFound, PreconditionFailed
from server.platform.transactions import unit_of_work
from toolkits.answers import ContributionContent
from toolkits.grading import Suggestion
from toolkits.model import FIXED_CHOICES, Section
from toolkits.registry import Registry
from toolkits.validation import is_answered

STATUS_TEXT = {
    "not-started": "Not started",
    "in-progress": "In progress",
    "submitted": "Submitted",
    "returned": "Returned to you",
}
MAX_REASON_FIELD = 2_000


# --- one auditor's part in one audit ----------------------------------------------------


def url(contribution: OwnContribution, tail: str = "") -> str:
    """The address of a page of the auditor's part in the audit."""
    return f"/your-audits/{contribution.audit.id}{tail}"


def reference(contribution: OwnContribution) -> str:
    return audit_reference(contribution.toolkit, contribution.audit)


def caption(contribution: OwnContribution) -> dict[str, str | None]:
    """A page's caption: "Case <reference>" when the audit was given one,
    else what every page calls it ("Audit created 6 December 2026")."""
    return {"case": given_reference(contribution.toolkit, contribution.audit), "named": reference(contribution)}


async def load(
    connection: asyncpg.Connection[Any],
    registry: Registry,
    principal: Principal,
    audit_id: UUID,
    *,
    recorded: bool = True,
) -> OwnContribution:
    """The principal's organisation's contribution to the audit (the read
    recorded, unless it is read to be changed); 404 when the audit is not
    theirs to see, as the API. Its first statement takes the transaction's
    seal (``maca_open_contribution``, migration 0019), so a page whose work
    starts with it opens its unit of work with
    ``identity_with_first_statement``: a round trip fewer a page."""
    try:
        if recorded:
            return await steps.read_own_contribution(connection, principal, registry, audit_id)
        return await steps.load_own_contribution(connection, principal, registry, audit_id, principal.organisation_id)
    except NotFound:
        # Here the page is the audit itself: "your part of it".
        raise NotFound("no such audit") from None


def render(
    request: Request[Any, Any, Any], template: str, contribution: OwnContribution, **context: Any
) -> Response[str]:
    """A page of the auditor's part in the audit: ``c`` is the contribution,
    ``url`` makes the addresses of its pages."""
    return render_page(request, template, c=contribution, url=lambda tail="": url(contribution, tail), **context)


def problems_for(contribution: OwnContribution, content: ContributionContent) -> list[PlacedProblem]:
    """What still stops ``content`` being submitted, placed on its pages
    in the order the pages show them."""
    found = steps.submission_problems(contribution, content)
    return in_page_order(contribution.sections, place_problems(contribution.toolkit, contribution.sections, found))


# A "Change" link of the check page says where to come back to: the
# section's form carries it, and saving returns there instead of going on.
RETURN_TO_CHECK = "check"
# Problems listed a section on the check page (the rest show on its page).
PROBLEMS_LISTED = 3


def section_status(contribution: OwnContribution, section: Section, problems: list[PlacedProblem]) -> str:
    """GOV.UK task list statuses: not started, in progress, completed — and
    "not involved", which asks nothing more of the agency."""
    content = contribution.content
    if section.id in content.not_involved:
        return "in-progress" if any(p.section_id == section.id for p in problems) else "not-involved"
    started = any(
        is_answered(a) or a.comments or a.evidence
        for q in section.questions
        if (a := content.answers.get(q.id)) is not None
    ) or (section.id in content.judgements)
    if not started:
        return "not-started"
    if any(p.section_id == section.id for p in problems):
        return "in-progress"
    return "completed"


def suggestion_view(contribution: OwnContribution, suggestion: Suggestion) -> dict[str, Any] | None:
    """The grade the toolkit's guidance suggests, for a page: its label and
    the steps that reached it (None where the toolkit suggests none)."""
    if not suggestion.steps:
        return None
    return {
        "grade": suggestion.grade,
        "label": grade_label(contribution.toolkit.scale.grades, suggestion.grade)
        if suggestion.grade is not None
        else None,
        "steps": suggestion.steps,
    }


def case_detail_rows(contribution: OwnContribution) -> list[dict[str, Any]]:
    """The coordinator's case details as summary list rows."""
    rows: list[dict[str, Any]] = []
    for section in contribution.toolkit.sections:
        if section.completed_by != "coordinator":
            continue
        for question in section.questions:
            lines = answer_text(contribution.toolkit, question, contribution.case_details.answers.get(question.id))
            rows.append({"key": short_text(question.text, 60), "lines": lines})
    return rows


def errors_from(placed: list[PlacedProblem], *, link_to_pages: OwnContribution | None = None) -> FormErrors:
    """Form errors; with ``link_to_pages``, each links to the page and input
    it is about and is named by its section ("3. Referral: select a
    grade"), for the check-your-answers page. The page it links to shows
    the same problems on its fields (``?check``)."""
    errors = FormErrors()
    for problem in placed:
        if link_to_pages is None:
            errors.add(problem.input_id, problem.message)
            continue
        if problem.section_id:
            title = link_to_pages.section(problem.section_id).title
            page = url(link_to_pages, f"/sections/{problem.section_id}")
        else:
            title, page = "Overall judgement", url(link_to_pages, "/overall")
        message = problem.message[:1].lower() + problem.message[1:]
        errors.add(f"{page}?check={RETURN_TO_CHECK}#{problem.input_id}", f"{title}: {message}")
    return errors


def section_errors(contribution: OwnContribution, section_id: str | None) -> FormErrors:
    """What stops the saved contribution being submitted, on one page: shown
    on its fields when the person follows a problem from the check page."""
    placed = [p for p in problems_for(contribution, contribution.content) if p.section_id == section_id]
    return errors_from(placed)


# --- the pages -------------------------------------------------------------------------


# The organisation's audits by the audit's status (an agency never sees
# drafts), 50 to a page.
OWN_TABS: Final = ("open", "in-review", "closed")
OWN_PAGE_SIZE: Final = 50


class YourAuditsPages(PageController):
    path = "/your-audits"

    @get("/", cache=False, opt=needs(Permission.CONTRIBUTION_WRITE))
    async def your_audits(
        self, request: Request[Any, Any, Any], state: State, principal: NamedDependency[Principal]
    ) -> Response[str]:
        # One tab of the organisation's audits at a time, a page at a time:
        # listing them all in due-date order put years of closed audits
        # ahead of the open ones, and past the first hundred the open work
        # was not shown at all.
        params = request.query_params
        status = params.get("status") if params.get("status") in OWN_TABS else "open"
        page_text = params.get("page") or "1"
        page = int(page_text) if page_text.isdigit() and 0 < int(page_text) < 100_000 else 1
        async with unit_of_work(state, principal, identity_with_first_statement=True) as connection:
            found, total = await audit_steps.list_audits(
                connection,
                principal,
                state.toolkits,
                status=status,
                limit=OWN_PAGE_SIZE,
                offset=(page - 1) * OWN_PAGE_SIZE,
                own_organisation=True,
            )
            # What needs you reads every open audit: the page's rows, when
            # they are all of them.
            if status == "open" and page == 1 and total <= OWN_PAGE_SIZE:
                open_audits = found
            else:
                open_audits, _open = await audit_steps.list_audits(
                    connection, principal, state.toolkits, status="open", limit=200, offset=0, own_organisation=True
                )
        rows = [_own_row(a) for a in found]
        waiting = [_own_row(a) for a in open_audits]
        needs_you = {
            "returned": [r for r in waiting if r["status"] == "returned"],
            "to_complete": [r for r in waiting if r["status"] in ("not-started", "in-progress")],
        }
        return render_page(
            request,
            "web/auditor/your_audits.html",
            title="Your audits",
            audits=rows,
            total=total,
            tab=status,
            tabs=[(value, STATUS_TAGS[value][0]) for value in OWN_TABS],
            page=page,
            pages=max(1, -(-total // OWN_PAGE_SIZE)),
            status_text=STATUS_TEXT,
            needs_you=needs_you,
        )


def _own_row(audit: ListedAudit) -> dict[str, Any]:
    return {
        "id": audit.id,
        "title": audit.toolkit_title,
        "case": audit.reference,
        "due_date": long_date(audit.due_date) if audit.due_date else None,
        "overdue": audit.overdue,
        "status": audit.own_status,
    }


class ContributionPages(PageController):
    path = "/your-audits/{audit_id:uuid}"

    @get("/", cache=False, opt=needs(Permission.CONTRIBUTION_WRITE))
    async def task_list(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
    ) -> Response[str]:
        async with unit_of_work(state, principal, identity_with_first_statement=True) as connection:
            contribution = await load(connection, state.toolkits, principal, audit_id)
            voice = await voice_steps.own_voice(connection, principal, contribution.audit)
        problems = problems_for(contribution, contribution.content)
        tasks = [
            {
                "title": section.title,
                "href": url(contribution, f"/sections/{section.id}"),
                "status": section_status(contribution, section, problems),
                "failure": section.id in contribution.content.significant_failures,
            }
            for section in contribution.sections
        ]
        if contribution.toolkit.overall is not None:
            overall = contribution.content.overall
            tasks.append(
                {
                    "title": "Overall judgement",
                    "href": url(contribution, "/overall"),
                    "status": "not-started"
                    if overall is None
                    else "in-progress"
                    if any(p.section_id is None for p in problems)
                    else "completed",
                }
            )
        progress = contribution_progress(
            contribution.toolkit, contribution.participant, contribution.content, case_details=contribution.case_values
        )
        # GOV.UK task list: submitting is offered once every task is done;
        # until then the page says which are not.
        incomplete = [t for t in tasks if t["status"] not in ("completed", "not-involved")]
        return render(
            request,
            "web/auditor/task_list.html",
            contribution,
            title=contribution.toolkit.title,
            tasks=tasks,
            completed=len(tasks) - len(incomplete),
            incomplete=incomplete,
            case_rows=case_detail_rows(contribution),
            **caption(contribution),
            progress=progress,
            due_date=long_date(contribution.audit.due_date) if contribution.audit.due_date else None,
            period=(
                f"{long_date(contribution.audit.period_start)} to {long_date(contribution.audit.period_end)}"
                if contribution.audit.period_start and contribution.audit.period_end
                else None
            ),
            status_text=STATUS_TEXT,
            voice=voice,
        )

    # --- a section ---

    def _section_page(
        self,
        request: Request[Any, Any, Any],
        contribution: OwnContribution,
        section: Section,
        values: dict[str, Any],
        errors: FormErrors | None = None,
        row_version: int | None = None,
        content: ContributionContent | None = None,
        *,
        status_code: int | None = None,
        back_to: str | None = None,
    ) -> Response[str]:
        toolkit = contribution.toolkit
        features = section.judgement.features if section.judgement is not None else ()
        return render(
            request,
            "web/auditor/section.html",
            contribution,
            status_code=status_code or (422 if errors else 200),
            back_to=back_to,
            groups=question_groups(section, content or contribution.content, errors),
            errors=errors,
            title=section.title,
            section=section,
            values=values,
            row_version=contribution.row.row_version if row_version is None else row_version,
            grades=toolkit.scale.grades,
            fixed_choices=FIXED_CHOICES,
            input_id=input_id,
            has_comments=has_comments,
            comments_label=comments_label,
            evidence_label=evidence_label(section),
            row_count=row_count,
            not_involved=toolkit.not_involved if may_be_not_involved(toolkit, section) else None,
            is_area=is_area(section),
            features=[
                {"id": f.id, "items": feature_items(toolkit.scale.grades, f, values.get(f"feature-{f.id}"))}
                for f in features
            ],
            suggestion=suggestion_view(
                contribution, area_suggestion(toolkit, section, content or contribution.content)
            ),
        )

    @get("/sections/{section_id:str}", cache=False, opt=needs(Permission.CONTRIBUTION_WRITE))
    async def section(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        section_id: FromPath[str],
    ) -> Response[Any]:
        async with unit_of_work(state, principal, identity_with_first_statement=True) as connection:
            contribution = await load(connection, state.toolkits, principal, audit_id)
            section = contribution.section(section_id)
        if not contribution.editable:
            # In review or closed: the answers can be read, not changed.
            return redirect(url(contribution, "/check"))
        back_to = RETURN_TO_CHECK if request.query_params.get("check") == RETURN_TO_CHECK else None
        # Followed from the check page: its problems shown on the fields.
        errors = section_errors(contribution, section.id) if back_to and not contribution.submitted else None
        return self._section_page(
            request,
            contribution,
            section,
            section_values(section, contribution.content),
            errors,
            status_code=200,
            back_to=back_to,
        )

    @post("/sections/{section_id:str}", status_code=303, opt=needs(Permission.CONTRIBUTION_WRITE))
    async def save_section(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        section_id: FromPath[str],
    ) -> Response[Any]:
        form = await read_form(request)
        async with unit_of_work(state, principal, identity_with_first_statement=True) as connection:
            contribution = await load(connection, state.toolkits, principal, audit_id, recorded=False)
            section = contribution.section(section_id)
            if not contribution.editable:
                raise Conflict(f"the audit is {contribution.audit.status}; your part of it cannot be changed now")
            read = read_section(
                section,
                form,
                toolkit=contribution.toolkit,
                offers_not_involved=may_be_not_involved(contribution.toolkit, section),
                is_area=is_area(section),
            )
            content = with_section(contribution.content, section, read)
            outcome = await self._save(connection, state.toolkits, principal, contribution, content, form, read.errors)
            if isinstance(outcome, FormErrors):
                return self._section_page(
                    request,
                    contribution,
                    section,
                    form.values,
                    outcome,
                    row_version=contribution.row.row_version,
                    content=content,
                    back_to=form.text("return") or None,
                )
        back_to_check = form.text("return") == RETURN_TO_CHECK
        if form.text("action") == "suggest":
            # Saved; back to the judgement, with the grade the features suggest.
            again = f"?check={RETURN_TO_CHECK}" if back_to_check else ""
            return redirect(url(contribution, f"/sections/{section.id}{again}#judgement"))
        if contribution.submitted:
            return redirect_with_notice(url(contribution, "/check"), f"Your change to {section.title} has been saved")
        if form.text("action") == "later":
            # Back to the task list, where the person sees what is left.
            return redirect_with_notice(
                url(contribution), "Your answers have been saved. You can come back to them later"
            )
        if back_to_check:
            return redirect_with_notice(url(contribution, "/check"), f"Your answers to {section.title} have been saved")
        following = contribution.next_after(section.id)
        if following is not None:
            return redirect(url(contribution, f"/sections/{following}"))
        if contribution.toolkit.overall is not None:
            return redirect(url(contribution, "/overall"))
        return redirect(url(contribution, "/check"))

    async def _save(
        self,
        connection: asyncpg.Connection[Any],
        registry: Registry,
        principal: Principal,
        contribution: OwnContribution,
        content: ContributionContent,
        form: Form,
        errors: FormErrors,
    ) -> FormErrors | None:
        """Save ``content`` as the API's PUT does: a draft, or after
        submission an amendment that must be complete and give a reason.
        Returns the errors to show instead, if any."""
        seen = form.int_field("row_version")
        if seen != contribution.row.row_version:
            errors.add("main-content", STALE_MESSAGE)
        reason = form.raw("reason").strip() if contribution.submitted else None
        # Every problem at once, each on its input; the step checks again.
        problems = steps.save_problems(contribution, content, reason)
        for placed in place_problems(contribution.toolkit, contribution.sections, problems):
            errors.add(placed.input_id, placed.message)
        if errors:
            return errors
        try:
            await steps.save_own(connection, principal, registry, contribution, content, reason, seen_version=seen)
        except PreconditionFailed:  # changed between our read and our write
            errors.add("main-content", STALE_MESSAGE)
            return errors
        return None

    # --- the overall judgement ---

    def _overall_page(
        self,
        request: Request[Any, Any, Any],
        contribution: OwnContribution,
        values: dict[str, Any],
        errors: FormErrors | None = None,
        content: ContributionContent | None = None,
        *,
        status_code: int | None = None,
        back_to: str | None = None,
    ) -> Response[str]:
        toolkit = contribution.toolkit
        overall = toolkit.overall
        assert overall is not None
        return render(
            request,
            "web/auditor/overall.html",
            contribution,
            status_code=status_code or (422 if errors else 200),
            back_to=back_to,
            errors=errors,
            title="Overall judgement",
            overall=overall,
            values=values,
            grades=toolkit.scale.grades,
            features=[
                {"id": f.id, "items": feature_items(toolkit.scale.grades, f, values.get(f"overall-feature-{f.id}"))}
                for f in overall.features
            ],
            suggestion=suggestion_view(
                contribution,
                overall_suggestion(toolkit, contribution.sections, content or contribution.content),
            ),
        )

    @get("/overall", cache=False, opt=needs(Permission.CONTRIBUTION_WRITE))
    async def overall(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
    ) -> Response[str]:
        async with unit_of_work(state, principal, identity_with_first_statement=True) as connection:
            contribution = await load(connection, state.toolkits, principal, audit_id)
            if contribution.toolkit.overall is None:
                raise NotFound("this audit tool has no overall judgement")
        back_to = RETURN_TO_CHECK if request.query_params.get("check") == RETURN_TO_CHECK else None
        errors = section_errors(contribution, None) if back_to and not contribution.submitted else None
        return self._overall_page(
            request, contribution, overall_values(contribution.content), errors, status_code=200, back_to=back_to
        )

    @post("/overall", status_code=303, opt=needs(Permission.CONTRIBUTION_WRITE))
    async def save_overall(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
    ) -> Response[Any]:
        form = await read_form(request)
        async with unit_of_work(state, principal, identity_with_first_statement=True) as connection:
            contribution = await load(connection, state.toolkits, principal, audit_id, recorded=False)
            if contribution.toolkit.overall is None:
                raise NotFound("this audit tool has no overall judgement")
            if not contribution.editable:
                raise Conflict(f"the audit is {contribution.audit.status}; your part of it cannot be changed now")
            overall = read_overall(form, contribution.toolkit)
            content = msgspec.structs.replace(contribution.content, overall=overall)
            outcome = await self._save(connection, state.toolkits, principal, contribution, content, form, FormErrors())
            if isinstance(outcome, FormErrors):
                return self._overall_page(
                    request, contribution, form.values, outcome, content=content, back_to=form.text("return") or None
                )
        if form.text("action") == "suggest":
            again = f"?check={RETURN_TO_CHECK}" if form.text("return") == RETURN_TO_CHECK else ""
            return redirect(url(contribution, f"/overall{again}#overall-grade"))
        if contribution.submitted:
            return redirect_with_notice(
                url(contribution, "/check"), "Your change to the overall judgement has been saved"
            )
        if form.text("action") == "later":
            return redirect_with_notice(
                url(contribution), "Your answers have been saved. You can come back to them later"
            )
        return redirect(url(contribution, "/check"))

    # --- check your answers, submit, confirmation ---

    def _check_page(
        self,
        request: Request[Any, Any, Any],
        contribution: OwnContribution,
        errors: FormErrors | None = None,
        *,
        status_code: int | None = None,
    ) -> Response[str]:
        toolkit = contribution.toolkit
        content = contribution.content
        sections: list[dict[str, Any]] = []
        for section in contribution.sections:
            rows: list[dict[str, Any]] = []
            for question in section.questions:
                answer = content.answers.get(question.id)
                rows.append(
                    {
                        "key": short_text(question.text),
                        "lines": answer_text(toolkit, question, answer),
                        "comments": answer.comments if answer else None,
                        "evidence": [
                            f"{e.document}, {long_date(e.date)}" if e.date else e.document
                            for e in (answer.evidence if answer else ())
                        ],
                        "href": url(
                            contribution, f"/sections/{section.id}?check={RETURN_TO_CHECK}#{input_id(question)}"
                        ),
                        "change_label": short_text(question.text, 60),
                    }
                )
            judgement = content.judgements.get(section.id)
            not_involved = content.not_involved.get(section.id)
            failure = content.significant_failures.get(section.id)
            sections.append(
                {
                    "section": section,
                    "rows": [] if not_involved is not None else rows,
                    "judgement": judgement,
                    "grade": grade_label(
                        toolkit.scale.grades, judgement.grade if judgement else None, missing=NOT_GIVEN
                    ),
                    "href": url(contribution, f"/sections/{section.id}?check={RETURN_TO_CHECK}"),
                    "not_involved": not_involved.reason if not_involved is not None else None,
                    "failure": failure.description if failure is not None else None,
                }
            )
        overall = content.overall
        # Offered for submission only when complete; otherwise the page says
        # which sections are not, each linking to its own page.
        problems = [] if contribution.submitted else problems_for(contribution, content)
        incomplete: list[dict[str, Any]] = []
        for section_id, title in [(s.id, s.title) for s in contribution.sections] + [(None, "Overall judgement")]:
            found = [p for p in problems if p.section_id == section_id]
            if not found:
                continue
            page = url(contribution, f"/sections/{section_id}" if section_id else "/overall")
            incomplete.append(
                {
                    "title": title,
                    "href": f"{page}?check={RETURN_TO_CHECK}",
                    # Each problem links to its field; a few a section, the rest on its page.
                    "problems": [
                        {"text": p.message, "href": f"{page}?check={RETURN_TO_CHECK}#{p.input_id}"}
                        for p in found[:PROBLEMS_LISTED]
                    ],
                    "more": max(0, len(found) - PROBLEMS_LISTED),
                }
            )
        return render(
            request,
            "web/auditor/check.html",
            contribution,
            status_code=status_code or (422 if errors else 200),
            errors=errors,
            title="Your answers"
            if contribution.submitted
            else "Your answers so far"
            if incomplete
            else "Check your answers before submitting",
            sections=sections,
            overall=overall,
            overall_grade=grade_label(toolkit.scale.grades, overall.grade if overall else None, missing=NOT_GIVEN),
            overall_href=url(contribution, f"/overall?check={RETURN_TO_CHECK}"),
            incomplete=incomplete,
        )

    @get("/check", cache=False, opt=needs(Permission.CONTRIBUTION_WRITE))
    async def check(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
    ) -> Response[str]:
        async with unit_of_work(state, principal, identity_with_first_statement=True) as connection:
            contribution = await load(connection, state.toolkits, principal, audit_id)
        return self._check_page(request, contribution)

    @post("/submit", status_code=303, opt=needs(Permission.CONTRIBUTION_WRITE))
    async def submit(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
    ) -> Response[Any]:
        form = await read_form(request)
        async with unit_of_work(state, principal, identity_with_first_statement=True) as connection:
            contribution = await load(connection, state.toolkits, principal, audit_id, recorded=False)
            if contribution.submitted:
                return redirect(url(contribution, "/submitted"))
            steps.check_submittable(contribution.audit, contribution.row)
            errors = FormErrors()
            seen = form.int_field("row_version")
            if seen != contribution.row.row_version:
                errors.add("main-content", STALE_MESSAGE)
                return self._check_page(request, contribution, errors, status_code=409)
            placed = problems_for(contribution, contribution.content)
            if placed:
                return self._check_page(request, contribution, errors_from(placed, link_to_pages=contribution))
            try:
                await steps.submit_own(connection, principal, state.toolkits, contribution, seen_version=seen)
            except PreconditionFailed:
                errors.add("main-content", STALE_MESSAGE)
                return self._check_page(request, contribution, errors, status_code=409)
        return redirect(url(contribution, "/submitted"))

    @get("/submitted", cache=False, opt=needs(Permission.CONTRIBUTION_WRITE))
    async def submitted(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
    ) -> Response[Any]:
        async with unit_of_work(state, principal, identity_with_first_statement=True) as connection:
            contribution = await load(connection, state.toolkits, principal, audit_id)
        if not contribution.submitted:
            return redirect(url(contribution))
        return render(
            request,
            "web/auditor/submitted.html",
            contribution,
            title="Contribution submitted",
            **caption(contribution),
        )


route_handlers: list[Any] = [YourAuditsPages, ContributionPages]
