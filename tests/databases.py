"""The database a test runs on: a SQLite file in the test's directory, or, when
JIANNUO_TEST_DATABASE_URL names a PostgreSQL server (scripts/postgres.sh starts one), a fresh
database on that server for every test, copied from a template migrated once per worker."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL, make_url

from storage import schema
from storage.db import Database

ENV = "JIANNUO_TEST_DATABASE_URL"


def sqlite_url(directory: Path, name: str = "jiannuo.db") -> str:
    """A SQLite database file in ``directory``."""
    return f"sqlite+aiosqlite:///{directory / name}"


# The database of a test that builds its settings from its directory (tests/e2e/harness.py's
# make_settings): set for the test's duration by tests/e2e/conftest.py.
_BY_DIRECTORY: dict[Path, str] = {}


def database_for(directory: Path) -> str:
    """The database of the test whose directory this is (SQLite there if none was set)."""
    return _BY_DIRECTORY.get(directory) or sqlite_url(directory)


@contextmanager
def database_of_directory(directory: Path, url: str) -> Iterator[None]:
    """Within this block, ``database_for(directory)`` is ``url``."""
    _BY_DIRECTORY[directory] = url
    try:
        yield
    finally:
        del _BY_DIRECTORY[directory]


def _dsn(url: URL) -> str:
    """The URL as asyncpg reads it (a Unix socket stays in ?host=…)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresDatabases:
    """One database per pytest-xdist worker on a PostgreSQL server (workers never share one),
    migrated on first use and emptied before each test: deleting the few rows a test wrote
    takes milliseconds, where creating a database from a template takes a second."""

    def __init__(self, server: URL) -> None:
        self.server = server
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self.name = f"jn_{worker}_{os.getpid()}"
        self._ready = False

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of a database on this server."""
        return self.server.set(database=database).render_as_string(hide_password=False)

    async def _execute(self, database: str | None, *statements: str) -> None:
        dsn = _dsn(self.server if database is None else self.server.set(database=database))
        conn = await asyncpg.connect(dsn)
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    async def fresh(self) -> str:
        """The worker's database, with the newest schema and no rows; sequences start at 1."""
        if not self._ready:
            await self._execute(
                None,
                f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)',
                f'CREATE DATABASE "{self.name}"',
            )
            database = Database(self.url(self.name))
            try:
                await database.migrate()
            finally:
                await database.dispose()
            self._ready = True
            return self.url(self.name)
        await self._execute(
            self.name,
            # A connection the last test left open must not hold a lock on its rows.
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()",
            _EMPTY,
        )
        return self.url(self.name)

    def close(self) -> None:
        """Drop the worker's database (at the end of its session)."""
        if self._ready:
            asyncio.run(self._execute(None, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))


# Children before parents (foreign keys); every serial counts from 1 again. DELETE, not
# TRUNCATE: a truncated table gets new files, which costs more than deleting a test's rows.
_EMPTY = "".join(
    f'DELETE FROM "{table.name}";' for table in reversed(schema.metadata.sorted_tables)
) + (
    "DO $$ DECLARE s record; BEGIN FOR s IN SELECT schemaname, sequencename FROM pg_sequences "
    "LOOP EXECUTE format('ALTER SEQUENCE %I.%I RESTART', s.schemaname, s.sequencename); "
    "END LOOP; END $$;"
)


def postgres_server() -> URL | None:
    """The PostgreSQL server the tests run on, or None for SQLite."""
    value = os.environ.get(ENV, "").strip()
    if not value:
        return None
    url = make_url(value)
    if url.get_backend_name() != "postgresql":
        raise RuntimeError(f"{ENV} must name a PostgreSQL server (postgresql+asyncpg://…)")
    return url
