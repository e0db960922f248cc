"""The partnership's toolkits and settings: its own toolkit versions
(uploaded, refused with every problem located, previewed as each agency
sees them, activated), which toolkits new audits may use and with which
merge policy, the default due period, and how long closed audits are kept.

Seed 003: the tool "will provide a comprehensive view, but can be
customised e.g. to provide a specific focus or a briefer, broader view".
The local version here adds a neglect focus for health and education."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.audits.retention import purge
from tests.identity import ALL_PERSONAS, SignedInPeople, signed_in_people
from tests.server.admin.builders import as_admin, trail
from tests.server.audit_fixtures import CASE_DETAILS, draft_and_submit, request

SHIPPED = (Path(__file__).resolve().parents[3] / "toolkits/definitions/multi-agency-cp/v2.yaml").read_text()
FILE = "v3-neglect.yaml"

NEGLECT_SELECTOR = """  health-and-education:
    label: Health and education
    agencies: [health, education]

sections:
"""
NEGLECT_QUESTION = """        kind: text
        evidence: optional
      - id: neglect-impact-on-development
        applies_to: health-and-education
        text: Was the impact of neglect on the child’s health and development recorded and shared?
        kind: yes-partly-no
        comments: optional
    judgement:
      prompt: Overall Judgement on the quality of the referral?"""


def neglect_focus(*mistakes: tuple[str, str]) -> str:
    """Version 3 of multi-agency-cp (after the shipped 1 and 2) with a neglect focus: a question on the
    impact of neglect for health and education at referral; ``mistakes``
    are (right, wrong) text replacements of that version."""
    text = (
        SHIPPED.replace("version: 2\n", "version: 3\n", 1)
        .replace(
            "title: Multi-agency audit tool – Child Protection\n",
            "title: Multi-agency audit tool – Child Protection (neglect focus)\n",
            1,
        )
        .replace("\nsections:\n", "\n" + NEGLECT_SELECTOR, 1)
    )
    marker = """        kind: text
        evidence: optional
    judgement:
      prompt: Overall Judgement on the quality of the referral?"""
    assert text.count(marker) == 1
    text = text.replace(marker, NEGLECT_QUESTION)
    for right, wrong in mistakes:
        assert right in text
        text = text.replace(right, wrong, 1)
    return text


def line_of(text: str, fragment: str, *, last: bool = False) -> int:
    return text[: text.rindex(fragment) if last else text.index(fragment)].count("\n") + 1


@pytest.fixture
async def people(app: Litestar, client: AsyncTestClient[Litestar]) -> SignedInPeople:
    return await signed_in_people(app, client, ALL_PERSONAS)


async def upload(people: SignedInPeople, text: str) -> Any:
    return await people.client.post(
        f"/api/admin/toolkit-versions?file_name={FILE}",
        content=text.encode(),
        headers={**people.headers("admin"), "Content-Type": "application/yaml"},
    )


async def create(people: SignedInPeople, **extra: Any) -> dict[str, Any]:
    body = {
        "toolkit": "multi-agency-cp",
        "participants": ["demo-health", "demo-police"],
        "case_details": CASE_DETAILS,
        **extra,
    }
    response = await request(people, "coordinator", "POST", "/api/audits", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def choice(people: SignedInPeople, toolkit_id: str = "multi-agency-cp") -> dict[str, Any]:
    toolkits = (await as_admin(people, "GET", "/api/admin/toolkits")).json()["toolkits"]
    [found] = [t for t in toolkits if t["toolkit_id"] == toolkit_id]
    return found  # type: ignore[no-any-return]


async def test_a_version_with_three_mistakes_is_refused_with_three_located_messages(
    people: SignedInPeople, db: asyncpg.Connection[Any]
) -> None:
    """Done when: "An uploaded toolkit version with three mistakes is
    refused with three located messages"."""
    text = neglect_focus(
        ("        comments: optional\n    judgement:", "        coments: optional\n    judgement:"),
        ("applies_to: health-and-education", "applies_to: health-only"),
        ("- id: neglect-impact-on-development", "- id: referral-quality"),
    )

    refused = await upload(people, text)

    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"] == f"{FILE} has 3 problems; nothing was kept"
    assert sorted(e["message"] for e in refused.json()["errors"]) == sorted(
        [
            f"{FILE}:{line_of(text, 'coments')}: $.sections[3].questions[2]: Object contains unknown field `coments`",
            f"{FILE}:{line_of(text, 'applies_to: health-only')}: $.sections[3].questions[2].applies_to: unknown "
            "selector 'health-only'; known: all, all-agencies, all-relevant, csc, csc-only, health-and-education, "
            "not-csc, referrer-and-csc, referrer-and-police-or-csc, referrer-or-csc",
            f"{FILE}:{line_of(text, '- id: referral-quality', last=True)}: $.sections[3].questions[2].id: duplicate "
            "question id 'referral-quality' (first at $.sections[3].questions[1])",
        ]
    )
    assert await db.fetchval("SELECT count(*) FROM local_toolkit_versions") == 0


