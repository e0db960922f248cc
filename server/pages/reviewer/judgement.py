"""The partnership reviewer's pages: an audit's combined view (every
agency's grade beside the partnership's, with the rule that produced it,
disagreements and immediate concerns), moderation of a section, and the
remedial actions of an audit (seed table: action, who, timescale), each
linking to its own page (``/actions/{id}``) where progress is recorded
and kept.

The judgement is computed by ``merging`` exactly as the judgement API
computes it; a moderation form carries the judgement's version (its ETag),
so a reviewer never agrees a grade over contributions they have not seen.
"""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect

from merging import OVERALL, PartnershipJudgement
from server.audits import actions as action_steps
from server.audits.actions import MAX_FIELD
from server.audits.judgement import JudgementRead, KeptJudgements, read_judgement
from server.audits.moderation import MAX_MODERATION_REASON, ModerationRead, moderate, read_moderation
from server.audits.views import action_overdue, audit_reference
from server.auth.permissions import Permission, may, needs
from server.auth.principal import Principal
from server.pages import case_details as case_form
from server.pages.common import action_status_tag, status_tag
from server.pages.rendering import (
    FormErrors,
    PageController,
    grade_label,
    read_form,
    redirect_with_notice,
    render_page,
)
from server.platform.problems import Conflict, InvalidInput, NotFound, PreconditionFailed
from server.platform.transactions import unit_of_work
from toolkits.model import Toolkit
from toolkits.text import has_visible_character

CHANGED_SINCE: Final = (
    "The judgement changed since you opened this page (an agency submitted or amended, or another reviewer "
    "moderated). Check the grades below and agree the grade again"
)


def grade_tag(toolkit: Toolkit, grade: int | None) -> dict[str, str]:
    colours = {1: "govuk-tag--green", 2: "govuk-tag--teal", 3: "govuk-tag--yellow", 4: "govuk-tag--red"}
    return {"text": grade_label(toolkit.scale.grades, grade), "classes": colours.get(grade or 0, "govuk-tag--grey")}


def agency_columns(judgement: PartnershipJudgement) -> list[tuple[str, str]]:
    """(organisation id, name) of every agency that graded something or said
    it was not involved, in a stable order: the table's columns."""
    seen: dict[str, str] = {}
    for section in judgement.sections:
        for graded in section.agencies:
            seen.setdefault(graded.organisation_id, graded.organisation_name)
        for absent in section.not_involved:
            seen.setdefault(absent.organisation_id, absent.organisation_name)
    for stated in judgement.overall.stated:
        seen.setdefault(stated.organisation_id, stated.organisation_name)
    for answer in (a for item in judgement.items for a in item.agencies):
        seen.setdefault(answer.organisation_id, answer.organisation_name)
    return sorted(seen.items(), key=lambda item: item[1])


