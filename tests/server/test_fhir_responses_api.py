"""An agency's system sends its contribution as FHIR: a QuestionnaireResponse
of the audit's Questionnaire (PUT …/contributions/{org}/fhir), saved as a
draft, submitted or amended as its status says, checked exactly as the JSON
API checks a contribution, with every problem answered as an
OperationOutcome pointing at the items by linkId. What Maca exports comes
back unchanged."""

from __future__ import annotations

import copy
from typing import Any

import msgspec
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from tests.server.audit_fixtures import (
    People,
    an_open_audit,
    complete_answers,
    people_fixture,  # noqa: F401 - fixture
    read_audit,
    request,
    save_draft,
)

FHIR = {"Content-Type": "application/fhir+json"}
REASON = "urn:maca:amendment-reason"


async def fhir_of(people: People, persona: str, audit: dict[str, Any], code: str) -> dict[str, Any]:
    response = await request(people, persona, "GET", f"/api/audits/{audit['id']}/contributions/{code}/fhir")
    assert response.status_code == 200, response.text
    resource: dict[str, Any] = response.json()
    return resource


async def put_fhir(people: People, persona: str, url: str, resource: dict[str, Any], etag: str | None) -> Any:
    headers = {**FHIR, **({"If-Match": etag} if etag else {})}
    return await request(people, persona, "PUT", f"{url}/fhir", content=msgspec.json.encode(resource), headers=headers)


async def etag_of(people: People, persona: str, url: str) -> str:
    tag: str = (await request(people, persona, "GET", url)).headers["etag"]
    return tag


def outcome(response: Any, status: int) -> list[dict[str, Any]]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    OperationOutcome.model_validate(response.json())
    issues: list[dict[str, Any]] = response.json()["issue"]
    return issues


async def a_complete_draft(people: People, persona: str, audit: dict[str, Any]) -> dict[str, Any]:
    content = complete_answers(await read_audit(people, persona, audit))
    content["answers"]["child-currently-safe"]["comments"] = "Seen by the school nurse"
    content["answers"]["history-previous-involvement"]["comments"] = "Auditor's note"
    content["overall"] = {"grade": 2, "impact": "Good work overall"}
    saved = await save_draft(people, persona, audit, content)
    assert saved.status_code == 200, saved.text
    body: dict[str, Any] = saved.json()
    return body


async def test_a_draft_exported_and_sent_back_is_the_same_contribution(people: People) -> None:
    audit = await an_open_audit(people, participants=["education"])
    url = f"/api/audits/{audit['id']}/contributions/demo-school"
    before = await a_complete_draft(people, "education", audit)
    exported = await fhir_of(people, "education", audit, "demo-school")
    # The agency's system starts again from nothing, then sends it back.
    cleared = await save_draft(people, "education", audit, {})
    assert cleared.json()["content"]["answers"] == {}
    sent = await put_fhir(people, "education", url, exported, cleared.headers["etag"])
    assert sent.status_code == 200, sent.text
    assert sent.headers["content-type"].startswith("application/fhir+json")
    QuestionnaireResponse.model_validate(sent.json())
    after = (await request(people, "education", "GET", url)).json()
    assert after["content"] == before["content"]
    assert after["status"] == "in-progress"
    assert sent.headers["etag"] == f'"{after["row_version"]}"'


async def test_a_completed_response_is_a_submission(people: People) -> None:
    audit = await an_open_audit(people, participants=["education"])
    url = f"/api/audits/{audit['id']}/contributions/demo-school"
    await a_complete_draft(people, "education", audit)
    completed = {**await fhir_of(people, "education", audit, "demo-school"), "status": "completed"}
    sent = await put_fhir(people, "education", url, completed, await etag_of(people, "education", url))
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "completed"
    contribution = (await request(people, "education", "GET", url)).json()
    assert contribution["status"] == "submitted"
    versions = (await request(people, "education", "GET", f"{url}/versions")).json()
    assert [v["kind"] for v in versions] == ["submitted"]
    # Submitted: another completed response is refused, saying how to amend.
    again = await put_fhir(people, "education", url, completed, await etag_of(people, "education", url))
    (issue,) = outcome(again, 409)
    assert issue["code"] == "conflict" and REASON in issue["details"]["text"]


