"""Upgrades that work: a database made by each earlier release
(``deploy/releases.txt``), filled by that release's own rules, upgraded by
this version's ``maca migrate``, keeps every record.

For each release: its code from git; its ``maca migrate``; then what that
release could do to fill a database — its ``maca demo --audits`` where it
had one, else its demo partnership and, where it had sign-in, an audit
journey through its own API (audits created, distributed, contributed to,
submitted, moderated, an action agreed); the partnership judgement of every
audit as its own API gave it; its ``maca events verify`` digest where it
had one. Then this version's ``maca migrate``, and:

- every row of every table the release had is still there, column for
  column (new columns and tables are this version's to add);
- every audit's judgement, read through this version's API, has the same
  grades, computed and agreed, section by section and overall;
- ``maca events verify`` finds the trail intact, with the release's digest.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import create_database, drop_database
from tests.deploy.processes import maca_environment
from tests.ops.releases import Release, ReleaseCode, checkout, releases, shallow_clone
from tests.security.served import served_maca
from tests.server.audit_fixtures import CASE_DETAILS, ORGANISATION_OF, complete_answers

pytestmark = pytest.mark.slow

Rows = list[dict[str, Any]]

# Tables a later migration replaced on purpose, and how their rows live on.
REPLACED = {
    # 0008: the one chain became strand 0 of sixteen; its head, strand 0's head.
    "event_chain_head": (
        "event_strand_heads",
        lambda row: {"strand": 0, "position": row["position"], "hash": row["hash"]},
    ),
}
DEMO_AUDITS = "24"
JOURNEY_PERSONAS = ("coordinator", "health", "police", "reviewer")


async def _snapshot(url: str) -> dict[str, Rows]:
    """Every row of every table, as JSON objects."""
    connection = await asyncpg.connect(url)
    try:
        tables = [
            r["tablename"]
            for r in await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        return {
            table: [
                json.loads(r["row"])
                for r in await connection.fetch(f'SELECT to_jsonb(t)::text AS row FROM "{table}" t')  # noqa: S608 - names from pg_tables
            ]
            for table in tables
        }
    finally:
        await connection.close()


def snapshot(url: str) -> dict[str, Rows]:
    return asyncio.run(_snapshot(url))


def kept(before: Rows, after: Rows) -> tuple[list[str], list[str]]:
    """Rows of ``before`` missing from ``after`` (compared on the columns
    ``before`` had), and rows that appeared."""
    columns = set().union(*(row.keys() for row in before)) if before else set()
    old = sorted(json.dumps(row, sort_keys=True) for row in before)
    new = sorted(json.dumps({k: v for k, v in row.items() if k in columns}, sort_keys=True) for row in after)
    return sorted(set(old) - set(new)), sorted(set(new) - set(old))


def grades(judgement: dict[str, Any]) -> dict[str, Any]:
    """A judgement's grades, computed and agreed, by section and overall,
    whatever else the release's answer held."""
    found: dict[str, Any] = {}
    for section in judgement.get("sections", []):
        key = section.get("section_id") or section.get("id")
        found[key] = {name: section.get(name) for name in ("grade", "computed_grade") if name in section}
    overall = judgement.get("overall")
    if isinstance(overall, dict):
        found["overall"] = {name: overall.get(name) for name in ("grade", "computed_grade") if name in overall}
    elif "overall_grade" in judgement:
        found["overall"] = {"grade": judgement["overall_grade"]}
    return found


