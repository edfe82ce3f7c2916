"""践诺 as people do it: report progress with a photo, claim fulfilled, send back, accept."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.domain.models import Pledge
from bot.domain.progress import MB
from bot.domain.progress_models import ItemStatus, Verdict
from bot.playground.sim_state import SimMessage, tiny_png
from storage import schema
from tests.e2e.files_support import kept_files
from tests.e2e.flows import (
    button_data,
    newest,
    only_pledge,
    pledges_of,
    submit_one_item_pledge,
)
from tests.e2e.harness import WAIT, Human, World


async def send_photo(
    person: Human, data: bytes, expect: str, caption: str | None = None
) -> SimMessage:
    """The person sends a photo; wait for the bot's answer containing ``expect``."""
    mark = person._mark(person.user_id)
    person.sim.send_photo(person.user_id, data, caption=caption)
    return await person._expect(person.user_id, mark, expect, WAIT)


async def send_document(person: Human, data: bytes, name: str, expect: str) -> None:
    """The person sends a file; wait for the bot's answer containing ``expect``."""
    mark = person._mark(person.user_id)
    person.sim.send_document(person.user_id, data, name)
    await person._expect(person.user_id, mark, expect, WAIT)


async def published_pledge(world: World, content: str = "每月参加支部学习") -> tuple[Human, Human]:
    """王建国 pledges one item; his secretary 沈宝方 approves it."""
    member = await world.join("王建国")
    secretary = await world.join("沈宝方")
    await submit_one_item_pledge(member, content)
    await secretary.receive("王建国 提交了承诺")
    await secretary.tap("通过", expect="已通过")
    await member.receive("审核通过并公开")
    return member, secretary


async def entries(world: World) -> list[dict[str, object]]:
    async with world.db.engine.connect() as conn:
        rows = await conn.execute(
            select(schema.progress_entries).order_by(schema.progress_entries.c.id)
        )
        return [dict(r._mapping) for r in rows]


async def item_status(world: World, item_id: int) -> str | None:
    async with world.db.uow() as uow:
        return (await uow.progress.item_progress(item_id)).status.value


def bot_photos(world: World, human: Human) -> list[SimMessage]:
    return [m for m in world.sim.bot_messages(human.user_id) if m.photo is not None]


async def test_report_photo_claim_send_back_report_again_accept(world: World) -> None:
    member, secretary = await published_pledge(world)
    item_id = (await only_pledge(world, member)).items[0].id

    await member.send("/progress", expect="请选择要记录进展的承诺事项")
    await member.tap("1. 每月参加支部学习", expect="请用几句话写下做了什么")
    await member.send("参加了6月的支部学习，做了笔记", expect="已记下")
    await send_photo(member, tiny_png(), expect="已收到第 1 个证据")
    # The photo's bytes are in Jiannuo's store; Telegram's file_id is kept only as its
    # upload id on Telegram, and the entry names the stored file.
    sent = [m for m in world.sim.messages(member.user_id) if m.photo and not m.from_bot][-1].photo
    assert sent is not None
    [photo] = await kept_files(world)
    assert (photo.data, photo.telegram_id, photo.file.media_type) == (
        tiny_png(),
        sent.file_id,
        "image/jpeg",
    )
    assert (await entries(world))[0]["evidence"] == [
        {"kind": "photo", "file": photo.file.id, "size": len(tiny_png()), "name": None}
    ]
    await member.tap("申请兑现销号", expect="已申请兑现销号")

    card = await secretary.receive("王建国 申请兑现销号")
    assert "每月参加支部学习" in card.content and "证据：1 个" in card.content
    assert "参加了6月的支部学习" in card.content
    files_before = len(world.sim.state.files)
    await secretary.tap("查看证据", expect="的证据，共 1 个")
    await world.sim.wait_until(lambda: bool(bot_photos(world, secretary)), WAIT)
    # Re-sent by the cached file_id: nothing uploaded again.
    assert bot_photos(world, secretary)[-1].photo.file_id == sent.file_id  # type: ignore[union-attr]
    assert len(world.sim.state.files) == files_before
    assert await item_status(world, item_id) == ItemStatus.CLAIMED.value

    confirm = button_data(card, "确认兑现销号")
    await secretary.tap("退回补充", expect="退回「王建国：每月参加支部学习」的理由")
    await secretary.send("请附上学习签到表", expect="已退回 王建国 的兑现申请")
    # The card itself is decided now: it says so and offers no 确认 / 退回 any more.
    await world.sim.wait_until(lambda: "退回理由：请附上学习签到表" in card.content, WAIT)
    assert card.buttons == [] and "已退回 王建国 的「每月参加支部学习」兑现申请" in card.content
    back = await member.receive("被退回")
    assert "请附上学习签到表" in back.content and "沈宝方" in back.content
    assert await item_status(world, item_id) == ItemStatus.OPEN.value

    await member.tap("补充进展", expect="请用几句话写下")
    await member.send("附上了签到表", expect="已记下")
    await send_document(member, b"%PDF-1.4 sign-in sheet", "签到表.pdf", expect="已收到第 1 个")
    await member.tap("申请兑现销号", expect="已申请兑现销号")

    # The first card's button, as a slow client would still send it: refused.
    stale = await secretary.tap_forged(confirm, card)
    assert "已经处理过了" in stale
    second = await secretary.receive("完成情况：附上了签到表")
    data = button_data(second, "确认兑现销号")
    taps = [
        world.sim.tap(secretary.user_id, secretary.user_id, second.message_id, data)
        for _ in range(2)
    ]  # a double tap: both arrive before either is answered
    answers = [await world.sim.wait_callback_answer(q, WAIT) for q in taps]
    assert sorted(a.text or "" for a in answers)[0] == "已兑现销号"
    assert any("已经处理过了" in (a.text or "") for a in answers)
    await member.receive("已兑现销号 ✓")
    assert await item_status(world, item_id) == ItemStatus.FULFILLED.value
    verdicts = [e["verdict"] for e in await entries(world)]
    assert verdicts == [Verdict.SENT_BACK.value, Verdict.ACCEPTED.value]

    ledger = await secretary.send("/ledger", expect="承诺台账")
    assert "✓ 每月参加支部学习" in ledger.content and "兑现率 100.0%" in ledger.content
    record = await member.send("/record", expect="记实")
    assert "参加了6月的支部学习" in record.content and "附上了签到表" in record.content
    assert "已兑现销号" in record.content and "兑现申请被退回：请附上学习签到表" in record.content
    done = await member.send("/progress", expect="都已兑现销号")
    assert "1 项" in done.content


