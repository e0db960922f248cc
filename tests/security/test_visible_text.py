"""Reasons and identifiers are visible text.

A red-team pass found that ``"\\u200b"`` (zero-width space) and ``"\\u2800"``
(Braille pattern blank) were accepted as the reason to reopen an audit, to
remove an agency (whose grades then leave the judgement) and to amend a
submission: ``str.strip`` keeps them, and a reader sees nothing. And a case
identifier could hold U+202E RIGHT-TO-LEFT OVERRIDE, so it displayed
reversed. Every required reason, comment and description must now hold a
character a reader sees (one rule, ``toolkits.text``), and an identifier
holds no character that hides itself or turns text round.
"""

from __future__ import annotations

import copy
import unicodedata
from typing import Any

import asyncpg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.security.test_hostile_input import assert_problem
from tests.server.audit_fixtures import (
    CASE_DETAILS,
    ORGANISATION_OF,
    People,
    a_draft_audit,
    an_open_audit,
    complete_answers,
    contribution_url,
    draft_and_submit,
    people_fixture,  # noqa: F401 - fixture
    read_audit,
    request,
    save_draft,
    submit,
)
from toolkits.text import BIDI_CONTROLS, has_visible_character, hidden_character

# What the red team sent, and the other characters drawn as nothing.
INVISIBLE = [
    "\u200b",  # ZERO WIDTH SPACE
    "\u2800",  # BRAILLE PATTERN BLANK
    "\u3164",  # HANGUL FILLER
    "\u200b \u2800\t\u3164\u00a0",
    "\u115f\u1160\uffa0",  # the other Hangul fillers
    "\u202e\u2066\u200f",  # only bidi controls
    "\u0301\u0308",  # accents on nothing
    "\ufeff\u2060\u00ad",  # BOM, WORD JOINER, SOFT HYPHEN
]

# The red team's reversing identifiers, and the other direction changers.
REVERSING = ["C-\u202e1001", "\u2066C-1001\u2069", "C-1001\u200f", "C\u061c-1001", "C-\u202a1001\u202c"]


def test_text_a_reader_sees_counts_as_visible() -> None:
    for text in ("x", "O'Brien", "٣", "中", "—", "😀", "Ø", "  .  ", "a\u200bb"):
        assert has_visible_character(text), text


@pytest.mark.parametrize("text", INVISIBLE)
def test_text_drawn_as_nothing_is_not_visible(text: str) -> None:
    assert not has_visible_character(text)


# Spaces, controls, format characters, marks and separators, in any number:
# never enough to count as words.
_NOTHING_TO_SEE = st.characters(categories=("Zs", "Zl", "Zp", "Cc", "Cf", "Mn", "Me"))


@given(st.text(_NOTHING_TO_SEE, min_size=0, max_size=40))
@settings(max_examples=200)
def test_no_mix_of_spaces_controls_and_marks_is_visible(text: str) -> None:
    assert not has_visible_character(text)


@given(st.text(_NOTHING_TO_SEE, max_size=10), st.characters(categories=("Lu", "Ll", "Nd", "Po")))
@settings(max_examples=200)
def test_one_letter_digit_or_mark_of_punctuation_is_enough(padding: str, seen: str) -> None:
    assert has_visible_character(padding + seen + padding)


def test_every_bidi_control_is_refused_in_an_identifier() -> None:
    for control in sorted(BIDI_CONTROLS):
        named = hidden_character(f"C-{control}1001")
        assert named is not None and unicodedata.name(control) in named
    assert hidden_character("C-1001") is None
    assert hidden_character("Ó Briain-٣") is None


# --- every required reason, comment and description, through the API -------------


async def submitted_audit(people: People) -> dict[str, Any]:
    audit = await an_open_audit(people, participants=["health", "police"])
    await draft_and_submit(people, "health", audit)
    return audit


async def etag_of(people: People, persona: str, url: str) -> str:
    response = await request(people, persona, "GET", url)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


async def move(
    people: People, audit_id: str, status: str, reason: str | None, *, confirm_outstanding: bool = False
) -> Any:
    url = f"/api/audits/{audit_id}"
    body: dict[str, Any] = {"status": status} if reason is None else {"status": status, "reason": reason}
    if confirm_outstanding:
        body["confirm_outstanding"] = True
    return await request(
        people,
        "coordinator",
        "POST",
        f"{url}/status",
        json=body,
        headers={"If-Match": await etag_of(people, "coordinator", url)},
    )


