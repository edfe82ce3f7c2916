"""Broadcasts (通知) as people use them: compose, preview, send, 收到, the live report, the
list of those who have not acknowledged, re-sending, and bad input on the way."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.playground.sim_state import SimMessage, tiny_png
from storage import schema
from tests.e2e.files_support import kept_files
from tests.e2e.flows import button_data, newest
from tests.e2e.harness import Human, World

HEADER = "📢 通知｜黄思村党总支 沈宝方"


async def compose(sender: Human, text: str, audience: str) -> SimMessage:
    """/broadcast → the notice → an audience; the preview is showing."""
    await sender.send("/broadcast", expect="请发送通知内容")
    await sender.send(text, expect="请选择通知对象")
    return await sender.tap(audience, expect="请核对通知")


async def send_to_members(sender: Human, text: str) -> None:
    """Compose to the branch's party members and confirm."""
    await compose(sender, text, "本支部党员")
    await sender.tap("确认发送", expect="通知已开始发送")


async def report_of(world: World, sender: Human, expect: str, timeout: float = 10) -> SimMessage:
    """The sender's live report, once it shows ``expect``."""
    found: list[SimMessage] = []

    def shows() -> bool:
        for message in reversed(world.sim.bot_messages(sender.user_id)):
            if "通知送达报告" in message.content:
                if expect in message.content:
                    found.append(message)
                    return True
                return False
        return False

    try:
        await world.sim.wait_until(shows, timeout)
    except TimeoutError:
        reports = [
            m.content for m in world.sim.bot_messages(sender.user_id) if "报告" in m.content
        ]
        raise AssertionError(f"report never showed {expect!r}: {reports[-1:]}") from None
    return found[0]


async def send_file(person: Human, send: object, expect: str) -> None:
    """After a photo or file was sent (``send`` is the simulator call's result), wait for a new
    bot message containing ``expect``."""
    assert isinstance(send, SimMessage)

    def answered() -> bool:
        return any(
            expect in m.content and m.message_id > send.message_id
            for m in person.sim.bot_messages(person.user_id)
        )

    await person.sim.wait_until(answered, 10)


def notices(person: Human) -> list[SimMessage]:
    return [m for m in person.sim.bot_messages(person.user_id) if "📢 通知" in m.content]


async def pending_report_rows(world: World) -> int:
    async with world.db.engine.connect() as conn:
        return int(
            (
                await conn.execute(
                    select(func.count())
                    .select_from(schema.outbox)
                    .where(
                        schema.outbox.c.ref.like("bc:%:report"),
                        schema.outbox.c.status == "pending",
                    )
                )
            ).scalar_one()
        )


async def test_a_secretary_notifies_the_branch_and_follows_the_acknowledgements(
    world: World,
) -> None:
    secretary = await world.join("沈宝方")
    wang = await world.join("王建国")
    shen = await world.join("沈红梅")
    # 杨友林 and 朱德顺 (members too) have not joined: not reachable.
    preview = await compose(
        secretary, "周五下午三点在村部召开党员大会，请准时参加。", "本支部党员"
    )
    assert "共 4 人，其中 2 人已绑定" in preview.content
    assert "2 人尚未绑定账号" in preview.content
    await secretary.tap("确认发送", expect="通知已开始发送，共 4 人（可送达 2 人）")

    for member in (wang, shen):
        notice = await member.receive("周五下午三点")
        assert notice.content.startswith(HEADER)
        assert notice.button_labels() == ["收到"]
    report = await report_of(world, secretary, "✅ 已送达 2")
    assert "⏳ 发送中 0" in report.content and "❌ 失败 0" in report.content
    assert "无法送达（未绑定账号）2" in report.content
    assert "已确认收到 0 / 4" in report.content
    assert "对象：黄思村党总支 · 本支部党员，共 4 人" in report.content

    # 王建国 taps 收到: recorded, the button turns into ✓, the report is edited in place.
    notice = notices(wang)[-1]
    ack_data = button_data(notice, "收到")
    assert await wang.tap_for_alert(notice, ack_data) == "已确认收到，谢谢！"
    await world.sim.wait_until(lambda: notice.button_labels() == ["✓ 已收到"], 5)
    edited = await report_of(world, secretary, "已确认收到 1 / 4")
    assert edited.message_id == report.message_id  # one report message, edited
    # A double tap (the old button, as a slow client would send it) counts once.
    assert await wang.tap_forged(ack_data, notice) == "您已经确认过收到了。"
    assert (
        await wang.tap_for_alert(notice, button_data(notice, "已收到")) == "您已经确认过收到了。"
    )
    await world.outbox_settled()
    assert "已确认收到 1 / 4" in (await report_of(world, secretary, "已确认收到")).content
    assert await pending_report_rows(world) == 0
    assert secretary.seen("通知送达报告") == 1