async def test_a_secretary_reading_english_sends_a_claim_back_and_the_card_says_so(
    world: World,
) -> None:
    member = await world.join("王建国")
    secretary = await world.join("沈宝方", language_code="en")
    await submit_one_item_pledge(member, "每月参加支部学习")
    await secretary.receive("王建国 submitted a pledge")
    await secretary.tap("✅ Approve", expect="")
    await member.receive("审核通过并公开")
    await member.send("/progress", expect="请选择要记录进展的承诺事项")
    await member.tap("1. 每月参加支部学习", expect="请用几句话写下做了什么")
    await member.send("参加了6月的支部学习", expect="已记下")
    await member.tap("申请兑现销号", expect="已申请兑现销号")
    card = await secretary.receive("王建国 claims a pledge item fulfilled")
    await secretary.tap("↩️ Send back", expect="Write why")
    await secretary.send("Please attach the sign-in sheet.", expect="sent back with your comment")
    await world.sim.wait_until(
        lambda: "Reason: Please attach the sign-in sheet." in card.content, WAIT
    )
    assert (
        card.buttons == [] and "王建国's claim on “每月参加支部学习” was sent back" in card.content
    )


async def test_bad_inputs_are_refused_and_nothing_is_stored(world: World) -> None:
    member, _secretary = await published_pledge(world)
    await member.send("/progress", expect="请选择要记录进展的承诺事项")
    await member.tap("每月参加支部学习", expect="请用几句话写下")
    await member.send("\u3000\u3000", expect="进展内容不能为空")
    await member.send("学" * 1001, expect="内容太长了（1001 字）")
    big_photo = tiny_png() + b"\0" * (10 * MB + 1)
    await send_photo(member, big_photo, caption="照片说明", expect="这张照片太大了")
    await send_photo(member, big_photo, expect="这张照片太大了")  # not kept for later either
    assert await entries(world) == []

    await member.send("参加了学习", expect="已记下")
    await send_photo(member, big_photo, expect="照片不能超过 10 MB")
    await send_document(member, b"\0" * (20 * MB + 1), "录像.zip", expect="文件不能超过 20 MB")
    await send_photo(member, tiny_png(), expect="已收到第 1 个证据")
    await member.send("好了", expect="请发送照片或文件作为证据")
    await member.tap("完成", expect="已保存")
    [entry] = await entries(world)
    assert entry["text"] == "参加了学习" and len(entry["evidence"]) == 1  # type: ignore[arg-type]
    assert entry["verdict"] == Verdict.NOTE.value

    # After "完成", text is no longer taken as progress.
    await member.send("随便说一句", expect="我没有看懂")


