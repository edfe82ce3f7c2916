"""The first tick on a big database works in slices: a member is answered while it runs (the
event loop is given back inside its loops over rows, not only between its statements), and
it writes the items' watermarks a bounded transaction at a time, so a crash between two
leaves nothing sent twice."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from bot.domain import reminders
from bot.domain.clock import FakeClock
from storage import pace
from storage import schema as s
from storage.db import Database
from tests.loop_steps import counting_suspensions
from tests.storage.test_reminders import MEMBER_TG, TZ, Killed, _pending, _service, setup

__all__ = ["setup"]  # the fixture: 王建国's published pledge, his secretary

DEADLINE = date(2026, 6, 10)  # four days after the tick: a "soon" reminder each


async def more_items(db: Database, count: int) -> list[int]:
    """``count`` more items on 王建国's published pledge, all due on DEADLINE."""
    async with db.uow() as uow:
        conn = uow.orgs.conn
        pledge_id = (
            await conn.execute(select(s.pledges.c.id).where(s.pledges.c.number.is_not(None)))
        ).scalar_one()
        await conn.execute(
            insert(s.pledge_items),
            [
                {
                    "pledge_id": pledge_id,
                    "position": 10 + n,
                    "category": "serve",
                    "content": f"走访第{n}户",
                    "target": "完成",
                    "deadline": DEADLINE,
                    "responsible": "王建国",
                }
                for n in range(count)
            ],
        )
        rows = await conn.execute(
            select(s.pledge_items.c.id).where(s.pledge_items.c.deadline == DEADLINE)
        )
        return [int(i) for (i,) in rows]


async def watermarks(db: Database, item_ids: list[int]) -> list[date | None]:
    async with db.read() as uow:
        rows = await uow.orgs.conn.execute(
            select(s.pledge_items.c.remind_from).where(s.pledge_items.c.id.in_(item_ids))
        )
        return [day for (day,) in rows]


async def test_a_crash_between_watermark_chunks_sends_nothing_twice(
    setup: tuple[Database, FakeClock], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, clock = setup
    items = await more_items(db, 50)
    monkeypatch.setattr(reminders, "FLUSH_ROWS", 7)
    written = 0
    real = reminders.ReminderService._watermarks

    async def dies_in_the_third(
        service: reminders.ReminderService, marks: list[tuple[date, list[int]]]
    ) -> None:
        nonlocal written
        written += 1
        if written == 3:
            raise Killed
        await real(service, marks)

    monkeypatch.setattr(reminders.ReminderService, "_watermarks", dies_in_the_third)
    with pytest.raises(Killed):
        await _service(db, clock).tick()
    # Every reminder is in; two chunks of watermarks were written before the crash.
    first = await _pending(db, MEMBER_TG, clock)
    assert sum("还有 4 天" in text for text in first) == 50
    assert sorted(map(str, await watermarks(db, items))) == ["2026-06-09"] * 14 + ["None"] * 36

    # The restarted bot's tick: nothing twice, and every watermark is written.
    monkeypatch.setattr(reminders.ReminderService, "_watermarks", real)
    clock.advance(timedelta(minutes=5))
    await _service(db, clock).tick()
    assert await _pending(db, MEMBER_TG, clock) == []
    assert await watermarks(db, items) == [date(2026, 6, 9)] * 50


async def test_the_tick_gives_the_loop_back_inside_its_loops_over_rows(
    setup: tuple[Database, FakeClock], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a slice of nothing, each row walked gives the loop back once: over 300 items the
    tick does at least 900 times (its due items, its plan, its reminders, its watermarks),
    where between its statements alone it gave it back a few dozen times."""
    db, clock = setup
    await more_items(db, 300)
    monkeypatch.setattr(pace, "SLICE", 0.0)
    suspensions = [0]
    report = await counting_suspensions(_service(db, clock).tick(), suspensions)
    assert report.queued["soon"] == 301  # the 300 and 修水渠
    assert suspensions[0] >= 900


async def test_a_short_walk_does_not_yield(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under its slice a loop runs straight through (no cost for the small jobs)."""
    monkeypatch.setattr(pace, "SLICE", 60.0)
    pacer = pace.Pacer()
    assert [n async for n in pace.paced(range(1000), pacer)] == list(range(1000))
    assert pacer.yields == 0


async def test_a_long_walk_yields_every_slice() -> None:
    """A walk of 40 ms of work with a 4 ms slice lets another task in several times; the same
    walk as a plain loop lets it in never."""
    turns = 0
    walking = True

    async def other() -> None:
        nonlocal turns
        while walking:
            turns += 1
            await asyncio.sleep(0)

    def work() -> None:  # a millisecond of Python, as a row of a big job takes a few µs
        until = datetime.now(TZ) + timedelta(milliseconds=1)
        while datetime.now(TZ) < until:
            pass

    task = asyncio.create_task(other())
    await asyncio.sleep(0)
    before = turns
    for _ in range(40):
        work()
    plain = turns - before

    pacer = pace.Pacer(0.004)
    before = turns
    async for _ in pace.paced(range(40), pacer):
        work()
    paced_turns = turns - before
    walking = False
    await task
    assert plain == 0
    assert pacer.yields >= 5 and paced_turns >= 5
