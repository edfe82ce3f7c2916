"""Redelivered updates, flood control and server errors, and a user who blocked the bot."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from bot.domain.enums import PledgeStatus
from bot.playground.simulator import BotApiSimulator
from tests.e2e.flows import (
    BOARD_HS,
    button_data,
    draft_item,
    draft_one_item_pledge,
    only_pledge,
    outbox_rows,
    pledge,
    reviews,
    submit_one_item_pledge,
)
from tests.e2e.harness import Human, World


def update_with(sim: BotApiSimulator, kind: str, key: str, value: Any) -> int:
    """The id of the delivered update of this kind whose ``key`` is ``value``."""
    for update in sim.delivered_updates():
        body = update.get(kind)
        if body is not None and body.get(key) == value:
            return int(update["update_id"])
    raise AssertionError(f"no delivered {kind} with {key}={value!r}")


async def redeliver_and_settle(world: World, update_id: int, person: Human) -> None:
    """Deliver the update again; updates are handled in order, so a later /help's answer
    means the redelivered one has been handled too."""
    world.sim.redeliver(update_id)
    await person.send("/help", expect="您可以使用以下命令")


async def approved_with_board(world: World) -> tuple[Human, Human, int]:
    """王建国's pledge submitted, the board linked; returns member, secretary, pledge id."""
    member = await world.join("王建国")
    secretary = await world.join("沈宝方")
    world.group(BOARD_HS, "黄思村公示栏", [secretary, member])
    await secretary.send("/linkboard", expect="公示栏", chat_id=BOARD_HS)
    await submit_one_item_pledge(member)
    await secretary.receive("王建国 提交了承诺")
    return member, secretary, (await only_pledge(world, member)).id


def board_posts(world: World, number: str) -> list[Any]:
    return [m for m in world.sim.bot_messages(BOARD_HS) if number in m.content]


async def test_a_redelivered_typed_answer_is_applied_once(world: World) -> None:
    member = await world.join("王建国")
    await member.send("/pledge", expect="请选择承诺类型")
    await member.tap("年度承诺", expect="第 1 项")
    await member.tap("带头学习提高", expect="承诺内容")
    answer = await member.send("每月参加支部学习", expect="可以检查的目标")
    typed = world.sim.messages(member.user_id)[-2]
    assert typed.text == "每月参加支部学习" and answer.message_id > typed.message_id

    update_id = update_with(world.sim, "message", "message_id", typed.message_id)
    await redeliver_and_settle(world, update_id, member)
    draft = await only_pledge(world, member)
    assert draft.pending_item is not None
    assert draft.pending_item.content == "每月参加支部学习"
    assert draft.pending_item.target is None  # not taken a second time as the target
    assert member.seen("可以检查的目标") == 1


async def test_a_redelivered_submit_is_applied_once(world: World) -> None:
    member = await world.join("王建国")
    secretary = await world.join("沈宝方")
    await draft_one_item_pledge(member)
    summary = member.last()
    query = world.sim.tap(
        member.user_id, member.user_id, summary.message_id, button_data(summary, "提交审核")
    )
    await world.sim.wait_callback_answer(query, 10)
    await secretary.receive("王建国 提交了承诺")
    submitted = await only_pledge(world, member)
    assert submitted.status is PledgeStatus.SUBMITTED

    await redeliver_and_settle(
        world, update_with(world.sim, "callback_query", "id", query), member
    )
    await world.outbox_settled()
    again = await only_pledge(world, member)
    assert again.version == submitted.version and again.submitted_at == submitted.submitted_at
    assert secretary.seen("王建国 提交了承诺") == 1
    assert member.seen("已提交审核") == 1


