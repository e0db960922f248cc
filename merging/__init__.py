"""How answers combine: agency contributions in, the partnership's judgement
out, with provenance, disagreements and immediate concerns. Pure: no I/O."""

from merging.merge import merge
from merging.model import (
    OVERALL,
    AgencyContribution,
    AgencyGrade,
    AgreedGrade,
    AwaitingAgency,
    CaseFacts,
    ContributionStatus,
    Disagreement,
    ImmediateConcern,
    Moderation,
    OverallCounts,
    OverallResult,
    PartnershipJudgement,
    SectionResult,
)
from merging.policies import POLICIES, Policy, UnknownPolicy, policy_named, policy_names

__all__ = [
    "OVERALL",
    "POLICIES",
    "AgencyContribution",
    "AgencyGrade",
    "AgreedGrade",
    "AwaitingAgency",
    "CaseFacts",
    "ContributionStatus",
    "Disagreement",
    "ImmediateConcern",
    "Moderation",
    "OverallCounts",
    "OverallResult",
    "PartnershipJudgement",
    "Policy",
    "SectionResult",
    "UnknownPolicy",
    "merge",
    "policy_named",
    "policy_names",
]