async def test_permissions_forged_buttons_change_nothing(world: World) -> None:
    member, secretary = await published_pledge(world)
    item_id = (await only_pledge(world, member)).items[0].id
    other = await world.join("杨友林")
    await other.send("/progress", expect="还没有已公开的承诺事项")
    assert "这不是您的承诺事项" in await other.tap_forged(f"pg:it:{item_id}")
    await other.send("我替他记一笔", expect="我没有看懂")  # no conversation was opened
    assert await entries(world) == []

    await member.send("/progress", expect="请选择")
    await member.tap("每月参加支部学习", expect="请用几句话写下")
    await member.send("学习了新党章", expect="已记下")
    await member.tap("申请兑现销号", expect="已申请兑现销号")
    await secretary.receive("王建国 申请兑现销号")
    [entry] = await entries(world)
    claim_id = entry["id"]

    # A member (even the claimant) cannot verify; another branch's secretary may not either.
    assert "只有支部书记和党委工作人员" in await other.tap_forged(f"pg:ok:{claim_id}")
    assert "只有支部书记和党委工作人员" in await member.tap_forged(f"pg:ok:{claim_id}")
    outsider = await world.join("吴静")
    assert "不归您核实" in await outsider.tap_forged(f"pg:ok:{claim_id}")
    assert "不归您核实" in await outsider.tap_forged(f"pg:back:{claim_id}")
    assert "这不是您的承诺事项" in await other.tap_forged(f"pg:claim:{claim_id}")
    assert "按钮已经失效" in await member.tap_forged("pg:ok:abc")
    assert await item_status(world, item_id) == ItemStatus.CLAIMED.value
    assert [e["verdict"] for e in await entries(world)] == [Verdict.OPEN.value]

    # A member's /ledger is refused with a clear message.
    await member.send("/ledger", expect="承诺台账仅供支部书记和党委工作人员查看")


async def test_secretary_claim_on_branch_pledge_goes_to_the_committee(world: World) -> None:
    secretary = await world.join("沈宝方")
    clerk = await world.join("刘晓燕")
    await secretary.send("/pledge", expect="哪一种承诺")
    await secretary.tap("本支部的组织承诺", expect="请选择承诺类型")
    await secretary.tap("年度承诺", expect="第 1 项")
    await secretary.tap("领导班子好", expect="承诺内容")
    await secretary.send("每季度召开一次组织生活会", expect="可以检查的目标")
    await secretary.send("全年4次", expect="完成时限")
    await secretary.send("年底", expect="谁负责")
    await secretary.tap("本支部（黄思村党总支）", expect="请核对本支部的承诺")
    await secretary.tap("提交审核", expect="已提交审核")
    await clerk.receive("提交了承诺")
    await clerk.tap("通过", expect="已通过")

    await secretary.send("/progress", expect="请选择")
    await secretary.tap("黄思村党总支：每季度召开", expect="正在为「黄思村党总支」记录进展")
    await secretary.send("已召开第二季度组织生活会", expect="已记下")
    await secretary.tap("申请兑现销号", expect="已申请兑现销号")
    card = await clerk.receive("黄思村党总支 申请兑现销号")
    assert "由 沈宝方 记录" in card.content
    [entry] = await entries(world)
    assert "不能核实自己的兑现申请" in await secretary.tap_forged(f"pg:ok:{entry['id']}")
    await clerk.tap("确认兑现销号", expect="已确认 黄思村党总支")
    told = await secretary.receive("已兑现销号 ✓")
    assert told.content.startswith("🎉 本支部的承诺事项「每季度召开一次组织生活会」已经核实")


