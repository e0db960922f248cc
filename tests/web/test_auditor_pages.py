"""The agency auditor's pages, in-process: HTML in, HTML out, the same
domain code and events as the API."""

from __future__ import annotations

import html
import re
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.pages.auditor import your_audits
from tests.server.audit_fixtures import an_open_audit, contribution_url, request
from tests.web.conftest import HTML, Pages, PageSession
from tests.web.test_list_queries import statements_for


def hidden(page: str, name: str) -> str:
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)">', page)
    assert found, f"no hidden {name}"
    return html.unescape(found.group(1))


def error_summary(page: str) -> list[tuple[str, str]]:
    """(href, text) of each link in the GOV.UK error summary."""
    block = re.search(r'<div class="govuk-error-summary__body">(.*?)</div>', page, re.S)
    assert block, "no error summary"
    return [
        (html.unescape(href), " ".join(html.unescape(text).split()))
        for href, text in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', block.group(1), re.S)
    ]


async def sections_of(session: PageSession, audit_id: str) -> list[tuple[str, str]]:
    page = await session.get(f"/your-audits/{audit_id}")
    assert page.status_code == 200, page.text
    task_list = page.text.split('class="govuk-task-list"', 1)[1].split("</ul>", 1)[0]
    return re.findall(rf'href="/your-audits/{audit_id}/sections/([^"]+)"[^>]*>\s*([^<]+?)\s*<', task_list)


async def test_your_audits_lists_only_your_organisations_audits(pages: Pages) -> None:
    shared = await an_open_audit(pages.people, participants=["health", "police"])
    police_only = await an_open_audit(pages.people, participants=["police"])
    health = await pages.signed_in("health")
    page = await health.get("/your-audits")
    assert page.status_code == 200
    assert f"/your-audits/{shared['id']}" in page.text
    assert f"/your-audits/{police_only['id']}" not in page.text
    assert "C-1001" in page.text and "Not started" in page.text
    # Another organisation's audit is not said to exist.
    assert (await health.get(f"/your-audits/{police_only['id']}")).status_code == 404


async def test_the_task_list_shows_the_agencys_sections_and_the_case_details(pages: Pages) -> None:
    audit = await an_open_audit(pages.people, participants=["health", "police"], referrer="health")
    health = await pages.signed_in("health")
    page = await health.get(f"/your-audits/{audit['id']}")
    assert page.status_code == 200
    text = page.text
    assert "Multi-agency audit tool – Child Protection" in text
    assert "govuk-task-list" in text and "Not started" in text
    assert "AB" in text and "C-1001" in text  # case details the coordinator gave
    titles = [title for _, title in await sections_of(health, audit["id"])]
    assert "2. History of involvement" in titles


async def test_a_section_saved_as_a_draft_keeps_the_answers_and_records_an_event(
    pages: Pages, db: asyncpg.Connection[Any]
) -> None:
    audit = await an_open_audit(pages.people, participants=["health"])
    health = await pages.signed_in("health")
    url = f"/your-audits/{audit['id']}/sections/history-of-involvement"
    page = await health.get(url)
    assert page.status_code == 200
    assert 'name="judgement-grade"' in page.text and "Good (2)" in page.text
    assert "Auditor comments" in page.text and "Evidenced by" in page.text
    saved = await health.post(
        url,
        {
            "row_version": hidden(page.text, "row_version"),
            "q-history-previous-involvement": "Known to the health visitor since birth",
            "q-history-previous-involvement-evidence": "Health visiting record, 2025-02-03",
            "judgement-grade": "2",
            "action": "later",
        },
    )
    assert saved.status_code == 303, saved.text
    # "Save and come back later" keeps the task list (GOV.UK task list pattern).
    assert saved.headers["location"] == f"/your-audits/{audit['id']}"
    listing = await health.follow(saved)
    assert "Your answers have been saved" in listing.text and "govuk-notification-banner--success" in listing.text
    again = await health.get(url)
    assert "Known to the health visitor since birth" in again.text
    assert "Health visiting record, 2025-02-03" in again.text
    stored = await request(pages.people, "health", "GET", contribution_url(audit, pages.people, "health"))
    content = stored.json()["content"]
    assert content["answers"]["history-previous-involvement"]["evidence"] == [
        {"document": "Health visiting record", "date": "2025-02-03"}
    ]
    assert content["judgements"]["history-of-involvement"] == {
        "grade": 2,
        "impact": None,
        "features": {},  # this toolkit grades by no features
        "override_reason": None,
    }
    actions = [r["action"] for r in await db.fetch("SELECT action FROM events ORDER BY id")]
    assert "contribution.saved" in actions and "contribution.read" in actions
    # Nothing the auditor wrote is in the event log.
    assert "health visitor" not in str(await db.fetch("SELECT detail FROM events"))


