"""/mute (handlers/reminders.py, on the router): routine reminders off and on again, in the
person's language; someone not yet joined is told how to join, not "not understood"."""

from __future__ import annotations

from tests.e2e.harness import World


async def test_a_member_turns_routine_reminders_off_and_on_again(world: World) -> None:
    member = await world.join("王建国")
    await member.send("/mute", expect="已关闭一般提醒。到期、逾期等重要提醒仍会发送")
    await member.send("/mute", expect="已打开全部提醒")
    async with world.db.read() as uow:
        person = await uow.people.by_tg(member.user_id)
        assert person is not None and person.id not in await uow.reminders.muted()


async def test_in_english(world: World) -> None:
    member = await world.join("王建国", language_code="en")
    await member.send("/mute", expect="Routine reminders are off")


async def test_a_stranger_is_told_how_to_join(world: World) -> None:
    stranger = world.human("路人")
    await stranger.send("/mute", expect="您还没有绑定账号。请点击支部发给您的邀请链接。")
