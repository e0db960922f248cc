"""What a person wrote is shown isolated: a RIGHT-TO-LEFT OVERRIDE in it
turns nothing round outside it, on any page or in the PDF report.

A red-team pass stored U+202E in free text and saw it shown raw, so it ran
on into the page around it. Free text may keep bidi controls (a writer of
Arabic or Hebrew may need the marks; identifiers refuse them,
``test_visible_text.py``), so every place a page or the report shows what a
person wrote isolates it: a ``<bdi>`` element (``unicode-bidi: isolate``),
or, where no markup can go (a page's title), the same isolate in plain
text (FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE).

Every free-text field an audit holds is filled with words carrying U+202E;
then every page each persona can open, the report page and the report's
PDF layout are searched for that character outside an isolate.
"""

from __future__ import annotations

import copy
from html.parser import HTMLParser
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.reports.pdf import layout
from tests.identity import ALL_PERSONAS, bearer, signed_in_people, token_for
from tests.server.audit_fixtures import (
    CASE_DETAILS,
    complete_answers,
    contribution_url,
    read_audit,
    request,
    save_draft,
    submit,
)
from tests.web.conftest import Pages
from tests.web.test_coordinator_and_reviewer import case_details_form
from toolkits.text import isolated

RLO = "\u202e"
FSI, PDI = "\u2068", "\u2069"
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})
# Elements whose content the browser shows apart from the text around it.
APART = frozenset({"bdi", "textarea", "option", "script", "style"})
# Attributes a browser shows as text.
SHOWN_ATTRIBUTES = frozenset({"title", "alt", "aria-label", "placeholder"})


def hostile(name: str) -> str:
    """Words for the field ``name`` that would turn round whatever follows."""
    return f"{name} {RLO}reversed"


def text_isolated(text: str) -> bool:
    """Whether every U+202E in ``text`` is inside a plain-text isolate."""
    depth = 0
    for character in text:
        if character == FSI:
            depth += 1
        elif character == PDI and depth:
            depth -= 1
        elif character == RLO and depth == 0:
            return False
    return True


