"""The contribution as a resource of its own for its agency: reached by the
organisation's code as well as its id, saved in part without losing the rest
(PATCH, a JSON Merge Patch), with its own ETag, and a 412 that says whose
version was stale."""

from __future__ import annotations

from typing import Any

import asyncpg

from tests.server.audit_fixtures import (
    People,
    an_open_audit,
    complete_answers,
    contribution_url,
    people_fixture,  # noqa: F401 - fixture
    read_audit,
    request,
    save_draft,
    submit,
)

MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
NOT_SAFE = {"value": "no", "comments": "Bruising seen at school on 3 March"}


async def patch(people: People, persona: str, url: str, document: dict[str, Any], etag: str) -> Any:
    return await people.client.patch(
        url, json=document, headers={**people.headers(persona), **MERGE_PATCH, "If-Match": etag}
    )


async def test_saving_one_answer_keeps_the_answers_saved_before(people: People) -> None:
    audit = await an_open_audit(people, participants=["education"])
    url = f"/api/audits/{audit['id']}/contributions/demo-school"
    first = await save_draft(
        people,
        "education",
        audit,
        {
            "answers": {
                "child-currently-safe": NOT_SAFE,
                "history-previous-involvement": {"value": "Known to the school since reception"},
            }
        },
    )
    assert first.status_code == 200, first.text
    later = await patch(
        people,
        "education",
        url,
        {"answers": {"referral-why-when-by-whom": {"value": "The school referred on 4 March"}}},
        first.headers["etag"],
    )
    assert later.status_code == 200, later.text
    answers = later.json()["content"]["answers"]
    assert answers["child-currently-safe"]["value"] == "no"  # the child not safe: kept
    assert answers["child-currently-safe"]["comments"] == NOT_SAFE["comments"]
    assert answers["history-previous-involvement"]["value"] == "Known to the school since reception"
    assert answers["referral-why-when-by-whom"]["value"] == "The school referred on 4 March"
    assert later.json()["answered"] == 3
    assert later.headers["etag"] == f'"{later.json()["row_version"]}"'


async def test_a_patch_changes_part_of_an_answer_and_null_removes(people: People) -> None:
    audit = await an_open_audit(people, participants=["education"])
    url = f"/api/audits/{audit['id']}/contributions/demo-school"
    first = await save_draft(
        people,
        "education",
        audit,
        {"answers": {"child-currently-safe": NOT_SAFE}, "judgements": {"referral": {"grade": 2, "impact": "x"}}},
    )
    changed = await patch(
        people,
        "education",
        url,
        {"answers": {"child-currently-safe": {"comments": None}}, "judgements": {"referral": {"grade": 3}}},
        first.headers["etag"],
    )
    assert changed.status_code == 200, changed.text
    content = changed.json()["content"]
    assert content["answers"]["child-currently-safe"]["value"] == "no"
    assert content["answers"]["child-currently-safe"]["comments"] is None
    # A judgement also holds seed 000's feature marks and the reason for
    # another grade (issue 17): none here, and the patch left them so.
    assert content["judgements"]["referral"] == {"grade": 3, "impact": "x", "features": {}, "override_reason": None}
    removed = await patch(people, "education", url, {"judgements": {"referral": None}}, changed.headers["etag"])
    assert removed.status_code == 200, removed.text
    assert removed.json()["content"]["judgements"] == {}


async def test_put_still_replaces_the_whole_contribution(people: People) -> None:
    audit = await an_open_audit(people, participants=["education"])
    await save_draft(people, "education", audit, {"answers": {"child-currently-safe": NOT_SAFE}})
    replaced = await save_draft(
        people, "education", audit, {"answers": {"referral-why-when-by-whom": {"value": "The school referred"}}}
    )
    assert set(replaced.json()["content"]["answers"]) == {"referral-why-when-by-whom"}


