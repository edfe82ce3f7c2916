"""How queries order what people read: names by pinyin on both engines."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func

# PostgreSQL's ICU collation for Chinese (CLDR's pinyin order); PostgreSQL built without ICU
# has no such collation and fails the query instead of ordering by code point.
PINYIN_COLLATION = "zh-x-icu"


def by_name(column: Any, dialect: str) -> Any:
    """ORDER BY a name the way readers expect, by pinyin (bot/domain/names.py): PostgreSQL
    through ICU's Chinese collation, SQLite through the name_key function storage/db.py
    registers; another engine is refused rather than sorting by code point."""
    if dialect == "postgresql":
        return column.collate(PINYIN_COLLATION)
    if dialect == "sqlite":
        return func.name_key(column)
    raise NotImplementedError(f"no pinyin order for the {dialect} engine")
