"""The multi-agency panel's record as a page (``/audits/{id}/panel``): the
partnership's coordinators and reviewers write it while the audit is in
review; once it is closed the page shows it, final. The rules are
:mod:`server.audits.panel`'s, as ``PUT /api/audits/{id}/panel`` applies them."""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath

from server.audits import panel as steps
from server.audits.panel import Attendee, Decision, PanelContent, PanelRead, graded_sections
from server.auth.permissions import Permission, may, needs
from server.auth.principal import Principal
from server.pages import case_details as case_form
from server.pages.rendering import FormErrors, PageController, read_form, redirect_with_notice, render_page
from server.platform.problems import Conflict, InvalidInput, PreconditionFailed
from server.platform.transactions import unit_of_work

# Blank rows for new decisions under those already written.
NEW_DECISIONS: Final = 3


def _values(read: PanelRead) -> dict[str, str]:
    """The form's fields as the record has them."""
    record = read.record
    if record is None:
        return {}
    values: dict[str, str] = {}
    if record.held_on is not None:
        day = record.held_on
        values |= {"held-on-day": str(day.day), "held-on-month": str(day.month), "held-on-year": str(day.year)}
    for attendee in record.attendees:
        values[f"role-{attendee['organisation_id']}"] = str(attendee.get("role", ""))
    for section_id, narrative in record.section_narratives.items():
        values[f"narrative-{section_id}"] = narrative
    values["overall"] = record.overall_narrative or ""
    for i, decision in enumerate(record.decisions):
        values[f"decision-{i}"] = str(decision.get("decision", ""))
        values[f"made-by-{i}"] = str(decision.get("made_by_organisation_id") or "")
    return values


def _decision_rows(read: PanelRead, values: dict[str, str]) -> int:
    written = 0 if read.record is None else len(read.record.decisions)
    sent = max((int(k.removeprefix("decision-")) + 1 for k in values if k.startswith("decision-")), default=0)
    return max(written, sent) + NEW_DECISIONS


class PanelPages(PageController):
    path = "/audits/{audit_id:uuid}/panel"

    async def _page(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: Principal,
        audit_id: UUID,
        *,
        errors: FormErrors | None = None,
        values: dict[str, str] | None = None,
    ) -> Response[Any]:
        async with unit_of_work(state, principal) as connection:
            read = await steps.read_panel(connection, principal, state.toolkits, audit_id)
        shown = values if values is not None else _values(read)
        stale = errors is not None and "row-version" in errors
        return render_page(
            request,
            "web/panel/panel.html",
            status_code=(409 if stale else 422) if errors else 200,
            errors=errors,
            title="The panel's record",
            read=read,
            values=shown,
            sections=graded_sections(read.toolkit),
            organisations=sorted(((str(k), v) for k, v in read.organisations.items()), key=lambda item: item[1]),
            names={str(k): v for k, v in read.organisations.items()},
            decision_rows=range(_decision_rows(read, shown)),
            may_write=read.editable and may(principal, Permission.PANEL_RECORD),
            date_text=case_form.date_text,
        )

    @get("/", cache=False, opt=needs(Permission.PARTNERSHIP_OVERSEE))
    async def panel(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
    ) -> Response[Any]:
        return await self._page(request, state, principal, audit_id)

    @post("/", cache=False, opt=needs(Permission.PANEL_RECORD))
    async def record(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
    ) -> Response[Any]:
        """``PUT /api/audits/{id}/panel``, for a form."""
        form = await read_form(request)
        errors = FormErrors()
        held_on, wrong = case_form.parse_date(form, "held-on")
        if wrong:
            errors.add("held-on-day", f"The date the panel met {wrong}")
        attendees: list[Attendee] = []
        narratives: dict[str, str] = {}
        decisions: list[Decision] = []
        fields: dict[str, str] = {}
        for name, value in form.values.items():
            text = str(value).strip()
            if name.startswith("role-") and text:
                try:
                    attendees.append(Attendee(organisation_id=UUID(name.removeprefix("role-")), role=text))
                except ValueError:
                    continue
                fields[f"$.attendees[{len(attendees) - 1}].role"] = name
            elif name.startswith("narrative-") and text:
                narratives[name.removeprefix("narrative-")] = text
                fields[f"$.section_narratives.{name.removeprefix('narrative-')}"] = name
            elif name.startswith("decision-") and text:
                index = name.removeprefix("decision-")
                made_by = form.text(f"made-by-{index}")
                try:
                    decisions.append(
                        Decision(decision=text, made_by_organisation_id=UUID(made_by) if made_by else None)
                    )
                except ValueError:
                    errors.add(f"made-by-{index}", "Select an organisation of the partnership, or the panel")
                    continue
                fields[f"$.decisions[{len(decisions) - 1}].decision"] = name
        content = PanelContent(
            held_on=held_on,
            attendees=attendees,
            section_narratives=narratives,
            overall_narrative=form.text("overall") or None,
            decisions=decisions,
        )
        if not errors:
            try:
                async with unit_of_work(state, principal) as connection:
                    await steps.record_panel(
                        connection,
                        principal,
                        state.toolkits,
                        audit_id,
                        content,
                        seen_version=form.int_field("row_version"),
                    )
            except InvalidInput as invalid:
                for problem in invalid.errors:
                    field = {"$.held_on": "held-on-day", "$.overall_narrative": "overall"}.get(problem.field)
                    errors.add(
                        field or fields.get(problem.field, "overall"), problem.message[:1].upper() + problem.message[1:]
                    )
            except PreconditionFailed:
                errors.add("row-version", "Someone else saved the panel's record since you opened it; check it")
            except Conflict as conflict:
                errors.add("overall", str(conflict.detail)[:1].upper() + str(conflict.detail)[1:])
            else:
                return redirect_with_notice(f"/audits/{audit_id}/panel", "The panel's record is saved")
        return await self._page(
            request, state, principal, audit_id, errors=errors, values={k: str(v) for k, v in form.values.items()}
        )


route_handlers: list[Any] = [PanelPages]
