"""The archive for inspection as people ask for it in /export: a secretary gets the branch's ZIP
and every file in it opens; a committee clerk gets the committee's; a member is refused; an
archive over Telegram's upload limit is left to the command line, with the command to run."""

from __future__ import annotations

import re
import zipfile
from io import BytesIO

import pytest
from openpyxl import load_workbook

from handlers import exports as exports_handlers
from tests.e2e.harness import World
from tests.e2e.test_exports import BUILD_WAIT, huangsi_pledges, org_id, today
from tests.pdf_check import pdf_text


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(BytesIO(data)) as zf:
        assert zf.testzip() is None  # every member's checksum holds
        return {name: zf.read(name) for name in zf.namelist()}


def every_file_opens(files: dict[str, bytes]) -> None:
    for name, data in files.items():
        if name.endswith(".pdf"):
            assert "".join(pdf_text(data)), name
        elif name.endswith(".xlsx"):
            assert load_workbook(BytesIO(data)).worksheets, name


def linked(index: bytes) -> list[str]:
    return re.findall(r'<a href="([^"]+)">', index.decode())


async def test_secretary_gets_the_branch_archive_and_every_file_opens(world: World) -> None:
    await huangsi_pledges(world)
    secretary = await world.join("沈宝方")
    menu = await secretary.send("/export", expect="请选择要导出的内容（黄思村党总支）")
    assert "📦 年度档案包（ZIP，迎检用）" in menu.button_labels()
    await secretary.tap("📦 年度档案包（ZIP，迎检用）", expect="正在生成黄思村党总支的档案包")
    sent = await secretary.receive(f"{today().year}年践诺档案包", timeout=BUILD_WAIT)
    assert sent.document is not None
    assert sent.document.file_name == f"黄思村党总支_践诺档案_{today().year}.zip"
    assert "先打开“00_目录.html”" in sent.content
    files = unzip(sent.document.data)
    index = files.pop("00_目录.html")
    assert linked(index) == sorted(files)  # the index lists every file
    assert "04_承诺书.pdf" in files and "07_群众评议结果.xlsx" in files
    every_file_opens(files)
    letters = pdf_text(files["04_承诺书.pdf"])
    assert len(letters) == 2 and "王建国" in letters[1]
    assert "帮扶两户困难群众" in "".join(pdf_text(files["01_承诺登记公示表.pdf"]))
    ledger = load_workbook(BytesIO(files["03_承诺台账.xlsx"])).active
    assert ledger is not None and ledger.cell(row=4, column=5).value == "硬化村组道路三公里"

    # A member has no such button; a forged one is refused with a clear message.
    member = await world.join("王建国")
    hs = await org_id(world, "XH-HS")
    answer = await member.tap_forged(f"ex:g:ar:{hs}")
    assert "档案包只有支部书记和党委工作人员可以导出" in answer


async def test_committee_clerk_gets_the_committee_archive(world: World) -> None:
    await huangsi_pledges(world)
    clerk = await world.join("刘晓燕")
    await clerk.send("/export", expect="请选择要导出的内容（新华镇党委）")
    picker = await clerk.tap("📦 年度档案包（ZIP，迎检用）", expect="请选择导出档案包的单位")
    assert picker.button_labels()[:2] == ["✅ 新华镇党委（本级）", "东园社区党支部"]
    await clerk.tap("✅ 新华镇党委（本级）", expect="正在生成新华镇党委的档案包")
    sent = await clerk.receive("践诺档案包", timeout=BUILD_WAIT)
    assert sent.document is not None
    files = unzip(sent.document.data)
    index = files.pop("00_目录.html")
    assert linked(index) == sorted(files)
    assert "党员承诺书、各支部的公示表（PDF）和月度记实明细在各支部的档案包里" in index.decode()
    every_file_opens(files)
    publicity = load_workbook(BytesIO(files["02_承诺登记公示表.xlsx"])).active
    assert publicity is not None
    assert [publicity.cell(row=r, column=1).value for r in (4, 5, 6)] == ["黄思村党总支"] * 3
    # The committee keeps the letter of the branch pledge it reviewed.
    [letter] = pdf_text(files["04_承诺书.pdf"])
    assert "硬化村组道路三公里" in letter


async def test_in_english_and_over_the_upload_limit(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    secretary = await world.join("吴静", language_code="en")
    await secretary.send("/export", expect="What would you like to export")
    await secretary.tap("📦 Year's archive (ZIP, for inspection)", expect="Preparing the archive")
    sent = await secretary.receive("the pledge archive of", timeout=BUILD_WAIT)
    assert sent.document is not None and sent.document.file_name is not None
    assert sent.document.file_name.endswith(f"_pledge_archive_{today().year}.zip")
    files = unzip(sent.document.data)
    index = files.pop("00_index.html").decode()
    assert linked(index.encode()) == sorted(files)
    assert "no published pledge yet, so there are no pledge letters" in index
    every_file_opens(files)

    # An archive larger than a bot may upload: the command line instead, with its command.
    monkeypatch.setattr(exports_handlers, "UPLOAD_LIMIT", 1024)
    await secretary.send("/export", expect="What would you like to export")
    await secretary.tap("📦 Year's archive (ZIP, for inspection)", expect="Preparing the archive")
    told = await secretary.receive("cannot be sent here", timeout=BUILD_WAIT)
    assert "jiannuo export archive --org XH-DY --out" in told.content
    assert [m for m in secretary.sim.bot_messages(secretary.user_id) if m.document] == [sent]
