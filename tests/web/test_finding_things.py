"""Finding things and seeing what happened (issue 23), in-process: the
service navigation, every audit's reference (set at creation, changed by a
coordinator, shown instead of an id), the audits list's search, filters
and pagination, the audit's history in words with what an agency may see of
it, what changed between two versions of a contribution, and the pages
every public-sector service publishes."""

from __future__ import annotations

import datetime
import html
import re
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from tests.reports.test_report import PANEL_REASON, a_reviewed_audit
from tests.server.audit_fixtures import (
    a_draft_audit,
    an_open_audit,
    complete_answers,
    contribution_url,
    read_audit,
    request,
    save_draft,
    submit,
)
from tests.web.conftest import Pages

NEXT_MONTH = datetime.date.today() + datetime.timedelta(days=30)
RETURN_COMMENT = "Please add the date of the strategy discussion"
AMEND_REASON = "The strategy discussion was on the 3rd, not the 5th"
REVIEW_REASON = "The panel meets on Thursday"


def version_in(html: str) -> str:
    found = re.search(r'name="row_version" value="(\d+)"', html)
    assert found, html[:2000]
    return found.group(1)


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_the_dashboard_is_in_the_service_navigation_of_those_who_may_open_it(pages: Pages) -> None:
    coordinator = await pages.signed_in("coordinator")
    audits = await coordinator.get("/audits")
    assert audits.status_code == 200
    assert 'href="/reports/themes"' in audits.text and "Themes dashboard" in audits.text
    auditor = await pages.signed_in("health")
    own = await auditor.get("/your-audits")
    assert own.status_code == 200 and "/reports/themes" not in own.text


async def test_an_audit_of_a_toolkit_without_a_case_identifier_is_named_by_the_coordinators_reference(
    pages: Pages,
) -> None:
    """Early intervention collects no case identifier: the coordinator must
    give a reference, and every page names the audit by it."""
    coordinator = await pages.signed_in("coordinator")
    form = await coordinator.get("/audits/new/details?toolkit=early-intervention")
    assert form.status_code == 200, form.text
    assert 'id="reference"' in form.text and "Your reference for this audit" in form.text
    fields = {
        "toolkit": "early-intervention",
        "participants": [str(pages.people.organisation_id("health"))],
        "referrer": "none",
        "due-date-day": str(NEXT_MONTH.day),
        "due-date-month": str(NEXT_MONTH.month),
        "due-date-year": str(NEXT_MONTH.year),
    }
    missing = await coordinator.post("/audits/new/details", fields)
    assert missing.status_code == 422
    assert '<a href="#reference">Enter a reference for the audit</a>' in missing.text
    too_long = await coordinator.post("/audits/new/details", {**fields, "reference": "x" * 101})
    assert "The reference must be 100 characters or fewer" in too_long.text

    checked = await coordinator.post("/audits/new/details", {**fields, "reference": "EI review 2026/14"})
    assert checked.status_code == 200, checked.text
    assert "EI review 2026/14" in checked.text
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', checked.text)
    created = await coordinator.post("/audits/new", [(name, html.unescape(value)) for name, value in hidden])
    assert created.status_code == 303, created.text
    audit_page = await coordinator.follow(created)
    assert '<h1 class="govuk-heading-l"><bdi>EI review 2026/14</bdi></h1>' in audit_page.text
    listed = await coordinator.get("/audits?reference=2026/14")
    assert "1 audit matching" in listed.text and "EI review 2026/14" in listed.text
    assert not re.search(r"Audit [0-9a-f]{8}\b", listed.text)


