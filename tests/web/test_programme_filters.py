"""The programme as a filter in the pages: its page links to its audits,
its themes and its grades; the audits list and the themes page then show
only its audits and say so, with a way back to every audit."""

from __future__ import annotations

from tests.server.test_programmes_api import a_programme
from tests.web.conftest import Pages


async def test_a_programmes_page_leads_to_its_audits_themes_and_grades(pages: Pages) -> None:
    people = pages.people
    programme = await a_programme(people, persona="coordinator", name="Neglect, Q4")
    added = await people.client.post(
        f"/api/programmes/{programme['id']}/cases",
        json={"cases": [{"case_reference": "W-4001", "agencies": ["demo-health"]}]},
        headers=people.headers("coordinator"),
    )
    assert added.status_code == 201, added.text
    coordinator = await pages.signed_in("coordinator")
    page = await coordinator.get(f"/programmes/{programme['id']}")
    only = f"programme={programme['id']}"
    for link in (f'href="/audits?{only}"', f'href="/reports/themes?{only}"', f'href="/api/exports/grades.csv?{only}"'):
        assert link in page.text, link

    listed = await coordinator.get(f"/audits?{only}")
    assert listed.status_code == 200
    assert "Only the audits of one programme" in listed.text and "W-4001" in listed.text
    assert "1 audit matching" in " ".join(listed.text.split())
    themes = await coordinator.get(f"/reports/themes?{only}")
    assert themes.status_code == 200 and "Only the audits of one programme" in themes.text

    health = await pages.signed_in("health")
    assert f"/audits?{only}" not in (await health.get(f"/programmes/{programme['id']}")).text
