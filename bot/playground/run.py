"""`jiannuo run` without a token: the simulator, the demo district, the bot and the web page.

:class:`Playground` owns all of it and can be started in-process (the browser tests do), reset
to the seeded demo, and stopped; :func:`run_playground` is the command around it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.app import ALLOWED_UPDATES, build_application, on_shutdown, on_start, on_stop
from bot.context import JiannuoApp
from bot.domain.clock import SystemClock
from bot.playground.demo import Persona, attach, seed_demo, set_menus
from bot.playground.sim_state import RateLimits
from bot.playground.simulator import LOOPBACK, BotApiSimulator
from bot.playground.web import PlaygroundWeb
from bot.web.ballot_page import BallotPage
from bot.web.board import PublicBoard
from config.settings import Settings
from storage.db import Database

log = logging.getLogger(__name__)

TOKEN = "123456:PLAYGROUND"
BOT_USERNAME = "jiannuo_bot"
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


class PlaygroundError(RuntimeError):
    """The playground cannot run with these settings (no file database, port in use …)."""


def playground_db_path(settings: Settings) -> Path:
    """The playground's SQLite file; refuses anything that could be a production database."""
    url = make_url(settings.playground_database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        raise PlaygroundError(
            "the playground needs a SQLite file database (JIANNUO_PLAYGROUND_DATABASE_URL), "
            f"not {settings.playground_database_url}"
        )
    path = Path(url.database).resolve()
    production = make_url(settings.database_url)
    same_file = (
        production.get_backend_name() == "sqlite"
        and production.database not in (None, "", ":memory:")
        and Path(str(production.database)).resolve() == path
    )
    if same_file:
        raise PlaygroundError(
            "JIANNUO_PLAYGROUND_DATABASE_URL names the production database; "
            "the playground resets its database and must have its own file"
        )
    return path


class Playground:
    """The simulator, the demo district, the bot polling the simulator, and the web page."""

    def __init__(self, settings: Settings, *, port: int | None = None) -> None:
        """Prepare (nothing runs until ``start``); ``port`` overrides the settings (0: free)."""
        if settings.playground_host != LOOPBACK:
            raise PlaygroundError(f"the playground listens on {LOOPBACK} only")
        self.settings = settings
        self.port = settings.playground_port if port is None else port
        self.db_path = playground_db_path(settings)
        self.clock = SystemClock(settings.timezone)
        self.sim = BotApiSimulator(
            token=TOKEN,
            bot_username=BOT_USERNAME,
            rate_limits=RateLimits(private_burst=30),
            # The database outlives this process: its handled update ids (and the update
            # journal's) must never meet the same ids again. Microseconds since the epoch
            # grow faster than anyone can tap, and stay exact in the page's JavaScript.
            first_update_id=time.time_ns() // 1000,
        )
        self.cast: list[Persona] = []  # updated in place on reset, so holders see the new one
        self.app: JiannuoApp | None = None
        self.web = PlaygroundWeb(self)
        self.sim.add_routes(self.web.setup)
        # 网上晒 on the same loopback port (/board/): one address for the trainer, and the
        # board reads whichever database the bot runs on now (it changes on reset).
        self.board = PublicBoard(
            lambda: self.app.bot_data.services.db if self.app else None, self.clock
        )
        self.sim.add_routes(self.board.setup)
        # The ballot slips' page (现场票) beside the board, on the running bot's services.
        self.ballot_page = BallotPage(
            lambda: self.app.bot_data.services.slips if self.app else None, self.clock
        )
        self.sim.add_routes(self.ballot_page.setup)
        self.resetting = False
        self._lock = asyncio.Lock()
        self._reset_listeners: list[Callable[[], None]] = []

    @property
    def url(self) -> str:
        """The web page's address."""
        return f"{self.sim.root_url}/play/"

    @property
    def bot_settings(self) -> Settings:
        """The bot's settings: the simulator as Bot API, the playground's own database."""
        return self.settings.model_copy(
            update={
                "bot_api_url": self.sim.base_url,
                "database_url": self.settings.playground_database_url,
                "bot_username": BOT_USERNAME,
                # The demo runs on any day of the year: the pledge window is the real
                # product's rule (tested on its own), not something a trainer should wait for.
                "enforce_pledge_window": False,
                # The board is mounted on the simulator's port; no server of its own.
                "web_port": None,
                "public_base_url": f"{self.sim.root_url}/board/",
            }
        )

    def on_reset(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after every reset (the console forgets what it showed)."""
        self._reset_listeners.append(callback)

    async def start(self) -> None:
        """Listen on loopback, seed the demo if the database is empty, start the bot."""
        try:
            await self.sim.start(port=self.port)
        except OSError as exc:
            raise PlaygroundError(
                f"cannot listen on {LOOPBACK}:{self.port} ({exc.strerror}); "
                "set JIANNUO_PLAYGROUND_PORT to a free port"
            ) from exc
        self.port = self.sim.port
        try:
            await self._start_bot()
        except BaseException:
            await self.sim.stop()
            raise

    async def stop(self) -> None:
        """Close the page's live streams, stop the bot, stop listening."""
        await self.web.close()
        async with self._lock:
            await self._stop_bot()
        await self.sim.stop()

    async def reset(self) -> None:
        """Back to the seeded demo: stop the bot, recreate the database, reseed, restart."""
        async with self._lock:
            self.resetting = True
            try:
                await self._stop_bot()
                self.sim.reset()
                self._delete_database()
                await self._start_bot()
            finally:
                self.resetting = False
        log.info("playground reset to the demo district")
        for callback in list(self._reset_listeners):
            callback()
        self.web.announce_reset()

    def persona(self, user_id: int) -> Persona | None:
        """The demo persona with this Telegram id, if any."""
        return next((p for p in self.cast if p.user_id == user_id), None)

    def _delete_database(self) -> None:
        for suffix in ("", *SQLITE_SIDE_FILES):
            Path(f"{self.db_path}{suffix}").unlink(missing_ok=True)
        # The update journal belongs to the database (bot/update_journal.py).
        shutil.rmtree(self.bot_settings.journal_dir(), ignore_errors=True)

    async def _start_bot(self) -> None:
        settings = self.bot_settings
        db = Database(settings.database_url)
        try:
            await db.migrate()
            if await seed_demo(db, self.clock):
                log.info("demo data written to %s", self.db_path)
            self.cast[:] = await attach(self.sim, db)
        finally:
            await db.dispose()
        app = build_application(settings, clock=self.clock, token=self.sim.token)
        await app.initialize()
        await on_start(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(
            poll_interval=0.0, timeout=10, allowed_updates=ALLOWED_UPDATES
        )
        self.app = app
        await set_menus(app.bot, self.cast)

    async def _stop_bot(self) -> None:
        app, self.app = self.app, None
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


async def run_playground(settings: Settings, *, console: bool) -> int:
    """Start everything, say where the page is, run until interrupted."""
    try:
        playground = Playground(settings)
        await playground.start()
    except PlaygroundError as exc:
        log.error("%s", exc)
        return 1
    sys.stdout.write(_banner(playground))
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    console_task = None
    if console:
        from bot.playground.console import Console

        terminal = Console(playground.sim, playground.cast)
        playground.on_reset(terminal.forget)
        console_task = asyncio.create_task(terminal.run(stop))
    await stop.wait()
    if console_task is not None:
        console_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await console_task
    await playground.stop()
    return 0


def _banner(playground: Playground) -> str:
    names = [f"{p.person.name}（{p.org.name}）" for p in playground.cast[:6]]
    return (
        "\n践诺 playground is running (no Telegram token: everything is local).\n"
        f"\n  打开网页 / Open in your browser:  {playground.url}\n"
        f"  网上公示栏 / Public web board:     {playground.sim.root_url}/board/\n"
        f"  现场票 / Ballot slips:            {playground.sim.root_url}/v/…  (曹建军: /evaluations"
        " → 🎫 加印现场票, or /evaluate)\n\n"
        "  Pick a persona (党员、支部书记、镇党委工作人员、群众…) and chat with the bot;\n"
        "  「重置演示 / Reset demo」 on the page restores the demo district.\n"
        f"  Demo personas: {'、'.join(names)} …\n"
        f"  Bot API simulator: {playground.sim.base_url}   Database: {playground.db_path}\n"
        "  In this terminal too: /who lists personas, /as NAME becomes one, then chat;\n"
        "  /tap N taps button N of the newest message; /board shows the board group.\n"
        "  Ctrl-C stops.\n\n"
    )
