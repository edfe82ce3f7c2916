"""How queries order what people read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func


def by_name(column: Any, dialect: str) -> Any:
    """ORDER BY a name the way readers expect, by pinyin (bot/domain/names.py), where the
    engine knows how (SQLite: storage/db.py registers name_key); elsewhere the column."""
    return func.name_key(column) if dialect == "sqlite" else column
