"""The whole journey of issue 7 in a real Chromium against ``maca serve``,
with JavaScript on and off: the coordinator creates an audit and distributes
it; the health and police auditors each sign in, fill in and submit their
sections (police first sees what is left before submitting, then answers it);
the reviewer sees the merged judgement with a disagreement flagged and
moderates a section. axe-core checks every page; screenshots are kept under
.maca/screenshots/."""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.async_api import Page, expect

from tests.web.conftest import LiveServer, SignInAs, check_accessibility, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TOOLKIT_TITLE = "Multi-agency audit tool – Child Protection"
MAX_PAGES = 40  # far more than any agency's sections: a loop that never ends fails
# How long to wait for a page after a click: generous, because the machine
# running the tests may be busy; it bounds waiting and measures nothing.
WAIT = 30_000


class Journey:
    """Every page of the journey is checked with axe-core and photographed."""

    def __init__(self, suffix: str) -> None:
        self.suffix = suffix
        self.pages = 0

    async def looked_at(self, page: Page, name: str | None = None) -> None:
        await check_accessibility(page)
        self.pages += 1
        if name is not None:
            await screenshot(page, f"journey-{name}{self.suffix}")


async def fill_date(page: Page, prefix: str, day: datetime.date) -> None:
    await page.locator(f"#{prefix}-day").fill(str(day.day))
    await page.locator(f"#{prefix}-month").fill(str(day.month))
    await page.locator(f"#{prefix}-year").fill(str(day.year))


async def coordinator_creates_and_distributes(
    page: Page, live_server: LiveServer, journey: Journey, due: datetime.date
) -> str:
    people = live_server.people
    assert page.url.endswith("/audits"), page.url
    await expect(page.get_by_role("heading", name="Audits", exact=True)).to_be_visible(timeout=WAIT)
    await journey.looked_at(page, "01-coordinator-audits")
    await page.get_by_role("button", name="Create an audit").click()
    await page.get_by_label(TOOLKIT_TITLE).check()
    await journey.looked_at(page, "02-choose-toolkit")
    await page.get_by_role("button", name="Continue").click()

    await expect(page.get_by_role("heading", name="Case details and who takes part")).to_be_visible(timeout=WAIT)
    for field, value in (
        ("child-initials", "AB"),
        ("gender", "Female"),
        ("age", "7"),
        ("case-identifier", "C-2024-17"),
        ("ethnicity", "White British"),
        ("language", "English"),
        ("religion", "None"),
        ("family-members-0-initials", "CD"),
        ("family-members-0-relationship", "Mother"),
        ("family-members-0-age", "29"),
        ("previous-cp-or-concerning-history", "None known"),
    ):
        await page.locator(f"#case-{field}").fill(value)
    await fill_date(page, "case-date-initial-cp-plan", datetime.date(2025, 6, 1))
    await page.get_by_label("Neglect").check()
    for persona in ("health", "police"):
        await page.locator(f'input[name="participants"][value="{people.organisation_id(persona)}"]').check()
    await page.locator(f'input[name="referrer"][value="{people.organisation_id("police")}"]').check()
    # The due date is left out: the error summary links to it, and what was
    # typed stays.
    await page.get_by_role("button", name="Continue").click()
    summary = page.locator(".govuk-error-summary")
    await expect(summary).to_contain_text("Enter the date the agencies' contributions are due", timeout=WAIT)
    await expect(page.locator("#case-case-identifier")).to_have_value("C-2024-17", timeout=WAIT)
    await journey.looked_at(page, "03-case-details-error")
    await summary.get_by_role("link").first.click()
    await fill_date(page, "due-date", due)
    await page.get_by_role("button", name="Continue").click()

    await expect(page.get_by_role("heading", name="Check the audit before you create it")).to_be_visible(timeout=WAIT)
    await expect(page.locator(".govuk-summary-list").first).to_contain_text("Neglect", timeout=WAIT)
    await journey.looked_at(page, "04-check-answers")
    await page.get_by_role("button", name="Create the audit").click()

    await expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Audit created as a draft", timeout=WAIT
    )
    audit_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    await journey.looked_at(page, "05-audit-draft")
    await page.get_by_role("button", name="Distribute to the agencies").click()
    await expect(page.locator(".govuk-notification-banner--success")).to_contain_text("The audit is open", timeout=WAIT)
    await expect(page.locator("table").first).to_contain_text("Not started", timeout=WAIT)
    await journey.looked_at(page, "06-audit-open")
    return audit_id


