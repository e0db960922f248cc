"""The coordinator's case details as a person fills them in, in-process:
"Not known" where the case file may not say, labels without the seeds'
colons, errors in plain words and in the order of the page, and a change
link on every row of check your answers."""

from __future__ import annotations

import re

from tests.server.audit_fixtures import an_open_audit, request
from tests.web.conftest import Pages
from tests.web.test_coordinator_and_reviewer import case_details_form, hidden_inputs


def error_texts(html: str) -> list[tuple[str, str]]:
    """(href, text) of the error summary's links, top to bottom."""
    block = re.search(r'<div class="govuk-error-summary__body">(.*?)</div>', html, re.S)
    assert block, "no error summary"
    return [(href, " ".join(text.split())) for href, text in re.findall(r'<a href="([^"]+)">(.*?)</a>', block.group(1))]


async def test_religion_and_family_members_may_be_not_known(pages: Pages) -> None:
    coordinator = await pages.signed_in("coordinator")
    details = await coordinator.get("/audits/new/details?toolkit=multi-agency-cp")
    assert 'name="case-religion-not-known"' in details.text
    assert 'name="case-family-members-not-known"' in details.text
    # The case's own reference and the child's initials identify the case: never "not known".
    assert 'name="case-case-identifier-not-known"' not in details.text
    assert 'name="case-child-initials-not-known"' not in details.text

    form = case_details_form(pages, **{"case-religion": "", "case-religion-not-known": "yes"})
    for column in ("initials", "relationship", "age"):
        form[f"case-family-members-0-{column}"] = ""
    form["case-family-members-not-known"] = "yes"
    check = await coordinator.post("/audits/new/details", form)
    assert check.status_code == 200, error_texts(check.text)
    religion = re.search(r"<dt[^>]*>\s*Religion\s*</dt>\s*<dd[^>]*>(.*?)</dd>", check.text, re.S)
    assert religion and "Not known" in religion.group(1)

    created = await coordinator.post("/audits/new", [(n, v) for n, v in hidden_inputs(check.text) if n != "csrf_token"])
    assert created.status_code == 303, created.text
    audit_page = await coordinator.follow(created)
    assert re.search(r"Family members[^<]*</dt>\s*<dd[^>]*>\s*<bdi>Not known</bdi>", audit_page.text), audit_page.text


async def test_not_known_and_an_answer_together_are_refused(pages: Pages) -> None:
    coordinator = await pages.signed_in("coordinator")
    form = case_details_form(pages, **{"case-religion-not-known": "yes"})  # and "None" typed
    page = await coordinator.post("/audits/new/details", form)
    assert page.status_code == 422
    assert ("#case-religion", "Enter religion, or select “Not known”, but not both") in error_texts(page.text)


async def test_case_details_labels_have_no_colons_and_errors_read_well_in_page_order(pages: Pages) -> None:
    coordinator = await pages.signed_in("coordinator")
    details = await coordinator.get("/audits/new/details?toolkit=multi-agency-cp")
    labels = re.findall(r"<(?:label|legend)[^>]*>\s*([^<]+?)\s*</(?:label|legend)>", details.text)
    assert "Language" in labels and "Religion" in labels
    assert not [text for text in labels if text.endswith(":")], labels

    form = case_details_form(
        pages,
        **{
            "participants": [],
            "case-religion": "",
            "case-date-initial-cp-plan-month": "",
            "case-previous-cp-or-concerning-history": "",
            "case-age": "seven",
        },
    )
    page = await coordinator.post("/audits/new/details", form)
    assert page.status_code == 422
    found = error_texts(page.text)
    assert [href for href, _ in found] == [
        "#case-age",
        "#case-religion",
        "#case-date-initial-cp-plan-day",
        "#case-previous-cp-or-concerning-history",
        "#participants",
    ], found
    messages = dict(found)
    assert messages["#case-religion"] == "Enter religion, or select “Not known”"
    # Abbreviations keep their capitals; no question mark inside "Enter …".
    assert (
        messages["#case-date-initial-cp-plan-day"] == "Date of initial Child Protection (CP) Plan must include a month"
    )
    assert "?" not in messages["#case-previous-cp-or-concerning-history"]
    assert messages["#case-previous-cp-or-concerning-history"].startswith("Enter children subject to CP Plan")


async def test_every_row_of_check_your_answers_has_its_own_change_link(pages: Pages) -> None:
    coordinator = await pages.signed_in("coordinator")
    check = await coordinator.post("/audits/new/details", case_details_form(pages))
    assert check.status_code == 200
    assert "Change these answers" not in check.text
    rows = re.findall(r'<div class="govuk-summary-list__row">(.*?)</div>', check.text, re.S)
    assert len(rows) >= 15
    for row in rows:
        assert 'formaction="/audits/new/details#' in row, row
    assert 'formaction="/audits/new/details#case-religion"' in check.text
    assert 'Change<span class="govuk-visually-hidden"> religion</span>' in check.text

    # A change goes back to the form with everything as typed.
    fields = [(n, v) for n, v in hidden_inputs(check.text) if n != "csrf_token"] + [("change", "yes")]
    back = await coordinator.post("/audits/new/details", fields)
    assert back.status_code == 200
    assert 'value="White British"' in back.text and "govuk-error-summary" not in back.text