async def test_a_bad_answer_is_shown_in_the_govuk_error_pattern_keeping_what_was_typed(pages: Pages) -> None:
    audit = await an_open_audit(pages.people, participants=["health"])
    health = await pages.signed_in("health")
    url = f"/your-audits/{audit['id']}/sections/history-of-involvement"
    page = await health.get(url)
    response = await health.post(
        url,
        {
            "row_version": hidden(page.text, "row_version"),
            "q-history-previous-involvement": "Typed before the mistake",
            "q-history-previous-involvement-evidence": "Minutes, 31/02/2025",
        },
    )
    assert response.status_code == 422
    assert response.text.count("<title>Error: ") == 1
    [(href, message)] = error_summary(response.text)
    assert href == "#q-history-previous-involvement-evidence"
    assert "31/02/2025 is not a real date" in message
    assert 'id="q-history-previous-involvement-evidence"' in response.text
    assert "Typed before the mistake" in response.text
    assert "govuk-textarea--error" in response.text


async def test_a_change_made_meanwhile_is_not_overwritten_silently(pages: Pages) -> None:
    audit = await an_open_audit(pages.people, participants=["health"])
    health = await pages.signed_in("health")
    url = f"/your-audits/{audit['id']}/sections/referral"
    page = await health.get(url)
    version = hidden(page.text, "row_version")
    first = await health.post(url, {"row_version": version, "q-referral-why-when-by-whom": "First"})
    assert first.status_code == 303
    stale = await health.post(url, {"row_version": version, "q-referral-why-when-by-whom": "Second"})
    assert stale.status_code == 422
    [(_, message)] = error_summary(stale.text)
    assert "Someone else saved a change" in message
    assert "Second" in stale.text  # what they typed is kept
    stored = await request(pages.people, "health", "GET", contribution_url(audit, pages.people, "health"))
    assert stored.json()["content"]["answers"]["referral-why-when-by-whom"]["value"] == "First"


async def submit_page(health: PageSession, audit_id: str) -> Any:
    check = await health.get(f"/your-audits/{audit_id}/check")
    assert check.status_code == 200
    return await health.post(f"/your-audits/{audit_id}/submit", {"row_version": hidden(check.text, "row_version")})


async def test_an_incomplete_contribution_is_not_offered_for_submission_and_names_what_is_left(pages: Pages) -> None:
    audit = await an_open_audit(pages.people, participants=["health"])
    health = await pages.signed_in("health")
    task_list = await health.get(f"/your-audits/{audit['id']}")
    assert "Before you can submit" in task_list.text
    assert "Check your answers and submit" not in task_list.text
    assert f'href="/your-audits/{audit["id"]}/sections/history-of-involvement">2. History of involvement</a></li>' in (
        task_list.text
    )
    check = await health.get(f"/your-audits/{audit['id']}/check")
    assert check.status_code == 200
    assert "Before you can submit" in check.text and "Submit your contribution" not in check.text
    assert "<title>Your answers so far" in check.text
    # What is left, grouped by section, each problem linking to its field.
    referral = check.text.split('">3. Referral</a></h3>', 1)[1].split("</ul>", 1)[0]
    link = f"/your-audits/{audit['id']}/sections/referral?check=check#judgement-grade"
    assert f'href="{link}">Select a grade</a>' in referral, referral
    # A few problems a section; the rest on its page.
    assert "5 more in 2. History of involvement" in check.text


