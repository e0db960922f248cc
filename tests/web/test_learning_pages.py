"""Learning as pages: the administrator keeps the themes list, a reviewer
tags what police wrote as key learning, and the dashboard's learning view
counts it and shows the passage behind the count."""

from __future__ import annotations

import re

from tests.server.action_plan_fixtures import an_open_early_help_audit, submitted_with_actions
from tests.web.conftest import Pages


async def test_a_reviewer_tags_learning_with_the_administrators_themes(pages: Pages) -> None:
    admin = await pages.signed_in("admin")
    empty = await admin.post("/admin/learning-themes", {"name": ""})
    assert empty.status_code == 422 and 'href="#name"' in empty.text
    added = await admin.post("/admin/learning-themes", {"name": "Voice of the child"})
    assert added.status_code == 303, added.text
    listed = await admin.follow(added)
    assert "Voice of the child" in listed.text and 'href="/admin/learning-themes"' in listed.text

    audit = await an_open_early_help_audit(pages.people, participants=["police"])
    await submitted_with_actions(pages.people, "police", audit)
    reviewer = await pages.signed_in("reviewer")
    page = await reviewer.get(f"/audits/{audit['id']}/learning")
    assert page.status_code == 200 and "Key learning: <bdi>Demo Police</bdi>" in page.text
    theme = re.search(r'name="themes" type="checkbox" value="([0-9a-f-]+)"', page.text)
    assert theme is not None
    tagged = await reviewer.post(
        f"/audits/{audit['id']}/learning",
        {
            "organisation": str(pages.people.organisation_id("police")),
            "question": "key-learning-notes",
            "themes": [theme.group(1)],
        },
    )
    assert tagged.status_code == 303, tagged.text
    assert "checked" in (await reviewer.follow(tagged)).text

    dashboard = await reviewer.get("/learning")
    assert 'href="/learning"' in dashboard.text  # in the navigation
    assert re.search(r"Voice of the child</bdi></a></td>\s*<td[^>]*>1</td>", dashboard.text), dashboard.text
    behind = await reviewer.get(f"/learning?theme={theme.group(1)}")
    assert "Recorded in the case notes" in behind.text and "CF-4711" in behind.text
