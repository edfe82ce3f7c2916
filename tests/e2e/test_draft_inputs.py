"""定诺 with imperfect people: bad input, wrong moments, /cancel, restarts, old buttons."""

from __future__ import annotations

from bot.domain.enums import Category, PledgeStatus
from bot.domain.models import Pledge
from tests.e2e.flows import (
    button_data,
    buttons_of,
    draft_item,
    draft_one_item_pledge,
    only_pledge,
    pledges_of,
    roster_person,
)
from tests.e2e.harness import World


async def test_empty_and_overlong_text_is_refused_and_nothing_stored(world: World) -> None:
    member = await world.join("王建国")
    await member.send("/pledge", expect="请选择承诺类型")
    await member.tap("年度承诺", expect="第 1 项")
    await member.tap("带头学习提高", expect="承诺内容")

    # Refused, and the same question is asked again.
    await member.send("   ", expect="第 1 项：请写下承诺内容")
    assert member.seen("内容不能为空") == 1

    huge = "学" * 10_000
    refusal = await member.send(huge, expect="内容太长了")
    assert "10000 字" in refusal.content and "500 字以内" in refusal.content
    draft = await only_pledge(world, member)
    assert draft.pending_item is not None
    assert draft.pending_item.category is Category.STUDY
    assert draft.pending_item.content is None and draft.items == ()

    await member.send("每月参加支部学习", expect="可以检查的目标")
    await member.send(" \n ", expect="目标不能为空")
    await member.send("目" * 301, expect="300 字以内")
    await member.send("全年不少于12次", expect="完成时限")
    draft = await only_pledge(world, member)
    assert draft.pending_item is not None
    assert draft.pending_item.content == "每月参加支部学习"
    assert draft.pending_item.target == "全年不少于12次"


async def test_malformed_and_past_dates_are_refused(world: World) -> None:
    member = await world.join("王建国")
    await member.send("/pledge", expect="请选择承诺类型")
    await member.tap("年度承诺", expect="第 1 项")
    await member.tap("带头服务群众", expect="承诺内容")
    await member.send("帮扶困难户", expect="可以检查的目标")
    await member.send("每月走访4户", expect="完成时限")

    for bad in ("下下下周吧", "2026-13-45", "32/12", "明年某个时候"):
        await member.send(bad, expect="没能看懂这个日期")
    await member.send("2020-01-01", expect="已经过去了")
    draft = await only_pledge(world, member)
    assert draft.pending_item is not None and draft.pending_item.deadline is None

    await member.send("年底", expect="谁负责")
    draft = await only_pledge(world, member)
    assert draft.pending_item is not None and draft.pending_item.deadline is not None


async def test_typing_when_a_button_is_expected(world: World) -> None:
    member = await world.join("王建国")
    await member.send("/pledge", expect="请选择承诺类型")
    await member.send("年度承诺", expect="请选择承诺类型")
    assert member.seen("请点击下面的按钮选择") == 1
    assert (await only_pledge(world, member)).horizon is None

    await member.tap("年度承诺", expect="第 1 项")
    await member.send("带头学习", expect="请选择类别")
    assert member.seen("请点击下面的按钮选择") == 2
    draft = await only_pledge(world, member)
    assert draft.pending_item is not None and draft.pending_item.category is None

    await draft_item(member, "带头学习提高", "每月参加支部学习")
    await member.send("提交", expect="请核对您的承诺")
    assert member.seen("请点击下面的按钮选择") == 3
    assert (await only_pledge(world, member)).status is PledgeStatus.DRAFT


async def test_cancel_at_several_steps_then_pledge_resumes(world: World) -> None:
    member = await world.join("王建国")
    await member.send("/pledge", expect="请选择承诺类型")
    await member.tap("年度承诺", expect="第 1 项")
    await member.tap("带头学习提高", expect="承诺内容")
    await member.send("/cancel", expect="您填写的内容都已保存")
    # Outside the conversation, text is not taken as an answer.
    await member.send("每月参加支部学习", expect="我没有看懂")
    draft = await only_pledge(world, member)
    assert draft.pending_item is not None and draft.pending_item.content is None

    await member.send("/cancel", expect="现在没有正在进行的操作")
    await member.send("/pledge", expect="第 1 项：请写下承诺内容")
    assert member.seen("已为您打开上次保存的草稿") == 1
    await member.send("每月参加支部学习", expect="可以检查的目标")
    await member.send("全年不少于12次", expect="完成时限")
    await member.send("/cancel", expect="您填写的内容都已保存")

    await member.send("/pledge", expect="请告诉我完成时限")
    await member.send("年底", expect="谁负责")
    await member.tap("本人", expect="请核对您的承诺")
    await member.send("/cancel", expect="您填写的内容都已保存")

    summary = await member.send("/pledge", expect="请核对您的承诺")
    assert "每月参加支部学习" in summary.content and "全年不少于12次" in summary.content
    draft = await only_pledge(world, member)
    assert [i.content for i in draft.items] == ["每月参加支部学习"]
    assert draft.horizon is not None and draft.pending_item is None
    await member.tap("提交审核", expect="已提交审核")