async def test_the_unacknowledged_list_and_a_second_round(world: World) -> None:
    secretary = await world.join("沈宝方")
    wang = await world.join("王建国")
    shen = await world.join("沈红梅")
    await send_to_members(secretary, "请于本周内提交年度承诺。")
    await report_of(world, secretary, "✅ 已送达 2")
    first = notices(wang)[-1]
    await wang.tap_for_alert(first, button_data(first, "收到"))
    await report_of(world, secretary, "已确认收到 1 / 4")

    names = await secretary.tap("未确认名单", expect="尚未确认收到的人员")
    assert "共 3 人" in names.content
    assert "沈红梅" in names.content and "王建国" not in names.content
    assert "杨友林（未绑定，无法送达）" in names.content
    assert names.content.index("沈红梅") < names.content.index("杨友林")

    # Re-send: only 沈红梅 (reachable, not acknowledged); 王建国 acknowledged meanwhile.
    report = await report_of(world, secretary, "已确认收到 1 / 4")
    query = world.sim.tap(
        secretary.user_id, secretary.user_id, report.message_id, button_data(report, "重发")
    )
    assert (await world.sim.wait_callback_answer(query, 10)).text == "已向 1 人重发。"
    await world.sim.wait_until(lambda: len(notices(shen)) == 2, 10)
    assert len(notices(wang)) == 1
    await report_of(world, secretary, "共 2 轮")
    # 沈红梅 acknowledges on the superseded (first-round) message: counted once, and the
    # newer copy loses its 收到 button too.
    old, new = notices(shen)
    text = await shen.tap_for_alert(old, button_data(old, "收到"))
    assert "较早发出的一条" in text
    await world.sim.wait_until(lambda: new.button_labels() == ["✓ 已收到"], 10)
    await report_of(world, secretary, "已确认收到 2 / 4")
    bid = button_data(new, "已收到").rsplit(":", 1)[1]
    assert await shen.tap_forged(f"bc:ack:{bid}:2", new) == "您已经确认过收到了。"
    await world.outbox_settled()
    final = await report_of(world, secretary, "已确认收到 2 / 4")
    assert "未确认名单（2）" in final.button_labels()
    # Those left have not joined the bot: nobody to re-send to.
    query = world.sim.tap(
        secretary.user_id, secretary.user_id, final.message_id, button_data(final, "重发")
    )
    answer = await world.sim.wait_callback_answer(query, 10)
    assert answer.text is not None and "没有需要重发的人" in answer.text


async def test_a_recipient_who_blocked_the_bot_is_reported_with_the_reason(world: World) -> None:
    secretary = await world.join("沈宝方")
    wang = await world.join("王建国")
    shen = await world.join("沈红梅")
    world.sim.block_bot(shen.user_id)
    await send_to_members(secretary, "明天上午开展环境整治。")
    await wang.receive("环境整治")
    report = await report_of(world, secretary, "❌ 失败 1")
    assert "✅ 已送达 1" in report.content
    assert "失败原因：屏蔽了机器人 1" in report.content
    assert "⏳ 发送中 0" in report.content


