"""The update journal on a real database: what it keeps, what it gives back at start, and that
what it keeps cannot be read without the key."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.domain.clock import FakeClock
from bot.update_journal import UpdateJournal
from storage import schema
from storage.db import Database

KEY = b"journal-test-key"
NOW = datetime(2026, 9, 25, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def vote(update_id: int, user: int, option: int) -> dict[str, object]:
    return {
        "update_id": update_id,
        "poll_answer": {
            "poll_id": "p1",
            "user": {"id": user, "is_bot": False, "first_name": "王"},
            "option_ids": [option],
        },
    }


def message(update_id: int, text: str) -> dict[str, object]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": 7, "type": "private"},
            "from": {"id": 7, "is_bot": False, "first_name": "王"},
            "text": text,
        },
    }


async def test_unhandled_updates_come_back_in_order_once(db: Database) -> None:
    journal = UpdateJournal(db, FakeClock(NOW), KEY)
    await journal.keep([vote(10, 1, 0), message(11, "我承诺"), vote(12, 2, 1)])
    await journal.keep([vote(12, 2, 1), vote(13, 1, 2)])  # 12 fetched twice (a retry)
    async with db.uow() as uow:  # 10 and 11 were handled before the stop
        await uow.updates.record_handled([10, 11], NOW)

    again = UpdateJournal(db, FakeClock(NOW), KEY)  # the next start
    assert [u["update_id"] for u in await again.unhandled()] == [12, 13]
    assert again.watermark() == 12
    again.handled([12, 13])
    assert again.watermark() == 14
    assert await again.prune() == 2  # both answers: every update in them handled
    assert await again.unhandled() == []


async def test_an_answer_is_kept_until_every_update_in_it_is_handled(db: Database) -> None:
    journal = UpdateJournal(db, FakeClock(NOW), KEY)
    await journal.keep([vote(20, 1, 0), vote(21, 2, 0)])
    await journal.keep([vote(22, 3, 0)])
    journal.handled([20, 22])  # 21 still in the ballot box
    assert journal.watermark() == 21
    assert await journal.prune() == 0
    journal.handled([21])
    await journal.keep([vote(23, 4, 1)])  # keeping prunes what is wholly handled
    async with db.engine.connect() as conn:
        kept = [r.first_update_id for r in await conn.execute(select(schema.update_journal))]
    assert kept == [23]


async def test_the_journal_names_no_voter_and_no_choice_without_the_key(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal = UpdateJournal(db, FakeClock(NOW), KEY)
    await journal.keep([vote(30, 987654321, 2), message(31, "居民电话13912345678")])
    async with db.engine.connect() as conn:
        [payload] = [r.payload for r in await conn.execute(select(schema.update_journal))]
    for plain in (b"987654321", b"option_ids", b"poll_answer", b"1391234"):
        assert plain not in payload
    raw = (tmp_path / "store.db").read_bytes() + (tmp_path / "store.db-wal").read_bytes()
    assert b"987654321" not in raw and b"option_ids" not in raw

    other = UpdateJournal(db, FakeClock(NOW), b"another-key")
    with caplog.at_level(logging.ERROR):
        assert await other.unhandled() == []
    assert "could not be read" in caplog.text