async def test_resident_cannot_pledge(world: World) -> None:
    resident = await world.join("张桂英")
    await resident.send("/pledge", expect="群众代表不需要填写承诺")
    await resident.send("/oral", expect="此操作仅限以下角色")
    assert await pledges_of(world, resident) == []


async def test_submit_with_an_unfinished_item_is_refused(world: World) -> None:
    member = await world.join("王建国")
    await draft_one_item_pledge(member)
    # /pledge again shows the summary in a new message; the earlier summary keeps its buttons.
    await member.send("/cancel", expect="已退出")
    old_summary = await member.send("/pledge", expect="请核对您的承诺")
    await member.send("/pledge", expect="请核对您的承诺")
    await member.tap("添加事项", expect="第 2 项")
    await member.tap("带头服务群众", expect="承诺内容")

    alert = await member.tap_for_alert(old_summary, button_data(old_summary, "提交审核"))
    assert "还有一项没填完" in alert
    draft = await only_pledge(world, member)
    assert draft.status is PledgeStatus.DRAFT and draft.version == 1
    assert draft.pending_item is not None and len(draft.items) == 1

    # Dropping the unfinished item makes the draft submittable again.
    await member.tap("不填这一项了", expect="请核对您的承诺")
    await member.tap("提交审核", expect="已提交审核")
    assert (await only_pledge(world, member)).status is PledgeStatus.SUBMITTED


async def test_edit_and_remove_items(world: World) -> None:
    member = await world.join("王建国")
    await draft_one_item_pledge(member)
    await member.tap("添加事项", expect="第 2 项")
    await draft_item(member, "带头服务群众", "帮扶困难户", "每月走访4户", "下月底")
    await member.tap("添加事项", expect="第 3 项")
    await draft_item(member, "带头弘扬正气", "调解邻里纠纷", "全年5起", "12/31")

    await member.tap("修改事项", expect="要修改哪一项")
    await member.tap("1. 每月参加支部学习", expect="哪一部分")
    await member.tap("内容", expect="第 1 项：请写下承诺内容")
    summary = await member.send("每周参加一次理论学习", expect="请核对您的承诺")
    assert "每周参加一次理论学习" in summary.content
    assert "每月参加支部学习" not in summary.content

    await member.tap("删除事项", expect="要删除哪一项")
    summary = await member.tap("2. 帮扶困难户", expect="请核对您的承诺")
    assert "帮扶困难户" not in summary.content and "调解邻里纠纷" in summary.content

    draft = await only_pledge(world, member)
    assert [i.content for i in draft.items] == ["每周参加一次理论学习", "调解邻里纠纷"]
    assert draft.items[0].target == "每月检查一次"  # the other parts stayed
    assert draft.pending_item is None

    # Items are numbered as the card numbers them, also after a removal.
    await member.tap("修改事项", expect="要修改哪一项")
    assert [label for label, _ in buttons_of(member.last())][:2] == [
        "1. 每周参加一次理论学习",
        "2. 调解邻里纠纷",
    ]
    await member.tap("2. 调解邻里纠纷", expect="哪一部分")
    await member.tap("完成时限", expect="请告诉我完成时限")
    await member.send("明年年底", expect="请核对您的承诺")
    # The back button from the item list returns to the summary.
    await member.tap("修改事项", expect="要修改哪一项")
    await member.tap("返回", expect="请核对您的承诺")


async def test_discard_draft(world: World) -> None:
    member = await world.join("王建国")
    await draft_one_item_pledge(member)
    await member.tap("放弃草稿", expect="草稿已删除")
    assert await pledges_of(world, member) == []
    await member.send("/pledge", expect="请选择承诺类型")
    assert member.seen("已为您打开上次保存的草稿") == 0