async def test_submitting_an_incomplete_contribution_names_each_problem_by_its_section_and_field(pages: Pages) -> None:
    audit = await an_open_audit(pages.people, participants=["health"])
    health = await pages.signed_in("health")
    # A submit from a page opened before the contribution changed (the check
    # page no longer offers it while anything is left to do).
    section = await health.get(f"/your-audits/{audit['id']}/sections/referral")
    response = await health.post(
        f"/your-audits/{audit['id']}/submit", {"row_version": hidden(section.text, "row_version")}
    )
    assert response.status_code == 422
    problems = error_summary(response.text)
    assert problems, response.text
    assert all(href.startswith(f"/your-audits/{audit['id']}/") and "?check=check#" in href for href, _ in problems)
    link = f"/your-audits/{audit['id']}/sections/history-of-involvement?check=check#judgement-grade"
    assert (link, "2. History of involvement: select a grade") in problems, problems
    assert (
        f"/your-audits/{audit['id']}/sections/history-of-involvement?check=check#judgement-impact",
        "2. History of involvement: enter the impact",
    ) in problems, problems
    # In the order of the pages: section by section, each top to bottom.
    titles = [text.split(":", 1)[0] for _, text in problems]
    order = [title for _, title in await sections_of(health, audit["id"])]
    assert [order.index(t) for t in dict.fromkeys(t for t in titles if t in order)] == sorted(
        order.index(t) for t in set(titles) if t in order
    )

    # Following a problem: the section shows it on its field.
    followed = await health.get(link.split("#")[0])
    assert followed.status_code == 200
    assert ('href="#judgement-grade">Select a grade</a>') in followed.text
    assert re.search(
        r'id="judgement-grade-error" class="govuk-error-message">\s*<span class="govuk-visually-hidden">Error:</span> '
        r"Select a grade",
        followed.text,
    ), followed.text
    assert '<input type="hidden" name="return" value="check">' in followed.text


async def fill_in_everything(pages: Pages, health: PageSession, audit_id: str) -> None:
    """Complete every section through the pages, as a person would."""
    audit = await request(pages.people, "health", "GET", f"/api/audits/{audit_id}")
    sections = {s["id"]: s for s in audit.json()["questions"]["sections"] if s.get("completed_by") == "agency"}
    for section_id, section in sections.items():
        url = f"/your-audits/{audit_id}/sections/{section_id}"
        page = await health.get(url)
        form: dict[str, Any] = {"row_version": hidden(page.text, "row_version"), "action": "continue"}
        for q in section.get("questions", []):
            name = f"q-{q['id']}"
            kind = q["kind"]
            if kind == "date":
                form.update({f"{name}-day": "1", f"{name}-month": "3", f"{name}-year": "2025"})
            elif kind == "number":
                form[name] = "3"
            elif kind == "single-choice":
                form[name] = q["choices"][0]["value"]
            elif kind == "yes-no":
                form[name] = "yes"
            elif kind == "grade":
                form[name] = "2"
            elif kind == "rows":
                form[f"{name}-0-{q['columns'][0]['id']}"] = "Someone"
            else:
                form[name] = "Seen in the records"
            if q.get("comments") == "required":
                form[f"{name}-comments"] = "Checked"
        if section.get("judgement"):
            form.update({"judgement-grade": "2", "judgement-impact": "Plans were followed through"})
        saved = await health.post(url, form)
        assert saved.status_code == 303, (section_id, error_summary(saved.text) if saved.status_code == 422 else "")
    overall = await health.get(f"/your-audits/{audit_id}/overall")
    saved = await health.post(
        f"/your-audits/{audit_id}/overall", {"row_version": hidden(overall.text, "row_version"), "overall-grade": "2"}
    )
    assert saved.status_code == 303 and saved.headers["location"].endswith("/check")


