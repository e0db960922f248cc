"""What every browser test does to a page: check it with axe-core, and keep
a screenshot of it for people to look at."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Page

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / ".maca" / "screenshots"

# WCAG 2.2 AA, the legal duty of UK public bodies, and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


async def _run_axe(page: Page) -> list[dict[str, Any]]:
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = await page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    violations: list[dict[str, Any]] = result["violations"]
    return violations


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now.

    With JavaScript disabled axe cannot run in the page itself, so the exact
    HTML the browser received is checked in a scripted copy on the same
    origin (its stylesheets load, for the contrast checks), with Maca's own
    script left out so the page stays as a no-JavaScript visitor sees it."""
    if await page.evaluate("() => document.body.classList.contains('govuk-frontend-supported')"):
        return await _run_axe(page)
    browser = page.context.browser
    assert browser is not None
    html = re.sub(r"<script\b[^>]*>\s*</script>", "", await page.content())
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
    context = await browser.new_context(bypass_csp=True)
    try:
        copy = await context.new_page()
        await copy.goto(f"{origin}/healthz")
        await copy.set_content(html, wait_until="load")
        return await _run_axe(copy)
    finally:
        await context.close()


async def check_accessibility(page: Page) -> None:
    """Fail with axe-core's findings if the page has any violation."""
    violations = await axe_violations(page)
    described = [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in violations
    ]
    assert described == [], f"axe-core on {page.url}:\n{json.dumps(described, indent=2)}"


async def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot to .maca/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