class Unisolated(HTMLParser):
    """Collects the text a page shows with U+202E outside any isolate."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in SHOWN_ATTRIBUTES and value and not text_isolated(value):
                self.found.append(f"<{tag} {name}>: {value[:80]!r}")
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            while self.open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if RLO not in data or APART.intersection(self.open) or text_isolated(data):
            return
        where = "/".join(self.open[-3:])
        self.found.append(f"{where}: {' '.join(data.split())[:100]!r}")


def unisolated(html: str) -> list[str]:
    parser = Unisolated()
    parser.feed(html)
    parser.close()
    return parser.found


def test_the_checker_finds_raw_text_and_accepts_isolated_text() -> None:
    assert unisolated(f"<p>Case {hostile('x')} is due</p>") != []
    assert unisolated(f"<title>{hostile('x')}</title>") != []
    assert unisolated(f"<p>Case <bdi>{hostile('x')}</bdi> is due</p>") == []
    assert unisolated(f"<title>Return {isolated(hostile('x'))}’s contribution</title>") == []
    assert unisolated(f"<textarea>{hostile('x')}</textarea>") == []
    assert unisolated(f'<a title="{hostile("x")}">x</a>') != []
    assert not text_isolated(f"{FSI}{PDI}{hostile('x')}")
    assert text_isolated(isolated(f"{PDI}{hostile('x')}"))  # a stray PDI cannot close the isolate


# --- an audit with hostile words in every free-text field ---------------------------------


@pytest.fixture
async def pages(app: Litestar, client: AsyncTestClient[Litestar], database_url: str) -> Pages:
    """The personas signed in, with browser sessions (as in tests/web)."""
    people = await signed_in_people(app, client, ALL_PERSONAS)
    return Pages(app=app, client=client, database_url=database_url, people=people)


async def hostile_audit(pages: Pages) -> dict[str, Any]:
    people = pages.people
    # A new organisation's name comes from the identity provider.
    newcomer = await token_for(
        pages.app,
        "education",
        sub="hostile-school-auditor",
        organisation="demo-hostile-school",
        organisation_name=hostile("organisation-name"),
    )
    me = (await pages.client.get("/api/me", headers=bearer(newcomer))).json()

    details = copy.deepcopy(CASE_DETAILS)
    for question in ("gender", "ethnicity", "language", "religion", "previous-cp-or-concerning-history"):
        details["answers"][question] = {"value": hostile(f"case-{question}")}
    details["answers"]["family-members"] = {
        "value": [{"initials": "CD", "relationship": hostile("case-relationship"), "age": 29}]
    }
    created = await request(
        people,
        "coordinator",
        "POST",
        "/api/audits",
        json={
            "toolkit": "multi-agency-cp",
            "participants": ["demo-health", "demo-police", me["organisation_id"]],
            "referring_organisation": "demo-health",
            "case_details": details,
            "period_start": "2025-01-01",
            "period_end": "2025-12-31",
        },
    )
    assert created.status_code == 201, created.text
    audit: dict[str, Any] = created.json()
    opened = await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{audit['id']}/status",
        json={"status": "open"},
        headers={"If-Match": f'"{audit["row_version"]}"'},
    )
    assert opened.status_code == 200, opened.text

    # Health writes hostile words everywhere its contribution takes text, submits, amends.
    seen = await read_audit(people, "health", audit)
    content = complete_answers(seen)
    for section in seen["questions"]["sections"]:
        for question in section.get("questions", []):
            answer = content["answers"].get(question["id"])
            if answer is None:
                continue
            if question["kind"] == "text":
                answer["value"] = hostile(f"answer-{question['id']}")
            if question["kind"] == "evidence":
                answer["value"] = [{"document": hostile(f"evidence-{question['id']}"), "date": "2025-03-01"}]
            if question.get("comments", "none") != "none":
                answer["comments"] = hostile(f"comments-{question['id']}")
    for judgement in content["judgements"].values():
        judgement["impact"] = hostile("judgement-impact")
    assert (await save_draft(people, "health", audit, content)).status_code == 200, "health's draft"
    assert (await submit(people, "health", audit)).status_code == 200
    url = contribution_url(audit, people, "health")
    current = await request(people, "health", "GET", url)
    amended = await request(
        people,
        "health",
        "PUT",
        url,
        json={**content, "reason": hostile("amendment-reason")},
        headers={"If-Match": current.headers["etag"]},
    )
    assert amended.status_code == 200, amended.text

    # Police submits and is sent back with a hostile comment.
    police = await read_audit(people, "police", audit)
    assert (await save_draft(people, "police", audit, complete_answers(police))).status_code == 200
    assert (await submit(people, "police", audit)).status_code == 200
    police_url = contribution_url(audit, people, "police")
    returned = await request(
        people,
        "coordinator",
        "POST",
        f"{police_url}/return",
        json={"comment": hostile("return-comment")},
        headers={"If-Match": (await request(people, "coordinator", "GET", police_url)).headers["etag"]},
    )
    assert returned.status_code == 200, returned.text

    # The panel's reason, a remedial action and its progress.
    judgement_url = f"/api/audits/{audit['id']}/judgement"
    moderated = await request(
        people,
        "reviewer",
        "PUT",
        f"{judgement_url}/sections/overall",
        json={"grade": 2, "reason": hostile("moderation-reason")},
        headers={"If-Match": (await request(people, "reviewer", "GET", judgement_url)).headers["etag"]},
    )
    assert moderated.status_code == 200, moderated.text
    action = await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{audit['id']}/actions",
        json={
            "action": hostile("action"),
            "who": hostile("action-who"),
            "timescale": hostile("action-timescale"),
            "responsible_organisation_id": str(people.organisation_id("health")),
        },
    )
    assert action.status_code == 201, action.text
    progressed = await request(
        people,
        "health",
        "PATCH",
        f"/api/audits/{audit['id']}/actions/{action.json()['id']}",
        json={"comments": hostile("action-comments"), "initials": "AA"},
        headers={"If-Match": f'"{action.json()["row_version"]}"'},
    )
    assert progressed.status_code == 200, progressed.text
    audit["action_id"] = action.json()["id"]
    audit["newcomer"] = me["organisation_id"]
    # A person's own name too, recorded as they last signed in (after the
    # requests above, made with the persona's usual name).
    named = await token_for(pages.app, "health", name=hostile("display-name"))
    assert (await pages.client.get("/api/me", headers=bearer(named))).status_code == 200
    return audit


def pages_of(audit: dict[str, Any], pages: Pages) -> dict[str, list[str]]:
    """Every page each persona opens on the audit."""
    a = f"/audits/{audit['id']}"
    mine = f"/your-audits/{audit['id']}"
    return {
        "coordinator": [
            "/audits",
            a,
            f"{a}/judgement",
            f"{a}/actions",
            f"{a}/actions/{audit['action_id']}",
            f"{a}/contributions/{pages.people.organisation_id('health')}/return",
            "/account",
        ],
        "reviewer": [f"{a}/judgement", f"{a}/judgement/overall", f"{a}/actions", "/reports/themes"],
        "health": [
            "/your-audits",
            mine,
            f"{mine}/sections/referral",
            f"{mine}/overall",
            f"{mine}/check",
            "/account",
        ],
        "police": ["/your-audits", mine],
        # The administrator sees the organisation recorded at its first
        # sign-in, under the name its token gave.
        "admin": [
            "/admin",
            "/admin/organisations",
            f"/admin/organisations/{audit['newcomer']}",
            f"/admin/organisations/{audit['newcomer']}/change",
            f"/admin/organisations/{audit['newcomer']}/correct",
            "/admin/clients",
            "/admin/trail",
        ],
    }


# What each persona's pages must show, so that the search below proves something.
SHOWN_TO = {
    "coordinator": ["organisation-name", "case-gender", "case-relationship", "action-who", "action-comments"],
    "reviewer": ["organisation-name", "moderation-reason", "action-timescale"],
    "health": ["display-name", "case-religion", "answer-", "comments-", "evidence-", "judgement-impact"],
    "police": ["return-comment", "case-language"],
    "admin": ["organisation-name"],
}


@pytest.mark.parametrize("persona", ["coordinator", "reviewer", "health", "police", "admin"])
async def test_no_page_shows_a_persons_words_unisolated(pages: Pages, persona: str) -> None:
    audit = await hostile_audit(pages)
    session = await pages.signed_in(persona)
    shown = ""
    problems: dict[str, list[str]] = {}
    for path in pages_of(audit, pages)[persona]:
        page = await session.get(path)
        assert page.status_code == 200, f"{path}: {page.status_code}"
        shown += page.text
        found = unisolated(page.text)
        if found:
            problems[path] = found
    for field in SHOWN_TO[persona]:
        assert f"{field}" in shown and RLO in shown, f"{field} was shown nowhere: the search would prove nothing"
    assert problems == {}, "shown unisolated:\n" + "\n".join(
        f"{path} {item}" for path, items in problems.items() for item in items
    )


async def test_the_check_page_before_an_audit_is_created_isolates_what_was_typed(pages: Pages) -> None:
    """The coordinator's "check the audit" page shows what was just typed,
    and the organisations' names, before anything is stored."""
    audit = await hostile_audit(pages)  # the hostile organisation exists
    coordinator = await pages.signed_in("coordinator")
    form = case_details_form(
        pages,
        **{
            "case-gender": hostile("case-gender"),
            "case-religion": hostile("case-religion"),
            "case-family-members-0-relationship": hostile("case-relationship"),
            "participants": [str(pages.people.organisation_id("health")), audit["newcomer"]],
            "referrer": audit["newcomer"],
        },
    )
    check = await coordinator.post("/audits/new/details", form)
    assert check.status_code == 200, check.text
    assert "Check the audit before you create it" in check.text
    for field in ("case-gender", "case-religion", "case-relationship", "organisation-name"):
        assert field in check.text, f"{field} was not shown: the search would prove nothing"
    found = unisolated(check.text)
    assert found == [], "shown unisolated:\n" + "\n".join(found)


