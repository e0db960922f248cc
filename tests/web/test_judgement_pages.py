"""The judgement in the pages, in-process: an agency saying it was not
involved, a significant failure, seed 000's features and suggested grade,
the reviewer's judgement in plain words, moderation with every agency's
work in view, a submitted contribution and its versions, and a closed
audit's final judgement."""

from __future__ import annotations

import datetime
import re
from typing import Any

from tests.server.audit_fixtures import (
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
S47 = "assessment-s47-enquiry"
NO_PART = "The school had no part in the S.47 enquiry"
FAILURE = "No strategy discussion was held after the child's disclosure"


def version_in(html: str) -> str:
    found = re.search(r'name="row_version" value="(\d+)"', html)
    assert found, html[:2000]
    return found.group(1)


async def submit_content(pages: Pages, persona: str, audit: dict[str, Any], content: dict[str, Any]) -> None:
    assert (await save_draft(pages.people, persona, audit, content)).status_code == 200
    assert (await submit(pages.people, persona, audit)).status_code == 200


async def test_a_school_marks_a_section_not_involved_on_its_page(pages: Pages) -> None:
    """Seed 003: "It is to be completed by each of the agencies involved with
    the child". The school says it had no part in the S.47 enquiry: the
    section asks nothing more of it, and its task list says so."""
    audit = await an_open_audit(pages.people, participants=["education", "health"], due_date=NEXT_MONTH)
    school = await pages.signed_in("education")
    url = f"/your-audits/{audit['id']}/sections/{S47}"
    page = await school.get(url)
    assert page.status_code == 200, page.text
    assert "Not involved at this stage" in page.text and "Why was your agency not involved at this stage?" in page.text
    assert "There is a significant failure in this part of the work" in page.text

    no_reason = await school.post(url, {"row_version": version_in(page.text), "not-involved": "yes", "action": "later"})
    assert no_reason.status_code == 422
    assert 'href="#not-involved-reason"' in no_reason.text
    assert "Say why your agency was not involved at this stage" in no_reason.text

    saved = await school.post(
        url,
        {
            "row_version": version_in(page.text),
            "not-involved": "yes",
            "not-involved-reason": NO_PART,
            # An answer typed before deciding: not kept, as the hint says.
            "q-s47-interpreter": "Not needed",
            "judgement-grade": "4",
            "action": "later",
        },
    )
    assert saved.status_code == 303, saved.text
    mine = await request(pages.people, "education", "GET", contribution_url(audit, pages.people, "education"))
    content = mine.json()["content"]
    assert content["not_involved"] == {S47: {"reason": NO_PART}}
    assert S47 not in content["judgements"] and "s47-interpreter" not in content["answers"]

    tasks = await school.get(f"/your-audits/{audit['id']}")
    item = re.search(r"S\.47 Enquiry\s*</a>.*?govuk-task-list__status[^>]*>\s*(.*?)\s*</div>", tasks.text, re.S)
    assert item is not None, tasks.text[-6000:]
    assert item.group(1) == "Not involved"
    check = await school.get(f"/your-audits/{audit['id']}/check")
    assert "Not involved at this stage" in check.text and NO_PART in check.text


async def arrange_three_agencies(pages: Pages) -> dict[str, Any]:
    """Health grades every section Good (2); police every section Adequate
    (3), with a significant failure in the S.47 enquiry; the school grades
    every section Good but the S.47 enquiry, where it was not involved."""
    audit = await an_open_audit(pages.people, participants=["health", "police", "education"], due_date=NEXT_MONTH)
    health = complete_answers(await read_audit(pages.people, "health", audit))
    health["answers"]["s47-statutory-checks"] = {
        "value": "Health checks on the household made on day 2",
        "evidence": [{"document": "Strategy meeting minutes", "date": "2025-03-01"}],
    }
    await submit_content(pages, "health", audit, health)
    police = complete_answers(await read_audit(pages.people, "police", audit))
    police["judgements"] = {s: {"grade": 3, "impact": "Checks were late"} for s in police["judgements"]}
    police["answers"]["s47-actions-planned"] = {"value": "The interview was delayed by a week", "comments": None}
    police["significant_failures"] = {S47: {"description": FAILURE}}
    await submit_content(pages, "police", audit, police)
    seen = await read_audit(pages.people, "education", audit)
    s47 = {q["id"] for s in seen["questions"]["sections"] if s["id"] == S47 for q in s["questions"]}
    school = complete_answers(seen)
    school["answers"] = {q: a for q, a in school["answers"].items() if q not in s47}
    del school["judgements"][S47]
    school["not_involved"] = {S47: {"reason": NO_PART}}
    await submit_content(pages, "education", audit, school)
    return audit


async def test_the_reviewers_judgement_speaks_plainly_and_shows_who_was_not_involved(pages: Pages) -> None:
    audit = await arrange_three_agencies(pages)
    reviewer = await pages.signed_in("reviewer")
    page = await reviewer.get(f"/audits/{audit['id']}/judgement")
    assert page.status_code == 200, page.text
    html = page.text
    assert "the partnership’s 75% / 25% rule" in html.replace("&#39;", "’").replace("'", "’")
    for internal in ("overall-75-25", "Seed 000", "seed 000"):
        assert internal not in html, internal
    assert "Not involved" in html and NO_PART in html
    assert "Significant failure" in html and FAILURE.replace("'", "&#39;") in html
    trace = re.search(r'<ol[^>]*id="trace">(.*?)</ol>', html, re.S)
    assert trace is not None
    # An agency by its name, not "Demo Police (police)" (issue 23).
    assert "Demo Police recorded a significant failure which has impacted on the safety of the child in" in (
        trace.group(1)
    )
    assert "(police)" not in html and "(education)" not in html
    # 003's key questions and outcome grades beside the sections.
    assert 'id="items"' in html and "Is the child currently safe" in html and "Being Healthy" in html
    # Each agency's own overall beside what its own grades give.
    stated = re.search(r'<table[^>]*id="stated">(.*?)</table>', html, re.S)
    assert stated is not None and "Demo Police" in stated.group(1) and "Differs" in stated.group(1)


async def test_the_moderation_page_shows_every_agencys_work_on_the_section(pages: Pages) -> None:
    """Issue: "The moderation page for a section shows every involved agency's
    grade, answers, comments, evidence and significant failures side by
    side"."""
    audit = await arrange_three_agencies(pages)
    reviewer = await pages.signed_in("reviewer")
    page = await reviewer.get(f"/audits/{audit['id']}/judgement/{S47}")
    assert page.status_code == 200, page.text
    html = page.text
    assert "Health checks on the household made on day 2" in html
    assert "Strategy meeting minutes (2025-03-01)" in html
    assert "The interview was delayed by a week" in html
    assert "Checks were late" in html  # police's own words for its grade
    assert FAILURE.replace("'", "&#39;") in html
    assert "Not involved at this stage" in html and NO_PART in html
    assert "Good (2)" in html and "Adequate (3)" in html
    assert f'href="/audits/{audit["id"]}/contributions/{pages.people.organisation_id("police")}"' in html


async def test_coordinators_and_reviewers_read_a_submitted_contribution_and_its_versions(pages: Pages) -> None:
    audit = await an_open_audit(pages.people, participants=["health"], due_date=NEXT_MONTH)
    first = complete_answers(await read_audit(pages.people, "health", audit))
    first["answers"]["history-previous-involvement"] = {"value": "Health visitor since birth"}
    await submit_content(pages, "health", audit, first)
    url = contribution_url(audit, pages.people, "health")
    current = await request(pages.people, "health", "GET", url)
    amended = {**first, "reason": "Added the GP's records"}
    amended["answers"]["history-previous-involvement"] = {"value": "Health visitor and GP since birth"}
    changed = await request(
        pages.people, "health", "PUT", url, json=amended, headers={"If-Match": current.headers["etag"]}
    )
    assert changed.status_code == 200, changed.text

    coordinator = await pages.signed_in("coordinator")
    audit_page = await coordinator.get(f"/audits/{audit['id']}")
    page_url = f"/audits/{audit['id']}/contributions/{pages.people.organisation_id('health')}"
    assert f'href="{page_url}"' in audit_page.text
    latest = await coordinator.get(page_url)
    assert latest.status_code == 200, latest.text
    assert "Health visitor and GP since birth" in latest.text and "Version 2 of 2" in latest.text
    assert "Added the GP&#39;s records" in latest.text
    earlier = await coordinator.get(f"{page_url}?version=1")
    assert "Health visitor since birth" in earlier.text and "Version 1 of 2" in earlier.text
    assert (await coordinator.get(f"{page_url}?version=7")).status_code == 404
    reviewer = await pages.signed_in("reviewer")
    assert (await reviewer.get(page_url)).status_code == 200
    assert (await (await pages.signed_in("health")).get(page_url)).status_code == 403


async def test_a_closed_audits_judgement_is_final_and_cannot_be_moderated(pages: Pages) -> None:
    audit = await an_open_audit(pages.people, participants=["health", "police"], due_date=NEXT_MONTH)
    await submit_content(pages, "health", audit, complete_answers(await read_audit(pages.people, "health", audit)))
    coordinator = await pages.signed_in("coordinator")
    url = f"/audits/{audit['id']}"
    page = await coordinator.get(url)
    reviewed = await coordinator.post(
        f"{url}/status", {"status": "in-review", "row_version": version_in(page.text), "reason": "Police are late"}
    )
    page = await coordinator.follow(reviewed)
    closed = await coordinator.post(
        f"{url}/status",
        {"status": "closed", "row_version": version_in(page.text), "confirm-outstanding": "yes", "reason": "Closing"},
    )
    assert closed.status_code == 303, closed.text

    reviewer = await pages.signed_in("reviewer")
    judgement = await reviewer.get(f"{url}/judgement")
    # The agency's name is what a person typed, so it is isolated (<bdi>, issue 18).
    assert 'id="final"' in judgement.text and "<bdi>Demo Police</bdi> never submitted" in judgement.text
    assert "Provisional" not in judgement.text and "Agree a grade" not in judgement.text
    moderation = await reviewer.get(f"{url}/judgement/referral")
    assert moderation.status_code == 200 and "Record the agreed grade" not in moderation.text
    assert "The audit is closed and its judgement is final" in moderation.text
    tag = (await request(pages.people, "reviewer", "GET", f"/api/audits/{audit['id']}/judgement")).headers["etag"]
    refused = await reviewer.post(
        f"{url}/judgement/referral", {"judgement_version": tag, "grade": "2", "reason": "Agreed"}
    )
    assert refused.status_code == 409
    assert "reopen the audit first, with a reason" in refused.text


async def test_early_intervention_features_suggest_the_grade_the_auditor_confirms_or_overrides(pages: Pages) -> None:
    """Seed 000, Early Identification: Good "The child's needs were identified
    accurately, included gathering of information on previous concerns or
    involvements and were identified in a timely way." Marking the third
    at Inadequate ("there was delay in identifying the child's needs"):
    1 of 3 (33.3%) inadequate features — Inadequate suggested."""
    created = await request(
        pages.people,
        "coordinator",
        "POST",
        "/api/audits",
        json={"toolkit": "early-intervention", "participants": ["demo-health"], "due_date": NEXT_MONTH.isoformat()},
    )
    assert created.status_code == 201, created.text
    draft = created.json()
    opened = await request(
        pages.people,
        "coordinator",
        "POST",
        f"/api/audits/{draft['id']}/status",
        json={"status": "open"},
        headers={"If-Match": f'"{draft["row_version"]}"'},
    )
    assert opened.status_code == 200, opened.text
    health = await pages.signed_in("health")
    url = f"/your-audits/{draft['id']}/sections/early-identification"
    page = await health.get(url)
    assert page.status_code == 200, page.text
    assert "The child&#39;s needs were identified accurately" in page.text
    assert "Feature 1 of 3" in page.text and "Save and show the suggested grade" in page.text
    # The Outstanding cell is the overall rule, no longer an area's grade 1.
    assert "can be judged outstanding overall" not in page.text

    suggested = await health.post(
        url,
        {
            "row_version": version_in(page.text),
            "q-early-identification-comments": "Needs were identified late",
            "feature-needs-identified": "2",
            "feature-previous-concerns": "2",
            "feature-timely": "4",
            "action": "suggest",
        },
    )
    assert suggested.status_code == 303, suggested.text
    page = await health.get(url)
    assert "Suggested grade: Inadequate (4)" in page.text
    assert "1 of 3 (33.3%) are — yes." in page.text

    # Good instead, without a reason: saved as a draft, refused at submission.
    saved = await health.post(
        url,
        {
            "row_version": version_in(page.text),
            "q-early-identification-comments": "Needs were identified late",
            "feature-needs-identified": "2",
            "feature-previous-concerns": "2",
            "feature-timely": "4",
            "judgement-grade": "2",
            "action": "later",
        },
    )
    assert saved.status_code == 303, saved.text
    # The check page lists what is left (it offers no submit until nothing
    # is); a submit from an older page is refused the same way, by section.
    link = f"/your-audits/{draft['id']}/sections/early-identification?check=check#judgement-override-reason"
    check = await health.get(f"/your-audits/{draft['id']}/check")
    assert f'href="{link}">Say why you give Early Identification a grade other than the suggested one' in check.text
    section = await health.get(f"/your-audits/{draft['id']}/sections/early-identification")
    submitted = await health.post(f"/your-audits/{draft['id']}/submit", {"row_version": version_in(section.text)})
    assert submitted.status_code == 422
    assert (
        "Early Identification: say why you give Early Identification a grade other than the suggested one"
        in submitted.text
    )
    assert link in submitted.text
