"""A section page's question markup, kept and filled in (issue 24, "render
less"): the page is the same, byte for byte, as Jinja renders it without
the cache — for every toolkit version, agency and section, whatever the
answers say — and a question's markup is rendered once per state."""

from __future__ import annotations

import re
import types
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agencies.applicability import Participant, applicable_sections, is_area, may_be_not_involved
from agencies.kinds import AGENCY_KINDS
from server.pages import markup_cache
from server.pages.auditor.forms import (
    comments_label,
    evidence_label,
    feature_items,
    has_comments,
    input_id,
    question_groups,
    row_count,
)
from server.pages.markup_cache import question_markup
from server.pages.rendering import FormErrors, environment
from tests.server.audit_fixtures import an_open_audit
from tests.web.conftest import Pages
from tests.web.test_auditor_pages import hidden
from toolkits.answers import ContributionContent
from toolkits.model import FIXED_CHOICES, Question, Section, Toolkit
from toolkits.registry import load_registry

REGISTRY = load_registry()
VERSIONS = [REGISTRY.get(t, v) for t in REGISTRY.ids() for v in REGISTRY.versions(t)]
PARTICIPANTS = [Participant(agency_kind=k.code, is_referrer=r) for k in AGENCY_KINDS for r in (False, True)]
# Every version of every toolkit, each section as every kind of agency (and
# a referrer) answers it, and whole (the coordinator's sections carry the
# kinds of question agencies are not asked: numbers, choices).
PAGES = sorted(
    {
        (toolkit.id, toolkit.version, section.id, tuple(q.id for q in section.questions)): (toolkit, section)
        for toolkit in VERSIONS
        for participant in PARTICIPANTS
        for section in (*applicable_sections(toolkit, participant, None), *toolkit.sections)
    }.items()
)
SECTION_PAGE = environment.get_template("web/auditor/section.html")

# What people type, and what might trip a filled-in template: markup,
# entities, quotes, unicode (right-to-left too), nothing, only spaces, and
# the cache's own sentinels.
NASTY = st.sampled_from(
    [
        "",
        " ",
        "\n\t ",
        "<script>alert(1)</script>",
        "A & B",
        "&amp; &lt;",
        "\"quoted\" and 'single'",
        "Łódź — ‘Ünïcødé’ 👶",
        "مرحبا بالعالم",
        "}}{{ {% raw %}",
        f"{markup_cache._PREFIX}0x",
        f"{markup_cache._PREFIX}1x{markup_cache._PREFIX}",
        "macaslot0x",
        "line one\nline two\r\nline three",
    ]
)
FREE_TEXT = st.one_of(NASTY, st.text(max_size=40))


def page_context(
    toolkit: Toolkit, section: Section, values: dict[str, Any], errors: FormErrors | None = None
) -> dict[str, Any]:
    """What ``ContributionPages._section_page`` gives the template (with the
    page's own parts: a contribution named by its toolkit, its addresses)."""
    features = section.judgement.features if section.judgement is not None else ()
    return {
        "principal": None,
        "csrf_token": "token",
        "navigation": [],
        "current_path": "/your-audits/a/sections/s",
        "notice": None,
        "errors": errors or FormErrors(),
        "c": types.SimpleNamespace(toolkit=toolkit, submitted=False),
        "url": lambda tail="": f"/your-audits/a{tail}",
        "back_to": None,
        "groups": question_groups(section, ContributionContent(), errors),
        "title": section.title,
        "section": section,
        "values": values,
        "row_version": 3,
        "grades": toolkit.scale.grades,
        "fixed_choices": FIXED_CHOICES,
        "input_id": input_id,
        "has_comments": has_comments,
        "comments_label": comments_label,
        "evidence_label": evidence_label(section),
        "row_count": row_count,
        "not_involved": toolkit.not_involved if may_be_not_involved(toolkit, section) else None,
        "is_area": is_area(section),
        "features": [
            {"id": f.id, "items": feature_items(toolkit.scale.grades, f, values.get(f"feature-{f.id}"))}
            for f in features
        ],
        "suggestion": None,
    }


def through_both(toolkit: Toolkit, section: Section, values: dict[str, Any], errors: FormErrors | None = None) -> str:
    """The page through the cache; asserted identical to Jinja's own."""
    cached = SECTION_PAGE.render(**page_context(toolkit, section, values, errors))
    with question_markup.disabled():
        plain = SECTION_PAGE.render(**page_context(toolkit, section, values, errors))
    assert cached == plain
    return cached


