"""The practitioner and family voice in the combined report's PDF: the
reviewer's has every submitted agency's; a draft agency's stays out."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from tests.server.audit_fixtures import (
    People,
    an_open_audit,
    contribution_url,
    draft_and_submit,
    people_fixture,  # noqa: F401 - fixture
    request,
)

PRACTITIONER = "Chronology to be updated"
FAMILY = "Father felt listened to"
POLICE_DRAFT = "Police draft voice words"


async def record(people: People, persona: str, audit: dict[str, Any], body: dict[str, Any]) -> None:
    url = f"{contribution_url(audit, people, persona)}/voice"
    current = await request(people, persona, "GET", url)
    saved = await request(people, persona, "PUT", url, json=body, headers={"If-Match": current.headers["etag"]})
    assert saved.status_code == 200, saved.text


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    shown = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True)
    return " ".join(shown.stdout.split())


async def test_the_pdf_shows_each_submitted_agencys_voice(people: People, tmp_path: Path) -> None:
    audit = await an_open_audit(people, participants=["health", "police"])
    await record(
        people,
        "health",
        audit,
        {
            "findings_discussed": "yes",
            "practitioner_views": PRACTITIONER,
            "family_views_sought": "given",
            "family_views": FAMILY,
        },
    )
    await record(people, "police", audit, {"findings_discussed": "yes", "practitioner_views": POLICE_DRAFT})
    await draft_and_submit(people, "health", audit)
    response = await request(people, "reviewer", "GET", f"/api/audits/{audit['id']}/report.pdf")
    assert response.status_code == 200, response.text
    text = pdf_text(response.content, tmp_path)
    assert "Practitioner and family voice" in text
    assert PRACTITIONER in text and FAMILY in text
    assert "Yes, and the family gave their views" in text
    assert POLICE_DRAFT not in text, "police have not submitted: their voice is a draft"
