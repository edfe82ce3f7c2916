"""Shared steps of the mass-evaluation stories: a bigger branch, bound people, opening in chat."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.domain.clock import FakeClock
from bot.playground.sim_state import SimMessage
from bot.playground.simulator import BotApiSimulator
from storage import schema
from storage.db import Database
from tests.e2e.harness import BotRunner, Human, World, make_settings

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 9, 25, 9, 0, tzinfo=TZ)  # late September: the first mass evaluation
BOARD = -100_777
FIRST_TG = 700_000


@dataclass
class Branch:
    """The branch under evaluation with its bound people."""

    world: World
    clock: FakeClock
    org_id: int
    people: dict[str, Human]  # every participant by name (the secretary included)

    @property
    def sim(self) -> BotApiSimulator:
        return self.world.sim

    def polls(self, human: Human) -> list[SimMessage]:
        """The ballot polls in a person's chat, oldest first."""
        return [m for m in self.sim.bot_messages(human.user_id) if m.poll is not None]

    async def wait_polls(self, count: int, per_person: int = 1) -> None:
        """Until ``count`` ballots were sent and recorded (poll ids known)."""

        async def recorded() -> int:
            query = select(func.count()).select_from(schema.evaluation_polls)
            async with self.world.db.engine.connect() as conn:
                return int((await conn.execute(query)).scalar_one())

        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while await recorded() < count:
            assert loop.time() < deadline, f"only {await recorded()} of {count} polls recorded"
            await asyncio.sleep(0.05)

    def vote(self, human: Human, choice: int | None, poll: SimMessage | None = None) -> None:
        """Vote on the person's newest ballot (choice None: retract)."""
        target = poll or self.polls(human)[-1]
        assert target.poll is not None
        self.sim.vote(human.user_id, target.poll.id, [] if choice is None else [choice])


async def grow_branch(
    db_url: str, sim: BotApiSimulator, extra: int, code: str = "XH-HS"
) -> dict[str, int]:
    """Add ``extra`` resident representatives to a branch and bind everyone of the branch and
    the committee to simulator accounts; name → Telegram id."""
    db = Database(db_url)
    try:
        now = START
        async with db.uow() as uow:
            org = await uow.orgs.by_code(code)
            assert org is not None
            await uow.people.insert_many(
                [
                    {
                        "name": f"居民{n:02d}",
                        "org_id": org.id,
                        "role": "resident",
                        "phone": f"1390000{n:04d}",
                        "phone_confirmed": True,  # a resident's vote counts once confirmed
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in range(1, extra + 1)
                ]
            )
            people = await uow.people.in_org(org.id)
            committee = await uow.people.in_org(org.parent_id or org.id, ["committee"])
            ids: dict[str, int] = {}
            for n, person in enumerate(people + committee):
                tg = FIRST_TG + n
                await uow.people.bind(person.id, tg, "zh_CN")
                await uow.people.set_phone_confirmed(person.id, True)
                sim.add_user(tg, person.name)
                ids[person.name] = tg
            await uow.orgs.set_board(org.id, BOARD)
        return ids
    finally:
        await db.dispose()


async def evaluation_world(
    sim: BotApiSimulator, tmp_path: Path, extra: int = 26, **overrides: Any
) -> AsyncIterator[tuple[World, Branch]]:
    """The demo district with a grown 黄思村党总支, everyone bound, a board group, a fake
    clock; the bot running."""
    clock = FakeClock(START)
    settings = make_settings(
        tmp_path,
        sim,
        evaluation_tick_seconds=3600.0,  # the tests close by calling the tick themselves
        reminder_tick_seconds=3600.0,
        **overrides,
    )
    runner = BotRunner(settings, clock=clock)
    world = World(sim=sim, settings=settings, runner=runner, tmp=tmp_path)
    await world.import_demo()
    ids = await grow_branch(settings.database_url, sim, extra)
    humans = {name: Human(world, tg, name) for name, tg in ids.items()}
    world.people.update(humans)
    sim.add_group(BOARD, "黄思村公示栏", [humans["沈宝方"].user_id])
    await runner.start()
    sim.add_bot_to_group(BOARD, humans["沈宝方"].user_id)
    async with world.db.uow() as uow:
        org = await uow.orgs.by_code("XH-HS")
    assert org is not None
    participants = {n: h for n, h in humans.items() if n != "刘晓燕" and n != "陈国平"}
    try:
        yield world, Branch(world, clock, org.id, participants)
    finally:
        await runner.stop()


async def open_in_chat(
    secretary: Human,
    when: str = "3天后",
    quorum: str | None = None,
    kind: str = "评议支部",
    reason: str | None = None,
) -> SimMessage:
    """/evaluate → the branch → the closing time → quorum (with ``reason``: below the rule's,
    and why) → confirm."""
    await secretary.send("/evaluate", expect="请选择评议对象")
    await secretary.tap(kind, expect="截止时间")
    await secretary.send(when, expect="至少要有")
    if quorum is None:
        await secretary.tap("至少", expect="请核对群众评议")
    elif reason is None:
        await secretary.send(quorum, expect="请核对群众评议")
    else:
        await secretary.send(quorum, expect="说明原因")
        await secretary.send(reason, expect="请核对群众评议")
    return await secretary.tap("确认发起", expect="群众评议已发起")


def later(clock: FakeClock, delta: timedelta) -> None:
    """Move the fake clock."""
    clock.advance(delta)


async def tick(world: World) -> Any:
    """Run the evaluation tick now (as the job would) and wake the outbox."""
    app = world.runner.app
    assert app is not None
    svc = app.bot_data.services
    report = await svc.evaluations.tick(svc.reminders.quiet)
    svc.outbox.wake()
    return report


async def rows(world: World, table: Any) -> list[dict[str, Any]]:
    """Every row of a table."""
    async with world.db.engine.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(select(table))]