async def test_a_patch_is_checked_as_a_save_and_stores_nothing_when_refused(
    people: People, db: asyncpg.Connection[Any]
) -> None:
    audit = await an_open_audit(people, participants=["health"])
    url = f"/api/audits/{audit['id']}/contributions/demo-health"
    first = await save_draft(people, "health", audit, {"answers": {"child-currently-safe": NOT_SAFE}})
    refused = await patch(
        people,
        "health",
        url,
        {"answers": {"no-such-question": {"value": "x"}, "ecm-being-healthy": {"value": 5}}},
        first.headers["etag"],
    )
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {
        "$.answers.no-such-question",
        "$.answers.ecm-being-healthy.value",
    }
    still = await request(people, "health", "GET", url)
    assert still.headers["etag"] == first.headers["etag"]


async def test_a_patch_must_say_it_is_a_merge_patch(people: People) -> None:
    audit = await an_open_audit(people, participants=["health"])
    url = f"/api/audits/{audit['id']}/contributions/demo-health"
    current = await request(people, "health", "GET", url)
    as_json = await request(
        people, "health", "PATCH", url, json={"answers": {}}, headers={"If-Match": current.headers["etag"]}
    )
    assert as_json.status_code == 415
    assert as_json.headers["accept-patch"] == "application/merge-patch+json"
    assert "application/merge-patch+json" in as_json.json()["detail"]
    without = await people.client.patch(url, json={"answers": {}}, headers={**people.headers("health"), **MERGE_PATCH})
    assert without.status_code == 428


async def test_after_submission_a_patch_is_an_amendment_with_its_reason(people: People) -> None:
    audit = await an_open_audit(people, participants=["education"])
    content = complete_answers(await read_audit(people, "education", audit))
    assert (await save_draft(people, "education", audit, content)).status_code == 200
    submitted = await submit(people, "education", audit)
    assert submitted.status_code == 200, submitted.text
    url = f"/api/audits/{audit['id']}/contributions/demo-school"
    change = {"answers": {"auditor-feedback": {"value": "Feedback given to the DSL"}}}
    without_reason = await patch(people, "education", url, change, submitted.headers["etag"])
    assert without_reason.status_code == 422
    assert [e["field"] for e in without_reason.json()["errors"]] == ["$.reason"]
    amended = await patch(
        people, "education", url, {**change, "reason": "Feedback was given after submitting"}, submitted.headers["etag"]
    )
    assert amended.status_code == 200, amended.text
    body = amended.json()
    assert body["status"] == "submitted"
    assert body["content"]["answers"]["auditor-feedback"]["value"] == "Feedback given to the DSL"
    assert len(body["content"]["answers"]) == len(content["answers"])
    versions = (await request(people, "education", "GET", f"{url}/versions")).json()
    assert [(v["kind"], v["reason"]) for v in versions] == [
        ("submitted", None),
        ("amended", "Feedback was given after submitting"),
    ]


# --- whose ETag ------------------------------------------------------------------------


async def test_an_auditor_reads_the_contributions_own_etag_where_the_audit_points(people: People) -> None:
    audit = await an_open_audit(people, participants=["health"])
    seen = await request(people, "health", "GET", f"/api/audits/{audit['id']}")
    href = seen.json()["contribution"]["href"]
    assert href == f"/api/audits/{audit['id']}/contributions/{people.organisation_id('health')}"
    contribution = await request(people, "health", "GET", href)
    assert contribution.headers["etag"] == f'"{contribution.json()["row_version"]}"'


async def test_the_audits_etag_sent_for_a_contribution_is_refused_saying_whose_was_wanted(people: People) -> None:
    audit = await an_open_audit(people, participants=["health"])
    seen = await request(people, "health", "GET", f"/api/audits/{audit['id']}")
    href = seen.json()["contribution"]["href"]
    draft = {"answers": {"child-currently-safe": NOT_SAFE}}
    wrong = await request(people, "health", "PUT", href, json=draft, headers={"If-Match": seen.headers["etag"]})
    assert wrong.status_code == 412
    current = await request(people, "health", "GET", href)
    detail = wrong.json()["detail"]
    assert detail.startswith(f"the contribution is at ETag {current.headers['etag']} and If-Match sent ETag ")
    assert f"Read the contribution again (GET {href})" in detail
    assert wrong.headers["etag"] == current.headers["etag"]
    right = await request(people, "health", "PUT", href, json=draft, headers={"If-Match": wrong.headers["etag"]})
    assert right.status_code == 200, right.text


