"""The partnership judgement's journey in a real Chromium against ``maca
serve``, at 1280 and 375 pixels wide, axe-core checking every page:

- the school marks "5. Assessment/S.47 Enquiry" not involved; health and
  police grade it; the partnership's grade leaves the school out;
- police record a significant failure in it: the case is inadequate, and
  the trace says why, naming police and the section;
- the reviewer moderates the section with every agency's reasons on the page;
- the coordinator closes the audit, confirming what is outstanding;
- a later moderation is refused: the judgement is final.

The other sections of each contribution are filled in over the API first
(the whole-form journey is ``test_journey.py``); what the issue is about is
done in the pages.
"""

from __future__ import annotations

import datetime
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
    submit,
)
from tests.web.conftest import LiveServer, SignInAs, check_accessibility, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

S47 = "assessment-s47-enquiry"
S47_TITLE = "5. Assessment/S.47 Enquiry"
NO_PART = "The school had no part in the S.47 enquiry: the child was not yet on its roll"
FAILURE = "No strategy discussion was held after the child disclosed harm"
HEALTH_CHECKS = "Health checks on the household were made on day 2"
POLICE_INTERVIEW = "The ABE interview was delayed by a week"
WAIT = 30_000


class Looked:
    def __init__(self, width: int) -> None:
        self.width = width
        self.pages = 0

    async def at(self, page: Page, name: str) -> None:
        # A wide table scrolls in its own region; the page never runs past
        # the window's edge (the section × agency table did at 375 px, and
        # GOV.UK's visually hidden text inside it, absolutely positioned).
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name}: the page is {overflow}px wider than a {self.width}px window"
        await check_accessibility(page)
        await screenshot(page, f"judgement-{name}-{self.width}")
        self.pages += 1


async def sign_in(signed_in_page: SignInAs, persona: str, width: int) -> Page:
    page = await signed_in_page(persona)
    await page.set_viewport_size({"width": width, "height": 900})
    return page


async def arrange(live_server: LiveServer) -> dict[str, Any]:
    """The audit, distributed to health, police and the school; health has
    submitted every section Good (2); police and the school have drafts of
    everything but the S.47 enquiry's judgement, which they give in the
    pages."""
    people = live_server.people
    due = datetime.date.today() + datetime.timedelta(days=28)
    audit = await an_open_audit(people, participants=["health", "police", "education"], due_date=due)
    health = complete_answers(await read_audit(people, "health", audit))
    health["answers"]["s47-statutory-checks"] = {"value": HEALTH_CHECKS}
    assert (await save_draft(people, "health", audit, health)).status_code == 200
    assert (await submit(people, "health", audit)).status_code == 200

    police = complete_answers(await read_audit(people, "police", audit))
    police["answers"]["s47-actions-planned"] = {"value": POLICE_INTERVIEW}
    del police["judgements"][S47]
    assert (await save_draft(people, "police", audit, police)).status_code == 200

    seen = await read_audit(people, "education", audit)
    s47_questions = {q["id"] for s in seen["questions"]["sections"] if s["id"] == S47 for q in s["questions"]}
    school = complete_answers(seen)
    school["answers"] = {q: a for q, a in school["answers"].items() if q not in s47_questions}
    del school["judgements"][S47]
    assert (await save_draft(people, "education", audit, school)).status_code == 200
    return audit


async def submit_from_check(page: Page, live_server: LiveServer, audit_id: str, looked: Looked, who: str) -> None:
    await page.goto(live_server.url(f"/your-audits/{audit_id}/check"))
    await looked.at(page, f"{who}-check")
    await page.get_by_role("button", name="Submit your contribution").click()
    await expect(page.locator(".govuk-panel--confirmation")).to_contain_text("Contribution submitted", timeout=WAIT)


