"""Learning over HTTP (the rules: :mod:`server.audits.learning`): the
partnership's learning themes (kept by its administrators), an audit's
passages of learning and their tags (reviewers), and the dashboard's
learning view with its search."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, patch, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from server.api.preconditions import IDEMPOTENCY_KEY, preconditions
from server.audits import learning as steps
from server.audits.learning import Passage, ThemeRow
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
from server.platform.transactions import idempotent, json_response, unit_of_work


class ThemeView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    name: str
    description: str | None
    active: bool
    updated_at: datetime.datetime


class PassageView(msgspec.Struct, frozen=True, kw_only=True):
    audit_id: UUID
    case_reference: str | None
    organisation_id: UUID | None  # null: the panel's record
    organisation_name: str
    question_id: str
    kind: str  # key-learning, good-practice, recommendation, panel
    question: str
    text: str
    theme_ids: list[UUID]


class AuditLearningView(msgspec.Struct, frozen=True, kw_only=True):
    audit_id: UUID
    case_reference: str | None
    passages: list[PassageView]


class ThemeCountView(msgspec.Struct, frozen=True, kw_only=True):
    theme_id: UUID
    name: str
    passages: int
    audits: int


class LearningView(msgspec.Struct, frozen=True, kw_only=True):
    themes: list[ThemeCountView]
    # for those who oversee the partnership: behind ?theme= or for ?q=
    passages: list[PassageView]


class NewTheme(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str
    description: str | None = None


class ThemeChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    active: bool


class PassageTags(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    organisation_id: UUID | None  # null: the panel's record
    question_id: str
    theme_ids: list[UUID]


def _theme(row: ThemeRow) -> ThemeView:
    return ThemeView(
        id=row.id, name=row.name, description=row.description, active=row.active, updated_at=row.updated_at
    )


def _passage(reference: str | None, p: Passage) -> PassageView:
    return PassageView(
        audit_id=p.audit_id,
        case_reference=reference,
        organisation_id=p.organisation_id,
        organisation_name=p.organisation_name,
        question_id=p.question_id,
        kind=p.kind,
        question=p.question,
        text=p.text,
        theme_ids=list(p.theme_ids),
    )


class LearningController(Controller):
    tags = ("learning",)

    @get(
        "/api/learning",
        summary="Learning themes with their counts; the passages behind one (?theme=) or searched (?q=)",
        opt=needs(Permission.REPORT_READ),
    )
    async def dashboard(
        self,
        state: State,
        principal: NamedDependency[Principal],
        programme: FromQuery[UUID | None] = None,
        theme: FromQuery[UUID | None] = None,
        q: FromQuery[str | None] = None,
    ) -> LearningView:
        async with unit_of_work(state, principal) as connection:
            read = await steps.read_dashboard(
                connection, principal, state.toolkits, programme_id=programme, theme_id=theme, search=q
            )
        return LearningView(
            themes=[
                ThemeCountView(theme_id=c.theme_id, name=c.name, passages=c.passages, audits=c.audits)
                for c in read.counts
            ],
            passages=[_passage(reference, p) for reference, p in read.passages],
        )

    @get("/api/learning/themes", summary="The partnership's learning themes", opt=needs(Permission.REPORT_READ))
    async def themes(self, state: State, principal: NamedDependency[Principal]) -> list[ThemeView]:
        async with unit_of_work(state, principal) as connection:
            found = await steps.list_themes(connection, principal)
        return [_theme(t) for t in found]

    @get(
        "/api/audits/{audit_id:uuid}/learning",
        summary="An audit's passages of learning with their themes",
        opt=needs(Permission.PARTNERSHIP_OVERSEE),
    )
    async def audit_learning(
        self, state: State, principal: NamedDependency[Principal], audit_id: FromPath[UUID]
    ) -> AuditLearningView:
        async with unit_of_work(state, principal) as connection:
            read = await steps.read_audit_learning(connection, principal, state.toolkits, audit_id)
        return AuditLearningView(
            audit_id=read.audit_id,
            case_reference=read.reference,
            passages=[_passage(read.reference, p) for p in read.passages],
        )

    @put(
        "/api/audits/{audit_id:uuid}/learning/tags",
        summary="Set the learning themes of one passage (reviewer)",
        opt=needs(Permission.LEARNING_TAG),
    )
    async def tag(
        self,
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        data: JSONBody[PassageTags],
    ) -> PassageView:
        async with unit_of_work(state, principal) as connection:
            passage = await steps.tag_passage(
                connection,
                principal,
                state.toolkits,
                audit_id,
                organisation_id=data.organisation_id,
                question_id=data.question_id,
                theme_ids=data.theme_ids,
            )
        return _passage(None, passage)

    @get(
        "/api/admin/learning-themes",
        summary="The partnership's learning themes, to keep",
        opt=needs(Permission.PARTNERSHIP_ADMINISTER),
    )
    async def admin_themes(self, state: State, principal: NamedDependency[Principal]) -> list[ThemeView]:
        async with unit_of_work(state, principal) as connection:
            found = await steps.list_themes(connection, principal)
        return [_theme(t) for t in found]

    @post(
        "/api/admin/learning-themes",
        summary="Add a learning theme (administrator)",
        status_code=201,
        opt=needs(Permission.PARTNERSHIP_ADMINISTER) | preconditions(IDEMPOTENCY_KEY),
    )
    async def add_theme(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        data: JSONBody[NewTheme],
    ) -> Response[ThemeView]:
        async with unit_of_work(state, principal) as connection:

            async def write() -> Response[ThemeView]:
                added = await steps.add_theme(connection, principal, data.name, data.description)
                return json_response(_theme(added), status=201)

            return await idempotent(request, connection, principal, write)

    @patch(
        "/api/admin/learning-themes/{theme_id:uuid}",
        summary="Retire a learning theme or bring it back (administrator)",
        opt=needs(Permission.PARTNERSHIP_ADMINISTER),
    )
    async def change_theme(
        self,
        state: State,
        principal: NamedDependency[Principal],
        theme_id: FromPath[UUID],
        data: JSONBody[ThemeChange],
    ) -> ThemeView:
        async with unit_of_work(state, principal) as connection:
            changed = await steps.set_theme_active(connection, principal, theme_id, data.active)
        return _theme(changed)


route_handlers: list[Any] = [LearningController]
