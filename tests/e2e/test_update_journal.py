"""The update journal (bot/update_journal.py): updates Telegram was told arrived, and that were
not handled when the bot stopped, are handled at the next start, in order, exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.domain.evaluation import EvaluationService
from bot.playground.simulator import BotApiSimulator
from storage import schema
from tests.e2e.evaluation_support import Branch, evaluation_world, open_in_chat, rows
from tests.e2e.harness import World

SATISFIED, BASIC, UNSATISFIED = 0, 1, 2


@pytest.fixture
async def branch(sim: BotApiSimulator, tmp_path: Path) -> AsyncIterator[tuple[World, Branch]]:
    async for pair in evaluation_world(sim, tmp_path):
        yield pair


def journal_files(world: World) -> int:
    """Files kept in the update journal."""
    return len(list(world.settings.journal_dir().glob("*.journal")))


async def test_votes_taken_but_not_written_before_a_stop_count_after_the_restart(
    branch: tuple[World, Branch], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, hs = branch
    people = hs.people
    await open_in_chat(people["沈宝方"])
    await hs.wait_polls(35)
    voters = [people[n] for n in sorted(people)][:6]
    for human in voters[:3]:  # counted before the trouble
        hs.vote(human, SATISFIED)
    await wait_ballots(world, 3)

    # The database refuses the ballot box's writes: the bot takes these votes (Telegram is
    # told they arrived), and none is written.
    original = EvaluationService.record_answers
    failing = asyncio.Event()

    async def refuse(self: EvaluationService, *args: Any, **kwargs: Any) -> list[str]:
        failing.set()
        raise OSError("disk full")

    monkeypatch.setattr(EvaluationService, "record_answers", refuse)
    hs.vote(voters[0], UNSATISFIED)  # a change
    hs.vote(voters[1], None)  # a retraction
    for human in voters[3:]:
        hs.vote(human, BASIC)
    await asyncio.wait_for(failing.wait(), 10)
    await hs.sim.wait_until(lambda: hs.sim.updates_pending() == 0, 10)  # all confirmed
    await asyncio.sleep(0.3)
    await world.runner.stop()
    assert journal_files(world) >= 1  # kept: not handled

    monkeypatch.setattr(EvaluationService, "record_answers", original)
    await world.runner.start()
    await wait_ballots(world, 5)  # 3 + 3 new − 1 retracted
    ballots = await rows(world, schema.ballots)
    assert sorted(b["choice"] for b in ballots) == sorted(
        ["unsatisfied", "satisfied", "basic", "basic", "basic"]
    )
    await world.runner.stop()
    assert journal_files(world) == 0  # everything handled: nothing kept
    app = await world.runner.start()  # and nothing handled twice: nothing left to replay
    assert await app.bot_data.services.journal.unhandled() == []
    assert len(await rows(world, schema.ballots)) == 5
    await world.runner.stop()


async def wait_ballots(world: World, count: int, timeout: float = 15) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(await rows(world, schema.ballots)) != count:
        if loop.time() > deadline:
            raise AssertionError(f"{len(await rows(world, schema.ballots))} ballots, not {count}")
        await asyncio.sleep(0.05)
