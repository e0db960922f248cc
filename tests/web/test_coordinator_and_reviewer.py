"""The coordinator's and the partnership reviewer's pages, in-process:
what they show, the GOV.UK error pattern, concurrency, and who may see them."""

from __future__ import annotations

import datetime
import re
from typing import Any

from tests.server.audit_fixtures import (
    a_draft_audit,
    an_open_audit,
    complete_answers,
    draft_and_submit,
    read_audit,
    request,
    save_draft,
    submit,
)
from tests.web.conftest import Pages

NEXT_MONTH = datetime.date.today() + datetime.timedelta(days=30)


def date_fields(name: str, day: datetime.date) -> dict[str, str]:
    return {f"{name}-day": str(day.day), f"{name}-month": str(day.month), f"{name}-year": str(day.year)}


def case_details_form(pages: Pages, **overrides: Any) -> dict[str, Any]:
    """The multi-agency-cp case details form, filled in as a coordinator would."""
    form: dict[str, Any] = {
        "toolkit": "multi-agency-cp",
        "case-child-initials": "AB",
        "case-gender": "Female",
        "case-age": "7",
        "case-case-identifier": "C-1001",
        "case-ethnicity": "White British",
        "case-language": "English",
        "case-religion": "None",
        "case-family-members-0-initials": "CD",
        "case-family-members-0-relationship": "Mother",
        "case-family-members-0-age": "29",
        **date_fields("case-date-initial-cp-plan", datetime.date(2025, 6, 1)),
        "case-category-of-plan": "neglect",
        "case-previous-cp-or-concerning-history": "None known",
        "participants": [str(pages.people.organisation_id("health")), str(pages.people.organisation_id("police"))],
        "referrer": str(pages.people.organisation_id("police")),
        **date_fields("period-start", datetime.date(2025, 1, 1)),
        **date_fields("period-end", datetime.date(2025, 12, 31)),
        **date_fields("due-date", NEXT_MONTH),
    }
    form.update(overrides)
    return form


def hidden_inputs(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html)


async def test_a_coordinator_creates_an_audit_through_check_your_answers(pages: Pages) -> None:
    coordinator = await pages.signed_in("coordinator")
    choose = await coordinator.get("/audits/new")
    assert choose.status_code == 200, choose.text
    assert "Multi-agency audit tool – Child Protection" in choose.text

    details = await coordinator.get("/audits/new/details?toolkit=multi-agency-cp")
    assert details.status_code == 200, details.text
    assert 'id="case-child-initials"' in details.text and "Demo Police" in details.text

    check = await coordinator.post("/audits/new/details", case_details_form(pages))
    assert check.status_code == 200, check.text
    assert "Check the audit before you create it" in check.text
    assert "Neglect" in check.text and "1 June 2025" in check.text and "CD, Mother, 29" in check.text

    fields = [(n, v) for n, v in hidden_inputs(check.text) if n != "csrf_token"]
    created = await coordinator.post("/audits/new", fields)
    assert created.status_code == 303, created.text
    audit_page = await coordinator.follow(created)
    assert audit_page.status_code == 200
    assert "Audit created as a draft" in audit_page.text
    assert "C-1001" in audit_page.text and "Draft" in audit_page.text
    assert "Demo NHS Foundation Trust" in audit_page.text

    # Pressing "Create" again (a double click, a retry) makes no second audit.
    again = await coordinator.post("/audits/new", fields)
    assert again.status_code == 303 and again.headers["location"] == created.headers["location"]
    listed = await request(pages.people, "coordinator", "GET", "/api/audits")
    assert listed.json()["total"] == 1


async def test_case_details_errors_link_to_their_fields_and_keep_what_was_typed(pages: Pages) -> None:
    coordinator = await pages.signed_in("coordinator")
    form = case_details_form(
        pages,
        **{"case-age": "seven", "case-child-initials": "", "participants": [], "due-date-month": "13"},
    )
    page = await coordinator.post("/audits/new/details", form)
    assert page.status_code == 422, page.text
    html = page.text
    assert "<title>Error: " in html
    assert 'class="govuk-error-summary"' in html
    for field_id in ("case-child-initials", "case-age", "participants", "due-date-day"):
        assert f'href="#{field_id}"' in html, field_id
        assert f'id="{field_id}"' in html, field_id
    assert "Enter age as a number" in html
    assert "Enter initials of subject child" in html
    assert "Select the agencies taking part" in html
    # What was typed is kept.
    assert 'value="seven"' in html and 'value="White British"' in html and 'value="13"' in html


