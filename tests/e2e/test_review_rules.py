"""审诺 rules: who may approve or return what, double taps, stale buttons, comments, amendments."""

from __future__ import annotations

from bot.domain.enums import PledgerKind, PledgeStatus, ReviewAction
from tests.e2e.flows import (
    BOARD_HS,
    button_data,
    draft_item,
    newest,
    only_pledge,
    outbox_rows,
    pledge,
    reviews,
    submit_one_item_pledge,
)
from tests.e2e.harness import Human, World


def ok(pledge_id: int, version: int) -> str:
    return f"rv:ok:{pledge_id}:{version}"


def ret(pledge_id: int, version: int) -> str:
    return f"rv:ret:{pledge_id}:{version}"


async def submitted_by_wang(world: World) -> tuple[Human, Human, int, int]:
    """王建国 submits a pledge; 沈宝方 (his secretary) receives it. Returns ids too."""
    member = await world.join("王建国")
    secretary = await world.join("沈宝方")
    await submit_one_item_pledge(member)
    await secretary.receive("王建国 提交了承诺")
    submitted = await only_pledge(world, member)
    return member, secretary, submitted.id, submitted.version


async def assert_unchanged(world: World, pledge_id: int, version: int) -> None:
    now = await pledge(world, pledge_id)
    assert now.status is PledgeStatus.SUBMITTED and now.version == version
    assert await reviews(world, pledge_id) == []


async def test_branch_secretary_may_approve(world: World) -> None:
    member, secretary, pid, version = await submitted_by_wang(world)
    await secretary.tap("通过", expect="已通过 王建国 的承诺")
    approved = await pledge(world, pid)
    assert approved.status is PledgeStatus.PUBLISHED and approved.version == version + 1
    trail = await reviews(world, pid)
    assert [(r.action, r.version) for r in trail] == [(ReviewAction.APPROVE, version)]
    await member.receive("审核通过并公开")


async def test_branch_secretary_may_return(world: World) -> None:
    member, secretary, pid, _ = await submitted_by_wang(world)
    await secretary.tap("退回修改", expect="退回的理由")
    await secretary.send("目标请写得具体一些", expect="已退回 王建国 的承诺")
    returned = await pledge(world, pid)
    assert returned.status is PledgeStatus.RETURNED
    assert returned.last_comment == "目标请写得具体一些"
    trail = await reviews(world, pid)
    assert [(r.action, r.comment) for r in trail] == [(ReviewAction.RETURN, "目标请写得具体一些")]
    await member.receive("目标请写得具体一些")


async def test_member_resident_and_other_secretary_are_refused(world: World) -> None:
    member, _, pid, version = await submitted_by_wang(world)
    fellow = await world.join("杨友林")
    resident = await world.join("张桂英")
    other_secretary = await world.join("吴静")
    leader = await world.join("陈国平")

    for person in (fellow, resident, leader):
        await person.send("/review", expect="只有支部书记和党委工作人员可以审核承诺")
    await other_secretary.send("/review", expect="目前没有待审核的承诺")

    for person in (member, fellow, resident, other_secretary, leader):
        for data in (ok(pid, version), ret(pid, version)):
            answer = await person.tap_forged(data)
            expected = "不能审核自己的承诺" if person is member else "这份承诺不归您审核"
            assert expected in answer, (person.name, data, answer)
    await assert_unchanged(world, pid, version)

    # Nobody was left waiting for a comment: their next text is not a return reason.
    await other_secretary.send("这是理由", expect="我没有看懂")
    await assert_unchanged(world, pid, version)