async def test_an_amended_response_needs_its_reason_and_becomes_a_version(people: People) -> None:
    audit = await an_open_audit(people, participants=["education"])
    url = f"/api/audits/{audit['id']}/contributions/demo-school"
    await a_complete_draft(people, "education", audit)
    completed = {**await fhir_of(people, "education", audit, "demo-school"), "status": "completed"}
    assert (await put_fhir(people, "education", url, completed, await etag_of(people, "education", url))).is_success
    amended = {**completed, "status": "amended"}
    without = await put_fhir(people, "education", url, amended, await etag_of(people, "education", url))
    (issue,) = outcome(without, 422)
    assert issue["expression"] == [f"QuestionnaireResponse.extension.where(url='{REASON}')"]
    assert issue["code"] == "required"
    amended["extension"] = [{"url": REASON, "valueString": "The school nurse's note was added"}]
    sent = await put_fhir(people, "education", url, amended, await etag_of(people, "education", url))
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "amended"
    versions = (await request(people, "education", "GET", f"{url}/versions")).json()
    assert [(v["kind"], v["reason"]) for v in versions] == [
        ("submitted", None),
        ("amended", "The school nurse's note was added"),
    ]


async def test_problems_are_those_of_the_json_api_at_the_items_linkids(people: People) -> None:
    audit = await an_open_audit(people, participants=["education"])
    url = f"/api/audits/{audit['id']}/contributions/demo-school"
    await a_complete_draft(people, "education", audit)
    exported = await fhir_of(people, "education", audit, "demo-school")
    wrong = copy.deepcopy(exported)
    groups = {item["linkId"]: item for item in wrong["item"]}
    key = {item["linkId"]: item for item in groups["key-questions"]["item"]}
    key["child-currently-safe"]["answer"][0]["valueCoding"]["code"] = "perhaps"
    del groups["referral"]["item"][0]["answer"]  # a required answer gone
    wrong["item"].append({"linkId": "no-such-question", "answer": [{"valueString": "x"}]})
    wrong["status"] = "completed"
    sent = await put_fhir(people, "education", url, wrong, await etag_of(people, "education", url))
    issues = outcome(sent, 422)
    by_place = {issue["expression"][0]: issue for issue in issues}
    assert (
        by_place[
            "QuestionnaireResponse.item.where(linkId='key-questions').item.where(linkId='child-currently-safe').answer"
        ]["details"]["text"]
        == "must be one of: yes, no"
    )
    missing = by_place[
        "QuestionnaireResponse.item.where(linkId='referral').item.where(linkId='referral-why-when-by-whom')"
    ]
    assert missing["code"] == "required"
    assert by_place["QuestionnaireResponse.item.where(linkId='no-such-question')"]["details"]["text"] == (
        "no such question in this toolkit"
    )

    # The same contribution through the JSON API: the same problems, the same words.
    as_json = complete_answers(await read_audit(people, "education", audit))
    as_json["answers"]["child-currently-safe"] = {"value": "perhaps"}
    as_json["answers"]["no-such-question"] = {"value": "x"}
    del as_json["answers"]["referral-why-when-by-whom"]
    saved = await save_draft(people, "education", audit, as_json)
    json_messages = sorted(e["message"] for e in saved.json()["errors"])
    fhir_draft_messages = sorted(
        i["details"]["text"]
        for i in outcome(
            await put_fhir(
                people, "education", url, {**wrong, "status": "in-progress"}, await etag_of(people, "education", url)
            ),
            422,
        )
    )
    assert fhir_draft_messages == json_messages
    # Nothing was stored by any refusal.
    assert (await request(people, "education", "GET", url)).json()["status"] == "in-progress"