async def test_restart_in_the_middle_of_drafting(world: World) -> None:
    member = await world.join("王建国")
    await member.send("/pledge", expect="请选择承诺类型")
    await member.tap("年度承诺", expect="第 1 项")
    await member.tap("带头学习提高", expect="承诺内容")
    await member.send("每月参加支部学习", expect="可以检查的目标")

    await world.runner.restart()
    # The person simply types the next answer.
    deadline_question = await member.send("全年不少于12次", expect="完成时限")

    await world.runner.restart()
    # An old button from before the restart still works.
    await member.tap("今年年底", expect="谁负责")
    assert deadline_question.message_id == member.last().message_id
    await member.tap("本人", expect="请核对您的承诺")

    await world.runner.restart()
    await member.tap("提交审核", expect="已提交审核")
    draft = await only_pledge(world, member)
    assert draft.status is PledgeStatus.SUBMITTED
    assert [(i.content, i.target) for i in draft.items] == [("每月参加支部学习", "全年不少于12次")]


async def test_refusals_name_roles_and_states_in_the_users_language(world: World) -> None:
    resident = await world.join("张桂英")
    await resident.send("/oral", expect="此操作仅限以下角色：支部书记。")

    member = await world.join("王建国")
    await draft_one_item_pledge(member)
    await member.send("/cancel", expect="已退出")
    old_summary = await member.send("/pledge", expect="请核对您的承诺")
    await member.send("/pledge", expect="请核对您的承诺")
    await member.tap("提交审核", expect="已提交审核")
    alert = await member.tap_for_alert(old_summary, button_data(old_summary, "添加事项"))
    assert alert == "这份承诺现在不能修改（状态：待审核）。"
    assert (await only_pledge(world, member)).pending_item is None


async def test_buttons_forged_for_someone_elses_draft_are_refused(world: World) -> None:
    owner = await world.join("王建国")
    await draft_one_item_pledge(owner)
    draft = await only_pledge(world, owner)
    intruder = await world.join("杨友林")
    await intruder.send("/help", expect="您可以使用以下命令")
    key = f"{draft.id}:{draft.version}"
    for data in (f"pd:sub:{key}", f"pd:disc:{key}", f"pd:add:{key}"):
        assert "这不是您的承诺" in await intruder.tap_forged(data)
    for data in (
        f"pd:dl:{key}:zz",
        f"pd:hz:{key}:forever",
        f"pd:tpl:{key}:99",
        f"pd:sub:{draft.id}",
    ):
        assert "按钮已经失效" in await owner.tap_forged(data)
    after = await only_pledge(world, owner)
    assert after.status is PledgeStatus.DRAFT and len(after.items) == 1
    assert after.pending_item is None


async def test_an_old_submit_button_does_not_resubmit_a_returned_pledge(world: World) -> None:
    """A secretary records an oral pledge and submits it; the committee returns it with a
    comment: the submit button of an earlier summary changes nothing."""
    secretary = await world.join("沈宝方")
    clerk = await world.join("刘晓燕")
    await secretary.send("/oral", expect="请选择要代录口头承诺的党员")
    await secretary.tap("🗣 朱德顺", expect="请选择承诺类型")
    await secretary.tap("年度承诺", expect="第 1 项")
    await draft_item(secretary, "带头服务群众", "帮助调解邻里纠纷", responsible="朱德顺（承诺人）")
    await secretary.send("/oral", expect="请选择要代录口头承诺的党员")
    old_summary = await secretary.tap("🗣 朱德顺", expect="请核对")
    await secretary.send("/oral", expect="请选择要代录口头承诺的党员")
    await secretary.tap("🗣 朱德顺", expect="请核对")
    await secretary.tap("提交审核", expect="已提交审核")
    await clerk.receive("朱德顺 提交了承诺")
    await clerk.tap("退回修改", expect="退回的理由")
    await clerk.send("目标请写具体，例如调解几起", expect="已退回")
    [returned] = await pledges_of_name(world, "朱德顺")
    assert returned.status is PledgeStatus.RETURNED

    alert = await secretary.tap_for_alert(old_summary, button_data(old_summary, "提交审核"))
    assert "按钮已经失效" in alert
    [still] = await pledges_of_name(world, "朱德顺")
    assert still.status is PledgeStatus.RETURNED and still.version == returned.version


async def pledges_of_name(world: World, name: str) -> list[Pledge]:
    """The pledges whose pledger is this roster person."""
    person = await roster_person(world, name)
    async with world.db.uow() as uow:
        return await uow.pledges.find(person_id=person.id)
