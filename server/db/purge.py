"""Retention: remove closed audits older than the retention period.

An audit is removed with everything that refers to it — participants,
contributions and their versions, remedial actions, moderations, summaries
and whatever later migrations add — found from the database's own foreign
keys, so a table added by another part of Maca is never left holding rows
of a removed audit (nor blocks the removal). Stored idempotent responses
that could quote its case details go too.

Events stay: they hold ids, statuses and reasons, never answers or case
details, and the hash chain (server/db/verify.py) must stay whole.
The purge as a whole — the dashboard's counts taken away first, the event
recorded after — is ``server/audits/retention.py``; this module only finds
and removes rows.

Runs as the tables' owner (``maca purge``), which row-level security does
not confine.
"""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec


class Reference(msgspec.Struct, frozen=True):
    """A foreign key: ``table(columns)`` refers to ``parent(parent_columns)``."""

    table: str
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]


async def _references(connection: asyncpg.Connection[Any]) -> list[Reference]:
    rows = await connection.fetch(
        """
        SELECT child.relname AS table, parent.relname AS parent,
               array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i) AS columns,
               array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i) AS parent_columns
          FROM pg_constraint c
          JOIN pg_class child ON child.oid = c.conrelid
          JOIN pg_class parent ON parent.oid = c.confrelid
          JOIN pg_namespace n ON n.oid = child.relnamespace
         WHERE c.contype = 'f' AND n.nspname = current_schema()
        """
    )
    return [Reference(r["table"], tuple(r["columns"]), r["parent"], tuple(r["parent_columns"])) for r in rows]


def _name(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def deletion_plan(references: list[Reference], root: str = "audits") -> list[tuple[str, str]]:
    """(table, WHERE clause over ``$1``, the audit ids), children before
    their parents, for every table that refers to ``root`` directly or
    through others. Identifiers come from the catalogue, quoted; the only
    value is the parameter."""
    plan: list[tuple[str, str]] = []

    def visit(table: str, selection: str, path: tuple[str, ...]) -> None:
        # selection: a SELECT of the table's rows that belong to the audits.
        for reference in references:
            if reference.parent != table or reference.table in path:
                continue
            columns = ", ".join(_name(c) for c in reference.columns)
            parent_columns = ", ".join(_name(c) for c in reference.parent_columns)
            where = f"({columns}) IN (SELECT {parent_columns} FROM ({selection}) AS p)"  # noqa: S608
            rows = f"SELECT * FROM {_name(reference.table)} WHERE {where}"  # noqa: S608
            visit(reference.table, rows, (*path, reference.table))
            plan.append((reference.table, where))

    visit(root, f"SELECT * FROM {_name(root)} WHERE id = ANY($1::uuid[])", (root,))  # noqa: S608
    plan.append((root, "id = ANY($1::uuid[])"))
    return plan


async def closed_audits(
    connection: asyncpg.Connection[Any], retention_days: int
) -> tuple[datetime.datetime, tuple[UUID, ...]]:
    """The moment ``retention_days`` ago, and the audits closed longer ago
    than their partnership keeps them (its own retention period, set by its
    administrator, or else ``retention_days``), locked (oldest closure
    first) until the caller's transaction ends."""
    closed_before: datetime.datetime = await connection.fetchval(
        "SELECT now() - make_interval(days => $1)", retention_days
    )
    audit_ids = tuple(
        row["id"]
        for row in await connection.fetch(
            """
            SELECT a.id FROM audits a LEFT JOIN partnership_settings s ON s.partnership_id = a.partnership_id
             WHERE a.status = 'closed' AND a.closed_at < now() - make_interval(days => coalesce(s.retention_days, $1))
             ORDER BY a.closed_at, a.id
               FOR UPDATE OF a
            """,
            retention_days,
        )
    )
    return closed_before, audit_ids


async def own_retention(connection: asyncpg.Connection[Any]) -> dict[str, int]:
    """Partnerships that set their own retention period: code → days."""
    rows = await connection.fetch(
        "SELECT p.code, s.retention_days FROM partnership_settings s JOIN partnerships p ON p.id = s.partnership_id "
        "WHERE s.retention_days IS NOT NULL ORDER BY p.code"
    )
    return {row["code"]: row["retention_days"] for row in rows}


async def remove(connection: asyncpg.Connection[Any], audit_ids: list[UUID], *, dry_run: bool) -> dict[str, int]:
    """Delete (or, ``dry_run``, only count) every row of the audits and of
    whatever refers to them, and the stored idempotent responses that could
    quote them; rows per table."""
    rows: dict[str, int] = {}
    for table, where in deletion_plan(await _references(connection)):
        verb = "SELECT count(*) FROM" if dry_run else "WITH gone AS (DELETE FROM"
        if dry_run:
            count = await connection.fetchval(f"{verb} {_name(table)} WHERE {where}", audit_ids)
        else:
            count = await connection.fetchval(
                f"{verb} {_name(table)} WHERE {where} RETURNING 1) SELECT count(*) FROM gone",  # noqa: S608
                audit_ids,
            )
        rows[table] = rows.get(table, 0) + count
    # A stored response to a retried request may quote case details.
    paths = [f"/api/audits/{audit_id}%" for audit_id in audit_ids]
    texts = [str(audit_id) for audit_id in audit_ids]
    idempotent = (
        "FROM idempotency_keys WHERE path LIKE ANY($1::text[]) "
        "OR EXISTS (SELECT 1 FROM unnest($2::text[]) t "
        "WHERE position(convert_to(t, 'UTF8') IN coalesce(response_body, ''::bytea)) > 0)"
    )
    if dry_run:
        rows["idempotency_keys"] = await connection.fetchval(f"SELECT count(*) {idempotent}", paths, texts)
    else:
        rows["idempotency_keys"] = await connection.fetchval(
            f"WITH gone AS (DELETE {idempotent} RETURNING 1) SELECT count(*) FROM gone",  # noqa: S608
            paths,
            texts,
        )
    return rows