@pytest.mark.parametrize("width", [1280, 375])
async def test_the_partnership_judgement_journey(signed_in_page: SignInAs, live_server: LiveServer, width: int) -> None:
    looked = Looked(width)
    audit = await arrange(live_server)
    audit_id = audit["id"]

    # The school: not involved in the S.47 enquiry.
    school = await sign_in(signed_in_page, "education", width)
    await school.goto(live_server.url(f"/your-audits/{audit_id}/sections/{S47}"))
    await expect(school.get_by_role("heading", name=S47_TITLE)).to_be_visible(timeout=WAIT)
    await school.get_by_role("checkbox", name="Not involved at this stage").check()
    await school.get_by_label("Why was your agency not involved at this stage?").fill(NO_PART)
    await looked.at(school, "school-not-involved")
    await school.get_by_role("button", name="Save and come back later").click()
    await school.goto(live_server.url(f"/your-audits/{audit_id}"))
    await expect(school.locator(".govuk-task-list").first).to_contain_text("Not involved", timeout=WAIT)
    await looked.at(school, "school-task-list")
    await submit_from_check(school, live_server, audit_id, looked, "school")

    # Police: grade the S.47 enquiry, and record a significant failure in it.
    police = await sign_in(signed_in_page, "police", width)
    await police.goto(live_server.url(f"/your-audits/{audit_id}/sections/{S47}"))
    await police.get_by_role(
        "checkbox",
        name="There is a significant failure in this part of the work which has impacted on the safety of the child",
    ).check()
    await police.get_by_label("What was the failure, and how did it affect the child’s safety?").fill(FAILURE)
    await police.locator('input[name="judgement-grade"][value="3"]').check()
    await police.locator("#judgement-impact").fill("The interview and the checks were late")
    await looked.at(police, "police-significant-failure")
    await police.get_by_role("button", name="Save and come back later").click()
    await submit_from_check(police, live_server, audit_id, looked, "police")

    # The reviewer: the school is left out of the S.47 grade; the failure
    # makes the case inadequate, and the trace says why.
    reviewer = await sign_in(signed_in_page, "reviewer", width)
    await reviewer.goto(live_server.url(f"/audits/{audit_id}/judgement"))
    row = reviewer.locator(f"#section-{S47}")
    await expect(row).to_contain_text("Not involved", timeout=WAIT)
    await expect(row).to_contain_text("Good (2)", timeout=WAIT)  # health
    await expect(row).to_contain_text("Adequate (3)", timeout=WAIT)  # police, and the partnership
    # By hand: [2, 3] — none inadequate, 1 of 2 (50%) good, under 75%, 2 of 2
    # adequate or better: Adequate; the school's is not among them.
    await expect(row).to_contain_text(
        "Adequate because 1 of the 2 agency grades (50%) is good or better, under 75%", timeout=WAIT
    )
    await expect(row).to_contain_text("Demo Primary School was not involved at this stage", timeout=WAIT)
    trace = reviewer.locator("#trace")
    await expect(trace).to_contain_text(
        "Demo Police recorded a significant failure which has impacted on the safety of the child in "
        f"{S47_TITLE}: “{FAILURE}”.",
        timeout=WAIT,
    )
    await expect(trace).to_contain_text("Overall: Inadequate, under the partnership's 75% / 25% rule.", timeout=WAIT)
    await expect(reviewer.locator("main")).not_to_contain_text("overall-75-25", timeout=WAIT)
    await looked.at(reviewer, "reviewer-judgement")

    # Moderation, with every agency's reasons on the page.
    await reviewer.get_by_role("link", name=f"Agree a grade for {S47_TITLE}").click()
    main = reviewer.locator("main")
    for words in (HEALTH_CHECKS, POLICE_INTERVIEW, "The interview and the checks were late", FAILURE, NO_PART):
        await expect(main).to_contain_text(words, timeout=WAIT)
    await looked.at(reviewer, "reviewer-moderation")
    await reviewer.get_by_label("Adequate (3)").check()
    await reviewer.get_by_label("Why did the panel agree this grade?").fill(
        "Police's late interview and health's prompt checks: adequate, as computed. The school was not involved."
    )
    await reviewer.get_by_role("button", name="Record the agreed grade").click()
    await expect(reviewer.locator(".govuk-notification-banner--success")).to_contain_text(
        "Agreed grade recorded", timeout=WAIT
    )

    # The coordinator closes, confirming what is outstanding.
    coordinator = await sign_in(signed_in_page, "coordinator", width)
    await coordinator.goto(live_server.url(f"/audits/{audit_id}"))
    await coordinator.get_by_role("button", name="Move to review").click()
    await expect(coordinator.locator("#outstanding")).to_contain_text("outstanding", timeout=WAIT)
    await expect(coordinator.locator("main")).to_contain_text("The panel has not agreed an overall grade", timeout=WAIT)
    await expect(coordinator.locator("main")).to_contain_text(
        f"A significant failure which has impacted on the safety of the child, recorded by Demo Police in {S47_TITLE}",
        timeout=WAIT,
    )
    await looked.at(coordinator, "coordinator-close")
    await coordinator.get_by_role("button", name="Close the audit").click()
    await expect(coordinator.locator(".govuk-error-summary")).to_contain_text(
        "Confirm that you are closing the audit with these things outstanding", timeout=WAIT
    )
    await looked.at(coordinator, "coordinator-close-error")
    await coordinator.get_by_label("I confirm the audit closes with these things outstanding").check()
    await coordinator.get_by_label("Why are you closing it now?").fill(
        "The panel met on Friday; the overall grade stands as computed."
    )
    await coordinator.get_by_role("button", name="Close the audit").click()
    await expect(coordinator.locator(".govuk-notification-banner--success")).to_contain_text(
        "The audit is closed", timeout=WAIT
    )
    await looked.at(coordinator, "coordinator-closed")
    await expect(coordinator.get_by_role("button", name="Close the audit")).to_have_count(0)

    # A later moderation is refused: the judgement is final.
    await reviewer.goto(live_server.url(f"/audits/{audit_id}/judgement"))
    await expect(reviewer.locator("#final")).to_contain_text("Final.", timeout=WAIT)
    await looked.at(reviewer, "reviewer-final")
    await reviewer.goto(live_server.url(f"/audits/{audit_id}/judgement/{S47}"))
    await expect(reviewer.locator("main")).to_contain_text(
        "The audit is closed and its judgement is final", timeout=WAIT
    )
    await expect(reviewer.get_by_role("button", name="Record the agreed grade")).to_have_count(0)
    await looked.at(reviewer, "reviewer-moderation-final")
    people = live_server.people
    read = await request(people, "reviewer", "GET", f"/api/audits/{audit_id}/judgement")
    refused = await request(
        people,
        "reviewer",
        "PUT",
        f"/api/audits/{audit_id}/judgement/sections/{S47}",
        json={"grade": 4, "reason": "Second thoughts after the panel"},
        headers={"If-Match": read.headers["etag"]},
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["allowed"] == ["open"]
    school_now = await request(people, "education", "GET", contribution_url(audit, people, "education"))
    assert school_now.json()["content"]["not_involved"] == {S47: {"reason": NO_PART}}
    assert looked.pages >= 10


@pytest.mark.parametrize("width", [1280, 375])
async def test_an_early_intervention_area_suggests_its_grade_from_its_features(
    signed_in_page: SignInAs, live_server: LiveServer, width: int
) -> None:
    """Seed 000: the auditor marks each feature of Early Identification and
    is shown the grade the guidance suggests — 1 of 3 inadequate features
    (33.3%), 25% or more: Inadequate — then confirms it."""
    looked = Looked(width)
    people = live_server.people
    due = datetime.date.today() + datetime.timedelta(days=28)
    created = await request(
        people,
        "coordinator",
        "POST",
        "/api/audits",
        json={"toolkit": "early-intervention", "participants": ["demo-health"], "due_date": due.isoformat()},
    )
    assert created.status_code == 201, created.text
    draft = created.json()
    opened = await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{draft['id']}/status",
        json={"status": "open"},
        headers={"If-Match": f'"{draft["row_version"]}"'},
    )
    assert opened.status_code == 200, opened.text

    health = await sign_in(signed_in_page, "health", width)
    await health.goto(live_server.url(f"/your-audits/{draft['id']}/sections/early-identification"))
    await health.locator("#q-early-identification-comments").fill("The referral sat unread for three weeks")
    await health.get_by_label("The child's needs were identified accurately").check()
    await health.get_by_label("Included gathering of information on previous concerns or involvements").check()
    await health.get_by_label("There was delay in identifying the child's needs").check()
    await health.get_by_role("button", name="Save and show the suggested grade").click()
    await expect(health.locator("main")).to_contain_text("Suggested grade: Inadequate (4)", timeout=WAIT)
    await expect(health.locator("main")).to_contain_text(
        "Inadequate if 25% or more of the features described as inadequate are evident: 1 of 3 (33.3%) are — yes.",
        timeout=WAIT,
    )
    await looked.at(health, "early-intervention-area")
    await health.locator('input[name="judgement-grade"][value="4"]').check()
    await health.get_by_role("button", name="Save and continue").click()
    await expect(health.get_by_role("heading", name="Assessment")).to_be_visible(timeout=WAIT)
    await looked.at(health, "early-intervention-next-area")
    await health.goto(live_server.url(f"/your-audits/{draft['id']}/overall"))
    await expect(health.get_by_role("heading", name="Overall judgement")).to_be_visible(timeout=WAIT)
    await looked.at(health, "early-intervention-overall")
