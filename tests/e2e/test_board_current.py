"""亮诺 kept current: the board group's post shows each item's status as items are ticked off,
edits are coalesced, and a post that cannot be edited any more is posted anew."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.domain.board import refresh_board
from bot.playground.sim_state import SimMessage
from bot.playground.simulator import BotApiSimulator
from storage import schema
from tests.e2e.flows import submit_one_item_pledge
from tests.e2e.harness import WAIT, BotRunner, Human, World, make_settings

BOARD = -100_007


async def board_with_pledge(world: World) -> tuple[Human, Human, str]:
    """黄思村's board group is linked; 王建国's one-item pledge is approved and posted there."""
    member = await world.join("王建国")
    secretary = await world.join("沈宝方")
    world.group(BOARD, "黄思村公示栏", [secretary, member])
    await secretary.send("/linkboard", expect="公示栏", chat_id=BOARD)
    await submit_one_item_pledge(member, "每月参加支部学习")
    await secretary.receive("王建国 提交了承诺")
    await secretary.tap("通过", expect="已通过")
    await member.receive("审核通过并公开")
    await world.sim.wait_until(lambda: bool(posts(world)), WAIT)
    [post] = posts(world)
    number = post.content.split("公开承诺 ", 1)[1].split("\n", 1)[0]
    return member, secretary, number


def posts(world: World) -> list[SimMessage]:
    """The pledge posts in the board group (deleted ones left out)."""
    return [m for m in world.sim.bot_messages(BOARD) if "公开承诺" in m.content]


async def tick_off(member: Human, secretary: Human, note: str) -> None:
    """The member reports and claims; the secretary accepts (兑现销号)."""
    await member.send("/progress", expect="请选择要记录进展的承诺事项")
    await member.tap("每月参加支部学习", expect="请用几句话写下")
    await member.send(note, expect="已记下")
    await member.tap("申请兑现销号", expect="已申请兑现销号")
    await secretary.receive(f"完成情况：{note}")
    await secretary.tap("确认兑现销号", expect="已确认")


async def test_ticking_off_an_item_edits_the_post_in_place(world: World) -> None:
    member, secretary, number = await board_with_pledge(world)
    [post] = posts(world)
    assert "🔄 进行中" in post.content and "最近进展：暂无" in post.content
    assert "兑现进度：已兑现 0/1 项" in post.content

    await tick_off(member, secretary, "参加了6月的支部学习")
    await world.sim.wait_until(lambda: "✅ 已兑现" in posts(world)[0].content, WAIT)
    await world.outbox_settled()
    [post] = posts(world)  # the same message, edited: no second post
    assert number in post.content and "兑现进度：已兑现 1/1 项" in post.content
    assert "最近进展：暂无" not in post.content and "🔄 进行中" not in post.content
    # Recording progress and accepting the claim were a burst: each left at most one edit
    # waiting, and no refresh went out twice for the same state.
    assert post.edits <= 3


async def test_a_burst_of_refreshes_makes_one_edit(world: World) -> None:
    _member, secretary, _number = await board_with_pledge(world)
    await world.outbox_settled()
    [post] = posts(world)
    before = post.edits
    # Twenty refreshes asked for at once, in one transaction.
    services = world.runner.app.bot_data.services  # type: ignore[union-attr]
    pledge_id = await _pledge_id(world)
    async with world.db.uow() as uow:
        queued = [await refresh_board(uow, pledge_id, services.clock.now()) for _ in range(20)]
    assert queued.count(1) == 1 and queued.count(0) == 19
    services.outbox.wake()
    await world.outbox_settled()
    assert posts(world)[0].edits - before <= 1
    assert secretary.seen("公开承诺", BOARD) == 1


async def _org_id(world: World) -> int:
    async with world.db.uow() as uow:
        org = await uow.orgs.by_code("XH-HS")
        assert org is not None
        return org.id


async def test_a_deleted_post_is_posted_again_and_the_ref_follows(world: World) -> None:
    member, secretary, number = await board_with_pledge(world)
    await world.outbox_settled()
    [old] = posts(world)
    old.deleted = True  # someone deleted the post in the group

    await tick_off(member, secretary, "参加了学习")
    await world.sim.wait_until(lambda: bool(posts(world)), WAIT)
    await world.sim.wait_until(lambda: "✅ 已兑现" in posts(world)[-1].content, WAIT)
    [new] = posts(world)
    assert new.message_id != old.message_id and number in new.content
    pledge_id = await _pledge_id(world)
    async with world.db.uow() as uow:
        assert await uow.outbox.posted(f"board:pledge:{pledge_id}") == (BOARD, new.message_id)


async def test_a_post_that_cannot_be_edited_is_posted_again(world: World) -> None:
    member, secretary, number = await board_with_pledge(world)
    await world.outbox_settled()
    [old] = posts(world)
    # The ref points at a message the bot may not edit (Telegram: "message can't be edited").
    world.sim.send_text(member.user_id, "大家好", chat_id=BOARD)
    await world.sim.wait_until(
        lambda: any(m.text == "大家好" for m in world.sim.messages(BOARD)), WAIT
    )
    theirs = next(m for m in world.sim.messages(BOARD) if m.text == "大家好")
    pledge_id = await _pledge_id(world)
    async with world.db.engine.begin() as conn:
        await conn.execute(
            update(schema.posted_messages)
            .where(schema.posted_messages.c.ref == f"board:pledge:{pledge_id}")
            .values(message_id=theirs.message_id)
        )

    await tick_off(member, secretary, "参加了学习")
    await world.sim.wait_until(
        lambda: len(posts(world)) == 2 and "✅ 已兑现" in posts(world)[-1].content, WAIT
    )
    new = posts(world)[-1]
    assert "✅ 已兑现" in new.content and number in new.content
    assert "✅ 已兑现" not in old.content  # the first post was left as it was
    counts = await world.outbox_settled()
    assert counts.get("failed", 0) == 0
    async with world.db.uow() as uow:
        assert await uow.outbox.posted(f"board:pledge:{pledge_id}") == (BOARD, new.message_id)


async def _pledge_id(world: World) -> int:
    org_id = await _org_id(world)
    async with world.db.uow() as uow:
        [pledge] = await uow.pledges.find(org_id=org_id, published=True)
        return pledge.id


@pytest.fixture
async def linked_world(sim: BotApiSimulator, tmp_path: Path) -> AsyncIterator[World]:
    """The world of conftest, with the web board's public address configured."""
    settings = make_settings(tmp_path, sim, public_base_url="https://dangjian.example/board/")
    runner = BotRunner(settings)
    w = World(sim=sim, settings=settings, runner=runner, tmp=tmp_path)
    await w.import_demo()
    await runner.start()
    try:
        yield w
    finally:
        await runner.stop()


