"""The combined audit report, built through the real API: what it holds,
as HTML and as PDF, and who gets which part of it."""

from __future__ import annotations

import datetime
import re
import zlib
from typing import Any
from uuid import UUID

import asyncpg
from weasyprint.formatting_structure.boxes import TextBox

from server.reports.pdf import layout
from server.reports.report import answer_text
from tests.server.audit_fixtures import (
    People,
    an_open_audit,
    complete_answers,
    people_fixture,  # noqa: F401 - fixture
    read_audit,
    request,
    save_draft,
    submit,
)
from toolkits.registry import Registry

# Words that mark each piece of the scenario, to find (or not find) them.
HEALTH_RECOMMENDATION = "Share the health chronology with the core group"
POLICE_RECOMMENDATION = "Police to attend every strategy discussion in person"
EDUCATION_DRAFT = "School draft note not yet agreed with the head teacher"
PANEL_REASON = "The strategy discussion was timely; the panel agreed Good"
HEALTH_ACTION = "Named nurse to join the core group"
POLICE_ACTION = "Review the police referral checklist"
MARKING = "RESTRICTED WHEN COMPLETED"
IN_REVIEW_REASON = "Education's part is late; the panel meets now"


async def contribute(
    people: People, persona: str, audit: dict[str, Any], grade: int, recommendation: str, **answers: str
) -> None:
    """``persona`` completes its part, grading every section ``grade``, and submits."""
    content = complete_answers(await read_audit(people, persona, audit))
    content["judgements"] = {s: {"grade": grade, "impact": f"impact seen by {persona}"} for s in content["judgements"]}
    content["overall"] = {"grade": grade}
    content["answers"]["auditor-recommendations"] = {"value": recommendation}
    for question_id, value in answers.items():
        content["answers"][question_id] = {"value": value, "comments": "discussed with the manager"}
    saved = await save_draft(people, persona, audit, content)
    assert saved.status_code == 200, saved.text
    submitted = await submit(people, persona, audit)
    assert submitted.status_code == 200, submitted.text


async def move(people: People, audit: dict[str, Any], status: str, reason: str | None = None) -> None:
    current = await read_audit(people, "coordinator", audit)
    body: dict[str, Any] = {"status": status}
    if reason:
        body["reason"] = reason
    if status == "closed":
        # Closing confirms what is outstanding (the panel agreed no overall grade here).
        body |= {"confirm_outstanding": True, "reason": reason or "The panel has met"}
    moved = await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{audit['id']}/status",
        json=body,
        headers={"If-Match": f'"{current["row_version"]}"'},
    )
    assert moved.status_code == 200, moved.text


async def a_reviewed_audit(people: People, *, close: bool = False) -> dict[str, Any]:
    """Health (grades 1) and police (grades 3, and the child is not safe)
    submit; education has only a draft; the panel moderates the referral
    section; two remedial actions are agreed, one for health, one for police."""
    audit = await an_open_audit(people, participants=["health", "police", "education"], referrer="health")
    await contribute(people, "health", audit, 1, HEALTH_RECOMMENDATION)
    await contribute(people, "police", audit, 3, POLICE_RECOMMENDATION, **{"child-currently-safe": "no"})
    draft = complete_answers(await read_audit(people, "education", audit))
    draft["answers"]["auditor-recommendations"] = {"value": EDUCATION_DRAFT}
    assert (await save_draft(people, "education", audit, draft)).status_code == 200

    url = f"/api/audits/{audit['id']}/judgement"
    tag = (await request(people, "reviewer", "GET", url)).headers["etag"]
    moderated = await request(
        people,
        "reviewer",
        "PUT",
        f"{url}/sections/referral",
        json={"grade": 2, "reason": PANEL_REASON},
        headers={"If-Match": tag},
    )
    assert moderated.status_code == 200, moderated.text
    for persona, action in (("health", HEALTH_ACTION), ("police", POLICE_ACTION)):
        created = await request(
            people,
            "reviewer",
            "POST",
            f"/api/audits/{audit['id']}/actions",
            json={
                "action": action,
                "who": "Named lead",
                "timescale": "1 month",
                "responsible_organisation_id": str(people.organisation_id(persona)),
                "due_date": (datetime.date.today() + datetime.timedelta(days=30)).isoformat(),
            },
        )
        assert created.status_code == 201, created.text
    if close:
        await move(people, audit, "in-review", IN_REVIEW_REASON)
        await move(people, audit, "closed")
    return audit


def organisation_name(people: People, persona: str, audit: dict[str, Any]) -> str:
    name: str = next(
        p["organisation_name"]
        for p in audit["participants"]
        if p["organisation_id"] == str(people.organisation_id(persona))
    )
    return name