async def test_a_correct_version_is_previewed_activated_and_taken_by_the_next_audit_only(
    people: SignedInPeople, db: asyncpg.Connection[Any]
) -> None:
    """Done when: "a correct one is previewed per agency, activated, and
    used by the next audit while an older audit keeps its version"."""
    older = await create(people)

    uploaded = await upload(people, neglect_focus())
    assert uploaded.status_code == 201, uploaded.text
    version = uploaded.json()
    assert (version["toolkit_id"], version["version"], version["active"]) == ("multi-agency-cp", 3, False)

    async def questions_for(agency: str) -> set[str]:
        preview = await as_admin(people, "GET", f"/api/admin/toolkit-versions/{version['id']}/preview?agency={agency}")
        assert preview.status_code == 200, preview.text
        return {q["id"] for s in preview.json()["toolkit"]["sections"] for q in s.get("questions", [])}

    health = await as_admin(people, "GET", f"/api/admin/toolkit-versions/{version['id']}/preview?agency=health")
    # Compared with the version new audits take now: the shipped 2.
    assert (health.json()["compared_with"], health.json()["added"], health.json()["removed"]) == (
        2,
        ["Was the impact of neglect on the child’s health and development recorded and shared?"],
        [],
    )
    assert "neglect-impact-on-development" in await questions_for("health")
    assert "neglect-impact-on-development" in await questions_for("education")
    assert "neglect-impact-on-development" not in await questions_for("police")
    every = (await as_admin(people, "GET", f"/api/admin/toolkit-versions/{version['id']}/preview")).json()["agencies"]
    counts = {a["agency_kind"]: a["questions"] for a in every}

    async def shipped_count(agency: str) -> int:
        shipped = (await people.client.get(f"/api/toolkits/multi-agency-cp?agency={agency}")).json()
        return sum(
            len(s.get("questions", [])) for s in shipped["sections"] if s.get("completed_by", "agency") == "agency"
        )

    assert (counts["health"], counts["police"]) == (await shipped_count("health") + 1, await shipped_count("police"))

    still_shipped = await create(people)
    assert still_shipped["toolkit"] == {"id": "multi-agency-cp", "version": 2}

    chosen = await choice(people)
    activated = await as_admin(
        people,
        "POST",
        "/api/admin/toolkits/multi-agency-cp/activation",
        json={"version_id": version["id"]},
        version=chosen["row_version"],
    )
    assert activated.status_code == 200, activated.text
    assert (activated.json()["current_version"], activated.json()["current_is_local"]) == (3, True)

    newer = await create(people)

    assert newer["toolkit"] == {"id": "multi-agency-cp", "version": 3, "local": True}
    for audit, version_number in ((older, 2), (newer, 3)):
        read = await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}")
        assert read.json()["toolkit"]["version"] == version_number
    # Each agency is asked what its audit's version asks.
    for audit in (older, newer):
        moved = await request(
            people,
            "coordinator",
            "POST",
            f"/api/audits/{audit['id']}/status",
            json={"status": "open"},
            headers={"If-Match": f'"{audit["row_version"]}"'},
        )
        assert moved.status_code == 200, moved.text

    async def health_asked(audit: dict[str, Any]) -> bool:
        read = (await request(people, "health", "GET", f"/api/audits/{audit['id']}")).json()
        return any(
            q["id"] == "neglect-impact-on-development"
            for s in read["questions"]["sections"]
            for q in s.get("questions", [])
        )

    assert (await health_asked(older), await health_asked(newer)) == (False, True)
    judgement = await request(people, "reviewer", "GET", f"/api/audits/{newer['id']}/judgement")
    assert judgement.status_code == 200, judgement.text
    assert [e["action"] for e in await trail(people)][:2] == ["toolkit.version-activated", "toolkit.version-uploaded"]

    back = await as_admin(
        people,
        "POST",
        "/api/admin/toolkits/multi-agency-cp/activation",
        json={"version_id": None},
        version=activated.json()["row_version"],
    )
    assert (back.json()["current_version"], back.json()["current_is_local"]) == (2, False)
    assert (await create(people))["toolkit"]["version"] == 2
    source = await as_admin(people, "GET", f"/api/admin/toolkit-versions/{version['id']}/source")
    assert source.text == neglect_focus()


