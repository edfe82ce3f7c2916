"""A whole batch of rows in one statement on SQLite: the rows are bound as one JSON array and
read back with json_each (see storage/evaluation_repo.py, _BulkJson, for why)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import bindparam, func


def json_each(name: str) -> Any:
    """The table of the JSON array bound as ``name`` (its column: value)."""
    return func.json_each(bindparam(name)).table_valued("value").alias(name)


def json_text(value: Any) -> str:
    """A value as the compact JSON text to bind for json_each."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
