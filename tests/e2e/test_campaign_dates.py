"""Dates people see are the campaign's (Asia/Shanghai), not UTC: stories that run in the
early morning in Beijing, when it is still the day before in UTC."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain.clock import FakeClock
from bot.playground.simulator import BotApiSimulator
from tests.e2e.harness import BotRunner, World, make_settings
from tests.e2e.test_rectification import closed_evaluation, file_plan

TZ = ZoneInfo("Asia/Shanghai")
# Tomorrow at 07:30 in Beijing (the invites the demo issues are valid from today): 23:30 UTC
# the day before. Beijing's day and UTC's differ until 08:00.
DAY = datetime.now(TZ).date() + timedelta(days=1)
MORNING = datetime(DAY.year, DAY.month, DAY.day, 7, 30, tzinfo=TZ)
ZH_DAY = f"{DAY.year}年{DAY.month}月{DAY.day}日"
EN_DAY = f"{DAY.year}-{DAY.month:02d}-{DAY.day:02d}"
UTC_DAY = MORNING.astimezone(ZoneInfo("UTC")).date()


@pytest.fixture
async def world(sim: BotApiSimulator, tmp_path: Path) -> AsyncIterator[World]:
    settings = make_settings(tmp_path, sim)
    runner = BotRunner(settings, clock=FakeClock(MORNING))
    w = World(sim=sim, settings=settings, runner=runner, tmp=tmp_path)
    await w.import_demo()
    await runner.start()
    try:
        yield w
    finally:
        await runner.stop()


async def test_a_notice_sent_before_eight_in_beijing_carries_that_day(world: World) -> None:
    assert UTC_DAY != DAY  # the story runs across UTC midnight
    secretary = await world.join("沈宝方")
    wang = await world.join("王建国")
    await secretary.send("/broadcast", expect="请发送通知内容")
    await secretary.send("今天上午九点在村部集合。", expect="请选择通知对象")
    await secretary.tap("本支部党员", expect="请核对通知")
    await secretary.tap("确认发送", expect="通知已开始发送")
    await wang.receive("九点在村部集合")
    report = await secretary.receive(f"（{ZH_DAY} 发布）")
    assert f"{UTC_DAY.month}月{UTC_DAY.day}日" not in report.content
    listing = await secretary.send("/broadcasts", expect="您最近发布的通知")
    assert f"{ZH_DAY}「今天上午九点在村部集合。」" in listing.content

    # An English-speaking secretary of another branch, the same morning.
    wu = await world.join("吴静", language_code="en")
    sun = await world.join("孙立新")
    await wu.send("/broadcast", expect="Send the notice")
    await wu.send("Volunteers meet at nine.", expect="Who should receive it?")
    await wu.tap("party members of the branch", expect="Please check the notice")
    await wu.tap("✅ Send", expect="on its way")
    await sun.receive("Volunteers meet at nine")
    await wu.receive(f"(sent {EN_DAY})")
    listing = await wu.send("/broadcasts", expect="Your recent notices")
    assert f'{EN_DAY} "Volunteers meet at nine."' in listing.content


async def test_the_rectification_cites_the_day_the_evaluation_closed(world: World) -> None:
    """An evaluation due to close in three days ends early, at 07:30: the plan cites the day
    it ended, in Beijing's calendar (UTC still says the day before)."""
    secretary = await world.join("沈宝方")
    committee = await world.join("刘晓燕", language_code="en")
    await closed_evaluation(world, subjects=[(None, 850)], closes_at=MORNING + timedelta(days=3))
    await secretary.receive("黄思村党总支的满意度为 85.0%")
    await file_plan(secretary, "满意度提升到95%以上", "每周走访群众，逐项销号", "20天后")
    await committee.receive(f"mass evaluation of {EN_DAY}:")
