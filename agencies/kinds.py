"""Agency kinds: the codes used in toolkit selectors, organisations and tokens."""

from __future__ import annotations

import msgspec


class AgencyKind(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str


AGENCY_KINDS: tuple[AgencyKind, ...] = (
    AgencyKind(code="childrens-social-care", name="Children's social care"),
    AgencyKind(code="health", name="Health"),
    AgencyKind(code="police", name="Police"),
    AgencyKind(code="education", name="Education"),
    AgencyKind(code="early-help", name="Early help"),
    AgencyKind(code="probation", name="Probation"),
    AgencyKind(code="housing", name="Housing"),
    AgencyKind(code="youth-justice", name="Youth justice"),
    AgencyKind(code="adult-mental-health", name="Adult mental health"),
    AgencyKind(code="adult-social-care", name="Adult social care"),
    AgencyKind(code="voluntary-sector", name="Voluntary and community sector"),
    AgencyKind(code="cafcass", name="Cafcass"),
)

AGENCY_KIND_CODES: frozenset[str] = frozenset(kind.code for kind in AGENCY_KINDS)

CHILDRENS_SOCIAL_CARE = "childrens-social-care"


def agency_kind(code: str) -> AgencyKind:
    for kind in AGENCY_KINDS:
        if kind.code == code:
            return kind
    raise LookupError(f"unknown agency kind {code!r}")
