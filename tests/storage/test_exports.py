"""Exports on a real SQLite file with a fake clock: each file opened and read back, who may
export what, and a branch of 200 members and 800 items against the clock."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, update

from bot.chat.actions import Button, action
from bot.chat.actor import Actor
from bot.domain.clock import FakeClock
from bot.domain.enums import Role
from bot.domain.errors import DomainError
from bot.domain.exports import FEATURE, PLEDGES_PER_PAGE, ExportKind, ExportService
from bot.domain.roster import load_roster
from bot.domain.roster_import import import_roster
from bot.fonts import system_fallback_font
from handlers.exports import render_orgs, render_pledges
from storage import schema as s
from storage.db import Database
from tests.accounts import actor_for
from tests.buttons import fit_telegram, labels
from tests.export_data import (
    Published,
    add_evaluation,
    add_members,
    add_suggestions,
    big_branch,
    publish,
)
from tests.pdf_check import assert_cjk_glyphs, embedded_fonts, pdf_text, render_page

DEMO = Path(__file__).resolve().parents[2] / "bot" / "playground" / "demo"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 5, 9, 30, tzinfo=SHANGHAI)
TODAY = NOW.date()
ZH = "zh_CN"

# Telegram accounts
WANG, YANG, SHEN, LIU, WU, ZHANG = 101, 102, 103, 104, 105, 106
ACCOUNTS = {
    "王建国": WANG,  # member, 黄思村
    "杨友林": YANG,  # member, 黄思村 (post: 农技服务岗)
    "沈宝方": SHEN,  # secretary, 黄思村
    "刘晓燕": LIU,  # committee, 新华镇党委
    "吴静": WU,  # secretary, 东园社区
    "张桂英": ZHANG,  # resident, 黄思村
}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def service(db: Database, clock: FakeClock) -> ExportService:
    return ExportService(db, clock)


@pytest.fixture
async def people(db: Database, clock: FakeClock) -> dict[str, int]:
    """The demo roster with some accounts bound; name → person id."""
    await import_roster(db, clock, load_roster(DEMO / "orgs.csv", DEMO / "people.csv"))
    ids: dict[str, int] = {}
    async with db.uow() as uow:
        for org in await uow.orgs.all():
            for person in await uow.people.in_org(org.id):
                ids[person.name] = person.id
                if person.name in ACCOUNTS:
                    await uow.people.bind(person.id, ACCOUNTS[person.name], ZH)
    return ids


async def org_id(db: Database, code: str) -> int:
    async with db.uow() as uow:
        org = await uow.orgs.by_code(code)
    assert org is not None
    return org.id


@contextmanager
def refused(key: str) -> Iterator[None]:
    with pytest.raises(DomainError) as caught:
        yield
    assert caught.value.key == key


@pytest.fixture
async def huangsi(db: Database, people: dict[str, int]) -> dict[str, Published]:
    """黄思村: the branch's own pledge, 王建国's (one item fulfilled, one overdue), 朱德顺's oral
    pledge, 杨友林's pledge under amendment, and 沈红梅's draft (never shown)."""
    hs = await org_id(db, "XH-HS")
    branch = Published(
        hs,
        "XH-HS-2026-001",
        None,
        "黄思村党总支",
        [("硬化村组道路三公里", date(2026, 10, 31))],
        drafter_id=people["沈宝方"],
    )
    wang = Published(
        hs,
        "XH-HS-2026-002",
        people["王建国"],
        "王建国",
        [("每月参加支部学习", date(2026, 12, 31)), ("帮扶两户困难群众", date(2026, 5, 31))],
    )
    zhu = Published(
        hs,
        "XH-HS-2026-003",
        people["朱德顺"],
        "朱德顺",
        [("义务看护村里的水塘", date(2026, 9, 30))],
        drafter_id=people["沈宝方"],
        is_oral=True,
    )
    yang = Published(
        hs,
        "XH-HS-2026-004",
        people["杨友林"],
        "杨友林",
        [("帮带五户种植户", date(2026, 11, 30))],
        status="amending",
    )
    await publish(db, [branch, wang, zhu, yang], NOW - timedelta(days=20))
    async with db.engine.begin() as conn:
        # The amendment under review changed the item: only the published text may show.
        await conn.execute(
            update(s.pledge_items)
            .where(s.pledge_items.c.id == yang.item_ids[0])
            .values(content="尚未审核的修改内容")
        )
        await conn.execute(
            insert(s.pledge_items).values(
                pledge_id=yang.id,
                position=2,
                category="serve",
                content="修改时新增的事项",
                target="待审核",
                deadline=date(2026, 12, 31),
                responsible="本人",
            )
        )
        await conn.execute(
            insert(s.pledges).values(
                number=None,
                pledger_kind="member",
                person_id=people["沈红梅"],
                org_id=hs,
                drafter_id=people["沈红梅"],
                horizon="annual",
                status="draft",
                is_oral=False,
                version=1,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        await conn.execute(
            insert(s.item_progress),
            [
                {
                    "item_id": wang.item_ids[0],
                    "status": "fulfilled",
                    "done_on": date(2026, 6, 1),
                    "fulfilled_at": datetime(2026, 6, 2, 10, 0, tzinfo=SHANGHAI),
                    "last_progress_at": datetime(2026, 6, 1, 9, 0, tzinfo=SHANGHAI),
                    "verified_by": people["沈宝方"],
                },
                {
                    "item_id": branch.item_ids[0],
                    "status": "claimed",
                    "done_on": None,
                    "fulfilled_at": None,
                    "last_progress_at": None,
                    "verified_by": None,
                },
            ],
        )
        await conn.execute(
            insert(s.progress_entries),
            [
                {
                    "item_id": wang.item_ids[0],
                    "pledge_id": wang.id,
                    "org_id": hs,
                    "author_id": people["王建国"],
                    "text": "五月参加了两次集中学习",
                    "evidence": [],
                    "claims_fulfilled": False,
                    "verdict": "note",
                    "month": "2026-05",
                    "created_at": datetime(2026, 5, 20, 9, 0, tzinfo=SHANGHAI),
                },
                {
                    "item_id": wang.item_ids[0],
                    "pledge_id": wang.id,
                    "org_id": hs,
                    "author_id": people["王建国"],
                    "text": "六月学习笔记已交支部",
                    "evidence": [],
                    "claims_fulfilled": True,
                    "verdict": "accepted",
                    "month": "2026-06",
                    "created_at": datetime(2026, 6, 1, 9, 0, tzinfo=SHANGHAI),
                },
            ],
        )
        await conn.execute(
            insert(s.reviews).values(
                pledge_id=wang.id,
                reviewer_id=people["沈宝方"],
                action="approve",
                comment=None,
                version=1,
                at=NOW - timedelta(days=20),
            )
        )
    return {"branch": branch, "wang": wang, "zhu": zhu, "yang": yang}


def sheet_rows(data: bytes, sheet: int = 0) -> list[list[Any]]:
    wb = load_workbook(BytesIO(data))
    ws = wb.worksheets[sheet]
    return [list(row) for row in ws.iter_rows(values_only=True)]


def all_cells(data: bytes) -> str:
    wb = load_workbook(BytesIO(data))
    return "\n".join(
        str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row
    )


# ---- the publicity table ----------------------------------------------------------------


async def test_publicity_xlsx_lists_published_items_only(
    db: Database, service: ExportService, huangsi: dict[str, Published]
) -> None:
    hs = await org_id(db, "XH-HS")
    export = await service.export(await actor_for(db, SHEN), ExportKind.PUBLICITY_XLSX, hs, ZH)
    assert export.name == "黄思村党总支_承诺登记公示表_2026-06-05.xlsx"
    wb = load_workbook(BytesIO(export.data))
    ws = wb.active
    assert ws is not None
    assert ws["A1"].value == "黄思村党总支创先争优活动承诺登记（公示）表"
    assert ws.freeze_panes == "A4"
    assert ws.page_setup.orientation == "landscape"
    assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert ws.print_title_rows == "$3:$3"
    assert ws["E3"].font.bold and ws["E3"].fill.fgColor.rgb.endswith("D9E1F2")
    assert ws.column_dimensions["E"].width >= 30
    rows = sheet_rows(export.data)
    assert rows[2] == [
        "序号",
        "承诺编号",
        "承诺人",
        "类别",
        "承诺事项",
        "具体目标",
        "完成时限",
        "履行责任人",
        "兑现情况",
    ]
    body = rows[3:]
    assert [r[4] for r in body] == [
        "硬化村组道路三公里",
        "每月参加支部学习",
        "帮扶两户困难群众",
        "义务看护村里的水塘",
        "帮带五户种植户",  # as published, not the amendment under review
    ]
    assert body[0][2] == "黄思村党总支" and body[0][7] == "支部委员会"
    assert body[0][8] == "已完成，待核实"
    assert body[1][8] == "已兑现 2026-06-01" and body[1][6].date() == date(2026, 12, 31)
    assert body[2][8] == "逾期未兑现"
    assert body[3][2] == "朱德顺（口头承诺）" and body[3][8] == "正在落实"
    assert "共 4 份承诺、5 项承诺事项" in rows[1][0]
    text = all_cells(export.data)
    assert "尚未审核的修改内容" not in text
    assert "沈红梅" not in text
    assert "138000001" not in text  # no phone number, anywhere


async def test_publicity_pdf_reads_back_and_draws_chinese(
    db: Database, service: ExportService, huangsi: dict[str, Published]
) -> None:
    hs = await org_id(db, "XH-HS")
    export = await service.export(await actor_for(db, SHEN), ExportKind.PUBLICITY_PDF, hs, ZH)
    assert export.name.endswith(".pdf") and export.name.startswith("黄思村党总支_承诺登记公示表")
    assert export.data.startswith(b"%PDF")
    [page] = pdf_text(export.data)
    for expected in (
        "黄思村党总支创先争优活动承诺登记（公示）表",
        "公示日期：2026年6月5日",
        "序号承诺编号承诺人类别承诺事项具体目标完成时限履行责任人兑现情况",
        "硬化村组道路三公里",
        "朱德顺（口头承诺）",
        "已兑现2026-06-01",
        "第1页/共1页",
    ):
        assert expected in page, expected
    assert "尚未审核的修改内容" not in page and "13800000" not in page
    assert any("NotoSansCJKSC" in f for f in embedded_fonts(export.data))
    ARTIFACTS.mkdir(exist_ok=True)
    render_page(export.data, 0, ARTIFACTS / "export_publicity.png")
    assert_cjk_glyphs(export.data, 0, "黄思村硬化道路")


async def test_publicity_header_repeats_and_pages_are_numbered(
    db: Database, service: ExportService, people: dict[str, int]
) -> None:
    dy = await org_id(db, "XH-DY")
    await big_branch(db, dy, "XH-DY", 30, 4, NOW)
    export = await service.export(await actor_for(db, WU), ExportKind.PUBLICITY_PDF, dy, ZH)
    pages = pdf_text(export.data)
    assert len(pages) > 3
    for n, page in enumerate(pages, start=1):
        assert "序号承诺编号承诺人类别承诺事项" in page
        assert f"第{n}页/共{len(pages)}页" in page
    text = "".join(pages)
    assert all(f"党员{k:03d}承诺第4项" in text for k in range(30))


# ---- the ledger -------------------------------------------------------------------------


async def test_ledger_xlsx_one_row_per_item(
    db: Database, service: ExportService, huangsi: dict[str, Published]
) -> None:
    hs = await org_id(db, "XH-HS")
    export = await service.export(await actor_for(db, SHEN), ExportKind.LEDGER, hs, ZH)
    assert export.name == "黄思村党总支_承诺台账_2026-06-05.xlsx"
    rows = sheet_rows(export.data)
    assert rows[0][0] == "黄思村党总支承诺践诺台账"
    # The figures are the chat ledger's (an item an amendment adds counts once it exists).
    assert "承诺事项 6 项，已兑现 1 项，兑现率 16.7%，逾期 1 项，待核实 1 项" in rows[1][0]
    assert rows[2] == [
        "序号",
        "承诺编号",
        "承诺人",
        "类别",
        "承诺事项",
        "具体目标",
        "完成时限",
        "履行责任人",
        "状态",
        "最近进展",
        "进展日期",
        "核实销号日期",
    ]
    body = {r[4]: r for r in rows[3:]}
    assert len(rows[3:]) == 6
    assert "尚未审核的修改内容" not in body  # the amended item shows as published
    assert body["帮带五户种植户"][8] == "正在落实"
    assert body["修改时新增的事项"][8] == "正在落实（修改新增，待审核）"
    learn = body["每月参加支部学习"]
    assert learn[1:4] == ["XH-HS-2026-002", "王建国", "带头争创佳绩"]
    assert learn[5] == "目标：每月参加支部学习" and learn[7] == "本人"
    assert learn[8] == "已兑现 2026-06-01"
    assert learn[9] == "六月学习笔记已交支部"  # the latest entry
    assert learn[10].date() == date(2026, 6, 1) and learn[11].date() == date(2026, 6, 2)
    assert body["硬化村组道路三公里"][2] == "黄思村党总支（组织承诺）"
    assert body["帮扶两户困难群众"][8] == "逾期未兑现"
    assert body["帮扶两户困难群众"][9] is None and body["帮扶两户困难群众"][11] is None
    assert "138000001" not in all_cells(export.data)


# ---- the pledge letter ------------------------------------------------------------------


async def test_letter_has_three_labelled_copies_for_signing(
    db: Database, service: ExportService, huangsi: dict[str, Published]
) -> None:
    wang = huangsi["wang"]
    export = await service.letter(await actor_for(db, WANG), wang.id, ZH)  # the pledger's own
    assert export.name == "王建国_承诺书_XH-HS-2026-002.pdf"
    pages = pdf_text(export.data)
    assert len(pages) == 3
    labels = ("第一联审定方备案", "第二联承诺人留存", "第三联公开栏公示")
    for page, label in zip(pages, labels, strict=True):
        assert label in page
        for other in set(labels) - {label}:
            assert other not in page
        for expected in (
            "创先争优活动党员公开承诺书",
            "编号：XH-HS-2026-002",
            "承诺人：王建国所在党组织：黄思村党总支",
            "承诺类型：年度承诺",
            "每月参加支部学习",
            "帮扶两户困难群众",
            "2026-12-31",
            "承诺人（签名）：",
            "审定方：黄思村党总支（盖章）",
            "审定人（签名）：",
            "审定公开日期：2026年5月16日审定人：沈宝方",
            "一式三份",
        ):
            assert expected in page, expected
    ARTIFACTS.mkdir(exist_ok=True)
    render_page(export.data, 2, ARTIFACTS / "export_letter.png")
    assert_cjk_glyphs(export.data, 2, "承诺书签名")


async def test_branch_and_oral_letters(
    db: Database, service: ExportService, huangsi: dict[str, Published], people: dict[str, int]
) -> None:
    branch = await service.letter(await actor_for(db, LIU), huangsi["branch"].id, ZH)
    page = pdf_text(branch.data)[0]
    assert "创先争优活动党组织公开承诺书" in page
    assert "审定方：新华镇党委（盖章）" in page  # a branch pledge is reviewed above
    # The branch pledges: its name once, not as "承诺人：X　所在党组织：X".
    assert "承诺党组织：黄思村党总支" in page and "所在党组织" not in page
    oral = await service.letter(await actor_for(db, SHEN), huangsi["zhu"].id, ZH)
    assert "口头承诺，由沈宝方代为记录" in pdf_text(oral.data)[0]
    async with db.engine.begin() as conn:
        await conn.execute(
            update(s.people)
            .where(s.people.c.id == people["杨友林"])
            .values(post="农技服务岗：帮带5户种植户")
        )
    amended = pdf_text(
        (await service.letter(await actor_for(db, YANG), huangsi["yang"].id, ZH)).data
    )[0]
    assert "岗位职责：农技服务岗：帮带5户种植户" in amended
    assert "帮带五户种植户" in amended and "尚未审核的修改内容" not in amended


# ---- the statistics form ----------------------------------------------------------------


async def test_stats_form_for_branch_and_committee(
    db: Database, service: ExportService, huangsi: dict[str, Published], people: dict[str, int]
) -> None:
    hs = await org_id(db, "XH-HS")
    dy = await org_id(db, "XH-DY")
    await add_suggestions(db, hs, people["张桂英"], 6, 4, NOW)
    await add_suggestions(db, dy, people["周桂芳"], 3, 1, NOW)
    await add_evaluation(db, hs, people["沈宝方"], [(25, 3, 2)], NOW)  # 28/30 = 93.3 %
    await add_evaluation(db, dy, people["吴静"], [(15, 2, 5)], NOW)  # 17/22 fails
    await add_evaluation(db, dy, people["吴静"], [(1, 0, 0)], NOW, status="open")  # not held yet

    branch = await service.export(await actor_for(db, SHEN), ExportKind.STATS, hs, ZH)
    assert branch.message is not None
    for expected in (
        "黄思村党总支 创先争优活动有关项目统计（截至 2026-06-05）",
        "基层党组织 1 个，作出组织承诺的 1 个",
        "党员 5 名，作出公开承诺的 3 名（60.0%）",
        "承诺事项 6 项，已兑现 1 项，兑现率 16.7%",
        "逾期未兑现 1 项",
        "收集群众反映的突出问题 6 个，已解决 4 个",
        "开展群众评议 1 次，参评 30 人次，群众满意率 93.3%；",
        "公布结果的评议对象 1 个，满意率达标 1 个",
    ):
        assert expected in branch.message, expected
    rows = sheet_rows(branch.data)
    assert rows[0][0] == "创先争优活动有关项目统计"
    figures = {r[1]: r[2] for r in rows[3:]}
    assert figures["基层党组织"] == 1
    assert figures["党员"] == 5 and figures["作出公开承诺的党员"] == 3
    assert figures["承诺事项"] == 6 and figures["已兑现承诺事项"] == 1
    assert figures["兑现率"] == pytest.approx(1 / 6)
    assert figures["收集群众反映的突出问题"] == 6 and figures["已解决的问题"] == 4
    assert figures["开展群众评议"] == 1 and figures["群众满意率"] == pytest.approx(28 / 30)
    assert len(load_workbook(BytesIO(branch.data)).worksheets) == 1

    committee = await service.export(
        await actor_for(db, LIU), ExportKind.STATS, await org_id(db, "XH"), ZH
    )
    assert committee.message is not None
    assert "基层党组织 4 个，作出组织承诺的 1 个" in committee.message
    assert "收集群众反映的突出问题 9 个，已解决 5 个" in committee.message
    assert "开展群众评议 2 次，参评 52 人次，群众满意率 86.5%" in committee.message
    assert "公布结果的评议对象 2 个，满意率达标 1 个" in committee.message
    detail = sheet_rows(committee.data, 1)
    assert detail[2][:4] == ["序号", "党组织", "代码", "党员数"]
    by_code = {r[2]: r for r in detail[3:]}
    assert set(by_code) == {"XH", "XH-HS", "XH-DY", "XH-JX", "XH-JG"}
    assert by_code["XH-DY"][9:12] == [3, 1, 1]  # issues, solved, evaluations
    assert by_code["XH-HS"][6:8] == [6, 1]  # items, fulfilled


# ---- permissions ------------------------------------------------------------------------


async def test_who_may_export_what(
    db: Database, service: ExportService, huangsi: dict[str, Published], people: dict[str, int]
) -> None:
    hs, dy = await org_id(db, "XH-HS"), await org_id(db, "XH-DY")
    # A member: the public table of their branch and their own letter, nothing else.
    assert (
        await service.export(await actor_for(db, WANG), ExportKind.PUBLICITY_XLSX, hs, ZH)
    ).data
    with refused("export.members_public_only"):
        await service.export(await actor_for(db, WANG), ExportKind.LEDGER, dy, ZH)
    with refused("export.members_public_only"):
        await service.export(await actor_for(db, WANG), ExportKind.LEDGER, hs, ZH)
    with refused("export.members_public_only"):
        await service.export(await actor_for(db, WANG), ExportKind.STATS, hs, ZH)
    with refused("export.not_your_branch"):
        await service.export(await actor_for(db, WANG), ExportKind.PUBLICITY_PDF, dy, ZH)
    with refused("export.letter_not_yours"):
        await service.letter(await actor_for(db, WANG), huangsi["zhu"].id, ZH)
    with refused("export.letter_not_yours"):
        await service.pledge_page(await actor_for(db, WANG), hs, 0)
    mine = await service.pledge_page(await actor_for(db, WANG), None, 0)
    assert [number for _, number, _ in mine.pledges] == ["XH-HS-2026-002"]
    # A resident: public data only.
    assert (
        await service.export(await actor_for(db, ZHANG), ExportKind.PUBLICITY_PDF, hs, ZH)
    ).data
    for kind in (ExportKind.LEDGER, ExportKind.STATS):
        with refused("export.resident_public_only"):
            await service.export(await actor_for(db, ZHANG), kind, hs, ZH)
    with refused("export.resident_public_only"):
        await service.letter(await actor_for(db, ZHANG), huangsi["wang"].id, ZH)
    with refused("export.resident_public_only"):
        await service.pledge_page(await actor_for(db, ZHANG), None, 0)
    # A secretary: their branch only.
    with refused("export.not_your_branch"):
        await service.export(await actor_for(db, WU), ExportKind.LEDGER, hs, ZH)
    with refused("export.not_your_branch"):
        await service.letter(await actor_for(db, WU), huangsi["wang"].id, ZH)
    with refused("export.committee_only"):
        await service.org_page(await actor_for(db, WU), ExportKind.LEDGER, dy, 0)
    # A committee clerk: their subtree, not another committee's.
    other = await _other_committee(db)
    assert (await service.export(await actor_for(db, LIU), ExportKind.LEDGER, hs, ZH)).data
    with refused("export.not_your_scope"):
        await service.export(await actor_for(db, LIU), ExportKind.LEDGER, other, ZH)
    with refused("export.not_your_scope"):
        await service.org_page(await actor_for(db, LIU), ExportKind.LEDGER, other, 0)
    # Stale or unknown targets; someone not on the roster.
    with refused("export.no_such_org"):
        await service.export(await actor_for(db, SHEN), ExportKind.LEDGER, 99_999, ZH)
    with refused("export.no_such_pledge"):
        await service.letter(await actor_for(db, SHEN), 99_999, ZH)
    with refused("auth.not_registered"):  # left the roster since they tapped
        await service.menu(Actor(424242, "已调离", hs, Role.MEMBER, ZH))


async def _other_committee(db: Database) -> int:
    async with db.engine.begin() as conn:
        await conn.execute(
            insert(s.orgs),
            [{"code": "YY", "name": "远方镇党委", "type": "committee", "parent_id": None}],
        )
    yy = await org_id(db, "YY")
    async with db.engine.begin() as conn:
        await conn.execute(
            insert(s.orgs),
            [{"code": "YY-A", "name": "远方村党支部", "type": "rural", "parent_id": yy}],
        )
    return await org_id(db, "YY-A")


async def test_menus_offer_what_each_role_may_export(
    service: ExportService, people: dict[str, int]
) -> None:
    assert (await service.menu(await actor_for(service.db, SHEN))).kinds == tuple(ExportKind)
    assert (await service.menu(await actor_for(service.db, LIU))).committee
    assert (await service.menu(await actor_for(service.db, WANG))).kinds == (
        ExportKind.PUBLICITY_XLSX,
        ExportKind.PUBLICITY_PDF,
        ExportKind.LETTER,
    )
    assert (await service.menu(await actor_for(service.db, ZHANG))).kinds == (
        ExportKind.PUBLICITY_XLSX,
        ExportKind.PUBLICITY_PDF,
    )


async def test_operator_exports_by_code_and_number(
    db: Database, service: ExportService, huangsi: dict[str, Published]
) -> None:
    letter = await service.export_for_operator(ExportKind.LETTER, "XH", "XH-HS-2026-002", ZH)
    assert len(pdf_text(letter.data)) == 3
    with refused("export.cli.unknown_org"):
        await service.export_for_operator(ExportKind.LEDGER, "NOPE", None, ZH)
    with refused("export.cli.need_pledge"):
        await service.export_for_operator(ExportKind.LETTER, "XH-HS", None, ZH)
    with refused("export.cli.unknown_pledge"):
        await service.export_for_operator(ExportKind.LETTER, "XH-HS", "XH-HS-2026-999", ZH)
    with refused("export.cli.pledge_elsewhere"):
        await service.export_for_operator(ExportKind.LETTER, "XH-DY", "XH-HS-2026-002", ZH)


# ---- large data -------------------------------------------------------------------------


async def test_branch_of_200_members_and_800_items_exports_whole(
    db: Database, service: ExportService, people: dict[str, int]
) -> None:
    jx = await org_id(db, "XH-JX")
    pledges = await big_branch(db, jx, "XH-JX", 200, 4, NOW)
    # Every file holds all 800 items; how fast it is built (< 5 s) is bench/bench_exports.py's
    # target, not a timed assertion here (it failed on a loaded machine).
    for kind in (ExportKind.PUBLICITY_XLSX, ExportKind.PUBLICITY_PDF, ExportKind.LEDGER):
        export = await service.export(await actor_for(db, LIU), kind, jx, ZH)
        if kind is ExportKind.PUBLICITY_PDF:
            text = "".join(pdf_text(export.data))
            assert "党员199承诺第4项" in text and "共200份承诺、800项承诺事项" in text
        else:
            assert len(sheet_rows(export.data)) == 3 + 800
    letter = await service.letter(await actor_for(db, LIU), pledges[-1].id, ZH)
    assert len(pdf_text(letter.data)) == 3

    # The letter picker pages through the 200 pledges, 10 at a time, within Telegram's limits.
    seen: list[str] = []
    page = await service.pledge_page(await actor_for(db, LIU), jx, 0)
    assert page.total == 200 and page.pages == 200 // PLEDGES_PER_PAGE
    while True:
        text, buttons = render_pledges(ZH, page)
        assert len(text) <= 4096 and sum(len(row) for row in buttons) <= 100
        assert fit_telegram(buttons)
        seen += [number for _, number, _ in page.pledges]
        shown = labels(buttons)
        if page.page == page.pages - 1:
            assert "下一页 ▶" not in shown
            break
        assert "下一页 ▶" in shown
        page = await service.pledge_page(await actor_for(db, LIU), jx, page.page + 1)
    assert seen == [p.number for p in pledges]
    beyond = await service.pledge_page(
        await actor_for(db, LIU), jx, 999
    )  # a stale page number: the last page
    assert beyond.page == page.page


async def test_committee_walks_a_tree_of_many_branches(
    db: Database, service: ExportService, people: dict[str, int]
) -> None:
    xh = await org_id(db, "XH")
    async with db.engine.begin() as conn:
        await conn.execute(
            insert(s.orgs),
            [
                {
                    "code": f"XH-Z{n:02d}",
                    "name": f"新华第{n}村党支部",
                    "type": "rural",
                    "parent_id": xh,
                }
                for n in range(30)
            ],
        )
    view = await service.org_page(await actor_for(db, LIU), ExportKind.STATS, xh, 0)
    assert view.pages == 4 and len(view.children) == 10 and view.up is None
    text, buttons = render_orgs(ZH, view)
    assert "（新华镇党委，第 1/4 页）" in text
    shown = labels(buttons)
    assert shown[0] == "📊 新华镇党委（全部汇总）"
    assert "下一页 ▶" in shown and "◀ 上一页" not in shown
    last = await service.org_page(await actor_for(db, LIU), ExportKind.LEDGER, xh, 3)
    assert len(last.children) == 34 - 30 and last.page == 3


async def test_nested_committees_go_up_and_down(
    db: Database, service: ExportService, people: dict[str, int]
) -> None:
    xh = await org_id(db, "XH")
    async with db.engine.begin() as conn:
        await conn.execute(
            insert(s.orgs),
            [{"code": "XH-Q", "name": "新华片区党工委", "type": "committee", "parent_id": xh}],
        )
    area = await org_id(db, "XH-Q")
    async with db.engine.begin() as conn:
        await conn.execute(
            insert(s.orgs),
            [{"code": "XH-Q-1", "name": "片区一村党支部", "type": "rural", "parent_id": area}],
        )
    top = await service.org_page(await actor_for(db, LIU), ExportKind.LETTER, xh, 0)
    assert (area, "新华片区党工委", True) in top.children
    _, buttons = render_orgs(ZH, top)
    opens = Button("📂 新华片区党工委", action=action(FEATURE, "o", ExportKind.LETTER, area, 0))
    assert opens in [b for row in buttons for b in row]
    below = await service.org_page(await actor_for(db, LIU), ExportKind.LETTER, area, 0)
    assert below.up == xh and below.children == [
        (await org_id(db, "XH-Q-1"), "片区一村党支部", False)
    ]
    _, buttons = render_orgs(ZH, below)
    assert labels(buttons) == [
        "✅ 新华片区党工委（本级）",
        "片区一村党支部",
        "↩️ 返回上一级",
        "✖ 关闭",
    ]
    stats = await service.export(await actor_for(db, LIU), ExportKind.STATS, area, ZH)
    assert stats.message is not None and "基层党组织 1 个" in stats.message


async def test_every_export_in_english(
    db: Database, service: ExportService, huangsi: dict[str, Published]
) -> None:
    hs = await org_id(db, "XH-HS")
    for kind in (
        ExportKind.PUBLICITY_XLSX,
        ExportKind.PUBLICITY_PDF,
        ExportKind.LEDGER,
        ExportKind.STATS,
    ):
        export = await service.export(await actor_for(db, SHEN), kind, hs, "en")
        assert export.data and "黄思村党总支" in export.name
    rows = sheet_rows(
        (await service.export(await actor_for(db, SHEN), ExportKind.LEDGER, hs, "en")).data
    )
    assert rows[2][:3] == ["No.", "Pledge no.", "Pledger"]
    letter = await service.letter(await actor_for(db, WANG), huangsi["wang"].id, "en")
    pages = pdf_text(letter.data)
    assert "Copy1:reviewer'sfile" in pages[0] and "Publicpledgeletterofapartymember" in pages[0]


async def test_names_beyond_the_shipped_font_and_an_empty_branch(
    db: Database, service: ExportService, people: dict[str, int]
) -> None:
    jg = await org_id(db, "XH-JG")
    empty = await service.export(await actor_for(db, LIU), ExportKind.PUBLICITY_PDF, jg, ZH)
    assert "目前还没有已公开的承诺。" in pdf_text(empty.data)[0]
    assert (
        sheet_rows(
            (
                await service.export(await actor_for(db, LIU), ExportKind.PUBLICITY_XLSX, jg, ZH)
            ).data
        )[3:]
        == []
    )
    # 䶮 (U+4DAE) is outside GBK, so not in the shipped font: the system's full CJK font
    # draws it where the machine has one.
    ids = await add_members(db, jg, ["王䶮"], NOW)
    await publish(
        db, [Published(jg, "XH-JG-2026-001", ids[0], "王䶮", [("义务清扫楼道", TODAY)])], NOW
    )
    export = await service.export(await actor_for(db, LIU), ExportKind.PUBLICITY_PDF, jg, ZH)
    if system_fallback_font() is not None:
        assert "王䶮" in pdf_text(export.data)[0]
        assert_cjk_glyphs(export.data, 0, "王䶮清扫")
    else:
        assert_cjk_glyphs(export.data, 0, "王清扫")


FIRST_EXPORT = """
import asyncio, sys, threading
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo
from bot.domain.clock import FakeClock
from bot.domain.exports import ExportKind, ExportService
from bot.domain.roster import load_roster
from bot.domain.roster_import import import_roster
from storage.db import Database

