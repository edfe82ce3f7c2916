"""Two transactions writing the same row at once, as two bot workers on one PostgreSQL do:
the second waits for the first and then changes nothing twice, or overwrites; it never fails on
the unique key and never writes a duplicate (collected on PostgreSQL only: SQLite has one writer
and this process serialises its own transactions, storage/db.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text

from bot.outbox import view_row
from storage import schema as s
from storage.db import Database
from storage.uow import UnitOfWork
from tests.databases import postgres_server

if postgres_server() is None:  # tests/storage/conftest.py leaves this file out on SQLite
    raise RuntimeError("writers racing are PostgreSQL's case: set JIANNUO_TEST_DATABASE_URL")

NOW = datetime(2026, 6, 5, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
Write = Callable[[UnitOfWork], Awaitable[Any]]


async def race(db: Database, first: Write, second: Write) -> Any:
    """Run ``first`` in a transaction, then ``second`` in another while the first is still
    open; the first commits once the second has finished or waits on its lock. Returns what
    ``second`` returned."""
    started = asyncio.Event()
    backend: list[int] = []

    async def other() -> Any:
        async with db.uow() as uow:
            backend.append(
                (await uow.outbox.conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            )
            started.set()
            return await second(uow)

    async with db.uow() as uow:
        await first(uow)
        task = asyncio.create_task(other())
        await started.wait()
        async with db.engine.connect() as watcher:
            for _ in range(500):
                waiting = (
                    await watcher.execute(
                        text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"),
                        {"pid": backend[0]},
                    )
                ).scalar_one_or_none()
                if task.done() or waiting == "Lock":
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError("the second writer neither finished nor waited")
    return await task


async def test_two_workers_refreshing_one_view_queue_one_refresh(db: Database) -> None:
    row = view_row(-100, "board:pledge:1", {"view": "board", "pledge": 1}, NOW)

    async def queue(uow: UnitOfWork) -> bool:
        return await uow.outbox.refresh_view(row)

    assert await race(db, queue, queue) is False
    async with db.engine.connect() as conn:
        pending = select(func.count()).where(s.outbox.c.ref == "board:pledge:1")
        assert (await conn.execute(pending)).scalar_one() == 1


async def test_two_workers_remembering_one_post_keep_the_later_place(db: Database) -> None:
    async def first(uow: UnitOfWork) -> None:
        await uow.outbox.remember_posted("board:pledge:1", -100, 7)

    async def second(uow: UnitOfWork) -> None:
        await uow.outbox.remember_posted("board:pledge:1", -100, 8)

    await race(db, first, second)
    async with db.uow() as uow:
        assert await uow.outbox.posted("board:pledge:1") == (-100, 8)


async def test_two_workers_writing_one_key_keep_the_later_value(db: Database) -> None:
    async def first(uow: UnitOfWork) -> None:
        await uow.kv.put_many({("conversations", "draft"): {"state": 1}})

    async def second(uow: UnitOfWork) -> None:
        await uow.kv.put_many({("conversations", "draft"): {"state": 2}})

    await race(db, first, second)
    async with db.uow() as uow:
        assert await uow.kv.get_namespace("conversations") == {"draft": {"state": 2}}


async def test_two_workers_recording_one_handled_update_record_it_once(db: Database) -> None:
    async def record(uow: UnitOfWork) -> None:
        await uow.updates.record_handled([41, 42], NOW)

    await race(db, record, record)
    async with db.uow() as uow:
        assert await uow.updates.handled_among([40, 41, 42]) == {41, 42}
