"""A real database per test (SQLite, or PostgreSQL: tests/databases.py), migrated."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage.db import Database
from tests.databases import postgres_server

# Two transactions writing one row at once are PostgreSQL's case: SQLite has one writer, and
# this process serialises its own transactions (storage/db.py).
collect_ignore = [] if postgres_server() else ["test_concurrent_writers.py"]


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.migrate()
    try:
        yield database
    finally:
        await database.dispose()