async def events_of(pages: Pages, audit_id: str) -> list[str]:
    response = await request(pages.people, "coordinator", "GET", f"/api/audits/{audit_id}/events")
    return [e["action"] for e in response.json()]


def version_in(html: str) -> str:
    found = re.search(r'name="row_version" value="(\d+)"', html)
    assert found, html[:2000]
    return found.group(1)


async def test_the_audit_page_distributes_reviews_closes_and_reopens(pages: Pages) -> None:
    draft = await a_draft_audit(pages.people, participants=["health", "police"], due_date=NEXT_MONTH)
    coordinator = await pages.signed_in("coordinator")
    url = f"/audits/{draft['id']}"
    page = await coordinator.get(url)
    assert page.status_code == 200 and "Distribute to the agencies" in page.text
    stale = version_in(page.text)

    moved = await coordinator.post(f"{url}/status", {"status": "open", "row_version": stale})
    assert moved.status_code == 303, moved.text
    page = await coordinator.follow(moved)
    assert "The audit is open" in page.text and "Move to review" in page.text

    # A form from before the change is refused, never applied twice.
    again = await coordinator.post(f"{url}/status", {"status": "in-review", "row_version": stale})
    assert again.status_code == 409
    assert "Someone else changed this audit" in again.text and 'href="#move"' in again.text

    # Reviewing before every agency has submitted needs a reason.
    current = version_in(page.text)
    no_reason = await coordinator.post(f"{url}/status", {"status": "in-review", "row_version": current})
    assert no_reason.status_code == 422
    assert 'href="#reason-in-review"' in no_reason.text and "Enter the reason" in no_reason.text
    reviewed = await coordinator.post(
        f"{url}/status", {"status": "in-review", "row_version": current, "reason": "Panel meets on Friday"}
    )
    assert reviewed.status_code == 303, reviewed.text
    page = await coordinator.follow(reviewed)
    # Closing shows what it would leave undone, and needs a confirmation and a reason.
    assert "Closing now would leave 3 things outstanding" in page.text
    assert "Demo NHS Foundation Trust has not submitted" in page.text
    assert "The panel has not agreed an overall grade" in page.text
    unconfirmed = await coordinator.post(f"{url}/status", {"status": "closed", "row_version": version_in(page.text)})
    assert unconfirmed.status_code == 422
    assert 'href="#confirm-outstanding"' in unconfirmed.text and 'href="#reason-closed"' in unconfirmed.text
    closed = await coordinator.post(
        f"{url}/status",
        {
            "status": "closed",
            "row_version": version_in(page.text),
            "confirm-outstanding": "yes",
            "reason": "Neither agency could take part this quarter",
        },
    )
    page = await coordinator.follow(closed)
    assert "The audit is closed" in page.text and "Reopen the audit" in page.text

    typed = "  "
    no_reason = await coordinator.post(
        f"{url}/status", {"status": "open", "row_version": version_in(page.text), "reason": typed}
    )
    assert no_reason.status_code == 422 and 'href="#reason-open"' in no_reason.text
    reopened = await coordinator.post(
        f"{url}/status", {"status": "open", "row_version": version_in(page.text), "reason": "Police evidence came late"}
    )
    assert reopened.status_code == 303
    assert (await events_of(pages, draft["id"])).count("audit.status-changed") == 4


async def test_overdue_agencies_are_named_on_the_list_and_the_audit(pages: Pages) -> None:
    last_week = datetime.date.today() - datetime.timedelta(days=7)
    audit = await an_open_audit(pages.people, participants=["health", "police"], due_date=last_week)
    await draft_and_submit(pages.people, "police", audit)
    coordinator = await pages.signed_in("coordinator")

    listed = await coordinator.get("/audits?overdue=yes")
    assert listed.status_code == 200
    assert "C-1001" in listed.text and "Overdue" in listed.text
    assert "<bdi>Demo NHS Foundation Trust</bdi>: not started" in listed.text
    assert "1 of 2 submitted" in listed.text
    nothing = await coordinator.get("/audits?status=closed")
    assert "No audits match" in nothing.text

    page = await coordinator.get(f"/audits/{audit['id']}")
    warning = re.search(r'govuk-warning-text__text">(.*?)</strong>', page.text, re.S)
    assert warning is not None
    assert "Demo NHS Foundation Trust" in warning.group(1) and "Demo Police" not in warning.group(1)


