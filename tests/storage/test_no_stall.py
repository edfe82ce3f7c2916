"""Nobody waits behind a long write: reads take no lock, a chart is drawn outside any
transaction, and a read-only unit of work cannot write."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from bot.channels.telegram.renderer import TelegramRenderer
from bot.domain.clock import SystemClock
from bot.domain.notify import file_row
from bot.outbox import OutboxDispatcher, SendLimits
from storage.db import Database
from storage.update_claim import WriteInReadOnly

NOW = datetime(2026, 11, 22, 8, tzinfo=UTC)


async def test_a_read_waits_for_no_writer(db: Database) -> None:
    """A clerk's read is answered while a long write (a district job) holds the writer."""
    writing = asyncio.Event()
    release = asyncio.Event()

    async def long_write() -> None:
        async with db.uow() as uow:
            await uow.updates.claim(1, NOW)
            writing.set()
            await release.wait()

    writer = asyncio.create_task(long_write())
    await writing.wait()
    async with asyncio.timeout(2):
        async with db.read() as uow:
            assert not await uow.updates.seen(1)  # not committed yet: the snapshot before it
            assert await uow.people.by_tg(42) is None
    release.set()
    await writer
    async with db.read() as uow:
        assert await uow.updates.seen(1)


async def test_a_read_only_unit_of_work_cannot_write(db: Database) -> None:
    with pytest.raises(WriteInReadOnly):
        async with db.read() as uow:
            await uow.updates.claim(7, NOW)
    async with db.uow() as uow:  # the same pooled connection writes again in a writer
        assert await uow.updates.claim(7, NOW)
    async with db.read() as uow:
        assert await uow.updates.seen(7)


async def test_the_chart_is_drawn_with_no_transaction_open(db: Database) -> None:
    """The results chart goes out as a photo; while it is drawn, writers are not held."""
    drawn_while: list[bool] = []
    sent = asyncio.Event()
    photos: list[bytes] = []

    def drawing() -> bytes:
        assert threading.current_thread() is not threading.main_thread()
        drawn_while.append(db._lock is not None and db._lock.locked())
        return b"PNG"

    async def read_figures(uow: Any, payload: dict[str, Any]) -> Any:
        await uow.people.by_tg(1)  # what the chart shows is read here
        return drawing

    async def send_photo(chat_id: int, photo: bytes, **_: Any) -> Any:
        photos.append(photo)
        sent.set()
        return SimpleNamespace(message_id=9)

    bot: Any = SimpleNamespace(send_photo=send_photo)  # the one call a photo row makes
    dispatcher = OutboxDispatcher(
        db, TelegramRenderer(bot), SystemClock(), poll_seconds=0.05, limits=SendLimits.off()
    )
    dispatcher.register_file("chart", read_figures)
    async with db.uow() as uow:
        await uow.outbox.add([file_row(-100, "chart", NOW)])
    await dispatcher.start()
    try:
        async with asyncio.timeout(10):
            await sent.wait()
    finally:
        await dispatcher.stop()
    assert photos == [b"PNG"]
    assert drawn_while == [False]
