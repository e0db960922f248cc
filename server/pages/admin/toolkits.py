"""The administrator's pages for the partnership's toolkits: which are
offered and with which merge policy, uploading a version of its own (every
problem the loader finds listed with its line, as ``maca toolkits
validate`` prints them), previewing a version as each agency would see it,
and activating it for new audits."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath

from agencies.kinds import AGENCY_KIND_CODES, AGENCY_KINDS
from server.audits.administration import toolkits
from server.audits.administration.toolkits import MAX_UPLOAD_BYTES, ToolkitChoice, ToolkitsView
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
from server.pages.admin.common import policy_name
from server.pages.rendering import (
    STALE_MESSAGE,
    FormErrors,
    PageController,
    read_form,
    redirect_with_notice,
    render_page,
)
from server.platform.problems import Conflict, InvalidInput, NotFound, PreconditionFailed
from server.platform.transactions import unit_of_work

__all__ = ["ToolkitPages", "route_handlers"]

UPLOAD_FIELD = "definition"


class ToolkitPages(PageController):
    path = "/admin/toolkits"

    async def _read(self, state: State, principal: Principal) -> ToolkitsView:
        async with unit_of_work(state, principal) as connection:
            return await toolkits.read_toolkits(connection, principal, state.toolkits)

    async def _list_page(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: Principal,
        *,
        errors: FormErrors | None = None,
        problems: list[str] | None = None,
        status_code: int = 422,
    ) -> Response[Any]:
        read = await self._read(state, principal)
        return render_page(
            request,
            "web/admin/toolkits.html",
            status_code=status_code if errors else 200,
            errors=errors,
            title="Toolkits",
            toolkits=read.toolkits,
            policy_name=policy_name,
            problems=problems or [],
            max_kb=MAX_UPLOAD_BYTES // 1024,
        )

    @get("/", cache=False, opt=needs(Permission.TOOLKIT_ADMINISTER))
    async def toolkit_list(
        self, request: Request[Any, Any, Any], state: State, principal: NamedDependency[Principal]
    ) -> Response[Any]:
        return await self._list_page(request, state, principal)

    @post("/versions", cache=False, opt=needs(Permission.TOOLKIT_ADMINISTER))
    async def upload(
        self, request: Request[Any, Any, Any], state: State, principal: NamedDependency[Principal]
    ) -> Response[Any]:
        form = await read_form(request)
        upload = form.data.get(UPLOAD_FIELD)
        errors = FormErrors()
        if not isinstance(upload, UploadFile) or not upload.filename:
            errors.add(UPLOAD_FIELD, "Choose the toolkit version’s YAML file")
            return await self._list_page(request, state, principal, errors=errors)
        text = await upload.read()
        try:
            async with unit_of_work(state, principal) as connection:
                version = await toolkits.upload_version(connection, principal, state.toolkits, upload.filename, text)
        except (InvalidInput, Conflict) as refused:
            errors.add(UPLOAD_FIELD, refused.detail or "The file cannot be used")
            located = [problem.message for problem in refused.errors]
            return await self._list_page(
                request, state, principal, errors=errors, problems=located, status_code=refused.status
            )
        return redirect_with_notice(
            f"/admin/toolkits/versions/{version.id}",
            f"{version.title} version {version.version} is kept. Preview it, then activate it for new audits",
        )

    @get("/versions/{version_id:uuid}", cache=False, opt=needs(Permission.TOOLKIT_ADMINISTER))
    async def preview(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        version_id: FromPath[UUID],
    ) -> Response[Any]:
        agency = request.query_params.get("agency") or "childrens-social-care"
        if agency not in AGENCY_KIND_CODES:
            agency = "childrens-social-care"
        referrer = request.query_params.get("referrer") == "yes"
        async with unit_of_work(state, principal) as connection:
            preview = await toolkits.preview_version(
                connection, principal, state.toolkits, version_id, agency_kind=agency, is_referrer=referrer
            )
        return render_page(
            request,
            "web/admin/preview.html",
            title=f"{preview.version.title}, version {preview.version.version}",
            preview=preview,
            kinds=[{"value": kind.code, "text": kind.name, "selected": kind.code == agency} for kind in AGENCY_KINDS],
            agency_name=next(kind.name for kind in AGENCY_KINDS if kind.code == agency),
            referrer=referrer,
        )

    @get("/{toolkit_id:str}", cache=False, opt=needs(Permission.TOOLKIT_ADMINISTER))
    async def toolkit(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        toolkit_id: FromPath[str],
    ) -> Response[Any]:
        return await self._toolkit_page(request, state, principal, toolkit_id)

    async def _toolkit_page(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: Principal,
        toolkit_id: str,
        *,
        values: dict[str, Any] | None = None,
        errors: FormErrors | None = None,
    ) -> Response[Any]:
        read = await self._read(state, principal)
        found = next((t for t in read.toolkits if t.toolkit_id == toolkit_id), None)
        if found is None:
            raise NotFound("no such toolkit")
        return render_page(
            request,
            "web/admin/toolkit.html",
            status_code=422 if errors else 200,
            errors=errors,
            title=found.title,
            toolkit=found,
            policies=read.policies,
            policy_name=policy_name,
            values=values
            or {"offered": "yes" if found.offered else "no", "merge-policy": found.chosen_merge_policy or ""},
        )

    @post("/{toolkit_id:str}", cache=False, opt=needs(Permission.TOOLKIT_ADMINISTER))
    async def change_choice(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        toolkit_id: FromPath[str],
    ) -> Response[Any]:
        form = await read_form(request)
        choice = ToolkitChoice(offered=form.text("offered") != "no", merge_policy=form.text("merge-policy") or None)
        try:
            async with unit_of_work(state, principal) as connection:
                await toolkits.change_choice(
                    connection,
                    principal,
                    state.toolkits,
                    toolkit_id,
                    choice,
                    seen_version=form.int_field("row_version"),
                )
        except (InvalidInput, PreconditionFailed) as problem:
            errors = FormErrors()
            errors.add("merge-policy", STALE_MESSAGE if isinstance(problem, PreconditionFailed) else "Choose a policy")
            return await self._toolkit_page(request, state, principal, toolkit_id, values=form.values, errors=errors)
        return redirect_with_notice(f"/admin/toolkits/{toolkit_id}", "The toolkit’s settings are saved")

    @post("/{toolkit_id:str}/activation", cache=False, opt=needs(Permission.TOOLKIT_ADMINISTER))
    async def activate(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        toolkit_id: FromPath[str],
    ) -> Response[Any]:
        form = await read_form(request)
        chosen = form.text("version_id")
        try:
            version_id = None if chosen in ("", "shipped") else UUID(chosen)
        except ValueError:
            raise NotFound("no such toolkit version") from None
        try:
            async with unit_of_work(state, principal) as connection:
                activated = await toolkits.activate_version(
                    connection,
                    principal,
                    state.toolkits,
                    toolkit_id,
                    version_id,
                    seen_version=form.int_field("row_version"),
                )
        except PreconditionFailed:
            errors = FormErrors()
            errors.add("merge-policy", STALE_MESSAGE)
            return await self._toolkit_page(request, state, principal, toolkit_id, errors=errors)
        which = f"version {activated.current_version}" + (" (your partnership’s)" if activated.current_is_local else "")
        return redirect_with_notice(f"/admin/toolkits/{toolkit_id}", f"New audits of {activated.title} take {which}")


route_handlers: list[Any] = [ToolkitPages]
