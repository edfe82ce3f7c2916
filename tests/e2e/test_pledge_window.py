"""An annual pledge outside the pledge window (公开承诺期): the member is warned when choosing
the type, not after filling every item, and can change the type on the draft, keeping what
was written."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain.clock import FakeClock
from bot.domain.enums import Horizon, PledgeStatus
from bot.playground.simulator import BotApiSimulator
from tests.e2e.flows import button_data, only_pledge
from tests.e2e.harness import BotRunner, World, make_settings

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def world(sim: BotApiSimulator, tmp_path: Path) -> AsyncIterator[World]:
    # November: the calendar's window (5–10 June) is closed, and the window is enforced.
    settings = make_settings(tmp_path, sim, enforce_pledge_window=None)
    runner = BotRunner(settings, clock=FakeClock(datetime(2026, 11, 21, 10, 0, tzinfo=TZ)))
    w = World(sim=sim, settings=settings, runner=runner, tmp=tmp_path)
    await w.import_demo()
    await runner.start()
    try:
        yield w
    finally:
        await runner.stop()


WORDS = {
    "zh-hans": {
        "ask": "请选择承诺类型",
        "warning": "现在不在公开承诺期内：下一个公开承诺期是 2027年6月5日 至 2027年6月10日",
        "refusal": "下一个公开承诺期是 2027年6月5日 至 2027年6月10日",
        "annual": "年度承诺",
        "instant": "即时承诺",
        "ask_category": "请选择类别",
        "category": "带头学习提高",
        "content": "承诺内容",
        "target": "可以检查的目标",
        "deadline": "完成时限",
        "responsible": "谁负责",
        "me": "本人",
        "summary": "请核对您的承诺",
        "change": "更改承诺类型",
        "submit": "提交审核",
        "submitted": "已提交审核",
    },
    "en": {
        "ask": "choose the type of pledge",
        "warning": "the next pledge period runs from 2027-06-05 to 2027-06-10",
        "refusal": "the next pledge period runs from 2027-06-05 to 2027-06-10",
        "annual": "annual pledge",
        "instant": "instant pledge",
        "ask_category": "choose a category",
        "category": "Lead in study",
        "content": "what will you do",
        "target": "target that can be checked",
        "deadline": "By when",
        "responsible": "Who is responsible",
        "me": "Myself",
        "summary": "Please check your pledge",
        "change": "Change the type",
        "submit": "Submit for review",
        "submitted": "Submitted for review",
    },
}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
async def test_warned_at_the_choice_and_the_type_changes_on_the_draft(
    world: World, language: str
) -> None:
    w = WORDS[language]
    member = await world.join("王建国", language_code=language)
    question = await member.send("/pledge", expect=w["ask"])
    assert w["warning"] in question.content  # before choosing
    next_question = await member.tap(w["annual"], expect=w["ask_category"])
    assert w["warning"] in next_question.content  # and right after choosing annual
    await member.tap(w["category"], expect=w["content"])
    await member.send("每月参加支部学习", expect=w["target"])
    await member.send("全年12次", expect=w["deadline"])
    await member.send("2026-12-31", expect=w["responsible"])
    summary = await member.tap(w["me"], expect=w["summary"])
    assert w["warning"] in summary.content

    # The type changes on the draft; the item stays; the pledge can be submitted.
    await member.tap(w["change"], expect=w["ask"])
    summary = await member.tap(w["instant"], expect=w["summary"])
    assert "每月参加支部学习" in summary.content and w["warning"] not in summary.content
    await member.tap(w["submit"], expect=w["submitted"])
    pledge = await only_pledge(world, member)
    assert pledge.status is PledgeStatus.SUBMITTED and pledge.horizon is Horizon.INSTANT
    assert [item.content for item in pledge.items] == ["每月参加支部学习"]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
async def test_after_the_window_the_refusal_names_the_next_one_in_the_readers_language(
    world: World, language: str
) -> None:
    """21 November 2026: this year's window (5–10 June) has passed; submitting an annual
    pledge is refused with next year's window, its dates written as the reader writes them."""
    w = WORDS[language]
    member = await world.join("王建国", language_code=language)
    await member.send("/pledge", expect=w["ask"])
    await member.tap(w["annual"], expect=w["ask_category"])
    await member.tap(w["category"], expect=w["content"])
    await member.send("每月参加支部学习", expect=w["target"])
    await member.send("全年12次", expect=w["deadline"])
    await member.send("2026-12-31", expect=w["responsible"])
    summary = await member.tap(w["me"], expect=w["summary"])
    refusal = await member.tap_for_alert(summary, button_data(summary, w["submit"]))
    assert w["refusal"] in refusal
    assert "2026" not in refusal  # neither this year's past window nor another calendar
    assert (await only_pledge(world, member)).status is PledgeStatus.DRAFT
