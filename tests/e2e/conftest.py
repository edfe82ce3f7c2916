"""Fixtures: a simulator on loopback and the real bot polling it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.playground.sim_state import RateLimits
from bot.playground.simulator import BotApiSimulator
from tests.databases import database_of_directory
from tests.e2e.harness import TOKEN, BotRunner, World, make_settings
from tests.wording import defects


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22.x warns (PTBDeprecationWarning) inside RetryAfter.__init__ unless PTB_TIMEDELTA is
    # set; with filterwarnings=error that warning would replace the 429 the bot must handle.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture(autouse=True)
def _database(tmp_path: Path, database_url: str) -> Iterator[None]:
    # make_settings(tmp_path, …) finds this test's database (SQLite or PostgreSQL) by its
    # directory, however the test builds its world.
    with database_of_directory(tmp_path, database_url):
        yield


@pytest.fixture
async def sim() -> AsyncIterator[BotApiSimulator]:
    # Telegram tolerates bursts to one private chat; the strict limits have tests of their own.
    simulator = BotApiSimulator(
        token=TOKEN, bot_username="jiannuo_bot", rate_limits=RateLimits(private_burst=30)
    )
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.fixture
async def world(sim: BotApiSimulator, tmp_path: Path) -> AsyncIterator[World]:
    settings = make_settings(tmp_path, sim)
    runner = BotRunner(settings)
    w = World(sim=sim, settings=settings, runner=runner, tmp=tmp_path)
    await w.import_demo()
    await runner.start()
    try:
        yield w
    finally:
        await runner.stop()
    misread = wording_defects(sim)
    assert not misread, f"the bot said something that reads wrong: {misread}"


def wording_defects(sim: BotApiSimulator) -> list[str]:
    """Everything the bot wrote in the story (texts, every edit, buttons) that reads wrong."""
    found: list[str] = []
    for chat_id in list(sim.state.chats):
        for message in sim.bot_messages(chat_id, include_deleted=True):
            for text in (*message.history, message.content, *message.button_labels()):
                found += [f"{hit!r} in {text[:80]!r}" for hit in defects(text)]
    return sorted(set(found))