def section_cells(judgement: PartnershipJudgement, columns: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Each section's row: for each agency its grade, "not involved" with
    its reason, or nothing."""
    rows = []
    for section in judgement.sections:
        grades = {g.organisation_id: g for g in section.agencies}
        absent = {a.organisation_id: a for a in section.not_involved}
        failed = {f.organisation_id for f in section.significant_failures}
        cells = [
            {"grade": grades.get(org), "not_involved": absent.get(org), "failure": org in failed}
            for org, _name in columns
        ]
        rows.append({"section": section, "cells": cells})
    return rows


def answers_by_question(read: ModerationRead) -> list[dict[str, Any]]:
    """The section's questions in the toolkit's order, each with every
    agency's answer to it side by side (questions nobody answered left
    out)."""
    section = next((s for s in read.toolkit.sections if s.id == read.target), None)
    if section is None:
        return []
    found = []
    for question in section.questions:
        answers = [
            {"agency": work.organisation_name, "answer": answer}
            for work in read.agencies
            if work.part is not None
            for answer in work.part.answers
            if answer.question_id == question.id
        ]
        if answers:
            found.append({"question": question.text, "answers": answers})
    return found


class ReviewPages(PageController):
    path = "/audits/{audit_id:uuid}"

    async def _combined(self, state: State, principal: Principal, audit_id: UUID) -> JudgementRead:
        """The judgement API's own read, so page and API can never differ."""
        async with unit_of_work(state, principal, identity_with_first_statement=True) as connection:
            return await read_judgement(connection, principal, state.toolkits, audit_id, KeptJudgements.of(state))

    @get("/judgement", cache=False, opt=needs(Permission.PARTNERSHIP_OVERSEE))
    async def combined_view(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
    ) -> Response[Any]:
        read = await self._combined(state, principal, audit_id)
        audit, toolkit, judgement = read.audit, read.toolkit, read.judgement
        if judgement is None:  # an agency's auditor: the staff's page is not theirs
            raise NotFound("no such audit")
        columns = agency_columns(judgement)
        overall_by_agency = {g.organisation_id: g.grade for g in judgement.overall.agencies}
        disagreements = [s for s in judgement.sections if s.disagreement is not None and s.moderation is None]
        return render_page(
            request,
            "web/reviewer/judgement.html",
            title="Partnership judgement",
            audit=audit,
            reference=audit_reference(toolkit, audit),
            toolkit=toolkit,
            judgement=judgement,
            columns=columns,
            rows=section_cells(judgement, columns),
            overall_cells=[overall_by_agency.get(org) for org, _name in columns],
            items=[
                {"item": item, "cells": [{a.organisation_id: a for a in item.agencies}.get(org) for org, _ in columns]}
                for item in judgement.items
            ],
            disagreements=disagreements,
            grade_text=lambda g: grade_label(toolkit.scale.grades, g),
            grade_tag=lambda g: grade_tag(toolkit, g),
            status_tag=status_tag,
            may_moderate=may(principal, Permission.JUDGEMENT_MODERATE) and not judgement.final,
            OVERALL=OVERALL,
            voices=read.voices,
        )

    # --- moderation ---

    async def _moderation_page(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: Principal,
        audit_id: UUID,
        section_id: str,
        *,
        errors: FormErrors | None = None,
        values: dict[str, Any] | None = None,
    ) -> Response[Any]:
        async with unit_of_work(state, principal) as connection:
            read = await read_moderation(connection, principal, state.toolkits, audit_id, section_id)
        audit, toolkit, judgement, tag = read.audit, read.toolkit, read.judgement, read.version
        result: Any = read.result
        title = read.title
        chosen = (values or {}).get("grade") or (str(result.grade) if result.moderation else "")
        return render_page(
            request,
            "web/reviewer/moderate.html",
            status_code=(409 if errors and "grade" in errors and "reason" not in errors else 422) if errors else 200,
            errors=errors,
            title=f"Agree the grade: {title}",
            section_title=title,
            audit=audit,
            toolkit=toolkit,
            judgement=judgement,
            result=result,
            agencies=read.agencies,
            voices=read.voices,
            by_question=answers_by_question(read),
            is_overall=section_id == OVERALL,
            section_id=section_id,
            judgement_version=tag,
            grade_items=[
                {
                    "value": str(g.value),
                    "text": grade_label(toolkit.scale.grades, g.value),
                    "checked": str(g.value) == chosen,
                }
                for g in toolkit.scale.grades
            ],
            reason=(values or {}).get("reason", result.moderation.reason if result.moderation else ""),
            grade_text=lambda g: grade_label(toolkit.scale.grades, g),
        )

    @get("/judgement/{section_id:str}", cache=False, opt=needs(Permission.JUDGEMENT_MODERATE))
    async def moderation_form(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        section_id: FromPath[str],
    ) -> Response[Any]:
        return await self._moderation_page(request, state, principal, audit_id, section_id)

    @post("/judgement/{section_id:str}", cache=False, opt=needs(Permission.JUDGEMENT_MODERATE))
    async def moderate(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        section_id: FromPath[str],
    ) -> Response[Any]:
        """The judgement API's ``PUT …/judgement/sections/{section}``, for a form."""
        form = await read_form(request)
        grade_text_typed = form.text("grade")
        reason = form.text("reason")
        errors = FormErrors()
        if grade_text_typed not in ("1", "2", "3", "4"):
            errors.add("grade", "Select the grade the panel agreed")
        if not has_visible_character(reason):
            errors.add("reason", "Enter the reason the panel agreed this grade")
        elif len(reason) > MAX_MODERATION_REASON:
            errors.add("reason", f"The reason must be {MAX_MODERATION_REASON} characters or fewer")
        if not errors:
            try:
                async with unit_of_work(state, principal) as connection:
                    await moderate(
                        connection,
                        principal,
                        state.toolkits,
                        audit_id,
                        section_id,
                        int(grade_text_typed),
                        reason,
                        seen_judgement=form.text("judgement_version"),
                    )
            except PreconditionFailed:
                errors.add("grade", CHANGED_SINCE)
            except Conflict as conflict:
                errors.add("grade", (conflict.detail or "This cannot be done now").capitalize())
            else:
                return redirect_with_notice(f"/audits/{audit_id}/judgement", "Agreed grade recorded")
        return await self._moderation_page(
            request,
            state,
            principal,
            audit_id,
            section_id,
            errors=errors,
            values={"grade": grade_text_typed, "reason": form.raw("reason")},
        )

    # --- remedial actions ---

    async def _actions_page(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: Principal,
        audit_id: UUID,
        *,
        errors: FormErrors | None = None,
        values: dict[str, Any] | None = None,
    ) -> Response[Any]:
        async with unit_of_work(state, principal) as connection:
            read = await action_steps.read_actions(connection, principal, state.toolkits, audit_id)
        names = {p.organisation_id: p.organisation_name for p in read.participants}
        return render_page(
            request,
            "web/reviewer/actions.html",
            status_code=422 if errors else 200,
            errors=errors,
            title="Remedial actions",
            audit=read.audit,
            reference=read.reference,
            actions=[
                {
                    "action": a,
                    "organisation": names.get(a.responsible_organisation_id) if a.responsible_organisation_id else None,
                    "overdue": action_overdue(a),
                }
                for a in read.actions
            ],
            organisation_items=[{"value": "", "text": "No one agency"}]
            + [
                {
                    "value": str(p.organisation_id),
                    "text": p.organisation_name,
                    "selected": (values or {}).get("organisation") == str(p.organisation_id),
                }
                for p in read.participants
            ],
            values=values or {},
            date_text=case_form.date_text,
            status_tag=action_status_tag,
        )

    @get("/actions", cache=False, opt=needs(Permission.PARTNERSHIP_OVERSEE))
    async def actions_tracker(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
    ) -> Response[Any]:
        return await self._actions_page(request, state, principal, audit_id)

    @get("/actions/{action_id:uuid}", cache=False, opt=needs(Permission.ACTION_READ))
    async def action_moved(self, audit_id: FromPath[UUID], action_id: FromPath[UUID]) -> Response[Any]:
        """Where an action's progress was recorded before every update was
        kept: its own page now (``/actions/{id}``), which checks who may see it."""
        return Redirect(f"/actions/{action_id}", status_code=301)

    @post("/actions", cache=False, opt=needs(Permission.ACTION_AGREE))
    async def add_action(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
    ) -> Response[Any]:
        """The actions API's ``POST``, for a form."""
        form = await read_form(request)
        errors = FormErrors()
        text = {name: form.text(name) for name in ("action", "who", "timescale")}
        if not has_visible_character(text["action"]):
            errors.add("action", "Enter what is to be done")
        for name, label in (("action", "The action"), ("who", "Who"), ("timescale", "The timescale")):
            if len(text[name]) > MAX_FIELD:
                errors.add(name, f"{label} must be {MAX_FIELD} characters or fewer")
        due_date, wrong = case_form.parse_date(form, "due-date")
        if wrong:
            errors.add("due-date-day", f"The due date {wrong}")
        organisation_text = form.text("organisation")
        organisation: UUID | None = None
        if organisation_text:
            try:
                organisation = UUID(organisation_text)
            except ValueError:
                errors.add("organisation", "Select an agency taking part, or no one agency")
        if not errors:
            try:
                async with unit_of_work(state, principal) as connection:
                    await action_steps.agree_action(
                        connection,
                        principal,
                        audit_id,
                        action=text["action"],
                        who=text["who"] or None,
                        timescale=text["timescale"] or None,
                        responsible_organisation_id=organisation,
                        due_date=due_date,
                    )
            except InvalidInput as invalid:
                for problem in invalid.errors:
                    if problem.field == "$.responsible_organisation_id":
                        errors.add("organisation", "Select an agency taking part, or no one agency")
                    else:
                        errors.add(problem.field.removeprefix("$."), problem.message[:1].upper() + problem.message[1:])
            else:
                return redirect_with_notice(f"/audits/{audit_id}/actions", "Remedial action added")
        return await self._actions_page(request, state, principal, audit_id, errors=errors, values=form.values)


route_handlers: list[Any] = [ReviewPages]
