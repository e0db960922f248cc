"""Migrations that lock tables already holding data are flagged.

A migration that alters, indexes, rewrites or puts a policy or trigger on
a table an earlier migration created takes a lock that stops the
application reading or writing it until ``maca migrate`` commits: on a big
table, an outage. Each such migration is listed here with what it locks,
after its locks were measured over 100,000 audits (``make bench
BENCH=migrations``, figures in README "Operating Maca"). A new one fails
this test until it is measured and listed (or rewritten: ``CREATE INDEX
CONCURRENTLY`` in a migration of its own, a column without a volatile
default, a backfill in batches)."""

from __future__ import annotations

import re

from server.db.migrate import read_migrations

_COMMENT = re.compile(r"--[^\n]*")
_CREATED = re.compile(r"\bCREATE TABLE (?:IF NOT EXISTS )?(\w+)", re.IGNORECASE)
_INDEX_CREATED = re.compile(r"\bCREATE (?:UNIQUE )?INDEX (?:CONCURRENTLY )?(\w+) ON (\w+)", re.IGNORECASE)
_LOCKING: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("alter table", re.compile(r"\bALTER TABLE (?:IF EXISTS )?(?:ONLY )?(\w+)", re.IGNORECASE)),
    ("create index", re.compile(r"\bCREATE (?:UNIQUE )?INDEX (?!CONCURRENTLY)\w+ ON (\w+)", re.IGNORECASE)),
    ("update", re.compile(r"(?:^|;)\s*UPDATE (\w+)", re.IGNORECASE | re.MULTILINE)),
    ("delete", re.compile(r"(?:^|;)\s*DELETE FROM (\w+)", re.IGNORECASE | re.MULTILINE)),
    ("policy", re.compile(r"\b(?:CREATE|DROP|ALTER) POLICY \w+ ON (\w+)", re.IGNORECASE)),
    ("trigger", re.compile(r"\bCREATE TRIGGER \w+ .*? ON (\w+)", re.IGNORECASE | re.DOTALL)),
    ("lock table", re.compile(r"\bLOCK TABLE (\w+)", re.IGNORECASE)),
)
_DROP_INDEX = re.compile(r"\bDROP INDEX (?!CONCURRENTLY)(?:IF EXISTS )?(\w+)", re.IGNORECASE)