async def test_a_complete_contribution_is_submitted_then_amended_with_a_reason(
    pages: Pages, db: asyncpg.Connection[Any]
) -> None:
    audit = await an_open_audit(pages.people, participants=["health"])
    health = await pages.signed_in("health")
    await fill_in_everything(pages, health, audit["id"])
    task_list = await health.get(f"/your-audits/{audit['id']}")
    assert "Not started" not in task_list.text and "In progress" not in task_list.text

    check = await health.get(f"/your-audits/{audit['id']}/check")
    assert "Check your answers before submitting" in check.text and "Good (2)" in check.text
    submitted = await submit_page(health, audit["id"])
    assert submitted.status_code == 303 and submitted.headers["location"].endswith("/submitted")
    confirmation = await health.follow(submitted)
    assert "Contribution submitted" in confirmation.text and "govuk-panel--confirmation" in confirmation.text
    assert await db.fetchval("SELECT status FROM contributions") == "submitted"

    # Amending: the section page asks why; without a reason nothing changes.
    url = f"/your-audits/{audit['id']}/sections/referral"
    page = await health.get(url)
    assert 'name="reason"' in page.text
    form = {"row_version": hidden(page.text, "row_version"), "q-referral-why-when-by-whom": "Corrected"}
    for name in re.findall(r'name="(q-referral-[a-z0-9-]+)"', page.text):
        if name != "q-referral-why-when-by-whom" and "comments" not in name and "evidence" not in name:
            form.setdefault(name, "Seen in the records")
    form.update({"judgement-grade": "2", "judgement-impact": "Plans were followed through"})
    refused = await health.post(url, form)
    assert refused.status_code == 422
    assert error_summary(refused.text) == [("#reason", "Enter why you are changing a submitted contribution")]
    amended = await health.post(url, {**form, "reason": "The referral date was wrong"})
    assert amended.status_code == 303, error_summary(amended.text)
    assert await db.fetchval("SELECT count(*) FROM contribution_versions WHERE kind = 'amended'") == 1
    assert await db.fetchval("SELECT count(*) FROM events WHERE action = 'contribution.amended'") == 1


async def test_another_agency_cannot_reach_a_contribution_page(pages: Pages) -> None:
    audit = await an_open_audit(pages.people, participants=["health"])
    health_2 = await pages.signed_in("health-2")
    for path in ("", "/sections/referral", "/check", "/overall"):
        assert (await health_2.get(f"/your-audits/{audit['id']}{path}")).status_code == 404
    response = await health_2.post(f"/your-audits/{audit['id']}/submit", {"row_version": "1"})
    assert response.status_code == 404