async def test_the_report_holds_the_case_every_agency_the_judgement_moderation_and_actions(people: People) -> None:
    audit = await a_reviewed_audit(people)
    full = await read_audit(people, "coordinator", audit)
    response = await request(people, "reviewer", "GET", f"/api/audits/{audit['id']}/report.html")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    page = response.text

    # Marked as the seed says, at the top and the bottom of the document.
    assert page.count(f"{MARKING}: Failure to comply with the restriction") == 2
    # Case details, in the toolkit's words (the category's label, the rows).
    assert "C-1001" in page and "Initials of subject child" in page
    assert "Neglect" in page and "Initials: CD; Relationship: Mother; Age: 29" in page
    # Every agency that submitted, with its grades; the one still drafting is
    # named as awaited and none of its draft appears.
    for persona in ("health", "police"):
        assert organisation_name(people, persona, full) in page
    assert HEALTH_RECOMMENDATION in page and POLICE_RECOMMENDATION in page
    assert EDUCATION_DRAFT not in page
    # Names are isolated (<bdi>): what an organisation is called turns nothing round.
    # An agency by its name alone, never "… (education)" (issue 23).
    assert f"<bdi>{organisation_name(people, 'education', full)}</bdi> (in-progress)" in page
    assert "(education" not in page and "(police)" not in page
    # The judgement with its reasons, the disagreement, moderation, concern.
    # The rule in plain words, never its id.
    assert "under the partnership's 75% / 25% rule" in page.replace("&#39;", "'")
    assert "overall-75-25" not in page
    assert "Disagreement" in page and "2 grades apart" in page
    assert PANEL_REASON in page and "Agreed by the panel" in page
    # The panel's reason once, with the day it was agreed in people's words,
    # never a stored timestamp (issue 23).
    assert page.count(PANEL_REASON) == 1, page.count(PANEL_REASON)
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:", page) is None
    # A cover with the reference and status, then the one-page summary,
    # before the detail; no internal id anywhere.
    assert page.index('class="cover"') < page.index('id="summary"') < page.index('id="case-details"')
    assert "C-1001" in page[page.index('class="cover"') : page.index('id="summary"')]
    assert audit["id"] not in page
    assert "Provisional" in page
    assert "currently safe" in page
    # Remedial actions.
    assert HEALTH_ACTION in page and POLICE_ACTION in page
    # No inline style or script: the page's policy allows neither.
    assert "<script" not in page and "style=" not in page and "<style" not in page
    assert '<link rel="stylesheet" href="/static/report/report.css">' in page
    assert "script-src" not in response.headers["content-security-policy"]
    stylesheet = await people.client.get("/static/report/report.css")
    assert stylesheet.status_code == 200 and "@page" in stylesheet.text


def pdf_objects(pdf: bytes) -> bytes:
    """The PDF's objects as text: the file, and each of its streams
    inflated (the catalogue and the metadata sit in compressed streams)."""
    inflated = [pdf]
    for stream in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            inflated.append(zlib.decompress(stream.group(1)))
        except zlib.error:
            continue  # an image, a font: not Flate-compressed text
    return b"\n".join(inflated)


def pages_text(document: Any) -> list[str]:
    """The text WeasyPrint laid out on each page, headers and footers included."""
    return [
        " ".join(box.text for box in page._page_box.descendants() if isinstance(box, TextBox))
        for page in document.pages
    ]


async def test_the_pdf_is_made_from_the_same_template_with_the_marking_on_every_page(people: People) -> None:
    audit = await a_reviewed_audit(people)
    response = await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}/report.pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    # Named after the audit's reference, never its id (issue 23).
    assert response.headers["content-disposition"] == 'attachment; filename="c-1001-combined-report.pdf"'
    # Tagged PDF/UA: a structure tree a screen reader follows, marked as such.
    objects = pdf_objects(response.content)
    assert b"/StructTreeRoot" in objects and b"/MarkInfo <</Marked true>>" in objects
    assert b'pdfuaid:part="1"' in objects
    assert b"/Lang (en-GB)" in objects

    # The PDF's text, as WeasyPrint lays out the same template for
    # write_pdf (the served page differs only by linking the stylesheet
    # WeasyPrint is handed).
    page = await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}/report.html")
    document = layout(page.text.replace('<link rel="stylesheet" href="/static/report/report.css">', ""))
    pages = pages_text(document)
    assert len(pages) > 2
    for number, text in enumerate(pages, start=1):
        assert text.count(MARKING) >= 2, f"page {number} lacks the marking in its header and footer"
        assert f"page {number} of {len(pages)}" in text
    whole = " ".join(pages)
    for words in ("C-1001", HEALTH_RECOMMENDATION, POLICE_RECOMMENDATION, PANEL_REASON, HEALTH_ACTION):
        assert words in whole
    assert EDUCATION_DRAFT not in whole