@st.composite
def answers(draw: st.DrawFn, section: Section, toolkit: Toolkit) -> dict[str, Any]:
    """A form's values for the section: chosen values among the question's
    own (or not), free text of every kind, some inputs left out."""
    values: dict[str, Any] = {}
    grades = [str(g.value) for g in toolkit.scale.grades]
    for question in section.questions:
        name = input_id(question)
        kind = question.kind
        own = [c.value for c in question.choices]
        if kind == "grade":
            choice = st.sampled_from(["", "9", *grades])
        elif kind in FIXED_CHOICES:
            choice = st.sampled_from(["", "other", *(code for code, _ in FIXED_CHOICES[kind])])
        elif kind == "single-choice":
            choice = st.sampled_from(["", "none-such", *own]) if own else st.just("")
        elif kind == "multiple-choice":
            choice = st.one_of(st.lists(st.sampled_from(own or ["x"]), unique=True), st.sampled_from(["", *own]))
        elif kind == "tick":
            choice = st.sampled_from(["", "yes", "no"])
        elif kind == "date":
            for part in ("day", "month", "year"):
                if draw(st.booleans()):
                    values[f"{name}-{part}"] = draw(st.one_of(FREE_TEXT, st.sampled_from(["1", "12", "2025"])))
            choice = st.nothing()
        elif kind == "rows":
            for r in range(draw(st.integers(0, 3))):
                for column in question.columns:
                    values[f"{name}-{r}-{column.id}"] = draw(FREE_TEXT)
            choice = st.nothing()
        else:
            choice = FREE_TEXT
        if kind not in ("date", "rows") and draw(st.booleans()):
            values[name] = draw(choice)
        for extra in ("comments", "evidence"):
            if draw(st.booleans()):
                values[f"{name}-{extra}"] = draw(FREE_TEXT)
    if draw(st.booleans()):
        values["judgement-grade"] = draw(
            st.one_of(st.sampled_from(grades), FREE_TEXT, st.lists(st.sampled_from(grades)))
        )
    if draw(st.booleans()):
        values["not-involved"] = draw(st.sampled_from(["yes", "", "no", ["yes", "yes"]]))
    for name in ("judgement-impact", "not-involved-reason", "significant-failure-description"):
        if draw(st.booleans()):
            values[name] = draw(FREE_TEXT)
    return values


@st.composite
def problems(draw: st.DrawFn, section: Section) -> FormErrors | None:
    """Sometimes none; sometimes problems on some of the page's inputs."""
    if not draw(st.booleans()) or not section.questions:
        return None
    errors = FormErrors()
    for question in draw(st.lists(st.sampled_from(section.questions), max_size=3)):
        suffix = draw(st.sampled_from(["", "-day", "-comments", "-evidence", "-0-x"]))
        errors.add(f"{input_id(question)}{suffix}", draw(FREE_TEXT) or "Enter an answer")
    for name in ("judgement-grade", "not-involved", "not-involved-reason"):
        if draw(st.booleans()):
            errors.add(name, draw(FREE_TEXT) or "Select a grade")
    return errors


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_section_of_every_toolkit_and_agency_renders_the_same_bytes_through_the_cache(data: Any) -> None:
    _, (toolkit, section) = data.draw(st.sampled_from(PAGES), label="page")
    values = data.draw(answers(section, toolkit), label="values")
    errors = data.draw(problems(section), label="errors")
    through_both(toolkit, section, values, errors)
    # The same state again (now kept), and then with other free text.
    through_both(toolkit, section, values, errors)
    through_both(toolkit, section, data.draw(answers(section, toolkit), label="other values"), errors)


def test_the_pages_cover_every_toolkit_version_and_every_kind_of_question() -> None:
    assert {(t.id, t.version) for _, (t, _) in PAGES} == {(t.id, t.version) for t in VERSIONS}
    kinds = {q.kind for _, (_, s) in PAGES for q in s.questions}
    assert {"grade", "single-choice", "multiple-choice", "tick", "date", "number", "text", "rows"} <= kinds
    assert kinds & set(FIXED_CHOICES)


def the_health_planning_section() -> tuple[Toolkit, Section]:
    toolkit = REGISTRY.current("multi-agency-cp")
    [section] = [
        s
        for s in applicable_sections(toolkit, Participant(agency_kind="health"), None)
        if s.id == "planning-implementing-plan"
    ]
    return toolkit, section


def test_the_second_render_of_the_same_question_state_is_served_from_the_cache() -> None:
    toolkit, section = the_health_planning_section()
    question_markup.clear()
    first = {f"{input_id(q)}": f"What the file showed about {q.id} <1>" for q in section.questions}
    page = through_both(toolkit, section, first)
    # Each question, the section's grade and "not involved at this stage".
    assert section.judgement is not None and may_be_not_involved(toolkit, section)
    blocks = len(section.questions) + 2
    assert (question_markup.misses, question_markup.hits) == (blocks, 0)
    assert "What the file showed about" in page and "&lt;1&gt;" in page
    # Another audit's answers, none empty where the first's were not: every
    # question is filled into the markup already kept.
    second = {name: f"Another case & {len(name)}" for name in first}
    page = through_both(toolkit, section, second)
    assert (question_markup.misses, question_markup.hits) == (blocks, blocks)
    assert "Another case &amp; " in page and "What the file showed" not in page
    # An answer emptied is another state (an empty box is other markup).
    emptied = {**second, input_id(section.questions[0]): ""}
    through_both(toolkit, section, emptied)
    assert question_markup.misses == blocks + 1
    assert len(question_markup) == blocks + 1 and question_markup.chars() > 0


