"""Merge policies: how agency grades become a section's partnership grade
(the section rule), and how section grades become the overall judgement
(the overall rule).

Grades run 1 (Outstanding) … 4 (Inadequate), so "worse" is "higher". Every
rule here is monotone — a worse input never gives a better result — and
gives a lone grade back unchanged; the property tests in ``tests/merging``
hold each policy to both.

Every overall rule applies seed 000's last clause the same way: "or if there
is a significant failure which has impacted on the safety of the child, the
case should be considered inadequate". **Choice:** under every policy, not
only ``overall-75-25``: a recorded failure that harmed a child's safety is
never outweighed, averaged away or out-voted by good work elsewhere.

Editions. A policy's rules may change (``overall-75-25``'s section rule did:
it took the weakest agency's grade, and now applies the 75% / 25%
thresholds to the agencies' grades). An audit keeps the edition of the
rules it was created under (``audits.judgement_rules``), so an audit
created before a change keeps its judgement: :func:`policy_named` gives a
policy as it was in an edition. :data:`POLICIES` holds the current edition.

People never read a policy's id: each has a ``title`` in plain words ("the
partnership's 75% / 25% rule"), which rule traces use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

import msgspec

from toolkits.grading import at_least, percent, share

OUTSTANDING, GOOD, ADEQUATE, INADEQUATE = 1, 2, 3, 4

# Seed 000's own labels, for rules called without a toolkit's (tests, docs).
SEED_000_LABELS: Mapping[int, str] = MappingProxyType(
    {OUTSTANDING: "Outstanding", GOOD: "Good", ADEQUATE: "Adequate", INADEQUATE: "Inadequate"}
)


class SectionOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """A section rule's result: the grade, and why, as the rest of a sentence
    "<Label> because <the agencies that graded ``named``> graded ``named``
    <because>", which :func:`merging.merge` completes with the names; with
    no ``named`` grade, "<Label> because <because>"."""

    grade: int
    named: int | None  # the grade whose agencies the reason names
    because: str


class OverallOutcome(msgspec.Struct, frozen=True, kw_only=True):
    grade: int | None  # None: nothing to judge yet
    steps: tuple[str, ...]  # the rule as applied, one plain sentence a step


# (agency grades of one section, the toolkit's labels) → outcome; never
# called with no grades.
SectionRule = Callable[[Sequence[int], Mapping[int, str]], SectionOutcome]
# (area grades, whether a submitted contribution records a significant
# failure, the toolkit's labels) → outcome.
OverallRule = Callable[[Sequence[int], bool, Mapping[int, str]], OverallOutcome]


class Policy(msgspec.Struct, frozen=True, kw_only=True):
    """A named pair of rules a partnership can choose per toolkit."""

    name: str  # the id a toolkit definition names
    title: str  # what people read: "the partnership's 75% / 25% rule"
    description: str  # for people choosing one: what it does, in a sentence or two
    section_rule: SectionRule
    overall_rule: OverallRule
    edition: int = 1  # the edition of the rules this policy is as of


class UnknownPolicy(LookupError):
    """No merge policy of that name."""


def _lower(labels: Mapping[int, str], grade: int) -> str:
    return labels.get(grade, str(grade)).lower()


_share = share  # "3 of 4 (75%)": one formatter for every rule (toolkits.grading)


def _yes(holds: bool) -> str:
    return "yes" if holds else "no"


def _listed(grades: Sequence[int]) -> str:
    return ", ".join(map(str, grades))


def _median_towards_worse(grades: Sequence[int]) -> tuple[list[int], int]:
    ordered = sorted(grades)
    # With an even count the upper of the two middle grades, i.e. the worse.
    return ordered, ordered[len(ordered) // 2]


_SIGNIFICANT_FAILURE = (
    "A significant failure which has impacted on the safety of the child is recorded, so the case is {label} "
    "whatever its areas' grades (the grading guidance: “or if there is a significant failure which has impacted "
    "on the safety of the child, the case should be considered inadequate”)."
)


def _with_significant_failure(
    grade: int | None, steps: list[str], significant_failure: bool, labels: Mapping[int, str]
) -> OverallOutcome:
    if significant_failure:
        steps.append(_SIGNIFICANT_FAILURE.format(label=_lower(labels, INADEQUATE)))
        return OverallOutcome(grade=INADEQUATE, steps=tuple(steps))
    return OverallOutcome(grade=grade, steps=tuple(steps))


# --- section rules -------------------------------------------------------------


def weakest_agency(grades: Sequence[int], labels: Mapping[int, str] = SEED_000_LABELS) -> SectionOutcome:
    """A section is as good as the weakest agency's work on it: the worst
    agency grade stands.

    Seed 000's grade descriptors read that way: Good needs every part ("The
    child's needs were identified accurately, … and were identified in a
    timely way"), while Inadequate needs only one ("The child's needs were
    not fully identified … or there was delay in identifying the child's
    needs"). If one agency's part of the work shows the delay, the
    partnership's work on that area does. Seed 002's Inadequate ("widespread
    failures or serious failures that leave children harmed or at risk of
    harm") likewise asks for a failure, not for most of the work to fail.
    """
    worst = max(grades)
    return SectionOutcome(grade=worst, named=worst, because=" and the weakest agency grade stands")


def median_agency(grades: Sequence[int], labels: Mapping[int, str] = SEED_000_LABELS) -> SectionOutcome:
    """The median agency grade, rounded towards worse (with an even count,
    the worse of the two middle grades); any inadequate grade pulls the
    section to grade 3 (adequate / requires improvement) or worse, so one
    agency's inadequate work is never averaged away.

    Seed 004 is a joint audit ("Other parties undertaking this as a joint
    audit") whose grades speak of the evidence as a whole: "Good= Evidence of
    all elements", "Requires Improvement= Evidence of most areas but some
    gaps or inconsistent". One party finding "Inadequate= No Evidence" is at
    least such a gap, hence the pull to grade 3.
    """
    ordered, middle = _median_towards_worse(grades)
    if INADEQUATE in ordered and middle < ADEQUATE:
        return SectionOutcome(
            grade=ADEQUATE,
            named=INADEQUATE,
            because=(
                f" and an {_lower(labels, INADEQUATE)} grade pulls the section to {_lower(labels, ADEQUATE)} or "
                f"worse (the median of the agency grades {_listed(ordered)}, rounded towards worse, is {middle})"
            ),
        )
    return SectionOutcome(
        grade=middle,
        named=middle,
        because=f", the median of the agency grades {_listed(ordered)} rounded towards worse",
    )


def seventy_five_twenty_five_agencies(
    grades: Sequence[int], labels: Mapping[int, str] = SEED_000_LABELS
) -> SectionOutcome:
    """Seed 000's thresholds applied to the involved agencies' grades of one
    section, in the same order as the overall rule
    (:func:`seventy_five_twenty_five`):

    - inadequate if 25% or more of the agency grades are inadequate;
    - outstanding only if all are good or better and at least 75% outstanding;
    - good if at least 75% are good or better and none is inadequate;
    - adequate if at least 75% are adequate or better, else inadequate
      (on a 4-point scale, under 25% inadequate leaves over 75% adequate or
      better, so "else" is never reached; it is kept so the rule reads as
      the issue and the README state it).

    Why thresholds rather than the weakest grade: seed 000 judges by how
    much of the work meets each description ("at least 75% of the features
    above are evident"), and a section's partnership grade is the
    partnership's work on that stage. One agency's inadequate work out of
    four (25%) still makes the section inadequate; a lone grade stands.
    """
    total = len(grades)
    outstanding = sum(1 for g in grades if g == OUTSTANDING)
    good = sum(1 for g in grades if g <= GOOD)
    adequate = sum(1 for g in grades if g <= ADEQUATE)
    inadequate = total - adequate
    o, g, a, i = (_lower(labels, v) for v in (OUTSTANDING, GOOD, ADEQUATE, INADEQUATE))

    def of(count: int) -> str:
        # "1 of the 4 agency grades (25%) is"
        return f"{count} of the {total} agency grades ({percent(count, total)}) {'is' if count == 1 else 'are'}"

    if at_least(inadequate, total, 25):
        return SectionOutcome(grade=INADEQUATE, named=INADEQUATE, because=f": {of(inadequate)} {i}, 25% or more")
    if good == total and at_least(outstanding, total, 75):
        return SectionOutcome(
            grade=OUTSTANDING,
            named=None,
            because=f"every agency grade is {g} or better and {of(outstanding)} {o}",
        )
    if at_least(good, total, 75) and inadequate == 0:
        return SectionOutcome(grade=GOOD, named=None, because=f"{of(good)} {g} or better and none is {i}")
    if at_least(adequate, total, 75):
        not_good = f"{of(good)} {g} or better, under 75%" if not at_least(good, total, 75) else f"{of(inadequate)} {i}"
        return SectionOutcome(grade=ADEQUATE, named=None, because=f"{not_good}, and {of(adequate)} {a} or better")
    return SectionOutcome(grade=INADEQUATE, named=None, because=f"only {of(adequate)} {a} or better, under 75%")


# --- overall rules -------------------------------------------------------------


def seventy_five_twenty_five(
    grades: Sequence[int], significant_failure: bool = False, labels: Mapping[int, str] = SEED_000_LABELS
) -> OverallOutcome:
    """The overall rule of seed 000 (Early Intervention – grading guidance,
    row "Overall judgement"), over the areas' grades. The seed leaves gaps;
    each choice is marked **Choice** and has a row in the table tests.

    - Inadequate: "If 25% or more of the features above are evident, or if
      there is a significant failure which has impacted on the safety of the
      child, the case should be considered inadequate." **Choice:** the
      "features above" are the areas graded inadequate, so 25% or more of
      the areas inadequate is inadequate, checked first and winning over
      every other clause: exactly 25% inadequate is inadequate even though
      75% are then adequate or better (the safer reading). A recorded
      significant failure is inadequate whatever the areas.
    - Outstanding: "The case can only be judged as outstanding overall if
      every area of analysis has been judged good or better." A necessary
      condition; the seed's Outstanding column ("If every area of analysis
      on a case is consistently good or better, the case can be judged
      outstanding") only says it *can* be. **Choice:** outstanding when every
      area is good or better *and* at least 75% are outstanding — the same
      75% bar as good and adequate — so a case of all-good areas is good.
    - Good: "good if at least 75% of the features above are evident;
      providing the child has been effectively safeguarded and their welfare
      promoted throughout the work." **Choice:** at least 75% of areas good or
      better *and none inadequate* ("throughout the work": an inadequate area
      is a part where the child was not effectively safeguarded). So 75%
      good with one inadequate area (under 25%) is adequate, not good.
    - Adequate: "adequate if at least 75% of the features above are evident
      (or better)": at least 75% of areas adequate or better.
      (With under 25% inadequate, over 75% are adequate or better on a
      4-point scale, so a case that is not inadequate, outstanding or good
      is adequate.)
    """
    total = len(grades)
    if total == 0:
        steps = ["No area has a partnership grade yet."]
        return _with_significant_failure(None, steps, significant_failure, labels)
    outstanding = sum(1 for g in grades if g == OUTSTANDING)
    good = sum(1 for g in grades if g <= GOOD)
    adequate = sum(1 for g in grades if g <= ADEQUATE)
    inadequate = total - adequate
    o, g, a, i = (_lower(labels, v) for v in (OUTSTANDING, GOOD, ADEQUATE, INADEQUATE))
    steps = []

    if 4 * inadequate >= total:
        steps.append(f"{i.capitalize()} if 25% or more of the areas are {i}: {_share(inadequate, total)} are — yes.")
        return _with_significant_failure(INADEQUATE, steps, significant_failure, labels)
    steps.append(f"{i.capitalize()} if 25% or more of the areas are {i}: {_share(inadequate, total)} are — no.")

    is_outstanding = good == total and 4 * outstanding >= 3 * total
    steps.append(
        f"{o.capitalize()} only if every area is {g} or better, and at least 75% are {o}: "
        f"{_share(good, total)} are {g} or better, {_share(outstanding, total)} {o} — {_yes(is_outstanding)}."
    )
    if is_outstanding:
        return _with_significant_failure(OUTSTANDING, steps, significant_failure, labels)

    is_good = 4 * good >= 3 * total and inadequate == 0
    steps.append(
        f"{g.capitalize()} if at least 75% of the areas are {g} or better and none is {i}: "
        f"{_share(good, total)} are {g} or better, {inadequate} {i} — {_yes(is_good)}."
    )
    if is_good:
        return _with_significant_failure(GOOD, steps, significant_failure, labels)

    # Under 25% inadequate leaves over 75% adequate or better on a 4-point
    # scale, so this step always holds here; it is in the trace because the
    # seed's adequate sentence is the one the case then meets.
    steps.append(
        f"{a.capitalize()} if at least 75% of the areas are {a} or better: {_share(adequate, total)} are — yes."
    )
    return _with_significant_failure(ADEQUATE, steps, significant_failure, labels)


def weakest_area(
    grades: Sequence[int], significant_failure: bool = False, labels: Mapping[int, str] = SEED_000_LABELS
) -> OverallOutcome:
    """The case is as good as its weakest area: the worst area grade stands.

    **Choice** (rather than seed 000's 75% rule): a partnership picks
    "weakest link" precisely so that no area's failure is carried by the
    others. Seed 002's Inadequate ("There are, or appear to be, widespread
    failures or serious failures that leave children harmed or at risk of
    harm") needs one serious failure, not a share of them; its Requires
    Improvement ("Not meeting all good grades, but there are no widespread
    or serious failures") is the case when any area falls short of good.
    """
    if not grades:
        return _with_significant_failure(None, ["No area has a partnership grade yet."], significant_failure, labels)
    worst = max(grades)
    steps = [f"The weakest area grade stands: {worst} ({labels.get(worst, str(worst))})."]
    return _with_significant_failure(worst, steps, significant_failure, labels)


def median_area(
    grades: Sequence[int], significant_failure: bool = False, labels: Mapping[int, str] = SEED_000_LABELS
) -> OverallOutcome:
    """The median area grade rounded towards worse, with any inadequate area
    pulling the case to grade 3 or worse — the section rule of ``median``
    (see :func:`median_agency`) applied to the areas."""
    if not grades:
        return _with_significant_failure(None, ["No area has a partnership grade yet."], significant_failure, labels)
    ordered, middle = _median_towards_worse(grades)
    steps = [f"The median of the area grades {_listed(ordered)}, rounded towards worse, is {middle}."]
    grade = middle
    if INADEQUATE in ordered and middle < ADEQUATE:
        grade = ADEQUATE
        steps.append(
            f"An {_lower(labels, INADEQUATE)} area pulls the case to {_lower(labels, ADEQUATE)} or worse: {grade}."
        )
    return _with_significant_failure(grade, steps, significant_failure, labels)


# --- the registry --------------------------------------------------------------

RULES_EDITION = 2  # the edition new audits are judged by

_SEVENTY_FIVE_TWENTY_FIVE = (
    "A section's grade applies the 75% / 25% thresholds to the grades of the agencies involved in it: inadequate "
    "if 25% or more are inadequate; outstanding only if all are good or better and at least 75% outstanding; good "
    "if at least 75% are good or better and none inadequate; otherwise adequate if at least 75% are adequate or "
    "better, else inadequate. The case's overall grade applies the same thresholds to its areas. A significant "
    "failure which has impacted on the safety of the child makes the case inadequate."
)

POLICIES: Mapping[str, Policy] = MappingProxyType(
    {
        policy.name: policy
        for policy in (
            Policy(
                name="overall-75-25",
                title="the partnership's 75% / 25% rule",
                description=_SEVENTY_FIVE_TWENTY_FIVE,
                section_rule=seventy_five_twenty_five_agencies,
                overall_rule=seventy_five_twenty_five,
                edition=RULES_EDITION,
            ),
            Policy(
                name="weakest-link",
                title="the weakest-link rule",
                description=(
                    "A section is as good as the weakest agency's work on it, and the case as its weakest area; a "
                    "significant failure which has impacted on the safety of the child makes the case inadequate."
                ),
                section_rule=weakest_agency,
                overall_rule=weakest_area,
                edition=RULES_EDITION,
            ),
            Policy(
                name="median",
                title="the median rule",
                description=(
                    "A section takes the median agency grade, rounded towards worse, with any inadequate grade "
                    "pulling it to grade 3 or worse; the case takes the median area grade the same way. A "
                    "significant failure which has impacted on the safety of the child makes the case inadequate."
                ),
                section_rule=median_agency,
                overall_rule=median_area,
                edition=RULES_EDITION,
            ),
        )
    }
)

# What changed since each earlier edition: the policies as they were then.
# Edition 1 (before the rules' second edition): the 75% / 25% rule took each
# section at its weakest agency's grade.
_EARLIER_EDITIONS: Mapping[int, Mapping[str, Policy]] = MappingProxyType(
    {
        1: MappingProxyType(
            {
                "overall-75-25": Policy(
                    name="overall-75-25",
                    title="the partnership's 75% / 25% rule (first edition)",
                    description=(
                        "A section is as good as the weakest agency's work on it; the case is inadequate if 25% or "
                        "more of its areas are inadequate or a significant failure which has impacted on the safety "
                        "of the child is recorded, outstanding if every area is good or better and at least 75% "
                        "outstanding, good if at least 75% are good or better and none inadequate, otherwise "
                        "adequate if at least 75% are adequate or better. (The rules' first edition, which this "
                        "audit was created under.)"
                    ),
                    section_rule=weakest_agency,
                    overall_rule=seventy_five_twenty_five,
                    edition=1,
                ),
            }
        )
    }
)


def policy_names() -> tuple[str, ...]:
    """The names a toolkit's ``merge_policy`` (or a caller) may choose from."""
    return tuple(sorted(POLICIES))


def policy_named(name: str, edition: int = RULES_EDITION) -> Policy:
    """The policy ``name`` as it was in the rules' ``edition`` (the current
    one by default): an edition's own version of it where that edition
    differs, else the current one."""
    if not 1 <= edition <= RULES_EDITION:
        raise UnknownPolicy(f"no edition {edition} of the judgement rules; editions 1 to {RULES_EDITION}")
    for earlier in range(edition, RULES_EDITION):
        changed = _EARLIER_EDITIONS.get(earlier, {})
        if name in changed:
            return changed[name]
    try:
        return POLICIES[name]
    except KeyError:
        raise UnknownPolicy(f"unknown merge policy {name!r}; known: {', '.join(policy_names())}") from None