async def test_residents_and_everyone_are_other_audiences(world: World) -> None:
    secretary = await world.join("沈宝方")
    resident = await world.join("张桂英")
    member = await world.join("王建国")
    preview = await compose(secretary, "村里将开展义诊。", "本支部群众")
    assert "本支部群众，共 4 人，其中 1 人已绑定" in preview.content
    await secretary.tap("更换对象", expect="请选择通知对象")
    preview = await secretary.tap("本支部全体人员", expect="请核对通知")
    assert "本支部全体人员，共 8 人，其中 2 人已绑定" in preview.content
    await secretary.tap("确认发送", expect="通知已开始发送")
    await resident.receive("义诊")
    await member.receive("义诊")
    await world.outbox_settled()
    assert notices(secretary) == []  # the sender is not among the recipients


async def test_a_committee_clerk_notifies_secretaries_or_chosen_branches(world: World) -> None:
    clerk = await world.join("刘晓燕")
    shen = await world.join("沈宝方")
    wu = await world.join("吴静")
    await clerk.send("/broadcast", expect="请发送通知内容")
    await clerk.send("各支部书记：请于月底前上报承诺兑现情况。", expect="请选择通知对象")
    labels = newest(clerk, "请选择通知对象").button_labels()
    assert "全体支部书记" in labels and "本支部党员" not in labels
    preview = await clerk.tap("全体支部书记", expect="请核对通知")
    assert "全体支部书记，共 4 人，其中 2 人已绑定" in preview.content
    await clerk.tap("确认发送", expect="通知已开始发送")
    for secretary in (shen, wu):
        notice = await secretary.receive("上报承诺兑现情况")
        assert notice.content.startswith("📢 通知｜新华镇党委 刘晓燕")

    # All members of chosen branches: a multi-select of branches.
    wang = await world.join("王建国")
    sun = await world.join("孙立新")
    await clerk.send("/broadcast", expect="请发送通知内容")
    await clerk.send("请各位党员参加主题党日活动。", expect="请选择通知对象")
    picker = await clerk.tap("所选支部的全体党员", expect="请选择要通知的支部")
    assert "☐ 新华精密机械有限公司党支部" in picker.button_labels()
    # Nothing chosen yet: refused, still asked.
    answer = await clerk.tap_for_alert(picker, button_data(picker, "完成"))
    assert answer == "请至少选择一个支部。"
    await clerk.tap("☐ 黄思村党总支", expect="已选 1 个")
    await clerk.tap("☐ 东园社区党支部", expect="已选 2 个")
    await clerk.tap("☐ 新华镇机关党支部", expect="已选 3 个")
    await clerk.tap("☑ 新华镇机关党支部", expect="已选 2 个")  # chosen by mistake: undone
    preview = await clerk.tap("完成", expect="请核对通知")
    assert "所选支部的全体党员（黄思村党总支、东园社区党支部），共 10 人" in preview.content
    await clerk.tap("确认发送", expect="通知已开始发送")
    for person in (wang, sun, shen, wu):
        await person.receive("主题党日")
    report = await report_of(world, clerk, "✅ 已送达 4")
    assert "无法送达（未绑定账号）6" in report.content


async def test_only_staff_may_broadcast_and_cancel_leaves_nothing(world: World) -> None:
    member = await world.join("王建国")
    resident = await world.join("张桂英")
    answer = await member.send("/broadcast", expect="仅限以下角色")
    assert "支部书记" in answer.content
    await resident.send("/broadcast", expect="仅限以下角色")

    secretary = await world.join("沈宝方")
    await secretary.send("/broadcast", expect="请发送通知内容")
    await secretary.send("   ", expect="通知内容不能为空")
    await secretary.send("请参加学习。", expect="请选择通知对象")
    await secretary.send("本支部党员", expect="请点击上方的按钮")  # typed instead of tapped
    await secretary.send("/cancel", expect="已取消，通知没有发送")
    # The old preview's buttons are stale now.
    stale = newest(secretary, "请选择通知对象")
    answer_text = await secretary.tap_for_alert(stale, button_data(stale, "本支部党员"))
    assert answer_text == "这个按钮已经失效了，请重新发送命令。"
    await world.outbox_settled()
    assert member.seen("请参加学习") == 0
    async with world.db.engine.connect() as conn:
        count = select(func.count()).select_from(schema.broadcasts)
        assert (await conn.execute(count)).scalar_one() == 0
    await secretary.send("/cancel", expect="现在没有正在进行的操作")