async def test_a_closed_audits_report_is_final_and_names_who_never_submitted(people: People) -> None:
    """The issue: "after closing, the judgement and the PDF still say
    provisional". Closed with education's contribution still a draft, the
    report (and the PDF laid out from it) says Final, names education as
    never having submitted, and says Provisional nowhere."""
    audit = await a_reviewed_audit(people, close=True)
    full = await read_audit(people, "coordinator", audit)
    education = organisation_name(people, "education", full)
    page = await request(people, "reviewer", "GET", f"/api/audits/{audit['id']}/report.html")
    assert page.status_code == 200, page.text
    whole = " ".join(
        pages_text(layout(page.text.replace('<link rel="stylesheet" href="/static/report/report.css">', "")))
    )
    html = re.sub(r"<[^>]+>", " ", page.text)  # the words the served page shows
    for text in (" ".join(html.split()), " ".join(whole.split())):
        assert (
            f"Final The audit is closed: this is the partnership’s judgement. {education} never submitted: its work "
            "is not part of it."
        ) in text
        assert "Provisional" not in text


async def test_an_auditor_gets_the_report_of_a_closed_audit_with_only_its_own_part(people: People) -> None:
    audit = await a_reviewed_audit(people)
    url = f"/api/audits/{audit['id']}/report.html"
    assert (await request(people, "health", "GET", url)).status_code == 403  # not closed yet
    assert (await request(people, "health", "GET", url.replace(".html", ".pdf"))).status_code == 403
    full = await read_audit(people, "coordinator", audit)
    await move(people, audit, "in-review", IN_REVIEW_REASON)
    await move(people, audit, "closed")

    response = await request(people, "health", "GET", url)
    assert response.status_code == 200, response.text
    page = response.text
    assert page.count(MARKING) >= 2
    assert "C-1001" in page
    assert HEALTH_RECOMMENDATION in page and HEALTH_ACTION in page
    # The partnership's grades, not the other agencies' own.
    assert "(agreed by the panel)" in page
    assert POLICE_RECOMMENDATION not in page and POLICE_ACTION not in page
    assert organisation_name(people, "police", full) not in page
    assert EDUCATION_DRAFT not in page and "impact seen by police" not in page
    assert PANEL_REASON not in page  # the panel's reasoning is the partnership's
    assert "Immediate concerns" not in page  # raised by police, shown to the partnership

    pdf = await request(people, "health", "GET", url.replace(".html", ".pdf"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    # An agency not in the audit is not told it exists.
    assert (await request(people, "health-2", "GET", url)).status_code == 404
    # The education auditor, whose part was never submitted, gets the
    # partnership's grades and nothing of anyone's answers.
    education = await request(people, "education", "GET", url)
    assert education.status_code == 200
    assert EDUCATION_DRAFT not in education.text and HEALTH_RECOMMENDATION not in education.text


async def test_every_report_produced_is_recorded(people: People, db: asyncpg.Connection[Any]) -> None:
    audit = await a_reviewed_audit(people, close=True)
    for persona, suffix in (("reviewer", "html"), ("coordinator", "pdf"), ("police", "html")):
        response = await request(people, persona, "GET", f"/api/audits/{audit['id']}/report.{suffix}")
        assert response.status_code == 200
    rows = await db.fetch(
        "SELECT organisation_id, detail->>'format' AS format FROM events "
        "WHERE audit_id = $1 AND action = 'report.produced' ORDER BY id",
        UUID(audit["id"]),
    )
    assert [(r["organisation_id"], r["format"]) for r in rows] == [
        (people.organisation_id("reviewer"), "html"),
        (people.organisation_id("coordinator"), "pdf"),
        (people.organisation_id("police"), "html"),
    ]


async def test_a_report_of_an_unknown_audit_is_not_found(people: People) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    assert (await request(people, "reviewer", "GET", f"/api/audits/{missing}/report.html")).status_code == 404
    assert (await request(people, "reviewer", "GET", f"/api/audits/{missing}/report.pdf")).status_code == 404
    unsigned = await people.client.get(f"/api/audits/{missing}/report.html")
    assert unsigned.status_code == 401


def test_answers_read_in_the_toolkits_own_words(toolkits: Registry) -> None:
    toolkit = toolkits.current("multi-agency-cp")
    questions = {q.id: q for s in toolkit.sections for q in s.questions}
    assert answer_text(toolkit, questions["category-of-plan"], "neglect") == "Neglect"
    assert answer_text(toolkit, questions["child-currently-safe"], "no") == "No"
    assert answer_text(toolkit, questions["age"], 7.0) == "7"
    rows = [{"initials": "CD", "relationship": "Mother"}, {"initials": "EF", "relationship": "Father", "age": None}]
    assert answer_text(toolkit, questions["family-members"], rows) == (
        "Initials: CD; Relationship: Mother\nInitials: EF; Relationship: Father"
    )
