"""What a member who pledged orally hears about his pledge, and what its recorder hears.

The secretary 沈宝方 records 朱德顺's pledge (/oral); the committee's 刘晓燕 reviews it and
verifies its claims. 朱德顺 has a chat, but he did not write the pledge: every notice about it
tells him it was recorded for him, and none offers him a button to change it; the recorder
hears each one as 朱德顺's and is the one who revises, amends and claims again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain.clock import FakeClock
from bot.playground.simulator import BotApiSimulator
from tests.e2e.flows import button_data, draft_item, draft_one_item_pledge, only_pledge
from tests.e2e.harness import Human, World, ticking_world

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def timed_world(sim: BotApiSimulator, tmp_path: Path) -> AsyncIterator[World]:
    """The bot on 6 June 2026 (a FakeClock), its reminder tick every 0.2 s."""
    async with ticking_world(sim, tmp_path, datetime(2026, 6, 6, 10, 0, tzinfo=TZ)) as world:
        yield world


async def record_for_zhu(secretary: Human, content: str, deadline: str = "年底") -> None:
    """/oral → 朱德顺 → an annual pledge of one item, submitted."""
    await secretary.send("/oral", expect="请选择要代录口头承诺的党员")
    await secretary.tap("🗣 朱德顺", expect="请选择承诺类型")
    await secretary.tap("年度承诺", expect="第 1 项")
    await draft_item(
        secretary, "带头服务群众", content, deadline=deadline, responsible="朱德顺（承诺人）"
    )
    await secretary.tap("提交审核", expect="已提交审核")


async def change_target(person: Human, item: str, target: str) -> None:
    """On the draft's summary: change the first item's target."""
    await person.tap("修改事项", expect="要修改哪一项")
    await person.tap(f"1. {item}", expect="哪一部分")
    await person.tap("目标", expect="可以检查的目标")
    await person.send(target, expect="请核对")


async def test_returned_approved_and_amended_each_told_as_his_and_revised_by_the_recorder(
    world: World,
) -> None:
    elder = await world.join("朱德顺")
    secretary = await world.join("沈宝方")
    clerk = await world.join("刘晓燕")
    await record_for_zhu(secretary, "帮助调解邻里纠纷")
    await clerk.receive("朱德顺 提交了承诺")
    await clerk.tap("退回修改", expect="退回的理由")
    await clerk.send("目标请写清楚调解几起", expect="已退回 朱德顺 的承诺")

    # 朱德顺 is told it was returned, that his recorder revises it, and is offered nothing.
    told = await elder.receive("被退回修改")
    assert told.content.startswith("↩️ 您的口头承诺被退回修改。代录的 沈宝方 会和您商量着改好")
    assert "目标请写清楚调解几起" in told.content and told.button_labels() == []
    returned = await secretary.receive("您代录的 朱德顺 的承诺被退回修改")
    assert returned.button_labels() == ["✏️ 去修改"]
    mine = await elder.send("/mypledges", expect="我的承诺")
    assert "🗣 朱德顺" in mine.content and "已退回" in mine.content
    assert "口头承诺，由 沈宝方 代录；如需修改，请联系 沈宝方" in mine.content
    assert mine.button_labels() == []
    # The recorder's button, were the member to send it, changes nothing and says who does.
    refused = await elder.tap_forged(button_data(returned, "去修改"))
    assert "这份口头承诺由 沈宝方 代录" in refused
    await elder.send("/pledge", expect="正由支部书记代为填写")

    await secretary.tap("去修改", expect="请核对您为 朱德顺 代录的承诺")
    await change_target(secretary, "帮助调解邻里纠纷", "全年调解3起以上")
    await secretary.tap("提交审核", expect="已提交审核")
    await clerk.receive("全年调解3起以上")
    await clerk.tap("通过", expect="已通过 朱德顺 的承诺")
    number = (await only_pledge(world, elder)).number
    assert number is not None
    approved = await elder.receive(f"编号 {number}")
    assert approved.content.startswith("🎉 您的口头承诺（由 沈宝方 代录）已审核通过并公开")
    await secretary.receive(f"您代录的 朱德顺 的承诺已审核通过并公开，编号 {number}")

    # Amending is the recorder's too: his /mypledges lists the pledge he recorded.
    listed = await secretary.send("/mypledges", expect="我的承诺")
    assert f"{number} 🗣 朱德顺" in listed.content
    await secretary.tap(f"申请修改 {number}", expect="请核对您为 朱德顺 代录的承诺")
    await change_target(secretary, "帮助调解邻里纠纷", "全年调解5起以上")
    await secretary.tap("提交审核", expect="已提交审核")
    await clerk.receive("全年调解5起以上")
    await clerk.tap("通过", expect="已通过 朱德顺 的承诺")
    amended = await elder.receive("的修改已审核通过")
    assert (
        amended.content == f"🎉 沈宝方 为您代录的承诺 {number} 的修改已审核通过，公示内容已更新。"
    )
    await secretary.receive(f"您为 朱德顺 代录的承诺 {number} 的修改已审核通过，公示内容已更新")
    mine = await elder.send("/mypledges", expect="我的承诺")
    assert mine.button_labels() == [] and "如需修改，请联系 沈宝方" in mine.content


async def test_a_claim_the_recorder_made_is_told_to_the_member_as_made_for_him(
    world: World,
) -> None:
    elder = await world.join("朱德顺")
    secretary = await world.join("沈宝方")
    clerk = await world.join("刘晓燕")
    await record_for_zhu(secretary, "帮助调解邻里纠纷")
    await clerk.receive("朱德顺 提交了承诺")
    await clerk.tap("通过", expect="已通过 朱德顺 的承诺")

    await secretary.send("/progress", expect="请选择")
    await secretary.tap("帮助调解邻里纠纷", expect="正在为「朱德顺」记录进展")
    await secretary.send("调解了两起邻里纠纷", expect="已记下")
    await secretary.tap("申请兑现销号", expect="已申请兑现销号")
    await clerk.receive("朱德顺 申请兑现销号")
    await clerk.tap("退回补充", expect="理由")
    await clerk.send("请写明调解的是哪两户", expect="已退回")

    back = await elder.receive("被退回")
    assert back.content.startswith("↩️ 沈宝方 为您申请兑现的「帮助调解邻里纠纷」被退回。")
    assert "您不需要在这里操作" in back.content and back.button_labels() == []
    again = await secretary.receive("您为 朱德顺 申请兑现的「帮助调解邻里纠纷」被退回")
    assert again.button_labels() == ["📝 补充进展"]
    await secretary.tap("补充进展", expect="请用几句话写下")
    await secretary.send("调解了张家和李家的纠纷", expect="已记下")
    await secretary.tap("申请兑现销号", expect="已申请兑现销号")
    await clerk.receive("调解了张家和李家的纠纷")
    await clerk.tap("确认兑现销号", expect="已确认")
    done = await elder.receive("已兑现销号 ✓")
    assert done.content.startswith(
        "🎉 您的承诺事项「帮助调解邻里纠纷」已经核实，已兑现销号 ✓（由 沈宝方 为您申请）。"
    )
    await secretary.receive("您为 朱德顺 记录的承诺事项「帮助调解邻里纠纷」已经核实")


async def test_reminders_of_an_oral_pledge_reach_its_recorder_and_speak_truly(
    timed_world: World,
) -> None:
    world = timed_world
    clock = world.runner.clock
    assert isinstance(clock, FakeClock)
    elder = await world.join("朱德顺")
    secretary = await world.join("沈宝方")
    clerk = await world.join("刘晓燕")
    member = await world.join("王建国")
    await record_for_zhu(secretary, "帮助调解邻里纠纷", deadline="2026-06-12")
    await clerk.receive("朱德顺 提交了承诺")
    await clerk.tap("通过", expect="已通过 朱德顺 的承诺")
    await draft_one_item_pledge(member, content="修复三组水渠", deadline="2026-12-20")
    await member.tap("提交审核", expect="已提交审核")
    await secretary.receive("王建国 提交了承诺")
    await secretary.tap("通过", expect="已通过 王建国 的承诺")

    # Due in 6 days: the member hears it as his, the recorder as recorded for him.
    mine = await elder.receive("帮助调解邻里纠纷」还有 6 天到期")
    assert mine.content.startswith("⏰ 承诺事项「帮助调解邻里纠纷」")
    await secretary.receive("⏰ 您为 朱德顺 代录的承诺事项「帮助调解邻里纠纷」还有 6 天到期")

    # Progress the recorder writes in June is 朱德顺's: July's self-check does not tell him
    # (nor his secretary) that he recorded none; 王建国, who wrote none, is reminded.
    await secretary.send("/progress", expect="请选择")
    await secretary.tap("帮助调解邻里纠纷", expect="正在为「朱德顺」记录进展")
    await secretary.send("调解了一起邻里纠纷", expect="已记下")
    clock.advance(timedelta(days=25))  # 1 July
    await member.receive("一月一自查：您 2026-06 还没有记录承诺进展")
    listed = await secretary.receive("一月一自查：以下党员 2026-06 没有记录承诺进展")
    assert listed.content.endswith("：王建国")
    await world.outbox_settled()
    assert elder.seen("一月一自查") == 0


async def test_in_english_the_member_hears_his_oral_pledge_as_recorded_for_him(
    timed_world: World,
) -> None:
    world = timed_world
    elder = await world.join("朱德顺", language_code="en")
    secretary = await world.join("沈宝方", language_code="en")
    clerk = await world.join("刘晓燕", language_code="en")
    await secretary.send("/oral", expect="Choose the member")
    await secretary.tap("🗣 朱德顺", expect="choose the type of pledge")
    await secretary.tap("annual pledge", expect="Item 1")
    await secretary.tap("Lead in serving the people", expect="what will you do")
    await secretary.send("Help settle neighbours' disputes", expect="target")
    await secretary.send("3 disputes settled", expect="By when")
    await secretary.send("2026-06-12", expect="Who is responsible")
    await secretary.tap("朱德顺 (the pledger)", expect="Please check the pledge")
    await secretary.tap("Submit for review", expect="Submitted for review")
    await clerk.receive("朱德顺 submitted a pledge")
    await clerk.tap("Return for revision", expect="Write the reason")
    await clerk.send("Say how many disputes", expect="returned with your comment")

    told = await elder.receive("returned for revision")
    assert told.content.startswith(
        "↩️ Your oral pledge was returned for revision. 沈宝方, who recorded it, will go over"
    )
    assert "nothing for you to do here" in told.content and told.button_labels() == []
    returned = await secretary.receive("The pledge you recorded for 朱德顺 was returned")
    assert returned.button_labels() == ["✏️ Revise"]
    mine = await elder.send("/mypledges", expect="My pledges")
    assert "Oral pledge, recorded by 沈宝方; to change it, please ask 沈宝方." in mine.content
    assert mine.button_labels() == []
    refused = await elder.tap_forged(button_data(returned, "Revise"))
    assert refused.startswith("This oral pledge was recorded by 沈宝方")

    await secretary.tap("Revise", expect="Please check the pledge you are recording")
    await secretary.tap("Submit for review", expect="Submitted for review")
    await clerk.receive("Reviewer's comment: Say how many disputes")  # the card resubmitted
    await clerk.tap("Approve", expect="approved as")
    number = (await only_pledge(world, elder)).number
    approved = await elder.receive(f"published as {number}")
    assert approved.content.startswith("🎉 Your oral pledge, recorded by 沈宝方, is approved")
    await secretary.receive(
        f"The pledge you recorded for 朱德顺 is approved and published as {number}"
    )
    await elder.receive('Pledge item "Help settle neighbours\' disputes" is due in 6 days')
    soon = await secretary.receive("is due in 6 days")
    assert soon.content.startswith('⏰ The item you recorded for 朱德顺, "Help settle neighbours')