async def test_committee_reviews_a_branch_pledge_its_drafter_cannot(world: World) -> None:
    clerk = await world.join("刘晓燕")
    secretary = await world.join("沈宝方")
    await secretary.send("/pledge", expect="您要填写哪一种承诺")
    await secretary.tap("本支部的组织承诺", expect="请选择承诺类型")
    await secretary.tap("年度承诺", expect="第 1 项")
    await secretary.tap("领导班子好", expect="承诺内容")
    await secretary.send("每季度召开一次民主生活会", expect="可以检查的目标")
    await secretary.send("全年4次", expect="完成时限")
    await secretary.send("年底", expect="谁负责")
    summary = await secretary.tap("本支部（黄思村党总支）", expect="请核对本支部的承诺")
    assert "承诺人：黄思村党总支（组织承诺）" in summary.content
    await secretary.tap("提交审核", expect="已提交审核")

    incoming = await clerk.receive("黄思村党总支 提交了承诺")
    async with world.db.uow() as uow:
        [branch] = await uow.pledges.find(pledger_kind=PledgerKind.BRANCH.value)
    assert branch.status is PledgeStatus.SUBMITTED and branch.person_id is None

    # The secretary who drafted it can neither approve nor return it, nor sees it queued.
    for data in (ok(branch.id, branch.version), ret(branch.id, branch.version)):
        assert "不能审核自己的承诺" in await secretary.tap_forged(data)
    await secretary.send("/review", expect="目前没有待审核的承诺")
    assert (await pledge(world, branch.id)).status is PledgeStatus.SUBMITTED

    queue = await clerk.send("/review", expect="待审核的承诺共 1 份")
    assert queue.message_id != incoming.message_id
    await clerk.tap("通过", expect="已通过 黄思村党总支 的承诺")
    approved = await pledge(world, branch.id)
    assert approved.status is PledgeStatus.PUBLISHED and approved.number is not None
    trail = await reviews(world, branch.id)
    assert len(trail) == 1 and trail[0].action is ReviewAction.APPROVE
    told = await secretary.receive(f"编号 {approved.number}")
    assert told.content.startswith("🎉 本支部的承诺已审核通过并公开")  # not "您的承诺"


async def test_nobody_reviews_their_own_pledge(world: World) -> None:
    clerk = await world.join("刘晓燕")
    secretary = await world.join("沈宝方")
    await secretary.send("/pledge", expect="您要填写哪一种承诺")
    await secretary.tap("我本人的承诺", expect="请选择承诺类型")
    await secretary.tap("年度承诺", expect="第 1 项")
    await draft_item(secretary, "带头学习提高", "带头讲党课")
    await secretary.tap("提交审核", expect="已提交审核")
    own = await only_pledge(world, secretary)

    # His own member pledge goes up to the committee, not to himself.
    await clerk.receive("沈宝方 提交了承诺")
    assert secretary.seen("沈宝方 提交了承诺") == 0
    for data in (ok(own.id, own.version), ret(own.id, own.version)):
        assert "不能审核自己的承诺" in await secretary.tap_forged(data)
    await secretary.send("/review", expect="目前没有待审核的承诺")
    await assert_unchanged(world, own.id, own.version)
    await clerk.tap("通过", expect="已通过 沈宝方 的承诺")


async def test_double_tap_and_stale_buttons_change_nothing(world: World) -> None:
    member, secretary, pid, version = await submitted_by_wang(world)
    world.group(BOARD_HS, "黄思村公示栏", [secretary, member])
    await secretary.send("/linkboard", expect="公示栏", chat_id=BOARD_HS)
    queue_card = await secretary.send("/review", expect="王建国")

    incoming = newest(secretary, "提交了承诺")
    data = button_data(incoming, "通过")
    first = world.sim.tap(secretary.user_id, secretary.user_id, incoming.message_id, data)
    second = world.sim.tap(secretary.user_id, secretary.user_id, incoming.message_id, data)
    answers = [(await world.sim.wait_callback_answer(q, 10)).text or "" for q in (first, second)]
    assert answers[0] == "已通过"
    assert "已经处理过了" in answers[1] and "已公开" in answers[1]

    # The /review card shown before the decision is stale now: both of its buttons.
    assert "已经处理过了" in await secretary.tap_for_alert(queue_card, ok(pid, version))
    assert "已经处理过了" in await secretary.tap_for_alert(queue_card, ret(pid, version))

    await world.outbox_settled()
    published = await pledge(world, pid)
    assert published.status is PledgeStatus.PUBLISHED and published.version == version + 1
    assert len(await reviews(world, pid)) == 1
    number = published.number
    assert number is not None
    assert len([m for m in world.sim.bot_messages(BOARD_HS) if number in m.content]) == 1
    assert member.seen("审核通过并公开") == 1
    assert secretary.seen("退回的理由") == 0


