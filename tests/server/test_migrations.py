"""Migrations: in order, once, under a lock, and never edited after the fact."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from server.db.migrate import MIGRATIONS, MigrationError, migrate, pending_migrations, read_migrations


def write(directory: Path, name: str, sql: str) -> None:
    (directory / name).write_text(sql, encoding="utf-8")


@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    write(tmp_path, "0001_people.sql", "CREATE TABLE people (id int PRIMARY KEY);")
    write(tmp_path, "0002_names.sql", "ALTER TABLE people ADD COLUMN name text;")
    return tmp_path


async def applied(connection: asyncpg.Connection[Any]) -> list[tuple[int, str]]:
    rows = await connection.fetch("SELECT version, name FROM schema_migrations ORDER BY applied_at, version")
    return [(row["version"], row["name"]) for row in rows]


async def test_migrations_apply_in_order_and_are_recorded(empty_database: str, migrations: Path) -> None:
    connection = await asyncpg.connect(empty_database)
    try:
        done = await migrate(connection, migrations)
        assert [m.version for m in done] == [1, 2]
        assert await applied(connection) == [(1, "people"), (2, "names")]
        # 0002 depends on 0001's table: it could only succeed in order.
        await connection.execute("INSERT INTO people (id, name) VALUES (1, 'x')")
    finally:
        await connection.close()


async def test_running_again_changes_nothing(empty_database: str, migrations: Path) -> None:
    connection = await asyncpg.connect(empty_database)
    try:
        await migrate(connection, migrations)
        assert await migrate(connection, migrations) == []
        assert await pending_migrations(connection, migrations) == []
        assert await applied(connection) == [(1, "people"), (2, "names")]
    finally:
        await connection.close()


async def test_a_new_migration_is_applied_alone(empty_database: str, migrations: Path) -> None:
    connection = await asyncpg.connect(empty_database)
    try:
        await migrate(connection, migrations)
        write(migrations, "0003_ages.sql", "ALTER TABLE people ADD COLUMN age int;")
        assert [m.version for m in await migrate(connection, migrations)] == [3]
    finally:
        await connection.close()


async def test_an_edited_applied_migration_is_refused(empty_database: str, migrations: Path) -> None:
    connection = await asyncpg.connect(empty_database)
    try:
        await migrate(connection, migrations)
        write(migrations, "0001_people.sql", "CREATE TABLE people (id bigint PRIMARY KEY);")
        write(migrations, "0003_ages.sql", "ALTER TABLE people ADD COLUMN age int;")
        with pytest.raises(MigrationError, match=r"0001_people\.sql was edited after it was applied"):
            await migrate(connection, migrations)
        # Refused as a whole: the new 0003 was not applied either.
        assert await applied(connection) == [(1, "people"), (2, "names")]
    finally:
        await connection.close()


async def test_a_failing_migration_leaves_nothing_half_applied(empty_database: str, migrations: Path) -> None:
    write(migrations, "0003_broken.sql", "ALTER TABLE nobody ADD COLUMN x int;")
    connection = await asyncpg.connect(empty_database)
    try:
        with pytest.raises(asyncpg.UndefinedTableError):
            await migrate(connection, migrations)
        assert await connection.fetchval("SELECT to_regclass('people')") is None
        assert await connection.fetchval("SELECT to_regclass('schema_migrations')") is None
    finally:
        await connection.close()


async def test_two_processes_starting_together_apply_each_migration_once(empty_database: str, migrations: Path) -> None:
    # A slow first migration widens the window in which both would run it.
    write(migrations, "0001_people.sql", "SELECT pg_sleep(0.5); CREATE TABLE people (id int PRIMARY KEY);")
    first, second = await asyncpg.connect(empty_database), await asyncpg.connect(empty_database)
    try:
        results = await asyncio.gather(migrate(first, migrations), migrate(second, migrations))
        assert sorted(len(done) for done in results) == [0, 2]
        assert await applied(first) == [(1, "people"), (2, "names")]
    finally:
        await first.close()
        await second.close()


async def test_a_database_newer_than_the_code_is_refused(empty_database: str, migrations: Path) -> None:
    connection = await asyncpg.connect(empty_database)
    try:
        await migrate(connection, migrations)
        (migrations / "0002_names.sql").unlink()
        with pytest.raises(MigrationError, match=r"does not know \(\[2\]\)"):
            await migrate(connection, migrations)
    finally:
        await connection.close()


def test_badly_named_files_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "1_people.sql", "SELECT 1;")
    with pytest.raises(MigrationError, match=r"named NNNN_name\.sql"):
        read_migrations(tmp_path)


def test_the_shipped_migrations_are_numbered_without_gaps() -> None:
    versions = [m.version for m in read_migrations(MIGRATIONS)]
    assert versions == list(range(1, len(versions) + 1))


async def test_the_shipped_migrations_apply_to_an_empty_database(empty_database: str) -> None:
    connection = await asyncpg.connect(empty_database)
    try:
        done = await migrate(connection)
        assert len(done) == len(read_migrations(MIGRATIONS))
        assert await connection.fetchval("SELECT to_regclass('organisations') IS NOT NULL")
    finally:
        await connection.close()
