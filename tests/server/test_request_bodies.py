"""What a first API client meets when a body is wrong: the media type it must
be sent as (415), JSON that is not JSON (400, in words), and every problem
with its fields at once (422), each by its real key, one grade type
everywhere."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given, settings

from server.api.audits import NewAudit
from server.api.contributions import ContributionDraft, ContributionPatch
from server.api.judgement import ModerationRequest
from server.platform.bodies import body_problems, merge_patch
from tests.security.test_decoders import JSON
from tests.server.audit_fixtures import (
    People,
    an_open_audit,
    people_fixture,  # noqa: F401 - fixture
    request,
    save_draft,
)


def problems_of(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {error["field"]: error["message"] for error in response.json()["errors"]}


async def judgement_tag(people: People, audit: dict[str, Any]) -> str:
    response = await request(people, "reviewer", "GET", f"/api/audits/{audit['id']}/judgement")
    tag: str = response.headers["etag"]
    return tag


# --- media types ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "said"),
    [
        ("text/plain", "it was sent as text/plain"),
        ("application/x-www-form-urlencoded", "it was sent as application/x-www-form-urlencoded"),
        ("application/xml", "it was sent as application/xml"),
        (None, "it was sent with no Content-Type"),
    ],
)
async def test_json_sent_as_another_media_type_is_refused_with_415(
    people: People, content_type: str | None, said: str
) -> None:
    body = b'{"toolkit": "multi-agency-cp", "participants": ["demo-health"]}'
    headers = {"Content-Type": content_type} if content_type else {}
    response = await request(people, "coordinator", "POST", "/api/audits", content=body, headers=headers)
    assert response.status_code == 415, response.text
    problem = response.json()
    assert problem["title"] == "Unsupported media type"
    assert problem["detail"] == f"send the body as JSON with Content-Type: application/json; {said}"


async def test_json_with_its_charset_is_taken_and_another_charset_is_not(people: People) -> None:
    body = b'{"toolkit": "multi-agency-cp", "participants": ["demo-health"]}'
    taken = await request(
        people,
        "coordinator",
        "POST",
        "/api/audits",
        content=body,
        headers={"Content-Type": "Application/JSON; charset=UTF-8"},
    )
    assert taken.status_code == 201, taken.text
    refused = await request(
        people,
        "coordinator",
        "POST",
        "/api/audits",
        content=body,
        headers={"Content-Type": "application/json; charset=latin-1"},
    )
    assert refused.status_code == 415
    assert "UTF-8" in refused.json()["detail"]


# --- JSON that is not JSON -----------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"toolkit": "multi-ag', "the JSON ends too soon: a bracket, brace or quote is not closed (was it cut off?)"),
        (b"<audit><toolkit>x</toolkit></audit>", "this looks like XML or HTML; send JSON"),
        (b'{"toolkit": multi}', "unexpected 'm' at byte 12: the JSON is not well formed there"),
        (b'{"toolkit": "x"} {}', "there is more after the JSON value: send one JSON object"),
        (b"", "the request body is empty: send a JSON object"),
    ],
)
async def test_a_body_that_is_not_json_is_told_so_in_words(people: People, body: bytes, detail: str) -> None:
    response = await request(
        people, "coordinator", "POST", "/api/audits", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["title"] == "The request body is not JSON"
    assert problem["detail"] == detail


# --- every problem at once, by its real key --------------------------------------------


async def test_every_problem_with_a_body_is_reported_at_once_by_its_key(people: People) -> None:
    response = await request(
        people,
        "coordinator",
        "POST",
        "/api/audits",
        json={
            "toolkit": 7,
            "participants": "demo-health",
            "case_details": {"answers": {"age": 7, "gender": {"valu": "Female"}}},
            "due_date": "tomorrow",
            "created_by": "me",
        },
    )
    assert problems_of(response) == {
        "$.created_by": "unknown field; the fields here are case_details, due_date, participants, period_end, "
        "period_start, reference, referring_organisation, toolkit",
        "$.toolkit": "must be text, not a whole number",
        "$.participants": "must be a list, not text",
        "$.case_details.answers.age": "must be an object, not a whole number",
        "$.case_details.answers.gender.valu": "unknown field; the fields here are comments, evidence, value",
        "$.due_date": "must be a date, YYYY-MM-DD",
    }


async def test_moderation_reports_a_wrong_grade_and_a_missing_reason_together(people: People) -> None:
    audit = await an_open_audit(people, participants=["health"])
    url = f"/api/audits/{audit['id']}/judgement/sections/referral"
    tag = await judgement_tag(people, audit)
    response = await request(people, "reviewer", "PUT", url, json={"grade": 5, "reason": ""}, headers={"If-Match": tag})
    assert problems_of(response) == {"$.grade": "must be at most 4", "$.reason": "must not be empty"}


async def test_a_grade_is_a_number_everywhere_never_the_text_of_one(people: People) -> None:
    audit = await an_open_audit(people, participants=["health"])
    tag = await judgement_tag(people, audit)
    moderation = await request(
        people,
        "reviewer",
        "PUT",
        f"/api/audits/{audit['id']}/judgement/sections/referral",
        json={"grade": "2", "reason": "agreed at panel"},
        headers={"If-Match": tag},
    )
    assert problems_of(moderation) == {"$.grade": "must be a whole number, not text"}
    draft = await save_draft(people, "health", audit, {"judgements": {"referral": {"grade": "2"}}})
    assert problems_of(draft) == {"$.judgements.referral.grade": "must be a whole number or null, not text"}


# --- the checker itself ------------------------------------------------------------


@pytest.mark.parametrize("body", [NewAudit, ContributionDraft, ContributionPatch, ModerationRequest])
@given(document=JSON)
@settings(max_examples=150, deadline=None)
def test_a_body_has_problems_exactly_when_strict_decoding_refuses_it(body: type, document: Any) -> None:
    problems = body_problems(document, body)
    try:
        msgspec.convert(document, body, strict=True)
    except msgspec.ValidationError:
        assert problems, document
        assert all(p.field.startswith("$") and p.message for p in problems)
        assert not any("[...]" in p.field for p in problems)
    else:
        assert problems == []


@given(target=JSON, patch=JSON)
@settings(max_examples=200, deadline=None)
def test_merge_patch_follows_rfc_7396(target: Any, patch: Any) -> None:
    merged = merge_patch(target, patch)
    if not isinstance(patch, dict):
        assert merged == patch
        return
    assert isinstance(merged, dict)
    for key, value in patch.items():
        if value is None:
            assert key not in merged
        elif not isinstance(value, dict):
            assert merged[key] == value
    if isinstance(target, dict):
        for key, value in target.items():
            if key not in patch:
                assert merged[key] == value
    # Applying the same patch again changes nothing (RFC 7396 is idempotent).
    assert merge_patch(merged, patch) == merged


def test_merge_patch_examples_of_rfc_7396_appendix_a() -> None:
    examples = [
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ]
    for target, patch, expected in examples:
        assert merge_patch(target, patch) == expected, (target, patch)
