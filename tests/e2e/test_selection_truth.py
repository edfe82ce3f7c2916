"""Every figure of 组织评选 tells the truth: a private review never reaches a public ranking,
and a committee clerk who asks for award candidates is always told what happened."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from bot.domain.clock import FakeClock
from bot.playground.simulator import BotApiSimulator
from storage import schema as s
from tests.e2e.flows import BOARD_HS, button_data, roster_person
from tests.e2e.harness import World
from tests.e2e.test_selection import TZ, _world, board_message, link_board, org_id, seed
from tests.fulfilment_data import PublishedPledge, insert_published, set_progress


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


@pytest.fixture
async def dec8(sim: BotApiSimulator, tmp_path: Path) -> AsyncIterator[World]:
    """8 December 2026: November's member ranking is due; most items fall due on 31 Dec."""
    async for world in _world(sim, tmp_path, datetime(2026, 12, 8, 10, 0, tzinfo=TZ)):
        yield world


async def year_end_pledges(world: World) -> dict[str, int]:
    """黄思村 has 9 published items: 王建国 3 (one due next January), 杨友林 2, 沈红梅 1, the
    branch's own 2 — none due before 31 December — and 朱德顺 1, fulfilled in October.
    沈红梅 got a published 一般 on 3 December."""
    hs = await org_id(world, "XH-HS")
    ids = {
        n: (await roster_person(world, n)).id
        for n in ("王建国", "杨友林", "沈红梅", "朱德顺", "沈宝方", "陈国平")
    }
    year_end, january = date(2026, 12, 31), date(2027, 1, 31)
    pledges = [
        PublishedPledge(
            hs,
            "Y-1",
            ids["王建国"],
            ids["王建国"],
            [("学习", year_end), ("水渠", january), ("移风易俗", year_end)],
        ),
        PublishedPledge(hs, "Y-2", ids["杨友林"], ids["杨友林"], [("大棚", year_end)] * 2),
        PublishedPledge(hs, "Y-3", ids["沈红梅"], ids["沈红梅"], [("村容", year_end)]),
        PublishedPledge(hs, "Y-4", ids["朱德顺"], ids["沈宝方"], [("游园", date(2026, 10, 15))]),
        PublishedPledge(hs, "Y-5", None, ids["沈宝方"], [("道路", year_end), ("路灯", year_end)]),
    ]
    await insert_published(world.db, pledges, datetime(2026, 9, 1, tzinfo=TZ))
    await set_progress(
        world.db,
        [
            {
                "item_id": pledges[3].item_ids[0],
                "status": "fulfilled",
                "done_on": date(2026, 10, 10),
                "last_progress_at": datetime(2026, 10, 10, 9, 0, tzinfo=TZ),
            }
        ],
    )
    async with world.db.engine.begin() as conn:
        await conn.execute(
            insert(s.leader_reviews).values(
                reviewer_id=ids["陈国平"],
                subject_kind="member",
                subject_person_id=ids["沈红梅"],
                subject_org_id=hs,
                grade="average",
                comment="进度偏慢",
                period="2026-12",
                published=True,
                created_at=datetime(2026, 12, 3, 9, 0, tzinfo=TZ),
            )
        )
    return ids


@pytest.mark.parametrize(
    ("language", "title", "asof", "first", "apart", "waiting"),
    [
        (
            "zh-hans",
            "党员月度排名 · 2026年11月",
            "数据截至 2026-11-30（2026 年度）",
            "1. 朱德顺  得分 100.0\n   兑现 1/1 项 100.0%｜按时 100.0%｜点评 暂无｜满意度 暂无",
            "暂无可计分的数据，不排名：",
            "— 沈红梅：暂无数据",
        ),
        (
            "en",
            "monthly member ranking · 2026-11",
            "Figures as of 2026-11-30 (year 2026)",
            "1. 朱德顺  score 100.0\n   fulfilled 1/1 due 100.0% | on time 100.0% | grade n/a",
            "No figures to score yet, not ranked:",
            "— 沈红梅: no figures yet",
        ),
    ],
)
async def test_the_ranking_ranks_only_what_exists_and_its_period_matches_its_data(
    dec8: World, language: str, title: str, asof: str, first: str, apart: str, waiting: str
) -> None:
    world = dec8
    await year_end_pledges(world)
    secretary = await world.join("沈宝方", language_code=language)
    view = (await secretary.send("/ranking", expect=title)).content
    assert asof in view and first in view
    # Items not due yet are no figure: nobody scores 0.0, nobody ties at the bottom.
    assert " 0.0" not in view and "2. " not in view
    # 沈红梅's December review belongs to December's ranking, not November's.
    unscored = view[view.index(apart) :]
    for name in ("王建国", "杨友林", "沈红梅", "沈宝方"):
        assert name in unscored
    assert waiting in unscored
    assert "点评 一般" not in view and "grade average" not in view


async def test_every_screen_counts_the_same_items(dec8: World) -> None:
    world = dec8
    await year_end_pledges(world)
    secretary = await world.join("沈宝方")
    ledger = await secretary.send("/ledger", expect="承诺台账")
    assert "承诺事项 9 项｜已兑现 1 项" in ledger.content
    assert ledger.content.count("王建国") in (1, 3)  # one heading, or a line per item
    await secretary.send("/assess", expect="2026 年度党员考评")
    card = await secretary.tap("📝 王建国", expect="2026 年度考评：王建国")
    assert "承诺事项 3 项，已到期 0 项，已兑现 0 项｜到期兑现率 暂无" in card.content

    clerk = await world.join("刘晓燕")
    await clerk.send("/assess", expect="2026 年度支部考评")
    card = await clerk.tap("📝 黄思村党总支", expect="2026 年度考评：黄思村党总支")
    assert "承诺事项 9 项，已到期 1 项，已兑现 1 项｜到期兑现率 100.0%" in card.content

    leader = await world.join("陈国平")
    await leader.send("/comment", expect="领导点评")
    branch = await leader.tap("黄思村党总支", expect="点评对象：黄思村党总支")
    assert "承诺事项 9 项，已兑现 1 项，逾期未兑现 0 项" in branch.content
    assert "还没有记录" not in branch.content
