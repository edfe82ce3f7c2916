"""Steps that several e2e stories share: drafting an item, submitting, reading the database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from bot.domain.models import Person, Pledge, Review
from bot.playground.sim_state import SimMessage
from storage import schema
from tests.e2e.harness import Human, World

BOARD_HS = -100_001  # 黄思村 board group


async def draft_item(
    person: Human,
    category: str,
    content: str,
    target: str = "每月检查一次",
    deadline: str = "年底",
    *,
    expect_done: str = "请核对",
    responsible: str = "本人",
) -> None:
    """Answer one item's questions in the drafting conversation (category button first)."""
    await person.tap(category, expect="承诺内容")
    await person.send(content, expect="可以检查的目标")
    await person.send(target, expect="完成时限")
    await person.send(deadline, expect="谁负责")
    await person.tap(responsible, expect=expect_done)


async def draft_one_item_pledge(
    person: Human,
    content: str = "每月参加支部学习",
    category: str = "带头学习提高",
    *,
    horizon: str = "年度承诺",
    deadline: str = "年底",
) -> None:
    """/pledge → a horizon → one finished item; the summary is showing."""
    await person.send("/pledge", expect="请选择承诺类型")
    await person.tap(horizon, expect="第 1 项")
    await draft_item(person, category, content, deadline=deadline)


async def submit_one_item_pledge(
    person: Human, content: str = "每月参加支部学习", category: str = "带头学习提高"
) -> None:
    """Draft a one-item annual pledge and submit it."""
    await draft_one_item_pledge(person, content, category)
    await person.tap("提交审核", expect="已提交审核")


async def person_of(world: World, human: Human) -> Person:
    """The roster entry bound to this account."""
    async with world.db.uow() as uow:
        person = await uow.people.by_tg(human.user_id)
    assert person is not None, f"{human.name} is not bound"
    return person


async def roster_person(world: World, name: str) -> Person:
    """A roster entry by name (bound or not)."""
    async with world.db.uow() as uow:
        for org in await uow.orgs.all():
            for person in await uow.people.in_org(org.id):
                if person.name == name:
                    return person
    raise AssertionError(f"{name} is not on the roster")


async def pledges_of(world: World, human: Human) -> list[Pledge]:
    """Every pledge whose pledger is this person, oldest first."""
    person = await person_of(world, human)
    async with world.db.uow() as uow:
        return await uow.pledges.find(person_id=person.id)


async def only_pledge(world: World, human: Human) -> Pledge:
    """The one pledge of this person."""
    pledges = await pledges_of(world, human)
    assert len(pledges) == 1, pledges
    return pledges[0]


async def pledge(world: World, pledge_id: int) -> Pledge:
    """A pledge as stored now."""
    async with world.db.uow() as uow:
        found = await uow.pledges.get(pledge_id)
    assert found is not None
    return found


async def reviews(world: World, pledge_id: int) -> list[Review]:
    """The audit trail of a pledge."""
    async with world.db.uow() as uow:
        return await uow.reviews.for_pledge(pledge_id)


async def outbox_rows(world: World, chat_id: int | None = None) -> list[dict[str, Any]]:
    """Outbox rows (optionally of one chat), oldest first."""
    from sqlalchemy import select

    query = select(schema.outbox).order_by(schema.outbox.c.id)
    if chat_id is not None:
        query = query.where(schema.outbox.c.chat_id == chat_id)
    async with world.db.engine.connect() as conn:
        return [dict(row._mapping) for row in await conn.execute(query)]


async def expire_invite(world: World, code: str) -> None:
    """Move an invite's expiry into the past."""
    from datetime import UTC, datetime, timedelta

    async with world.db.engine.begin() as conn:
        await conn.execute(
            update(schema.invites)
            .where(schema.invites.c.code == code)
            .values(expires_at=datetime.now(UTC) - timedelta(days=1))
        )


def newest(person: Human, text: str) -> SimMessage:
    """The newest bot message in the person's chat containing ``text``."""
    for message in reversed(person.sim.bot_messages(person.user_id)):
        if text in message.content:
            return message
    raise AssertionError(f"{person.name} has no message with {text!r}")


def buttons_of(message: Any) -> list[tuple[str, str]]:
    """(label, callback_data) of a simulator message's buttons."""
    return [(b.text, b.callback_data or "") for b in message.iter_buttons()]


def button_data(message: Any, label: str) -> str:
    """The callback data of the button whose label contains ``label``."""
    for text, data in buttons_of(message):
        if label in text:
            return data
    raise AssertionError(f"no button {label!r} in {buttons_of(message)}")