async def test_the_report_page_and_its_pdf_isolate_every_persons_words(pages: Pages) -> None:
    audit = await hostile_audit(pages)
    page = await request(pages.people, "coordinator", "GET", f"/api/audits/{audit['id']}/report.html")
    assert page.status_code == 200, page.text
    assert page.text.count(RLO) > 10
    found = unisolated(page.text)
    assert found == [], "shown unisolated:\n" + "\n".join(found)

    # The PDF is the same template laid out by WeasyPrint, which ignores
    # unicode-bidi: in each paragraph it lays out (its lines put back
    # together), every U+202E must be isolated in plain text (FSI … PDI).
    from weasyprint.formatting_structure.boxes import Box, LineBox, TextBox

    document = layout(page.text.replace('<link rel="stylesheet" href="/static/report/report.css">', ""))
    raw: list[str] = []
    laid_out = 0

    def texts(box: Box) -> list[str]:
        if isinstance(box, TextBox):
            return [box.text]
        return [text for child in getattr(box, "children", []) for text in texts(child)]

    def walk(box: Box) -> None:
        nonlocal laid_out
        children = getattr(box, "children", [])
        if any(isinstance(child, LineBox) for child in children):
            paragraph = "".join(text for child in children if isinstance(child, LineBox) for text in texts(child))
            if RLO in paragraph:
                laid_out += paragraph.count(RLO)
                if not text_isolated(paragraph):
                    raw.append(paragraph[:100])
        for child in children:
            walk(child)

    for laid_page in document.pages:
        walk(laid_page._page_box)
    assert laid_out > 10
    assert raw == [], "laid out unisolated:\n" + "\n".join(raw)
