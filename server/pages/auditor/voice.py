"""The agency auditor's page for the practitioner and family voice: an
optional task of their part in an audit (``/your-audits/{id}/voice``).
Whether the findings were discussed with the practitioner and their
manager and what they said (seed 001), whether the family's views were
sought and what they were (seed 002). The same steps as the API's
``…/voice`` (:mod:`server.audits.voices`): the same checks, versions and
events. Works without JavaScript: every field is always shown.
"""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath

from server.audits import voices as steps
from server.audits.voices import FAMILY_VIEWS_SOUGHT, FINDINGS_DISCUSSED, VoiceContent, VoiceRead, VoiceView
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
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
from server.platform.problems import InvalidInput, NotFound, PreconditionFailed
from server.platform.transactions import unit_of_work

__all__ = ["route_handlers"]

# The form's fields, by the JSON path a problem names.
FIELD_IDS: Final = {
    "$.findings_discussed": "findings-discussed",
    "$.practitioner_views": "practitioner-views",
    "$.manager_views": "manager-views",
    "$.family_views_sought": "family-views-sought",
    "$.family_views": "family-views",
}


def _values(voice: VoiceView) -> dict[str, str]:
    return {
        "findings-discussed": voice.findings_discussed or "",
        "practitioner-views": voice.practitioner_views or "",
        "manager-views": voice.manager_views or "",
        "family-views-sought": voice.family_views_sought or "",
        "family-views": voice.family_views or "",
    }


def _read(form: Form, errors: FormErrors) -> VoiceContent:
    """The voice as the form has it; a choice the form never offered is an error."""
    discussed = form.text("findings-discussed") or None
    if discussed is not None and discussed not in FINDINGS_DISCUSSED:
        errors.add("findings-discussed", "Choose whether the findings were discussed")
        discussed = None
    sought = form.text("family-views-sought") or None
    if sought is not None and sought not in FAMILY_VIEWS_SOUGHT:
        errors.add("family-views-sought", "Choose whether the family's views were sought")
        sought = None
    return VoiceContent(
        findings_discussed=discussed,  # type: ignore[arg-type] # checked against the choices above
        practitioner_views=form.raw("practitioner-views") or None,
        manager_views=form.raw("manager-views") or None,
        family_views_sought=sought,  # type: ignore[arg-type]
        family_views=form.raw("family-views") or None,
    )


class VoicePages(PageController):
    path = "/your-audits/{audit_id:uuid}/voice"

    def _page(
        self,
        request: Request[Any, Any, Any],
        read: VoiceRead,
        values: dict[str, str],
        errors: FormErrors | None = None,
    ) -> Response[str]:
        return render_page(
            request,
            "web/auditor/voice.html",
            status_code=422 if errors else 200,
            errors=errors,
            title="Practitioner and family voice",
            read=read,
            voice=read.voice,
            values=values,
            back=f"/your-audits/{read.audit.id}",
            findings_discussed=FINDINGS_DISCUSSED,
            family_views_sought=FAMILY_VIEWS_SOUGHT,
        )

    @get("/", cache=False, opt=needs(Permission.CONTRIBUTION_WRITE))
    async def voice(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
    ) -> Response[str]:
        async with unit_of_work(state, principal) as connection:
            read = await _own(steps.read_voice(connection, principal, audit_id, principal.organisation_id))
        return self._page(request, read, _values(read.voice))

    @post("/", status_code=303, opt=needs(Permission.CONTRIBUTION_WRITE))
    async def save_voice(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
    ) -> Response[Any]:
        form = await read_form(request)
        errors = FormErrors()
        content = _read(form, errors)
        for field_id, message in field_problems_to_errors(steps.voice_problems(content), FIELD_IDS).messages.items():
            errors.add(field_id, message)
        async with unit_of_work(state, principal) as connection:
            if not errors:
                try:
                    await steps.save_voice(
                        connection,
                        principal,
                        audit_id,
                        principal.organisation_id,
                        content,
                        seen_version=form.int_field("row_version"),
                    )
                except PreconditionFailed:
                    errors.add("main-content", STALE_MESSAGE)
                except InvalidInput as problem:  # the step's own check, as the form's above
                    for error in problem.errors:
                        errors.add(FIELD_IDS.get(error.field, "main-content"), error.message)
            if errors:
                read = await _own(steps.read_voice(connection, principal, audit_id, principal.organisation_id))
        if errors:
            return self._page(request, read, form.values, errors)
        return redirect_with_notice(f"/your-audits/{audit_id}", "The practitioner and family voice has been saved")


async def _own(reading: Any) -> VoiceRead:
    """The read as the page's own: "no such audit" for anything not the caller's."""
    try:
        read: VoiceRead = await reading
    except NotFound:
        raise NotFound("no such audit") from None
    return read


route_handlers: list[Any] = [VoicePages]
