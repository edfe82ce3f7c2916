"""Reminders through the real scheduler (short period) and the pledge window, end to end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain.clock import FakeClock
from bot.playground.simulator import BotApiSimulator
from tests.e2e.flows import button_data, draft_one_item_pledge
from tests.e2e.harness import BotRunner, World, make_settings, ticking_world

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def timed_world(sim: BotApiSimulator, tmp_path: Path) -> AsyncIterator[World]:
    async with ticking_world(sim, tmp_path, datetime(2026, 6, 6, 10, 0, tzinfo=TZ)) as world:
        yield world


async def test_a_restart_across_the_due_time_sends_the_reminder_once(
    timed_world: World,
) -> None:
    world = timed_world
    clock = world.runner.clock
    assert isinstance(clock, FakeClock)
    member = await world.join("王建国")
    secretary = await world.join("沈宝方")
    await draft_one_item_pledge(member, content="修复三组水渠", deadline="2026-06-14")
    await member.tap("提交审核", expect="已提交审核")
    await secretary.receive("提交了承诺")
    await secretary.tap("通过", expect="已通过")
    await member.receive("审核通过")
    assert member.seen("还有") == 0  # 8 days away: not yet

    await world.runner.stop()
    clock.advance(timedelta(days=1))  # the reminder falls due while the bot is down
    await world.runner.start()
    await member.receive("修复三组水渠」还有 7 天到期")

    await world.runner.restart()
    await world.ticked()  # a whole tick after the restart, and what it queued sent
    assert member.seen("还有 7 天到期") == 1


async def test_annual_pledges_wait_for_the_pledge_window(
    sim: BotApiSimulator, tmp_path: Path
) -> None:
    clock = FakeClock(datetime(2026, 11, 21, 10, 0, tzinfo=TZ))
    settings = make_settings(tmp_path, sim, enforce_pledge_window=None)
    runner = BotRunner(settings, clock=clock)
    world = World(sim=sim, settings=settings, runner=runner, tmp=tmp_path)
    await world.import_demo()
    await runner.start()
    try:
        member = await world.join("王建国")
        await draft_one_item_pledge(member, horizon="年度承诺")
        summary = member.last()
        refusal = await member.tap_for_alert(summary, button_data(summary, "提交审核"))
        assert "公开承诺期内" in refusal and "2027年6月5日 至 2027年6月10日" in refusal
        await member.send("/pledge", expect="请核对")
        await member.tap("放弃草稿", expect="草稿已删除")
        await draft_one_item_pledge(member, horizon="即时承诺")
        await member.tap("提交审核", expect="已提交审核")
    finally:
        await runner.stop()
