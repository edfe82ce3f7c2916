"""The update journal (bot/update_journal.py): what it keeps, what it gives back at start, that
it deletes what is handled, survives a torn write, and cannot be read without the key."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import update_journal
from bot.update_journal import UpdateJournal
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


def keep(journal: UpdateJournal, *updates: dict[str, object]) -> None:
    """As JournalingRequest does with a getUpdates answer."""
    body = json.dumps({"ok": True, "result": list(updates)}, ensure_ascii=False).encode()
    journal.keep(body, [int(str(u["update_id"])) for u in updates])


def files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob("*.journal"))


async def test_unhandled_updates_come_back_in_order_once(db: Database, tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    journal = UpdateJournal(directory, db, KEY)
    keep(journal, vote(10, 1, 0), message(11, "我承诺"), vote(12, 2, 1))
    keep(journal, vote(12, 2, 1), vote(13, 1, 2))  # 12 fetched twice (a retry)
    async with db.uow() as uow:  # 10 and 11 were handled before the crash
        await uow.updates.record_handled([10, 11], NOW)

    again = UpdateJournal(directory, db, KEY)  # the next start
    assert [u["update_id"] for u in await again.unhandled()] == [12, 13]
    assert again.watermark() == 12
    again.handled([12, 13])
    assert again.watermark() == 14
    assert files(directory) == []  # every update in it handled: deleted
    assert await UpdateJournal(directory, db, KEY).unhandled() == []


async def test_a_file_is_kept_until_every_update_in_it_is_handled(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(update_journal, "SEGMENT_BYTES", 1)  # a file per answer
    directory = tmp_path / "journal"
    journal = UpdateJournal(directory, db, KEY)
    keep(journal, vote(20, 1, 0), vote(21, 2, 0))
    keep(journal, vote(22, 3, 0))
    assert len(files(directory)) == 2
    journal.handled([20, 22])  # 21 still in the ballot box
    assert journal.watermark() == 21 and len(files(directory)) == 2
    journal.handled([21])
    assert files(directory) == []
    keep(journal, vote(23, 4, 1))
    journal.close()  # a clean stop with 23 not handled: kept
    assert [u["update_id"] for u in await UpdateJournal(directory, db, KEY).unhandled()] == [23]


async def test_a_torn_last_record_is_ignored(db: Database, tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    journal = UpdateJournal(directory, db, KEY)
    keep(journal, vote(30, 1, 0))
    keep(journal, vote(31, 2, 1))
    journal.close()
    [name] = files(directory)
    path = directory / name
    path.write_bytes(path.read_bytes()[:-10])  # the crash came mid-write
    assert [u["update_id"] for u in await UpdateJournal(directory, db, KEY).unhandled()] == [30]


async def test_the_journal_names_no_voter_and_no_choice_without_the_key(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "journal"
    journal = UpdateJournal(directory, db, KEY)
    keep(journal, vote(40, 987654321, 2), message(41, "居民电话13912345678"))
    journal.close()
    [name] = files(directory)
    raw = (directory / name).read_bytes()
    for plain in (b"987654321", b"option_ids", b"poll_answer", b"13912345678"):
        assert plain not in raw
    assert (directory / name).stat().st_mode & 0o077 == 0  # the owner's alone

    other = UpdateJournal(directory, db, b"another-key")
    with caplog.at_level(logging.ERROR):
        assert await other.unhandled() == []
    assert "could not be read" in caplog.text


async def test_an_answer_fetched_again_after_a_restart_is_kept_on_its_own(
    db: Database, tmp_path: Path
) -> None:
    """Telegram delivers again what was never confirmed: the same first update id in a new
    answer. It goes to a file of its own, not deleted with the older one."""
    directory = tmp_path / "journal"
    keep(UpdateJournal(directory, db, KEY), vote(50, 1, 0), vote(51, 2, 0))  # then a crash
    again = UpdateJournal(directory, db, KEY)
    assert [u["update_id"] for u in await again.unhandled()] == [50, 51]
    keep(again, vote(50, 1, 0), vote(51, 2, 0), vote(52, 3, 1))
    assert len(files(directory)) == 2
    async with db.uow() as uow:  # the ballot box wrote 50 and 51
        await uow.updates.record_handled([50, 51], NOW)
    again.handled([50, 51])  # the older file goes; 52 is still in the ballot box
    assert len(files(directory)) == 1
    assert [u["update_id"] for u in await UpdateJournal(directory, db, KEY).unhandled()] == [52]


async def test_an_older_vote_never_undoes_a_newer_one(db: Database, tmp_path: Path) -> None:
    """A batch of votes failed while a later one was written: putting the failed answers
    back must not override what their voters chose since."""
    directory = tmp_path / "journal"
    journal = UpdateJournal(directory, db, KEY)
    keep(journal, vote(60, 1, 0), vote(61, 2, 0), vote(62, 3, 0))  # this batch failed
    keep(journal, vote(63, 1, 2), vote(64, 4, 1))  # the voters' next answers: written
    async with db.uow() as uow:
        await uow.updates.record_handled([63, 64], NOW)
    back = await UpdateJournal(directory, db, KEY).unhandled()
    assert [u["update_id"] for u in back] == [61, 62]  # not 60: voter 1 chose again (63)


async def test_an_older_vote_delivered_again_after_a_restart_is_stopped(
    db: Database, tmp_path: Path
) -> None:
    """The bot died before telling Telegram that two answers of one voter arrived: the newer
    comes back from the journal, and Telegram delivers both again. The older one must then
    be a duplicate (recorded as handled), or it would undo the newer."""
    directory = tmp_path / "journal"
    journal = UpdateJournal(directory, db, KEY)
    keep(journal, vote(70, 1, 0), vote(71, 1, 2))  # chose, then changed; neither written
    back = await UpdateJournal(directory, db, KEY).unhandled()
    assert [u["update_id"] for u in back] == [71]
    async with db.uow() as uow:
        assert await uow.updates.handled_among([70, 71]) == {70}  # 71 is still to be written


async def test_an_update_that_wrote_nothing_is_not_put_back_after_a_later_one_of_its_chat(
    db: Database, tmp_path: Path
) -> None:
    """/pledge showed the open draft (nothing written, so not recorded), then the member
    submitted it (recorded); the bot died before the journal forgot the /pledge. Put back,
    it would open a new draft: a chat's updates are handled in order, so it was handled."""
    directory = tmp_path / "journal"
    journal = UpdateJournal(directory, db, KEY)
    other = message(82, "/help")
    other["message"]["chat"] = {"id": 8, "type": "private"}  # type: ignore[index]
    keep(journal, message(80, "/pledge"), message(81, "提交"), other)
    async with db.uow() as uow:
        await uow.updates.record_handled([81], NOW)
    back = await UpdateJournal(directory, db, KEY).unhandled()
    assert [u["update_id"] for u in back] == [82]  # another chat's: put back
    async with db.uow() as uow:
        assert await uow.updates.handled_among([80, 81, 82]) == {80, 81}
