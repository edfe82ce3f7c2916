"""现场票 and 纸质票 in chat: a branch with fewer people than its quorum holds its evaluation
with 25 one-time slips printed from /evaluate (the PDF arrives as a file), a paper ballot box
entered with its tally sheet's photo, and chat votes; the count adds up exactly and the slips
and paper are shown apart. In English too: more slips from /evaluations."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.domain.evaluation_models import Choice
from bot.domain.slips import normalize_token
from bot.playground.simulator import BotApiSimulator
from storage import schema
from tests.accounts import actor_for
from tests.e2e.evaluation_support import Branch, evaluation_world, later, tick
from tests.e2e.files_support import kept_files
from tests.e2e.harness import Human, World
from tests.e2e.test_progress import send_photo
from tests.pdf_check import pdf_text

BASE = "https://jn.example.org"
ADDRESS = re.compile(r"https://jn\.example\.org/v/[0-9a-z-]+")
TALLY_SHEET = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


@pytest.fixture
async def branch(sim: BotApiSimulator, tmp_path: Path) -> AsyncIterator[tuple[World, Branch]]:
    # 黄思村 with four more residents: about ten people, far below its quorum of 30.
    async for found in evaluation_world(sim, tmp_path, extra=4, ballot_base_url=BASE):
        yield found


def _addresses(pdf: bytes) -> list[str]:
    return [a for page in pdf_text(pdf) for a in ADDRESS.findall(page)]


async def test_slips_paper_and_chat_votes_add_up_for_a_small_branch(
    branch: tuple[World, Branch],
) -> None:
    world, b = branch
    secretary = b.people["沈宝方"]
    app = world.runner.app
    assert app is not None
    slips = app.bot_data.services.slips

    await secretary.send("/evaluate", expect="请选择评议对象")
    await secretary.tap("评议支部", expect="截止时间")
    await secretary.send("3天后", expect="但名册上只有")
    await secretary.tap("加印现场票", expect="现场票张数")
    await secretary.send("很多", expect="请发送一个数字")
    await secretary.send("501", expect="1 到 500")
    await secretary.send("25", expect="另有现场票 25 张")
    assert "合计 38 人" in secretary.last().content
    await secretary.tap("至少 30 人", expect="现场票：25 张")
    await secretary.tap("确认发起", expect="群众评议已发起")
    sheet = await secretary.receive("现场票 25 张")
    assert sheet.document is not None and sheet.document.file_name is not None
    assert sheet.document.file_name.endswith(".pdf")
    addresses = _addresses(sheet.document.data)
    assert len(set(addresses)) == 25
    tokens = [normalize_token(a.rsplit("/", 1)[1]) for a in addresses]

    # Twenty residents vote on their slips: 18 satisfied, 2 not.
    for n, token in enumerate(tokens[:20]):
        assert token is not None
        page = await slips.page(token)
        choice = Choice.SATISFIED if n < 18 else Choice.UNSATISFIED
        assert await slips.cast(token, page.revision, {page.subjects[0].id: choice}) == "saved"
    # Three members vote in chat, satisfied.
    for name in ("王建国", "杨友林", "朱德顺"):
        human = b.people[name]

        def has_ballot(human: Human = human) -> bool:
            return bool(b.polls(human))

        await b.sim.wait_until(has_ballot, 20)
        b.vote(human, 0)

    # The paper box: 8 ballots, entered with the tally sheet's photo.
    await secretary.send("/evaluations", expect="点一项查看")
    await secretary.tap("进行中", expect="现场票 20 / 25 张已投")
    await secretary.tap("录入纸质票", expect="共收回多少张选票")
    await secretary.send("0", expect="1 到 100000")
    await secretary.send("8", expect="第 1 / 1 项：黄思村党总支")
    await secretary.send("9 0 0", expect="超过了纸质票总数 8 张")
    await secretary.send("6 1", expect="三个数")
    await secretary.send("6 1 1", expect="计票单照片")
    await secretary.send("好了", expect="请发送计票单的照片")
    await send_photo(secretary, TALLY_SHEET, "请核对纸质票")
    assert "1. 黄思村党总支：满意 6，基本满意 1，不满意 1" in secretary.last().content
    await secretary.tap("确认录入", expect="已录入【黄思村党总支】纸质票 8 张")
    assert "纸质票 8 张" in secretary.last().content
    # The tally sheet's photo is kept by Jiannuo, and the paper box names it.
    async with world.db.read() as uow:
        box = (await uow.files.conn.execute(select(schema.paper_boxes.c.photo_file))).scalar_one()
    [kept_sheet] = [k for k in await kept_files(world) if k.file.id == box]
    assert kept_sheet.data == TALLY_SHEET

    as_secretary = await actor_for(world.db, secretary.user_id)

    async def chat_votes() -> int:
        view = await app.bot_data.services.evaluations.overview(as_secretary, eid)
        return view.voted - view.extra.voted

    eid = (await app.bot_data.services.evaluations.list_for(as_secretary))[0][0].id
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while await chat_votes() < 3:
        assert loop.time() < deadline, "the chat votes were not counted"
        await asyncio.sleep(0.05)

    later(b.clock, timedelta(days=4))
    await tick(world)
    result = await secretary.receive("群众评议结果")
    # chat 3 + slips 18 / 0 / 2 + paper 6 / 1 / 1 = 27 / 1 / 3 of 31 voters (quorum 30 met)
    assert "投票人数：31 / " in result.content
    assert "满意 27，基本满意 1，不满意 3，满意率 90.3%（合格）" in result.content
    assert "其中现场票 20 / 25 张已投，纸质票 8 张" in result.content
    # A slip after closing shows the closed page, with the same published result.
    closed = await slips.page(str(tokens[24]))
    assert closed.state == "closed" and closed.subjects[0].satisfied == 27


async def test_an_english_secretary_prints_more_slips_from_evaluations(
    branch: tuple[World, Branch],
) -> None:
    _, b = branch
    secretary = b.people["沈宝方"]
    await secretary.send("/lang", expect="请选择语言")
    await secretary.tap("English", expect="English")
    await secretary.send("/evaluate", expect="What is evaluated")
    await secretary.tap("The branch", expect="closing time")
    await secretary.send("in 3 days", expect="only 13 on its roster")
    await secretary.send("10", expect="reason")
    await secretary.send("The roster has 13 people", expect="Please check the mass evaluation")
    await secretary.tap("Open it", expect="is open")
    await secretary.send("/evaluations", expect="tap one")
    await secretary.tap("🗳 open", expect="Closes")
    await secretary.tap("Print ballot slips", expect="How many ballot slips")
    await secretary.send("3", expect="3 ballot slips")
    sheet = secretary.last()
    assert sheet.document is not None
    pages = pdf_text(sheet.document.data)
    assert len(_addresses(sheet.document.data)) == 3
    assert "Mass" in pages[0] and "evaluation" in pages[0]
    await secretary.tap("Enter paper ballots", expect="how many ballots")
    await secretary.send("/cancel", expect="Cancelled")
