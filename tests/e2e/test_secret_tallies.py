"""A hidden result stays hidden in the statistics form (统计表): a secretary who has every
member's published result cannot subtract them from the form's total to recover the tally of
a member who got fewer than 5 votes — in the chat, in the workbook, and in the committee's."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert

from bot.domain.clock import SystemClock
from storage import schema as s
from tests.e2e.flows import roster_person
from tests.e2e.harness import World

# 王建国 and 杨友林 are published (76 and 74 votes, 146 favourable: 97.3%); 沈红梅 got 3 votes,
# all 不满意: hidden. Summing every subject would print 146/153 = 95.4%, and 153 − 150 = 3,
# 146 − 146 = 0 would give her tally away.
TALLIES = {"王建国": (70, 5, 1), "杨友林": (66, 5, 3), "沈红梅": (0, 0, 3)}


async def closed_member_evaluation(world: World, tallies: dict[str, tuple[int, int, int]]) -> None:
    """黄思村 closed an evaluation of its members three days ago with these tallies."""
    secretary = await roster_person(world, "沈宝方")
    now = SystemClock().now()
    async with world.db.engine.begin() as conn:
        ev = await conn.execute(
            insert(s.evaluations).values(
                org_id=secretary.org_id,
                subject_kind="members",
                opened_by=secretary.id,
                status="closed",
                quorum=5,
                pass_permille=900,
                valid_voters=76,
                closes_at=now - timedelta(days=3),
                created_at=now - timedelta(days=10),
                closed_at=now - timedelta(days=3),
            )
        )
        assert ev.inserted_primary_key is not None
        rows: list[dict[str, Any]] = []
        for position, (name, (good, basic, bad)) in enumerate(tallies.items(), start=1):
            person = await roster_person(world, name)
            votes = good + basic + bad
            rate = (good + basic) * 1000 // votes
            rows.append(
                {
                    "evaluation_id": ev.inserted_primary_key[0],
                    "position": position,
                    "person_id": person.id,
                    "org_id": secretary.org_id,
                    "satisfied": good,
                    "basic": basic,
                    "unsatisfied": bad,
                    "rate_permille": rate,
                    "passed": rate >= 900,
                }
            )
        await conn.execute(insert(s.evaluation_subjects), rows)


def workbook_rows(message: Any) -> dict[str, Any]:
    assert message.document is not None
    sheet = load_workbook(BytesIO(message.document.data)).worksheets[0]
    return {
        str(row[1]): row[2]
        for row in sheet.iter_rows(min_row=4, values_only=True)
        if row[1] is not None
    }


@pytest.mark.parametrize(
    ("language", "line", "hidden", "label"),
    [
        (
            "zh-hans",
            "群众满意率 97.3%；公布结果的评议对象 2 个，满意率达标 2 个",
            "另有 1 个评议对象不足 5 票，结果不公布",
            "群众满意率",
        ),
        (
            "en",
            "satisfaction 97.3%; subjects with a published result 2, passing 2",
            "1 more subject had fewer than 5 votes: not published",
            "Residents' satisfaction",
        ),
    ],
)
async def test_the_secretary_cannot_subtract_a_hidden_result_from_the_statistics_form(
    world: World, language: str, line: str, hidden: str, label: str
) -> None:
    await closed_member_evaluation(world, TALLIES)
    secretary = await world.join("沈宝方", language_code=language)
    menu = await secretary.send("/export", expect="黄思村党总支")
    form_button = next(b for b in menu.button_labels() if b.startswith("📊"))
    form = await secretary.tap(form_button, expect="97.3%")
    assert line in form.content and hidden in form.content
    assert "95.4%" not in form.content
    await secretary.sim.wait_until(
        lambda: any(m.document is not None for m in secretary.sim.bot_messages(secretary.user_id)),
        10.0,
    )
    [book] = [m for m in secretary.sim.bot_messages(secretary.user_id) if m.document is not None]
    cells = workbook_rows(book)
    assert cells[label] == pytest.approx(146 / 150)


async def test_the_committee_form_sums_only_published_results(world: World) -> None:
    await closed_member_evaluation(world, TALLIES)
    clerk = await world.join("刘晓燕")
    await clerk.send("/export", expect="请选择要导出的内容")
    await clerk.tap("📊 创先争优统计表", expect="请选择导出统计表的单位")
    form = await clerk.tap("📊 新华镇党委（全部汇总）", expect="创先争优活动有关项目统计（截至")
    assert "群众满意率 97.3%" in form.content and "满意率达标 2 个" in form.content
    assert "另有 1 个评议对象不足 5 票" in form.content
    await clerk.sim.wait_until(
        lambda: any(m.document is not None for m in clerk.sim.bot_messages(clerk.user_id)),
        10.0,
    )
    [book] = [m for m in clerk.sim.bot_messages(clerk.user_id) if m.document is not None]
    cells = workbook_rows(book)
    assert cells["群众满意率"] == pytest.approx(146 / 150)
    assert cells["满意率达标的评议对象"] == 2
    detail = load_workbook(BytesIO(book.document.data)).worksheets[1]  # type: ignore[union-attr]
    huangsi = next(r for r in detail.iter_rows(values_only=True) if r[1] == "黄思村党总支")
    assert huangsi[-1] == pytest.approx(146 / 150)
