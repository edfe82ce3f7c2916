"""Opening a mass evaluation as people type and tap: the closing times they write, and the set-up
buttons tapped once their dialog is over (or by someone else) are answered, never left spinning.
Residents and members are pointed to what is theirs (/phone, /mypledges)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage import schema
from tests.e2e.flows import button_data
from tests.e2e.harness import World

STALE = "这个按钮已经失效了"


async def _count_evaluations(world: World) -> int:
    async with world.db.engine.connect() as conn:
        query = select(func.count()).select_from(schema.evaluations)
        return int((await conn.execute(query)).scalar_one())


@pytest.mark.parametrize("typed", ["下周五", "10分钟后", "30分钟后", "周五 18:00"])
async def test_closing_times_a_secretary_types_are_accepted(world: World, typed: str) -> None:
    secretary = await world.join("沈宝方")
    await secretary.send("/evaluate", expect="请选择评议对象")
    await secretary.tap("评议支部", expect="截止时间")
    ask = await secretary.send(typed, expect="至少要有")
    assert ask.content.startswith("截止时间：")
    assert secretary.seen("没有看懂这个时间") == 0


async def test_a_double_tap_on_confirm_opens_one_evaluation_and_answers_both(
    world: World,
) -> None:
    secretary = await world.join("沈宝方")
    await secretary.send("/evaluate", expect="请选择评议对象")
    await secretary.tap("评议支部", expect="截止时间")
    await secretary.send("3天后", expect="至少要有")
    await secretary.send("9", expect="原因")
    preview = await secretary.send("支部名册上只有9人", expect="请核对群众评议")
    data = button_data(preview, "确认发起")
    first = world.sim.tap(secretary.user_id, secretary.user_id, preview.message_id, data)
    second = world.sim.tap(secretary.user_id, secretary.user_id, preview.message_id, data)
    await world.sim.wait_callback_answer(first, 10)
    late = await world.sim.wait_callback_answer(second, 10)
    assert late.text is not None and STALE in late.text
    await secretary.receive("群众评议已发起")
    assert await _count_evaluations(world) == 1


async def test_set_up_buttons_after_the_dialog_ended_or_of_someone_else_are_answered(
    world: World,
) -> None:
    secretary = await world.join("沈宝方")
    kinds = await secretary.send("/evaluate", expect="请选择评议对象")
    await secretary.send("/cancel", expect="已取消")
    assert STALE in await secretary.tap_for_alert(kinds, button_data(kinds, "评议支部"))

    # In the middle of a new dialog the old message's button is refused; the dialog goes on.
    await secretary.send("/evaluate", expect="请选择评议对象")
    await secretary.tap("评议支部", expect="截止时间")
    assert STALE in await secretary.tap_for_alert(kinds, button_data(kinds, "逐一评议"))
    await secretary.send("3天后", expect="至少要有")
    await secretary.send("/cancel", expect="已取消")

    # Someone else's set-up buttons (a tampered client): answered, nothing opened.
    member = await world.join("王建国")
    for data in ("ev:br:1", "ev:k:b", "ev:q", "ev:ok", "ev:no"):
        assert STALE in await member.tap_forged(data)
    assert await _count_evaluations(world) == 0


async def test_the_english_prompt_example_is_accepted(world: World) -> None:
    secretary = await world.join("沈宝方", language_code="en")
    await secretary.send("/evaluate", expect="What is evaluated?")
    await secretary.tap("The branch", expect="closing time")
    for typed in ("in 3 days", "in 2 hours", "in 30 minutes"):
        ask = await secretary.send(typed, expect="at least")
        assert ask.content.startswith("Closes:")
        await secretary.send("/evaluate", expect="What is evaluated?")
        await secretary.tap("The branch", expect="closing time")
    assert secretary.seen("could not read that time") == 0


async def test_a_member_is_told_phones_are_for_residents_and_a_resident_is_not_sent_to_pledge(
    world: World,
) -> None:
    member = await world.join("王建国")
    told = await member.send("/phone", expect="群众代表")
    assert "不需要确认手机号" in told.content
    assert not isinstance(told.reply_markup, dict) or "keyboard" not in told.reply_markup
    resident = await world.join("张桂英")
    answer = await resident.send("/mypledges", expect="群众代表不需要填写承诺")
    assert "/pledge" not in answer.content
    english = await world.join("王秀兰", language_code="en")
    reply = await english.send("/mypledges", expect="do not pledge")
    assert "/pledge" not in reply.content
    member_en = await world.join("杨友林", language_code="en")
    await member_en.send("/phone", expect="Only resident representatives")
