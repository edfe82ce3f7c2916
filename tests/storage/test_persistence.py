"""PTB persistence in the kv table: what a flush writes, in how many transactions, and failures."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event

from storage.db import Database
from storage.persistence import DbPersistence


def count_commits(db: Database) -> list[int]:
    """A one-element list counting the transactions committed from now on."""
    commits = [0]

    @event.listens_for(db.engine.sync_engine, "commit")
    def on_commit(_conn: Any) -> None:
        commits[0] += 1

    return commits


async def test_a_flush_is_one_transaction(db: Database) -> None:
    persistence = DbPersistence(db)
    await persistence.get_user_data()
    commits = count_commits(db)
    # What PTB's update_persistence does: every write of the flush gathered at once.
    await asyncio.gather(
        *(persistence.update_conversation("progress", (n, n), "WAIT_TEXT") for n in range(50)),
        persistence.update_user_data(7, {"draft": "今晚走访两户独居老人"}),
        persistence.update_user_data(8, {}),  # empty, never stored: no write at all
    )
    assert commits[0] == 1
    fresh = DbPersistence(db)
    conversations = await fresh.get_conversations("progress")
    assert conversations == {(n, n): "WAIT_TEXT" for n in range(50)}
    assert await fresh.get_user_data() == {7: {"draft": "今晚走访两户独居老人"}}


async def test_later_writes_win_and_ended_conversations_are_dropped(db: Database) -> None:
    persistence = DbPersistence(db)
    await persistence.get_user_data()
    await persistence.update_conversation("progress", (1, 1), "PICK")
    await persistence.update_conversation("progress", (2, 2), "PICK")
    await asyncio.gather(
        persistence.update_conversation("progress", (1, 1), "WAIT_TEXT"),
        persistence.update_conversation("progress", (2, 2), None),  # ended
    )
    # The same key twice in one turn: the last write is what is stored.
    await asyncio.gather(
        persistence.update_conversation("draft", (3, 3), "A"),
        persistence.update_conversation("draft", (3, 3), "B"),
    )
    fresh = DbPersistence(db)
    assert await fresh.get_conversations("progress") == {(1, 1): "WAIT_TEXT"}
    assert await fresh.get_conversations("draft") == {(3, 3): "B"}


async def test_user_data_is_replaced_and_dropped(db: Database) -> None:
    persistence = DbPersistence(db)
    await persistence.get_user_data()
    await persistence.update_user_data(5, {"a": 1})
    await persistence.update_user_data(5, {"a": 2, "b": [1, 2]})
    assert await DbPersistence(db).get_user_data() == {5: {"a": 2, "b": [1, 2]}}
    await persistence.update_user_data(5, {})  # emptied: the stored row goes
    assert await DbPersistence(db).get_user_data() == {}


async def test_batches_commit_in_the_order_they_were_asked(db: Database) -> None:
    persistence = DbPersistence(db)
    await persistence.get_user_data()
    first = asyncio.ensure_future(persistence.update_conversation("c", (1, 1), "first"))
    await asyncio.sleep(0)  # the first batch is on its way
    second = asyncio.ensure_future(persistence.update_conversation("c", (1, 1), "second"))
    await asyncio.gather(first, second)
    assert await DbPersistence(db).get_conversations("c") == {(1, 1): "second"}


async def test_a_failed_batch_reaches_every_writer_and_writes_nothing(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    persistence = DbPersistence(db)
    await persistence.get_user_data()
    await persistence.update_conversation("c", (9, 9), "kept")
    from storage.repositories import KvRepo

    real = KvRepo.put_many

    async def half_then_fail(self: KvRepo, writes: Any) -> None:
        await real(self, writes)  # written inside the transaction, then it fails
        raise RuntimeError("disk full")

    monkeypatch.setattr(KvRepo, "put_many", half_then_fail)
    results = await asyncio.gather(
        persistence.update_conversation("c", (9, 9), None),
        persistence.update_conversation("c", (1, 1), "lost"),
        return_exceptions=True,
    )
    assert [str(r) for r in results] == ["disk full", "disk full"]
    monkeypatch.setattr(KvRepo, "put_many", real)
    # Rolled back as a whole: the old state is still there, the new one is not.
    assert await DbPersistence(db).get_conversations("c") == {(9, 9): "kept"}
    # The next flush works again.
    await persistence.update_conversation("c", (1, 1), "again")
    assert await DbPersistence(db).get_conversations("c") == {(9, 9): "kept", (1, 1): "again"}