importers = {}

class Watch:
    def find_spec(self, name, path=None, target=None):
        if name in ("openpyxl", "fpdf"):
            importers.setdefault(name, threading.get_ident())
        return None

async def main(url, demo):
    clock = FakeClock(datetime(2026, 6, 5, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai")))
    db = Database(url)
    await db.migrate()
    await import_roster(db, clock, load_roster(Path(demo) / "orgs.csv", Path(demo) / "people.csv"))
    assert "openpyxl" not in sys.modules and "fpdf" not in sys.modules
    sys.meta_path.insert(0, Watch())
    service = ExportService(db, clock)
    stats = await service.export_for_operator(ExportKind.STATS, "XH", None, "zh_CN")
    publicity = await service.export_for_operator(ExportKind.PUBLICITY_PDF, "XH-HS", None, "zh_CN")
    await db.dispose()
    assert stats.data and publicity.data
    loop = threading.get_ident()
    print(sorted(name for name, thread in importers.items() if thread != loop))

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def test_a_first_export_imports_its_file_library_off_the_event_loop(tmp_path: Path) -> None:
    """openpyxl and fpdf take a tenth of a second each to import: a fresh bot's first
    export imports them in the thread that builds the file, not on the event loop (where a
    member's answer waited behind the import)."""
    root = Path(__file__).resolve().parents[2]
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    done = subprocess.run(
        [sys.executable, "-c", FIRST_EXPORT, url, str(DEMO)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[-2] == "['fpdf', 'openpyxl']"