async def test_an_audit_given_no_reference_is_captioned_by_when_it_was_created_not_as_a_case(
    pages: Pages,
) -> None:
    """An audit made before references (migration 0018) of a toolkit that
    collects no case identifier has no reference anyone gave it: the
    agency's pages say when it was created, not "Case Audit created …"."""
    audit = await an_open_audit(pages.people, participants=["health"], due_date=NEXT_MONTH)
    connection = await asyncpg.connect(pages.database_url)
    try:
        # As the owner: such audits exist from before references.
        await connection.execute(
            "UPDATE audits SET reference = NULL, toolkit_id = 'early-intervention', toolkit_version = 1 WHERE id = $1",
            audit["id"],
        )
        created_at = await connection.fetchval("SELECT created_at FROM audits WHERE id = $1", audit["id"])
    finally:
        await connection.close()
    named = f"Audit created {created_at.astimezone(ZoneInfo('Europe/London')):%-d %B %Y}"
    auditor = await pages.signed_in("health")
    tasks = await auditor.get(f"/your-audits/{audit['id']}")
    assert tasks.status_code == 200, tasks.text
    caption = re.search(r'<span class="govuk-caption-l">([^<]*)</span>', tasks.text)
    assert caption is not None and caption.group(1) == named, tasks.text[:3000]
    assert "Case Audit created" not in tasks.text


async def test_the_reference_is_set_at_creation_shown_everywhere_and_changed_by_the_coordinator(
    pages: Pages,
) -> None:
    draft = await a_draft_audit(pages.people, participants=["health"], due_date=NEXT_MONTH)
    assert draft["reference"] == "C-1001"  # the case identifier, by default
    coordinator = await pages.signed_in("coordinator")
    page = await coordinator.get(f"/audits/{draft['id']}")
    assert page.status_code == 200
    assert "<bdi>C-1001</bdi>" in page.text
    assert str(draft["id"])[:8] not in visible_text(page.text)

    change = await coordinator.get(f"/audits/{draft['id']}/reference")
    assert change.status_code == 200 and 'value="C-1001"' in change.text
    blank = await coordinator.post(
        f"/audits/{draft['id']}/reference", {"reference": "  ", "row_version": version_in(change.text)}
    )
    assert blank.status_code == 422 and "Enter a reference for the audit" in blank.text
    stale = await coordinator.post(f"/audits/{draft['id']}/reference", {"reference": "Panel 7", "row_version": "0"})
    assert stale.status_code == 422 and "Someone else changed this audit" in stale.text
    saved = await coordinator.post(
        f"/audits/{draft['id']}/reference", {"reference": "Panel 7: neglect", "row_version": version_in(change.text)}
    )
    assert saved.status_code == 303, saved.text
    shown = await coordinator.follow(saved)
    assert "The audit’s reference is changed" in shown.text and "<bdi>Panel 7: neglect</bdi>" in shown.text
    listed = await coordinator.get("/audits")
    assert "Panel 7: neglect" in listed.text
    api = await read_audit(pages.people, "coordinator", draft)
    assert api["reference"] == "Panel 7: neglect"

    # A reviewer reads it; only a coordinator may change it.
    reviewer = await pages.signed_in("reviewer")
    seen = await reviewer.get(f"/audits/{draft['id']}")
    assert "Panel 7: neglect" in seen.text and f"/audits/{draft['id']}/reference" not in seen.text
    refused = await reviewer.get(f"/audits/{draft['id']}/reference")
    assert refused.status_code == 403


