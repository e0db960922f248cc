"""Who answers: agency kinds, which questions an agency answers on a case,
and its contribution checked and measured against them."""

from agencies.applicability import (
    Participant,
    applicable_sections,
    condition_holds,
    is_area,
    may_be_not_involved,
    question_applies,
    question_shown,
    section_shown,
    selects,
    view_for,
)
from agencies.contributions import contribution_progress, validate_contribution
from agencies.kinds import AGENCY_KIND_CODES, AGENCY_KINDS, CHILDRENS_SOCIAL_CARE, AgencyKind, agency_kind

__all__ = [
    "AGENCY_KINDS",
    "AGENCY_KIND_CODES",
    "CHILDRENS_SOCIAL_CARE",
    "AgencyKind",
    "Participant",
    "agency_kind",
    "applicable_sections",
    "condition_holds",
    "contribution_progress",
    "is_area",
    "may_be_not_involved",
    "question_applies",
    "question_shown",
    "section_shown",
    "selects",
    "validate_contribution",
    "view_for",
]