async def test_an_older_version_button_is_stale(world: World) -> None:
    member, secretary, pid, version = await submitted_by_wang(world)
    first_card = newest(secretary, "提交了承诺")
    queue_card = await secretary.send("/review", expect="王建国")
    await secretary.tap_for_alert(queue_card, ret(pid, version))
    await secretary.send("请补充目标", expect="已退回")
    await member.receive("请补充目标")
    await member.tap("去修改", expect="请核对您的承诺")
    await member.tap("提交审核", expect="已提交审核")
    await secretary.receive("与上次提交相比没有改动")
    resubmitted = await pledge(world, pid)
    assert resubmitted.version == version + 2

    answer = await secretary.tap_for_alert(first_card, ok(pid, version))
    assert "有了变化" in answer
    assert (await pledge(world, pid)).status is PledgeStatus.SUBMITTED
    await secretary.tap("通过", expect="已通过")
    assert [r.version for r in await reviews(world, pid)] == [version, version + 2]


async def test_review_queue(world: World) -> None:
    secretary = await world.join("沈宝方")
    await secretary.send("/review", expect="目前没有待审核的承诺")
    for name, content in (("王建国", "帮扶困难户"), ("杨友林", "帮带种植户")):
        member = await world.join(name)
        await submit_one_item_pledge(member, content, "带头服务群众")
    other = await world.join("孙立新")  # another branch: not in this queue
    await submit_one_item_pledge(other, "楼道清洁", "带头服务群众")
    await secretary.receive("杨友林 提交了承诺")

    await secretary.send("/review", expect="待审核的承诺共 2 份")
    await world.sim.wait_until(lambda: secretary.seen("帮带种植户") == 2, 10)
    assert secretary.seen("楼道清洁") == 0
    # 王建国 is a cadre: the reviewer sees the flag of the missing parts.
    wang_card = [m for m in world.sim.bot_messages(secretary.user_id) if "帮扶困难户" in m.content]
    assert all("领导干部标准" in m.content for m in wang_card)

    member = world.people["王建国"]
    await member.send("/review", expect="只有支部书记和党委工作人员可以审核承诺")


async def test_return_needs_a_comment_and_cancel_keeps_it_waiting(world: World) -> None:
    member, secretary, pid, version = await submitted_by_wang(world)
    await secretary.tap("退回修改", expect="退回的理由")
    await secretary.send("   ", expect="退回意见不能为空")
    await assert_unchanged(world, pid, version)
    # Still waiting for the comment.
    await secretary.send("请把时限提前", expect="已退回 王建国 的承诺")
    assert (await pledge(world, pid)).status is PledgeStatus.RETURNED

    await member.receive("请把时限提前")
    await member.tap("去修改", expect="请核对您的承诺")
    await member.tap("提交审核", expect="已提交审核")
    await secretary.receive("与上次提交相比没有改动")
    resubmitted = await pledge(world, pid)

    await secretary.tap("退回修改", expect="退回的理由")
    await secretary.send("/cancel", expect="这份承诺仍在待审核中")
    await secretary.send("随便说一句", expect="我没有看懂")
    now = await pledge(world, pid)
    assert now.status is PledgeStatus.SUBMITTED and now.version == resubmitted.version
    assert len(await reviews(world, pid)) == 1


async def test_amendment_edits_the_board_post_in_place(world: World) -> None:
    member, secretary, pid, _ = await submitted_by_wang(world)
    world.group(BOARD_HS, "黄思村公示栏", [secretary, member])
    await secretary.send("/linkboard", expect="公示栏", chat_id=BOARD_HS)
    await secretary.tap("通过", expect="已通过")
    number = (await pledge(world, pid)).number
    assert number is not None
    await world.sim.wait_until(lambda: member.seen(number, BOARD_HS) == 1, 10)
    post = next(m for m in world.sim.bot_messages(BOARD_HS) if number in m.content)
    assert post.edits == 0

    mine = await member.send("/mypledges", expect="我的承诺")
    assert "已公开" in mine.content
    await member.tap(f"申请修改 {number}", expect="请核对您的承诺")
    assert (await pledge(world, pid)).status is PledgeStatus.AMENDING
    await member.tap("修改事项", expect="要修改哪一项")
    await member.tap("1. 每月参加支部学习", expect="哪一部分")
    await member.tap("目标", expect="可以检查的目标")
    await member.send("全年参加学习不少于24次", expect="请核对您的承诺")
    await member.tap("提交审核", expect="已提交审核")

    incoming = await secretary.receive("第1项修改了：目标")
    assert "全年参加学习不少于24次" in incoming.content
    await secretary.tap("通过", expect="已通过")
    await member.receive(f"您对承诺 {number} 的修改已审核通过")
    await world.sim.wait_until(lambda: post.edits == 1, 10)
    assert "全年参加学习不少于24次" in post.content and "已修改并重新审核" in post.content
    assert len([m for m in world.sim.bot_messages(BOARD_HS) if number in m.content]) == 1
    amended = await pledge(world, pid)
    assert amended.status is PledgeStatus.PUBLISHED and amended.number == number
    assert len(await reviews(world, pid)) == 2