async def test_the_audits_list_searches_by_reference_filters_and_pages_in_one_query(pages: Pages) -> None:
    for n in range(23):
        details = {"answers": {"case-identifier": {"value": f"LIST-{n:02d}"}, "child-initials": {"value": "AB"}}}
        await a_draft_audit(
            pages.people, participants=["health"] if n % 2 else ["police"], case_details=details, due_date=NEXT_MONTH
        )
    coordinator = await pages.signed_in("coordinator")

    first = await coordinator.get("/audits")
    assert "23 audits" in first.text and "Page 1 of 2" in first.text
    assert first.text.count('href="/audits/') >= 20

    found = await coordinator.get("/audits?reference=list-07")
    assert "1 audit matching" in found.text and "LIST-07" in found.text and "LIST-08" not in found.text
    assert 'value="list-07"' in found.text and "Clear filters" in found.text

    police = pages.people.organisation_id("police")
    by_agency = await coordinator.get(f"/audits?agency={police}")
    assert "12 audits matching" in by_agency.text
    assert f'<option value="{police}" selected>' in by_agency.text

    by_toolkit = await coordinator.get("/audits?toolkit=early-intervention")
    assert "No audits match." in by_toolkit.text
    mine = await coordinator.get("/audits?toolkit=multi-agency-cp&reference=LIST-1")
    assert "10 audits matching" in mine.text  # LIST-10 … LIST-19

    # The next page keeps the filters.
    paged = await coordinator.get("/audits?toolkit=multi-agency-cp")
    assert 'href="/audits?toolkit=multi-agency-cp&amp;page=2"' in paged.text
    second = await coordinator.get("/audits?toolkit=multi-agency-cp&page=2")
    assert "Page 2 of 2" in second.text
    # Nonsense in the address is ignored, never a 500.
    odd = await coordinator.get("/audits?agency=not-an-id&toolkit=nope&page=-3&reference=" + "x" * 500)
    assert odd.status_code == 200


async def arrange_history(pages: Pages) -> dict[str, Any]:
    """Health submits, is returned with a comment, amends; police submits;
    the coordinator moves the audit to review with a reason."""
    audit = await an_open_audit(pages.people, participants=["health", "police"], due_date=NEXT_MONTH)
    full = await read_audit(pages.people, "health", audit)
    content = complete_answers(full)
    for persona in ("health", "police"):
        own = complete_answers(await read_audit(pages.people, persona, audit))
        assert (await save_draft(pages.people, persona, audit, own)).status_code == 200
        assert (await submit(pages.people, persona, audit)).status_code == 200
    coordinator = await pages.signed_in("coordinator")
    health = pages.people.organisation_id("health")
    form = await coordinator.get(f"/audits/{audit['id']}/contributions/{health}/return")
    returned = await coordinator.post(
        f"/audits/{audit['id']}/contributions/{health}/return",
        {"comment": RETURN_COMMENT, "row_version": version_in(form.text)},
    )
    assert returned.status_code == 303, returned.text
    # Health changes an answer and submits again (version 2).
    section = next(s for s in full["questions"]["sections"] if s["completed_by"] == "agency" and s.get("judgement"))
    changed = {**content, "judgements": {**content.get("judgements", {})}}
    changed["judgements"][section["id"]] = {"grade": 4, "impact": "Worse than first thought"}
    assert (await save_draft(pages.people, "health", audit, changed)).status_code == 200
    assert (await submit(pages.people, "health", audit)).status_code == 200
    moved = await request(
        pages.people,
        "coordinator",
        "POST",
        f"/api/audits/{audit['id']}/status",
        json={"status": "in-review", "reason": REVIEW_REASON},
        headers={"If-Match": f'"{(await read_audit(pages.people, "coordinator", audit))["row_version"]}"'},
    )
    assert moved.status_code == 200, moved.text
    return {"audit": audit, "section": section}


