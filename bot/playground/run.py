"""`jiannuo run` without a token: the simulator, the demo district and the bot, on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys

from bot.app import ALLOWED_UPDATES, build_application, on_shutdown, on_start, on_stop
from bot.domain.clock import SystemClock
from bot.playground.demo import attach, seed_demo
from bot.playground.sim_state import RateLimits
from bot.playground.simulator import BotApiSimulator
from config.settings import Settings
from storage.db import Database

log = logging.getLogger(__name__)


async def run_playground(settings: Settings, *, console: bool) -> int:
    """Start everything, say how to talk to it, run until interrupted."""
    sim = BotApiSimulator(
        token="123456:PLAYGROUND",
        bot_username="jiannuo_bot",
        rate_limits=RateLimits(private_burst=30),
    )
    await sim.start(host=settings.playground_host, port=settings.playground_port)
    play_settings = settings.model_copy(
        update={
            "bot_api_url": sim.base_url,
            "database_url": settings.playground_database_url,
            "bot_username": "jiannuo_bot",
        }
    )
    db = Database(play_settings.database_url)
    await db.migrate()
    clock = SystemClock(settings.timezone)
    if await seed_demo(db, clock):
        log.info("demo data written to %s", play_settings.database_url)
    cast = await attach(sim, db)
    await db.dispose()

    app = build_application(play_settings, clock=clock, token=sim.token)
    await app.initialize()
    await on_start(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=10, allowed_updates=ALLOWED_UPDATES)

    sys.stdout.write(_banner(sim.base_url, [f"{p.person.name}（{p.org.name}）" for p in cast[:8]]))
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    console_task = None
    if console:
        from bot.playground.console import Console

        console_task = asyncio.create_task(Console(sim, cast).run(stop))
    await stop.wait()
    if console_task is not None:
        console_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await console_task
    await app.updater.stop()
    await app.stop()
    await on_stop(app)
    await app.shutdown()
    await on_shutdown(app)
    await sim.stop()
    return 0


def _banner(url: str, names: list[str]) -> str:
    return (
        "\n践诺 playground is running (no Telegram token: everything is local).\n"
        f"  Bot API simulator: {url}\n"
        f"  Demo personas: {'、'.join(names)} …\n"
        "  In this terminal: type /who to list personas, /as NAME to become one,\n"
        "  then chat as that person (/start, /help, /pledge …); /tap N taps button N\n"
        "  of the newest message; /board shows the branch's board group. Ctrl-C stops.\n\n"
    )