async def test_a_double_tap_on_send_sends_once(world: World) -> None:
    secretary = await world.join("沈宝方")
    wang = await world.join("王建国")
    preview = await compose(secretary, "通知：下周一升旗仪式。", "本支部党员")
    data = button_data(preview, "确认发送")
    first = world.sim.tap(secretary.user_id, secretary.user_id, preview.message_id, data)
    second = world.sim.tap_forged(secretary.user_id, secretary.user_id, preview.message_id, data)
    assert (await world.sim.wait_callback_answer(first, 10)).text is None
    answer = await world.sim.wait_callback_answer(second, 10)
    assert answer.text is not None and answer.show_alert
    await wang.receive("升旗仪式")
    await world.outbox_settled()
    assert len(notices(wang)) == 1


async def test_a_long_notice_arrives_in_order_with_the_button_last(world: World) -> None:
    secretary = await world.join("沈宝方")
    wang = await world.join("王建国")
    paragraphs = [f"第{n:02d}段：" + "为民服务办实事，" * 60 for n in range(1, 21)]
    text = "\n".join(paragraphs)  # about 9,900 characters: three messages
    assert 8192 < len(text) < 12288
    preview = await compose(secretary, text, "本支部党员")
    assert "将分 3 条消息依次发出" in preview.content
    await secretary.tap("确认发送", expect="通知已开始发送")
    await wang.receive("第20段")
    await world.outbox_settled()
    parts = [m for m in world.sim.bot_messages(wang.user_id) if "段：" in m.content]
    assert len(parts) == 3
    assert parts[0].content.startswith(HEADER)
    received = "".join(m.content for m in parts)
    assert [received.index(f"第{n:02d}段") for n in range(1, 21)] == sorted(
        received.index(f"第{n:02d}段") for n in range(1, 21)
    )
    assert all(len(m.content) <= 4096 for m in parts)
    assert [m.button_labels() for m in parts] == [[], [], ["收到"]]
    report = await report_of(world, secretary, "✅ 已送达 1")
    assert "⏳ 发送中 0" in report.content

    # Longer than a notice may be: refused before anything is sent.
    await secretary.send("/broadcast", expect="请发送通知内容")
    await secretary.send("长" * 20_001, expect="通知太长了")


