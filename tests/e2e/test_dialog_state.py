"""A dialog lives in the database (bot/chat/dialogs.py): an answer is stored by the time the
person sees the next question, so a new Application on the same database (a restart, another
worker) goes on from it; a dialog left waiting ends, and the person is told what is kept."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.chat.dialogs import DialogState
from bot.domain.clock import FakeClock
from bot.playground.simulator import BotApiSimulator
from tests.e2e.flows import only_pledge
from tests.e2e.harness import WAIT, BotRunner, Human, World, make_settings

START = datetime(2026, 9, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
async def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def world(sim: BotApiSimulator, tmp_path: Path, clock: FakeClock) -> AsyncIterator[World]:
    settings = make_settings(tmp_path, sim)
    runner = BotRunner(settings, clock=clock)
    w = World(sim=sim, settings=settings, runner=runner, tmp=tmp_path)
    await w.import_demo()
    await runner.start()
    try:
        yield w
    finally:
        await runner.stop()


async def dialogs_of(world: World, human: Human) -> list[DialogState]:
    async with world.db.read() as uow:
        person = await uow.people.by_tg(human.user_id)
        assert person is not None
        return await uow.dialogs.of_person(person.id)


async def wait_until(read: Callable[[], Awaitable[object]], wanted: object) -> None:
    """Until ``read()`` gives ``wanted`` (at most WAIT seconds)."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while (found := await read()) != wanted:
        assert asyncio.get_running_loop().time() < deadline, found
        await asyncio.sleep(0.02)


async def at_the_content_question(member: Human) -> None:
    await member.send("/pledge", expect="请选择承诺类型")
    await member.tap("年度承诺", expect="第 1 项")
    await member.tap("带头学习提高", expect="承诺内容")


async def test_a_new_application_goes_on_from_the_step_in_the_database(world: World) -> None:
    member = await world.join("王建国")
    await at_the_content_question(member)
    await member.send("每月参加支部学习", expect="可以检查的目标")
    # Stored before the question was asked: no flush that a crash could miss.
    (dialog,) = await dialogs_of(world, member)
    draft = await only_pledge(world, member)
    assert (dialog.name, dialog.data) == ("pledge_draft", {"pledge_id": draft.id})

    await world.runner.restart()  # a new Application on the same database
    await member.send("全年不少于12次", expect="完成时限")
    pending = (await only_pledge(world, member)).pending_item
    assert pending is not None and pending.target == "全年不少于12次"


async def test_a_draft_left_waiting_ends_and_says_it_is_kept(
    world: World, clock: FakeClock
) -> None:
    member = await world.join("王建国")
    await at_the_content_question(member)
    clock.advance(timedelta(hours=1, minutes=1))
    await member.send("每月参加支部学习", expect="草稿已保存，发送 /pledge 可以继续")
    await member.receive("我没有看懂")  # the words came after the dialog ended: not taken
    await wait_until(lambda: dialogs_of(world, member), [])  # written as the update ends
    assert (await only_pledge(world, member)).pending_item is not None  # the draft is kept

    resumed = await member.send("/pledge", expect="承诺内容")
    assert member.seen("草稿已保存，发送 /pledge 可以继续") == 1  # said once, not again
    assert resumed.content.startswith("第 1 项")
    await member.send("每月参加支部学习", expect="可以检查的目标")


async def test_in_english_the_expiry_is_english(world: World, clock: FakeClock) -> None:
    member = await world.join("王建国", language_code="en")
    await member.send("/pledge", expect="type of pledge")
    clock.advance(timedelta(hours=2))
    await member.send("/help", expect="Your draft is saved; send /pledge to continue")
    await member.receive("/pledge")  # /help itself is answered too