async def test_the_history_says_who_did_what_and_when_and_an_agency_sees_its_own_part(pages: Pages) -> None:
    arranged = await arrange_history(pages)
    audit = arranged["audit"]
    coordinator = await pages.signed_in("coordinator")
    page = await coordinator.get(f"/audits/{audit['id']}/history")
    assert page.status_code == 200, page.text
    text = visible_text(page.text)
    assert "Casey Coordinator" in text
    for words in (
        "created the audit with",
        "distributed the audit to the agencies",
        "Harper Health (Demo NHS Foundation Trust) submitted its contribution (version 1)",
        "Harper Health (Demo NHS Foundation Trust) submitted its contribution (version 2)",
        "returned Demo NHS Foundation Trust’s contribution for more work",
        RETURN_COMMENT,
        "moved the audit to review",
        REVIEW_REASON,
        "Parker Police (Demo Police) submitted its contribution (version 1)",
    ):
        assert words in text, words
    # People's dates, never stored timestamps.
    assert re.search(r"\d{4}-\d\d-\d\dT", text) is None
    assert re.search(r"\d{1,2} \w+ \d{4} at \d{1,2}:\d\d(am|pm)|midday|midnight", text)
    health = pages.people.organisation_id("health")
    assert f"/audits/{audit['id']}/contributions/{health}/changes?version=2" in page.text
    # Linked from the audit's page.
    assert f'href="/audits/{audit["id"]}/history"' in (await coordinator.get(f"/audits/{audit['id']}")).text

    # Police sees the audit's moves and its own submission, not Health's work.
    police = await pages.signed_in("police")
    theirs = await police.get(f"/audits/{audit['id']}/history")
    assert theirs.status_code == 200, theirs.text
    seen = visible_text(theirs.text)
    # Linked from the agency's own page of the audit too.
    own_page = await police.get(f"/your-audits/{audit['id']}")
    assert own_page.status_code == 200, own_page.text
    assert f'href="/audits/{audit["id"]}/history"' in own_page.text
    assert "Parker Police (Demo Police) submitted its contribution" in seen
    assert "moved the audit to review" in seen and REVIEW_REASON in seen
    assert "NHS Foundation Trust" not in seen and RETURN_COMMENT not in seen
    # Health sees the return of its own contribution, with the comment.
    health_page = visible_text((await (await pages.signed_in("health")).get(f"/audits/{audit['id']}/history")).text)
    assert "returned Demo NHS Foundation Trust’s contribution" in health_page and RETURN_COMMENT in health_page
    assert "Demo Police" not in health_page


async def test_what_changed_between_two_versions_of_a_contribution(pages: Pages) -> None:
    arranged = await arrange_history(pages)
    audit, section = arranged["audit"], arranged["section"]
    health = pages.people.organisation_id("health")
    reviewer = await pages.signed_in("reviewer")
    page = await reviewer.get(f"/audits/{audit['id']}/contributions/{health}/changes?version=2")
    assert page.status_code == 200, page.text
    table = re.search(r'<table[^>]*id="changes">(.*?)</table>', page.text, re.S)
    assert table is not None
    cells = visible_text(table.group(1))
    assert section["title"] in cells and "Grade" in cells and "Inadequate (4)" in cells
    assert "Impact" in cells and "Worse than first thought" in cells
    first = await reviewer.get(f"/audits/{audit['id']}/contributions/{health}/changes?version=1")
    assert first.status_code == 404
    listed = await reviewer.get(f"/audits/{audit['id']}/contributions/{health}")
    assert "what changed" in listed.text
    auditor = await pages.signed_in("health")
    refused = await auditor.get(f"/audits/{audit['id']}/contributions/{health}/changes?version=2")
    assert refused.status_code == 403
    assert contribution_url(audit, pages.people, "health")  # the API's own address is unchanged


async def test_the_footer_pages_are_published_for_everyone_and_the_favicon_is_found(pages: Pages) -> None:
    for path, heading in (
        ("/accessibility", "Accessibility statement for Maca"),
        ("/privacy", "Privacy notice"),
        ("/cookies", "Cookies"),
        ("/feedback", "Give feedback on Maca"),
    ):
        page = await pages.client.get(path, headers={"Accept": "text/html"})
        assert page.status_code == 200, (path, page.status_code)
        assert f'<h1 class="govuk-heading-l">{heading}</h1>' in page.text
    coordinator = await pages.signed_in("coordinator")
    audits = await coordinator.get("/audits")
    for link in ('href="/accessibility"', 'href="/privacy"', 'href="/cookies"', 'href="/feedback"'):
        assert link in audits.text, link
    assert 'class="govuk-phase-banner"' in audits.text and 'href="/feedback">feedback</a>' in audits.text
    assert '<link rel="icon" href="/static/maca/favicon.svg"' in audits.text
    icon = await pages.client.get("/static/maca/favicon.svg")
    assert icon.status_code == 200 and "<svg" in icon.text
    ico = await pages.client.get("/favicon.ico", follow_redirects=False)
    assert ico.status_code == 301 and ico.headers["location"] == "/static/maca/favicon.svg"


