"""The world of the mixed kill test (test_kill_mixed.py): a branch, its people, the bot as a
child process that a seeded plan kills (SIGKILL) at random moments and starts again.

A person acts as a person would: one thing at a time, waiting for the bot's answer before the
next. Each thing they do is an update; :meth:`KillWorld.ask` sends it and waits for the
answer. If the bot is killed after the update's effects were committed and before it
answered, that answer never comes (the next process does not handle the update again): the
answer is *lost*, the update is kept in :attr:`KillWorld.lost` and the person carries on as a
person would (asks the bot where they are). Every other answer must come.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.domain.clock import SystemClock
from bot.domain.evaluation import EvaluationService, load_ballot_key, voter_hash
from bot.domain.evaluation_models import SubjectKind
from bot.domain.onboarding import OnboardingService
from bot.domain.roster import load_roster
from bot.domain.roster_import import import_roster
from bot.playground.sim_state import SimMessage
from bot.playground.simulator import BotApiSimulator
from storage import schema
from storage.accounts import insert_people
from storage.db import Database
from tests.accounts import actor_for

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "bot" / "playground" / "demo"
TOKEN = "123456:KILL-MIXED"
SECRETARY_TG = 1001  # 沈宝方, secretary of 黄思村 (XH-HS): reviews the members' pledges
DY_SECRETARY_TG = 1002  # 吴静, secretary of 东园社区 (XH-DY): opened the residents' evaluation
FIRST_MEMBER = 700_000
FIRST_RESIDENT = 710_000
WAIT = 300.0  # seconds for any one answer: restarts on a loaded machine included


@dataclass
class Waiting:
    """An update a person sent and the answer they wait for."""

    update_id: int
    chat: int
    mark: dict[int, int]
    expect: str
    sim: BotApiSimulator
    answer: SimMessage | None = None
    lost: bool = False  # its effects committed; the process that took it died unanswered

    def answered(self) -> bool:
        """Whether a bot message in the chat, new or edited since the update, says it."""
        if self.answer is not None:
            return True
        for message in self.sim.bot_messages(self.chat):
            if self.mark.get(message.message_id) == message.edits:
                continue
            if self.expect in message.content:
                self.answer = message
                return True
        return False


@dataclass
class KillWorld:
    """The simulator, the bot's process, the kill plan and what people wait for."""

    sim: BotApiSimulator
    tmp: Path
    seed: int
    kills_planned: int
    url: str = ""
    bot: asyncio.subprocess.Process | None = None
    rng: random.Random = field(init=False)
    plan: list[int] = field(default_factory=list)  # requests into each process to kill at
    requests: int = 0  # requests answered to the current process
    kills: int = 0
    killed: asyncio.Event = field(default_factory=asyncio.Event)
    waiting: dict[int, Waiting] = field(default_factory=dict)
    lost: list[Waiting] = field(default_factory=list)
    steps: int = 0  # answers people have had (the residents' votes are paced by them)
    done: bool = False
    second_ballots: int = 0  # residents who found their ballot twice (see residents_vote)
    votes: dict[int, list[tuple[int, str, int]]] = field(default_factory=dict)  # update, poll

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.url = f"sqlite+aiosqlite:///{self.tmp / 'bot.db'}"
        # The n-th request of a process, a new n for each: anywhere from its start-up (the
        # journal's replay) to the middle of a burst of answers.
        self.plan = [self.rng.randint(15, 160) for _ in range(self.kills_planned)]
        self.sim.on_request = self._on_request

    @property
    def log(self) -> Path:
        return self.tmp / "bot.log"

    @property
    def key(self) -> Path:
        return self.tmp / "ballot.key"

    def tail(self) -> str:
        """The end of the bot's log and the seed (for a failure's message)."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"seed {self.seed} (JIANNUO_KILL_SEED replays it)\n{text[-4000:]}"

    # -- the bot's process

    async def start(self) -> None:
        env = {
            **os.environ,
            "JIANNUO_BOT_TOKEN": TOKEN,
            "JIANNUO_BOT_API_URL": self.sim.base_url,
            "JIANNUO_DATABASE_URL": self.url,
            "JIANNUO_BALLOT_KEY_PATH": str(self.key),
            "JIANNUO_BOT_USERNAME": "jiannuo_bot",
            "JIANNUO_ENFORCE_PLEDGE_WINDOW": "false",
            "JIANNUO_OUTBOX_POLL_SECONDS": "0.1",
            "JIANNUO_REMINDER_TICK_SECONDS": "3600",
            "JIANNUO_EVALUATION_TICK_SECONDS": "3600",
            "PTB_TIMEDELTA": "true",
        }
        self.requests = 0
        with self.log.open("ab") as out:
            self.bot = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "run", cwd=ROOT, env=env, stdout=out, stderr=out
            )

    def _on_request(self, _method: str) -> None:
        """Each request has taken effect at Telegram, not yet answered: kill on the plan's."""
        self.requests += 1
        bot = self.bot
        if self.done or not self.plan or bot is None or self.killed.is_set():
            return
        if self.requests >= self.plan[0]:
            os.kill(bot.pid, signal.SIGKILL)
            self.killed.set()

    async def keep_killing(self) -> None:
        """After each planned kill: note the answers lost with it, start the bot again."""
        while self.plan:
            await self.killed.wait()
            assert self.bot is not None
            await self.bot.wait()
            self.plan.pop(0)
            self.kills += 1
            await self._note_lost()
            await self.start()
            self.killed.clear()

    async def _note_lost(self) -> None:
        """Updates waited on whose effects are committed and which the dead process did not
        answer: the next process will not take them again (processed_updates)."""
        unanswered = [w for w in self.waiting.values() if not w.answered() and not w.lost]
        if not unanswered:
            return
        db = Database(self.url)
        try:
            async with db.engine.connect() as conn:
                rows = await conn.execute(
                    select(schema.processed_updates.c.update_id).where(
                        schema.processed_updates.c.update_id.in_([w.update_id for w in unanswered])
                    )
                )
                handled = {int(row[0]) for row in rows}
        finally:
            await db.dispose()
        for w in unanswered:
            if w.update_id in handled:
                w.lost = True
                self.lost.append(w)

    async def stop(self) -> None:
        """Stop the bot as an operator would (SIGTERM); kill it if it hangs."""
        self.done = True
        bot = self.bot
        if bot is None or bot.returncode is not None:
            return
        bot.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(bot.wait(), 30)
        except TimeoutError:
            bot.kill()
            await bot.wait()

    async def outbox_settled(self) -> None:
        """Until no outbox row is pending (the bot is running or started again)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        while True:
            db = Database(self.url)
            try:
                async with db.read() as uow:
                    pending = (await uow.outbox.counts()).get("pending", 0)
            finally:
                await db.dispose()
            if not pending:
                return
            assert loop.time() < deadline, f"{pending} outbox rows pending\n{self.tail()}"
            await asyncio.sleep(0.2)

    async def ballots_astray(self, truth: dict[int, int]) -> list[object]:
        """Residents whose ballot is not their last answer: what they answered, and when."""
        choices = ("satisfied", "basic", "unsatisfied")
        key = load_ballot_key(None, self.key)
        db = Database(self.url)
        try:
            async with db.engine.connect() as conn:
                stored = {
                    str(voter): str(choice)
                    for voter, choice in await conn.execute(
                        select(schema.ballots.c.voter, schema.ballots.c.choice)
                    )
                }
                people = {
                    int(tg): int(pid)
                    for pid, tg in await conn.execute(
                        select(schema.accounts.c.person_id, schema.accounts.c.external_id).where(
                            schema.accounts.c.channel == schema.TELEGRAM
                        )
                    )
                    if int(tg) >= FIRST_RESIDENT
                }
        finally:
            await db.dispose()
        astray: list[object] = []
        for user, option in truth.items():
            got = stored.get(voter_hash(key, 1, people[user]))
            want = choices[option] if option >= 0 else None
            if got != want:
                polls = [m.poll.id for m in self.sim.bot_messages(user) if m.poll]
                astray.append((user, want, got, polls, self.votes.get(user)))
        return astray

    # -- people

    async def until(self, cond: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
        """Wait for a condition (checked at every change of the simulator and every 0.2 s)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not cond():
            if loop.time() > deadline:
                raise AssertionError(f"{what}\n{self.tail()}")
            with contextlib.suppress(TimeoutError):
                await self.sim.wait_until(cond, 0.2)

    async def ask(self, chat: int, act: Callable[[], object], expect: str) -> Waiting:
        """Do something (an update) and wait for the answer that says ``expect``, or until it
        is known lost with a kill."""
        mark = {m.message_id: m.edits for m in self.sim.bot_messages(chat)}
        act()
        waiting = Waiting(self.sim.newest_update_id(), chat, mark, expect, self.sim)
        self.waiting[waiting.update_id] = waiting
        try:
            await self.until(
                lambda: waiting.answered() or waiting.lost,
                f"update {waiting.update_id} in chat {chat}: no answer with {expect!r}; "
                f"newest: {[m.content[:120] for m in self.sim.bot_messages(chat)[-3:]]}",
            )
        finally:
            del self.waiting[waiting.update_id]
        self.steps += 1
        return waiting

    def says(self, user: int, text: str) -> Callable[[], object]:
        """Typing ``text`` in the private chat."""
        return lambda: self.sim.send_text(user, text)

    def tap(self, user: int, message: SimMessage, label: str) -> Callable[[], object]:
        """Tapping the button of this message whose label holds ``label``."""
        data = next(b.callback_data for b in message.iter_buttons() if label in b.text)
        assert data is not None
        return lambda: self.sim.tap(user, message.chat_id, message.message_id, data)

    def newest_with(self, chat: int, label: str) -> SimMessage:
        """The newest bot message in the chat with a button whose label holds ``label``."""
        for message in reversed(self.sim.bot_messages(chat)):
            if any(label in b.text for b in message.iter_buttons()):
                return message
        raise AssertionError(f"no button {label!r} in chat {chat}\n{self.tail()}")