@pytest.mark.parametrize("reason", INVISIBLE[:3])
async def test_reopening_a_closed_audit_needs_a_reason_a_reader_sees(people: People, reason: str) -> None:
    audit = await submitted_audit(people)
    assert (await move(people, audit["id"], "in-review", "Police has not started; panel is booked")).status_code == 200
    # Police never submitted: since issue 17 closing says so and takes a
    # confirmation with a reason (tests/server/test_closing.py).
    closing = "Police withdrew; the panel agreed to close"
    assert (await move(people, audit["id"], "closed", closing, confirm_outstanding=True)).status_code == 200

    refused = await move(people, audit["id"], "open", reason)

    body = assert_problem(refused, 422)
    assert [e["field"] for e in body["errors"]] == ["$.reason"]
    assert "reason is required" in body["errors"][0]["message"]
    assert (await read_audit(people, "coordinator", audit))["status"] == "closed"
    assert (await move(people, audit["id"], "open", "The police contribution arrived late")).status_code == 200


@pytest.mark.parametrize("reason", INVISIBLE[:3])
async def test_removing_an_agency_needs_a_reason_a_reader_sees(people: People, reason: str) -> None:
    audit = await submitted_audit(people)
    url = f"/api/audits/{audit['id']}"

    refused = await request(
        people,
        "coordinator",
        "PATCH",
        url,
        json={"remove_participants": [ORGANISATION_OF["health"]], "reason": reason},
        headers={"If-Match": await etag_of(people, "coordinator", url)},
    )

    assert [e["field"] for e in assert_problem(refused, 422)["errors"]] == ["$.reason"]
    still = await read_audit(people, "coordinator", audit)
    taking_part = [p["organisation_id"] for p in still["participants"] if p.get("removed_at") is None]
    assert str(people.organisation_id("health")) in taking_part


@pytest.mark.parametrize("reason", INVISIBLE[:3])
async def test_amending_a_submission_needs_a_reason_a_reader_sees(people: People, reason: str) -> None:
    audit = await submitted_audit(people)
    url = contribution_url(audit, people, "health")
    current = await request(people, "health", "GET", url)
    content = {key: current.json()["content"][key] for key in ("answers", "judgements", "overall")}

    refused = await request(
        people, "health", "PUT", url, json={**content, "reason": reason}, headers={"If-Match": current.headers["etag"]}
    )

    assert [e["field"] for e in assert_problem(refused, 422)["errors"]] == ["$.reason"]
    versions = await request(people, "health", "GET", f"{url}/versions")
    assert [v["kind"] for v in versions.json()] == ["submitted"]


@pytest.mark.parametrize("comment", INVISIBLE[:3])
async def test_returning_a_contribution_needs_a_comment_a_reader_sees(people: People, comment: str) -> None:
    audit = await submitted_audit(people)
    url = contribution_url(audit, people, "health")

    refused = await request(
        people,
        "coordinator",
        "POST",
        f"{url}/return",
        json={"comment": comment},
        headers={"If-Match": await etag_of(people, "coordinator", url)},
    )

    assert [e["field"] for e in assert_problem(refused, 422)["errors"]] == ["$.comment"]
    assert (await request(people, "health", "GET", url)).json()["status"] == "submitted"


@pytest.mark.parametrize("reason", INVISIBLE[:3])
async def test_moderating_needs_a_reason_a_reader_sees(people: People, reason: str) -> None:
    audit = await submitted_audit(people)
    url = f"/api/audits/{audit['id']}/judgement"

    refused = await request(
        people,
        "reviewer",
        "PUT",
        f"{url}/sections/overall",
        json={"grade": 1, "reason": reason},
        headers={"If-Match": await etag_of(people, "reviewer", url)},
    )

    assert [e["field"] for e in assert_problem(refused, 422)["errors"]] == ["$.reason"]
    judgement = (await request(people, "reviewer", "GET", url)).json()
    assert "\u200b" not in str(judgement) and "\u2800" not in str(judgement) and "\u3164" not in str(judgement)