async def test_a_version_must_come_after_every_version_the_partnership_has(people: SignedInPeople) -> None:
    assert (await upload(people, neglect_focus())).status_code == 201
    again = await upload(people, neglect_focus())
    assert again.status_code == 422
    [problem] = again.json()["errors"]
    assert problem["message"] == (
        f"{FILE}:{line_of(neglect_focus(), 'version: 3')}: $.version: must be above 3, the newest version of "
        "'multi-agency-cp' your partnership has (use 4)"
    )


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (b"\xff\xfe", "not UTF-8 text"),
        (b"id: [unclosed\n", "not valid YAML"),
        (
            b"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + b"".join(
                f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n".encode() for i in range(9)
            ),
            "values once its aliases (*) are expanded",
        ),
    ],
)
async def test_text_that_is_no_definition_is_refused_without_harm(
    people: SignedInPeople, text: bytes, said: str
) -> None:
    refused = await people.client.post(
        "/api/admin/toolkit-versions",
        content=text,
        headers={**people.headers("admin"), "Content-Type": "application/yaml"},
    )
    assert refused.status_code == 422
    assert said in refused.json()["errors"][0]["message"]


async def test_only_the_partnerships_administrator_sees_its_versions(app: Litestar, people: SignedInPeople) -> None:
    from tests.server.admin.builders import token_as

    version = (await upload(people, neglect_focus())).json()
    elsewhere = await token_as(
        app,
        "other-team",
        subject="admin-elsewhere",
        agency_kind="childrens-social-care",
        partnership="lscp-elsewhere",
        roles=["admin"],
    )
    headers = {"Authorization": f"Bearer {elsewhere}"}
    preview = await people.client.get(f"/api/admin/toolkit-versions/{version['id']}/preview", headers=headers)
    assert preview.status_code == 404
    theirs = (await people.client.get("/api/admin/toolkits", headers=headers)).json()["toolkits"]
    assert all(t["local_versions"] == [] for t in theirs)
    refused = await request(people, "coordinator", "GET", f"/api/admin/toolkit-versions/{version['id']}/preview")
    assert refused.status_code == 403


async def test_the_merge_policy_chosen_is_kept_by_each_audit_created_under_it(people: SignedInPeople) -> None:
    before = await create(people)
    current = await choice(people)
    assert (current["merge_policy"], current["chosen_merge_policy"]) == ("overall-75-25", None)
    changed = await as_admin(
        people,
        "PUT",
        "/api/admin/toolkits/multi-agency-cp",
        json={"offered": True, "merge_policy": "weakest-link"},
        version=current["row_version"],
    )
    assert changed.status_code == 200, changed.text
    after = await create(people)

    async def policy(audit: dict[str, Any]) -> str:
        judgement = await request(people, "reviewer", "GET", f"/api/audits/{audit['id']}/judgement")
        assert judgement.status_code == 200, judgement.text
        name: str = judgement.json()["policy"]
        return name

    assert (await policy(before), await policy(after)) == ("overall-75-25", "weakest-link")
    unknown = await as_admin(
        people,
        "PUT",
        "/api/admin/toolkits/multi-agency-cp",
        json={"offered": True, "merge_policy": "best-of"},
        version=changed.json()["row_version"],
    )
    assert unknown.status_code == 422


async def test_a_toolkit_not_offered_cannot_start_a_new_audit(people: SignedInPeople) -> None:
    current = await choice(people, "tier2-cin-cp")
    assert current["offered"] is True
    withdrawn = await as_admin(
        people, "PUT", "/api/admin/toolkits/tier2-cin-cp", json={"offered": False}, version=current["row_version"]
    )
    assert withdrawn.status_code == 200, withdrawn.text
    refused = await request(
        people,
        "coordinator",
        "POST",
        "/api/audits",
        json={"toolkit": "tier2-cin-cp", "participants": ["demo-health"]},
    )
    assert refused.status_code == 422
    assert {"field": "$.toolkit", "message": "your partnership does not offer this toolkit for new audits"} in (
        refused.json()["errors"]
    )