async def test_photos_and_files(world: World) -> None:
    secretary = await world.join("沈宝方")
    wang = await world.join("王建国")
    # A photo above Telegram's 10 MB is refused.
    await secretary.send("/broadcast", expect="请发送通知内容")
    big = world.sim.send_photo(
        secretary.user_id, tiny_png(), caption="现场照片", file_size=11 * 1024 * 1024
    )
    await send_file(secretary, big, "图片太大（11.0 MB）")
    # A photo with a short caption: one message, the button under the photo.
    short = world.sim.send_photo(secretary.user_id, tiny_png(), caption="村道整治前后对比")
    await send_file(secretary, short, "请选择通知对象")
    await secretary.tap("本支部党员", expect="［图片］")
    await secretary.tap("确认发送", expect="通知已开始发送")
    photo = await wang.receive("村道整治前后对比")
    assert photo.photo is not None and photo.content.startswith(HEADER)
    assert photo.button_labels() == ["收到"]
    # Kept by Jiannuo, sent by the file_id Telegram knows it under (nothing uploaded).
    assert short.photo is not None and photo.photo.file_id == short.photo.file_id
    [kept] = [k for k in await kept_files(world) if k.telegram_id == short.photo.file_id]
    assert kept.data == tiny_png()

    # A caption above 1024 characters: the photo with the header, then the text with the button.
    long_caption = "关于开展人居环境整治的通知。" + "请各位党员带头清理房前屋后。" * 90
    assert len(long_caption) > 1024
    await secretary.send("/broadcast", expect="请发送通知内容")
    sent = world.sim.send_photo(secretary.user_id, tiny_png(), caption=long_caption)
    await send_file(secretary, sent, "请选择通知对象")
    await secretary.tap("本支部党员", expect="请核对通知")
    await secretary.tap("确认发送", expect="通知已开始发送")
    await wang.receive("关于开展人居环境整治的通知")
    await world.outbox_settled()
    media, text = world.sim.bot_messages(wang.user_id)[-2:]
    assert media.photo is not None and media.content == HEADER and not media.buttons
    assert text.content == long_caption and text.button_labels() == ["收到"]

    # A file, resent by its file_id.
    await secretary.send("/broadcast", expect="请发送通知内容")
    sent = world.sim.send_document(
        secretary.user_id, b"%PDF-1.4 ...", "承诺书模板.pdf", caption="承诺书模板"
    )
    await send_file(secretary, sent, "请选择通知对象")
    await secretary.tap("本支部党员", expect="［文件］")
    await secretary.tap("确认发送", expect="通知已开始发送")
    document = await wang.receive("承诺书模板")
    assert document.document is not None and document.document.file_name == "承诺书模板.pdf"
    assert sent.document is not None and document.document.file_id == sent.document.file_id
    [kept] = [k for k in await kept_files(world) if k.telegram_id == sent.document.file_id]
    assert (kept.data, kept.file.name) == (b"%PDF-1.4 ...", "承诺书模板.pdf")

    # A file above the 20 MB a bot may fetch is refused, naming the limit; nothing is kept.
    await secretary.send("/broadcast", expect="请发送通知内容")
    held = len(await kept_files(world))
    huge = world.sim.send_document(secretary.user_id, bytes(20 * 1024 * 1024 + 1), "录像.zip")
    await send_file(secretary, huge, "文件太大（20.0 MB），超过了 20 MB 的限制")
    assert len(await kept_files(world)) == held


async def test_broadcasts_lists_the_newest_with_their_reports(world: World) -> None:
    secretary = await world.join("沈宝方")
    await world.join("王建国")
    await secretary.send("/broadcasts", expect="您还没有发布过通知")
    await send_to_members(secretary, "第一条通知")
    await send_to_members(secretary, "第二条通知")
    await world.outbox_settled()
    listing = await secretary.send("/broadcasts", expect="您最近发布的通知")
    assert listing.content.index("第二条通知") < listing.content.index("第一条通知")
    assert "已送达 1/4" in listing.content
    report = await secretary.tap("第一条通知", expect="通知送达报告")
    assert "「第一条通知」" in report.content and "✅ 已送达 1" in report.content
    assert "已确认收到 0 / 4" in report.content
    wang = world.people["王建国"]
    first = next(m for m in notices(wang) if "第一条通知" in m.content)
    await wang.tap_for_alert(first, button_data(first, "收到"))
    # 刷新 edits that very message (the live report is another one, refreshed on its own).
    query = world.sim.tap(
        secretary.user_id, secretary.user_id, report.message_id, button_data(report, "刷新")
    )
    await world.sim.wait_callback_answer(query, 10)
    await world.sim.wait_until(lambda: "已确认收到 1 / 4" in report.content, 10)
    # Another secretary cannot open it.
    other = await world.join("吴静")
    bid = int(button_data(report, "刷新").rsplit(":", 1)[1])
    answer = await other.tap_forged(f"bc:rp:{bid}", other.last())
    assert "只有通知的发布人" in answer


async def test_composing_a_notice_while_a_pledge_draft_is_open(world: World) -> None:
    secretary = await world.join("沈宝方")
    wang = await world.join("王建国")
    await secretary.send("/pledge", expect="您要填写哪一种承诺")
    await secretary.send("/broadcast", expect="请发送通知内容")
    # The text is the notice, not an answer of the draft.
    await secretary.send("今晚七点组织生活会。", expect="请选择通知对象")
    await secretary.tap("本支部党员", expect="请核对通知")
    await secretary.tap("确认发送", expect="通知已开始发送")
    await wang.receive("组织生活会")
    # Another command ends the composing and goes through.
    await secretary.send("/broadcast", expect="请发送通知内容")
    await secretary.send("/help", expect="您可以使用以下命令")
    assert "/broadcast" in secretary.last().content