@pytest.mark.parametrize("text", INVISIBLE[:3])
async def test_a_remedial_action_says_what_is_to_be_done_in_visible_words(people: People, text: str) -> None:
    audit = await an_open_audit(people, participants=["health"])
    actions = f"/api/audits/{audit['id']}/actions"

    refused = await request(people, "coordinator", "POST", actions, json={"action": text, "who": "Health lead"})
    assert [e["field"] for e in assert_problem(refused, 422)["errors"]] == ["$.action"]

    created = await request(
        people,
        "coordinator",
        "POST",
        actions,
        json={"action": "Review the plan", "responsible_organisation_id": str(people.organisation_id("health"))},
    )
    assert created.status_code == 201, created.text
    action_url = f"{actions}/{created.json()['id']}"
    version = f'"{created.json()["row_version"]}"'
    blanked = await request(
        people, "coordinator", "PATCH", action_url, json={"action": text}, headers={"If-Match": version}
    )
    assert [e["field"] for e in assert_problem(blanked, 422)["errors"]] == ["$.action"]
    reversed_initials = await request(
        people, "health", "PATCH", action_url, json={"initials": "A\u202eB"}, headers={"If-Match": version}
    )
    problem = assert_problem(reversed_initials, 422)
    assert [e["field"] for e in problem["errors"]] == ["$.initials"]
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in problem["errors"][0]["message"]


async def test_a_required_answer_of_invisible_text_is_not_an_answer(people: People) -> None:
    audit = await an_open_audit(people, participants=["health"])
    seen = await read_audit(people, "health", audit)
    text_question = next(
        q["id"]
        for s in seen["questions"]["sections"]
        if s.get("completed_by", "agency") == "agency"
        for q in s.get("questions", [])
        if q["kind"] == "text" and q.get("required", True)
    )
    content = complete_answers(seen)
    content["answers"][text_question] = {"value": "\u200b\u2800"}
    assert (await save_draft(people, "health", audit, content)).status_code == 200

    refused = await submit(people, "health", audit)

    fields = [e["field"] for e in assert_problem(refused, 422)["errors"]]
    assert f"$.answers.{text_question}.value" in fields


# --- identifiers ------------------------------------------------------------------------


def with_case_detail(question_id: str, value: Any) -> dict[str, Any]:
    details = copy.deepcopy(CASE_DETAILS)
    details["answers"][question_id] = {"value": value}
    return details


@pytest.mark.parametrize("identifier", REVERSING)
async def test_a_case_identifier_that_would_display_reversed_is_refused(
    people: People, db: asyncpg.Connection[Any], identifier: str
) -> None:
    refused = await request(
        people,
        "coordinator",
        "POST",
        "/api/audits",
        json={
            "toolkit": "multi-agency-cp",
            "participants": [ORGANISATION_OF["health"]],
            "case_details": with_case_detail("case-identifier", identifier),
        },
    )

    problem = assert_problem(refused, 422)
    assert [e["field"] for e in problem["errors"]] == ["$.case_details.answers.case-identifier.value"]
    assert "U+" in problem["errors"][0]["message"]
    assert await db.fetchval("SELECT count(*) FROM audits") == 0


async def test_initials_and_a_corrected_identifier_are_refused_the_same(people: People) -> None:
    refused = await request(
        people,
        "coordinator",
        "POST",
        "/api/audits",
        json={
            "toolkit": "multi-agency-cp",
            "participants": [ORGANISATION_OF["health"]],
            "case_details": with_case_detail(
                "family-members", [{"initials": "C\u2067D", "relationship": "Mother \u202eand carer", "age": 29}]
            ),
        },
    )
    # The relationship is free text (kept, and shown isolated); the initials identify.
    assert [e["field"] for e in assert_problem(refused, 422)["errors"]] == [
        "$.case_details.answers.family-members.value[0].initials"
    ]

    draft = await a_draft_audit(people, participants=["health"])
    url = f"/api/audits/{draft['id']}"
    corrected = await request(
        people,
        "coordinator",
        "PATCH",
        url,
        json={"case_details": with_case_detail("child-initials", "A\u200bB")},
        headers={"If-Match": f'"{draft["row_version"]}"'},
    )
    assert [e["field"] for e in assert_problem(corrected, 422)["errors"]] == [
        "$.case_details.answers.child-initials.value"
    ]
    assert "U+200B ZERO WIDTH SPACE" in corrected.text


async def test_free_text_keeps_what_a_writer_of_arabic_or_hebrew_needs(people: People) -> None:
    """Free text is not an identifier: its bidi marks are kept (and shown
    isolated), so a reason written in Arabic with an English name in it
    stays as written."""
    audit = await an_open_audit(people, participants=["health"])
    actions = f"/api/audits/{audit['id']}/actions"
    words = "\u0631\u0627\u062c\u0639 \u200fNHS\u200f \u0627\u0644\u062e\u0637\u0629"
    created = await request(people, "coordinator", "POST", actions, json={"action": words})
    assert created.status_code == 201, created.text
    assert created.json()["action"] == words
