"""Audit programmes as pages: ``/programmes`` lists the partnership's
rounds and sets one up; ``/programmes/{id}`` shows its progress per audit
and per agency and takes its cases from a CSV file (every line or none,
problems by line). The rules are :mod:`server.audits.programmes`'s, as
``/api/programmes`` applies them."""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath

from server.audits import programmes as steps
from server.audits.programmes import NewProgramme
from server.auth.permissions import Permission, may, needs
from server.auth.principal import Principal
from server.pages import case_details as case_form
from server.pages.common import status_tag
from server.pages.rendering import FormErrors, PageController, read_form, redirect_with_notice, render_page
from server.platform.problems import Conflict, InvalidInput
from server.platform.transactions import unit_of_work

UPLOAD_FIELD: Final = "cases-file"
MAX_UPLOAD_BYTES: Final = 512 * 1024


class ProgrammePages(PageController):
    path = "/programmes"

    async def _list_page(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: Principal,
        *,
        errors: FormErrors | None = None,
        values: dict[str, Any] | None = None,
    ) -> Response[Any]:
        async with unit_of_work(state, principal) as connection:
            found = await steps.list_programmes(connection, principal)
        return render_page(
            request,
            "web/programmes/programmes.html",
            status_code=422 if errors else 200,
            errors=errors,
            title="Audit programmes",
            programmes=found,
            toolkit_items=[
                {"value": i, "text": state.toolkits.current(i).title, "selected": (values or {}).get("toolkit") == i}
                for i in state.toolkits.ids()
            ],
            values=values or {},
            may_manage=may(principal, Permission.PROGRAMME_MANAGE),
            date_text=case_form.date_text,
        )

    @get("/", cache=False, opt=needs(Permission.PROGRAMME_READ))
    async def programmes(
        self, request: Request[Any, Any, Any], state: State, principal: NamedDependency[Principal]
    ) -> Response[Any]:
        return await self._list_page(request, state, principal)

    @post("/", cache=False, opt=needs(Permission.PROGRAMME_MANAGE))
    async def create(
        self, request: Request[Any, Any, Any], state: State, principal: NamedDependency[Principal]
    ) -> Response[Any]:
        """``POST /api/programmes``, for a form."""
        form = await read_form(request)
        errors = FormErrors()
        start, wrong_start = case_form.parse_date(form, "period-start")
        end, wrong_end = case_form.parse_date(form, "period-end")
        if wrong_start:
            errors.add("period-start-day", f"The start of the period {wrong_start}")
        if wrong_end:
            errors.add("period-end-day", f"The end of the period {wrong_end}")
        agencies = [a.strip() for a in form.raw("agencies").replace(",", ";").split(";") if a.strip()]
        if not errors:
            try:
                async with unit_of_work(state, principal) as connection:
                    created = await steps.create_programme(
                        connection,
                        principal,
                        state.toolkits,
                        NewProgramme(
                            name=form.text("name"),
                            toolkit=form.text("toolkit"),
                            focus=form.text("focus") or None,
                            period_start=start,
                            period_end=end,
                            selection_criteria=form.text("selection-criteria") or None,
                            agencies=agencies,
                        ),
                    )
            except InvalidInput as invalid:
                ids = {"$.period_end": "period-end-day", "$.selection_criteria": "selection-criteria"}
                for problem in invalid.errors:
                    field = ids.get(problem.field) or problem.field.removeprefix("$.").split("[")[0]
                    errors.add(field, problem.message[:1].upper() + problem.message[1:])
            except Conflict as conflict:
                errors.add("name", str(conflict.detail)[:1].upper() + str(conflict.detail)[1:])
            else:
                return redirect_with_notice(f"/programmes/{created.id}", "Programme set up")
        return await self._list_page(request, state, principal, errors=errors, values=form.values)

    async def _page(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: Principal,
        programme_id: UUID,
        *,
        errors: FormErrors | None = None,
        problems: list[str] | None = None,
    ) -> Response[Any]:
        async with unit_of_work(state, principal) as connection:
            read = await steps.read_programme(connection, principal, state.toolkits, programme_id)
        return render_page(
            request,
            "web/programmes/programme.html",
            status_code=422 if errors else 200,
            errors=errors,
            title=read.programme.name,
            read=read,
            problems=problems or [],
            status_tag=status_tag,
            date_text=case_form.date_text,
            may_add=may(principal, Permission.PROGRAMME_MANAGE) and may(principal, Permission.AUDIT_CREATE),
            # The audits list, themes and grades export are the overseers'.
            may_list_audits=may(principal, Permission.PARTNERSHIP_OVERSEE),
            toolkit_title=state.toolkits.current(read.programme.toolkit_id).title,
        )

    @get("/{programme_id:uuid}", cache=False, opt=needs(Permission.PROGRAMME_READ))
    async def programme(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        programme_id: FromPath[UUID],
    ) -> Response[Any]:
        return await self._page(request, state, principal, programme_id)

    @post("/{programme_id:uuid}/cases", cache=False, opt=needs(Permission.AUDIT_CREATE))
    async def import_cases(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        programme_id: FromPath[UUID],
    ) -> Response[Any]:
        """``POST /api/programmes/{id}/cases.csv``, for a file chosen in a form."""
        form = await read_form(request)
        upload = form.data.get(UPLOAD_FIELD)
        errors = FormErrors()
        if not isinstance(upload, UploadFile) or not upload.filename:
            errors.add(UPLOAD_FIELD, "Choose the CSV file of the programme's cases")
            return await self._page(request, state, principal, programme_id, errors=errors)
        data = await upload.read()
        if len(data) > MAX_UPLOAD_BYTES:
            errors.add(UPLOAD_FIELD, f"The file must be smaller than {MAX_UPLOAD_BYTES // 1024} KB")
            return await self._page(request, state, principal, programme_id, errors=errors)
        try:
            async with unit_of_work(state, principal) as connection:
                created = await steps.import_cases_csv(connection, principal, state.toolkits, programme_id, data)
        except (InvalidInput, Conflict) as refused:
            count = len(refused.errors)
            errors.add(
                UPLOAD_FIELD,
                f"Nothing was imported: the file has {count} {'problem' if count == 1 else 'problems'}. "
                f"Correct {'it' if count == 1 else 'them'} and choose the file again"
                if count
                else str(refused.detail),
            )
            return await self._page(
                request, state, principal, programme_id, errors=errors, problems=[p.message for p in refused.errors]
            )
        return redirect_with_notice(f"/programmes/{programme_id}", f"{len(created)} cases imported as draft audits")


route_handlers: list[Any] = [ProgrammePages]
