"""The panel's record as a page: a reviewer writes it while the audit is in
review; the coordinator's audit page links to it; once closed it is final."""

from __future__ import annotations

import datetime
import re

from tests.server.test_panel_api import an_audit_in_review, moved
from tests.web.conftest import Pages


async def test_a_reviewer_writes_the_panels_record_and_it_is_final_once_closed(pages: Pages) -> None:
    audit = await an_audit_in_review(pages.people)
    url = f"/audits/{audit['id']}/panel"
    reviewer = await pages.signed_in("reviewer")
    form = await reviewer.get(url)
    assert form.status_code == 200 and "Who attended" in form.text
    version = re.search(r'name="row_version" value="(\d+)"', form.text)
    assert version is not None
    police, health = pages.people.organisation_id("police"), pages.people.organisation_id("health")
    today = datetime.date.today()
    fields = {
        "row_version": version.group(1),
        "held-on-day": str(today.day),
        "held-on-month": str(today.month),
        "held-on-year": str(today.year),
        f"role-{police}": "Detective sergeant",
        f"role-{health}": "Designated nurse",
        "overall": "The panel agreed the work was good, with the child's voice missing.",
        "narrative-referral": "Timely referral, thin on history.",
        "decision-0": "Police to brief MASH staff on recording history",
        "made-by-0": str(police),
    }
    future = await reviewer.post(url, {**fields, "held-on-year": str(today.year + 1)})
    assert future.status_code == 422 and 'href="#held-on-day"' in future.text
    assert "Detective sergeant" in future.text  # what was typed is kept
    saved = await reviewer.post(url, fields)
    assert saved.status_code == 303, saved.text
    page = await reviewer.follow(saved)
    assert "The panel agreed the work was good" in page.text and "Police to brief MASH staff" in page.text
    assert f'<option value="{police}" selected>' in page.text

    coordinator = await pages.signed_in("coordinator")
    assert url in (await coordinator.get(f"/audits/{audit['id']}")).text

    await moved(pages.people, audit, "closed")
    final = await reviewer.get(url)
    assert "its judgement is final: to change the panel&#39;s record, reopen the audit first" in final.text
    assert "<bdi>Detective sergeant</bdi>, <bdi>Demo Police</bdi>" in final.text
    assert 'name="row_version"' not in final.text
    assert (await (await pages.signed_in("health")).get(url)).status_code == 403