# Reviewed: what each migration locks on tables earlier ones made. 0005 and
# 0006 are older than the first release that could make 100,000 audits, so
# they were not measured at that size: 0005 rewrites audits (closed_at) and
# re-chains every event in one transaction, 0006 indexes the remedial
# actions (README "Operating Maca": a maintenance window for 0005 on a big
# trail). 0008 and 0009 are measured by make bench; 0011, 0012 and 0013
# were measured over 20,000 audits; 0010 (a column with a constant default
# and a CHECK: no rewrite, one scan) was timed by itself over 100,000 rows
# as wide as an audit (README "Operating Maca").
REVIEWED: dict[int, set[tuple[str, str]]] = {
    5: {
        ("alter table", "audits"),
        ("update", "audits"),
        ("create index", "audits"),
        ("trigger", "audits"),
        ("alter table", "events"),
        ("create index", "events"),
        ("trigger", "events"),
        ("policy", "contributions"),
        ("policy", "contribution_versions"),
        ("alter table", "contributions"),
        ("alter table", "contribution_versions"),
    },
    6: {("create index", "remedial_actions")},
    8: {("alter table", "events"), ("drop index", "events"), ("create index", "events")},
    9: {
        ("alter table", "theme_section_counts"),
        ("alter table", "theme_agency_counts"),
        ("policy", "contributions"),
    },
    10: {("alter table", "audits")},
    # A new policy: ACCESS EXCLUSIVE on audit_summaries for a catalogue
    # change only, no row read (as 0009's policy: milliseconds at any size).
    14: {("policy", "audit_summaries")},
    # A nullable column without a default (no row written, no CHECK to scan)
    # and a policy on events: catalogue changes only, no row read (as 0009's
    # and 0013's policies: milliseconds at any size). Not yet timed by make
    # bench BENCH=migrations.
    18: {("alter table", "audits"), ("policy", "events")},
    11: {
        ("alter table", "audit_participants"),
        ("alter table", "audit_summaries"),
        ("alter table", "audits"),
        ("alter table", "contribution_versions"),
        ("alter table", "contributions"),
        ("alter table", "event_strand_heads"),
        ("alter table", "events"),
        ("alter table", "idempotency_keys"),
        ("alter table", "moderations"),
        ("alter table", "organisations"),
        ("alter table", "partnerships"),
        ("alter table", "remedial_actions"),
        ("alter table", "sessions"),
        ("alter table", "sign_in_requests"),
        ("alter table", "theme_agency_counts"),
        ("alter table", "theme_section_counts"),
        ("alter table", "theme_versions"),
        ("alter table", "users"),
        ("policy", "audit_participants"),
        ("policy", "audit_summaries"),
        ("policy", "audits"),
        ("policy", "contribution_versions"),
        ("policy", "contributions"),
        ("policy", "events"),
        ("policy", "idempotency_keys"),
        ("policy", "moderations"),
        ("policy", "organisations"),
        ("policy", "partnerships"),
        ("policy", "remedial_actions"),
        ("policy", "sessions"),
        ("policy", "theme_agency_counts"),
        ("policy", "theme_section_counts"),
        ("policy", "theme_versions"),
        ("policy", "users"),
        ("trigger", "audit_participants"),
        ("trigger", "audits"),
        ("trigger", "contribution_versions"),
        ("trigger", "contributions"),
        ("trigger", "moderations"),
        ("update", "audits"),
    },
    12: {
        ("alter table", "audit_participants"),
        ("alter table", "audits"),
        ("alter table", "organisations"),
        ("create index", "audits"),
        ("create index", "events"),
        ("create index", "organisations"),
        ("trigger", "audit_participants"),
        ("update", "audit_participants"),
        ("update", "organisations"),
    },
    13: {
        ("policy", "events"),
        ("policy", "organisations"),
        ("policy", "partnerships"),
    },
    # Notifications (issue 20): two columns on users (one per person who
    # signed in, not per audit: constant defaults, no rewrite; the email
    # CHECK scans the people once), two on partnership_settings (a row a
    # partnership) and users' recording policies replaced (a catalogue
    # change). Its new tables' foreign keys also hold writes to audits
    # (SHARE ROW EXCLUSIVE, no row read): 0.44 s over 20,000 audits with
    # make bench BENCH=migrations (README "Operating Maca").
    15: {
        ("alter table", "partnership_settings"),
        ("alter table", "users"),
        ("policy", "users"),
    },
    # Measured over 100,000 audits (34,030 actions): remedial_actions held
    # 1.3 s (its new columns' CHECKs, the one-action-per-table-row unique
    # index and the status backfill), contributions' writes 1.2 s (the new
    # foreign key to them), audits 0.33 s (a nullable column and the
    # programmes' partial index). README "Operating Maca".
    16: {
        ("alter table", "audits"),
        ("alter table", "remedial_actions"),
        ("create index", "audits"),
        ("create index", "remedial_actions"),
        ("policy", "remedial_actions"),
        ("update", "remedial_actions"),
    },
    # The audit list's indexes and kept counts (issue 24): writes to audits
    # wait while three indexes are built and the counts backfilled (about
    # 3.4 s over 100,000 audits, on a machine at load 7.8); reads only for
    # the old status index's removal, its last statement. README
    # "Operating Maca".
    20: {
        ("lock table", "audits"),
        ("create index", "audits"),
        ("trigger", "audits"),
        ("drop index", "audits"),
    },
}


def locks_on_existing_tables() -> dict[int, set[tuple[str, str]]]:
    existing: set[str] = set()
    index_table: dict[str, str] = {}
    found: dict[int, set[tuple[str, str]]] = {}
    for migration in read_migrations():
        sql = _COMMENT.sub("", migration.sql)
        # Function bodies ($$ … $$) run later, not as the migration's statements.
        statements = re.sub(r"\$\$.*?\$\$", "$$", sql, flags=re.DOTALL)
        locked = {(kind, table) for kind, pattern in _LOCKING for table in pattern.findall(statements)}
        locked |= {("drop index", index_table[name]) for name in _DROP_INDEX.findall(statements) if name in index_table}
        locked = {(kind, table) for kind, table in locked if table in existing}
        if locked:
            found[migration.version] = locked
        existing |= set(_CREATED.findall(statements))
        index_table.update(dict(_INDEX_CREATED.findall(statements)))
    return found


def test_every_migration_that_locks_a_table_holding_data_was_measured_and_listed() -> None:
    found = locks_on_existing_tables()
    unlisted = {version: sorted(locks - REVIEWED.get(version, set())) for version, locks in found.items()}
    unlisted = {version: locks for version, locks in unlisted.items() if locks}
    assert unlisted == {}, (
        "these migrations lock tables that already hold data: measure them over 100,000 audits "
        "(make bench BENCH=migrations), put the longest lock in README 'Operating Maca', and list them in REVIEWED"
    )
    assert found == REVIEWED, "REVIEWED lists locks the migrations no longer take"


def test_the_flagging_recognises_a_locking_statement() -> None:
    sql = "ALTER TABLE audits ADD COLUMN x int; CREATE INDEX audits_x ON audits (x); UPDATE audits SET x = 1;"
    kinds = {kind for kind, pattern in _LOCKING for _ in pattern.findall(sql)}
    assert kinds == {"alter table", "create index", "update"}
    assert not _LOCKING[1][1].findall("CREATE INDEX CONCURRENTLY audits_x ON audits (x)")