# A section's own choices, beside its questions, and the words each takes.
SECTION_CHOICES = ("not-involved", "significant-failure")
SECTION_CHOICE_REASONS = ("not-involved-reason", "significant-failure-description")


async def answer_the_page(page: Page, grade: int) -> None:
    """Answer every question on a section (or overall) page: each radio group
    (a judgement with ``grade``, anything else its first choice), each empty
    text box, each date, the first box of each checkbox group. The section's
    own choices are left alone: this journey grades every section, so no
    agency says it was "not involved" nor records a significant failure
    (their reasons, revealed only when ticked, stay empty)."""
    # A long section's groups of questions, opened as a person opens them.
    closed = page.locator("main details:not([open]) > summary")
    for _ in range(MAX_PAGES):
        if not await closed.count():
            break
        await closed.first.click()
    groups: dict[str, list[str]] = {}
    for radio in await page.locator("main input[type=radio]").all():
        name = await radio.get_attribute("name") or ""
        groups.setdefault(name, []).append(await radio.get_attribute("value") or "")
    for name, values in groups.items():
        wanted = str(grade) if name in ("judgement-grade", "overall-grade") and str(grade) in values else values[0]
        await page.locator(f'main input[type=radio][name="{name}"][value="{wanted}"]').check()
    ticked: set[str] = set()
    for box in await page.locator("main input[type=checkbox]").all():
        name = await box.get_attribute("name") or ""
        if name not in ticked and name not in SECTION_CHOICES:
            ticked.add(name)
            await box.check()
    for box in await page.locator("main input.govuk-date-input__input").all():
        name = await box.get_attribute("name") or ""
        part = name.rsplit("-", 1)[-1]
        await box.fill({"day": "3", "month": "3", "year": "2025"}.get(part, "1"))
    for box in await page.locator("main input.govuk-input:not(.govuk-date-input__input)").all():
        if not await box.input_value():
            numeric = await box.get_attribute("inputmode") == "numeric"
            await box.fill("1" if numeric else "Seen in the records")
    for box in await page.locator("main textarea").all():
        if await box.get_attribute("name") in SECTION_CHOICE_REASONS:
            continue
        if not await box.input_value():
            await box.fill("Seen in the records")


async def auditor_submits(
    page: Page, live_server: LiveServer, journey: Journey, persona: str, audit_id: str, grade: int
) -> None:
    await page.goto(live_server.url("/your-audits"))
    await journey.looked_at(page, f"10-{persona}-your-audits")
    await page.get_by_role("link", name=TOOLKIT_TITLE).click()
    await expect(page.locator(".govuk-task-list").first).to_be_visible(timeout=WAIT)
    await journey.looked_at(page, f"11-{persona}-task-list")

    if persona == "police":
        # Straight to checking: nothing is offered for submission yet; what
        # is left is listed by section, each problem linked to its field.
        await page.goto(live_server.url(f"/your-audits/{audit_id}/check"))
        await expect(page.get_by_role("heading", name="Before you can submit")).to_be_visible(timeout=WAIT)
        await expect(page.get_by_role("button", name="Submit your contribution")).to_have_count(0)
        await journey.looked_at(page, f"12-{persona}-what-is-left")

    await page.goto(live_server.url(f"/your-audits/{audit_id}"))
    await page.locator(".govuk-task-list a").first.click()
    for _ in range(MAX_PAGES):
        if not re.search(r"/(sections/[^/]+|overall)$", page.url):
            break
        await answer_the_page(page, grade)
        await journey.looked_at(page)
        await page.get_by_role("button", name="Save and continue").click()
        await page.wait_for_load_state()
        errors = page.locator(".govuk-error-summary")
        assert await errors.count() == 0, f"{page.url}: {await errors.inner_text()}"
    else:
        raise AssertionError("the sections never ended")

    assert page.url.endswith("/check"), page.url
    await journey.looked_at(page, f"13-{persona}-check-answers")
    await page.get_by_role("button", name="Submit your contribution").click()
    await expect(page.locator(".govuk-panel--confirmation")).to_contain_text("Contribution submitted", timeout=WAIT)
    await journey.looked_at(page, f"14-{persona}-submitted")


