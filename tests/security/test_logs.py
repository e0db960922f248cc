"""Data protection: nothing a person wrote about a child reaches the log.

The whole audit journey runs with every logger at DEBUG, its failures
included (invalid answers, a stale If-Match, a forbidden read), and the
captured log is searched for the case's initials and identifier, the
answers, comments, reasons and remedial action text: none may appear. The
credential scrubber (``server/platform/log_filter.py``) is tested on its own."""

from __future__ import annotations

import datetime
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from server.platform.log_filter import REDACTED, install, scrub
from tests.security.served import served_maca
from tests.server.audit_fixtures import (
    CASE_DETAILS,
    People,
    a_draft_audit,
    complete_answers,
    contribution_url,
    people_fixture,  # noqa: F401 - fixture
    read_audit,
    request,
    save_draft,
    submit,
)

# Words no log line could contain by chance.
INITIALS = "QX"
FAMILY_INITIALS = "ZJ"
SECRETS = {
    "child's initials": INITIALS,
    "family member's initials": FAMILY_INITIALS,
    "case identifier": "C-SENTINEL-4471",
    "history": "Known to services since 2019 sentinel-history",
    "answer text": "sentinel-answer-text observed at home",
    "comment": "sentinel-comment about the mother",
    "amendment reason": "sentinel-amendment-reason from the nurse",
    "return comment": "sentinel-return-comment add the meeting",
    "action": "sentinel-action refer to the panel",
    "action comments": "sentinel-action-comments progress noted",
    "moderation reason": "sentinel-moderation-reason agreed at panel",
}


def case_details() -> dict[str, Any]:
    details: dict[str, Any] = json.loads(json.dumps(CASE_DETAILS))
    answers = details["answers"]
    answers["child-initials"] = {"value": INITIALS}
    answers["family-members"] = {"value": [{"initials": FAMILY_INITIALS, "relationship": "Mother", "age": 29}]}
    answers["case-identifier"] = {"value": SECRETS["case identifier"]}
    answers["previous-cp-or-concerning-history"] = {"value": SECRETS["history"]}
    return details


def with_words(content: dict[str, Any]) -> dict[str, Any]:
    """``content`` with the sentinel words in every text answer and comment."""
    for answer in content["answers"].values():
        if isinstance(answer.get("value"), str) and answer["value"] == "Recorded in the case notes":
            answer["value"] = SECRETS["answer text"]
        if "comments" in answer:
            answer["comments"] = SECRETS["comment"]
    return content


def etag(response: Any) -> dict[str, str]:
    return {"If-Match": response.headers["etag"]}


async def journey(people: People) -> None:
    draft = await a_draft_audit(
        people, participants=["health", "police"], referrer="health", case_details=case_details()
    )
    audit_url = f"/api/audits/{draft['id']}"
    opened = await request(
        people,
        "coordinator",
        "POST",
        f"{audit_url}/status",
        json={"status": "open"},
        headers={"If-Match": f'"{draft["row_version"]}"'},
    )
    assert opened.status_code == 200, opened.text
    audit = opened.json()
    for persona in ("health", "police"):
        seen = await read_audit(people, persona, audit)
        content = with_words(complete_answers(seen))
        # Failures on the way log too: an invalid answer and a stale version.
        invalid = json.loads(json.dumps(content))
        invalid["overall"] = {"grade": 9, "impact": SECRETS["comment"]}
        assert (await save_draft(people, persona, audit, invalid)).status_code == 422
        url = contribution_url(audit, people, persona)
        stale = await request(people, persona, "PUT", url, json=content, headers={"If-Match": '"999"'})
        assert stale.status_code == 412
        assert (await save_draft(people, persona, audit, content)).status_code == 200
        assert (await submit(people, persona, audit)).status_code == 200
    # Another agency's contribution: not found, and nothing about it logged.
    other = contribution_url(audit, people, "police")
    assert (await request(people, "health", "GET", other)).status_code == 404

    health_url = contribution_url(audit, people, "health")
    current = await request(people, "health", "GET", health_url)
    amended = with_words(complete_answers(await read_audit(people, "health", audit)))
    amended["reason"] = SECRETS["amendment reason"]
    assert (await request(people, "health", "PUT", health_url, json=amended, headers=etag(current))).status_code == 200

    police = await request(people, "coordinator", "GET", other)
    returned = await request(
        people,
        "coordinator",
        "POST",
        f"{other}/return",
        json={"comment": SECRETS["return comment"]},
        headers=etag(police),
    )
    assert returned.status_code == 200, returned.text
    resaved = with_words(complete_answers(await read_audit(people, "police", audit)))
    assert (await save_draft(people, "police", audit, resaved)).status_code == 200
    assert (await submit(people, "police", audit)).status_code == 200

    action = await request(
        people,
        "coordinator",
        "POST",
        f"{audit_url}/actions",
        json={"action": SECRETS["action"], "responsible_organisation_id": str(people.organisation_id("health"))},
    )
    assert action.status_code == 201, action.text
    progress = await request(
        people,
        "health",
        "POST",
        f"/api/actions/{action.json()['id']}/updates",
        json={
            "status": "in-progress",
            "date_reviewed": datetime.date.today().isoformat(),
            "comments": SECRETS["action comments"],
        },
        headers=etag(action),
    )
    assert progress.status_code == 201, progress.text

    current = await request(people, "coordinator", "GET", audit_url)
    review = await request(
        people, "coordinator", "POST", f"{audit_url}/status", json={"status": "in-review"}, headers=etag(current)
    )
    assert review.status_code == 200, review.text
    judgement = await request(people, "reviewer", "GET", f"{audit_url}/judgement")
    assert judgement.status_code == 200, judgement.text
    moderated = await request(
        people,
        "reviewer",
        "PUT",
        f"{audit_url}/judgement/sections/overall",
        json={"grade": 2, "reason": SECRETS["moderation reason"]},
        headers=etag(judgement),
    )
    assert moderated.status_code == 200, moderated.text
    for persona in ("coordinator", "reviewer"):
        assert (await request(people, persona, "GET", f"{audit_url}/events")).status_code == 200


