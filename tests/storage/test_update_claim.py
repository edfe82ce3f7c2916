"""An update is recorded as handled in the transaction of its effects: a crash before the
commit leaves it to be handled again, a redelivery after changes nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage.db import Database
from storage.update_claim import UpdateSeenBefore

NOW = datetime(2026, 11, 22, 8, tzinfo=UTC)
UPDATE = 4242


class Killed(Exception):
    """The process dies here (its transaction never commits)."""


async def mute(db: Database, person_id: int) -> None:
    """An effect of an update: one write."""
    async with db.uow() as uow:
        await uow.kv.put_many({("effects", str(person_id)): {"muted": True}})


async def effects(db: Database) -> dict[str, object]:
    async with db.read() as uow:
        return await uow.kv.get_namespace("effects")


async def handled(db: Database) -> bool:
    async with db.read() as uow:
        return await uow.updates.seen(UPDATE)


async def test_a_crash_before_the_commit_leaves_the_update_to_be_handled_again(
    db: Database,
) -> None:
    with db.one_update(UPDATE, NOW), pytest.raises(Killed):
        async with db.uow() as uow:
            await uow.kv.put_many({("effects", "7"): {"muted": True}})
            raise Killed
    assert not await handled(db)  # the journal puts it back at the next start
    assert await effects(db) == {}
    with db.one_update(UPDATE, NOW):
        await mute(db, 7)
    assert await handled(db)
    assert await effects(db) == {"7": {"muted": True}}


async def test_a_redelivered_update_changes_nothing_twice(db: Database) -> None:
    with db.one_update(UPDATE, NOW):
        await mute(db, 7)
    with db.one_update(UPDATE, NOW), pytest.raises(UpdateSeenBefore):
        await mute(db, 8)  # the same update, handled again: its work is rolled back
    assert await effects(db) == {"7": {"muted": True}}


async def test_reads_do_not_record_an_update(db: Database) -> None:
    """/help writes nothing: it is not recorded (handling it again changes nothing)."""
    with db.one_update(UPDATE, NOW):
        async with db.read() as uow:
            await uow.people.by_tg(1)
        async with db.uow() as uow:
            await uow.people.by_tg(1)  # a writer that only read
    assert not await handled(db)


async def test_a_second_write_of_the_same_update_does_not_stop_it(db: Database) -> None:
    with db.one_update(UPDATE, NOW):
        await mute(db, 7)
        await mute(db, 8)
    assert await effects(db) == {"7": {"muted": True}, "8": {"muted": True}}