async def test_a_page_that_is_not_yours_is_an_html_404(pages: Pages) -> None:
    health = await pages.signed_in("health")
    response = await health.get("/your-audits/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Page not found" in response.text


async def test_a_form_post_without_the_csrf_token_is_refused(pages: Pages) -> None:
    audit = await an_open_audit(pages.people, participants=["health"])
    health = await pages.signed_in("health")
    response = await health.post(f"/your-audits/{audit['id']}/submit", {"row_version": "1"}, csrf=False)
    assert response.status_code == 403


async def test_a_signed_out_form_post_is_sent_to_sign_in(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post(
        "/your-audits/00000000-0000-0000-0000-000000000000/submit",
        content=b"csrf_token=x",
        headers={
            **HTML,
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": "http://testserver.local/your-audits/00000000-0000-0000-0000-000000000000/check",
        },
        follow_redirects=False,
    )
    client.cookies.clear()
    # Back to the page the form was on, not to an address that only takes POST.
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=%2Fyour-audits%2F00000000-0000-0000-0000-000000000000%2Fcheck"


async def test_a_sections_grades_carry_the_seeds_descriptors_as_hints(pages: Pages) -> None:
    """Seed 004's "Judgement:" block, printed in each of sections 1–7:
    "Outstanding= Strong Consistent Evidence in all elements" …"""
    people = pages.people
    details = {
        "child-initials": "AB",
        "cf-ecins-id": "EH-77",
        "age": 9,
        "ethnicity": "Not known",
        "language": "English",
        "religion": "Not known",
        "allocated-workers": "Early help worker",
        "responsible-team": "Early Help North",
        "team-manager": "Team manager",
        "child-status": ["early-help"],
        "stepped-down": "no",
        "stepped-up": "no",
    }
    created = await request(
        people,
        "coordinator",
        "POST",
        "/api/audits",
        json={
            "toolkit": "childs-journey-early-help",
            "participants": [str(people.organisation_id("health"))],
            "case_details": {"answers": {k: {"value": v} for k, v in details.items()}},
        },
    )
    assert created.status_code == 201, created.text
    audit = created.json()
    opened = await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{audit['id']}/status",
        json={"status": "open"},
        headers={"If-Match": f'"{audit["row_version"]}"'},
    )
    assert opened.status_code == 200, opened.text
    health = await pages.signed_in("health")
    page = await health.get(f"/your-audits/{audit['id']}/sections/vulnerability")
    assert page.status_code == 200
    radio_hint = r'value="(\d)"[^>]*aria-describedby="[^"]+"[^>]*>.*?'
    radio_hint += r'<div id="[^"]+" class="govuk-hint govuk-radios__hint">\s*(.*?)\s*</div>'
    hints = dict(re.findall(radio_hint, page.text, re.S))
    assert hints == {
        "1": "Strong Consistent Evidence in all elements",
        "2": "Evidence of all elements",
        "3": "Evidence of most areas but some gaps or inconsistent",
        "4": "No Evidence",
    }, hints
    # Described grades need no general hint about the scale.
    assert "It describes its grades no further" not in page.text


async def test_your_audits_shows_open_work_first_a_tab_and_a_page_at_a_time(
    pages: Pages, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listing every audit in due-date order put years of closed audits
    ahead of the open ones, and past the first hundred the open work was
    not on the page at all: the open audits come first, the others on
    tabs of their own, a page at a time, and What needs you names every open
    audit still to do, not only those on the page."""
    first = await an_open_audit(pages.people, participants=["health"])
    done = await an_open_audit(pages.people, participants=["health"])
    second = await an_open_audit(pages.people, participants=["health"])
    connection = await asyncpg.connect(pages.database_url)
    try:
        # As the owner: an audit closed long ago, without its whole cycle.
        await connection.execute("UPDATE audits SET status = 'closed' WHERE id = $1", done["id"])
    finally:
        await connection.close()
    health = await pages.signed_in("health")

    page = await health.get("/your-audits")
    assert page.status_code == 200
    linked = set(re.findall(r'class="govuk-link" href="/your-audits/([0-9a-f-]{36})"', page.text))
    assert linked == {str(first["id"]), str(second["id"])}
    assert "2 audits open." in page.text
    assert 'aria-current="page">Open</strong>' in page.text

    closed = await health.get("/your-audits?status=closed")
    assert set(re.findall(r'class="govuk-link" href="/your-audits/([0-9a-f-]{36})"', closed.text)) == {str(done["id"])}
    assert "1 audit closed." in closed.text

    monkeypatch.setattr(your_audits, "OWN_PAGE_SIZE", 1)
    one = await health.get("/your-audits")
    on_page = re.findall(r'class="govuk-link" href="/your-audits/([0-9a-f-]{36})"', one.text)
    assert len(on_page) == 1 and "page 1 of 2" in one.text
    assert 'href="/your-audits?page=2" rel="next"' in one.text
    banner = one.text.split('id="what-needs-you-title"')[1].split('<h1 class="govuk-heading-l">')[0]
    assert f"/your-audits/{first['id']}" in banner and f"/your-audits/{second['id']}" in banner
    two = await health.get("/your-audits?page=2")
    other = re.findall(r'class="govuk-link" href="/your-audits/([0-9a-f-]{36})"', two.text)
    assert len(other) == 1 and other != on_page and "page 2 of 2" in two.text


async def test_an_agencys_contribution_pages_set_who_is_asking_with_their_first_read(pages: Pages) -> None:
    """The pages of an agency's part open with the read that also seals the
    transaction's identity (maca_open_contribution), as the API's save does:
    no statement of its own to set it, a round trip fewer a page."""
    audit = await an_open_audit(pages.people, participants=["health"])
    health = await pages.signed_in("health")
    section = (await health.get(f"/your-audits/{audit['id']}")).text
    first_section = re.search(rf'href="(/your-audits/{audit["id"]}/sections/[^"]+)"', section)
    assert first_section is not None
    for path in (f"/your-audits/{audit['id']}", first_section.group(1), f"/your-audits/{audit['id']}/check"):
        statements = await statements_for(pages.app, health, path)
        # The session is looked up first, on its own (the page's sign-in).
        begun = statements.index("BEGIN")
        assert statements[begun + 1].startswith("SELECT * FROM maca_open_contribution("), (path, statements)
        assert not any("set_config('maca.identity'" in s for s in statements), (path, statements)
        assert statements[-1] == "COMMIT", (path, statements)