async def test_a_coordinator_returns_a_submitted_contribution_with_a_comment(pages: Pages) -> None:
    audit = await an_open_audit(pages.people, participants=["health"], due_date=NEXT_MONTH)
    await draft_and_submit(pages.people, "health", audit)
    coordinator = await pages.signed_in("coordinator")
    health = pages.people.organisation_id("health")
    url = f"/audits/{audit['id']}/contributions/{health}/return"
    # The audit's page links to the form for a coordinator, never for a reviewer.
    assert f'href="{url}"' in (await coordinator.get(f"/audits/{audit['id']}")).text
    reviewer = await pages.signed_in("reviewer")
    assert "/return" not in (await reviewer.get(f"/audits/{audit['id']}")).text
    page = await coordinator.get(url)
    assert page.status_code == 200 and "What does <bdi>Demo NHS Foundation Trust</bdi> need to do?" in page.text

    empty = await coordinator.post(url, {"comment": "", "row_version": version_in(page.text)})
    assert empty.status_code == 422 and 'href="#comment"' in empty.text

    returned = await coordinator.post(
        url, {"comment": "Add the GP's records to section 2", "row_version": version_in(page.text)}
    )
    assert returned.status_code == 303, returned.text
    contribution = await request(pages.people, "health", "GET", f"/api/audits/{audit['id']}/contributions/{health}")
    assert contribution.json()["status"] == "returned"
    assert contribution.json()["returned_comment"] == "Add the GP's records to section 2"
    assert "contribution.returned" in await events_of(pages, audit["id"])


