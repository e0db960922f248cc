"""The pages' shared frame: home page routing by role, the GOV.UK layout,
static files, sign-in redirects, and HTML error pages."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.pages.rendering import grade_label
from tests.web.conftest import HTML, Pages
from toolkits.registry import Registry


async def test_home_sends_each_person_to_where_their_work_starts(pages: Pages) -> None:
    for persona, start in (("coordinator", "/audits"), ("reviewer", "/audits"), ("health", "/your-audits")):
        session = await pages.signed_in(persona)
        response = await session.get("/")
        assert (response.status_code, response.headers["location"]) == (303, start), persona


async def test_a_signed_out_visitor_is_sent_to_sign_in_and_back(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/your-audits", headers=HTML, follow_redirects=False)
    client.cookies.clear()
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=%2Fyour-audits"


async def test_a_script_without_credentials_still_gets_the_api_401(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/your-audits", follow_redirects=False)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_the_layout_shows_who_is_signed_in_with_a_sign_out_form(pages: Pages) -> None:
    health = await pages.signed_in("health")
    page = await health.get("/your-audits")
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    text = page.text
    assert 'class="govuk-skip-link"' in text and 'href="#main-content"' in text
    assert "govuk-phase-banner" in text
    assert re.search(r"Signed in as <strong><bdi>[^<]+</bdi></strong>, <bdi>Demo", text), text[:3000]
    assert 'action="/sign-out"' in text
    assert f'name="csrf_token" value="{health.csrf_token}"' in text
    # Service navigation for an auditor, with the current page marked.
    assert 'aria-current="page"' in text and "Your audits" in text
    # No inline script or style: a strict Content-Security-Policy holds.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", text) == []
    assert " style=" not in text and "<style" not in text
    assert '<script type="module" src="/static/maca/init.js"></script>' in text


async def test_govuk_frontend_and_our_static_files_are_served(client: AsyncTestClient[Litestar]) -> None:
    for path, kind in (
        ("/static/govuk/govuk-frontend.min.css", "text/css"),
        ("/static/govuk/govuk-frontend.min.js", "javascript"),
        ("/assets/fonts/bold-b542beb274-v2.woff2", "font"),
        ("/assets/images/favicon.svg", "image/svg"),
        ("/static/maca/init.js", "javascript"),
        ("/static/maca/maca.css", "text/css"),
    ):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert kind in response.headers["content-type"], (path, response.headers["content-type"])


async def test_a_role_that_may_not_see_a_page_gets_an_html_403(pages: Pages) -> None:
    coordinator = await pages.signed_in("coordinator")
    response = await coordinator.get("/your-audits")
    assert response.status_code == 403
    assert "You cannot do this" in response.text


def test_every_page_shows_a_grade_by_one_rule_label_and_number(toolkits: Registry) -> None:
    grades = toolkits.current("multi-agency-cp").scale.grades
    assert grade_label(grades, 2) == "Good (2)"
    # No grade: the partnership's judgement says "Not graded"; a person's
    # own form, "Not given".
    assert grade_label(grades, None) == "Not graded"
    assert grade_label(grades, None, missing="Not given") == "Not given"
    # Never stored (validation allows 1 to 4), but never hidden either.
    assert grade_label(grades, 7) == "7"
