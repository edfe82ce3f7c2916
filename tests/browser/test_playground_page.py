"""The playground page in real Chromium: pledge, approve, publish; live updates; files, polls."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import BrowserContext, expect

from bot.playground.run import Playground
from bot.playground.sim_state import tiny_png
from tests.browser.conftest import WAIT_MS, ChatPage

MEMBER = "沈红梅"  # 黄思村党总支, no pledge yet in the demo
SECRETARY = "沈宝方"  # her branch secretary
BOARD = "黄思村党总支公示栏"
CONTENT = "每周清扫三组主干道，劝导村民不乱堆乱放"
TARGET = "三组主干道保持整洁，每月检查不少于4次"


async def test_member_pledges_secretary_approves_board_publishes(chat: ChatPage) -> None:
    page = chat.page
    await expect(page.locator("#roster-guide")).to_contain_text("沈红梅")
    await chat.shot("roster")

    await chat.be(MEMBER)
    await expect(page.locator("#chat-name")).to_have_text("践诺")
    await expect(page.locator("#persona-role")).to_contain_text("党员 · 黄思村党总支")
    await chat.shot("member-private-chat")

    # The command menu is the one the bot set for a member: no /review, no /oral.
    await page.click("#menu-button")
    menu = page.locator("#command-menu")
    await expect(menu.locator("[data-command='pledge']")).to_contain_text("填写或继续承诺")
    await expect(menu.locator("[data-command='review']")).to_have_count(0)
    await chat.shot("member-command-menu")
    await menu.locator("[data-command='pledge']").click()
    await expect(page.locator("#messages .msg.out", has_text="/pledge")).to_be_visible()

    step = await chat.see("请选择承诺类型")
    count = await chat.messages().count()
    await chat.tap(step, "长期承诺")  # annual pledges wait for the campaign's pledge window
    # The bot edits the question in place: same bubble, new question, no new bubble.
    same = step
    await expect(same).to_contain_text("请选择类别", timeout=WAIT_MS)
    assert await chat.messages().count() == count
    await expect(same).to_contain_text("已编辑")
    await chat.shot("horizon-chosen-edited-in-place")

    await chat.tap(same, "带头服务群众")
    await expect(same).to_contain_text("承诺内容")
    await chat.type(CONTENT)
    await chat.see("可以检查的目标")
    await chat.type(TARGET)
    await chat.see("完成时限")
    await chat.type("年底")
    responsible = await chat.see("谁负责")
    await chat.tap(responsible, f"本人（{MEMBER}）")
    summary = await chat.see("请核对您的承诺")
    await expect(summary).to_contain_text(CONTENT)
    await expect(summary).to_contain_text(TARGET)
    await chat.shot("summary")
    await chat.tap(summary, "提交审核")
    await chat.see("已提交审核")
    await chat.shot("submitted")
    history = await chat.messages().count()

    # The secretary: the review request arrived in his private chat.
    await chat.be(SECRETARY)
    await expect(page.locator("#persona-role")).to_contain_text("支部书记")
    request = await chat.see(f"{MEMBER} 提交了承诺")
    await expect(request).to_contain_text(CONTENT)
    await page.click("#menu-button")
    await expect(page.locator("#command-menu [data-command='review']")).to_be_visible()
    await expect(page.locator("#command-menu [data-command='oral']")).to_be_visible()
    await page.keyboard.press("Escape")
    await page.click("#chat-name")  # closes the menu like a click elsewhere
    await chat.shot("secretary-review-request")
    await chat.tap(request, "通过")
    await expect(request).to_contain_text("已通过", timeout=WAIT_MS)
    await chat.shot("secretary-approved")

    # The publication in the branch's board group.
    await chat.open_chat(BOARD)
    await expect(page.locator("#chat-sub")).to_contain_text("位成员")
    post = await chat.see(f"承诺人：{MEMBER}")
    await expect(post).to_contain_text("公开承诺")
    await expect(post).to_contain_text(CONTENT)
    await expect(post).to_contain_text(f"责任人：{MEMBER}")
    await chat.shot("board-publication")

    # Back to the member: her history is kept and the approval has reached her.
    await chat.be(MEMBER)
    await chat.open_chat("践诺")
    await chat.see("审核通过并公开")
    assert await chat.messages().count() > history
    await expect(page.locator("#messages .msg.out", has_text=CONTENT)).to_be_visible()
    await chat.shot("member-notified")


async def test_bot_edits_in_place_and_messages_arrive_live(
    chat: ChatPage, context: BrowserContext, playground: Playground
) -> None:
    page = chat.page
    await chat.be("吴静")
    await page.evaluate("window.__sameDocument = 'yes'")
    bot = playground.app.bot if playground.app else None
    assert bot is not None
    long_text = "长消息会自动换行：" + "践行承诺、服务群众。" * 40
    sent = await bot.send_message(chat_id=_user_id(playground, "吴静"), text=long_text)

    arrived = chat.by_id(sent.message_id)
    await expect(arrived).to_contain_text("长消息会自动换行", timeout=WAIT_MS)
    # Exactly once (the demo's own notices may still be arriving in this chat meanwhile).
    assert await chat.messages().filter(has_text="长消息会自动换行").count() == 1
    box = await arrived.locator(".bubble").bounding_box()
    viewport = page.viewport_size
    assert box is not None and viewport is not None and box["width"] < viewport["width"] * 0.7
    assert box["height"] > 100  # wrapped over many lines, not cut off
    await chat.shot("arrived-live")

    handle = await arrived.element_handle()
    assert handle is not None
    await bot.edit_message_text(
        "内容已更新：这条消息被机器人修改了", chat_id=sent.chat_id, message_id=sent.message_id
    )
    await expect(arrived).to_contain_text("内容已更新", timeout=WAIT_MS)
    await expect(arrived).to_contain_text("已编辑")
    await expect(arrived).not_to_contain_text("长消息会自动换行")
    assert await handle.evaluate("node => node.isConnected")  # the same element, changed
    assert await chat.messages().filter(has_text="内容已更新").count() == 1
    assert await chat.messages().filter(has_text="长消息会自动换行").count() == 0
    assert await page.evaluate("window.__sameDocument") == "yes"  # never reloaded
    await chat.shot("edited-in-place")

    # Another person, in another tab, writes in the group: it shows up here live.
    await chat.open_chat("东园社区党支部公示栏")
    other = ChatPage(await context.new_page(), playground, chat.artifacts)
    await other.open()
    await other.be("郑家明")
    await other.open_chat("东园社区党支部公示栏")
    await other.type("大家好，我是三号楼的楼道长郑家明。")
    incoming = page.locator("#messages .msg.in", has_text="我是三号楼的楼道长")
    await expect(incoming).to_be_visible(timeout=WAIT_MS)
    await expect(incoming.locator(".sender")).to_have_text("郑家明")
    assert await page.evaluate("window.__sameDocument") == "yes"
    await chat.shot("group-message-live")
    assert not other.errors, other.errors


async def test_upload_poll_language_and_reset(
    chat: ChatPage, playground: Playground, tmp_path: Path
) -> None:
    page = chat.page
    await chat.be("王建国")
    photo = tmp_path / "现场照片.png"
    photo.write_bytes(tiny_png(40, 30))
    document = tmp_path / "学习心得.txt"
    document.write_text("每月参加支部集中学习。", encoding="utf-8")

    await page.locator("#text-input").fill("三组水渠修复现场")
    await page.locator("#file-input").set_input_files(str(photo))
    sent_photo = page.locator("#messages .msg.out", has=page.locator("img.photo")).last
    await expect(sent_photo).to_contain_text("三组水渠修复现场")
    assert await sent_photo.locator("img.photo").evaluate("img => img.naturalWidth") == 40
    await page.locator("#file-input").set_input_files(str(document))
    sent_doc = page.locator("#messages .msg.out", has_text="学习心得.txt").last
    await expect(sent_doc).to_be_visible()
    assert _user_id(playground, "王建国") in {
        m.from_user_id
        for m in playground.sim.messages(_user_id(playground, "王建国"))
        if m.document
    }
    await chat.shot("photo-and-file-sent")

    # A poll the bot sends in the board group: vote, see the result.
    bot = playground.app.bot if playground.app else None
    assert bot is not None
    board = next(p.org.board_chat_id for p in playground.cast if p.person.name == "王建国")
    assert board is not None
    await bot.send_poll(
        board, "您对本季度公开承诺的兑现情况满意吗？", ["满意", "基本满意", "不满意"]
    )
    await chat.open_chat(BOARD)
    poll = page.locator("#messages .msg", has=page.locator(".poll")).last
    await expect(poll).to_contain_text("匿名投票")
    await poll.locator(".poll-option", has_text="基本满意").click()
    await expect(poll.locator(".poll-result.mine")).to_contain_text("基本满意")
    await expect(poll).to_contain_text("1 人已投票")
    await chat.shot("poll-voted")

    # English UI, then back; the bot's words do not change with it.
    await page.click("#lang-toggle")
    await expect(page.locator("#reset-button")).to_have_text("Reset demo")
    await expect(poll).to_contain_text("1 voted")
    await chat.shot("english-ui")
    await page.click("#lang-toggle")
    await expect(page.locator("#reset-button")).to_have_text("重置演示")

    # Reset: the poll and the uploads are gone, the seeded publications are back.
    await page.click("#reset-button")
    await expect(page.locator("#modal")).to_be_visible()
    await chat.shot("reset-confirm")
    await page.click("#modal-ok")
    await expect(page.locator("#toast")).to_contain_text("已恢复演示数据", timeout=WAIT_MS * 2)
    await expect(page.locator("#chat-name")).to_have_text(BOARD)
    await chat.see("公开承诺 XH-HS-")
    await expect(page.locator("#messages .poll")).to_have_count(0)
    await chat.open_chat("践诺")
    await expect(page.locator("#messages .msg.out")).to_have_count(0)
    await chat.shot("after-reset")


def _user_id(playground: Playground, name: str) -> int:
    return next(p.user_id for p in playground.cast if p.person.name == name)


async def test_a_message_over_telegrams_limit_is_kept_and_explained(
    chat: ChatPage, playground: Playground
) -> None:
    page = chat.page
    await chat.be(SECRETARY)
    box = page.locator("#text-input")
    notice = "请各位党员于本周五前提交年度承诺。" + "📢" * 100 + "认真对照岗位职责。" * 500
    assert len(notice.encode("utf-16-le")) // 2 > 4096
    await box.fill(notice)
    await box.press("Enter")
    toast = page.locator("#toast")
    await expect(toast).to_contain_text(f"消息太长：{len(notice.encode('utf-16-le')) // 2} 字")
    await expect(toast).to_contain_text("最多 4096 字")
    await expect(box).to_have_value(notice)  # nothing typed is lost
    sent = playground.sim.messages(_user_id(playground, SECRETARY))
    assert not [m for m in sent if not m.from_bot]

    await page.click("#lang-toggle")
    await box.press("Enter")
    await expect(toast).to_contain_text("Message too long")
    await expect(toast).to_contain_text("Telegram allows 4096")
    await expect(box).to_have_value(notice)
    await page.click("#lang-toggle")
