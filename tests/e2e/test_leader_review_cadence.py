"""The leader-review cadence through the real scheduler with a fake clock: the quarterly slot
reminds each reviewer once of who is still due, and a restart sends nothing twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain.clock import FakeClock
from bot.playground.simulator import BotApiSimulator
from tests.e2e.harness import World, ticking_world

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def timed_world(sim: BotApiSimulator, tmp_path: Path) -> AsyncIterator[World]:
    async with ticking_world(sim, tmp_path, datetime(2026, 9, 20, 10, 0, tzinfo=TZ)) as world:
        yield world


async def test_quarterly_review_reminder_once_naming_who_is_due(timed_world: World) -> None:
    world = timed_world
    clock = world.runner.clock
    assert isinstance(clock, FakeClock)
    leader = await world.join("陈国平")
    secretary = await world.join("沈宝方")

    # The day before the slot the leader reviews 黄思村 for the third quarter.
    listing = await leader.send("/comment", expect="2026年第三季度")
    assert "✓ 季度" in [b.text for b in listing.iter_buttons()]
    await leader.tap("🏢 黄思村党总支", expect="点评周期：2026年第三季度")
    await leader.tap("较好", expect="请写下点评意见")
    await leader.send("承诺公开及时，进展记录完整。", expect="需要整改的地方")
    await leader.tap("无需整改", expect="请核对")
    await leader.tap("确认发送", expect="已保存")
    await secretary.receive("陈国平对黄思村党总支的2026年第三季度点评")
    assert leader.seen("一季一点评") == 0

    clock.set(datetime(2026, 9, 21, 10, 0, tzinfo=TZ))  # the campaign's second leader review
    reminder = await leader.receive("一季一点评")
    assert "1 个支部" in reminder.content and "东园社区党支部" in reminder.content
    assert "黄思村党总支" not in reminder.content
    nudge = await secretary.receive("一季一点评")
    assert "4 名党员" in nudge.content and "王建国" in nudge.content

    await world.runner.restart()
    clock.advance(timedelta(hours=5))
    await world.ticked()  # a whole tick at the new time, and what it queued sent
    assert leader.seen("一季一点评") == 1
    assert secretary.seen("一季一点评") == 1