async def test_a_redelivered_approve_is_applied_once(world: World) -> None:
    member, secretary, pid = await approved_with_board(world)
    incoming = secretary.last()
    query = world.sim.tap(
        secretary.user_id, secretary.user_id, incoming.message_id, button_data(incoming, "通过")
    )
    assert (await world.sim.wait_callback_answer(query, 10)).text == "已通过"
    update_id = update_with(world.sim, "callback_query", "id", query)
    await redeliver_and_settle(world, update_id, secretary)
    await world.outbox_settled()

    published = await pledge(world, pid)
    assert published.status is PledgeStatus.PUBLISHED
    assert published.number is not None and published.number.endswith("-0001")
    assert len(await reviews(world, pid)) == 1
    assert len(board_posts(world, published.number)) == 1
    assert member.seen("审核通过并公开") == 1
    assert secretary.seen("已通过 王建国 的承诺") == 1


@pytest.mark.parametrize("status", [429, 500])
async def test_board_post_survives_flood_control_and_server_errors(
    world: World, status: int
) -> None:
    member, secretary, pid = await approved_with_board(world)
    await world.outbox_settled()
    # After the approval the only sendMessage calls are the outbox's: the member's notice and
    # the board post. Both fail first.
    world.sim.inject_fault("sendMessage", status, count=2, retry_after=1)
    await secretary.tap("通过", expect="已通过")
    number = (await pledge(world, pid)).number
    assert number is not None

    await world.sim.wait_until(lambda: len(board_posts(world, number)) == 1, 10)
    await member.receive("审核通过并公开")
    counts = await world.outbox_settled()
    assert counts.get("pending", 0) == 0 and counts.get("failed", 0) == 0
    [post] = board_posts(world, number)
    [row] = await outbox_rows(world, BOARD_HS)
    assert row["status"] == "sent" and row["message_id"] == post.message_id
    assert len(board_posts(world, number)) == 1
    assert member.seen("审核通过并公开") == 1
    if status == 429:
        assert world.sim.stats.served_429 >= 2
    else:
        assert world.sim.stats.served_5xx >= 2


async def test_a_user_who_blocked_the_bot_fails_alone(world: World) -> None:
    member, secretary, pid = await approved_with_board(world)
    other = await world.join("沈红梅")  # another member of the branch: must be unaffected
    await submit_street_cleaning(other)
    await world.outbox_settled()

    world.sim.block_bot(member.user_id)
    await secretary.send("/review", expect="待审核的承诺共 2 份")
    await world.sim.wait_until(lambda: secretary.seen("每月清扫村道") == 2, 10)
    for name in ("王建国", "沈红梅"):
        card = next(
            m
            for m in reversed(world.sim.bot_messages(secretary.user_id))
            if f"承诺人：{name}" in m.content and m.buttons
        )
        await secretary.tap_for_alert(card, button_data(card, "通过"))
    counts = await world.outbox_settled()
    assert counts.get("pending", 0) == 0

    rows = await outbox_rows(world, member.user_id)
    last = rows[-1]
    assert last["status"] == "failed"
    assert "forbidden" in (last["error"] or "") and "blocked" in (last["error"] or "")
    assert "审核通过并公开" in last["payload"]["text"]
    # Everyone else got theirs.
    await other.receive("审核通过并公开")
    # Board posts are live views of their pledge (rendered when sent, edited in place later).
    board = [r for r in await outbox_rows(world, BOARD_HS) if r["kind"] == "view"]
    assert [r["status"] for r in board] == ["sent", "sent"]
    assert (await pledge(world, pid)).status is PledgeStatus.PUBLISHED


async def submit_street_cleaning(person: Human) -> None:
    """沈红梅 submits a one-item pledge."""
    await person.send("/pledge", expect="请选择承诺类型")
    await person.tap("年度承诺", expect="第 1 项")
    await draft_item(person, "带头服务群众", "每月清扫村道")
    await person.tap("提交审核", expect="已提交审核")


async def test_the_running_bot_leaves_the_interpreters_settings_alone(world: World) -> None:
    """The outbox sends and records while a member is answered; the process's switch
    interval (the GIL hand-over) is what it was before the bot started."""
    await world.runner.stop()
    before = sys.getswitchinterval()
    await world.runner.start()  # the outbox starts with the bot
    member = world.human("王芳")
    await member.send("/help", expect="您可以使用以下命令")
    assert sys.getswitchinterval() == before
