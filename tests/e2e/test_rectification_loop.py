"""The whole rectification loop with real ballots (issue 5: "a third [evaluation] under 90%
that runs the whole rectification loop to a passing re-evaluation").

黄思村党总支 (35 participants) is evaluated in chat, votes arrive as poll answers through the
simulator, satisfaction comes out under 90%; the secretary files a plan, the upper committee
accepts it, the deadline passes, the re-evaluation opens with the same participants and
quorum, the participants vote again, it passes, and everyone is told the loop is closed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.domain.rectification_models import RectificationStatus
from bot.playground.simulator import BotApiSimulator
from storage import schema
from tests.e2e.evaluation_support import (
    BOARD,
    TZ,
    Branch,
    evaluation_world,
    open_in_chat,
    rows,
    tick,
)
from tests.e2e.harness import World

SATISFIED, BASIC, UNSATISFIED = 0, 1, 2


@pytest.fixture
async def branch(sim: BotApiSimulator, tmp_path: Path) -> AsyncIterator[tuple[World, Branch]]:
    async for pair in evaluation_world(sim, tmp_path):
        yield pair


async def voted(world: World, evaluation_id: int, count: int) -> None:
    """Until ``count`` participants of the evaluation have voted (answers are asynchronous)."""
    p = schema.evaluation_participants
    query = (
        select(func.count())
        .select_from(p)
        .where(p.c.evaluation_id == evaluation_id, p.c.has_voted.is_(True))
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while True:
        async with world.db.engine.connect() as conn:
            seen = int((await conn.execute(query)).scalar_one())
        if seen >= count:
            return
        assert loop.time() < deadline, f"only {seen} of {count} votes recorded"
        await asyncio.sleep(0.05)


async def reminder_tick(world: World) -> None:
    """Run the reminder tick now (as its job would) and wake the outbox."""
    app = world.runner.app
    assert app is not None
    await app.bot_data.services.reminders.tick()
    app.bot_data.services.outbox.wake()


async def test_an_evaluation_under_90_runs_the_whole_loop_to_a_passing_reevaluation(
    branch: tuple[World, Branch],
) -> None:
    world, hs = branch
    people = hs.people
    secretary = people["沈宝方"]
    committee = world.people["刘晓燕"]
    await open_in_chat(secretary)
    await hs.wait_polls(35)
    [first] = await rows(world, schema.evaluations)
    voters = [people[name] for name in sorted(people)][:32]

    # 25 满意, 2 基本满意, 5 不满意: 27 / 32 = 84.4%, under the 90% pass mark.
    plan = [SATISFIED] * 25 + [BASIC] * 2 + [UNSATISFIED] * 5
    for human, choice in zip(voters, plan, strict=True):
        hs.vote(human, choice)
    await voted(world, first["id"], 32)
    hs.clock.advance(timedelta(days=3, hours=12))
    assert (await tick(world)).closed == 1

    await secretary.receive("群众评议结果")
    notice = await secretary.receive("黄思村党总支的满意度为 84.4%")
    assert "低于 90.0% 的合格线" in notice.content and "报上级党组织审核" in notice.content
    [rect] = await rows(world, schema.rectifications)
    assert rect["status"] == "due" and rect["evaluation_id"] == first["id"]

    # The plan goes to the upper committee, which accepts it.
    await secretary.tap("填写整改方案", expect="第 1 步")
    await secretary.send("群众满意度提升到95%以上", expect="第 2 步")
    await secretary.send("每个村民小组每周走访一次，问题建账、逐项销号", expect="第 3 步")
    await secretary.send("2026-10-20", expect="请核对整改方案")
    await secretary.tap("提交审核", expect="整改方案已提交")
    await committee.receive("收到整改方案")
    await committee.tap("同意方案", expect="已同意")
    await secretary.receive("审核同意")

    # The day after the deadline, the reminder tick opens the re-evaluation.
    hs.clock.set(datetime(2026, 10, 21, 9, 0, tzinfo=TZ))
    await reminder_tick(world)
    await secretary.receive("复评已开始")
    await committee.receive("复评已开始")
    await hs.wait_polls(70)
    first_row, redo = await rows(world, schema.evaluations)
    assert redo["reevaluation_of"] == first_row["id"] and redo["rectification_id"] == rect["id"]
    assert redo["quorum"] == first_row["quorum"] == 30
    by_evaluation: dict[int, set[int]] = {}
    for row in await rows(world, schema.evaluation_participants):
        by_evaluation.setdefault(row["evaluation_id"], set()).add(row["person_id"])
    assert len(by_evaluation[first_row["id"]]) == 35
    assert by_evaluation[redo["id"]] == by_evaluation[first_row["id"]]
    await reminder_tick(world)  # a second tick opens nothing more
    assert len(await rows(world, schema.evaluations)) == 2

    # The participants vote on the new ballot: 30 满意, 1 基本满意, 1 不满意 = 96.9%.
    again = [SATISFIED] * 30 + [BASIC] + [UNSATISFIED]
    for human, choice in zip(voters, again, strict=True):
        hs.vote(human, choice)
    await voted(world, redo["id"], 32)
    hs.clock.advance(timedelta(days=7, hours=1))
    assert (await tick(world)).closed == 1

    closed = await secretary.receive("整改已闭环")
    assert "96.9%" in closed.content
    told = await committee.receive("「黄思村党总支」复评满意度 96.9%")
    assert "整改已闭环" in told.content
    # The branch's board group, which saw the result, sees the rectification through.
    await hs.sim.wait_until(
        lambda: any(
            "黄思村党总支整改完成：复评群众满意度 96.9%" in m.content
            for m in hs.sim.bot_messages(BOARD)
        ),
        15,
    )
    [rect] = await rows(world, schema.rectifications)
    assert rect["status"] == RectificationStatus.CLOSED.value
    assert rect["reevaluation_id"] == redo["id"] and rect["closed_at"] is not None
    await secretary.send("/rectify", expect="目前没有需要您处理的整改")
