"""Practitioner and family voice over the API: per agency, whether the
findings were discussed with the practitioner and their manager and what
they said (seed 001), whether the family's views were sought and what they
were (seed 002). Optional, never needed to submit; kept version by version;
the agency's own until it submits, then the partnership's to read too;
never another agency's."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import pytest

from server.audits.retention import purge
from tests.server.audit_fixtures import (
    People,
    an_open_audit,
    contribution_url,
    draft_and_submit,
    people_fixture,  # noqa: F401 - fixture
    request,
)

PRACTITIONER = "The social worker agreed the chronology was missing and will update it by Friday"
MANAGER = "The team manager will review the plan in supervision next week"
FAMILY = "Mum said nobody explained why the school was at the meeting"

A_VOICE = {
    "findings_discussed": "yes",
    "practitioner_views": PRACTITIONER,
    "manager_views": MANAGER,
    "family_views_sought": "given",
    "family_views": FAMILY,
}


def voice_url(audit: dict[str, Any], people: People, persona: str) -> str:
    return f"{contribution_url(audit, people, persona)}/voice"


def fields(response: Any) -> list[str]:
    return sorted(e["field"] for e in response.json()["errors"])


async def record(people: People, persona: str, audit: dict[str, Any], body: dict[str, Any]) -> Any:
    url = voice_url(audit, people, persona)
    current = await request(people, persona, "GET", url)
    assert current.status_code == 200, current.text
    return await request(people, persona, "PUT", url, json=body, headers={"If-Match": current.headers["etag"]})


async def test_an_agency_records_what_the_practitioner_manager_and_family_said_and_each_save_is_kept(
    people: People,
) -> None:
    audit = await an_open_audit(people, participants=["health", "police"])
    url = voice_url(audit, people, "health")
    nothing_yet = await request(people, "health", "GET", url)
    assert nothing_yet.status_code == 200, nothing_yet.text
    assert nothing_yet.headers["etag"] == '"0"'
    assert nothing_yet.json()["version"] == 0
    assert nothing_yet.json()["findings_discussed"] is None

    assert (await request(people, "health", "PUT", url, json=A_VOICE)).status_code == 428
    first = await request(people, "health", "PUT", url, json=A_VOICE, headers={"If-Match": '"0"'})
    assert first.status_code == 200, first.text
    assert first.headers["etag"] == '"1"'
    assert first.json()["practitioner_views"] == PRACTITIONER
    assert first.json()["recorded_by"] == people.me["health"]["user_id"]  # type: ignore[attr-defined]

    # Saving again from the version first read would overwrite: refused.
    stale = await request(people, "health", "PUT", url, json={"findings_discussed": "no"}, headers={"If-Match": '"0"'})
    assert stale.status_code == 412
    assert stale.headers["etag"] == '"1"'
    assert "voice" in stale.json()["detail"]

    second = await request(
        people,
        "health",
        "PUT",
        url,
        json={**A_VOICE, "family_views_sought": "declined", "family_views": None},
        headers={"If-Match": '"1"'},
    )
    assert second.status_code == 200, second.text
    kept = await request(people, "health", "GET", f"{url}/versions")
    assert [v["version"] for v in kept.json()] == [1, 2]
    assert kept.json()[0]["family_views"] == FAMILY, "the first version is kept as it was"
    assert kept.json()[1]["family_views_sought"] == "declined"

    # Events name the version, never what was said.
    trail = await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}/events")
    saved = [e for e in trail.json() if e["action"] == "voice.saved"]
    assert [e["detail"] for e in saved] == [{"version": 1}, {"version": 2}]
    assert PRACTITIONER not in trail.text and FAMILY not in trail.text and MANAGER not in trail.text


async def test_a_retried_save_with_its_idempotency_key_gets_the_first_answer_again(people: People) -> None:
    audit = await an_open_audit(people, participants=["health"])
    url = voice_url(audit, people, "health")
    headers = {"If-Match": '"0"', "Idempotency-Key": "voice-after-supervision"}
    first = await request(people, "health", "PUT", url, json=A_VOICE, headers=headers)
    again = await request(people, "health", "PUT", url, json=A_VOICE, headers=headers)
    assert first.status_code == again.status_code == 200, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    kept = await request(people, "health", "GET", f"{url}/versions")
    assert len(kept.json()) == 1


async def test_what_does_not_fit_is_refused_naming_each_field(people: People) -> None:
    audit = await an_open_audit(people, participants=["health"])
    url = voice_url(audit, people, "health")

    async def put(body: dict[str, Any]) -> Any:
        return await request(people, "health", "PUT", url, json=body, headers={"If-Match": '"0"'})

    unknown_choice = await put({"findings_discussed": "maybe"})
    assert unknown_choice.status_code == 422
    assert fields(unknown_choice) == ["$.findings_discussed"]

    unknown_field = await put({"practitioner_name": "Jo Bloggs"})
    assert unknown_field.status_code == 422
    assert fields(unknown_field) == ["$.practitioner_name"]

    unanswered = await put({"practitioner_views": PRACTITIONER, "family_views": FAMILY})
    assert unanswered.status_code == 422
    assert fields(unanswered) == ["$.family_views_sought", "$.findings_discussed"]

    contradicts = await put({**A_VOICE, "findings_discussed": "no", "family_views_sought": "not-sought"})
    assert contradicts.status_code == 422
    assert fields(contradicts) == ["$.family_views", "$.manager_views", "$.practitioner_views"]

    too_long = await put({"findings_discussed": "yes", "manager_views": "x" * 5001})
    assert too_long.status_code == 422
    assert fields(too_long) == ["$.manager_views"]
    assert "5000" in too_long.text

    assert (await request(people, "health", "GET", f"{url}/versions")).json() == []


async def test_the_voice_is_optional_for_submission_and_the_partnership_reads_it_once_submitted(
    people: People,
) -> None:
    audit = await an_open_audit(people, participants=["health", "police"])
    # Police submit without recording any voice: nothing asks for it.
    await draft_and_submit(people, "police", audit)
    police_voice = await request(people, "reviewer", "GET", voice_url(audit, people, "police"))
    assert police_voice.status_code == 200, police_voice.text
    assert police_voice.json()["version"] == 0

    # Health's draft voice is health's alone until it submits.
    assert (await record(people, "health", audit, A_VOICE)).status_code == 200
    for persona in ("reviewer", "coordinator"):
        draft = await request(people, persona, "GET", voice_url(audit, people, "health"))
        assert draft.status_code == 404, draft.text
        assert PRACTITIONER not in draft.text
    await draft_and_submit(people, "health", audit)
    shared = await request(people, "reviewer", "GET", voice_url(audit, people, "health"))
    assert shared.status_code == 200, shared.text
    assert shared.json()["practitioner_views"] == PRACTITIONER
    versions = await request(people, "reviewer", "GET", f"{voice_url(audit, people, 'health')}/versions")
    assert [v["version"] for v in versions.json()] == [1]

    # The partnership reads; only the agency writes.
    written = await request(
        people,
        "reviewer",
        "PUT",
        voice_url(audit, people, "health"),
        json={"findings_discussed": "no"},
        headers={"If-Match": '"1"'},
    )
    assert written.status_code == 403

    # After submission, in review, the agency may still record it (the
    # discussion with the practitioner often follows the audit).
    current = await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}")
    moved = await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{audit['id']}/status",
        json={"status": "in-review"},
        headers={"If-Match": current.headers["etag"]},
    )
    assert moved.status_code == 200, moved.text
    later = await record(people, "health", audit, {**A_VOICE, "manager_views": "Agreed in supervision"})
    assert later.status_code == 200, later.text
    assert later.json()["version"] == 2


async def test_another_agency_never_reads_or_writes_an_agencys_voice(people: People) -> None:
    audit = await an_open_audit(people, participants=["health", "police"])
    assert (await record(people, "health", audit, A_VOICE)).status_code == 200
    await draft_and_submit(people, "health", audit)
    url = voice_url(audit, people, "health")
    for method, body in (("GET", None), ("PUT", {"findings_discussed": "no"})):
        refused = await request(people, "police", method, url, json=body, headers={"If-Match": '"1"'})
        assert refused.status_code == 404, refused.text
        assert PRACTITIONER not in refused.text
    assert (await request(people, "police", "GET", f"{url}/versions")).status_code == 404
    # An agency not taking part at all: the audit is not theirs to see.
    assert (await request(people, "education", "GET", url)).status_code == 404


async def test_a_closed_audits_voice_stays_as_it_was(people: People, db: asyncpg.Connection[Any]) -> None:
    audit = await an_open_audit(people, participants=["health"])
    assert (await record(people, "health", audit, A_VOICE)).status_code == 200
    await draft_and_submit(people, "health", audit)
    moves = (
        {"status": "in-review"},
        {"status": "closed", "confirm_outstanding": True, "reason": "The panel met; no overall grade to agree"},
    )
    for move in moves:
        current = await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}")
        moved = await request(
            people,
            "coordinator",
            "POST",
            f"/api/audits/{audit['id']}/status",
            json=move,
            headers={"If-Match": current.headers["etag"]},
        )
        assert moved.status_code == 200, moved.text
    refused = await record(people, "health", audit, {"findings_discussed": "no"})
    assert refused.status_code == 409, refused.text
    assert "closed" in refused.json()["detail"]
    # The agency still reads what it recorded.
    kept = await request(people, "health", "GET", voice_url(audit, people, "health"))
    assert kept.json()["findings_discussed"] == "yes"
    assert await db.fetchval("SELECT count(*) FROM contribution_voices WHERE audit_id = $1", audit["id"]) == 1


async def test_nothing_a_practitioner_manager_or_family_said_reaches_the_log(
    people: People, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    audit = await an_open_audit(people, participants=["health", "police"])
    url = voice_url(audit, people, "health")
    sentinels = {
        "findings_discussed": "yes",
        "practitioner_views": "sentinel-practitioner-9931",
        "manager_views": "sentinel-manager-9932",
        "family_views_sought": "given",
        "family_views": "sentinel-family-9933",
    }
    assert (await record(people, "health", audit, sentinels)).status_code == 200
    # Its failures too: stale, refused, not found.
    assert (await request(people, "health", "PUT", url, json=sentinels, headers={"If-Match": '"0"'})).status_code == 412
    wrong = {**sentinels, "findings_discussed": "no", "family_views": "x" * 5001}
    assert (await request(people, "health", "PUT", url, json=wrong, headers={"If-Match": '"1"'})).status_code == 422
    assert (await request(people, "police", "PUT", url, json=sentinels, headers={"If-Match": '"1"'})).status_code == 404
    await draft_and_submit(people, "health", audit)
    assert (await request(people, "reviewer", "GET", url)).status_code == 200
    assert (await request(people, "reviewer", "GET", f"/api/audits/{audit['id']}/report.html")).status_code == 200
    assert caplog.records, "nothing logged at DEBUG: the capture is not working"
    text = "\n".join(f"{record.name} {record.getMessage()} {record.exc_text or ''}" for record in caplog.records)
    assert "sentinel-" not in text, [line for line in text.splitlines() if "sentinel-" in line][:10]


async def test_the_audit_export_carries_the_voices_its_reader_may_see(people: People) -> None:
    audit = await an_open_audit(people, participants=["health", "police"])
    assert (await record(people, "health", audit, A_VOICE)).status_code == 200
    assert (await record(people, "police", audit, {"findings_discussed": "no"})).status_code == 200
    await draft_and_submit(people, "health", audit)
    staff = await request(people, "reviewer", "GET", f"/api/audits/{audit['id']}/export.json")
    assert staff.status_code == 200, staff.text
    assert [(v["organisation_id"], v["practitioner_views"]) for v in staff.json()["voices"]] == [
        (str(people.organisation_id("health")), PRACTITIONER)
    ], "police's voice is a draft: not the partnership's yet"
    police = await request(people, "police", "GET", f"/api/audits/{audit['id']}/export.json")
    assert police.status_code == 200, police.text
    assert [v["findings_discussed"] for v in police.json()["voices"]] == ["no"]
    assert PRACTITIONER not in police.text


async def test_purging_a_closed_audit_removes_its_voices(people: People, db: asyncpg.Connection[Any]) -> None:
    audit = await an_open_audit(people, participants=["health"])
    for body in (A_VOICE, {**A_VOICE, "manager_views": None}):
        assert (await record(people, "health", audit, body)).status_code == 200
    await draft_and_submit(people, "health", audit)
    for move in (
        {"status": "in-review"},
        {"status": "closed", "confirm_outstanding": True, "reason": "Agreed at panel"},
    ):
        current = await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}")
        moved = await request(
            people,
            "coordinator",
            "POST",
            f"/api/audits/{audit['id']}/status",
            json=move,
            headers={"If-Match": current.headers["etag"]},
        )
        assert moved.status_code == 200, moved.text
    await db.execute("UPDATE audits SET closed_at = now() - interval '3000 days' WHERE id = $1", audit["id"])
    done = await purge(db, 2192)
    assert done.rows["contribution_voices"] == 2
    assert await db.fetchval("SELECT count(*) FROM contribution_voices WHERE audit_id = $1", audit["id"]) == 0


async def test_text_a_reader_cannot_see_is_kept_as_nothing_said(people: People) -> None:
    audit = await an_open_audit(people, participants=["health"])
    invisible = {"practitioner_views": "\u200b \u2800", "family_views": "\u3164"}
    saved = await request(
        people, "health", "PUT", voice_url(audit, people, "health"), json=invisible, headers={"If-Match": '"0"'}
    )
    assert saved.status_code == 200, saved.text
    assert (saved.json()["practitioner_views"], saved.json()["family_views"]) == (None, None)
