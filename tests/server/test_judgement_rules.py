"""An audit keeps the judgement it was created with: its toolkit version,
and the edition of the judgement rules (migration 0010).

"Existing audits keep their toolkit version; changed definitions are new
versions (v2.yaml), and old audits' judgements do not change." An audit of
the multi-agency tool made before the upgrade (toolkit version 1, the 75% /
25% rule taking each section at its weakest agency grade) is graded as it
was after the upgrade; an audit created now is graded by version 2 and the
rules' second edition.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from merging import RULES_EDITION, CaseFacts, merge
from server.audits.judgement import judgement_of
from server.db import audits
from server.db.judgements import agency_contributions
from server.db.migrate import MIGRATIONS, migrate
from toolkits.registry import Registry

SECTIONS = (
    "history-of-involvement",
    "referral",
    "immediate-response",
    "assessment-s47-enquiry",
    "planning-implementing-plan",
    "review",
    "management-supervision",
    "recording-minutes",
)
# Three agencies find every section Good (2), one Adequate (3).
GRADES = {"demo-health": 2, "demo-police": 2, "demo-csc": 2, "demo-school": 3}


async def _an_audit_of_before_the_upgrade(connection: asyncpg.Connection[Any]) -> uuid.UUID:
    """Rows as Maca wrote them before migration 0010: a multi-agency audit of
    toolkit version 1, in review, four agencies' contributions submitted."""
    partnership = await connection.fetchval("INSERT INTO partnerships (code, name) VALUES ('p', 'P') RETURNING id")
    audit_id = await connection.fetchval(
        "INSERT INTO audits (partnership_id, toolkit_id, toolkit_version, status)"
        " VALUES ($1, 'multi-agency-cp', 1, 'in-review') RETURNING id",
        partnership,
    )
    kinds = {"demo-health": "health", "demo-police": "police", "demo-csc": "childrens-social-care"}
    for code, grade in GRADES.items():
        organisation = await connection.fetchval(
            "INSERT INTO organisations (partnership_id, code, name, agency_kind) VALUES ($1, $2, $2, $3) RETURNING id",
            partnership,
            code,
            kinds.get(code, "education"),
        )
        await connection.execute(
            "INSERT INTO audit_participants (audit_id, organisation_id) VALUES ($1, $2)", audit_id, organisation
        )
        content = {"judgements": {s: {"grade": grade, "impact": "as found"} for s in SECTIONS}, "overall": {"grade": 2}}
        await connection.execute(
            "INSERT INTO contributions (audit_id, organisation_id, status, content) VALUES ($1, $2, 'submitted', $3)",
            audit_id,
            organisation,
            msgspec.json.encode(content).decode(),
        )
    return audit_id


async def test_an_audit_created_on_version_1_keeps_version_1s_judgement(
    empty_database: str, tmp_path: Path, toolkits: Registry
) -> None:
    """By hand, each section's agency grades are [2, 2, 2, 3]. The first
    edition (weakest agency grade): every section Adequate (3), so 8 of 8
    areas adequate — Adequate overall. The second edition (3 of 4, 75%, good
    or better and none inadequate): every section Good, Good overall. The
    old audit must stay Adequate."""
    before = tmp_path / "migrations"
    before.mkdir()
    for file in sorted(MIGRATIONS.glob("*.sql")):
        if int(file.name[:4]) < 10:
            shutil.copy(file, before / file.name)
    connection = await asyncpg.connect(empty_database)
    try:
        await connection.set_type_codec("jsonb", encoder=str, decoder=msgspec.json.decode, schema="pg_catalog")
        await migrate(connection, before)
        audit_id = await _an_audit_of_before_the_upgrade(connection)
        await migrate(connection)  # the upgrade: 0010 and whatever follows

        audit = await audits.get(connection, audit_id)
        assert audit is not None
        assert (audit.toolkit_version, audit.judgement_rules) == (1, 1)
        judgement = await judgement_of(connection, toolkits.get("multi-agency-cp", 1), audit)
        assert (judgement.toolkit_version, judgement.rules_edition) == (1, 1)
        assert [s.grade for s in judgement.sections] == [3] * len(SECTIONS)
        assert judgement.overall.grade == 3
        assert judgement.sections[0].rule.startswith(
            "Adequate because demo-school (education) graded 3 and the weakest agency grade stands"
        )

        # The same work judged as a new audit is: version 2, second edition.
        contributions = await agency_contributions(connection, audit_id)
        now = merge(toolkits.current("multi-agency-cp"), CaseFacts(), contributions)
        assert (now.toolkit_version, now.rules_edition) == (2, RULES_EDITION)
        assert [s.grade for s in now.sections] == [2] * len(SECTIONS)
        assert now.overall.grade == 2

        # New rows are the current edition unless a step says otherwise.
        fresh = await connection.fetchval(
            "INSERT INTO audits (partnership_id, toolkit_id, toolkit_version) "
            "SELECT partnership_id, 'multi-agency-cp', 2 FROM audits WHERE id = $1 RETURNING judgement_rules",
            audit_id,
        )
        assert fresh == RULES_EDITION
    finally:
        await connection.close()
