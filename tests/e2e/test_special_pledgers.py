"""Oral pledges recorded by the secretary, mobile and in-service members, the cadre's standard."""

from __future__ import annotations

from bot.domain.enums import PledgeStatus
from tests.e2e.flows import (
    BOARD_HS,
    draft_item,
    only_pledge,
    pledge,
    roster_person,
    submit_one_item_pledge,
)
from tests.e2e.harness import World

BOARD_DY = -100_002  # 东园社区 board group


async def test_secretary_records_an_oral_pledge(world: World) -> None:
    elder = await world.join("朱德顺")
    secretary = await world.join("沈宝方")
    clerk = await world.join("刘晓燕")
    world.group(BOARD_HS, "黄思村公示栏", [secretary, elder])
    await secretary.send("/linkboard", expect="公示栏", chat_id=BOARD_HS)

    pick = await secretary.send("/oral", expect="请选择要代录口头承诺的党员")
    labels = pick.button_labels()
    assert labels[0] == "🗣 朱德顺"  # members registered for oral pledges come first
    assert "沈宝方" not in " ".join(labels) and "张桂英" not in " ".join(labels)
    question = await secretary.tap("🗣 朱德顺", expect="请选择承诺类型")
    assert "正在为 朱德顺 代录口头承诺" in question.content
    await secretary.tap("年度承诺", expect="第 1 项")
    await secretary.tap("带头服务群众", expect="承诺内容")
    await secretary.send("帮助调解邻里纠纷", expect="可以检查的目标")
    await secretary.send("全年调解3起", expect="完成时限")
    asked = await secretary.send("年底", expect="谁负责")
    # The secretary is not the pledger: nothing calls 朱德顺 "本人" or the pledge "您的承诺".
    assert asked.button_labels()[0] == "朱德顺（承诺人）"
    summary = await secretary.tap("朱德顺（承诺人）", expect="请核对您为 朱德顺 代录的承诺")
    assert "🗣 口头承诺" in summary.content and "承诺人：朱德顺（黄思村党总支）" in summary.content
    assert "本人" not in summary.content and "您的承诺" not in summary.content

    # While the secretary records it, the member cannot open a second one of his own.
    await elder.send("/pledge", expect="正由支部书记代为填写")

    submitted = await secretary.tap("提交审核", expect="已提交审核")
    assert "由本支部其他书记或上级党委审核" in submitted.content
    recorded = await only_pledge(world, elder)
    assert recorded.is_oral and recorded.status is PledgeStatus.SUBMITTED
    assert recorded.drafter_id == (await roster_person(world, "沈宝方")).id
    assert [i.responsible for i in recorded.items] == ["朱德顺"]

    # Who wrote it down does not review it: the committee above does.
    incoming = await clerk.receive("朱德顺 提交了承诺")
    assert "🗣 口头承诺" in incoming.content
    await world.outbox_settled()
    assert secretary.seen("提交了承诺") == 0
    refused = await secretary.tap_forged(f"rv:ok:{recorded.id}:{recorded.version}")
    assert "这份承诺是您代录的" in refused
    await secretary.send("/review", expect="目前没有待审核的承诺")
    await clerk.tap("通过", expect="已通过 朱德顺 的承诺")
    number = (await pledge(world, recorded.id)).number
    assert number is not None

    told = await elder.receive(f"编号 {number}")
    assert "审核通过并公开" in told.content
    await secretary.receive(f"您代录的 朱德顺 的承诺已审核通过并公开，编号 {number}")
    await world.sim.wait_until(
        lambda: any(number in m.content for m in world.sim.bot_messages(BOARD_HS)), 10
    )
    post = next(m for m in world.sim.bot_messages(BOARD_HS) if number in m.content)
    assert "🗣 口头承诺" in post.content and "帮助调解邻里纠纷" in post.content


async def test_an_english_speaking_secretary_records_an_oral_pledge(world: World) -> None:
    secretary = await world.join("沈宝方", language_code="en")
    await secretary.send("/oral", expect="Choose the member")
    await secretary.tap("🗣 朱德顺", expect="choose the type of pledge")
    await secretary.tap("annual pledge", expect="Item 1")
    await secretary.tap("Lead in serving the people", expect="what will you do")
    await secretary.send("Help settle neighbours' disputes", expect="target")
    await secretary.send("3 disputes settled this year", expect="By when")
    asked = await secretary.send("end of year", expect="Who is responsible")
    assert asked.button_labels()[0] == "朱德顺 (the pledger)"
    summary = await secretary.tap(
        "朱德顺 (the pledger)", expect="Please check the pledge you are recording for 朱德顺"
    )
    assert "Myself" not in summary.content and "your pledge" not in summary.content
    submitted = await secretary.tap("Submit for review", expect="Submitted for review")
    assert "not by whoever recorded it" in submitted.content


