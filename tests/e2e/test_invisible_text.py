"""A text that shows nothing (zero-width spaces and joiners, a byte-order mark, a word joiner,
an ideographic space) is refused at every step that asks for words, as a blank one is, and
the same question stays open: a visible answer afterwards is taken."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain.clock import FakeClock
from bot.playground.simulator import BotApiSimulator
from tests.e2e.flows import submit_one_item_pledge
from tests.e2e.harness import BotRunner, Human, World, make_settings
from tests.e2e.test_rectification import closed_evaluation

INVISIBLE = "\u200b\u200c\u200d\ufeff\u2060\u3000"
START = datetime(2026, 9, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
async def world(sim: BotApiSimulator, tmp_path: Path) -> AsyncIterator[World]:
    # A fixed clock: the rectification steps start from an evaluation written at this time.
    settings = make_settings(tmp_path, sim)
    runner = BotRunner(settings, clock=FakeClock(START))
    w = World(sim=sim, settings=settings, runner=runner, tmp=tmp_path)
    await w.import_demo()
    await runner.start()
    try:
        yield w
    finally:
        await runner.stop()


# Each step: bring someone to the question; return them, the refusal they must see, and a
# visible answer with what the bot says once it is taken.
Step = Callable[[World], Awaitable[tuple[Human, str, str, str]]]


async def _published(world: World) -> tuple[Human, Human]:
    member = await world.join("王建国")
    secretary = await world.join("沈宝方")
    await submit_one_item_pledge(member)
    await secretary.receive("王建国 提交了承诺")
    await secretary.tap("通过", expect="已通过")
    await member.receive("审核通过并公开")
    return member, secretary


async def pledge_content(world: World) -> tuple[Human, str, str, str]:
    member = await world.join("王建国")
    await member.send("/pledge", expect="请选择承诺类型")
    await member.tap("年度承诺", expect="第 1 项")
    await member.tap("带头学习提高", expect="承诺内容")
    return member, "内容不能为空", "每月参加支部学习", "可以检查的目标"


async def pledge_target(world: World) -> tuple[Human, str, str, str]:
    member, *_ = await pledge_content(world)
    await member.send("每月参加支部学习", expect="可以检查的目标")
    return member, "目标不能为空", "全年12次", "完成时限"


async def pledge_responsible(world: World) -> tuple[Human, str, str, str]:
    member, *_ = await pledge_target(world)
    await member.send("全年12次", expect="完成时限")
    await member.send("年底", expect="谁负责")
    return member, "请写上责任人的姓名", "王建国", "请核对"


async def oral_content(world: World) -> tuple[Human, str, str, str]:
    secretary = await world.join("沈宝方")
    await secretary.send("/oral", expect="请选择要代录口头承诺的党员")
    await secretary.tap("🗣 朱德顺", expect="请选择承诺类型")
    await secretary.tap("年度承诺", expect="第 1 项")
    await secretary.tap("带头服务群众", expect="承诺内容")
    return secretary, "内容不能为空", "帮助调解邻里纠纷", "可以检查的目标"


async def progress_text(world: World) -> tuple[Human, str, str, str]:
    member, _ = await _published(world)
    await member.send("/progress", expect="请选择要记录进展的承诺事项")
    await member.tap("每月参加支部学习", expect="请用几句话写下")
    return member, "进展内容不能为空", "参加了学习", "已记下"


async def review_comment(world: World) -> tuple[Human, str, str, str]:
    member = await world.join("王建国")
    secretary = await world.join("沈宝方")
    await submit_one_item_pledge(member)
    await secretary.receive("王建国 提交了承诺")
    await secretary.tap("退回修改", expect="退回的理由")
    return secretary, "退回意见不能为空", "目标请写具体", "已退回 王建国 的承诺"


async def claim_send_back(world: World) -> tuple[Human, str, str, str]:
    member, secretary = await _published(world)
    await member.send("/progress", expect="请选择要记录进展的承诺事项")
    await member.tap("每月参加支部学习", expect="请用几句话写下")
    await member.send("参加了学习", expect="已记下")
    await member.tap("申请兑现销号", expect="已申请兑现销号")
    await secretary.receive("王建国 申请兑现销号")
    await secretary.tap("退回补充", expect="的理由")
    return secretary, "退回意见不能为空", "请附上签到表", "已退回 王建国 的兑现申请"


async def _leader_review_comment(world: World) -> Human:
    clerk = await world.join("刘晓燕")
    await clerk.send("/comment", expect="领导点评")
    await clerk.tap("🏢 黄思村党总支", expect="点评对象：黄思村党总支")
    await clerk.tap("好", expect="请写下点评意见")
    return clerk


async def leader_comment(world: World) -> tuple[Human, str, str, str]:
    clerk = await _leader_review_comment(world)
    return clerk, "点评意见不能为空", "班子团结", "需要整改的地方"


async def leader_points(world: World) -> tuple[Human, str, str, str]:
    clerk = await _leader_review_comment(world)
    await clerk.send("班子团结", expect="需要整改的地方")
    return clerk, "整改意见不能为空", "每月公开一次进展", "请核对"


async def rectification_statement(world: World) -> tuple[Human, str, str, str]:
    secretary = await world.join("沈宝方")
    clerk = await _leader_review_comment(world)
    await clerk.send("班子团结", expect="需要整改的地方")
    await clerk.tap("无需整改", expect="请核对")
    await clerk.tap("确认发送", expect="已保存")
    await secretary.receive("刘晓燕对黄思村党总支的")
    await secretary.tap("整改表态", expect="请写下您的整改表态")
    return secretary, "整改表态不能为空", "继续保持", "已送给点评人"


async def _plan(world: World) -> Human:
    secretary = await world.join("沈宝方")
    await closed_evaluation(world, subjects=[(None, 850)])
    await secretary.receive("黄思村党总支的满意度为 85.0%")
    await secretary.tap("填写整改方案", expect="第 1 步")
    return secretary


async def plan_goals(world: World) -> tuple[Human, str, str, str]:
    return await _plan(world), "整改目标不能为空", "满意度提升到95%", "第 2 步"


async def plan_measures(world: World) -> tuple[Human, str, str, str]:
    secretary = await _plan(world)
    await secretary.send("满意度提升到95%", expect="第 2 步")
    return secretary, "整改措施不能为空", "每周走访群众", "第 3 步"


async def plan_send_back(world: World) -> tuple[Human, str, str, str]:
    committee = await world.join("刘晓燕")
    secretary = await _plan(world)
    await secretary.send("满意度提升到95%", expect="第 2 步")
    await secretary.send("每周走访群众", expect="第 3 步")
    await secretary.send("2026-10-20", expect="请核对整改方案")
    await secretary.tap("提交审核", expect="整改方案已提交")
    await committee.receive("收到整改方案")
    await committee.tap("退回修改", expect="退回意见")
    return committee, "退回意见不能为空", "措施要具体", "已退回"


async def suggestion(world: World) -> tuple[Human, str, str, str]:
    resident = await world.join("张桂英")
    await resident.send("/suggest", expect="将提交给「黄思村党总支」")
    return resident, "建议内容不能为空", "村口路灯坏了", "请核对"


async def broadcast(world: World) -> tuple[Human, str, str, str]:
    secretary = await world.join("沈宝方")
    await secretary.send("/broadcast", expect="请发送通知内容")
    return secretary, "通知内容不能为空", "周五下午开支部大会", "请选择通知对象"


STEPS: list[Step] = [
    pledge_content,
    pledge_target,
    pledge_responsible,
    oral_content,
    progress_text,
    review_comment,
    claim_send_back,
    leader_comment,
    leader_points,
    rectification_statement,
    plan_goals,
    plan_measures,
    plan_send_back,
    suggestion,
    broadcast,
]


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.__name__)
async def test_a_text_that_shows_nothing_is_refused_as_a_blank(world: World, step: Step) -> None:
    person, refusal, answer, taken = await step(world)
    await person.send(INVISIBLE, expect=refusal)
    # Still the same question: a visible answer is taken.
    await person.send(answer, expect=taken)


async def test_in_english_the_refusal_is_english(world: World) -> None:
    member = await world.join("王建国", language_code="en")
    await member.send("/pledge", expect="type of pledge")
    await member.tap("annual pledge", expect="Item 1")
    await member.tap("Lead in study", expect="what will you do")
    await member.send("\ufeff\u200b", expect="The content cannot be empty")
