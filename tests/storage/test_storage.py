"""Repositories and the unit of work on a real SQLite file."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from bot.domain.clock import FakeClock
from bot.domain.names import name_key
from bot.domain.roster import load_roster
from bot.domain.roster_import import import_roster
from storage.db import Database

DEMO = Path(__file__).resolve().parents[2] / "bot" / "playground" / "demo"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 5, 9, 30, tzinfo=SHANGHAI)


async def _seed(db: Database) -> None:
    await import_roster(db, FakeClock(NOW), load_roster(DEMO / "orgs.csv", DEMO / "people.csv"))


async def test_migrations_are_idempotent_and_sqlite_runs_in_wal_mode(db: Database) -> None:
    await db.migrate()
    async with db.engine.connect() as conn:
        version = (
            await conn.execute(text("SELECT version_num FROM alembic_version"))
        ).scalar_one()
        if conn.dialect.name == "sqlite":
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
    assert version == "0014"


async def test_roster_import_upserts_by_identity(db: Database) -> None:
    await _seed(db)
    async with db.uow() as uow:
        first = await uow.people.identity_map()
        orgs = await uow.orgs.all()
    await _seed(db)  # the same files again: nothing duplicated
    async with db.uow() as uow:
        assert await uow.people.identity_map() == first
        assert len(await uow.orgs.all()) == len(orgs)
        hs = await uow.orgs.by_code("XH-HS")
        xh = await uow.orgs.by_code("XH")
        assert hs is not None and xh is not None and hs.parent_id == xh.id
        assert [o.code for o in await uow.orgs.ancestors(hs.id)] == ["XH"]
        jx = await uow.orgs.by_code("XH-JX")
        assert jx is not None
        mobile = next(p for p in await uow.people.in_org(jx.id) if p.name == "唐勇")
        assert mobile.origin_org_id == hs.id


async def test_unit_of_work_rolls_back_everything_on_error(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.uow() as uow:
            await uow.orgs.upsert_many([{"code": "T1", "name": "测试", "type": "rural"}])
            raise RuntimeError("boom")
    async with db.uow() as uow:
        assert await uow.orgs.by_code("T1") is None


async def test_datetimes_come_back_aware_and_naive_ones_are_refused(db: Database) -> None:
    await _seed(db)
    async with db.uow() as uow:
        person = (await uow.people.in_org((await uow.orgs.by_code("XH-HS")).id))[0]  # type: ignore[union-attr]
        await uow.invites.add_many(
            [{"code": "abc", "person_id": person.id, "created_at": NOW, "expires_at": NOW}]
        )
    async with db.uow() as uow:
        invite = await uow.invites.get("abc")
    assert invite is not None and invite.created_at == NOW
    assert invite.created_at.tzinfo is not None
    # Stored as UTC on both engines (09:30 in Shanghai is 01:30 UTC), whatever the zone of
    # the server or its session: an export or another reader sees the same instant.
    async with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            await conn.exec_driver_sql("SET TIME ZONE 'America/New_York'")
        raw = await conn.exec_driver_sql("SELECT created_at FROM invites WHERE code = 'abc'")
        assert str(raw.scalar_one()).startswith("2026-06-05 01:30:00")
    with pytest.raises(Exception, match="naive"):
        async with db.uow() as uow:
            await uow.invites.add_many(
                [
                    {
                        "code": "naive",
                        "person_id": person.id,
                        "created_at": datetime(2026, 1, 1),  # noqa: DTZ001 - refused on purpose
                        "expires_at": NOW,
                    }
                ]
            )


async def test_invite_is_used_once_even_under_a_race(db: Database) -> None:
    await _seed(db)
    async with db.uow() as uow:
        person = (await uow.people.in_org((await uow.orgs.by_code("XH-HS")).id))[0]  # type: ignore[union-attr]
        await uow.invites.add_many(
            [{"code": "once", "person_id": person.id, "created_at": NOW, "expires_at": NOW}]
        )

    async def use(tg: int) -> bool:
        async with db.uow() as uow:
            return await uow.invites.mark_used("once", NOW, tg)

    results = await asyncio.gather(use(1), use(2), use(3))
    assert sorted(results) == [False, False, True]


async def test_pledge_numbers_are_sequential_per_prefix(db: Database) -> None:
    async with db.uow() as uow:
        numbers = [await uow.pledges.next_number("XH-HS-2026") for _ in range(3)]
        other = await uow.pledges.next_number("XH-DY-2026")
    assert numbers == ["XH-HS-2026-0001", "XH-HS-2026-0002", "XH-HS-2026-0003"]
    assert other == "XH-DY-2026-0001"


async def test_pledge_with_items_and_version_check(db: Database) -> None:
    await _seed(db)
    async with db.uow() as uow:
        hs = await uow.orgs.by_code("XH-HS")
        assert hs is not None
        member = (await uow.people.in_org(hs.id, ["member"]))[0]
        pid = await uow.pledges.create(
            pledger_kind="member",
            person_id=member.id,
            org_id=hs.id,
            drafter_id=member.id,
            horizon="annual",
            status="draft",
            version=1,
            created_at=NOW,
            updated_at=NOW,
        )
        for content in ("甲", "乙", "丙"):
            await uow.pledges.add_item(
                pid,
                category="study",
                content=content,
                target="t",
                deadline=date(2026, 12, 31),
                responsible=member.name,
            )
    async with db.uow() as uow:
        pledge = await uow.pledges.get(pid)
        assert pledge is not None
        assert [i.content for i in pledge.items] == ["甲", "乙", "丙"]
        assert [i.position for i in pledge.items] == [1, 2, 3]
        assert await uow.pledges.update(pid, expected_version=1, version=2)
        assert not await uow.pledges.update(pid, expected_version=1, version=3)  # stale
        assert await uow.pledges.remove_item(pid, pledge.items[1].id)
    async with db.uow() as uow:
        again = await uow.pledges.get(pid)
        assert again is not None and [i.content for i in again.items] == ["甲", "丙"]
        assert again.version == 2


async def test_outbox_rows_settle_and_posted_refs_are_remembered(db: Database) -> None:
    from bot.domain.notify import message_row

    async with db.uow() as uow:
        await uow.outbox.add(message_row(42, "你好", NOW, ref="board:pledge:1"))
    async with db.uow() as uow:
        due = await uow.outbox.due(NOW, 10)
        assert [r.payload["text"] for r in due] == ["你好"]
        await uow.outbox.postpone(due[0].id, NOW + timedelta(seconds=5), 1, "429")
        await uow.outbox.mark_sent(due[0].id, 7, NOW.astimezone(UTC))
        await uow.outbox.remember_posted("board:pledge:1", 42, 7)
        await uow.outbox.remember_posted("board:pledge:1", 42, 8)
    async with db.uow() as uow:
        assert await uow.outbox.counts() == {"sent": 1}
        assert await uow.outbox.posted("board:pledge:1") == (42, 8)


async def test_update_ids_are_claimed_once(db: Database) -> None:
    async with db.uow() as uow:
        assert await uow.updates.claim(5, NOW)
    async with db.uow() as uow:
        assert not await uow.updates.claim(5, NOW)


async def test_a_postponed_chat_waits_in_order_and_does_not_block_others(db: Database) -> None:
    from bot.domain.notify import message_row

    async with db.uow() as uow:
        for n in range(5):
            await uow.outbox.add(message_row(1, f"a{n}", NOW))
        await uow.outbox.add(message_row(2, "b0", NOW))
    async with db.uow() as uow:
        first = (await uow.outbox.due(NOW, 1))[0]
        assert first.payload["text"] == "a0"
        await uow.outbox.postpone(first.id, NOW + timedelta(seconds=30), 1, "429")
    async with db.uow() as uow:
        due = await uow.outbox.due(NOW, 3)
    assert [r.payload["text"] for r in due] == ["b0"]  # chat 1 waits behind a0
    async with db.uow() as uow:
        later = await uow.outbox.due(NOW + timedelta(seconds=31), 10)
    assert [r.payload["text"] for r in later] == ["a0", "a1", "a2", "a3", "a4", "b0"]


async def test_old_update_ids_are_pruned(db: Database) -> None:
    async with db.uow() as uow:
        await uow.updates.claim(1, NOW - timedelta(days=5))
        await uow.updates.claim(2, NOW)
        assert await uow.updates.prune(NOW - timedelta(days=3)) == 1
        assert await uow.updates.claim(1, NOW)
        assert not await uow.updates.claim(2, NOW)


async def test_people_of_a_branch_come_by_pinyin(db: Database) -> None:
    """The database orders names with the same key as Python (storage/db.py registers it)."""
    clock = FakeClock(datetime(2026, 3, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    await import_roster(db, clock, load_roster(DEMO / "orgs.csv", DEMO / "people.csv"))
    async with db.uow() as uow:
        org = await uow.orgs.by_code("XH-HS")
        assert org is not None
        names = [p.name for p in await uow.people.in_org(org.id)]
    assert len(names) > 5
    assert names == sorted(names, key=name_key) and names != sorted(names)


async def test_a_branch_lists_rare_surnames_and_latin_names_in_pinyin_order(db: Database) -> None:
    """SQLite sorts by name_key, PostgreSQL by ICU's zh collation: the same list either way."""
    names = ["周杰", "Anna", "闫华", "邬强", "岑波", "蔺军", "褚明", "覃丽", "喆", "堃", "阿明"]
    async with db.uow() as uow:
        await uow.orgs.upsert_many([{"code": "T1", "name": "测试支部", "type": "rural"}])
        org = await uow.orgs.by_code("T1")
        assert org is not None
        for n, name in enumerate(names):
            await uow.people.create(
                name=name,
                org_id=org.id,
                role="member",
                phone=f"1390000{n:04d}",
                locale="zh_CN",
                created_at=NOW,
                updated_at=NOW,
            )
    async with db.uow() as uow:
        listed = [p.name for p in await uow.people.in_org(org.id)]
    assert listed == [
        "阿明",
        "岑波",
        "褚明",
        "堃",
        "蔺军",
        "覃丽",
        "邬强",
        "闫华",
        "喆",
        "周杰",
        "Anna",
    ]


async def test_a_database_url_with_a_percent_sign_migrates(tmp_path: Path) -> None:
    """Alembic reads its URL option through configparser, where % starts an interpolation: an
    escaped character in a password or socket path (%40, %2F), or a file name, must pass."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'branch%20A.db'}")
    try:
        await database.migrate()
        async with database.uow() as uow:
            assert await uow.orgs.all() == []
    finally:
        await database.dispose()
