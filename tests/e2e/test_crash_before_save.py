"""A crash between a step and the save of the dialog's state loses nothing.

A step's effects are committed with its update's mark (storage/update_claim.py); the dialog's
state and user_data are saved by the persistence's next flush (up to a second later). A crash
in between (tests/slow/test_kill_mixed.py kills the real process there) left the state behind:

- a step that writes the draft, then the state is lost: the member's next answer found no
  dialog and was "not understood". The draft knows its next question: the answer is taken.
- a step that lives only in the dialog's state (the review's return button asks for a comment
  and writes nothing): the journal forgot the tap once handled, and a crash lost it. The
  journal now keeps an update until the flush after it has saved what it left in memory.

A crash is played here as what it leaves: the bot stops, and what the persistence had not
saved (the dialog's state and user_data of the person) is removed from the database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import delete, or_

from bot.playground.simulator import BotApiSimulator
from storage import schema
from storage.db import Database
from storage.persistence import CONV_NS, USER_NS
from tests.e2e.flows import submit_one_item_pledge
from tests.e2e.harness import BotRunner, Human, World, make_settings

STEPS = {
    "zh-hans": ("年度承诺", "带头学习提高", "承诺内容", "可以检查的目标", "我没有看懂"),
    "en": (
        "annual pledge",
        "Lead in study",
        "what will you do",
        "target that can be checked",
        "I did not understand",
    ),
}


async def crash(world: World, human: Human) -> None:
    """The bot stops before its persistence saved this person's dialogs and user_data."""
    await world.runner.stop()
    db = Database(world.settings.database_url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(
                delete(schema.kv).where(
                    or_(
                        schema.kv.c.namespace.like(CONV_NS + "%"),
                        schema.kv.c.namespace == USER_NS,
                    ),
                    schema.kv.c.key.contains(str(human.user_id)),
                )
            )
    finally:
        await db.dispose()
    await world.runner.start()


async def category_chosen(world: World, language: str) -> Human:
    horizon, category, content, _, _ = STEPS[language]
    member = await world.join("王建国", language)
    await member.send("/pledge")
    await member.tap(horizon)
    await member.tap(category, expect=content)
    return member


@pytest.mark.parametrize("language", ["zh-hans", "en"])
async def test_an_answer_after_the_drafting_dialog_state_was_lost_goes_into_the_draft(
    world: World, language: str
) -> None:
    member = await category_chosen(world, language)
    await crash(world, member)
    target = STEPS[language][3]
    await member.send("每月参加支部学习", expect=target)  # the content, kept as such
    await member.send("每月一次", expect="")
    async with world.db.uow() as uow:
        person = await uow.people.by_tg(member.user_id)
        assert person is not None
        [pledge] = await uow.pledges.find(person_id=person.id)
    assert pledge.pending_item is not None
    assert (pledge.pending_item.content, pledge.pending_item.target) == (
        "每月参加支部学习",
        "每月一次",
    )


@pytest.mark.parametrize("language", ["zh-hans", "en"])
async def test_after_cancel_words_are_not_taken_into_the_draft(
    world: World, language: str
) -> None:
    member = await category_chosen(world, language)
    await member.send("/cancel", expect="/pledge")
    await member.send("今天天气不错", expect=STEPS[language][4])
    await member.send("/pledge", expect=STEPS[language][2])  # back in: words are taken again
    await member.send("每月参加支部学习", expect=STEPS[language][3])


@pytest.fixture
async def slow_saving_world(sim: BotApiSimulator, tmp_path: Path) -> AsyncIterator[World]:
    """A world whose persistence saves only when asked (a crash always comes before)."""
    settings = make_settings(tmp_path, sim, persistence_flush_seconds=3600)
    world = World(sim=sim, settings=settings, runner=BotRunner(settings), tmp=tmp_path)
    await world.import_demo()
    await world.runner.start()
    try:
        yield world
    finally:
        await world.runner.stop()


async def test_the_return_button_is_kept_until_its_comment_dialog_is_saved(
    slow_saving_world: World,
) -> None:
    world = slow_saving_world
    member = await world.join("王建国")
    secretary = await world.join("沈宝方")
    await submit_one_item_pledge(member)
    await secretary.receive("王建国 提交了承诺")
    await secretary.tap("退回修改", expect="退回的理由")
    tap = world.sim.newest_update_id()
    app = world.runner.app
    assert app is not None
    journal = app.bot_data.services.journal
    assert journal.watermark() <= tap  # a crash now puts the tap back: the question again
    await app.update_persistence()
    assert journal.watermark() > tap  # its dialog is saved: the journal may forget it
    await secretary.send("请写明时限", expect="已退回")
