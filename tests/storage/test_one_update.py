"""Database.one_update: an account's person is read once per update, never stale after a write."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event

from storage.db import Database

TG = 4242
# SQLite binds with ?, asyncpg with $1.
ONE_PERSON = re.compile(r"WHERE people\.id = (\?|\$\d+|\(SELECT accounts\.person_id)")


def count_person_reads(db: Database) -> list[int]:
    """A one-element list counting the statements that read one person (by account or id)."""
    reads = [0]

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def on_execute(*args: Any) -> None:
        statement = args[2]
        if statement.startswith("SELECT") and ONE_PERSON.search(statement):
            reads[0] += 1

    return reads


async def seed(db: Database, tg: int | None = TG) -> int:
    now = datetime(2026, 11, 22, tzinfo=UTC)
    async with db.uow() as uow:
        await uow.orgs.upsert_many([{"code": "XH-HS", "name": "黄思村党支部", "type": "rural"}])
        org = await uow.orgs.by_code("XH-HS")
        assert org is not None
        person = await uow.people.create(
            name="沈宝方",
            org_id=org.id,
            role="secretary",
            phone="13900000001",
            locale="zh_CN",
            created_at=now,
            updated_at=now,
        )
        if tg is not None:
            await uow.people.bind(person.id, tg, "zh_CN", now)
    return person.id


async def test_one_read_per_update_and_every_read_outside_one(db: Database) -> None:
    pid = await seed(db)
    reads = count_person_reads(db)
    with db.one_update():
        for _ in range(3):  # the language, then two services' permission checks
            async with db.uow() as uow:
                person = await uow.people.by_tg(TG)
                assert person is not None and person.name == "沈宝方"
                assert await uow.people.get(person.id) == person  # by id: the same read
    assert reads[0] == 1
    for _ in range(2):  # a job or the outbox: no update, no sharing
        async with db.uow() as uow:
            await uow.people.by_tg(TG)
    assert reads[0] == 3
    with db.one_update():  # asked by id first, then by account (the roster entry does not
        async with db.uow() as uow:  # say which accounts it has: one more read)
            assert await uow.people.get(pid) is not None
            assert await uow.people.get(pid + 1) is None  # no such person: remembered too
        async with db.uow() as uow:
            assert await uow.people.by_tg(TG) is not None
            assert await uow.people.get(pid + 1) is None
            assert await uow.people.get(pid) is not None
    assert reads[0] == 6


async def test_a_write_in_the_update_is_seen_by_its_next_read(db: Database) -> None:
    pid = await seed(db)
    with db.one_update():
        async with db.uow() as uow:
            person = await uow.people.by_tg(TG)
            assert person is not None and person.locale == "zh_CN"
        async with db.uow() as uow:  # /lang en
            await uow.people.set_locale(pid, "en")
        async with db.uow() as uow:
            person = await uow.people.by_tg(TG)
            assert person is not None and person.locale == "en"


async def test_an_unbound_account_is_seen_once_bound(db: Database) -> None:
    pid = await seed(db, tg=None)
    with db.one_update():  # /start <invite>: unknown, then bound, then greeted
        async with db.uow() as uow:
            assert await uow.people.by_tg(TG) is None
            await uow.people.bind(pid, TG, "zh_CN")
        async with db.uow() as uow:
            person = await uow.people.by_tg(TG)
            assert person is not None and person.id == pid


async def test_a_rolled_back_write_is_never_remembered(db: Database) -> None:
    pid = await seed(db)
    with db.one_update():
        with pytest.raises(RuntimeError):
            async with db.uow() as uow:
                await uow.people.set_locale(pid, "en")
                person = await uow.people.by_tg(TG)  # its own, uncommitted write
                assert person is not None and person.locale == "en"
                raise RuntimeError("refused")
        async with db.uow() as uow:
            person = await uow.people.by_tg(TG)
            assert person is not None and person.locale == "zh_CN"
