"""The audit journey against a real ``maca serve``, in two halves, with
words no operator's tool may ever show (``SECRETS``, the log test's): the
case's initials and identifier, answers, comments, reasons, action text.

``agencies_contribute`` is the first half: the coordinator opens an audit
of a case, health and police fill in and submit their parts (each first
meeting a refusal: an invalid grade, a stale version), and someone calls
with a forged token. ``review_and_close`` is the second: the coordinator
returns police's part with a comment, police submits again, an action is
agreed, the audit goes to review, the reviewer moderates with a reason and
the coordinator closes it."""

from __future__ import annotations

import datetime
import json
from typing import Any

import httpx

from tests.security.served import Served
from tests.security.test_logs import SECRETS, case_details, with_words
from tests.server.audit_fixtures import complete_answers

__all__ = ["SECRETS", "agencies_contribute", "contribution_path", "review_and_close"]


def contribution_path(served: Served, audit: dict[str, Any], persona: str) -> str:
    return f"/api/audits/{audit['id']}/contributions/{served.organisation_id(persona)}"


def _etag(response: httpx.Response) -> dict[str, str]:
    return {"If-Match": response.headers["etag"]}


def _ok(response: httpx.Response, status: int = 200) -> httpx.Response:
    assert response.status_code == status, f"{response.status_code} {response.text[:300]}"
    return response


def agencies_contribute(served: Served) -> dict[str, Any]:
    """The first half; the open audit as the coordinator last saw it."""
    audit = served.open_audit(["health", "police"], case_details=case_details())
    for persona in ("health", "police"):
        seen = _ok(served.request(persona, "GET", f"/api/audits/{audit['id']}")).json()
        content = with_words(complete_answers(seen))
        url = contribution_path(served, audit, persona)
        invalid = json.loads(json.dumps(content))
        invalid["overall"] = {"grade": 9, "impact": SECRETS["comment"]}
        current = _ok(served.request(persona, "GET", url))
        _ok(served.request(persona, "PUT", url, json=invalid, headers=_etag(current)), 422)
        _ok(served.request(persona, "PUT", url, json=content, headers={"If-Match": '"999"'}), 412)
        saved = _ok(served.request(persona, "PUT", url, json=content, headers=_etag(current)))
        _ok(served.request(persona, "POST", f"{url}/submit", headers=_etag(saved)))
    # Another agency's part: not found.
    _ok(served.request("health", "GET", contribution_path(served, audit, "police")), 404)
    # A forged token: refused (and counted as a sign-in refusal).
    forged = served.http.get("/api/me", headers={"Authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln"})
    _ok(forged, 401)
    # A person at an address Maca has no page for.
    _ok(served.http.get("/no-such-page", headers={"Accept": "text/html"}), 404)
    return dict(_ok(served.request("coordinator", "GET", f"/api/audits/{audit['id']}")).json())


def review_and_close(served: Served, audit: dict[str, Any]) -> dict[str, Any]:
    """The second half; the closed audit's judgement as the reviewer sees it."""
    audit_url = f"/api/audits/{audit['id']}"
    police_url = contribution_path(served, audit, "police")
    police = _ok(served.request("coordinator", "GET", police_url))
    _ok(
        served.request(
            "coordinator",
            "POST",
            f"{police_url}/return",
            json={"comment": SECRETS["return comment"]},
            headers=_etag(police),
        )
    )
    seen = _ok(served.request("police", "GET", audit_url)).json()
    current = _ok(served.request("police", "GET", police_url))
    resaved = _ok(
        served.request("police", "PUT", police_url, json=with_words(complete_answers(seen)), headers=_etag(current))
    )
    _ok(served.request("police", "POST", f"{police_url}/submit", headers=_etag(resaved)))
    action = _ok(
        served.request(
            "coordinator",
            "POST",
            f"{audit_url}/actions",
            json={"action": SECRETS["action"], "responsible_organisation_id": str(served.organisation_id("health"))},
        ),
        201,
    )
    # Health records progress on its action (issue 21: each update kept).
    action_url = f"/api/actions/{action.json()['id']}"
    shown = _ok(served.request("health", "GET", action_url))
    _ok(
        served.request(
            "health",
            "POST",
            f"{action_url}/updates",
            json={
                "status": "in-progress",
                "date_reviewed": datetime.date.today().isoformat(),
                "comments": SECRETS["action comments"],
            },
            headers=_etag(shown),
        ),
        201,
    )
    current = _ok(served.request("coordinator", "GET", audit_url))
    in_review = _ok(
        served.request(
            "coordinator", "POST", f"{audit_url}/status", json={"status": "in-review"}, headers=_etag(current)
        )
    )
    judgement = _ok(served.request("reviewer", "GET", f"{audit_url}/judgement"))
    _ok(
        served.request(
            "reviewer",
            "PUT",
            f"{audit_url}/judgement/sections/overall",
            json={"grade": 2, "reason": SECRETS["moderation reason"]},
            headers=_etag(judgement),
        )
    )
    current = _ok(served.request("coordinator", "GET", audit_url))
    assert current.json()["status"] == in_review.json()["status"] == "in-review"
    _ok(served.request("coordinator", "POST", f"{audit_url}/status", json={"status": "closed"}, headers=_etag(current)))
    for persona in ("coordinator", "reviewer"):
        _ok(served.request(persona, "GET", f"{audit_url}/events"))
    return dict(_ok(served.request("reviewer", "GET", f"{audit_url}/judgement")).json())
