"""The learning report: board-ready and anonymised. Its PDF is tagged
(PDF/UA-1), and its text holds none of the data set's personal values —
children's initials and names, case identifiers, dates of birth, family
members', workers' and practitioners' names — even where agencies wrote
them into their learning."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path
from typing import Any

import anyio
import asyncpg

from tests.server.action_plan_fixtures import an_open_early_help_audit, submitted_with_actions
from tests.server.audit_fixtures import (
    People,
    an_open_audit,
    complete_answers,
    people_fixture,  # noqa: F401 - fixture
    read_audit,
    request,
    save_draft,
    submit,
)
from tests.server.test_panel_api import moved

TODAY = datetime.date.today().isoformat()
IDENTIFYING = ("initials", "name", "identifier", "case-id", "-id", "birth", "worker", "manager", "family")


async def contribute(people: People, persona: str, audit: dict[str, Any], **answers: Any) -> None:
    seen = await read_audit(people, persona, audit)
    content = complete_answers(seen)
    content["answers"].update({k.replace("_", "-"): {"value": v} for k, v in answers.items()})
    saved = await save_draft(people, persona, audit, content)
    assert saved.status_code == 200, saved.text
    assert (await submit(people, persona, audit)).status_code == 200


def personal_values(value: Any, key: str = "") -> set[str]:
    """Every value the data set holds under a question that identifies someone."""
    found: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            found |= personal_values(v, k if k not in ("value", "answers") else key)
    elif isinstance(value, list):
        for v in value:
            found |= personal_values(v, key)
    elif isinstance(value, str) and any(word in key for word in IDENTIFYING) and len(value) >= 2:
        found.add(value)
        try:
            day = datetime.date.fromisoformat(value)
        except ValueError:
            return found
        found |= {f"{day.day} {day:%B %Y}", f"{day:%d/%m/%Y}"}
    return found


async def test_the_learning_report_is_tagged_and_holds_no_personal_value(
    people: People, db: asyncpg.Connection[Any], tmp_path: Path
) -> None:
    theme = await request(people, "admin", "POST", "/api/admin/learning-themes", json={"name": "Voice of the child"})
    early_help = await an_open_early_help_audit(people, participants=["police"])
    await submitted_with_actions(people, "police", early_help)

    audit = await an_open_audit(people, participants=["health", "police"])
    await contribute(
        people,
        "health",
        audit,
        practitioner_name="Pat Practitioner",
        # The other case's worker and identifier, written in this case's
        # words: removed too (the report's whole data set, not one audit's).
        auditor_recommendations=(
            "AB (case C-1001) and CD need Pat Practitioner to record the child's voice, as Sam Worker did for CF-4711."
        ),
    )
    await contribute(people, "police", audit, practitioner_name="Robin Constable")
    await moved(people, audit, "in-review")
    panel = await request(
        people,
        "reviewer",
        "PUT",
        f"/api/audits/{audit['id']}/panel",
        json={"held_on": TODAY, "overall_narrative": "Good work; AB's voice was missing."},
        headers={"If-Match": '"0"'},
    )
    assert panel.status_code == 200, panel.text
    learning = (await request(people, "reviewer", "GET", f"/api/audits/{audit['id']}/learning")).json()["passages"]
    recommendation = next(p for p in learning if p["question_id"] == "auditor-recommendations")
    tagged = await request(
        people,
        "reviewer",
        "PUT",
        f"/api/audits/{audit['id']}/learning/tags",
        json={
            "organisation_id": recommendation["organisation_id"],
            "question_id": "auditor-recommendations",
            "theme_ids": [theme.json()["id"]],
        },
    )
    assert tagged.status_code == 200, tagged.text

    query = f"?from={TODAY}&to={TODAY}"
    assert (await request(people, "police", "GET", f"/api/reports/learning.html{query}")).status_code == 403
    assert (await request(people, "reviewer", "GET", "/api/reports/learning.html")).status_code == 422
    page = await request(people, "reviewer", "GET", f"/api/reports/learning.html{query}")
    assert page.status_code == 200, page.text
    for words in (
        "Learning report",
        "Voice of the child",
        "Grades by section and by agency",
        "The action plan",
        "Share the missing-episode log",
        "[removed] (case [removed]) and [removed] need [removed]",
        "as [removed] did for [removed]",
    ):
        assert words in page.text, words
    pdf = await request(people, "reviewer", "GET", f"/api/reports/learning.pdf{query}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    # Tagged for assistive technology (a structure tree, marked content),
    # and identified as PDF/UA-1 in its metadata, as poppler reads it.
    path = tmp_path / "learning.pdf"
    path.write_bytes(pdf.content)
    info = (await anyio.run_process(["pdfinfo", str(path)])).stdout.decode()
    assert re.search(r"^Tagged:\s+yes$", info, re.MULTILINE), info
    assert "Title:           Learning report" in info
    meta = (await anyio.run_process(["pdfinfo", "-meta", str(path)])).stdout.decode()
    assert re.search(r"pdfuaid:part[^0-9]*1", meta), meta
    text = (await anyio.run_process(["pdftotext", "-layout", str(path), "-"])).stdout.decode()
    assert "Learning report" in text and "Voice of the child" in text

    values: set[str] = set()
    for row in await db.fetch("SELECT case_details::text AS held FROM audits"):
        values |= personal_values(json.loads(row["held"]))
    for row in await db.fetch("SELECT content::text AS held FROM contributions WHERE content IS NOT NULL"):
        values |= personal_values(json.loads(row["held"]))
    values |= {str(r["id"]) for r in await db.fetch("SELECT id FROM audits")}
    assert {"AB", "CD", "C-1001", "CF-4711", "JE", "Pat Practitioner", "Sam Worker"} <= values
    for value in values:
        pattern = re.compile(rf"(?<!\w){re.escape(value)}(?!\w)", re.IGNORECASE)
        assert not pattern.search(text), f"{value!r} is in the PDF"
        assert not pattern.search(page.text), f"{value!r} is in the page"