async def test_only_coordinators_get_the_coordinators_pages(pages: Pages) -> None:
    audit = await an_open_audit(pages.people, participants=["health"], due_date=NEXT_MONTH)
    health = await pages.signed_in("health")
    for url in ("/audits", "/audits/new", f"/audits/{audit['id']}", f"/audits/{audit['id']}/judgement"):
        response = await health.get(url)
        assert response.status_code == 403, url
        assert "You cannot do this" in response.text
    refused = await health.post(f"/audits/{audit['id']}/status", {"status": "in-review", "row_version": "1"})
    assert refused.status_code == 403

    reviewer = await pages.signed_in("reviewer")
    assert (await reviewer.get("/audits/new")).status_code == 403
    create_button = '<a href="/audits/new" role="button"'
    assert create_button not in (await reviewer.get("/audits")).text
    coordinator = await pages.signed_in("coordinator")
    assert create_button in (await coordinator.get("/audits")).text
    page = await reviewer.get(f"/audits/{audit['id']}")
    assert page.status_code == 200 and "Progress of each agency" in page.text
    assert "Move to review" not in page.text and "/status" not in page.text

    # Another partnership's coordinator would be told it does not exist.
    missing = await (await pages.signed_in("coordinator")).get("/audits/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404


# --- the partnership reviewer ------------------------------------------------------------


async def submit_graded(pages: Pages, persona: str, audit: dict[str, Any], grade: int) -> None:
    """Submit a complete contribution grading every section ``grade``."""
    content = complete_answers(await read_audit(pages.people, persona, audit))
    content["judgements"] = {s: {**j, "grade": grade} for s, j in content["judgements"].items()}
    assert (await save_draft(pages.people, persona, audit, content)).status_code == 200
    assert (await submit(pages.people, persona, audit)).status_code == 200


async def test_the_reviewer_sees_grades_side_by_side_with_the_disagreement_flagged(pages: Pages) -> None:
    audit = await an_open_audit(pages.people, participants=["health", "police"], due_date=NEXT_MONTH)
    await submit_graded(pages, "health", audit, 1)
    await submit_graded(pages, "police", audit, 4)
    reviewer = await pages.signed_in("reviewer")
    page = await reviewer.get(f"/audits/{audit['id']}/judgement")
    assert page.status_code == 200, page.text
    html = page.text
    assert "Demo NHS Foundation Trust" in html and "Demo Police" in html
    # Label and number, never colour alone.
    assert "Outstanding (1)" in html and "Inadequate (4)" in html
    assert "Disagreement: 3 grades apart" in html
    assert "govuk-warning-text" in html and "Agencies disagree by two grades or more" in html
    assert "Agree a grade" in html
    assert "judgement.read" in await events_of(pages, audit["id"])


async def test_the_reviewer_moderates_a_section_with_a_reason(pages: Pages) -> None:
    audit = await an_open_audit(pages.people, participants=["health", "police"], due_date=NEXT_MONTH)
    await submit_graded(pages, "health", audit, 1)
    await submit_graded(pages, "police", audit, 4)
    reviewer = await pages.signed_in("reviewer")
    url = f"/audits/{audit['id']}/judgement/referral"
    form = await reviewer.get(url)
    assert form.status_code == 200, form.text
    version = re.search(r'name="judgement_version" value="([^"]+)"', form.text)
    assert version is not None
    tag = version.group(1).replace("&#34;", '"')

    missing = await reviewer.post(url, {"judgement_version": tag, "grade": "2", "reason": ""})
    assert missing.status_code == 422 and 'href="#reason"' in missing.text
    assert 'value="2" checked' in missing.text

    stale = await reviewer.post(url, {"judgement_version": '"old"', "grade": "2", "reason": "Agreed at panel"})
    assert stale.status_code == 409 and "The judgement changed since you opened this page" in stale.text

    agreed = await reviewer.post(url, {"judgement_version": tag, "grade": "2", "reason": "Agreed at panel"})
    assert agreed.status_code == 303, agreed.text
    page = await reviewer.follow(agreed)
    assert "Agreed grade recorded" in page.text and "Agreed at panel" in page.text
    judgement = await request(pages.people, "reviewer", "GET", f"/api/audits/{audit['id']}/judgement")
    referral = next(s for s in judgement.json()["sections"] if s["section_id"] == "referral")
    assert referral["grade"] == 2 and referral["moderation"]["reason"] == "Agreed at panel"
    # The partnership's themes count the moderation made on this page.
    themes = await request(pages.people, "reviewer", "GET", "/api/reports/themes")
    assert themes.status_code == 200, themes.text
    counted = next(s for s in themes.json()["sections"] if s["section_id"] == "referral")
    assert counted["moderated"] == 1

    coordinator = await pages.signed_in("coordinator")
    assert (await coordinator.get(url)).status_code == 403


async def test_remedial_actions_are_added_tracked_and_flagged_overdue(pages: Pages) -> None:
    audit = await an_open_audit(pages.people, participants=["health"], due_date=NEXT_MONTH)
    reviewer = await pages.signed_in("reviewer")
    url = f"/audits/{audit['id']}/actions"
    empty = await reviewer.get(url)
    assert empty.status_code == 200 and "No remedial actions" in empty.text

    last_week = datetime.date.today() - datetime.timedelta(days=7)
    wrong = await reviewer.post(url, {"action": "", "who": "Named nurse", **date_fields("due-date", last_week)})
    assert wrong.status_code == 422 and 'href="#action"' in wrong.text and 'value="Named nurse"' in wrong.text
    added = await reviewer.post(
        url,
        {
            "action": "Share the GP records at strategy meetings",
            "who": "Named nurse",
            "timescale": "1 month",
            "organisation": str(pages.people.organisation_id("health")),
            **date_fields("due-date", last_week),
        },
    )
    assert added.status_code == 303, added.text
    page = await reviewer.follow(added)
    assert "Share the GP records" in page.text and "Overdue" in page.text and "Demo NHS Foundation Trust" in page.text
    # The API's rule: reviewers agree actions; a coordinator changes them.
    assert "Record progress" not in page.text

    coordinator = await pages.signed_in("coordinator")
    listed = await coordinator.get(url)
    link = re.search(rf'href="({url}/[0-9a-f-]+)"', listed.text)
    assert link is not None
    form = await coordinator.get(link.group(1))
    done = await coordinator.post(
        link.group(1),
        {
            "row_version": version_in(form.text),
            "completed": "yes",
            "comments": "Done at the May meeting",
            "initials": "JS",
            **date_fields("date-reviewed", datetime.date.today()),
        },
    )
    assert done.status_code == 303, done.text
    page = await coordinator.follow(done)
    assert "Completed" in page.text and "Done at the May meeting" in page.text and "Overdue" not in page.text
    stale = await coordinator.post(link.group(1), {"row_version": version_in(form.text), "initials": "XX"})
    assert stale.status_code == 409
    assert [e for e in await events_of(pages, audit["id"]) if e.startswith("action.")] == [
        "action.created",
        "action.changed",
    ]
    assert (await reviewer.get(link.group(1))).status_code == 403