async def test_oral_pledge_for_an_unbound_member(world: World) -> None:
    secretary = await world.join("沈宝方")
    clerk = await world.join("刘晓燕")
    await secretary.send("/oral", expect="请选择要代录口头承诺的党员")
    await secretary.tap("🗣 朱德顺", expect="请选择承诺类型")
    await secretary.tap("年度承诺", expect="第 1 项")
    await draft_item(secretary, "带头弘扬正气", "带头移风易俗", responsible="朱德顺（承诺人）")
    await secretary.tap("提交审核", expect="已提交审核")
    await clerk.receive("朱德顺 提交了承诺")
    await clerk.tap("通过", expect="已通过 朱德顺 的承诺")
    counts = await world.outbox_settled()
    assert counts.get("failed", 0) == 0 and counts.get("pending", 0) == 0
    zhu = await roster_person(world, "朱德顺")
    async with world.db.uow() as uow:
        [recorded] = await uow.pledges.find(person_id=zhu.id)
    assert recorded.status is PledgeStatus.PUBLISHED and recorded.is_oral


async def test_mobile_member_pledges_where_he_works_and_origin_is_told(world: World) -> None:
    origin_secretary = await world.join("沈宝方")
    secretary = await world.join("何志强")
    mobile = await world.join("唐勇")
    assert "新华精密机械有限公司党支部" in mobile.last().content

    await submit_one_item_pledge(mobile, "带头钻研数控技术", "带头争创佳绩")
    await secretary.receive("唐勇 提交了承诺")
    assert origin_secretary.seen("唐勇 提交了承诺") == 0  # the origin does not review
    await secretary.tap("通过", expect="已通过 唐勇 的承诺")
    approved = await only_pledge(world, mobile)
    assert approved.number is not None and approved.number.startswith("XH-JX-")

    informed = await origin_secretary.receive("流动党员 唐勇")
    assert "原属黄思村党总支" in informed.content
    assert "新华精密机械有限公司党支部" in informed.content
    assert approved.number in informed.content and "带头钻研数控技术" in informed.content
    await mobile.receive(f"编号 {approved.number}")


async def test_in_service_member_is_shown_on_the_residential_board(world: World) -> None:
    community_secretary = await world.join("吴静")
    world.group(BOARD_DY, "东园社区公示栏", [community_secretary])
    await community_secretary.send("/linkboard", expect="东园社区党支部", chat_id=BOARD_DY)
    secretary = await world.join("曹建军")
    member = await world.join("黄晓明")
    await submit_one_item_pledge(member, "到社区认领服务岗位", "带头服务群众")
    await secretary.receive("黄晓明 提交了承诺")
    await secretary.tap("通过", expect="已通过 黄晓明 的承诺")
    number = (await only_pledge(world, member)).number
    assert number is not None and number.startswith("XH-JG-")
    await world.sim.wait_until(
        lambda: any(number in m.content for m in world.sim.bot_messages(BOARD_DY)), 10
    )


async def test_cadre_missing_serve_is_warned_and_flagged(world: World) -> None:
    cadre = await world.join("王建国")
    secretary = await world.join("沈宝方")
    await cadre.send("/pledge", expect="请选择承诺类型")
    await cadre.tap("年度承诺", expect="第 1 项")
    await draft_item(cadre, "带头学习提高", "每月参加支部学习")
    warning = cadre.last().content
    assert "领导干部承诺应体现更高标准" in warning
    assert "带头解决群众最关心的问题" in warning and "带头廉洁自律、弘扬正气" in warning
    await cadre.tap("添加事项", expect="第 2 项")
    await draft_item(cadre, "带头弘扬正气", "调解邻里纠纷")
    warning = cadre.last().content
    assert "目前还缺少：带头解决群众最关心的问题。" in warning
    assert "带头廉洁自律" not in warning

    await cadre.tap("提交审核", expect="已提交审核")
    submitted = await only_pledge(world, cadre)
    assert submitted.cadre_gaps == ["serve"]
    incoming = await secretary.receive("王建国 提交了承诺")
    assert "⚠️ 领导干部标准：尚未体现 带头解决群众最关心的问题" in incoming.content
    # The queue's heading, then its card: "王建国" alone could match another message.
    title = await secretary.send("/review", expect="待审核的承诺共 1 份")

    def cards() -> list[str]:
        return [
            m.content
            for m in world.sim.bot_messages(secretary.user_id)
            if m.message_id > title.message_id and "王建国" in m.content
        ]

    await world.sim.wait_until(lambda: bool(cards()), 10)
    assert "⚠️ 领导干部标准" in cards()[0]

    # A member who is not a cadre sees no such warning.
    plain = await world.join("杨友林")
    await plain.send("/pledge", expect="请选择承诺类型")
    await plain.tap("年度承诺", expect="第 1 项")
    await draft_item(plain, "带头学习提高", "参加农技培训")
    assert "领导干部" not in plain.last().content


async def test_secretary_does_not_take_over_a_members_own_draft(world: World) -> None:
    secretary = await world.join("沈宝方")
    member = await world.join("朱德顺")
    await member.send("/pledge", expect="请选择承诺类型")
    await member.tap("年度承诺", expect="第 1 项")
    await secretary.send("/oral", expect="请选择要代录口头承诺的党员")
    answer = await secretary.tap_for_alert(
        secretary.last(), next(b.callback_data or "" for b in secretary.last().iter_buttons())
    )
    assert "正在自己填写承诺" in answer
    draft = await only_pledge(world, member)
    assert not draft.is_oral and draft.drafter_id == draft.person_id
