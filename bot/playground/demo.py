"""The demo district: roster, bound demo accounts, board groups and pledges in every state."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from telegram import Bot, BotCommand, BotCommandScopeChat

from bot.chat import features
from bot.chat.actions import read_rows
from bot.chat.actor import TELEGRAM, Account, Actor
from bot.domain.clock import Clock, SystemClock
from bot.domain.enums import Horizon, PledgerKind, Role
from bot.domain.models import Org, Person
from bot.domain.onboarding import OnboardingService
from bot.domain.pledges import PledgeService
from bot.domain.review import ReviewService
from bot.domain.roster import load_roster
from bot.domain.roster_import import import_roster
from bot.i18n import t
from bot.menu import commands_for
from bot.playground.demo_evaluation import seed_evaluation
from bot.playground.demo_rectification import seed_rectifications
from bot.playground.simulator import BotApiSimulator
from storage.db import Database

log = logging.getLogger(__name__)

DEMO_DIR = Path(__file__).parent / "demo"
USER_ID_BASE = 700_000  # demo Telegram ids: base + person id
BOARD_ID_BASE = -1_000_000_000  # demo board groups: base - org id


@dataclass(frozen=True)
class Persona:
    """A roster person with a demo Telegram account."""

    person: Person
    org: Org

    @property
    def user_id(self) -> int:
        """The demo account's Telegram id."""
        assert self.person.tg_user_id is not None
        return self.person.tg_user_id


async def seed_demo(db: Database, clock: Clock) -> bool:
    """Fill an empty database with the demo district; False if it already has data."""
    async with db.uow() as uow:
        if await uow.orgs.all():
            return False
    roster = load_roster(DEMO_DIR / "orgs.csv", DEMO_DIR / "people.csv")
    await import_roster(db, clock, roster)
    async with db.uow() as uow:
        for org in await uow.orgs.all():
            if not org.is_committee or org.parent_id is None:
                await uow.orgs.set_board(org.id, BOARD_ID_BASE - org.id)
            for person in await uow.people.in_org(org.id):
                await uow.people.bind(person.id, USER_ID_BASE + person.id, "zh_CN")
    await _demo_pledges(db, clock)
    await seed_rectifications(db, clock)  # 整改: a plan to file, a plan to accept
    await seed_evaluation(db, clock)  # 群众评议: 机关党支部 votes now (polls, turnout)
    await _drop_superseded_reviews(db, clock)
    log.info("demo district seeded")
    return True


async def _drop_superseded_reviews(db: Database, clock: Clock) -> None:
    """The seed decides some reviews at once: their review requests must not go out."""
    async with db.uow() as uow:
        rows = await uow.outbox.due(clock.now() + timedelta(days=1), 10_000)
        stale = []
        for row in rows:
            for button in (b for line in read_rows(row.payload.get("buttons", [])) for b in line):
                data = button.action
                if data is None or data.feature != features.REVIEW or len(data.args) < 2:
                    continue
                pledge = await uow.pledges.get(data.int_arg(0))
                if pledge is None or pledge.version != data.int_arg(1):
                    stale.append(row.id)
                break
        await uow.outbox.discard(stale)


async def _tg(db: Database, name: str) -> int:
    async with db.uow() as uow:
        for org in await uow.orgs.all():
            for person in await uow.people.in_org(org.id):
                if person.name == name and person.tg_user_id is not None:
                    return person.tg_user_id
    raise LookupError(name)


async def _as(db: Database, name: str) -> Actor:
    """The demo person acting, as the Telegram edge resolves their demo account."""
    found = await OnboardingService(db, SystemClock(), []).actor(
        Account(TELEGRAM, str(await _tg(db, name))), None
    )
    assert found is not None
    return found


async def _draft(
    pledges: PledgeService,
    me: Actor,
    horizon: Horizon,
    items: list[tuple[str, str, str, str]],
    *,
    kind: PledgerKind = PledgerKind.MEMBER,
    on_behalf_of: int | None = None,
) -> int:
    view = await pledges.open_draft(me, kind=kind, on_behalf_of=on_behalf_of)
    pid = view.pledge.id
    await pledges.set_horizon(me, pid, horizon)
    for index, (category, content, target, deadline) in enumerate(items):
        if index:
            await pledges.start_item(me, pid)
        for answer in (category, content, target, deadline):
            await pledges.answer(me, pid, answer)
        await pledges.answer(me, pid, await pledges.default_responsible(me, pid))
    return pid


