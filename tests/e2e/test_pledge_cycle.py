"""The whole first half of the cycle, as people use it: join → draft → review → publish."""

from __future__ import annotations

from bot.domain.clock import SystemClock
from tests.e2e.harness import Human, World

BOARD = -100_001


async def draft_item(
    member: Human, category: str, content: str, target: str, deadline: str
) -> None:
    """Answer one item's questions in the drafting conversation."""
    await member.tap(category, expect="承诺内容")
    await member.send(content, expect="可以检查的目标")
    await member.send(target, expect="完成时限")
    await member.send(deadline, expect="谁负责")
    await member.tap("本人", expect="请核对您的承诺")


async def test_join_draft_return_revise_approve_publish(world: World) -> None:
    year = SystemClock().now().year
    member = await world.join("王建国")
    assert "党员" in member.last().content and "黄思村党总支" in member.last().content
    secretary = await world.join("沈宝方")
    assert "支部书记" in secretary.last().content

    world.group(BOARD, "黄思村公示栏", [secretary, member])
    await secretary.send("/linkboard", expect="公示栏", chat_id=BOARD)

    await member.send("/pledge", expect="请选择承诺类型")
    await member.tap("年度承诺", expect="第 1 项")
    await draft_item(member, "带头学习提高", "每月参加支部学习", "全年参加学习不少于12次", "年底")
    await member.tap("添加事项", expect="第 2 项")
    await draft_item(member, "带头服务群众", "帮扶困难户", "每月走访困难户4户", "下月底")
    await member.tap("添加事项", expect="第 3 项")
    await draft_item(member, "带头弘扬正气", "调解邻里纠纷", "全年调解纠纷5起以上", "12/31")
    summary = member.last().content
    assert summary.count("本人") == 0 and summary.count("王建国") >= 3
    await member.tap("提交审核", expect="已提交审核")

    incoming = await secretary.receive("王建国 提交了承诺")
    assert "每月参加支部学习" in incoming.content and "调解邻里纠纷" in incoming.content
    await secretary.tap("退回修改", expect="退回的理由")
    await secretary.send("第二项的时限太紧，请改到年底", expect="已退回")

    returned = await member.receive("被退回修改")
    assert "第二项的时限太紧" in returned.content and "沈宝方" in returned.content
    await member.tap("去修改", expect="请核对您的承诺")
    assert "审核意见：第二项的时限太紧" in member.last().content
    await member.tap("修改事项", expect="要修改哪一项")
    await member.tap("2. 帮扶困难户", expect="哪一部分")
    await member.tap("完成时限", expect="完成时限")
    await member.send("明年年底", expect="请核对您的承诺")
    await member.tap("提交审核", expect="已提交审核")

    resubmitted = await secretary.receive("第2项修改了：完成时限")
    assert "王建国 提交了承诺" in resubmitted.content
    await secretary.tap("通过", expect="已通过")
    number = f"XH-HS-{year}-0001"
    assert number in secretary.last().content

    await member.receive(f"审核通过并公开，编号 {number}")
    await world.sim.wait_until(
        lambda: any(number in m.content for m in world.sim.bot_messages(BOARD)), 10
    )
    post = next(m for m in world.sim.bot_messages(BOARD) if number in m.content)
    for expected in ("王建国", "每月参加支部学习", "帮扶困难户", "调解邻里纠纷", "责任人：王建国"):
        assert expected in post.content

    mine = await member.send("/mypledges", expect="我的承诺")
    assert number in mine.content and "已公开" in mine.content and "3 项" in mine.content
    board = await member.send("/board", expect="公开承诺")
    assert number in board.content and "调解邻里纠纷" in board.content