async def test_amended_pledge_keeps_the_progress_of_its_items(world: World) -> None:
    member, secretary = await published_pledge(world)
    item_id = (await only_pledge(world, member)).items[0].id
    await member.send("/progress", expect="请选择")
    await member.tap("每月参加支部学习", expect="请用几句话写下")
    await member.send("参加了学习", expect="已记下")
    await member.tap("申请兑现销号", expect="已申请兑现销号")
    await secretary.receive("王建国 申请兑现销号")
    await secretary.tap("确认兑现销号", expect="已确认")

    await member.send("/mypledges", expect="我的承诺")
    await member.tap("申请修改", expect="请核对")
    await member.tap("修改事项", expect="要修改哪一项")
    await member.tap("1. 每月参加支部学习", expect="哪一部分")
    await member.tap("目标", expect="可以检查的目标")
    await member.send("全年参加学习12次以上", expect="请核对")
    await member.tap("提交审核", expect="已提交审核")
    await secretary.receive("第1项修改了：目标")
    await secretary.tap("通过", expect="已通过")
    await member.receive("修改已审核通过")
    amended = await only_pledge(world, member)
    assert amended.items[0].id == item_id
    assert await item_status(world, item_id) == ItemStatus.FULFILLED.value
    ledger = await secretary.send("/ledger", expect="承诺台账")
    assert "✓ 每月参加支部学习" in ledger.content


async def test_record_shows_this_and_last_month(world: World) -> None:
    member, _ = await published_pledge(world)
    await member.send("/record", expect="还没有记录进展")
    await member.send("/progress", expect="请选择")
    await member.tap("每月参加支部学习", expect="请用几句话写下")
    await member.send("读了两本书", expect="已记下")
    await member.tap("完成", expect="已保存")
    this_month = await member.send("/record", expect="记实（共 1 条）")
    assert "读了两本书" in this_month.content
    earlier = newest(member, "记实（共 1 条）")
    label = next(b.text for b in earlier.iter_buttons() if b.text.startswith("◀"))
    await member.tap(label, expect="还没有记录进展")
    await member.tap("本月", expect="读了两本书")
    async with world.db.engine.connect() as conn:
        months = (
            await conn.execute(select(func.count(func.distinct(schema.progress_entries.c.month))))
        ).scalar_one()
    assert months == 1


@pytest.mark.parametrize("language", ["zh-hans", "en"])
async def test_a_photo_before_the_words_is_kept_and_the_words_asked_for(
    world: World, language: str
) -> None:
    member, _ = await published_pledge(world)
    if language == "en":
        await member.send("/lang", expect="请选择语言")
        await member.tap("English", expect="Switched to English")
    await member.send("/progress")
    await member.tap("每月参加支部学习")
    kept, words = {
        "zh-hans": ("这会作为证据附在这条进展上（已收到 1 个）", "请再用文字写下"),
        "en": ("attached to this progress entry as evidence (1 so far)", "write in words"),
    }[language]
    answer = await send_photo(member, tiny_png(), expect=kept)
    assert words in answer.content
    await send_document(member, b"%PDF-1.4 sign-in", "签到表.pdf", expect="2")
    await member.send("参加了学习，附签到照片", expect="2")
    [entry] = await entries(world)
    assert entry["text"] == "参加了学习，附签到照片"
    assert [e["kind"] for e in entry["evidence"]] == ["photo", "document"]  # type: ignore[attr-defined]


async def test_progress_text_is_not_taken_by_an_open_draft(world: World) -> None:
    member, _ = await published_pledge(world)
    await member.send("/pledge", expect="请选择承诺类型")
    await member.tap("即时承诺", expect="第 1 项")
    await member.tap("带头服务群众", expect="承诺内容")  # the draft waits for its content

    await member.send("/progress", expect="请选择")
    await member.tap("每月参加支部学习", expect="请用几句话写下")
    await member.send("参加了支部学习", expect="已记下")
    await member.tap("完成", expect="已保存")
    [entry] = await entries(world)
    assert entry["text"] == "参加了支部学习"
    draft = (await only_pledge_drafts(world, member))[0]
    assert draft.pending_item is not None and draft.pending_item.content is None

    # With progress done, the draft takes its text again where it was.
    await member.send("帮助邻居修水管", expect="可以检查的目标")


async def only_pledge_drafts(world: World, member: Human) -> list[Pledge]:
    return [p for p in await pledges_of(world, member) if p.number is None]


async def test_attaching_survives_a_restart(world: World) -> None:
    member, secretary = await published_pledge(world)
    await member.send("/progress", expect="请选择")
    await member.tap("每月参加支部学习", expect="请用几句话写下")
    await member.send("参加了学习", expect="已记下")
    await world.runner.restart()
    await send_photo(member, tiny_png(), expect="已收到第 1 个证据")
    await member.tap("申请兑现销号", expect="已申请兑现销号")
    card = await secretary.receive("王建国 申请兑现销号")
    assert "证据：1 个" in card.content
