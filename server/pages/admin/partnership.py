"""The administrator's home page (where the partnership stands, and what
to do on day one), the partnership's settings, and the administration
trail."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import Parameter

from server.audits.administration import partnership
from server.audits.administration.partnership import PartnershipSettings, PartnershipSettingsView
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
from server.pages.admin.common import trail_rows
from server.pages.rendering import (
    STALE_MESSAGE,
    Form,
    FormErrors,
    PageController,
    field_problems_to_errors,
    read_form,
    redirect_with_notice,
    render_page,
)
from server.platform.problems import Conflict, InvalidInput, PreconditionFailed
from server.platform.transactions import unit_of_work

__all__ = ["AdministrationPages", "route_handlers"]

FIELD_IDS = {
    "$.code": "code",
    "$.name": "name",
    "$.default_due_days": "default-due-days",
    "$.reminder_days_before": "reminder-days-before",
    "$.overdue_reminder_days": "overdue-reminder-days",
    "$.retention_days": "retention-days",
}
MAX_BIGINT = 2**63 - 1


def _days(form: Form, name: str, errors: FormErrors, what: str) -> int | None:
    text = form.text(name)
    if not text:
        return None
    if not text.isdigit() or len(text) > 6:
        errors.add(name, f"Enter {what} as a whole number of days")
        return None
    return int(text)


def _settings_from(form: Form, errors: FormErrors) -> PartnershipSettings:
    reminders: list[int] = []
    for item in form.text("reminder-days-before").replace(",", " ").split():
        if not item.isdigit() or len(item) > 6:
            errors.add("reminder-days-before", "Enter the reminders as days before the due date, such as 7, 1")
            break
        reminders.append(int(item))
    return PartnershipSettings(
        code=form.text("code"),
        name=form.text("name"),
        default_due_days=_days(form, "default-due-days", errors, "the default due period"),
        reminder_days_before=reminders,
        overdue_reminder_days=_days(form, "overdue-reminder-days", errors, "how often to remind while overdue") or 0,
        retention_days=_days(form, "retention-days", errors, "the retention period"),
    )


def _values(settings: PartnershipSettingsView) -> dict[str, Any]:
    return {
        "code": settings.code,
        "name": settings.name,
        "default-due-days": "" if settings.default_due_days is None else str(settings.default_due_days),
        "reminder-days-before": ", ".join(str(days) for days in settings.reminder_days_before),
        "overdue-reminder-days": str(settings.overdue_reminder_days),
        "retention-days": "" if settings.retention_days is None else str(settings.retention_days),
    }


class AdministrationPages(PageController):
    path = "/admin"

    @get("/", cache=False, opt=needs(Permission.PARTNERSHIP_ADMINISTER))
    async def home(
        self, request: Request[Any, Any, Any], state: State, principal: NamedDependency[Principal]
    ) -> Response[Any]:
        async with unit_of_work(state, principal) as connection:
            overview = await partnership.read_overview(
                connection, principal, state.toolkits, default_retention_days=state.settings.retention_days
            )
        return render_page(
            request,
            "web/admin/home.html",
            title="Administration",
            overview=overview,
            recent=trail_rows(overview.recent),
        )

    def _settings_page(
        self,
        request: Request[Any, Any, Any],
        settings: PartnershipSettingsView,
        values: dict[str, Any],
        errors: FormErrors | None = None,
        status_code: int = 422,
    ) -> Response[Any]:
        return render_page(
            request,
            "web/admin/partnership.html",
            status_code=status_code if errors else 200,
            errors=errors,
            title="The partnership’s settings",
            settings=settings,
            values=values,
        )

    async def _settings(self, state: State, principal: Principal) -> PartnershipSettingsView:
        async with unit_of_work(state, principal) as connection:
            return await partnership.read_settings(
                connection, principal, default_retention_days=state.settings.retention_days
            )

    @get("/partnership", cache=False, opt=needs(Permission.PARTNERSHIP_ADMINISTER))
    async def settings_form(
        self, request: Request[Any, Any, Any], state: State, principal: NamedDependency[Principal]
    ) -> Response[Any]:
        settings = await self._settings(state, principal)
        return self._settings_page(request, settings, _values(settings))

    @post("/partnership", cache=False, opt=needs(Permission.PARTNERSHIP_ADMINISTER))
    async def save_settings(
        self, request: Request[Any, Any, Any], state: State, principal: NamedDependency[Principal]
    ) -> Response[Any]:
        form = await read_form(request)
        errors = FormErrors()
        new = _settings_from(form, errors)
        for field_id, message in field_problems_to_errors(
            partnership.settings_problems(new), FIELD_IDS
        ).messages.items():
            errors.add(field_id, message)
        if errors:
            return self._settings_page(request, await self._settings(state, principal), form.values, errors)
        try:
            async with unit_of_work(state, principal) as connection:
                await partnership.change_settings(
                    connection,
                    principal,
                    new,
                    seen_version=form.int_field("row_version"),
                    default_retention_days=state.settings.retention_days,
                )
        except (InvalidInput, Conflict, PreconditionFailed) as problem:
            errors = field_problems_to_errors(problem.errors, FIELD_IDS)
            if isinstance(problem, PreconditionFailed):
                errors.add("name", STALE_MESSAGE)
            elif isinstance(problem, Conflict):
                errors.add("code", (problem.detail or "This code is taken").capitalize())
            settings = await self._settings(state, principal)
            return self._settings_page(request, settings, form.values, errors, problem.status)
        state.identity_recorder.forget()  # principals carry the partnership's name and code
        return redirect_with_notice("/admin/partnership", "The partnership’s settings are saved")

    @get("/trail", cache=False, opt=needs(Permission.PARTNERSHIP_ADMINISTER))
    async def trail(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        before: int | None = Parameter(default=None, ge=1, le=MAX_BIGINT),
    ) -> Response[Any]:
        async with unit_of_work(state, principal) as connection:
            entries = await partnership.read_trail(connection, principal, before=before, limit=50)
        return render_page(
            request,
            "web/admin/trail.html",
            title="Administration trail",
            trail=trail_rows(entries),
            older=entries[-1].id if len(entries) == 50 else None,
        )


route_handlers: list[Any] = [AdministrationPages]
