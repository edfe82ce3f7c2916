"""insert_rows (storage/bulk.py): the rows a JSON array brings are the rows an executemany
writes, value for value, in order; a refused batch writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from storage import bulk
from storage import schema as s
from storage.db import Database
from tests.databases import sqlite_url

SHANGHAI = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 21, 20, 15, 30, 123456, tzinfo=SHANGHAI)


def _outbox_rows(n: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        rows.append(
            {
                "chat_id": 10**12 + i if i % 3 else -(10**12) - i,
                "kind": "message",
                "payload": {
                    "text": f'📢 通知｜第{i}条\n\n全体党员："引号" 与 \\ 反斜杠',
                    "buttons": [[{"label": "收到", "action": ["bc", "ack", str(i), "1"]}]],
                    "n": i,
                    "ratio": 0.5,
                    "flag": i % 2 == 0,
                    "none": None,
                },
                "ref": None if i % 2 else f"board:pledge:{i}",
                "status": "pending",
                "attempts": 0,
                "not_before": NOW + timedelta(seconds=i % 4),
                "sender_id": None,
                "dedupe_key": f"k:{i}",
                "broadcast_id": None,
                "created_at": NOW.astimezone(UTC),
            }
        )
    return rows


async def _stored(db: Database) -> list[dict[str, Any]]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(select(s.outbox).order_by(s.outbox.c.id))
        return [dict(r._mapping) for r in rows]


@pytest.mark.parametrize("chunk", [7, 2000])
async def test_the_json_array_writes_what_executemany_writes(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """SQLite's JSON array path (whatever engine the suite runs on) against its executemany."""
    rows = _outbox_rows(50)
    db = Database(sqlite_url(tmp_path, "json.db"))
    plain = Database(sqlite_url(tmp_path, "plain.db"))
    try:
        await db.migrate()
        async with db.uow() as uow:
            await bulk.insert_rows(uow.outbox.conn, s.outbox, rows, chunk=chunk)
        via_json = await _stored(db)
        await plain.migrate()
        monkeypatch.setattr(bulk, "rows_as_json", lambda dialect: False)
        async with plain.uow() as uow:
            await bulk.insert_rows(uow.outbox.conn, s.outbox, rows)
        via_executemany = await _stored(plain)
        # The stored text, too: what another reader (an export, a migration) would see.
        async with db.engine.connect() as a, plain.engine.connect() as b:
            query = "SELECT not_before, created_at, ref FROM outbox ORDER BY id"
            raw_json = (await a.exec_driver_sql(query)).all()
            raw_plain = (await b.exec_driver_sql(query)).all()
    finally:
        await plain.dispose()
        await db.dispose()
    assert via_json == via_executemany
    assert raw_json == raw_plain
    assert [r["dedupe_key"] for r in via_json] == [f"k:{i}" for i in range(50)]  # in order
    assert via_json[0]["payload"]["text"].startswith("📢 通知｜第0条")
    assert via_json[1]["not_before"] == NOW + timedelta(seconds=1)


async def test_a_refused_row_leaves_nothing_of_its_batch(db: Database) -> None:
    rows = _outbox_rows(10)
    rows[7]["dedupe_key"] = rows[2]["dedupe_key"]  # a unique key twice
    with pytest.raises(IntegrityError):
        async with db.uow() as uow:
            await bulk.insert_rows(uow.outbox.conn, s.outbox, rows, chunk=4)
    assert await _stored(db) == []


async def test_defaults_of_missing_columns_apply(db: Database) -> None:
    rows = [
        {k: v for k, v in row.items() if k not in ("status", "attempts")}
        for row in _outbox_rows(3)
    ]
    async with db.uow() as uow:
        await bulk.insert_rows(uow.outbox.conn, s.outbox, rows)
    stored = await _stored(db)
    assert [(r["status"], r["attempts"]) for r in stored] == [("pending", 0)] * 3