def test_a_question_with_a_problem_shown_on_it_is_rendered_by_its_macro() -> None:
    toolkit, section = the_health_planning_section()
    question_markup.clear()
    first, *others = section.questions
    errors = FormErrors()
    errors.add(f"{input_id(first)}-comments", "Enter auditor comments for “the plan”")
    page = through_both(toolkit, section, {}, errors)
    assert "Enter auditor comments for “the plan”" in page and "govuk-textarea--error" in page
    # Only the question with the problem is rendered without the cache (the
    # others, the grade and "not involved" are kept).
    assert question_markup.misses == len(others) + 2 and question_markup.bypassed >= 1


def test_the_cache_stays_within_its_bound() -> None:
    toolkit, section = the_health_planning_section()
    small = markup_cache.QuestionMarkup(max_entries=3)
    macro = environment.get_template("web/auditor/questions.html").module.question  # type: ignore[attr-defined]
    for question in section.questions:
        name = input_id(question)
        args = (section, {name: "x"}, FormErrors(), toolkit.scale.grades, FIXED_CHOICES, name)
        rest = (has_comments, comments_label, evidence_label(section), row_count)
        assert small.render(macro, toolkit, question, *args, *rest) == macro(question, *args, *rest)
    assert len(small) == 3 and small.misses == len(section.questions)


def reworded(toolkit: Toolkit, section_id: str, question_id: str, words: str) -> Toolkit:
    """The toolkit with one question's text changed and the same id and
    version (as a partnership's own version of a shipped toolkit may be)."""

    def question(q: Question) -> Question:
        return msgspec.structs.replace(q, text=words) if q.id == question_id else q

    sections = tuple(
        msgspec.structs.replace(s, questions=tuple(question(q) for q in s.questions)) if s.id == section_id else s
        for s in toolkit.sections
    )
    return msgspec.structs.replace(toolkit, sections=sections)


def test_two_versions_of_a_toolkit_never_share_their_markup() -> None:
    question_markup.clear()
    first, second = (REGISTRY.get("multi-agency-cp", v) for v in REGISTRY.versions("multi-agency-cp"))
    health = Participant(agency_kind="health")
    shared = {s.id for s in applicable_sections(first, health, None)} & {
        s.id for s in applicable_sections(second, health, None)
    }
    assert shared
    for toolkit in (first, second, first):
        for section in applicable_sections(toolkit, health, None):
            if section.id in shared:
                through_both(toolkit, section, {input_id(q): "An answer" for q in section.questions})
    # A version with the same id and number but other words (published
    # while the server runs, or a partnership's own): its own markup.
    toolkit, section = the_health_planning_section()
    question = section.questions[0]
    values = {input_id(q): "Same answer" for q in section.questions}
    before = through_both(toolkit, section, values)
    local = reworded(toolkit, section.id, question.id, "Was the plan SMART, in the partnership’s own words?")
    [local_section] = [s for s in applicable_sections(local, health, None) if s.id == section.id]
    after = through_both(local, local_section, values)
    assert (local.id, local.version) == (toolkit.id, toolkit.version)
    assert "in the partnership’s own words" in after and "in the partnership’s own words" not in before


async def test_a_section_page_with_saved_answers_and_one_with_errors_are_the_same_through_the_cache(
    pages: Pages,
) -> None:
    audit = await an_open_audit(pages.people, participants=["health"])
    health = await pages.signed_in("health")
    url = f"/your-audits/{audit['id']}/sections/history-of-involvement"
    page = await health.get(url)
    typed = {
        "row_version": hidden(page.text, "row_version"),
        "q-history-previous-involvement": "Known since birth <b>&</b> “quoted”",
        "q-history-previous-involvement-comments": "   ",
        "q-history-previous-involvement-evidence": "Health visiting record, 2025-02-03",
        "judgement-grade": "2",
        "action": "later",
    }
    saved = await health.post(url, typed)
    assert saved.status_code == 303, saved.text
    await health.follow(saved)  # "Your answers have been saved", shown once
    question_markup.clear()
    cached = (await health.get(url)).text
    again = (await health.get(url)).text
    with question_markup.disabled():
        plain = (await health.get(url)).text
    assert question_markup.hits > 0
    assert cached == again == plain
    assert "Known since birth &lt;b&gt;&amp;&lt;/b&gt; “quoted”" in cached
    # A page with a problem, the typed answers put back.
    wrong = {
        **typed,
        "row_version": hidden(cached, "row_version"),
        "q-history-previous-involvement-evidence": "Minutes, 31/02/2025",
    }
    refused = await health.post(url, wrong)
    with question_markup.disabled():
        refused_plain = await health.post(url, wrong)
    assert refused.status_code == refused_plain.status_code == 422
    assert refused.text == refused_plain.text
    assert re.search(r"31/02/2025 is not a real date", refused.text)
