"""One reminder tick decides at one moment. The tick checks the quiet hours when it begins and
then reads for a while (long on a busy database server); the rectification nudges it queues at
the end must not look at the clock again, or the hour that struck in between sends a nudge
into the night, in a week the quiet-hours check never saw."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain.campaign_calendar import load_calendar
from bot.domain.clock import FakeClock
from bot.domain.reminders import ReminderService
from storage import schema as s
from storage.db import Database
from tests.storage.test_rectification import ACCOUNTS, NOW, TZ, closed_evaluation, ids

__all__ = ["ids"]  # the roster fixture, shared with the rectification tests


class StrikingClock(FakeClock):
    """A fake clock on which, once ``strike`` is set, that moment arrives right after the next
    reading: the time moves on while whoever read it is still at work."""

    strike: datetime | None = None

    def now(self) -> datetime:
        moment = super().now()
        if self.strike is not None:
            self.set(self.strike)
            self.strike = None
        return moment


@pytest.fixture
def clock() -> StrikingClock:
    return StrikingClock(NOW)


async def late_nudges(db: Database) -> list[dict[str, Any]]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            select(s.outbox.c.payload)
            .where(s.outbox.c.chat_id == ACCOUNTS["王建国"])
            .order_by(s.outbox.c.id)  # in the order they were queued, on either engine
        )
        return [p for (p,) in rows if "整改方案还没有提交" in p.get("text", "")]


async def test_ten_oclock_striking_during_a_tick_sends_no_nudge_into_the_night(
    db: Database, clock: StrikingClock, ids: dict[str, int]
) -> None:
    # 王建国 fell under the mark on 25 September; his plan was due on 9 October.
    await closed_evaluation(db, clock, ids, [("王建国", 800)])
    reminders = ReminderService(db, clock, load_calendar())
    clock.set(datetime(2026, 10, 17, 10, 0, tzinfo=TZ))
    await reminders.tick()
    [nudge] = await late_nudges(db)
    assert "已过 8 天" in nudge["text"]

    # Friday 21:59, the same week of lateness: nothing new is due. While the tick reads,
    # Saturday 22:00 strikes: a new week, but the quiet hours.
    clock.set(datetime(2026, 10, 23, 21, 59, tzinfo=TZ))
    clock.strike = datetime(2026, 10, 24, 22, 0, tzinfo=TZ)
    await reminders.tick()
    assert len(await late_nudges(db)) == 1

    # The new week's nudge comes in the morning.
    clock.set(datetime(2026, 10, 25, 8, 30, tzinfo=TZ))
    await reminders.tick()
    assert ["已过 16 天" in n["text"] for n in await late_nudges(db)] == [False, True]