async def seed_world(world: KillWorld, members: int, residents: int) -> dict[str, str]:
    """The demo roster; ``members`` unbound members of 黄思村 with invites; ``residents``
    resident representatives of 东园社区, whose branch evaluation is open (its ballots are
    sent by the bot once it runs). Every account is known to the simulator. The invites."""
    db = Database(world.url)
    clock = SystemClock()
    try:
        await db.migrate()
        await import_roster(db, clock, load_roster(DEMO / "orgs.csv", DEMO / "people.csv"))
        now = datetime.now(UTC)
        async with db.uow() as uow:
            hs, dy = await uow.orgs.by_code("XH-HS"), await uow.orgs.by_code("XH-DY")
            assert hs is not None and dy is not None
            for org, tg, name in ((hs, SECRETARY_TG, "沈宝方"), (dy, DY_SECRETARY_TG, "吴静")):
                secretary = next(p for p in await uow.people.in_org(org.id) if p.name == name)
                await uow.people.bind(secretary.id, tg, "zh_CN")
                world.sim.add_user(tg, name)
            await uow.people.insert_many(
                [
                    {
                        "name": f"党员{n:03d}",
                        "org_id": hs.id,
                        "role": "member",
                        "phone": f"136{n:08d}",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in range(members)
                ]
            )
            await insert_people(  # (one call per set of columns)
                uow,
                [
                    {
                        "name": f"居民{n:03d}",
                        "org_id": dy.id,
                        "role": "resident",
                        "phone": f"139{n:08d}",
                        "tg_user_id": FIRST_RESIDENT + n,
                        "phone_confirmed": True,
                        "locale": "zh_CN",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in range(residents)
                ],
                now,
            )
        for n in range(members):
            world.sim.add_user(FIRST_MEMBER + n, f"党员{n:03d}")
        for n in range(residents):
            world.sim.add_user(FIRST_RESIDENT + n, f"居民{n:03d}")
        issued = await OnboardingService(db, clock, [], 30).issue_invites("XH-HS")
        evaluations = EvaluationService(db, clock, load_ballot_key(None, world.key))
        await evaluations.open(
            await actor_for(db, DY_SECRETARY_TG),
            dy.id,
            SubjectKind.BRANCH,
            now + timedelta(days=2),
            30,
        )
        return {i.person.name: i.code for i in issued if i.code}
    finally:
        await db.dispose()