async def test_a_response_that_is_not_one_is_told_so_in_fhir(people: People) -> None:
    audit = await an_open_audit(people, participants=["health"])
    url = f"/api/audits/{audit['id']}/contributions/demo-health"
    etag = await etag_of(people, "health", url)
    not_a_response = await put_fhir(
        people, "health", url, {"resourceType": "Patient", "item": [{"answer": [{"valueFoo": 1}]}]}, etag
    )
    expressions = {i["expression"][0] for i in outcome(not_a_response, 422)}
    assert expressions == {
        "QuestionnaireResponse.resourceType",
        "QuestionnaireResponse.status",
        "QuestionnaireResponse.item[0].linkId",
        "QuestionnaireResponse.item[0].answer[0].valueFoo",
    }
    other = {"resourceType": "QuestionnaireResponse", "status": "in-progress", "questionnaire": "urn:x|1"}
    (issue,) = outcome(await put_fhir(people, "health", url, other, etag), 422)
    assert issue["expression"] == ["QuestionnaireResponse.questionnaire"]
    # The audit's version: the newest shipped when it was created (2, issue 17's).
    assert "urn:maca:toolkit:multi-agency-cp|2" in issue["details"]["text"]
    as_json = await request(people, "health", "PUT", f"{url}/fhir", json=other, headers={"If-Match": etag})
    (issue,) = outcome(as_json, 415)
    assert "application/fhir+json" in issue["details"]["text"]
    stale = await put_fhir(people, "health", url, {**other, "questionnaire": None}, '"99"')
    (issue,) = outcome(stale, 412)
    assert issue["code"] == "conflict" and "the contribution is at ETag" in issue["details"]["text"]
    assert outcome(await put_fhir(people, "health", url, other, None), 428)
    elsewhere = f"/api/audits/{audit['id']}/contributions/demo-police"
    assert outcome(await put_fhir(people, "health", elsewhere, other, etag), 404)


async def test_not_involved_and_a_significant_failure_go_out_and_come_back_as_items(people: People) -> None:
    """Issue 17's draft fields in issue 22's FHIR: ``{section}.not-involved``
    (the reason) and ``{section}.significant-failure`` (the description) are
    items of the Questionnaire and of the response; export → import → the
    same contribution."""
    s47, referral = "assessment-s47-enquiry", "referral"
    audit = await an_open_audit(people, participants=["education"])
    url = f"/api/audits/{audit['id']}/contributions/demo-school"
    seen = await read_audit(people, "education", audit)
    s47_questions = {q["id"] for s in seen["questions"]["sections"] if s["id"] == s47 for q in s["questions"]}
    content = complete_answers(seen)
    content["answers"] = {q: a for q, a in content["answers"].items() if q not in s47_questions}
    del content["judgements"][s47]
    content["not_involved"] = {s47: {"reason": "No part in the S.47 enquiry"}}
    content["significant_failures"] = {referral: {"description": "The disclosure was not referred for a week"}}
    saved = await save_draft(people, "education", audit, content)
    assert saved.status_code == 200, saved.text
    before = saved.json()["content"]

    questionnaire = (await request(people, "education", "GET", "/api/toolkits/multi-agency-cp/fhir")).json()
    links = {item["linkId"] for group in questionnaire["item"] for item in group.get("item", [])}
    assert {f"{s47}.not-involved", f"{referral}.significant-failure"} <= links

    exported = await fhir_of(people, "education", audit, "demo-school")
    QuestionnaireResponse.model_validate(exported)
    items = {item["linkId"]: item for group in exported["item"] for item in group.get("item", [])}
    assert items[f"{s47}.not-involved"]["answer"] == [{"valueString": "No part in the S.47 enquiry"}]
    assert items[f"{referral}.significant-failure"]["answer"] == [
        {"valueString": "The disclosure was not referred for a week"}
    ]
    cleared = await save_draft(people, "education", audit, {})
    sent = await put_fhir(people, "education", url, exported, cleared.headers["etag"])
    assert sent.status_code == 200, sent.text
    after = (await request(people, "education", "GET", url)).json()["content"]
    assert after == before

    # A mark sent without its reason is a problem at that item.
    without = copy.deepcopy(exported)
    for group in without["item"]:
        for item in group.get("item", []):
            if item["linkId"] == f"{s47}.not-involved":
                item["answer"] = []
    issues = outcome(await put_fhir(people, "education", url, without, await etag_of(people, "education", url)), 422)
    assert [issue["expression"] for issue in issues] == [
        [f"QuestionnaireResponse.item.where(linkId='{s47}').item.where(linkId='{s47}.not-involved').answer"]
    ]
