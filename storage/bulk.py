"""A whole batch of rows in one statement on SQLite: the rows are bound as one JSON array and
read back with json_each (see storage/evaluation_repo.py, _BulkJson, for why)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Table, bindparam, func, insert, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.pace import Pacer

CHUNK = 500  # rows a statement: its JSON text is made in one call that holds the loop


def json_each(name: str) -> Any:
    """The table of the JSON array bound as ``name`` (its column: value)."""
    return func.json_each(bindparam(name)).table_valued("value").alias(name)


def json_text(value: Any) -> str:
    """A value as the compact JSON text to bind for json_each."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def rows_as_json(dialect: str) -> bool:
    """Whether batches travel as one JSON array (SQLite; tests switch it off to compare)."""
    return dialect == "sqlite"


async def insert_rows(
    conn: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]], chunk: int = CHUNK
) -> None:
    """Insert ``rows`` (all with the keys of the first), in their order.

    On SQLite a chunk of rows is one statement that reads them from one JSON array, each row
    an array of its values: an executemany of SQLAlchemy processes every parameter in Python
    on the event loop (a 20,000-recipient broadcast held it for 0.6 s) and steps the engine
    once a row. The values go through their columns' own bind processors (the stored form is
    the same either way; a value repeated across rows, like the batch's timestamp, is
    processed once); a JSON column's value travels as JSON and is stored as its JSON text.
    Converting the values is paced (storage/pace.py): a batch of a district's rows is walked
    a few milliseconds at a time, and a chunk's JSON text stays small.
    Other engines take the plain executemany.
    """
    if not rows:
        return
    if not rows_as_json(conn.dialect.name):
        await conn.execute(insert(table), list(rows))
        return
    names = list(rows[0])
    pick = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    columns = [table.c[name] for name in names]
    processors: list[Any] = []
    for column in columns:
        if isinstance(column.type, JSON):
            processors.append(None)
        else:
            processors.append(column.type._cached_bind_processor(conn.dialect))
    source = json_each("rows")
    picks = [
        source.c.value.op("->" if isinstance(col.type, JSON) else "->>")(f"$[{i}]")
        for i, col in enumerate(columns)
    ]
    statement = insert(table).from_select(
        names, select(*picks).select_from(source).order_by(literal_column("key"))
    )
    pace = Pacer()
    for start in range(0, len(rows), chunk):
        batch = rows[start : start + chunk]
        values: list[list[Any]] = [list(pick(row)) for row in batch]
        await pace()
        for i, process in enumerate(processors):
            if process is None:
                continue
            memo: dict[Any, Any] = {}
            await pace()
            for value in values:
                raw = value[i]
                if raw is None:
                    continue
                try:
                    value[i] = memo[raw]
                except KeyError:
                    value[i] = memo[raw] = process(raw)
                except TypeError:  # not hashable
                    value[i] = process(raw)
        await conn.execute(statement, {"rows": json_text(values)})
