"""A resident joins through the invite link and confirms the phone by sharing the contact:
one's own matching contact confirms it; someone else's card or a different number does not."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import insert

from bot.domain.reminders import QuietHours
from storage import schema
from tests.e2e.flows import roster_person
from tests.e2e.harness import World


def _request_contact(markup: object) -> bool:
    if not isinstance(markup, dict):
        return False
    rows = markup.get("keyboard") or []
    return any(isinstance(b, dict) and b.get("request_contact") for row in rows for b in row)


async def _confirmed(world: World, name: str) -> bool:
    return (await roster_person(world, name)).phone_confirmed


async def test_resident_confirms_own_phone_refusing_others(world: World) -> None:
    resident = await world.join("张桂英")
    ask = await resident.receive("请确认您的手机号")
    assert _request_contact(ask.reply_markup), ask.reply_markup
    neighbour = world.human("邻居")

    # Someone else's contact card: refused, asked again, nothing stored.
    refused = await resident.share_contact(
        "13800000151", "不要转发别人的名片", contact_user_id=neighbour.user_id
    )
    assert _request_contact(refused.reply_markup)
    # Their own contact, but not the number on the roster.
    wrong = await resident.share_contact("+86 139 0000 0000", "和支部登记的不一致")
    assert "139****0000" in wrong.content and "支部书记" in wrong.content
    assert not await _confirmed(world, "张桂英")

    done = await resident.share_contact("+86 138-0000-0151", "手机号已确认")
    assert done.reply_markup == {"remove_keyboard": True}
    assert await _confirmed(world, "张桂英")
    again = await resident.send("/phone", expect="已经确认过了")
    assert not _request_contact(again.reply_markup)


async def test_members_are_not_asked_and_an_unconfirmed_resident_is_asked_again(
    world: World,
) -> None:
    member = await world.join("王建国")
    await member.send("/help", expect="您可以使用以下命令")
    assert member.seen("请确认您的手机号") == 0
    resident = await world.join("李长根", language_code="en")
    await resident.receive("Please confirm your phone number")
    back = await resident.send("/start", expect="Please confirm your phone number")
    assert _request_contact(back.reply_markup)
    await resident.share_contact("0086 13800000152", "confirmed")
    assert await _confirmed(world, "李长根")


async def test_unconfirmed_residents_of_an_open_evaluation_are_asked_once(
    world: World,
) -> None:
    resident = await world.join("张桂英")
    await resident.receive("请确认您的手机号")
    confirmed = await world.join("李长根")
    await confirmed.share_contact("13800000152", "手机号已确认")
    secretary = await roster_person(world, "沈宝方")
    now = datetime.now(UTC)
    async with world.db.engine.begin() as conn:
        await conn.execute(
            insert(schema.evaluations).values(
                org_id=secretary.org_id,
                subject_kind="branch",
                opened_by=secretary.id,
                status="open",
                quorum=30,
                pass_permille=900,
                closes_at=now + timedelta(days=3),
                created_at=now,
            )
        )
    reminders = world.runner.app.bot_data.services.reminders  # type: ignore[union-attr]
    reminders.quiet = QuietHours(time(0, 0), time(0, 0))  # whenever the test runs
    await reminders.tick()
    await reminders.tick()
    world.runner.app.bot_data.services.outbox.wake()  # type: ignore[union-attr]
    ask = await resident.receive("本支部正在进行群众评议")
    await world.outbox_settled()
    assert resident.seen("本支部正在进行群众评议") == 1
    assert confirmed.seen("本支部正在进行群众评议") == 0
    keyboard = await resident.tap("确认手机号", expect="请确认您的手机号")
    assert _request_contact(keyboard.reply_markup)
    assert ask.buttons
    await resident.share_contact("13800000151", "手机号已确认")