async def test_secretary_drafting_own_pledge_can_still_return_with_a_comment(world: World) -> None:
    _, secretary, pid, _ = await submitted_by_wang(world)
    await secretary.send("/pledge", expect="您要填写哪一种承诺")
    await secretary.tap("我本人的承诺", expect="请选择承诺类型")
    await secretary.tap("年度承诺", expect="第 1 项")
    await secretary.tap("带头学习提高", expect="承诺内容")

    incoming = newest(secretary, "提交了承诺")
    await secretary.tap_for_alert(incoming, button_data(incoming, "退回修改"))
    await secretary.send("请把目标写具体", expect="已退回 王建国 的承诺")
    assert (await pledge(world, pid)).last_comment == "请把目标写具体"
    own = await only_pledge(world, secretary)
    assert own.pending_item is not None and own.pending_item.content is None

    # His draft continues where it was.
    await secretary.send("/pledge", expect="您要填写哪一种承诺")
    await secretary.tap("我本人的承诺", expect="第 1 项：请写下承诺内容")
    await secretary.send("带头讲党课", expect="可以检查的目标")


async def test_approving_after_asking_to_return_leaves_no_comment_waiting(world: World) -> None:
    _, secretary, pid, _ = await submitted_by_wang(world)
    await secretary.tap("退回修改", expect="退回的理由")
    await secretary.tap("通过", expect="已通过")
    await secretary.send("其实挺好", expect="我没有看懂")
    approved = await pledge(world, pid)
    assert approved.status is PledgeStatus.PUBLISHED and approved.last_comment is None
    assert [r.action for r in await reviews(world, pid)] == [ReviewAction.APPROVE]


async def test_a_restart_while_asked_for_the_comment_keeps_waiting(world: World) -> None:
    member, secretary, pid, _ = await submitted_by_wang(world)
    await secretary.tap("退回修改", expect="退回的理由")
    await world.runner.restart()
    await secretary.send("请补充完成时限", expect="已退回 王建国 的承诺")
    assert (await pledge(world, pid)).last_comment == "请补充完成时限"
    await member.receive("请补充完成时限")


async def test_abandoning_an_amendment_restores_the_published_pledge(world: World) -> None:
    member, secretary, pid, _ = await submitted_by_wang(world)
    world.group(BOARD_HS, "黄思村公示栏", [secretary, member])
    await secretary.send("/linkboard", expect="公示栏", chat_id=BOARD_HS)
    await secretary.tap("通过", expect="已通过")
    published = await pledge(world, pid)
    number = published.number
    assert number is not None
    await world.sim.wait_until(lambda: member.seen(number, BOARD_HS) == 1, 10)

    await member.send("/mypledges", expect="我的承诺")
    await member.tap(f"申请修改 {number}", expect="请核对您的承诺")
    await member.tap("添加事项", expect="第 2 项")
    await draft_item(member, "带头服务群众", "帮扶困难户")
    await member.tap("删除事项", expect="要删除哪一项")
    await member.tap("1. 每月参加支部学习", expect="请核对您的承诺")
    await member.tap("放弃修改", expect="原承诺保持公开不变")

    restored = await pledge(world, pid)
    assert restored.status is PledgeStatus.PUBLISHED and restored.number == number
    assert restored.items_snapshot() == published.items_snapshot()
    await world.outbox_settled()
    post = next(m for m in world.sim.bot_messages(BOARD_HS) if number in m.content)
    assert post.edits == 0 and "帮扶困难户" not in post.content
    to_secretary = [r["payload"]["text"] for r in await outbox_rows(world, secretary.user_id)]
    assert sum("提交了承诺" in text for text in to_secretary) == 1  # nothing new to review
