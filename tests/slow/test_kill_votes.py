"""Kill the bot (SIGKILL) the instant it tells Telegram that a burst of votes arrived, before
the ballot box has written them, and start it again: every vote counts, exactly once.

The bot runs as its own process (`python -m bot.cli run`, as in production) against the
simulator, which runs here in the test process. Everyone votes (round one) and the bot writes
those ballots. Then the test takes SQLite's write lock, as a ballot box still inside its batch
window would hold the votes back, and everyone changes or retracts their vote (round two). The
simulator calls back when a getUpdates confirms updates (its offset), before answering: the
test kills the bot when the confirmation covers the last answer. PTB's Updater sends that
confirmation as soon as it has queued the previous answers, so all of round two is then
confirmed to Telegram (it would not deliver them again) and none of it written; without the
update journal it would be lost. The restarted bot finds round two in the journal, and only
round two: the answers of round one were recorded as handled with their ballots.

Why the lock: the kill happens when the simulator sees the confirming request, and the bot goes
on working until then; on a loaded machine it had written every vote by the time the test
process got to answer (the test failed with "the kill came after every vote was written").
The lock makes "confirmed, not yet written" a condition instead of a race.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
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
WAIT = 60.0  # seconds for what the bot does on its own (a loaded machine is slow)


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


async def stop_bot(bot: asyncio.subprocess.Process) -> None:
    """Stop the bot as an operator would (SIGTERM), killing it if it hangs."""
    bot.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(bot.wait(), 20)
    except TimeoutError:
        bot.kill()
        await bot.wait()


async def until_tally(url: str, truth: dict[int, int], log: Path) -> None:
    """Until the ballots are exactly what the truth leaves (each voter's last answer)."""
    expected = expected_tally(truth)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while await tally(url) != (expected, sum(expected.values())):
        assert loop.time() < deadline, (await tally(url), tail_of(log))
        await asyncio.sleep(0.1)


def tail_of(log: Path) -> str:
    """The end of the bot's log (for a failure's message)."""
    return log.read_text(errors="replace")[-3000:]


def hold_the_writer(path: Path) -> sqlite3.Connection:
    """SQLite's write lock, taken from here: no transaction of the bot commits until released."""
    conn = sqlite3.connect(path, timeout=WAIT, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    return conn


async def test_sigkill_right_after_votes_are_confirmed_loses_none(
    sim: BotApiSimulator, tmp_path: Path
) -> None:
    path = tmp_path / "bot.db"
    url = f"sqlite+aiosqlite:///{path}"
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

    def everyone_answers(changing: bool) -> None:
        order = list(polls)
        rng.shuffle(order)
        for user in order:
            option = rng.choice([0, 1, 2, -1]) if changing else rng.choice([0, 1, 2])
            sim.vote(user, polls[user], [] if option < 0 else [option])
            truth[user] = option

    # Round one: everyone votes; the bot writes the ballots and confirms the answers.
    everyone_answers(changing=False)
    bot = await start_bot(sim, url, key, log)
    try:
        await until_tally(url, truth, log)
        await sim.wait_until(lambda: sim.updates_pending() == 0, WAIT)
    except BaseException:
        await stop_bot(bot)
        raise
    first = dict(truth)

    # Round two, with the writer held: everyone changes or retracts; kill on its confirmation.
    writer = hold_the_writer(path)
    killed = asyncio.Event()
    try:
        round_two_after = sim.newest_update_id()
        everyone_answers(changing=True)

        def kill_on_confirmation(offset: int) -> None:
            # The getUpdates that confirms the last answer of round two: kill before answering.
            if killed.is_set():
                return
            answers = [
                u["update_id"]
                for u in sim.delivered_updates()
                if "poll_answer" in u and u["update_id"] > round_two_after
            ]
            if len(answers) == VOTERS and offset > max(answers):
                os.kill(bot.pid, signal.SIGKILL)
                killed.set()

        sim.on_confirm = kill_on_confirmation
        try:
            await asyncio.wait_for(killed.wait(), WAIT)
        finally:
            sim.on_confirm = None
            if not killed.is_set():
                bot.kill()
            await bot.wait()
    finally:
        writer.rollback()
        writer.close()
    assert sim.updates_pending() == 0  # Telegram has nothing left to deliver
    before = await tally(url)
    assert before == (expected_tally(first), VOTERS), "round one's ballots, nothing of two"

    again = await start_bot(sim, url, key, log)
    try:
        await until_tally(url, truth, log)
    finally:
        await stop_bot(again)
    # Round two came back from the journal, whole, and nothing of round one a second time.
    assert f"{VOTERS} updates taken before the last stop were not handled" in log.read_text(
        errors="replace"
    )