async def test_the_judgement_says_the_agreed_grade_once_in_peoples_words(pages: Pages) -> None:
    """Issue 23: the judgement page showed "2026-12-05T23:12:09.809023+00:00",
    printed the moderation reason twice, listed an already-moderated section
    as still to agree, and wrote "Demo Police (police)"."""
    audit = await a_reviewed_audit(pages.people)  # referral agreed at the panel
    reviewer = await pages.signed_in("reviewer")
    page = await reviewer.get(f"/audits/{audit['id']}/judgement")
    assert page.status_code == 200, page.text
    html = page.text
    assert html.count(PANEL_REASON) == 1, html.count(PANEL_REASON)
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:", html) is None
    row = re.search(r'<tr[^>]*id="section-referral">(.*?)</tr>', html, re.S)
    assert row is not None
    assert re.search(
        r"Agreed by the panel</span> on \d{1,2} \w+ \d{4} at (\d{1,2}:\d\d(am|pm)|midday|midnight)", row.group(1)
    )
    # Every section is two grades apart (1 against 3); the referral is agreed,
    # so the warning lists the others and not it.
    warning = re.search(r'<div class="govuk-warning-text">(.*?)</div>', html, re.S)
    assert warning is not None and "3. Referral" not in visible_text(warning.group(1))
    assert "4. Immediate Response to Referral" in visible_text(warning.group(1))
    for kind in ("(police)", "(health)", "(education)"):
        assert kind not in html, kind
    # The report, from here and from the audit's page.
    assert f'href="/api/audits/{audit["id"]}/report.pdf"' in html and "Download the combined report (PDF)" in html
    coordinator = await pages.signed_in("coordinator")
    assert f'href="/api/audits/{audit["id"]}/report.pdf"' in (await coordinator.get(f"/audits/{audit['id']}")).text


async def test_a_failed_sign_in_is_a_page_like_every_other(pages: Pages) -> None:
    failed = await pages.client.get("/auth/callback?state=made-up&code=made-up", headers={"Accept": "text/html"})
    assert failed.status_code >= 400
    assert '<h1 class="govuk-heading-l">Sign-in did not complete</h1>' in failed.text
    assert '<link rel="stylesheet" href="/static/govuk/govuk-frontend.min.css">' in failed.text
    assert 'href="/sign-in">Try signing in again</a>' in failed.text and 'href="/accessibility"' in failed.text


async def test_the_dashboards_count_of_audits_leads_to_those_audits(pages: Pages) -> None:
    await a_draft_audit(pages.people, participants=["health"], due_date=NEXT_MONTH)
    reviewer = await pages.signed_in("reviewer")
    dashboard = await reviewer.get("/reports/themes?toolkit=multi-agency-cp&status=draft")
    assert dashboard.status_code == 200, dashboard.text
    link = re.search(r'<a class="govuk-link" href="([^"]+)" id="audits-link">', dashboard.text)
    assert link is not None and html.unescape(link.group(1)) == "/audits?toolkit=multi-agency-cp&status=draft"
    listed = await reviewer.get(html.unescape(link.group(1)))
    assert "1 audit matching" in listed.text and "C-1001" in listed.text


async def test_signing_in_with_no_page_asked_for_lands_on_the_persons_own_start_page(pages: Pages) -> None:
    """Issue 23: /sign-in at the address bar landed on the bare /account."""
    from server.auth.web import local_path

    assert local_path(None) == "/" and local_path("https://elsewhere.example/") == "/"
    for persona, start in (("coordinator", "/audits"), ("reviewer", "/audits"), ("health", "/your-audits")):
        home = await (await pages.signed_in(persona)).get("/")
        assert (home.status_code, home.headers["location"]) == (303, start), persona
