"""The practitioner and family voice in the pages: an optional task on the
auditor's task list (never needed to submit), GOV.UK radios and textareas
that work without JavaScript, every problem shown at once; the reviewer
reads it beside the judgement and in the combined report. In-process
first, then in Chromium at 1280 and 375 px with axe-core on every page."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from server.platform.bidi import bdi
from tests.server.audit_fixtures import an_open_audit, contribution_url, draft_and_submit, request
from tests.web.conftest import LiveServer, Pages, SignInAs, check_accessibility, screenshot

PRACTITIONER = "The social worker agreed the chronology was missing"
MANAGER = "The team manager will check it in supervision"
FAMILY = "Mum said nobody explained why the school came to the meeting"
HEALTH = "Demo NHS Foundation Trust"
POLICE = "Demo Police"
# Typed text that would reorder the page around it if it were not isolated.
RIGHT_TO_LEFT = "\u202eThe family said the plan was clear"


def hidden(page: str, name: str) -> str:
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)">', page)
    assert found, f"no hidden {name}"
    return html.unescape(found.group(1))


def error_summary(page: str) -> list[tuple[str, str]]:
    block = re.search(r'<div class="govuk-error-summary__body">(.*?)</div>', page, re.S)
    assert block, "no error summary"
    return [
        (html.unescape(href), " ".join(html.unescape(text).split()))
        for href, text in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', block.group(1), re.S)
    ]


async def test_the_voice_is_an_optional_task_saved_without_javascript(pages: Pages) -> None:
    audit = await an_open_audit(pages.people, participants=["health", "police"])
    health = await pages.signed_in("health")
    task_list = await health.get(f"/your-audits/{audit['id']}")
    assert task_list.status_code == 200
    assert f'href="/your-audits/{audit["id"]}/voice"' in task_list.text
    assert "Practitioner and family voice" in task_list.text and "Optional" in task_list.text

    form = await health.get(f"/your-audits/{audit['id']}/voice")
    assert form.status_code == 200
    assert hidden(form.text, "row_version") == "0"
    for field in ("findings-discussed", "practitioner-views", "manager-views", "family-views-sought", "family-views"):
        assert f'name="{field}"' in form.text

    # What does not fit is shown all at once, what was typed kept.
    wrong = await health.post(
        f"/your-audits/{audit['id']}/voice",
        {"row_version": "0", "practitioner-views": PRACTITIONER, "family-views": FAMILY},
    )
    assert wrong.status_code == 422
    assert error_summary(wrong.text) == [
        ("#findings-discussed", "Say whether the findings were discussed with the practitioner and their manager"),
        ("#family-views-sought", "Say whether the family's views were sought"),
    ]
    assert PRACTITIONER in wrong.text

    saved = await health.post(
        f"/your-audits/{audit['id']}/voice",
        {
            "row_version": "0",
            "findings-discussed": "yes",
            "practitioner-views": PRACTITIONER,
            "manager-views": MANAGER,
            "family-views-sought": "given",
            "family-views": FAMILY,
        },
    )
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"/your-audits/{audit['id']}"
    task_list = await health.get(f"/your-audits/{audit['id']}")
    after = task_list.text.split("After the audit (optional)")[1]
    assert "Completed" in after

    # A second browser tab still holding version 0 does not overwrite.
    stale = await health.post(f"/your-audits/{audit['id']}/voice", {"row_version": "0", "findings-discussed": "no"})
    assert stale.status_code == 422
    assert "Someone else saved a change" in stale.text
    api = await request(pages.people, "health", "GET", f"{contribution_url(audit, pages.people, 'health')}/voice")
    assert api.json()["practitioner_views"] == PRACTITIONER and api.json()["version"] == 1

    # Police's voice page on the same audit is police's own: health's is not on it.
    police = await pages.signed_in("police")
    theirs = await police.get(f"/your-audits/{audit['id']}/voice")
    assert theirs.status_code == 200
    assert PRACTITIONER not in theirs.text


async def test_submission_never_needs_the_voice(pages: Pages) -> None:
    audit = await an_open_audit(pages.people, participants=["health"])
    submitted = await draft_and_submit(pages.people, "health", audit)
    assert submitted["status"] == "submitted"
    # The confirmation says where to record it afterwards.
    health = await pages.signed_in("health")
    confirmation = await health.get(f"/your-audits/{audit['id']}/submitted")
    assert confirmation.status_code == 200
    assert f'href="/your-audits/{audit["id"]}/voice"' in confirmation.text


async def record_over_api(people: Any, audit: dict[str, Any], persona: str, body: dict[str, Any]) -> None:
    url = f"{contribution_url(audit, people, persona)}/voice"
    current = await request(people, persona, "GET", url)
    saved = await request(people, persona, "PUT", url, json=body, headers={"If-Match": current.headers["etag"]})
    assert saved.status_code == 200, saved.text


async def test_the_reviewer_reads_each_submitted_agencys_voice_beside_the_judgement_and_in_the_report(
    pages: Pages,
) -> None:
    audit = await an_open_audit(pages.people, participants=["health", "police"])
    await record_over_api(
        pages.people,
        audit,
        "health",
        {
            "findings_discussed": "yes",
            "practitioner_views": PRACTITIONER,
            "family_views_sought": "given",
            "family_views": RIGHT_TO_LEFT,
        },
    )
    await record_over_api(pages.people, audit, "police", {"findings_discussed": "no", "manager_views": None})
    await draft_and_submit(pages.people, "health", audit)
    # Police's voice is a draft: police have not submitted.
    reviewer = await pages.signed_in("reviewer")
    judgement = await reviewer.get(f"/audits/{audit['id']}/judgement")
    assert judgement.status_code == 200
    voice = judgement.text.split('id="voice"')[1].split("How the grades are combined")[0]
    assert POLICE in judgement.text, "police take part (the negative below means something)"
    assert HEALTH in voice and POLICE not in voice
    assert PRACTITIONER in voice
    assert str(bdi(RIGHT_TO_LEFT)) in voice, "typed text is isolated"
    assert "Yes, the findings were discussed with the practitioner and their manager" in voice

    # And where the panel agrees a grade.
    moderation = await reviewer.get(f"/audits/{audit['id']}/judgement/overall")
    assert moderation.status_code == 200
    beside = moderation.text.split('id="voice"')[1]
    assert PRACTITIONER in beside and POLICE not in beside

    report = await request(pages.people, "reviewer", "GET", f"/api/audits/{audit['id']}/report.html")
    assert report.status_code == 200
    part = report.text.split('id="voice"')[1].split('id="contributions"')[0]
    assert PRACTITIONER in part and str(bdi(RIGHT_TO_LEFT)) in part
    assert POLICE not in part

    # The report as police read it once the audit is closed: their own voice, not health's.
    await draft_and_submit(pages.people, "police", audit)
    for move in (
        {"status": "in-review"},
        {"status": "closed", "confirm_outstanding": True, "reason": "Agreed at the panel"},
    ):
        current = await request(pages.people, "coordinator", "GET", f"/api/audits/{audit['id']}")
        moved = await request(
            pages.people,
            "coordinator",
            "POST",
            f"/api/audits/{audit['id']}/status",
            json=move,
            headers={"If-Match": current.headers["etag"]},
        )
        assert moved.status_code == 200, moved.text
    police_report = await request(pages.people, "police", "GET", f"/api/audits/{audit['id']}/report.html")
    assert police_report.status_code == 200, police_report.text
    police_part = police_report.text.split('id="voice"')[1].split('id="contributions"')[0]
    assert PRACTITIONER not in police_part and "No, not discussed" in police_part


# --- in a real browser ------------------------------------------------------------------


WAIT = 30_000


async def looked_at(page: Page, name: str, width: int) -> None:
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name}: the page is {overflow}px wider than a {width}px window"
    await check_accessibility(page)
    await screenshot(page, f"voice-{name}-{width}")


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("width", [1280, 375])
async def test_an_auditor_records_the_voice_and_the_reviewer_reads_it(
    signed_in_page: SignInAs, live_server: LiveServer, width: int
) -> None:
    people = live_server.people
    audit = await an_open_audit(people, participants=["health"])
    health = await signed_in_page("health", javascript=False)
    await health.set_viewport_size({"width": width, "height": 900})
    await health.goto(live_server.url(f"/your-audits/{audit['id']}"))
    await health.get_by_role("link", name="Practitioner and family voice").click()
    await expect(health.get_by_role("heading", name="Practitioner and family voice")).to_be_visible(timeout=WAIT)
    await looked_at(health, "form", width)

    await health.get_by_label("What did the practitioner say?").fill(PRACTITIONER)
    await health.get_by_role("button", name="Save").click()
    await expect(health.locator(".govuk-error-summary")).to_contain_text(
        "Say whether the findings were discussed", timeout=WAIT
    )
    await looked_at(health, "problem", width)
    await health.get_by_label("Yes, the findings were discussed with the practitioner and their manager").check()
    await health.get_by_label("What did their manager say?").fill(MANAGER)
    await health.get_by_label("Yes, and the family gave their views").check()
    await health.get_by_label("What were the family's views?").fill(FAMILY)
    await health.get_by_role("button", name="Save").click()
    await expect(health.locator(".govuk-notification-banner")).to_contain_text(
        "The practitioner and family voice has been saved", timeout=WAIT
    )
    await looked_at(health, "task-list", width)
    await draft_and_submit(people, "health", audit)

    reviewer = await signed_in_page("reviewer")
    await reviewer.set_viewport_size({"width": width, "height": 900})
    await reviewer.goto(live_server.url(f"/audits/{audit['id']}/judgement"))
    await expect(reviewer.get_by_role("heading", name="Practitioner and family voice")).to_be_visible(timeout=WAIT)
    await expect(reviewer.locator("main")).to_contain_text(FAMILY, timeout=WAIT)
    await looked_at(reviewer, "judgement", width)
    await reviewer.goto(live_server.url(f"/audits/{audit['id']}/judgement/overall"))
    await expect(reviewer.locator("main")).to_contain_text(MANAGER, timeout=WAIT)
    await looked_at(reviewer, "moderation", width)