async def _demo_pledges(db: Database, clock: Clock) -> None:
    """Pledges in every state: draft, under review, returned, published (incl. oral)."""
    pledges = PledgeService(db, clock)
    reviews = ReviewService(db, clock)
    dy_secretary = await _as(db, "吴静")

    async def publish(pid: int, reviewer: Actor) -> None:
        async with db.uow() as uow:
            pledge = await uow.pledges.get(pid)
            assert pledge is not None
        await reviews.approve(reviewer, pid, pledge.version)

    # Published: a cadre member with the full higher standard.
    pid = await _draft(
        pledges,
        await _as(db, "王建国"),
        Horizon.ANNUAL,
        [
            ("study", "每月参加支部集中学习并撰写心得", "全年学习不少于12次、心得6篇", "年底"),
            ("serve", "帮助三组解决灌溉水渠破损问题", "水渠修复并通水", "下月底"),
            ("integrity", "带头移风易俗、反对大操大办", "全年劝导红白事简办3户以上", "年底"),
        ],
    )
    await pledges.submit(await _as(db, "王建国"), pid)
    await publish(pid, await _as(db, "沈宝方"))

    # Published: an oral pledge recorded by the secretary for an elderly member.
    oral_member = await _person_id(db, "朱德顺")
    pid = await _draft(
        pledges,
        await _as(db, "沈宝方"),
        Horizon.LONG_TERM,
        [("integrity", "义务看护村口小游园", "每天早晚各巡查一次", "年底")],
        on_behalf_of=oral_member,
    )
    await pledges.submit(await _as(db, "沈宝方"), pid)
    await publish(pid, await _as(db, "刘晓燕"))  # who recorded it does not review it

    # Under review.
    pid = await _draft(
        pledges,
        await _as(db, "杨友林"),
        Horizon.ANNUAL,
        [("serve", "帮带5户种植户发展大棚蔬菜", "每户年增收3000元以上", "年底")],
    )
    await pledges.submit(await _as(db, "杨友林"), pid)

    # Returned for revision.
    member = await _as(db, "郑家明")
    pid = await _draft(
        pledges, member, Horizon.ANNUAL, [("serve", "多为居民办实事", "尽力而为", "年底")]
    )
    await pledges.submit(member, pid)
    async with db.uow() as uow:
        pledge = await uow.pledges.get(pid)
        assert pledge is not None
    await reviews.return_for_revision(
        dy_secretary, pid, pledge.version, "目标不具体：请写明办几件实事、怎么检查。"
    )

    # A draft left half-way.
    member = await _as(db, "孙立新")
    view = await pledges.open_draft(member)
    await pledges.set_horizon(member, view.pledge.id, Horizon.INSTANT)


async def _person_id(db: Database, name: str) -> int:
    async with db.uow() as uow:
        for org in await uow.orgs.all():
            for person in await uow.people.in_org(org.id):
                if person.name == name:
                    return person.id
    raise LookupError(name)


async def personas(db: Database) -> list[Persona]:
    """Every bound person with their organisation, by organisation then role."""
    order = {Role.COMMITTEE: 0, Role.LEADER: 1, Role.SECRETARY: 2, Role.MEMBER: 3}
    result: list[Persona] = []
    async with db.uow() as uow:
        for org in await uow.orgs.all():
            people = await uow.people.in_org(org.id)
            for person in sorted(people, key=lambda p: (order.get(p.role, 9), p.id)):
                if person.tg_user_id is not None:
                    result.append(Persona(person, org))
    return result


async def attach(sim: BotApiSimulator, db: Database) -> list[Persona]:
    """Create the demo accounts and board groups in the simulator (it keeps no state)."""
    cast = await personas(db)
    for persona in cast:
        sim.add_user(persona.user_id, persona.person.name, language_code="zh-hans")
    async with db.uow() as uow:
        orgs = await uow.orgs.all()
    for org in orgs:
        if org.board_chat_id is None:
            continue
        members = [p.user_id for p in cast if p.org.id == org.id]
        sim.add_group(org.board_chat_id, f"{org.name}公示栏", members, bot_is_member=True)
    return cast


async def set_menus(bot: Bot, cast: list[Persona]) -> None:
    """Give each demo account its role's command menu, as /start does for a real account.

    The demo binds accounts in the database without anyone sending /start, so the bot never
    set their menus; without this every persona would see the not-yet-bound menu.
    """
    for persona in cast:
        locale = persona.person.locale or "zh_CN"
        commands = [
            BotCommand(c, t(locale, f"cmd.{c}")) for c in commands_for(persona.person.role)
        ]
        await bot.set_my_commands(commands, scope=BotCommandScopeChat(persona.user_id))