def form_as_shown(html: str) -> list[tuple[str, str]]:
    """The correction form as the page fills it in: its version, the text
    inputs' values and the ticked choices."""
    fields = dict(hidden_inputs(html))
    typed = re.findall(
        r'<input class="govuk-input[^"]*" id="[^"]+" name="([^"]+)" type="text"[^>]*value="([^"]*)"', html
    )
    ticked = re.findall(r'name="([^"]+)" type="(?:checkbox|radio)" value="([^"]+)" checked', html)
    assert typed and ticked, html[:3000]
    return [("row_version", fields["row_version"]), *typed, *ticked]


async def test_a_coordinator_corrects_case_details_and_agencies_after_creating_the_audit(pages: Pages) -> None:
    audit = await an_open_audit(pages.people, participants=["health", "police"])
    coordinator = await pages.signed_in("coordinator")
    audit_page = await coordinator.get(f"/audits/{audit['id']}")
    assert f'href="/audits/{audit["id"]}/details#case-religion">Change' in audit_page.text
    assert f'href="/audits/{audit["id"]}/details#participants"' in audit_page.text

    form_page = await coordinator.get(f"/audits/{audit['id']}/details")
    assert form_page.status_code == 200
    form = [(n, v) for n, v in form_as_shown(form_page.text) if n not in ("case-religion", "participants")]
    form += [("case-religion-not-known", "yes"), ("participants", str(pages.people.organisation_id("health")))]
    form += [("participants", str(pages.people.organisation_id("education")))]

    # Removing an agency needs a reason, named on its field.
    refused = await coordinator.post(f"/audits/{audit['id']}/details", form)
    assert refused.status_code == 422, refused.text
    assert (
        "#reason",
        "Enter why you are making this correction: it is needed once an agency has started, and to remove an agency",
    ) in error_texts(refused.text)

    done = await coordinator.post(
        f"/audits/{audit['id']}/details", [*form, ("reason", "Police were invited by mistake")]
    )
    assert done.status_code == 303, error_texts(done.text)
    shown = await coordinator.follow(done)
    assert "The audit has been corrected" in shown.text
    stored = (await request(pages.people, "coordinator", "GET", f"/api/audits/{audit['id']}")).json()
    assert stored["case_details"]["answers"]["religion"]["value"] == "Not known"
    taking_part = {p["organisation_id"] for p in stored["participants"] if not p.get("removed_at")}
    assert taking_part == {str(pages.people.organisation_id(o)) for o in ("health", "education")}
    events = (await request(pages.people, "coordinator", "GET", f"/api/audits/{audit['id']}/events")).json()
    assert "audit.changed" in [e["action"] for e in events]


async def test_a_correction_made_from_a_stale_page_is_refused_and_the_page_shows_the_latest(pages: Pages) -> None:
    audit = await an_open_audit(pages.people, participants=["health"])
    coordinator = await pages.signed_in("coordinator")
    opened = await coordinator.get(f"/audits/{audit['id']}/details")
    form = form_as_shown(opened.text)
    welsh = [(n, "Welsh" if n == "case-language" else v) for n, v in form]
    first = await coordinator.post(f"/audits/{audit['id']}/details", welsh)
    assert first.status_code == 303, error_texts(first.text)
    second = await coordinator.post(f"/audits/{audit['id']}/details", form)  # the same page, now stale
    assert second.status_code == 409
    assert "Someone else changed this audit" in second.text
    stored = (await request(pages.people, "coordinator", "GET", f"/api/audits/{audit['id']}")).json()
    assert stored["case_details"]["answers"]["language"]["value"] == "Welsh"


async def test_an_agencys_auditor_may_not_correct_the_audit(pages: Pages) -> None:
    audit = await an_open_audit(pages.people, participants=["health"])
    auditor = await pages.signed_in("health")
    assert (await auditor.get(f"/audits/{audit['id']}/details")).status_code == 403
    refused = await auditor.post(f"/audits/{audit['id']}/details", {"row_version": "1", "reason": "x"})
    assert refused.status_code == 403


async def test_a_childs_journey_audit_asks_the_childs_initials_and_age_and_says_why(pages: Pages) -> None:
    coordinator = await pages.signed_in("coordinator")
    page = await coordinator.get("/audits/new/details?toolkit=childs-journey-early-help")
    assert page.status_code == 200
    text = page.text
    assert "Full name" not in text and "Date of Birth" not in text and 'name="case-date-of-birth-day"' not in text
    assert re.search(
        r'<label class="govuk-label govuk-label--s" for="case-child-initials">\s*'
        r"Child/Young Person’s initials\s*</label>",
        text,
    )
    assert "Initials only, for example A B. Do not enter the child’s name" in text
    assert 'id="case-age"' in text and "Do not enter the date of birth" in text
    # Initials identify the case: never "not known".
    assert 'name="case-child-initials-not-known"' not in text