def utf16_units(text: str) -> int:
    """The length Telegram counts (📢 is two units)."""
    return len(text.encode("utf-16-le")) // 2


async def test_a_5000_character_notice_arrives_whole_in_parts_telegram_accepts(
    world: World,
) -> None:
    secretary = await world.join("沈宝方")
    wang = await world.join("王建国")
    shen = await world.join("沈红梅")
    text = "为民服务办实事，" * 625
    assert len(text) == 5000
    preview = await compose(secretary, text, "本支部党员")
    assert "将分 2 条消息依次发出" in preview.content
    await secretary.tap("确认发送", expect="通知已开始发送")
    for member in (wang, shen):
        await member.receive("为民服务")
    await world.outbox_settled()
    for member in (wang, shen):
        parts = [m for m in world.sim.bot_messages(member.user_id) if "为民服务" in m.content]
        assert len(parts) == 2, [m.content[:40] for m in parts]
        assert parts[0].content.startswith(HEADER)
        assert all(utf16_units(m.content) <= 4096 for m in parts)
        assert "".join(m.content for m in parts) == f"{HEADER}\n\n{text}"
        assert [m.button_labels() for m in parts] == [[], ["收到"]]
    report = await report_of(world, secretary, "✅ 已送达 2")
    assert "❌ 失败 0" in report.content
    assert not [r for r in world.sim.request_log if r.status == 400]

    # In English, with emoji in the text as well: every part within Telegram's count.
    wu = await world.join("吴静", language_code="en")
    sun = await world.join("孙立新")
    await wu.send("/broadcast", expect="Send the notice")
    english = "🌱 Plant trees on Saturday. " * 190
    await wu.send(english, expect="Who should receive it?")
    preview = await wu.tap("party members of the branch", expect="Please check the notice")
    assert "will go out as 2 messages" in preview.content
    await wu.tap("✅ Send", expect="on its way")
    await sun.receive("Plant trees")
    await world.outbox_settled()
    parts = [m for m in world.sim.bot_messages(sun.user_id) if "Plant trees" in m.content]
    assert len(parts) == 2 and all(utf16_units(m.content) <= 4096 for m in parts)
    assert "".join(m.content for m in parts).endswith(english.rstrip())
    report = await wu.receive("✅ delivered 1")
    assert "❌ failed 0" in report.content


async def test_a_refused_part_is_reported_as_failed_not_delivered(world: World) -> None:
    secretary = await world.join("沈宝方")
    wang = await world.join("王建国")
    shen = await world.join("沈红梅")
    # Telegram refuses the first part to 王建国 (any 400): the notice is not half-delivered
    # to him, it is reported failed.
    world.sim.inject_fault("sendMessage", 400, chat_id=wang.user_id)
    material = "学习内容，" * 600 + "\n" + "学习内容，" * 400  # two parts, split at the line break
    await send_to_members(secretary, "请各位党员阅读学习材料。\n" + material)
    await shen.receive("请各位党员阅读学习材料")
    await world.outbox_settled()
    assert not any("学习内容" in m.content for m in world.sim.bot_messages(wang.user_id))
    report = await report_of(world, secretary, "⏳ 发送中 0")
    assert "✅ 已送达 1" in report.content and "❌ 失败 1" in report.content
    listing = await secretary.send("/broadcasts", expect="您最近发布的通知")
    assert "已送达 1/4" in listing.content


