"""The alembic command on the bot's own database URL (JIANNUO_DATABASE_URL, async drivers):
down to nothing and back up, and the offline script a PostgreSQL administrator applies."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import asyncpg
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from storage import schema
from storage.db import Database

ROOT = Path(__file__).resolve().parents[2]
HEAD = "0014"


def alembic(url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`alembic -c storage/alembic.ini …` as a person runs it, on the database at ``url``."""
    return subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(ROOT / "storage/alembic.ini"), *args],
        env={**os.environ, "JIANNUO_DATABASE_URL": url},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def tables_and_version(url: str) -> tuple[set[str], str]:
    database = Database(url)
    try:
        async with database.engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            version = await conn.exec_driver_sql("SELECT version_num FROM alembic_version")
            return names, version.scalar_one()
    finally:
        await database.dispose()


async def test_alembic_takes_the_database_down_to_nothing_and_back(
    database_url: str, tmp_path: Path
) -> None:
    down = alembic(database_url, "downgrade", "base", cwd=tmp_path)
    assert down.returncode == 0, down.stderr
    up = alembic(database_url, "upgrade", "head", cwd=tmp_path)
    assert up.returncode == 0, up.stderr
    names, version = await tables_and_version(database_url)
    assert version == HEAD
    assert names >= set(schema.metadata.tables)


async def test_the_offline_script_for_postgresql_builds_the_schema(
    database_url: str, tmp_path: Path
) -> None:
    """Printed without a server; applied here when the suite runs on PostgreSQL."""
    script = alembic(
        "postgresql+asyncpg://nobody@/nothing", "upgrade", "head", "--sql", cwd=tmp_path
    )
    assert script.returncode == 0, script.stderr
    sql = script.stdout
    assert "CREATE UNIQUE INDEX uq_outbox_pending_view ON outbox (ref) WHERE" in sql
    assert f"version_num='{HEAD}'" in sql
    if make_url(database_url).get_backend_name() != "postgresql":
        return
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        await conn.execute(sql)
    finally:
        await conn.close()
    names, version = await tables_and_version(database_url)
    assert version == HEAD
    assert names >= set(schema.metadata.tables)


def test_an_offline_script_for_sqlite_is_refused_with_the_way_that_works(tmp_path: Path) -> None:
    script = alembic(
        f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", "upgrade", "head", "--sql", cwd=tmp_path
    )
    assert script.returncode != 0
    assert "a SQLite database migrates itself" in script.stderr
