"""Completing a contribution and the case details in a real Chromium against
``maca serve``, at 1280 and 375 pixels wide, axe-core checking every page
and no page wider than the window:

- the task list offers submitting only when every section is complete, and
  otherwise names the sections left;
- check your answers groups what is left under each section's name, each
  problem linking to its field, and the field shows the problem;
- the grades' hint and the hint beside "Auditor comments";
- "Change" from check your answers comes back to it; "Save and come back
  later" keeps the task list;
- a long section's questions in groups that open without JavaScript;
- the case details: "Not known", errors in the page's order, a change link
  per row before and after the audit exists, and the child's journey tool
  asking initials and an age.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.server.audit_fixtures import (
    an_open_audit,
    complete_answers,
    contribution_url,
    read_audit,
    request,
    save_draft,
)
from tests.web.conftest import LiveServer, SignInAs, check_accessibility, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTHS = [1280, 375]
WAIT = 30_000
PLANNING = "planning-implementing-plan"


async def looked_at(page: Page, name: str, width: int) -> None:
    """No axe-core violation, nothing wider than the window, a screenshot."""
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name}: the page is {overflow}px wider than a {width}px window"
    await check_accessibility(page)
    await screenshot(page, f"{name}-{width}")


async def sign_in(signed_in_page: SignInAs, persona: str, width: int, *, javascript: bool = True) -> Page:
    page = await signed_in_page(persona, javascript=javascript)
    await page.set_viewport_size({"width": width, "height": 900})
    return page


async def all_but_the_referral_judgement(live_server: LiveServer) -> dict[str, Any]:
    people = live_server.people
    audit = await an_open_audit(people, participants=["health", "police"], referrer="police")
    content = complete_answers(await read_audit(people, "health", audit))
    del content["judgements"]["referral"]
    assert (await save_draft(people, "health", audit, content)).status_code == 200
    return audit


@pytest.mark.parametrize("width", WIDTHS)
async def test_an_auditor_completes_their_part_by_the_task_list(
    signed_in_page: SignInAs, live_server: LiveServer, width: int
) -> None:
    audit = await all_but_the_referral_judgement(live_server)
    base = f"/your-audits/{audit['id']}"
    page = await sign_in(signed_in_page, "health", width)

    # Not complete: the task list says what is left and offers no submit.
    await page.goto(live_server.url(base))
    left = page.locator("#before-you-submit + p + ul")
    await expect(page.get_by_role("heading", name="Before you can submit")).to_be_visible(timeout=WAIT)
    await expect(left.get_by_role("link")).to_have_text(["3. Referral"])
    await expect(page.get_by_role("button", name="Check your answers and submit")).to_have_count(0)
    await looked_at(page, "task-list", width)

    # What is left, by section, each problem linking to its field.
    await page.get_by_role("link", name="View your answers so far").click()
    await expect(page.get_by_role("heading", name="Your answers so far")).to_be_visible()
    await expect(page.get_by_role("button", name="Submit your contribution")).to_have_count(0)
    await expect(page.get_by_role("heading", name="3. Referral", level=3)).to_be_visible()
    await looked_at(page, "check-incomplete", width)
    await page.locator("#main-content").get_by_role("link", name="Select a grade").click()

    # The field shows the problem.
    await expect(page.get_by_role("heading", name="3. Referral", level=1)).to_be_visible()
    await expect(page.locator("#judgement-grade-error")).to_contain_text("Select a grade")
    await expect(page.locator(".govuk-error-summary")).to_contain_text("Select a grade")
    # Seed 003 describes its grades no further than "Outstanding = 1" …: the hint says how the scale runs.
    await expect(page.locator("#judgement-grade-hint")).to_contain_text(
        "The audit tool’s scale runs from Outstanding (1), the best, to Inadequate (4), the worst"
    )
    # The answer box and "Auditor comments", told apart.
    question = "q-referral-why-when-by-whom"
    await expect(page.locator(f"#{question}-hint")).to_contain_text("What the records show happened")
    await expect(page.locator(f"#{question}-comments-hint")).to_contain_text("Your view as the auditor")
    await looked_at(page, "section-with-error", width)

    await page.locator('input[name="judgement-grade"][value="2"]').check()
    await page.locator("#judgement-impact").fill("The referral was made promptly")
    await page.get_by_role("button", name="Save and continue").click()
    # Back where the person came from: check your answers, now complete.
    await expect(page.get_by_role("heading", name="Check your answers before submitting")).to_be_visible()
    await expect(page.locator(".govuk-notification-banner--success")).to_contain_text("3. Referral")
    await expect(page.get_by_role("button", name="Submit your contribution")).to_be_visible()

    # "Change" comes back to check your answers.
    await page.get_by_role("link", name="Change judgement on 2. History of involvement").click()
    await expect(page.get_by_role("heading", name="2. History of involvement", level=1)).to_be_visible()
    await expect(page.get_by_role("link", name="Back to check your answers")).to_be_visible()
    await page.locator('input[name="judgement-grade"][value="3"]').check()
    await page.get_by_role("button", name="Save and continue").click()
    await expect(page.get_by_role("heading", name="Check your answers before submitting")).to_be_visible()
    await expect(page.locator("#main-content")).to_contain_text("Adequate (3)")
    await looked_at(page, "check-complete", width)

    # Complete: the task list offers submitting.
    await page.goto(live_server.url(base))
    await expect(page.get_by_role("button", name="Check your answers and submit")).to_be_visible()
    await expect(page.get_by_role("heading", name="Before you can submit")).to_have_count(0)
    await looked_at(page, "task-list-complete", width)

    # "Save and come back later" keeps the task list.
    await page.goto(live_server.url(f"{base}/sections/referral"))
    await page.get_by_role("button", name="Save and come back later").click()
    await expect(page).to_have_url(live_server.url(base))
    await expect(page.locator(".govuk-task-list").first).to_be_visible()
    await expect(page.locator(".govuk-notification-banner--success")).to_contain_text("come back to them later")


@pytest.mark.parametrize(("width", "javascript"), [(1280, True), (375, False)], ids=["1280-js", "375-no-js"])
async def test_a_long_sections_questions_come_in_groups_that_open_without_javascript(
    signed_in_page: SignInAs, live_server: LiveServer, width: int, javascript: bool
) -> None:
    people = live_server.people
    audit = await an_open_audit(people, participants=["health"])
    page = await sign_in(signed_in_page, "health", width, javascript=javascript)
    url = live_server.url(f"/your-audits/{audit['id']}/sections/{PLANNING}")
    await page.goto(url)
    groups = page.locator("details.maca-question-group")
    count = await groups.count()
    assert count >= 2, count
    # Nothing answered yet: the first group is open, the others closed.
    assert [await g.get_attribute("open") is not None for g in await groups.all()] == [True] + [False] * (count - 1)
    await expect(groups.nth(1).locator(".maca-question-group__status")).to_contain_text(
        re.compile(r"^0 of \d answered$")
    )
    await looked_at(page, f"long-section{'' if javascript else '-no-js'}", width)
    if javascript:
        grouped = await page.evaluate("document.documentElement.scrollHeight")
        opened = await page.evaluate(
            "document.querySelectorAll('details').forEach(d => d.open = true); document.documentElement.scrollHeight"
        )
        print(f"6. Planning at {width}px: {grouped}px in groups, {opened}px with every group open")
        assert grouped < opened, (grouped, opened)
        await page.reload()

    # Opening a group needs no script; its answers are saved with the rest.
    await groups.nth(1).locator("summary").click()
    second = groups.nth(1).locator("textarea").first
    await expect(second).to_be_visible()
    await second.fill("Core group met monthly")
    await page.get_by_role("button", name="Save and come back later").click()
    await expect(page.locator(".govuk-task-list").first).to_be_visible()
    saved = await request(people, "health", "GET", contribution_url(audit, people, "health"))
    answers = saved.json()["content"]["answers"]
    assert "Core group met monthly" in [a.get("value") for a in answers.values()], answers

    # The group now says so, and opens for what is still to answer.
    await page.goto(url)
    await expect(groups.nth(1).locator(".maca-question-group__status")).to_contain_text(
        re.compile(r"^1 of \d answered$")
    )


@pytest.mark.parametrize("width", WIDTHS)
async def test_a_coordinator_gives_case_details_says_not_known_and_corrects_them(
    signed_in_page: SignInAs, live_server: LiveServer, width: int
) -> None:
    page = await sign_in(signed_in_page, "coordinator", width)
    await page.goto(live_server.url("/audits/new/details?toolkit=multi-agency-cp"))
    await expect(page.get_by_role("textbox", name="Religion", exact=True)).to_be_visible(timeout=WAIT)

    # Errors in the order of the page, each linking to its field.
    await page.get_by_role("textbox", name="Age", exact=True).fill("seven")
    await page.get_by_role("button", name="Continue").click()
    links = page.locator(".govuk-error-summary a")
    await expect(links.first).to_have_text("Enter initials of subject child")
    tops = []
    for href in await links.evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        tops.append(await page.locator(href).evaluate("e => e.getBoundingClientRect().top + window.scrollY"))
    assert tops == sorted(tops), tops
    texts = await links.all_inner_texts()
    assert not [t for t in texts if t.startswith("Enter") and "?" in t], texts
    await looked_at(page, "case-details-errors", width)

    await page.get_by_role("textbox", name="Initials of subject child").fill("AB")
    await page.get_by_role("textbox", name="Gender").fill("Female")
    await page.get_by_role("textbox", name="Age", exact=True).fill("7")
    await page.get_by_role("textbox", name="Case identifier number").fill("C-2001")
    await page.get_by_role("textbox", name="Ethnicity").fill("White British")
    await page.get_by_role("textbox", name="Language", exact=True).fill("English")
    await page.get_by_role("checkbox", name=re.compile(r"Not known\s*: Religion")).check()
    await page.get_by_role("checkbox", name=re.compile(r"Not known\s*: Family members")).check()
    await page.locator("#case-date-initial-cp-plan-day").fill("1")
    await page.locator("#case-date-initial-cp-plan-month").fill("6")
    await page.locator("#case-date-initial-cp-plan-year").fill("2025")
    await page.get_by_role("radio", name="Neglect").check()
    await page.locator("#case-previous-cp-or-concerning-history").fill("None known")
    await page.get_by_role("checkbox", name="Demo NHS Foundation Trust").check()
    due = datetime.date.today() + datetime.timedelta(days=28)
    for part, value in (("day", due.day), ("month", due.month), ("year", due.year)):
        await page.locator(f"#due-date-{part}").fill(str(value))
    await page.get_by_role("button", name="Continue").click()

    # Check your answers: a change link on every row.
    await expect(page.get_by_role("heading", name="Check the audit before you create it")).to_be_visible()
    rows = page.locator(".govuk-summary-list__row")
    assert await rows.count() == await page.locator(".govuk-summary-list__actions").count()
    await expect(page.locator(".govuk-summary-list__row", has_text="Religion")).to_contain_text("Not known")
    await looked_at(page, "case-details-check", width)
    await page.get_by_role("button", name="Change language").click()
    await expect(page).to_have_url(live_server.url("/audits/new/details#case-language"))
    await expect(page.get_by_role("textbox", name="Language", exact=True)).to_have_value("English")
    await page.get_by_role("textbox", name="Language", exact=True).fill("Welsh")
    await page.get_by_role("button", name="Continue").click()
    await expect(page.locator(".govuk-summary-list__row", has_text="Language")).to_contain_text("Welsh")
    await page.get_by_role("button", name="Create the audit").click()

    # After creation: each case detail has its own change link.
    await expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Audit created")
    await page.get_by_role("link", name="Change religion").click()
    await expect(page.get_by_role("heading", name="Correct the case details and who takes part")).to_be_visible()
    await page.get_by_role("checkbox", name=re.compile(r"Not known\s*: Religion")).uncheck()
    await page.get_by_role("textbox", name="Religion", exact=True).fill("Christian")
    await page.get_by_role("checkbox", name="Demo Police").check()
    await looked_at(page, "case-details-correct", width)
    await page.get_by_role("button", name="Save the correction").click()
    await expect(page.locator(".govuk-notification-banner--success")).to_contain_text("The audit has been corrected")
    await expect(page.locator(".govuk-summary-list__row", has_text="Religion")).to_contain_text("Christian")
    await expect(page.locator("#main-content")).to_contain_text("Demo Police")
    audit_id = page.url.split("/audits/", 1)[1].split("?")[0].split("#")[0]
    stored = (await request(live_server.people, "coordinator", "GET", f"/api/audits/{audit_id}")).json()
    answers = stored["case_details"]["answers"]
    assert (answers["religion"]["value"], answers["language"]["value"]) == ("Christian", "Welsh")
    assert answers["family-members"]["value"] == [{"initials": "Not known", "relationship": "Not known"}]


@pytest.mark.parametrize("width", WIDTHS)
async def test_the_childs_journey_tool_asks_initials_and_an_age(
    signed_in_page: SignInAs, live_server: LiveServer, width: int
) -> None:
    page = await sign_in(signed_in_page, "coordinator", width)
    await page.goto(live_server.url("/audits/new/details?toolkit=childs-journey-early-help"))
    await expect(page.get_by_label("Child/Young Person’s initials")).to_be_visible(timeout=WAIT)
    await expect(page.locator("#case-child-initials-hint")).to_contain_text("Do not enter the child’s name")
    await expect(page.locator("#case-age-hint")).to_contain_text("Do not enter the date of birth")
    await expect(page.get_by_text("Full name")).to_have_count(0)
    await looked_at(page, "case-details-childs-journey", width)
