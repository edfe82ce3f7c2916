"""Drive the real PTB Application over HTTP against the simulator, as people would."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.app import ALLOWED_UPDATES, build_application, on_shutdown, on_start, on_stop
from bot.context import JiannuoApp
from bot.domain.clock import Clock, FakeClock, SystemClock
from bot.domain.onboarding import OnboardingService
from bot.domain.roster import load_roster
from bot.domain.roster_import import import_roster
from bot.playground.sim_state import SimMessage, tiny_png
from bot.playground.simulator import BotApiSimulator
from config.settings import Settings
from storage.db import Database
from tests.databases import database_for

DEMO = Path(__file__).resolve().parents[2] / "bot" / "playground" / "demo"
TOKEN = "123456:TEST-TOKEN"
ADMIN_ID = 9_000_001
WAIT = 10.0


class BotRunner:
    """Starts and stops the bot like the `jiannuo run` process would."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.app: JiannuoApp | None = None

    async def start(self) -> JiannuoApp:
        """Build, initialise and start polling."""
        app = build_application(self.settings, token=TOKEN, clock=self.clock)
        await app.initialize()
        await on_start(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(
            poll_interval=0.0, timeout=1, allowed_updates=ALLOWED_UPDATES
        )
        self.app = app
        return app

    async def stop(self) -> None:
        """Stop polling and shut down cleanly (persistence flushed)."""
        app = self.app
        if app is None:
            return
        assert app.updater is not None
        if app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await on_stop(app)
        await app.shutdown()
        await on_shutdown(app)
        self.app = None

    async def restart(self) -> None:
        """Stop and start again on the same database."""
        await self.stop()
        await self.start()


@dataclass
class Human:
    """A simulated person with a Telegram account."""

    world: World
    user_id: int
    name: str
    language_code: str = "zh-hans"

    @property
    def sim(self) -> BotApiSimulator:
        return self.world.sim

    def _mark(self, chat_id: int) -> dict[int, int]:
        return {m.message_id: m.edits for m in self.sim.bot_messages(chat_id)}

    async def _expect(
        self, chat_id: int, mark: dict[int, int], expect: str | None, timeout: float
    ) -> SimMessage:
        found: list[SimMessage] = []

        def changed() -> bool:
            for message in self.sim.bot_messages(chat_id):
                before = mark.get(message.message_id)
                if before is not None and before == message.edits:
                    continue
                if expect is None or expect in message.content:
                    found.append(message)
                    return True
            return False

        try:
            await self.sim.wait_until(changed, timeout)
        except TimeoutError:
            recent = [m.content[:300] for m in self.sim.bot_messages(chat_id)[-3:]]
            raise AssertionError(
                f"{self.name} never saw {expect!r} in chat {chat_id}; newest: {recent}"
            ) from None
        return found[0]

    async def send(
        self,
        text: str,
        expect: str | None = None,
        *,
        chat_id: int | None = None,
        timeout: float = WAIT,
    ) -> SimMessage:
        """Type a message; wait for the bot's answer (containing ``expect``)."""
        chat = chat_id or self.user_id
        mark = self._mark(chat)
        self.sim.send_text(self.user_id, text, chat_id=chat_id)
        return await self._expect(chat, mark, expect, timeout)

    async def share_contact(
        self,
        phone: str,
        expect: str | None = None,
        *,
        contact_user_id: int | None = None,
        timeout: float = WAIT,
    ) -> SimMessage:
        """Share a contact (one's own, as the request_contact button does, unless
        ``contact_user_id`` names someone else); wait for the bot's answer."""
        mark = self._mark(self.user_id)
        self.sim.send_contact(self.user_id, phone, contact_user_id=contact_user_id)
        return await self._expect(self.user_id, mark, expect, timeout)

    async def send_other(
        self, kind: str, expect: str | None = None, *, chat_id: int | None = None
    ) -> SimMessage:
        """Send something that is not text (``photo``, ``file``, ``sticker`` or ``location``);
        wait for the bot's answer (containing ``expect``)."""
        chat = chat_id or self.user_id
        mark = self._mark(chat)
        if kind == "photo":
            self.sim.send_photo(self.user_id, tiny_png(), chat_id=chat_id)
        elif kind == "file":
            self.sim.send_document(
                self.user_id, b"%PDF-1.4 minutes", "会议记录.pdf", chat_id=chat_id
            )
        elif kind == "sticker":
            self.sim.send_sticker(self.user_id, chat_id=chat_id)
        elif kind == "location":
            self.sim.send_location(self.user_id, 30.28, 120.15, chat_id=chat_id)
        else:
            raise ValueError(kind)
        return await self._expect(chat, mark, expect, WAIT)

    async def tap(
        self,
        label: str,
        expect: str | None = None,
        *,
        chat_id: int | None = None,
        timeout: float = WAIT,
    ) -> SimMessage:
        """Tap the newest button with this label; wait for the bot's answer."""
        chat = chat_id or self.user_id
        mark = self._mark(chat)
        query_id = self.sim.tap_button(self.user_id, chat, label)
        await self.sim.wait_callback_answer(query_id, timeout)
        return await self._expect(chat, mark, expect, timeout)

    async def tap_for_alert(self, message: SimMessage, data: str) -> str:
        """Tap a specific (possibly old) button and return the bot's short answer."""
        query_id = self.sim.tap(self.user_id, message.chat_id, message.message_id, data)
        answer = await self.sim.wait_callback_answer(query_id, WAIT)
        return answer.text or ""

    async def tap_forged(self, data: str, message: SimMessage | None = None) -> str:
        """Send callback data no button of ours carries (a tampered client); the short answer."""
        target = message or self.last()
        query_id = self.sim.tap_forged(self.user_id, target.chat_id, target.message_id, data)
        answer = await self.sim.wait_callback_answer(query_id, WAIT)
        return answer.text or ""

    async def receive(self, expect: str, *, timeout: float = WAIT) -> SimMessage:
        """Wait for something the bot sends on its own (through the outbox)."""

        def seen() -> bool:
            return any(expect in m.content for m in self.sim.bot_messages(self.user_id))

        try:
            await self.sim.wait_until(seen, timeout)
        except TimeoutError:
            recent = [m.content[:200] for m in self.sim.bot_messages(self.user_id)[-3:]]
            raise AssertionError(
                f"{self.name} never received {expect!r}; newest: {recent}"
            ) from None
        return next(
            m for m in reversed(self.sim.bot_messages(self.user_id)) if expect in m.content
        )

    def last(self, chat_id: int | None = None) -> SimMessage:
        """The newest bot message in the chat."""
        message = self.sim.last_bot_message(chat_id or self.user_id)
        assert message is not None
        return message

    def seen(self, text: str, chat_id: int | None = None) -> int:
        """How many bot messages in the chat contain ``text``."""
        return sum(1 for m in self.sim.bot_messages(chat_id or self.user_id) if text in m.content)


@dataclass
class World:
    """The simulator, the bot, its database and the people."""

    sim: BotApiSimulator
    settings: Settings
    runner: BotRunner
    tmp: Path
    people: dict[str, Human] = field(default_factory=dict)
    invites: dict[str, str] = field(default_factory=dict)
    _next_user: int = 1000

    @property
    def db(self) -> Database:
        app = self.runner.app
        assert app is not None
        return app.bot_data.services.db

    async def import_demo(self) -> dict[str, str]:
        """Import the demo roster and issue invites for the whole district."""
        db = Database(self.settings.database_url)
        try:
            await db.migrate()
            roster = load_roster(DEMO / "orgs.csv", DEMO / "people.csv")
            await import_roster(db, SystemClock(), roster)
            service = OnboardingService(db, SystemClock(), [], 30)
            issued = await service.issue_invites("XH", with_suborgs=True)
        finally:
            await db.dispose()
        self.invites = {i.person.name: i.code for i in issued if i.code}
        return self.invites

    def human(self, name: str, language_code: str = "zh-hans") -> Human:
        """A new Telegram user called ``name``."""
        self._next_user += 1
        self.sim.add_user(self._next_user, name, language_code=language_code)
        person = Human(self, self._next_user, name, language_code)
        self.people[name] = person
        return person

    async def join(self, name: str, language_code: str = "zh-hans") -> Human:
        """A roster person opens their invite link."""
        person = self.human(name, language_code)
        await person.send(f"/start {self.invites[name]}", expect=name)
        return person

    def group(self, chat_id: int, title: str, members: list[Human]) -> int:
        """A Telegram group with these people and the bot."""
        self.sim.add_group(chat_id, title, [m.user_id for m in members])
        self.sim.add_bot_to_group(chat_id, members[0].user_id)
        return chat_id

    async def ticked(self) -> None:
        """Wait until a whole reminder tick has run at the clock's current time (one begun
        after this call: a tick decides at the moment it begins), then until the outbox has
        drained: what a tick would send is then sent, so "nothing more" can be checked."""
        app = self.runner.app
        assert app is not None
        reminders = app.bot_data.services.reminders
        tick = reminders.tick
        finished = 0

        async def counted() -> Any:
            nonlocal finished
            report = await tick()
            finished += 1
            return report

        # The scheduler looks the method up at every tick.
        reminders.tick = counted  # type: ignore[method-assign]
        try:
            await self.sim.wait_until(lambda: finished >= 1, WAIT)
        finally:
            delattr(reminders, "tick")
        await self.outbox_settled()

    async def outbox_settled(self, timeout: float = WAIT) -> dict[str, int]:
        """Wait until no outbox row is pending; return the counts per status."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            async with self.db.uow() as uow:
                counts = await uow.outbox.counts()
            if counts.get("pending", 0) == 0 or loop.time() > deadline:
                return counts
            await asyncio.sleep(0.05)


def make_settings(tmp: Path, sim: BotApiSimulator, **overrides: Any) -> Settings:
    """Settings for a test bot against the simulator."""
    values: dict[str, Any] = {
        "bot_api_url": sim.base_url,
        "database_url": database_for(tmp),
        "admin_ids": [ADMIN_ID],
        "outbox_poll_seconds": 0.05,
        "persistence_flush_seconds": 0.2,
        "bot_username": "jiannuo_bot",
        # Tests run on any date: the pledge window has tests of its own.
        "enforce_pledge_window": False,
        "ballot_key_path": tmp / "ballot.key",  # never beside the code
        "files_dir": tmp / "files",  # the files people send, in the test's directory
    }
    if not values["database_url"].startswith("sqlite"):
        # A database server's journal would be in the user's state directory: keep the
        # test's in its own directory.
        values["update_journal_dir"] = tmp / "jiannuo-updates"
    values.update(overrides)
    return Settings(**values)


@contextlib.asynccontextmanager
async def ticking_world(sim: BotApiSimulator, tmp: Path, now: datetime) -> AsyncIterator[World]:
    """The demo district's bot on a FakeClock set to ``now``, its reminder tick every 0.2 s."""
    settings = make_settings(tmp, sim, reminder_tick_seconds=0.2)
    runner = BotRunner(settings, clock=FakeClock(now))
    world = World(sim=sim, settings=settings, runner=runner, tmp=tmp)
    await world.import_demo()
    await runner.start()
    try:
        yield world
    finally:
        await runner.stop()