def _request(http: httpx.Client, token: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
    return http.request(method, path, headers=headers, **kwargs)


def journey(http: httpx.Client, tokens: dict[str, str]) -> None:
    """An audit through a release's own API: created, distributed, both
    agencies' parts saved and submitted, the overall grade moderated."""

    def call(persona: str, method: str, path: str, expected: int = 200, **kwargs: Any) -> httpx.Response:
        response = _request(http, tokens[persona], method, path, **kwargs)
        assert response.status_code == expected, f"{method} {path}: {response.status_code} {response.text[:300]}"
        return response

    for persona in JOURNEY_PERSONAS:
        call(persona, "GET", "/api/me")
    created = call(
        "coordinator",
        "POST",
        "/api/audits",
        201,
        json={
            "toolkit": "multi-agency-cp",
            "participants": [ORGANISATION_OF["health"], ORGANISATION_OF["police"]],
            "case_details": CASE_DETAILS,
            "period_start": "2025-01-01",
            "period_end": "2025-12-31",
        },
    )
    url = f"/api/audits/{created.json()['id']}"
    call("coordinator", "POST", f"{url}/status", json={"status": "open"}, headers={"If-Match": created.headers["etag"]})
    for persona in ("health", "police"):
        me = call(persona, "GET", "/api/me").json()
        contribution = f"{url}/contributions/{me['organisation_id']}"
        content = complete_answers(call(persona, "GET", url).json())
        current = call(persona, "GET", contribution)
        saved = call(persona, "PUT", contribution, json=content, headers={"If-Match": current.headers["etag"]})
        call(persona, "POST", f"{contribution}/submit", headers={"If-Match": saved.headers["etag"]})
    judgement = call("reviewer", "GET", f"{url}/judgement")
    call(
        "reviewer",
        "PUT",
        f"{url}/judgement/sections/overall",
        json={"grade": 3, "reason": "Agreed at the panel"},
        headers={"If-Match": judgement.headers["etag"]},
    )


def judgements(http: httpx.Client, token: str, audit_ids: list[str]) -> dict[str, dict[str, Any]]:
    read = {}
    for audit_id in audit_ids:
        response = _request(http, token, "GET", f"/api/audits/{audit_id}/judgement")
        assert response.status_code == 200, response.text[:300]
        read[audit_id] = grades(response.json())
    return read


def audit_ids(rows: dict[str, Rows]) -> list[str]:
    return sorted(row["id"] for row in rows.get("audits", []))


def fill(release: ReleaseCode, tmp_path: Path) -> dict[str, dict[str, Any]]:
    """Fill the database by the release's own rules; the judgements its API gave."""
    release.maca("migrate")
    if release.can_generate_audits:
        release.maca("demo", "--audits", DEMO_AUDITS, "--seed", "5")
    if not release.signs_in:
        # No sign-in yet, so no API to reach audits: its demo partnership.
        with release.serving(tmp_path / "release.log", "--demo-data"):
            return {}
    demo = () if release.can_generate_audits else ("--demo-data",)
    with release.serving(tmp_path / "release.log", *demo) as (base_url, port):
        tokens = {p: release.maca("token", "--persona", p, **port).strip() for p in JOURNEY_PERSONAS}
        with httpx.Client(base_url=base_url, timeout=30) as http:
            if not release.can_generate_audits:
                journey(http, tokens)
            return judgements(http, tokens["reviewer"], audit_ids(snapshot(release.environment["DATABASE_URL"])))


def digest(printed: str) -> str | None:
    words = printed.split("newest hash ")
    return words[1].split()[0] if len(words) > 1 and not words[1].startswith("none") else None


@pytest.mark.parametrize("release", releases(), ids=lambda release: release.name)
def test_a_database_made_by_an_earlier_release_upgrades_keeping_every_record(
    release: Release, server_url: str, tmp_path: Path
) -> None:
    if shallow_clone():
        pytest.skip("a shallow clone has no earlier releases to run")
    database = asyncio.run(create_database(server_url, "maca_upgrade"))
    try:
        environment = maca_environment(database, tmp_path / "data")
        old = ReleaseCode(checkout(release, tmp_path / "release"), environment)
        judged_before = fill(old, tmp_path)
        digest_before = digest(old.maca("events", "verify")) if old.verifies_events else None
        before = snapshot(database)
        assert before.get("partnerships"), "the release put nothing in the database"

        head = ReleaseCode(Path(__file__).resolve().parents[2], environment)
        head.environment.pop("PYTHONPATH")
        head.maca("migrate")
        after = snapshot(database)

        for table, rows in before.items():
            if table == "schema_migrations":
                continue
            if table in REPLACED and table not in after:
                replacement, becomes = REPLACED[table]
                rows, table = [becomes(row) for row in rows], replacement
            assert table in after, f"{release.name}: table {table} is gone"
            missing, _ = kept(rows, after[table])
            assert missing == [], f"{release.name}: {table} lost or changed {len(missing)} rows: {missing[:2]}"
        assert len(after.get("audits", [])) == len(before.get("audits", []))

        printed = head.maca("events", "verify")
        assert "the event trail is intact" in printed, printed
        if digest_before is not None:
            assert digest(printed) == digest_before

        if judged_before:
            with served_maca(database, tmp_path / "head-data", tmp_path / "head.log") as served:
                token = served.tokens["reviewer"]
                assert judgements(served.http, token, sorted(judged_before)) == judged_before
    finally:
        asyncio.run(drop_database(server_url, database))