async def test_board_links_to_the_web_board_and_a_resident_sees_only_public_data(
    linked_world: World,
) -> None:
    world = linked_world
    member, secretary, number = await board_with_pledge(world)
    [post] = posts(world)
    assert "网上公示栏：https://dangjian.example/board/XH-HS" in post.content
    # A pledge under review is not on the board, in the group or in chat.
    other = await world.join("杨友林")
    await submit_one_item_pledge(other, "帮带5户种植户")
    await secretary.receive("杨友林 提交了承诺")
    resident = await world.join("张桂英")
    board = await resident.send("/board", expect="公开承诺")
    assert "🌐 网上公示栏：https://dangjian.example/board/XH-HS" in board.content
    assert number in board.content and "每月参加支部学习" in board.content
    assert "帮带5户种植户" not in board.content and "13800000" not in board.content
    await world.outbox_settled()
    assert all("帮带5户种植户" not in m.content for m in world.sim.bot_messages(BOARD))
    assert member.seen("帮带5户种植户", BOARD) == 0


async def test_a_second_report_the_same_day_leaves_the_post_alone(world: World) -> None:
    """The post shows the day of the newest progress: a second report that day changes
    nothing on it, so no edit is sent (Telegram refuses an identical edit with a 400)."""
    member, _secretary, _number = await board_with_pledge(world)
    for note in ("上午参加了支部学习", "下午整理了学习笔记"):
        await member.send("/progress", expect="请选择要记录进展的承诺事项")
        await member.tap("每月参加支部学习", expect="请用几句话写下")
        await member.send(note, expect="已记下")
        await world.outbox_settled()
        await world.sim.wait_until(lambda: "最近进展：暂无" not in posts(world)[0].content, WAIT)
    [post] = posts(world)
    refused = [r for r in world.sim.request_log if r.chat_id == BOARD and r.status >= 400]
    assert refused == []
    assert post.edits == 1