async def reviewer_moderates(page: Page, live_server: LiveServer, journey: Journey, audit_id: str) -> None:
    assert page.url.endswith("/audits"), page.url
    await expect(page.locator("table")).to_contain_text("2 of 2 submitted", timeout=WAIT)
    await page.get_by_role("link", name="C-2024-17").click()
    # The audit's page, not the list still unloading (on a loaded machine
    # axe once met a document with no body yet).
    await page.wait_for_url(live_server.url(f"/audits/{audit_id}"))
    await journey.looked_at(page, "20-reviewer-audit")
    await page.get_by_role("link", name="The partnership judgement").click()

    await expect(page.locator(".govuk-warning-text")).to_contain_text(
        "Agencies disagree by two grades or more", timeout=WAIT
    )
    referral = page.locator("#section-referral")
    await expect(referral).to_contain_text("Disagreement: 3 grades apart", timeout=WAIT)
    await expect(referral).to_contain_text("Outstanding (1)", timeout=WAIT)
    await expect(referral).to_contain_text("Inadequate (4)", timeout=WAIT)
    await journey.looked_at(page, "21-reviewer-judgement")

    await page.get_by_role("link", name="Agree a grade for 3. Referral").click()
    await page.get_by_role("button", name="Record the agreed grade").click()
    await expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Select the grade the panel agreed", timeout=WAIT
    )
    await journey.looked_at(page, "22-moderation-error")
    await page.get_by_label("Good (2)").check()
    await page.get_by_label("Why did the panel agree this grade?").fill(
        "Police referred promptly; health's records were shared late. Agreed at panel."
    )
    await page.get_by_role("button", name="Record the agreed grade").click()
    await expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Agreed grade recorded", timeout=WAIT
    )
    await expect(page.locator("#section-referral")).to_contain_text("Agreed at panel", timeout=WAIT)
    await journey.looked_at(page, "23-reviewer-moderated")


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
async def test_the_whole_journey(signed_in_page: SignInAs, live_server: LiveServer, javascript: bool) -> None:
    journey = Journey("" if javascript else "-no-js")
    due = datetime.date.today() + datetime.timedelta(days=28)

    coordinator = await signed_in_page("coordinator", javascript=javascript)
    audit_id = await coordinator_creates_and_distributes(coordinator, live_server, journey, due)

    health = await signed_in_page("health", javascript=javascript)
    await auditor_submits(health, live_server, journey, "health", audit_id, grade=1)
    police = await signed_in_page("police", javascript=javascript)
    await auditor_submits(police, live_server, journey, "police", audit_id, grade=4)

    await coordinator.goto(live_server.url(f"/audits/{audit_id}"))
    await expect(coordinator.locator("table").first).to_contain_text("2 of 2 agencies have submitted", timeout=WAIT)
    await journey.looked_at(coordinator, "15-coordinator-all-submitted")

    reviewer = await signed_in_page("reviewer", javascript=javascript)
    await reviewer_moderates(reviewer, live_server, journey, audit_id)
    assert journey.pages > 30  # axe-core looked at every page of the journey