async def test_a_stale_audit_etag_is_refused_naming_the_audit(people: People) -> None:
    audit = await an_open_audit(people, participants=["health"])
    stale = f'"{audit["row_version"] - 1}"'
    refused = await request(
        people, "coordinator", "PATCH", f"/api/audits/{audit['id']}", json={}, headers={"If-Match": stale}
    )
    assert refused.status_code == 412
    assert refused.json()["detail"].startswith(f'the audit is at ETag "{audit["row_version"]}" and If-Match sent')
    assert f"GET /api/audits/{audit['id']})" in refused.json()["detail"]


# --- by code ---------------------------------------------------------------------------


async def test_a_path_names_the_organisation_by_code_as_creating_an_audit_does(people: People) -> None:
    audit = await an_open_audit(people, participants=["health", "police"])
    by_code = f"/api/audits/{audit['id']}/contributions/demo-health"
    read = await request(people, "health", "GET", by_code)
    assert read.status_code == 200, read.text
    assert read.json()["organisation_id"] == str(people.organisation_id("health"))
    saved = await request(
        people,
        "health",
        "PUT",
        by_code,
        json={"answers": {"history-previous-involvement": {"value": "Health visitor since birth"}}},
        headers={"If-Match": read.headers["etag"]},
    )
    assert saved.status_code == 200, saved.text
    by_id = await request(people, "health", "GET", contribution_url(audit, people, "health"))
    assert by_id.json()["content"] == saved.json()["content"]
    assert (await request(people, "health", "GET", f"{by_code}/versions")).status_code == 200
    assert (await request(people, "health", "GET", f"{by_code}/fhir")).status_code == 200
    # Another agency's code is as unknown to an auditor as its id.
    police = f"/api/audits/{audit['id']}/contributions/demo-police"
    assert (await request(people, "health", "GET", police)).status_code == 404
    nowhere = await request(people, "health", "GET", f"/api/audits/{audit['id']}/contributions/no-such-code")
    assert nowhere.status_code == 404
    assert nowhere.json()["detail"] == "no organisation of your partnership has this code"


async def test_a_patch_marks_a_section_not_involved_and_records_a_failure_and_null_takes_them_back(
    people: People,
) -> None:
    """Issue 17's draft fields through issue 22's PATCH: "not involved at
    this stage" with its reason and a significant failure are added one at a
    time, each keeping the rest, and null removes each."""
    s47, referral = "assessment-s47-enquiry", "referral"
    audit = await an_open_audit(people, participants=["education"])
    url = f"/api/audits/{audit['id']}/contributions/demo-school"
    first = await save_draft(people, "education", audit, {"answers": {"child-currently-safe": NOT_SAFE}})
    assert first.status_code == 200, first.text
    marked = await patch(
        people,
        "education",
        url,
        {"not_involved": {s47: {"reason": "No part in the S.47 enquiry"}}},
        first.headers["etag"],
    )
    assert marked.status_code == 200, marked.text
    failed = await patch(
        people,
        "education",
        url,
        {"significant_failures": {referral: {"description": "The disclosure was not referred for a week"}}},
        marked.headers["etag"],
    )
    assert failed.status_code == 200, failed.text
    content = failed.json()["content"]
    assert content["not_involved"] == {s47: {"reason": "No part in the S.47 enquiry"}}
    assert content["significant_failures"] == {referral: {"description": "The disclosure was not referred for a week"}}
    assert content["answers"]["child-currently-safe"]["value"] == "no"

    # A new mark without its reason is refused naming it, and nothing is kept.
    incomplete = await patch(people, "education", url, {"not_involved": {"review": {}}}, failed.headers["etag"])
    assert incomplete.status_code == 422, incomplete.text
    assert [e["field"] for e in incomplete.json()["errors"]] == ["$.not_involved.review.reason"]

    taken_back = await patch(
        people,
        "education",
        url,
        {"not_involved": {s47: None}, "significant_failures": {referral: None}},
        failed.headers["etag"],
    )
    assert taken_back.status_code == 200, taken_back.text
    content = taken_back.json()["content"]
    assert (content["not_involved"], content["significant_failures"]) == ({}, {})
    assert content["answers"]["child-currently-safe"]["value"] == "no"
