"""INSERT … ON CONFLICT, the one way to write "insert unless there" that holds when two
transactions race: a SELECT-then-INSERT lets both see nothing under PostgreSQL's READ COMMITTED
(and between processes on SQLite), then one fails on the unique key. SQLite and PostgreSQL spell
it alike; SQLAlchemy has a construct per dialect."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_on_conflict(table: Table, dialect: str) -> Any:
    """``INSERT INTO table`` that takes ``.on_conflict_do_nothing`` / ``_do_update``."""
    if dialect == "sqlite":
        return sqlite.insert(table)
    if dialect == "postgresql":
        return postgresql.insert(table)
    raise NotImplementedError(f"no INSERT … ON CONFLICT for the {dialect} engine")
