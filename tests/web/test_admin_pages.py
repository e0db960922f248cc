"""The administrator's pages, in-process: what an administrator does on
day one (name the partnership, register organisations with their
contacts, confirm or correct those first seen at a sign-in, register an
agency's system, choose toolkits, upload a version of their own), the
GOV.UK error pattern, and who may see them."""

from __future__ import annotations

import html as html_text
import re
from typing import Any

from litestar import Litestar

from tests.server.admin.builders import me, register, token_as
from tests.server.admin.test_toolkits_and_settings import neglect_focus
from tests.web.conftest import Pages


def hidden(html: str, name: str) -> str:
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)">', html)
    assert found is not None, f"no hidden {name}"
    return found.group(1)


async def test_an_administrator_starts_at_the_administration_and_sees_what_to_do(pages: Pages) -> None:
    admin = await pages.signed_in("admin")
    home = await admin.get("/")
    assert home.headers["location"] == "/admin"
    page = await admin.get("/admin")
    assert page.status_code == 200, page.text
    for task in (
        "Name the partnership and set its schedules",
        "Register the organisations taking part",
        "Confirm organisations first seen at a sign-in",
        "Choose the toolkits and merge policies",
    ):
        assert task in page.text
    # The personas' organisations were all first seen at their sign-ins.
    assert "6 to confirm" in page.text
    navigation = page.text[page.text.index('id="navigation"') :]
    navigation = navigation[: navigation.index("</ul>")]
    assert [
        link for link in ("/admin", "/admin/organisations", "/admin/toolkits") if f'href="{link}"' in navigation
    ] == [
        "/admin",
        "/admin/organisations",
        "/admin/toolkits",
    ]


async def test_an_administrator_registers_an_organisation_and_its_people_need_name_only_it(
    app: Litestar, pages: Pages
) -> None:
    admin = await pages.signed_in("admin")
    form = await admin.get("/admin/organisations/new")
    assert form.status_code == 200 and "Safeguarding lead’s e-mail address" in form.text

    refused = await admin.post(
        "/admin/organisations/new",
        {"code": "RX1", "name": "", "agency-kind": "", "lead-email": "not an address", "audit-contacts": ""},
    )
    assert refused.status_code == 422
    for message in ("A name is required", "No such agency kind", "The safeguarding lead&#39;s name is required"):
        assert message in refused.text
    assert 'href="#lead-email"' in refused.text

    done = await admin.post(
        "/admin/organisations/new",
        {
            "code": "RX1",
            "name": "Riverside Hospital",
            "agency-kind": "health",
            "lead-name": "Sam Lead",
            "lead-email": "sam.lead@riverside.nhs.uk",
            "audit-contacts": "audits@riverside.nhs.uk\nnamed.nurse@riverside.nhs.uk",
            "active": "yes",
        },
    )
    assert done.status_code == 303, done.text
    page = await admin.follow(done)
    assert "Riverside Hospital is registered" in page.text
    assert "audits@riverside.nhs.uk, named.nurse@riverside.nhs.uk" in page.text
    assert "Organisation registered" in page.text

    who = await me(pages.people, await token_as(app, "RX1"))
    assert who.json()["agency_kind"] == "health"


async def test_an_organisation_first_seen_at_a_sign_in_is_confirmed_or_corrected_with_a_reason(
    app: Litestar, pages: Pages
) -> None:
    await me(pages.people, await token_as(app, "RX2", agency_kind="health", partnership="demo-partnership"))
    admin = await pages.signed_in("admin")
    listing = await admin.get("/admin/organisations")
    assert "first seen at a sign-in" in listing.text
    organisation_id = re.search(r'href="/admin/organisations/([0-9a-f-]{36})"><bdi>RX2</bdi><', listing.text)
    assert organisation_id is not None
    url = f"/admin/organisations/{organisation_id.group(1)}"

    page = await admin.get(url)
    assert "Confirm this organisation" in page.text
    correct = await admin.get(f"{url}/correct")
    no_reason = await admin.post(
        f"{url}/correct",
        {
            "agency-kind": "police",
            "partnership": "demo-partnership",
            "row_version": hidden(correct.text, "row_version"),
        },
    )
    assert no_reason.status_code == 422
    assert "A reason is required to correct an organisation&#39;s record" in no_reason.text

    done = await admin.post(
        f"{url}/correct",
        {
            "agency-kind": "police",
            "partnership": "demo-partnership",
            "reason": "A test sign-in named the wrong agency kind",
            "row_version": hidden(correct.text, "row_version"),
        },
    )
    assert done.status_code == 303, done.text
    page = await admin.follow(done)
    assert "The record of RX2 is corrected" in page.text
    assert "agency kind health → police; reason: A test sign-in named the wrong agency kind" in page.text

    confirmed = await admin.post(f"{url}/confirm", {"row_version": hidden(page.text, "row_version")})
    assert (await admin.follow(confirmed)).text.count("RX2 is confirmed") == 1


async def test_a_stale_change_is_shown_and_not_saved(pages: Pages) -> None:
    registered = await register(pages.people, "RX3", "Riverside Three", "health")
    admin = await pages.signed_in("admin")
    form = await admin.get(f"/admin/organisations/{registered['id']}/change")
    stale = await admin.post(
        f"/admin/organisations/{registered['id']}/change",
        {"name": "Renamed", "active": "yes", "row_version": str(registered["row_version"] + 5)},
    )
    assert stale.status_code == 422
    assert "Someone else saved a change" in stale.text
    fresh = await admin.post(
        f"/admin/organisations/{registered['id']}/change",
        {"name": "Renamed", "active": "yes", "row_version": hidden(form.text, "row_version")},
    )
    assert fresh.status_code == 303


