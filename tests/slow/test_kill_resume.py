"""Kill the bot process (SIGKILL) in the middle of a broadcast and start it again.

The bot runs as its own process (`python -m bot.cli run`, as in production) against the
simulator, which runs here in the test process with Telegram's own limits. The broadcast's
outbox rows are queued before the first start. After the kill the second process resumes:
nobody is skipped, and the only duplicates are rows that were in flight (sent, their outcome
not yet committed) at the moment of the kill: at most the dispatcher's window (2 × its
concurrency); they are counted and printed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.broadcast import Audience, AudienceKind, BroadcastService, Notice
from bot.domain.clock import SystemClock
from bot.domain.roster import load_roster
from bot.domain.roster_import import import_roster
from bot.playground.sim_state import RateLimits
from bot.playground.simulator import BotApiSimulator
from storage.db import Database
from tests.accounts import actor_for, insert_people

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "bot" / "playground" / "demo"
TOKEN = "123456:KILL-TEST"
SECRETARY_TG = 1001
FIRST_USER = 300_000
RECIPIENTS = 300
IN_FLIGHT_BOUND = 32  # OutboxDispatcher.window: rows sent and not yet recorded, at most


@pytest.fixture
async def sim() -> AsyncIterator[BotApiSimulator]:
    simulator = BotApiSimulator(token=TOKEN, bot_username="jiannuo_bot", rate_limits=RateLimits())
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


async def seed(url: str, sim: BotApiSimulator) -> int:
    """The demo roster, RECIPIENTS bound members of 黄思村, and the broadcast, queued."""
    db = Database(url)
    try:
        await db.migrate()
        await import_roster(db, SystemClock(), load_roster(DEMO / "orgs.csv", DEMO / "people.csv"))
        now = datetime.now(UTC)
        async with db.uow() as uow:
            org = await uow.orgs.by_code("XH-HS")
            assert org is not None
            secretary = next(
                p for p in await uow.people.in_org(org.id, ["secretary"]) if p.name == "沈宝方"
            )
            await uow.people.bind(secretary.id, SECRETARY_TG, "zh_CN")
            await insert_people(
                uow,
                [
                    {
                        "name": f"党员{n:04d}",
                        "org_id": org.id,
                        "role": "member",
                        "phone": f"137{n:08d}",
                        "cadre": False,
                        "oral": False,
                        "tg_user_id": FIRST_USER + n,
                        "locale": "zh_CN",
                        "is_admin": False,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in range(RECIPIENTS)
                ],
                now,
            )
        sim.add_user(SECRETARY_TG, "沈宝方")
        for n in range(RECIPIENTS):
            sim.add_user(FIRST_USER + n, f"党员{n:04d}")
        service = BroadcastService(db, SystemClock())
        sent = await service.send(
            await actor_for(db, SECRETARY_TG),
            Notice("今晚八点召开支部委员会。"),
            Audience(AudienceKind.MEMBERS),
        )
        assert sent.reachable == RECIPIENTS
        return sent.broadcast_id
    finally:
        await db.dispose()


async def start_bot(sim: BotApiSimulator, url: str, log: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "JIANNUO_BOT_TOKEN": TOKEN,
        "JIANNUO_BOT_API_URL": sim.base_url,
        "JIANNUO_DATABASE_URL": url,
        "JIANNUO_OUTBOX_POLL_SECONDS": "0.1",
        "PTB_TIMEDELTA": "true",
    }
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", cwd=ROOT, env=env, stdout=out, stderr=out
        )


async def pending_rows(url: str) -> int:
    db = Database(url)
    try:
        async with db.uow() as uow:
            return (await uow.outbox.counts()).get("pending", 0)
    finally:
        await db.dispose()


async def test_sigkill_mid_broadcast_resumes_and_skips_nobody(
    sim: BotApiSimulator, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    log = tmp_path / "bot.log"
    await seed(url, sim)
    chats = [FIRST_USER + n for n in range(RECIPIENTS)]

    def delivered() -> int:
        return sum(len(sim.bot_messages(chat)) for chat in chats)

    first = await start_bot(sim, url, log)
    try:
        await sim.wait_until(lambda: delivered() >= RECIPIENTS // 3, 60)
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    at_kill = delivered()
    assert at_kill < RECIPIENTS, "the kill came after the broadcast had finished"

    second = await start_bot(sim, url, log)
    try:
        await sim.wait_until(lambda: all(sim.bot_messages(chat) for chat in chats), 90)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while await pending_rows(url) and loop.time() < deadline:
            await asyncio.sleep(0.2)
        assert await pending_rows(url) == 0
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(second.wait(), 20)
        except TimeoutError:
            second.kill()
            await second.wait()

    counts = [len(sim.bot_messages(chat)) for chat in chats]
    skipped = [chat for chat, n in zip(chats, counts, strict=True) if n == 0]
    duplicates = sum(n - 1 for n in counts if n > 1)
    assert skipped == []
    assert duplicates <= IN_FLIGHT_BOUND, log.read_text(errors="replace")[-3000:]
    print(
        f"\nkilled after {at_kill}/{RECIPIENTS} delivered; after the restart every recipient "
        f"has it; duplicates: {duplicates} (bound: {IN_FLIGHT_BOUND} in flight)"
    )
