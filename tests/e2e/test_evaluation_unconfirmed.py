"""Residents who vote before confirming their phone: the vote is kept and counts once they
confirm (they need not vote again). Every screen counts only the votes that count; the resident
is told once, not once per ballot; confirming right before voting is seen at once; the ballot
says plainly who sees what."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, literal, select, update

from bot.playground.simulator import BotApiSimulator
from storage import schema
from storage.accounts import TELEGRAM, person_of_account
from tests.e2e.evaluation_support import BOARD, Branch, evaluation_world, open_in_chat
from tests.e2e.harness import Human, World

SATISFIED = 0
NOT_CONFIRMED = "手机号还没有确认"


@pytest.fixture
async def branch(sim: BotApiSimulator, tmp_path: Path) -> AsyncIterator[tuple[World, Branch]]:
    async for pair in evaluation_world(sim, tmp_path):
        yield pair


async def _unconfirm(world: World, human: Human, locale: str = "zh_CN") -> None:
    """This resident has not confirmed their phone (and reads the bot in ``locale``)."""
    async with world.db.engine.begin() as conn:
        people = schema.people.c
        await conn.execute(
            update(schema.people)
            .where(people.id == person_of_account(TELEGRAM, literal(str(human.user_id))))
            .values(phone_confirmed=False, locale=locale)
        )


async def _ballots_written(world: World, count: int) -> None:
    async def written() -> int:
        async with world.db.engine.connect() as conn:
            query = select(func.count()).select_from(schema.ballots)
            return int((await conn.execute(query)).scalar_one())

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while await written() < count:
        assert loop.time() < deadline, f"only {await written()} of {count} ballots written"
        await asyncio.sleep(0.05)


def _board_shows(hs: Branch, text: str) -> bool:
    return any(text in m.content for m in hs.sim.bot_messages(BOARD))


async def test_turnout_counts_only_the_votes_that_will_count(
    branch: tuple[World, Branch],
) -> None:
    world, hs = branch
    people = hs.people
    resident = people["居民01"]
    await _unconfirm(world, resident)
    secretary = people["沈宝方"]
    await open_in_chat(secretary, quorum="5", reason="先请部分代表试投")
    await hs.wait_polls(35)
    for name in ("王建国", "杨友林", "沈红梅", "朱德顺", "居民01"):
        hs.vote(people[name], SATISFIED)
    await resident.receive(NOT_CONFIRMED)
    await _ballots_written(world, 5)
    await world.outbox_settled()

    # The board, /evaluations, the 提前结束 question and the closing count agree: 4.
    await hs.sim.wait_until(lambda: _board_shows(hs, "已投票：4 / 35 人"), 15)
    assert _board_shows(hs, "还差 1 人") and not _board_shows(hs, "已投票：5")
    await secretary.send("/evaluations", expect="点一项查看")
    await secretary.tap("黄思村党总支", expect="投票：4 / 35 人")
    listing = await secretary.tap("未投票名单", expect="还没有投票的 30 人")
    assert "已投票、但手机号还没有确认的 1 人" in listing.content
    assert "居民01" in listing.content.split("手机号还没有确认的 1 人")[1]
    await secretary.tap("提前结束", expect="已投 4 / 35 人")
    await secretary.tap("确认结束并计票", expect="已结束并计票")
    void = await secretary.receive("评议无效")
    assert "只有 4 / 35 人投票" in void.content


async def test_a_resident_is_told_once_and_counted_once_they_confirm(
    branch: tuple[World, Branch],
) -> None:
    world, hs = branch
    people = hs.people
    early, late, english = people["居民01"], people["居民02"], people["居民03"]
    await _unconfirm(world, early)
    await _unconfirm(world, late)
    await _unconfirm(world, english, "en")
    secretary = people["沈宝方"]
    await open_in_chat(secretary, kind="逐一评议每名党员")
    await hs.wait_polls(35 * 5 - 5)  # five members; nobody gets a ballot about themselves

    # The ballot says who sees what, above Telegram's "public poll" label.
    intro = next(m for m in hs.sim.bot_messages(early.user_id) if "群众评议" in m.content)
    assert "公开投票" in intro.content and "只是本机器人知道是谁投的票" in intro.content
    assert "1 人已投票" in intro.content and "只是您自己这一票" in intro.content
    intro_en = next(m for m in hs.sim.bot_messages(english.user_id) if "evaluation" in m.content)
    assert "public poll" in intro_en.content and "your own vote" in intro_en.content

    # Five ballots answered before confirming: one notice, with a button to confirm.
    for voter in (early, english):
        ballots = hs.polls(voter)
        assert len(ballots) == 5
        for ballot in ballots:
            hs.vote(voter, SATISFIED, ballot)
    notice = await early.receive(NOT_CONFIRMED)
    await english.receive("Your phone number is not confirmed yet")
    await _ballots_written(world, 10)
    await world.outbox_settled()
    assert early.seen(NOT_CONFIRMED) == 1
    assert english.seen("not confirmed yet") == 1
    assert any("确认手机号" in b.text for row in notice.buttons for b in row)
    await secretary.send("/evaluations", expect="点一项查看")
    await secretary.tap("黄思村党总支", expect="投票：0 / 35 人")

    # /phone says what confirming does; confirming counts the votes already cast.
    ask = await early.send("/phone", expect="请确认您的手机号")
    assert "确认后才能参加" not in ask.content and "不用重投" in ask.content
    done = await early.share_contact("13900000001", "手机号已确认")
    assert "投的票，现在已经计入结果" in done.content
    await hs.sim.wait_until(lambda: _board_shows(hs, "已投票：1 / 35 人"), 15)

    # Confirming and voting within a second (the ballot box read the list moments ago).
    confirmed = await late.share_contact("13900000002", "手机号已确认")
    assert "请在机器人发给您的选票上投票" in confirmed.content
    hs.vote(late, SATISFIED, hs.polls(late)[0])
    await _ballots_written(world, 11)
    await hs.sim.wait_until(lambda: _board_shows(hs, "已投票：2 / 35 人"), 15)
    await world.outbox_settled()
    assert late.seen(NOT_CONFIRMED) == 0
    await secretary.send("/evaluations", expect="点一项查看")
    await secretary.tap("黄思村党总支", expect="投票：2 / 35 人")