async def test_an_administrator_registers_an_agencys_system(pages: Pages) -> None:
    police = await register(pages.people, "force-9", "Ninth Force", "police")
    admin = await pages.signed_in("admin")
    page = await admin.get("/admin/clients")
    assert "Register an agency’s system" in page.text
    done = await admin.post(
        "/admin/clients",
        [("client-id", "force-9-records"), ("organisation", police["id"]), ("roles", "auditor"), ("description", "")],
    )
    assert done.status_code == 303, done.text
    listing = await admin.follow(done)
    assert "force-9-records is registered" in listing.text and "Ninth Force" in listing.text


async def test_the_partnerships_settings_are_saved_and_refused_naming_the_field(pages: Pages) -> None:
    admin = await pages.signed_in("admin")
    form = await admin.get("/admin/partnership")
    assert form.status_code == 200
    values: dict[str, Any] = {
        "name": "Riverside Safeguarding Children Partnership",
        "code": "demo-partnership",
        "default-due-days": "28",
        "reminder-days-before": "14, 7, 1",
        "overdue-reminder-days": "7",
        "retention-days": "",
        "row_version": hidden(form.text, "row_version"),
    }
    wrong = await admin.post("/admin/partnership", {**values, "default-due-days": "soon"})
    assert wrong.status_code == 422 and 'href="#default-due-days"' in wrong.text
    done = await admin.post("/admin/partnership", values)
    assert done.status_code == 303, done.text
    page = await admin.follow(done)
    assert "The partnership’s settings are saved" in page.text or "settings are saved" in page.text
    assert 'value="14, 7, 1"' in page.text


async def test_an_uploaded_version_with_mistakes_lists_each_with_its_line(pages: Pages) -> None:
    admin = await pages.signed_in("admin")
    text = neglect_focus(("applies_to: health-and-education", "applies_to: health-only"))
    boundary = "maca-test-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{admin.csrf_token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="definition"; filename="v2-neglect.yaml"\r\n'
        f"Content-Type: application/yaml\r\n\r\n{text}\r\n--{boundary}--\r\n"
    ).encode()
    cookie = "; ".join(f"{k}={v}" for k, v in admin.cookies.items())
    refused = await pages.client.post(
        "/admin/toolkits/versions",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Cookie": cookie, "Accept": "text/html"},
        follow_redirects=False,
    )
    assert refused.status_code == 422, refused.text
    assert "v2-neglect.yaml has 1 problem; nothing was kept" in refused.text
    assert "v2-neglect.yaml:" in refused.text and "unknown selector &#39;health-only&#39;" in refused.text

    kept = await pages.client.post(
        "/admin/toolkits/versions",
        content=body.replace(b"health-only", b"health-and-education"),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Cookie": cookie, "Accept": "text/html"},
        follow_redirects=False,
    )
    assert kept.status_code == 303, kept.text
    preview = await admin.get(kept.headers["location"] + "?agency=health")
    assert "Was the impact of neglect on the child’s health and development recorded and shared?" in preview.text
    assert "Activate version 3" in preview.text


async def test_nobody_but_an_administrator_sees_the_administration(pages: Pages) -> None:
    coordinator = await pages.signed_in("coordinator")
    for url in ("/admin", "/admin/organisations", "/admin/toolkits", "/admin/partnership", "/admin/clients"):
        page = await coordinator.get(url)
        assert page.status_code == 403, url
        assert "You cannot do this" in page.text
    assert 'href="/admin' not in (await coordinator.get("/audits")).text


def visible_text(html: str) -> str:
    """What a person reads: the page without its tags (so without the form
    values a radio button sends)."""
    return html_text.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", html))).replace("'", "’")


async def test_merge_policies_are_named_in_words_never_by_their_ids(pages: Pages) -> None:
    """Issue 17: "the words users see name the rule in plain English ('the
    partnership's 75% / 25% rule'), never an internal id"."""
    admin = await pages.signed_in("admin")
    form = await admin.get("/admin/toolkits/multi-agency-cp")
    assert form.status_code == 200, form.text
    words = visible_text(form.text)
    assert "The toolkit’s own: The partnership’s 75% / 25% rule" in words
    assert "The weakest-link rule" in words and "The median rule" in words
    assert 'value="weakest-link"' in form.text  # what the form sends is still the id
    chosen = await admin.post(
        "/admin/toolkits/multi-agency-cp",
        {"offered": "yes", "merge-policy": "weakest-link", "row_version": hidden(form.text, "row_version")},
    )
    assert chosen.status_code == 303, chosen.text
    try:
        listed = visible_text((await admin.get("/admin/toolkits")).text)
        trail = visible_text((await admin.get("/admin/trail")).text)
        assert "The weakest-link rule" in listed
        assert "multi-agency-cp: offered, The weakest-link rule" in trail
        for words in (visible_text(form.text), listed, trail):
            # ("median" is also a word the policies' descriptions use.)
            assert "overall-75-25" not in words
            assert "weakest-link" not in words.replace("weakest-link rule", "")
    finally:
        again = await admin.get("/admin/toolkits/multi-agency-cp")
        restored = await admin.post(
            "/admin/toolkits/multi-agency-cp",
            {"offered": "yes", "merge-policy": "", "row_version": hidden(again.text, "row_version")},
        )
        assert restored.status_code == 303, restored.text
