"""The partnership's learning themes, kept by its administrator
(``/admin/learning-themes``): the list reviewers tag learning with and the
dashboard counts by. A theme is retired rather than removed, so the
learning already tagged with it keeps its counts."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath

from server.audits import learning as steps
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
from server.pages.rendering import FormErrors, PageController, read_form, redirect_with_notice, render_page
from server.platform.problems import Conflict, InvalidInput
from server.platform.transactions import unit_of_work


class LearningThemePages(PageController):
    path = "/admin/learning-themes"

    async def _page(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: Principal,
        *,
        errors: FormErrors | None = None,
        values: dict[str, Any] | None = None,
    ) -> Response[Any]:
        async with unit_of_work(state, principal) as connection:
            themes = await steps.list_themes(connection, principal)
        return render_page(
            request,
            "web/admin/learning_themes.html",
            status_code=422 if errors else 200,
            errors=errors,
            title="Learning themes",
            themes=themes,
            values=values or {},
        )

    @get("/", cache=False, opt=needs(Permission.PARTNERSHIP_ADMINISTER))
    async def themes(
        self, request: Request[Any, Any, Any], state: State, principal: NamedDependency[Principal]
    ) -> Response[Any]:
        return await self._page(request, state, principal)

    @post("/", cache=False, opt=needs(Permission.PARTNERSHIP_ADMINISTER))
    async def add(
        self, request: Request[Any, Any, Any], state: State, principal: NamedDependency[Principal]
    ) -> Response[Any]:
        """``POST /api/admin/learning-themes``, for a form."""
        form = await read_form(request)
        errors = FormErrors()
        try:
            async with unit_of_work(state, principal) as connection:
                added = await steps.add_theme(
                    connection, principal, form.text("name"), form.text("description") or None
                )
        except InvalidInput as invalid:
            for problem in invalid.errors:
                errors.add(problem.field.removeprefix("$."), problem.message[:1].upper() + problem.message[1:])
        except Conflict as conflict:
            errors.add("name", str(conflict.detail)[:1].upper() + str(conflict.detail)[1:])
        else:
            return redirect_with_notice("/admin/learning-themes", f"{added.name} is added")
        return await self._page(request, state, principal, errors=errors, values=form.values)

    @post("/{theme_id:uuid}", cache=False, opt=needs(Permission.PARTNERSHIP_ADMINISTER))
    async def change(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        theme_id: FromPath[UUID],
    ) -> Response[Any]:
        """``PATCH /api/admin/learning-themes/{id}``, for a button."""
        form = await read_form(request)
        async with unit_of_work(state, principal) as connection:
            changed = await steps.set_theme_active(connection, principal, theme_id, form.text("active") == "yes")
        return redirect_with_notice(
            "/admin/learning-themes", f"{changed.name} is {'in use again' if changed.active else 'retired'}"
        )


route_handlers: list[Any] = [LearningThemePages]
