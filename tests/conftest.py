"""Fixtures every suite may use: the database a test runs on (tests/databases.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.databases import PostgresDatabases, postgres_server, sqlite_url


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresDatabases | None]:
    """The PostgreSQL server named by JIANNUO_TEST_DATABASE_URL, or None (SQLite)."""
    server = postgres_server()
    if server is None:
        yield None
        return
    databases = PostgresDatabases(server)
    try:
        yield databases
    finally:
        databases.close()


@pytest.fixture
async def database_url(tmp_path: Path, postgres: PostgresDatabases | None) -> AsyncIterator[str]:
    """An empty database for this test (on PostgreSQL migrated already: tests/databases.py)."""
    if postgres is None:
        yield sqlite_url(tmp_path)
        return
    yield await postgres.fresh()