async def test_the_partnerships_settings_are_kept_with_their_version_and_give_the_default_due_date(
    people: SignedInPeople,
) -> None:
    current = await as_admin(people, "GET", "/api/admin/partnership")
    assert current.status_code == 200, current.text
    settings = current.json()
    assert (settings["reminder_days_before"], settings["overdue_reminder_days"], settings["row_version"]) == (
        [7, 1],
        7,
        0,
    )
    assert (settings["retention_days"], settings["default_retention_days"]) == (None, 2192)

    body = {
        "code": "demo-partnership",
        "name": "Riverside Safeguarding Children Partnership",
        "default_due_days": 28,
        "reminder_days_before": [3, 14, 7],
        "overdue_reminder_days": 5,
        "retention_days": 2557,
    }
    saved = await as_admin(people, "PUT", "/api/admin/partnership", json=body, version=0)
    assert saved.status_code == 200, saved.text
    assert saved.json()["reminder_days_before"] == [14, 7, 3]
    assert saved.headers["etag"] == '"1"'
    stale = await as_admin(people, "PUT", "/api/admin/partnership", json=body, version=0)
    assert stale.status_code == 412

    created = await create(people)
    assert created["due_date"] == (datetime.date.today() + datetime.timedelta(days=28)).isoformat()
    me = (await people.client.get("/api/me", headers=people.headers("coordinator"))).json()
    assert me["partnership_name"] == "Riverside Safeguarding Children Partnership"
    [entry] = [e for e in await trail(people) if e["action"] == "partnership.changed"]
    assert entry["detail"]["changed"]["default_due_days"] == {"from": None, "to": 28}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": "two words"}, "$.code"),
        ({"name": ""}, "$.name"),
        ({"default_due_days": 0}, "$.default_due_days"),
        ({"reminder_days_before": [7, 7]}, "$.reminder_days_before"),
        ({"reminder_days_before": [120]}, "$.reminder_days_before[0]"),
        ({"overdue_reminder_days": 91}, "$.overdue_reminder_days"),
        ({"retention_days": 30}, "$.retention_days"),
    ],
)
async def test_settings_that_cannot_be_kept_are_refused_naming_the_field(
    people: SignedInPeople, change: dict[str, Any], field: str
) -> None:
    body = {"code": "demo-partnership", "name": "Demo", **change}
    refused = await as_admin(people, "PUT", "/api/admin/partnership", json=body, version=0)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == [field]


async def test_maca_purge_keeps_each_partnerships_audits_for_its_own_retention_period(
    people: SignedInPeople, db: asyncpg.Connection[Any]
) -> None:
    """A partnership that keeps closed audits for 400 days loses one closed
    500 days ago; MACA_RETENTION_DAYS (six years) would have kept it."""
    audit = await create(people)
    await db.execute("UPDATE audits SET status = 'closed' WHERE id = $1", UUID(audit["id"]))
    # (closing dates it now; the period is what is being tested)
    await db.execute("UPDATE audits SET closed_at = now() - interval '500 days' WHERE id = $1", UUID(audit["id"]))
    assert (await purge(db, 2192, dry_run=True)).audit_ids == ()
    saved = await as_admin(
        people,
        "PUT",
        "/api/admin/partnership",
        json={"code": "demo-partnership", "name": "Demo", "retention_days": 400},
        version=0,
    )
    assert saved.status_code == 200, saved.text

    result = await purge(db, 2192)

    assert result.audit_ids == (UUID(audit["id"]),)
    detail = json.loads(await db.fetchval("SELECT detail::text FROM events WHERE action = 'audits.purged'"))
    assert detail["partnership_retention_days"] == {"demo-partnership": 400}


async def test_an_audit_on_the_partnerships_own_version_is_merged_and_exported_by_that_version(
    people: SignedInPeople,
) -> None:
    """Its sections come from its own version, in the judgement and in the
    analysts' grades export (one row per audit × agency × section)."""
    version = (await upload(people, neglect_focus())).json()
    chosen = await choice(people)
    activated = await as_admin(
        people,
        "POST",
        "/api/admin/toolkits/multi-agency-cp/activation",
        json={"version_id": version["id"]},
        version=chosen["row_version"],
    )
    assert activated.status_code == 200, activated.text
    audit = await create(people)
    opened = await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{audit['id']}/status",
        json={"status": "open"},
        headers={"If-Match": f'"{audit["row_version"]}"'},
    )
    assert opened.status_code == 200, opened.text
    submitted = await draft_and_submit(people, "health", audit)
    assert submitted["status"] == "submitted"

    judgement = (await request(people, "reviewer", "GET", f"/api/audits/{audit['id']}/judgement")).json()
    referral = next(s for s in judgement["sections"] if s["section_id"] == "referral")
    assert [a["grade"] for a in referral["agencies"]] == [2]
    csv = await request(people, "reviewer", "GET", "/api/exports/grades.csv")
    assert csv.status_code == 200, csv.text
    rows = [line for line in csv.text.splitlines() if audit["id"] in line and "demo-health" in line]
    assert any(",referral," in row for row in rows), csv.text[:500]
