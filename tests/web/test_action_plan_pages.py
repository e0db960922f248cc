"""The action plan's pages: police see "Your actions" (the actions from
their own action table) and record progress twice, both updates kept;
another agency sees none of them; the partnership sees the whole plan."""

from __future__ import annotations

import datetime
import re

from tests.server.action_plan_fixtures import ACTIONS_ROWS, an_open_early_help_audit, submitted_with_actions
from tests.web.conftest import Pages


def version_in(html: str) -> str:
    found = re.search(r'name="row_version" value="(\d+)"', html)
    assert found, html[:2000]
    return found.group(1)


def date_fields(name: str, day: datetime.date) -> dict[str, str]:
    return {f"{name}-day": str(day.day), f"{name}-month": str(day.month), f"{name}-year": str(day.year)}


async def test_police_see_their_actions_and_record_two_updates_both_kept(pages: Pages) -> None:
    audit = await an_open_early_help_audit(pages.people, participants=["police", "health"])
    await submitted_with_actions(pages.people, "police", audit)

    police = await pages.signed_in("police")
    listed = await police.get("/actions")
    assert listed.status_code == 200, listed.text
    assert "Your actions" in listed.text and ACTIONS_ROWS[0]["action"] in listed.text and "CF-4711" in listed.text
    assert 'href="/actions"' in listed.text  # in the service navigation
    link = re.search(r'href="(/actions/[0-9a-f-]+)"><bdi>Share the missing-episode log', listed.text)
    assert link is not None
    page = await police.get(link.group(1))
    assert "No progress has been recorded yet" in page.text and "Record progress" in page.text

    today = datetime.date.today()
    future = await police.post(
        link.group(1),
        {
            "row_version": version_in(page.text),
            "status": "completed",
            "comments": "",
            **date_fields("date-reviewed", today + datetime.timedelta(days=3)),
        },
    )
    assert future.status_code == 422
    assert "The date reviewed must be today or in the past" in future.text
    assert 'href="#date-reviewed-day"' in future.text and 'href="#evidence"' in future.text

    first = await police.post(
        link.group(1),
        {
            "row_version": version_in(page.text),
            "status": "in-progress",
            "comments": "Log requested from the MASH",
            **date_fields("date-reviewed", today - datetime.timedelta(days=2)),
        },
    )
    assert first.status_code == 303, first.text
    page = await police.follow(first)
    second = await police.post(
        link.group(1),
        {
            "row_version": version_in(page.text),
            "status": "completed",
            "comments": "Log shared with the early help worker",
            "evidence": "MASH log entry 12",
            **date_fields("date-reviewed", today),
        },
    )
    assert second.status_code == 303, second.text
    page = await police.follow(second)
    assert "Log requested from the MASH" in page.text and "Log shared with the early help worker" in page.text
    assert page.text.count("Recorded by") == 2 and "Demo Police" in page.text

    health = await pages.signed_in("health")
    assert ACTIONS_ROWS[0]["action"] not in (await health.get("/actions")).text
    assert (await health.get(link.group(1))).status_code == 404

    reviewer = await pages.signed_in("reviewer")
    plan = await reviewer.get("/actions?status=completed")
    assert "Action plan" in plan.text and ACTIONS_ROWS[0]["action"] in plan.text
    assert ACTIONS_ROWS[1]["action"] not in plan.text
