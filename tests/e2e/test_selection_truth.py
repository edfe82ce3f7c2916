"""Every figure of 组织评选 tells the truth: a private review never reaches a public ranking,
and a committee clerk who asks for award candidates is always told what happened."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.domain.clock import FakeClock
from bot.playground.simulator import BotApiSimulator
from storage import schema as s
from tests.e2e.flows import BOARD_HS, button_data
from tests.e2e.harness import World
from tests.e2e.test_selection import TZ, _world, board_message, link_board, seed


@pytest.fixture
async def late_oct(sim: BotApiSimulator, tmp_path: Path) -> AsyncIterator[World]:
    """28 October 2026: a review written now falls in October's member ranking."""
    async for world in _world(sim, tmp_path, datetime(2026, 10, 28, 10, 0, tzinfo=TZ)):
        yield world


def clock_of(world: World) -> FakeClock:
    clock = world.runner.clock
    assert isinstance(clock, FakeClock)
    return clock


async def test_a_review_sent_only_to_the_member_never_reaches_the_ranking(
    late_oct: World,
) -> None:
    world = late_oct
    secretary = await world.join("沈宝方")
    member = await world.join("沈红梅")
    await link_board(world, secretary, BOARD_HS, "黄思村公示栏")
    await seed(world)

    # The secretary reviews 沈红梅 "一般" and sends it to her alone.
    await secretary.send("/comment", expect="领导点评")
    await secretary.tap("沈红梅", expect="点评对象：沈红梅")
    await secretary.tap("一般", expect="请写下点评意见")
    await secretary.send("进度偏慢，要抓紧。", expect="需要整改的地方")
    await secretary.tap("无需整改", expect="是否")
    if "责令限期整改" in secretary.last().content:
        await secretary.tap("不设期限", expect="是否在支部公示群公布")
    preview = await secretary.tap("只发给本人", expect="请核对")
    assert "只发送给被点评人，不公布" in preview.content
    await secretary.tap("确认发送", expect="已保存对「沈红梅」")
    await member.receive("评价：一般")

    # In November the secretary publishes October's ranking to the board group.
    clock_of(world).set(datetime(2026, 11, 5, 10, 0, tzinfo=TZ))
    view = await secretary.send("/ranking", expect="党员月度排名 · 2026年10月")
    assert (
        "沈红梅  得分 33.3\n   兑现 1/2 项 50.0%｜按时 0.0%｜点评 暂无｜满意度 暂无"
        in view.content
    )
    await secretary.tap("📢 发布本期排名", expect="确认发布")
    await secretary.tap("✅ 确认发布", expect="已发布 2026年10月 的排名")
    posted = await board_message(world, BOARD_HS, "党员月度排名")
    shen = posted[posted.index("沈红梅") :].split("\n")[:2]
    assert shen == ["沈红梅  得分 33.3", "   兑现 1/2 项 50.0%｜按时 0.0%｜点评 暂无｜满意度 暂无"]
    assert "一般" not in posted
    async with world.db.engine.connect() as conn:
        row = (await conn.execute(select(s.rankings))).one()
    stored = next(r for r in row.rows if r["name"] == "沈红梅")
    assert (stored["grade"], stored["score"]) == (None, 33.3)


@pytest.mark.parametrize(
    ("language", "button", "told", "why"),
    [
        ("zh-hans", "🔎 按数据提名候选", "没有达到条件的候选", "践诺明星党员到期兑现率不低于 95%"),
        ("en", "🔎 Propose from the figures", "Nobody reaches the bars", "at least 95%"),
    ],
)
async def test_asking_for_candidates_when_nobody_qualifies_says_so(
    late_oct: World, language: str, button: str, told: str, why: str
) -> None:
    world = late_oct
    clerk = await world.join("刘晓燕", language_code=language)
    listing = await clerk.send("/awards", expect="2026")
    answer = await clerk.tap_for_alert(listing, button_data(listing, button))
    assert told in answer
    explained = await clerk.receive(why)
    assert "2026" in explained.content
    async with world.db.engine.connect() as conn:
        assert (await conn.execute(select(s.awards))).all() == []


async def test_asking_for_candidates_says_how_many_were_proposed(late_oct: World) -> None:
    world = late_oct
    await seed(world)
    clerk = await world.join("刘晓燕")
    listing = await clerk.send("/awards", expect="还没有候选")
    answer = await clerk.tap_for_alert(listing, button_data(listing, "按数据提名候选"))
    assert "已按数据提名 4 个候选" in answer
    await world.sim.wait_until(lambda: "待定 4" in clerk.last().content, 10.0)
    assert clerk.last().message_id == listing.message_id  # the list, edited in place