async def test_a_re_send_is_a_reminder_and_a_second_one_right_away_is_refused(
    world: World,
) -> None:
    secretary = await world.join("沈宝方")
    shen = await world.join("沈红梅")
    await send_to_members(secretary, "请于本周内提交年度承诺。")
    report = await report_of(world, secretary, "✅ 已送达 1")
    resend = button_data(report, "重发")
    query = world.sim.tap(secretary.user_id, secretary.user_id, report.message_id, resend)
    assert (await world.sim.wait_callback_answer(query, 10)).text == "已向 1 人重发。"
    await world.sim.wait_until(lambda: len(notices(shen)) == 2, 10)
    first, reminder = notices(shen)
    assert first.content.startswith(HEADER)
    assert reminder.content.startswith("🔔 提醒：这条通知您还没有点击「收到」")
    assert HEADER in reminder.content and "提交年度承诺" in reminder.content
    await world.outbox_settled()

    # A second tap a moment later: refused with the reason, nothing sent.
    report = await report_of(world, secretary, "共 2 轮")
    query = world.sim.tap(secretary.user_id, secretary.user_id, report.message_id, resend)
    answer = await world.sim.wait_callback_answer(query, 10)
    assert answer.show_alert and answer.text is not None
    assert "刚刚重发过提醒" in answer.text and "10 分钟内不再重发" in answer.text
    await world.outbox_settled()
    assert len(notices(shen)) == 2

    # In English: the reminder and the refusal.
    wu = await world.join("吴静", language_code="en")
    sun = await world.join("孙立新", language_code="en")
    await wu.send("/broadcast", expect="Send the notice")
    await wu.send("Submit your annual pledge this week.", expect="Who should receive it?")
    await wu.tap("party members of the branch", expect="Please check the notice")
    await wu.tap("✅ Send", expect="on its way")
    await sun.receive("Submit your annual pledge")
    report = await wu.receive("✅ delivered 1")
    data = button_data(report, "🔁 Re-send to them")
    query = world.sim.tap(wu.user_id, wu.user_id, report.message_id, data)
    assert (await world.sim.wait_callback_answer(query, 10)).text == "Sent again to 1 person."
    await sun.receive("🔔 Reminder: you have not tapped")
    await world.outbox_settled()
    query = world.sim.tap(wu.user_id, wu.user_id, report.message_id, data)
    answer = await world.sim.wait_callback_answer(query, 10)
    assert answer.text is not None and "no second reminder within 10 minutes" in answer.text


async def test_a_notice_telegram_sent_as_two_messages_is_joined_back(world: World) -> None:
    """Telegram's apps send a text above 4096 as several messages: the parts after a nearly
    full one continue the notice instead of being taken for a mistyped audience."""
    secretary = await world.join("沈宝方")
    wang = await world.join("王建国")
    first, second = "为民服务办实事，" * 512, "请大家按时参加。" * 100  # cut at 4096 by the app
    await secretary.send("/broadcast", expect="请发送通知内容")
    await secretary.send(first, expect="请选择通知对象")
    joined = await secretary.send(second, expect="已接上第 2 段")
    assert "通知共 4896 字" in joined.content
    preview = await secretary.tap("本支部党员", expect="请核对通知")
    assert "将分 2 条消息依次发出" in preview.content
    await secretary.tap("确认发送", expect="通知已开始发送")
    await wang.receive("请大家按时参加")
    await world.outbox_settled()
    parts = [m for m in world.sim.bot_messages(wang.user_id) if "为民服务" in m.content]
    assert "".join(m.content for m in parts) == f"{HEADER}\n\n{first}{second}"
    # A short text after a short notice is still a mistyped audience.
    await secretary.send("/broadcast", expect="请发送通知内容")
    await secretary.send("明天开会。", expect="请选择通知对象")
    await secretary.send("本支部党员", expect="请点击上方的按钮")

    wu = await world.join("吴静", language_code="en")
    sun = await world.join("孙立新")
    first = "Plant trees. " * 315  # the app cut at a space, which it dropped
    await wu.send("/broadcast", expect="Send the notice")
    await wu.send(first.rstrip(), expect="Who should receive it?")
    joined = await wu.send("Bring water and gloves.", expect="Part 2 joined on")
    assert "the notice has 4118 characters" in joined.content
    await wu.tap("party members of the branch", expect="will go out as 2 messages")
    await wu.tap("✅ Send", expect="on its way")
    await sun.receive("Bring water and gloves.")