async def test_the_audit_journey_logs_nothing_a_person_wrote(people: People, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    await journey(people)
    assert caplog.records, "the journey logged nothing at DEBUG: the capture is not working"
    text = "\n".join(f"{record.name} {record.getMessage()} {record.exc_text or ''}" for record in caplog.records)
    found = {what: word for what, word in SECRETS.items() if word in text}
    assert found == {}, [line for line in text.splitlines() if any(word in line for word in found.values())][:10]


@pytest.mark.parametrize(
    ("line", "kept", "gone"),
    [
        (
            "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl from 10.0.0.1",
            "from 10.0.0.1",
            "eyJhbGciOiJSUzI1NiJ9",
        ),
        ("GET /auth/callback?code=abc123xyz&state=s3cr3t HTTP/1.1", "/auth/callback", "abc123xyz"),
        ("cookie maca_session=Zm9vYmFyYmF6; Path=/", "Path=/", "Zm9vYmFyYmF6"),
        ("form csrf_token=tok-123456 sent", "sent", "tok-123456"),
        ("mail from jo.bloggs@example.nhs.uk bounced", "bounced", "jo.bloggs@example.nhs.uk"),
    ],
)
def test_credentials_are_scrubbed_from_any_log_line(line: str, kept: str, gone: str) -> None:
    clean = scrub(line)
    assert gone not in clean
    assert kept in clean
    assert REDACTED in clean


def test_the_scrubber_sees_every_logger(caplog: pytest.LogCaptureFixture) -> None:
    install()
    install()  # idempotent
    caplog.set_level(logging.INFO)
    logging.getLogger("some.library").info("token=%s", "eyJhbGciOiJFUzI1NiJ9.eyJhIjoxfQ.sig-nature")
    assert "eyJhbGciOiJFUzI1NiJ9" not in caplog.text
    assert REDACTED in caplog.text
    logging.getLogger("some.library").info("audit %s saved", "7f1c")
    assert "audit 7f1c saved" in caplog.text


def test_a_served_maca_logging_at_debug_prints_nothing_a_person_wrote(database_url: str, tmp_path: Path) -> None:
    """The same, for a real ``maca serve`` at MACA_LOG_LEVEL=debug: its whole
    output (uvicorn's access log included) is searched."""
    log = tmp_path / "maca.log"
    with served_maca(database_url, tmp_path / "data", log, MACA_LOG_LEVEL="debug") as served:
        audit = served.open_audit(["health"], case_details=case_details())
        url = f"/api/audits/{audit['id']}/contributions/{served.organisation_id('health')}"
        seen = served.request("health", "GET", f"/api/audits/{audit['id']}").json()
        content = with_words(complete_answers(seen))
        for if_match in ('"999"', served.request("health", "GET", url).headers["etag"]):
            served.request("health", "PUT", url, json=content, headers={"If-Match": if_match})
        current = served.request("health", "GET", url)
        submitted = served.request("health", "POST", f"{url}/submit", headers=etag(current))
        assert submitted.status_code == 200, submitted.text
        police = served.request("coordinator", "GET", url)
        returned = served.request(
            "coordinator", "POST", f"{url}/return", json={"comment": SECRETS["return comment"]}, headers=etag(police)
        )
        assert returned.status_code == 200, returned.text
    output = log.read_text(errors="replace")
    assert "GET /api/audits/" in output, "the access log is not in the output: is the level debug?"
    found = {what: word for what, word in SECRETS.items() if word in output}
    assert found == {}, [line for line in output.splitlines() if any(word in line for word in found.values())][:10]
