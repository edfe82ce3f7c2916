"""/export as people use it: the menu, a committee clerk walking to a branch, the documents
arriving with Chinese names, paging through 200 pledges, refusals, double taps."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from io import BytesIO

from openpyxl import load_workbook

from bot.domain.clock import SystemClock
from bot.playground.sim_state import SimMessage
from handlers import exports as exports_handlers
from tests.e2e.flows import button_data, roster_person
from tests.e2e.harness import WAIT, Human, World
from tests.export_data import Published, big_branch, publish
from tests.pdf_check import assert_cjk_glyphs, pdf_text

# A tap that builds a file is answered once the file is built (a refusal becomes the button's
# alert): seconds of PDF or Excel work in a thread, slower on a loaded machine than a reply.
BUILD_WAIT = 3 * WAIT


async def org_id(world: World, code: str) -> int:
    async with world.db.uow() as uow:
        org = await uow.orgs.by_code(code)
    assert org is not None
    return org.id


def today() -> date:
    return SystemClock().now().date()


async def huangsi_pledges(world: World) -> list[Published]:
    """黄思村: the branch's pledge and 王建国's, published."""
    hs = await org_id(world, "XH-HS")
    secretary = await roster_person(world, "沈宝方")
    wang = await roster_person(world, "王建国")
    day = today()
    pledges = [
        Published(
            hs,
            f"XH-HS-{day.year}-001",
            None,
            "黄思村党总支",
            [("硬化村组道路三公里", day + timedelta(days=90))],
            drafter_id=secretary.id,
        ),
        Published(
            hs,
            f"XH-HS-{day.year}-002",
            wang.id,
            "王建国",
            [("每月参加支部学习", day + timedelta(days=60)), ("帮扶两户困难群众", day)],
        ),
    ]
    await publish(world.db, pledges, SystemClock().now())
    return pledges


def documents(person: Human) -> list[SimMessage]:
    return [m for m in person.sim.bot_messages(person.user_id) if m.document is not None]


async def test_secretary_gets_the_board_table_as_pdf_and_excel(world: World) -> None:
    await huangsi_pledges(world)
    secretary = await world.join("沈宝方")
    menu = await secretary.send("/export", expect="请选择要导出的内容（黄思村党总支）")
    assert menu.button_labels() == [
        "📋 承诺公示表（Excel）",
        "🖨 承诺公示表（PDF，可打印张贴）",
        "📒 承诺台账（Excel）",
        "📜 承诺书（PDF，签字用）",
        "📊 创先争优统计表",
        "📦 年度档案包（ZIP，迎检用）",
        "✖ 关闭",
    ]
    pdf = await secretary.tap(
        "🖨 承诺公示表（PDF，可打印张贴）", expect="可直接打印张贴", timeout=BUILD_WAIT
    )
    assert pdf.document is not None
    assert pdf.document.file_name == f"黄思村党总支_承诺登记公示表_{today().isoformat()}.pdf"
    assert pdf.document.mime_type == "application/pdf"
    [page] = pdf_text(pdf.document.data)
    assert "黄思村党总支创先争优活动承诺登记（公示）表" in page
    assert "硬化村组道路三公里" in page and "帮扶两户困难群众" in page
    assert "13800000" not in page
    assert_cjk_glyphs(pdf.document.data, 0, "硬化道路")

    xlsx = await secretary.tap("📋 承诺公示表（Excel）", expect="（Excel）", timeout=BUILD_WAIT)
    assert xlsx.document is not None
    assert xlsx.document.file_name == f"黄思村党总支_承诺登记公示表_{today().isoformat()}.xlsx"
    ws = load_workbook(BytesIO(xlsx.document.data)).active
    assert ws is not None
    assert [ws.cell(row=r, column=5).value for r in (4, 5, 6)] == [
        "硬化村组道路三公里",
        "每月参加支部学习",
        "帮扶两户困难群众",
    ]

    letters = await secretary.tap("📜 承诺书（PDF，签字用）", expect="请选择要导出承诺书的承诺")
    assert letters.message_id == menu.message_id  # the menu turns into the list
    assert "共 2 份，第 1/1 页" in letters.content
    letter = await secretary.tap("王建国", expect="一式三份", timeout=BUILD_WAIT)
    assert letter.document is not None
    assert letter.document.file_name == f"王建国_承诺书_XH-HS-{today().year}-002.pdf"
    assert len(pdf_text(letter.document.data)) == 3

    closed = await secretary.tap("✖ 关闭", expect="已关闭")
    assert closed.message_id == menu.message_id and closed.button_labels() == []


async def test_committee_clerk_walks_to_a_branch_and_gets_ledger_and_statistics(
    world: World,
) -> None:
    await huangsi_pledges(world)
    jx = await org_id(world, "XH-JX")
    await big_branch(world.db, jx, "XH-JX", 200, 4, SystemClock().now())
    clerk = await world.join("刘晓燕")
    menu = await clerk.send("/export", expect="请选择要导出的内容（新华镇党委）")

    picker = await clerk.tap("📒 承诺台账（Excel）", expect="请选择导出承诺台账的单位")
    assert picker.message_id == menu.message_id
    assert picker.button_labels() == [
        "✅ 新华镇党委（本级）",  # then the branches, by code
        "东园社区党支部",
        "黄思村党总支",
        "新华镇机关党支部",
        "新华精密机械有限公司党支部",
        "✖ 关闭",
    ]
    started = asyncio.get_running_loop().time()
    ledger = await clerk.tap(
        "新华精密机械有限公司党支部", expect="共 800 项承诺事项", timeout=BUILD_WAIT
    )
    took = asyncio.get_running_loop().time() - started
    assert took < 5.0, took
    assert ledger.document is not None and ledger.document.file_name is not None
    assert ledger.document.file_name.startswith("新华精密机械有限公司党支部_承诺台账_")
    ws = load_workbook(BytesIO(ledger.document.data)).active
    assert ws is not None and ws.max_row == 3 + 800
    assert ws.cell(row=4, column=3).value == "党员000"

    # The letters of a branch of 200 pledges: ten a page, ◀ ▶ edit the list in place.
    await clerk.send("/export", expect="请选择要导出的内容")
    await clerk.tap("📜 承诺书（PDF，签字用）", expect="请选择导出承诺书的单位")
    first = await clerk.tap("新华精密机械有限公司党支部", expect="共 200 份，第 1/20 页")
    assert first.button_labels()[:2] == [
        f"XH-JX-{today().year}-001 党员000",
        f"XH-JX-{today().year}-002 党员001",
    ]
    assert first.button_labels()[-2:] == ["下一页 ▶", "✖ 关闭"]
    second = await clerk.tap("下一页 ▶", expect="第 2/20 页")
    assert second.message_id == first.message_id
    assert second.button_labels()[0] == f"XH-JX-{today().year}-011 党员010"
    assert second.button_labels()[-3:] == ["◀ 上一页", "下一页 ▶", "✖ 关闭"]
    letter = await clerk.tap("党员015", expect="一式三份", timeout=BUILD_WAIT)
    assert letter.document is not None
    assert "党员015承诺第4项" in "".join(pdf_text(letter.document.data))

    # The statistics form of the whole committee: a message and a workbook.
    await clerk.send("/export", expect="请选择要导出的内容")
    await clerk.tap("📊 创先争优统计表", expect="请选择导出统计表的单位")
    form = await clerk.tap(
        "📊 新华镇党委（全部汇总）", expect="创先争优活动有关项目统计（截至", timeout=BUILD_WAIT
    )
    assert "基层党组织 4 个，作出组织承诺的 1 个" in form.content
    assert "作出公开承诺的 201 名" in form.content
    assert "承诺事项 803 项" in form.content
    stats = await clerk.receive("创先争优活动有关项目统计表")
    assert stats.document is not None and stats.document.file_name is not None
    assert stats.document.file_name.startswith("新华镇党委_创先争优统计表_")
    wb = load_workbook(BytesIO(stats.document.data))
    assert [ws.title for ws in wb.worksheets] == ["统计表", "各组织明细"]


async def test_member_gets_own_letter_and_no_ledger(world: World) -> None:
    pledges = await huangsi_pledges(world)
    member = await world.join("王建国")
    menu = await member.send("/export", expect="您可以导出本支部的承诺公示表，或自己的承诺书")
    assert menu.button_labels() == [
        "📋 承诺公示表（Excel）",
        "🖨 承诺公示表（PDF，可打印张贴）",
        "📜 我的承诺书（PDF）",
        "✖ 关闭",
    ]
    mine = await member.tap("📜 我的承诺书（PDF）", expect="请选择您的承诺（共 1 份")
    letter = await member.tap("王建国", expect="一式三份", timeout=BUILD_WAIT)
    assert letter.document is not None
    pages = pdf_text(letter.document.data)
    assert ["第一联审定方备案" in p for p in pages] == [True, False, False]
    assert all("每月参加支部学习" in p for p in pages)

    # Forged buttons: another branch's ledger, the branch's ledger, someone else's letter.
    hs, dy = await org_id(world, "XH-HS"), await org_id(world, "XH-DY")
    refusal = "台账和统计表只有支部书记和党委工作人员可以导出"
    assert refusal in await member.tap_forged(f"ex:g:lx:{dy}", mine)
    assert refusal in await member.tap_forged(f"ex:g:lx:{hs}", mine)
    assert "只能导出自己的承诺书" in await member.tap_forged(f"ex:l:{pledges[0].id}", mine)
    assert "按钮已经失效" in await member.tap_forged("ex:g:zz:1", mine)
    assert "按钮已经失效" in await member.tap_forged("ex:l:abc", mine)
    assert len(documents(member)) == 1


async def test_resident_sees_only_public_data(world: World) -> None:
    pledges = await huangsi_pledges(world)
    resident = await world.join("张桂英")
    menu = await resident.send("/export", expect="您可以导出本支部公开的承诺公示表")
    assert menu.button_labels() == [
        "📋 承诺公示表（Excel）",
        "🖨 承诺公示表（PDF，可打印张贴）",
        "✖ 关闭",
    ]
    table = await resident.tap(
        "🖨 承诺公示表（PDF，可打印张贴）", expect="可直接打印张贴", timeout=BUILD_WAIT
    )
    assert table.document is not None
    assert "硬化村组道路三公里" in pdf_text(table.document.data)[0]
    hs = await org_id(world, "XH-HS")
    public_only = "群众代表可以导出本支部公开的承诺公示表"
    for forged in (f"ex:g:lx:{hs}", f"ex:g:sx:{hs}", f"ex:l:{pledges[1].id}", "ex:k:lt"):
        assert public_only in await resident.tap_forged(forged, menu)
    assert len(documents(resident)) == 1


async def test_a_double_tap_builds_one_file(world: World) -> None:
    jx = await org_id(world, "XH-JX")
    await big_branch(world.db, jx, "XH-JX", 200, 4, SystemClock().now())
    secretary = await world.join("何志强")
    menu = await secretary.send("/export", expect="请选择要导出的内容")
    data = button_data(menu, "承诺公示表（PDF")
    first = world.sim.tap(secretary.user_id, menu.chat_id, menu.message_id, data)
    second = world.sim.tap(secretary.user_id, menu.chat_id, menu.message_id, data)
    answers = [
        (await world.sim.wait_callback_answer(q, BUILD_WAIT)).text or "" for q in (first, second)
    ]
    assert "上一个文件还在生成，请稍候。" in answers
    await secretary.receive("可直接打印张贴")
    await world.sim.wait_until(lambda: not exports_handlers._building, BUILD_WAIT)
    await world.outbox_settled()
    assert len(documents(secretary)) == 1
