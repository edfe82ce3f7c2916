"""Kill the bot (SIGKILL) the instant it tells Telegram that a burst of votes arrived, before
the ballot box can have written them, and start it again: every vote counts, exactly once.

The bot runs as its own process (`python -m bot.cli run`, as in production) against the
simulator, which runs here in the test process. The simulator calls back when a getUpdates
confirms updates (its offset), before answering: the test kills the bot there. PTB's Updater
sends that confirmation as soon as it has queued the previous answer, so the votes in it are
still in the queue or in the ballot box's window; without the update journal they would be
lost (Telegram would not deliver them again). The restarted bot finds them in the journal.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bench.bench_votes import (
    FIRST_USER,
    SECRETARY_TG,
    TOKEN,
    expected_tally,
    open_evaluation,
    seed,
    tally,
)
from bot.playground.sim_state import RateLimits
from bot.playground.simulator import BotApiSimulator
from config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
VOTERS = 400


@pytest.fixture
async def sim() -> AsyncIterator[BotApiSimulator]:
    simulator = BotApiSimulator(
        token=TOKEN, bot_username="jiannuo_bot", rate_limits=RateLimits.off()
    )
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


async def start_bot(
    sim: BotApiSimulator, url: str, key: Path, log: Path
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "JIANNUO_BOT_TOKEN": TOKEN,
        "JIANNUO_BOT_API_URL": sim.base_url,
        "JIANNUO_DATABASE_URL": url,
        "JIANNUO_BALLOT_KEY_PATH": str(key),
        "JIANNUO_OUTBOX_POLL_SECONDS": "0.1",
        "PTB_TIMEDELTA": "true",
    }
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", cwd=ROOT, env=env, stdout=out, stderr=out
        )


async def test_sigkill_right_after_votes_are_confirmed_loses_none(
    sim: BotApiSimulator, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    key, log = tmp_path / "ballot.key", tmp_path / "bot.log"
    settings = Settings(
        bot_api_url=sim.base_url,
        database_url=url,
        ballot_key_path=key,
        evaluation_tick_seconds=3600.0,
        reminder_tick_seconds=3600.0,
        bot_username="jiannuo_bot",
    )
    sim.add_user(SECRETARY_TG, "沈宝方")
    for n in range(VOTERS):
        sim.add_user(FIRST_USER + n, f"居民{n:05d}")
    org_id = await seed(url, VOTERS)
    await open_evaluation(settings, org_id, VOTERS)  # the ballots sent (not part of the test)
    polls = {
        FIRST_USER + n: next(m.poll.id for m in sim.bot_messages(FIRST_USER + n) if m.poll)
        for n in range(VOTERS)
    }

    rng = random.Random(7)
    truth: dict[int, int] = {}
    for round_ in range(2):  # everyone votes, then changes or retracts
        order = list(polls)
        rng.shuffle(order)
        for user in order:
            option = rng.choice([0, 1, 2, -1]) if round_ else rng.choice([0, 1, 2])
            sim.vote(user, polls[user], [] if option < 0 else [option])
            truth[user] = option

    bot = await start_bot(sim, url, key, log)
    killed = asyncio.Event()

    newest = sim.newest_update_id()  # the last vote: a change or a retraction that counts

    def kill_on_confirmation(offset: int) -> None:
        # The getUpdates that confirms the last votes: kill the bot before answering it.
        if not killed.is_set() and offset >= newest:
            os.kill(bot.pid, signal.SIGKILL)
            killed.set()

    sim.on_confirm = kill_on_confirmation
    try:
        await asyncio.wait_for(killed.wait(), 60)
    finally:
        sim.on_confirm = None
        if not killed.is_set():
            bot.kill()
        await bot.wait()
    before = await tally(url)
    expected = expected_tally(truth)
    assert before[0] != expected, "the kill came after every vote was written"

    again = await start_bot(sim, url, key, log)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while await tally(url) != (expected, sum(expected.values())):
            assert loop.time() < deadline, (await tally(url), log.read_text()[-3000:])
            await asyncio.sleep(0.1)
    finally:
        again.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(again.wait(), 20)
        except TimeoutError:
            again.kill()
            await again.wait()
    text = log.read_text(errors="replace")
    assert "were not handled" in text  # the journal gave them back
    print(f"\nat the kill: {sum(before[0].values())} ballots written of {sum(expected.values())}")
