"""A branch smaller than the quorum of the rules opens a mass evaluation: the secretary learns
the rule and what to do, may set a lower quorum with its reason, and the result shows it."""

from __future__ import annotations

import asyncio
import functools
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.domain.errors import DomainError
from bot.domain.evaluation_models import SubjectKind
from storage import schema
from tests.accounts import actor_for
from tests.e2e.harness import Human, World


async def _evaluations(world: World) -> list[dict[str, object]]:
    async with world.db.engine.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(select(schema.evaluations))]


async def _wait_ballots(world: World, count: int) -> None:
    async def written() -> int:
        async with world.db.engine.connect() as conn:
            query = select(func.count()).select_from(schema.ballots)
            return int((await conn.execute(query)).scalar_one())

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while await written() < count:
        assert loop.time() < deadline, f"only {await written()} of {count} ballots written"
        await asyncio.sleep(0.05)


def _has_ballot(world: World, human: Human) -> bool:
    return any(m.poll for m in world.sim.bot_messages(human.user_id))


def _newest_poll_id(world: World, human: Human) -> str:
    polls = [m.poll for m in world.sim.bot_messages(human.user_id) if m.poll is not None]
    assert polls, f"{human.name} has no ballot"
    return polls[-1].id


async def test_a_nine_person_branch_opens_with_a_lower_quorum_and_the_reason_is_shown(
    world: World,
) -> None:
    # 黄思村党总支: the secretary, four members and four resident representatives (9 people).
    members = [await world.join(n) for n in ("王建国", "杨友林", "沈红梅", "朱德顺")]
    secretary = await world.join("沈宝方")
    await secretary.send("/evaluate", expect="请选择评议对象")
    await secretary.tap("评议支部", expect="截止时间")
    ask = await secretary.send("1小时后", expect="至少要有")
    # The rule, who counts, and what to do with a smaller roster.
    assert "30 人" in ask.content and "20 人" in ask.content
    assert "党员和群众代表都算" in ask.content
    assert "只有 9 人" in ask.content
    assert "补充群众代表" in ask.content
    assert "说明原因" in ask.content
    assert not any("至少 30 人" in b.text for row in ask.buttons for b in row)

    # Too many: the rule repeats and the dialog goes on.
    await secretary.send("30", expect="1 到 9")
    why = await secretary.send("5", expect="原因")
    assert "低于规定的 30 人" in why.content
    preview = await secretary.send("支部名册上只有9人", expect="请核对群众评议")
    assert "至少 5 人" in preview.content and "支部名册上只有9人" in preview.content
    assert "其中 5 人已绑定，会马上收到选票；其余 4 人绑定后收到" in preview.content
    await secretary.tap("确认发起", expect="群众评议已发起")
    assert secretary.seen("我没有看懂") == 0
    [evaluation] = await _evaluations(world)
    assert evaluation["quorum"] == 5
    assert evaluation["quorum_reason"] == "支部名册上只有9人"

    for voter in [*members, secretary]:
        await world.sim.wait_until(functools.partial(_has_ballot, world, voter), 15)
        world.sim.vote(voter.user_id, _newest_poll_id(world, voter), [0])
    await _wait_ballots(world, 5)
    await secretary.send("/evaluations", expect="点一项查看")
    await secretary.tap("黄思村党总支", expect="投票：5 / 9 人")
    await secretary.tap("提前结束", expect="确定现在结束")
    await secretary.tap("确认结束并计票", expect="已结束并计票")
    result = await secretary.receive("群众评议结果")
    assert "投票人数：5 / 9 人" in result.content
    assert "低于规定人数的原因：支部名册上只有9人" in result.content


async def test_in_english_the_rule_and_the_reason_are_explained(world: World) -> None:
    secretary = await world.join("沈宝方", language_code="en")
    await secretary.send("/evaluate", expect="What is evaluated?")
    await secretary.tap("The branch", expect="closing time")
    ask = await secretary.send("in 3 days", expect="at least")
    assert "only 9" in ask.content and "resident representatives" in ask.content
    assert "reason" in ask.content
    await secretary.send("5", expect="reason")
    preview = await secretary.send("Only nine people on the roster", expect="Please check")
    assert "Only nine people on the roster" in preview.content
    await secretary.tap("Open it", expect="is open")
    assert secretary.seen("did not understand") == 0


async def test_a_quorum_under_the_rule_needs_a_reason_even_in_a_big_enough_branch(
    world: World,
) -> None:
    # The service, not only the dialog, refuses a lower quorum without a reason.
    secretary = await world.join("沈宝方")
    app = world.runner.app
    assert app is not None
    svc = app.bot_data.services.evaluations
    async with world.db.uow() as uow:
        org = await uow.orgs.by_code("XH-HS")
    assert org is not None
    closes = svc.clock.now() + timedelta(days=1)
    with pytest.raises(DomainError) as refused:
        await svc.open(
            await actor_for(world.db, secretary.user_id), org.id, SubjectKind.BRANCH, closes, 5
        )
    assert refused.value.key == "ev.quorum.reason_needed"
    assert await _evaluations(world) == []


async def test_when_everyone_has_joined_the_preview_does_not_speak_of_the_others(
    world: World,
) -> None:
    for name in ("王建国", "杨友林", "沈红梅", "朱德顺", "张桂英", "李长根", "王秀兰", "赵大勇"):
        await world.join(name)
    secretary = await world.join("沈宝方", language_code="en")
    await secretary.send("/evaluate", expect="What is evaluated")
    await secretary.tap("The branch (黄思村党总支)", expect="closes")
    await secretary.send("in 3 days", expect="at least")
    await secretary.send("9", expect="reason")
    preview = await secretary.send("only 9 on the roster", expect="Please check")
    assert "all have joined the bot and get the ballot now" in preview.content
    assert "when they join" not in preview.content
