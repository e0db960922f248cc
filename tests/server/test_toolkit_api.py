"""Toolkit definitions over HTTP: public, whole, or as one agency sees them."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

Client = AsyncTestClient[Litestar]


def question_ids(definition: dict) -> set[str]:
    return {q["id"] for s in definition["sections"] for q in s.get("questions", [])}


async def test_the_list_shows_every_toolkit_with_scale_and_counts(client: Client) -> None:
    response = await client.get("/api/toolkits")
    assert response.status_code == 200
    listed = {t["id"]: t for t in response.json()}
    assert set(listed) == {
        "multi-agency-cp",
        "early-intervention",
        "csc-practice-criteria",
        "tier2-cin-cp",
        "childs-journey-early-help",
    }
    cp = listed["multi-agency-cp"]
    # Version 2 is current; version 1 stays for the audits created with it.
    assert cp["version"] == 2 and cp["versions"] == [1, 2]
    assert [g["label"] for g in cp["scale"]] == ["Outstanding", "Good", "Adequate", "Inadequate"]
    assert cp["counts"]["questions"] > 40


async def test_a_whole_definition_and_an_agency_view(client: Client) -> None:
    whole = (await client.get("/api/toolkits/multi-agency-cp")).json()
    education = (await client.get("/api/toolkits/multi-agency-cp", params={"agency": "education"})).json()
    csc = (await client.get("/api/toolkits/multi-agency-cp", params={"agency": "childrens-social-care"})).json()
    assert question_ids(education) < question_ids(whole)
    assert question_ids(csc) < question_ids(whole)
    assert question_ids(education) != question_ids(csc)


async def test_the_referrer_sees_the_referring_agency_questions(client: Client) -> None:
    as_referrer = (
        await client.get("/api/toolkits/multi-agency-cp", params={"agency": "education", "referrer": "education"})
    ).json()
    not_referrer = (
        await client.get("/api/toolkits/multi-agency-cp", params={"agency": "education", "referrer": "health"})
    ).json()
    assert question_ids(not_referrer) < question_ids(as_referrer)


async def test_an_unknown_toolkit_or_agency_is_a_clear_error(client: Client) -> None:
    missing = await client.get("/api/toolkits/no-such-tool")
    assert missing.status_code == 404
    # The answer lists the toolkits there are, so the next try can be right.
    assert missing.json()["detail"] == (
        "no toolkit no-such-tool; the toolkits are: childs-journey-early-help, csc-practice-criteria, "
        "early-intervention, multi-agency-cp, tier2-cin-cp"
    )
    old = await client.get("/api/toolkits/multi-agency-cp", params={"version": 9})
    assert old.status_code == 404
    assert old.json()["detail"] == "no toolkit multi-agency-cp version 9; the versions of multi-agency-cp are: 1, 2"
    bad = await client.get("/api/toolkits/multi-agency-cp", params={"agency": "wizards"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "agency"


async def test_the_fhir_questionnaire_is_served(client: Client) -> None:
    response = await client.get("/api/toolkits/tier2-cin-cp/fhir")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert response.json()["resourceType"] == "Questionnaire"
