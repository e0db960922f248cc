"""Every page of the partnership's journey in a real Chromium at 1280 and
375 pixels wide (issue 23): nothing on any page is wider than the window
(the judgement was 579 px at 375, the actions 557 px), axe-core finds no
violation, and the screenshots people look at are kept in .maca/screenshots
(the judgement, the history, and the combined report's first two pages as
pdftoppm draws them)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page

from tests.reports.test_report import a_reviewed_audit, move
from tests.web.browser import SCREENSHOTS
from tests.web.conftest import LiveServer, SignInAs, check_accessibility, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTHS = (1280, 375)
REVIEW_REASON = "The panel meets on Thursday"


async def no_wider_than_the_window(page: Page, name: str, width: int) -> None:
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 0:
        # Name what sticks out, to fix it.
        widest = await page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                          && !e.closest('.maca-table-scroll'))
                .slice(0, 5)
                .map(e => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)"""
        )
        raise AssertionError(f"{name}: {overflow}px wider than a {width}px window: {widest}")


async def walk(
    page: Page, live_server: LiveServer, paths: list[tuple[str, str]], width: int, problems: list[str]
) -> int:
    """Open each page at ``width``; what is wrong with each is collected
    in ``problems``, so one run names every page to fix."""
    await page.set_viewport_size({"width": width, "height": 900})
    seen = 0
    for name, path in paths:
        response = await page.goto(live_server.url(path))
        assert response is not None and response.status == 200, (name, path, response and response.status)
        await screenshot(page, f"narrow-{name}-{width}")
        for check in (no_wider_than_the_window(page, name, width), check_accessibility(page)):
            try:
                await check
            except AssertionError as problem:
                problems.append(f"{name} at {width}px: {problem}")
        seen += 1
    return seen


async def test_every_page_of_the_journey_fits_a_phone_and_passes_axe(
    signed_in_page: SignInAs, live_server: LiveServer
) -> None:
    people = live_server.people
    audit: dict[str, Any] = await a_reviewed_audit(people)
    await move(people, audit, "in-review", REVIEW_REASON)
    health = str(people.organisation_id("health"))
    staff_pages = [
        ("audits", "/audits"),
        ("audits-search", "/audits?reference=C-1001"),
        ("audit", f"/audits/{audit['id']}"),
        ("reference", f"/audits/{audit['id']}/reference"),
        ("history", f"/audits/{audit['id']}/history"),
        ("judgement", f"/audits/{audit['id']}/judgement"),
        ("actions", f"/audits/{audit['id']}/actions"),
        ("contribution", f"/audits/{audit['id']}/contributions/{health}"),
        ("themes", "/reports/themes"),
        ("new-audit", "/audits/new"),
        ("accessibility", "/accessibility"),
        ("privacy", "/privacy"),
        ("cookies", "/cookies"),
        ("feedback", "/feedback"),
    ]
    coordinator = await signed_in_page("coordinator")
    reviewer = await signed_in_page("reviewer")
    auditor = await signed_in_page("health")
    walked = 0
    problems: list[str] = []
    for width in WIDTHS:
        walked += await walk(coordinator, live_server, staff_pages, width, problems)
        moderate = [("moderate", f"/audits/{audit['id']}/judgement/referral")]
        walked += await walk(reviewer, live_server, moderate, width, problems)
        own = [
            ("your-audits", "/your-audits"),
            ("your-audits-in-review", "/your-audits?status=in-review"),
            ("auditor-history", f"/audits/{audit['id']}/history"),
        ]
        walked += await walk(auditor, live_server, own, width, problems)
    assert problems == [], "\n".join(problems)
    assert walked == 2 * (len(staff_pages) + 4)

    # The history at a phone's width says who did what, in words.
    await coordinator.set_viewport_size({"width": 375, "height": 900})
    await coordinator.goto(live_server.url(f"/audits/{audit['id']}/history"))
    history = await coordinator.locator("#history").inner_text()
    assert "moved the audit to review" in history and REVIEW_REASON in history
    assert "agreed Good (2) for 3. Referral at the panel" in history


def draw_first_pages(pdftoppm: str, pdf_bytes: bytes) -> str:
    """Draw the PDF's first two pages into .maca/screenshots; their text."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / "report.pdf"
        pdf.write_bytes(pdf_bytes)
        subprocess.run(
            [pdftoppm, "-png", "-r", "70", "-f", "1", "-l", "2", str(pdf), str(SCREENSHOTS / "report-pdf-page")],
            check=True,
            timeout=120,
        )
        return subprocess.run(
            [shutil.which("pdftotext") or "pdftotext", "-f", "1", "-l", "2", "-layout", str(pdf), "-"],
            check=True,
            timeout=120,
            capture_output=True,
            text=True,
        ).stdout


async def test_the_combined_reports_first_two_pages_are_kept_as_images(live_server: LiveServer) -> None:
    """The PDF as a person opens it: a cover with the reference and status,
    then the one-page summary (pdftoppm draws them for people to look at)."""
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm is not None, "pdftoppm (poppler-utils) draws the PDF's pages"
    people = live_server.people
    audit = await a_reviewed_audit(people)
    response = await people.client.get(f"/api/audits/{audit['id']}/report.pdf", headers=people.headers("coordinator"))
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == 'attachment; filename="c-1001-combined-report.pdf"'
    text = await asyncio.to_thread(draw_first_pages, pdftoppm, response.content)
    pages = text.split("\f")
    assert "C-1001" in pages[0] and "Combined audit report" in pages[0] and "Status" in pages[0]
    assert "Summary" in pages[1] and "Partnership judgement" in pages[1] and "Remedial actions" in pages[1]
    drawn = sorted(SCREENSHOTS.glob("report-pdf-page-*.png"))
    assert len(drawn) >= 2, drawn
