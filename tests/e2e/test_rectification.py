"""整改 end to end: a closed evaluation under the pass mark → plan → send back → resubmit →
accept → reminders → deadline → re-evaluation with the same participants and quorum → the
loop closes (or a new round opens). Wrong people, stale and double taps change nothing.

The evaluation that starts each story is written straight into the database and handed to
the hook the mass evaluation calls at closing (``on_evaluation_closed``); the whole loop with
real ballots through the simulator is in ``test_rectification_loop.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select, update

from bot.domain.clock import FakeClock
from bot.domain.rectification import on_evaluation_closed
from bot.domain.rectification_models import Rectification, RectificationStatus
from bot.playground.simulator import BotApiSimulator
from storage import schema as s
from tests.e2e.flows import button_data, newest, roster_person, submit_one_item_pledge
from tests.e2e.harness import BotRunner, Human, World, make_settings

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 9, 25, 10, 0, tzinfo=TZ)
HS = "XH-HS"  # 黄思村党总支 under 新华镇党委


@pytest.fixture
async def world(sim: BotApiSimulator, tmp_path: Path) -> AsyncIterator[World]:
    clock = FakeClock(START)
    settings = make_settings(tmp_path, sim, reminder_tick_seconds=0.2)
    runner = BotRunner(settings, clock=clock)
    w = World(sim=sim, settings=settings, runner=runner, tmp=tmp_path)
    await w.import_demo()
    await runner.start()
    try:
        yield w
    finally:
        await runner.stop()


def clock_of(world: World) -> FakeClock:
    clock = world.runner.clock
    assert isinstance(clock, FakeClock)
    return clock


async def closed_evaluation(
    world: World,
    *,
    subjects: list[tuple[str | None, int]],
    quorum: int = 8,
    closes_at: datetime | None = None,
) -> int:
    """A closed evaluation of 黄思村 (subjects: member name or None for the branch, rate ‰),
    its members and residents on the list; then the hook, as the mass evaluation calls it.
    It closes now: an hour after it was due, or early when ``closes_at`` is later."""
    clock = clock_of(world)
    now = clock.now()
    async with world.db.uow() as uow:
        org = await uow.orgs.by_code(HS)
        assert org is not None
        people = await uow.people.in_org(org.id)
        secretary = next(p for p in people if p.role.value == "secretary")
        kind = "branch" if subjects[0][0] is None else "members"
        conn = uow.rectifications.conn
        result = await conn.execute(
            insert(s.evaluations).values(
                org_id=org.id,
                subject_kind=kind,
                opened_by=secretary.id,
                status="closed",
                quorum=quorum,
                pass_permille=900,
                closes_at=closes_at or now - timedelta(hours=1),
                valid_voters=len(people),
                created_at=now - timedelta(days=7),
                closed_at=now,
            )
        )
        assert result.inserted_primary_key is not None
        evaluation_id = int(result.inserted_primary_key[0])
        by_name = {p.name: p for p in people}
        for position, (name, rate) in enumerate(subjects, start=1):
            await conn.execute(
                insert(s.evaluation_subjects).values(
                    evaluation_id=evaluation_id,
                    position=position,
                    person_id=by_name[name].id if name else None,
                    org_id=org.id,
                    satisfied=rate // 100,
                    basic=0,
                    unsatisfied=10 - rate // 100,
                    rate_permille=rate,
                    passed=rate >= 900,
                )
            )
        await conn.execute(
            insert(s.evaluation_participants),
            [
                {
                    "evaluation_id": evaluation_id,
                    "person_id": p.id,
                    "kind": "resident" if p.role.value == "resident" else "member",
                    "has_voted": True,
                }
                for p in people
            ],
        )
        await on_evaluation_closed(uow, clock, evaluation_id)
    return evaluation_id


async def rects(world: World) -> list[Rectification]:
    async with world.db.uow() as uow:
        return await uow.rectifications.in_progress(list(RectificationStatus))


async def one_rect(world: World) -> Rectification:
    found = await rects(world)
    assert len(found) == 1, found
    return found[0]


async def file_plan(
    person: Human, goals: str, measures: str, deadline: str, *, expect: str = "已提交"
) -> None:
    """Tap the newest "write the plan" button and answer the three steps; submit."""
    await person.tap("填写整改方案", expect="第 1 步")
    await person.send(goals, expect="第 2 步")
    await person.send(measures, expect="第 3 步")
    await person.send(deadline, expect="请核对整改方案")
    await person.tap("提交审核", expect=expect)


async def evaluations(world: World) -> list[dict[str, Any]]:
    async with world.db.engine.connect() as conn:
        rows = await conn.execute(select(s.evaluations).order_by(s.evaluations.c.id))
        return [dict(r._mapping) for r in rows]


async def participants(world: World, evaluation_id: int) -> set[int]:
    async with world.db.engine.connect() as conn:
        rows = await conn.execute(
            select(s.evaluation_participants.c.person_id).where(
                s.evaluation_participants.c.evaluation_id == evaluation_id
            )
        )
        return {int(r[0]) for r in rows}


async def test_a_branch_under_the_mark_files_a_plan_to_the_committee_through_to_reevaluation(
    world: World,
) -> None:
    clock = clock_of(world)
    secretary = await world.join("沈宝方")
    committee = await world.join("刘晓燕")
    other_secretary = await world.join("吴静")
    member = await world.join("王建国")
    first = await closed_evaluation(world, subjects=[(None, 850)])

    notice = await secretary.receive("黄思村党总支的满意度为 85.0%")
    assert "低于 90.0% 的合格线" in notice.content and "2026年10月9日 前" in notice.content
    rect = await one_rect(world)
    assert rect.status is RectificationStatus.DUE and rect.round == 1

    # The plan, with bad answers first: empty, too long, a past date, a date too far away.
    await secretary.tap("填写整改方案", expect="第 1 步")
    await secretary.send("   ", expect="不能为空")
    await secretary.send("目" * 801, expect="请控制在 800 字以内")
    await secretary.send("群众满意度提升到95%以上", expect="第 2 步")
    await secretary.send("每周走访群众，建立问题台账，逐项销号", expect="第 3 步")
    await secretary.send("2026-09-01", expect="已经过去了")
    await secretary.send("2026-09-25", expect="要在今天以后")
    await secretary.send("2028-01-01", expect="太远")
    await secretary.send("2026-10-20", expect="请核对整改方案")
    preview = secretary.last()
    assert "2026年10月20日" in preview.content and "每周走访群众" in preview.content
    assert (await one_rect(world)).status is RectificationStatus.DUE  # nothing filed yet
    await secretary.tap("提交审核", expect="整改方案已提交")

    first_copy = await committee.receive("收到整改方案")
    assert "群众满意度提升到95%以上" in first_copy.content
    assert "（2026年9月25日 群众评议满意度 85.0%，合格线 90.0%）" in first_copy.content
    rect = await one_rect(world)
    assert rect.status is RectificationStatus.SUBMITTED

    # Someone who is not the acceptor (another branch's secretary), and the branch's own
    # member: refused, nothing changes.
    accept_data = button_data(first_copy, "同意方案")
    refusal = await other_secretary.tap_forged(accept_data)
    assert "不是这项整改方案的审核人" in refusal
    refusal = await secretary.tap_forged(accept_data)
    assert "不是这项整改方案的审核人" in refusal
    refusal = await member.tap_forged(f"rc:plan:{rect.id}")
    assert "不能代为提交" in refusal
    unchanged = await one_rect(world)
    assert unchanged.status is RectificationStatus.SUBMITTED
    assert unchanged.version == rect.version

    # Send back with a comment (an empty one is asked again).
    await committee.tap("退回修改", expect="退回意见")
    await committee.send("  ", expect="退回意见不能为空")
    await committee.send("措施要具体到每个村民小组", expect="已退回")
    returned = await secretary.receive("整改方案被刘晓燕退回")
    assert "措施要具体到每个村民小组" in returned.content
    assert (await one_rect(world)).status is RectificationStatus.RETURNED

    # The first copy's buttons are now stale: accepting it changes nothing.
    stale = await committee.tap_for_alert(first_copy, accept_data)
    assert "已经处理过了" in stale
    assert (await one_rect(world)).status is RectificationStatus.RETURNED

    # Resubmit: the comment is shown when the plan is reopened.
    await secretary.tap("填写整改方案", expect="措施要具体到每个村民小组")
    await secretary.send("群众满意度提升到95%以上", expect="第 2 步")
    await secretary.send("每个村民小组每周走访一次，问题建账销号", expect="第 3 步")
    await secretary.send("2026-10-20", expect="请核对整改方案")
    await secretary.tap("提交审核", expect="整改方案已提交")
    second_copy = await committee.receive("每个村民小组每周走访一次")

    # The first copy is for an older version: stale, even though the plan is submitted again.
    stale = await committee.tap_for_alert(first_copy, accept_data)
    assert "按钮失效" in stale
    assert (await one_rect(world)).status is RectificationStatus.SUBMITTED

    second_accept = button_data(second_copy, "同意方案")
    await committee.tap("同意方案", expect="已同意")
    accepted = await secretary.receive("整改方案已由刘晓燕审核同意")
    assert "2026年10月20日" in accepted.content
    # A double tap (a second query from the same button): already decided, nothing more.
    again = await committee.tap_forged(second_accept, second_copy)
    assert "已经处理过了" in again
    rect = await one_rect(world)
    assert rect.status is RectificationStatus.ACCEPTED and rect.deadline == date(2026, 10, 20)

    # /rectify shows where it stands.
    await secretary.send("/rectify", expect="整改中")
    await committee.send("/rectify", expect="黄思村党总支（第 1 轮）：整改中")
    await member.send("/rectify", expect="目前没有需要您处理的整改")

    # Reminders: a week before, the day before; each once.
    clock.set(datetime(2026, 10, 13, 10, 0, tzinfo=TZ))
    await secretary.receive("整改完成时限还有 7 天")
    clock.set(datetime(2026, 10, 19, 10, 0, tzinfo=TZ))
    await secretary.receive("整改完成时限就在 2026年10月20日")
    await world.outbox_settled()
    assert secretary.seen("整改完成时限还有") == 1

    # The day after the deadline: the re-evaluation opens with the same rules.
    clock.set(datetime(2026, 10, 21, 9, 0, tzinfo=TZ))
    opened = await secretary.receive("复评已开始")
    assert "2026年10月28日" in opened.content  # reevaluation_days = 7
    await committee.receive("复评已开始")
    rect = await one_rect(world)
    assert rect.status is RectificationStatus.REEVALUATING and rect.reevaluation_id is not None
    found = await evaluations(world)
    assert len(found) == 2
    redo = found[1]
    assert redo["id"] == rect.reevaluation_id
    assert redo["reevaluation_of"] == first and redo["rectification_id"] == rect.id
    assert redo["quorum"] == found[0]["quorum"] and redo["pass_permille"] == 900
    assert redo["status"] == "open"
    assert await participants(world, redo["id"]) == await participants(world, first)
    await world.outbox_settled()
    assert secretary.seen("复评已开始") == 1


async def close_reevaluation(world: World, rate: int) -> None:
    """Close the open re-evaluation with this result and call the hook."""
    clock = clock_of(world)
    rect = await one_rect(world)
    assert rect.reevaluation_id is not None
    async with world.db.uow() as uow:
        conn = uow.rectifications.conn
        await conn.execute(
            update(s.evaluations)
            .where(s.evaluations.c.id == rect.reevaluation_id)
            .values(status="closed", closed_at=clock.now())
        )
        await conn.execute(
            update(s.evaluation_subjects)
            .where(s.evaluation_subjects.c.evaluation_id == rect.reevaluation_id)
            .values(rate_permille=rate, passed=rate >= 900)
        )
        await on_evaluation_closed(uow, clock, rect.reevaluation_id)
        await on_evaluation_closed(uow, clock, rect.reevaluation_id)  # a second call: no-op


async def accepted_member_plan(world: World, member: Human, secretary: Human) -> None:
    """王建国 under the mark; his plan is accepted by his secretary."""
    await closed_evaluation(world, subjects=[("王建国", 800), ("杨友林", 950)])
    notice = await member.receive("您的满意度为 80.0%")
    assert "报支部书记审核" in notice.content
    await file_plan(member, "带头服务群众", "每月为群众办一件实事", "2026-10-10")
    await secretary.receive("收到整改方案")
    await secretary.tap("同意方案", expect="已同意")
    await member.receive("审核同意")
    clock_of(world).set(datetime(2026, 10, 11, 9, 0, tzinfo=TZ))
    await member.receive("复评已开始")


async def test_a_member_loop_closes_when_the_reevaluation_passes(world: World) -> None:
    member = await world.join("王建国")
    secretary = await world.join("沈宝方")
    committee = await world.join("刘晓燕")
    passing = await world.join("杨友林")
    await accepted_member_plan(world, member, secretary)
    assert passing.seen("满意度") == 0  # above the mark: no rectification

    await close_reevaluation(world, 960)
    await member.receive("复评满意度 96.0%，达到 90.0% 的合格线，整改已闭环")
    await secretary.receive("「王建国」复评满意度 96.0%")
    await committee.receive("「王建国」复评满意度 96.0%")
    rect = (await rects(world))[0]
    assert rect.status is RectificationStatus.CLOSED and rect.closed_at is not None
    await world.outbox_settled()
    assert member.seen("整改已闭环") == 1 and secretary.seen("整改已闭环") == 1
    await member.send("/rectify", expect="目前没有需要您处理的整改")


async def test_failing_again_opens_a_new_round_linked_to_the_last(world: World) -> None:
    member = await world.join("王建国")
    secretary = await world.join("沈宝方")
    await accepted_member_plan(world, member, secretary)

    await close_reevaluation(world, 850)
    again = await member.receive("需要进行第 2 轮整改")
    assert "85.0%" in again.content
    await secretary.receive("已开始第 2 轮整改")
    found = await rects(world)
    assert [r.status for r in found] == [RectificationStatus.FAILED, RectificationStatus.DUE]
    assert found[1].round == 2 and found[1].previous_id == found[0].id
    await file_plan(member, "再次提升满意度", "每周走访", "2026-11-30")
    await secretary.receive("第 2 轮")


async def test_an_unfiled_plan_nudges_weekly_and_the_acceptor_hears_of_it(world: World) -> None:
    clock = clock_of(world)
    member = await world.join("王建国")
    secretary = await world.join("沈宝方")
    await closed_evaluation(world, subjects=[("王建国", 700)])
    await member.receive("您的满意度为 70.0%")
    clock.set(datetime(2026, 10, 10, 10, 0, tzinfo=TZ))  # a day past the due day (Oct 9)
    late = await member.receive("整改方案还没有提交")
    assert "已过 1 天" in late.content
    assert button_data(late, "填写整改方案").startswith("rc:plan:")
    await secretary.receive("「王建国」的整改方案应于 2026年10月9日 前提交")
    clock.set(datetime(2026, 10, 12, 10, 0, tzinfo=TZ))
    await world.ticked()
    assert member.seen("整改方案还没有提交") == 1  # same week: no second nudge
    clock.set(datetime(2026, 10, 17, 10, 0, tzinfo=TZ))
    await member.receive("已过 8 天")
    # Quiet hours: nothing at night, even in a new week.
    clock.set(datetime(2026, 10, 24, 23, 0, tzinfo=TZ))
    await world.ticked()
    assert member.seen("整改方案还没有提交") == 2
    # The plan can still be filed late; the nudges stop.
    await file_plan(member, "改进服务态度", "每周走访", "2026-12-31")
    clock.set(datetime(2026, 10, 31, 10, 0, tzinfo=TZ))
    await world.ticked()
    assert member.seen("整改方案还没有提交") == 2


async def test_the_plan_survives_a_restart_and_cancel_leaves_nothing_filed(world: World) -> None:
    member = await world.join("王建国")
    await closed_evaluation(world, subjects=[("王建国", 800)])
    await member.receive("您的满意度为 80.0%")
    await member.tap("填写整改方案", expect="第 1 步")
    await member.send("带头服务群众", expect="第 2 步")
    await world.runner.restart()
    await member.send("每月为群众办一件实事", expect="第 3 步")
    await member.send("/cancel", expect="方案没有提交")
    assert (await one_rect(world)).status is RectificationStatus.DUE
    # A photo instead of text is refused politely; the preview's buttons after a cancel are
    # stale.
    await member.tap("填写整改方案", expect="第 1 步")
    await member.send("带头服务群众", expect="第 2 步")
    await member.send("每月为群众办一件实事", expect="第 3 步")
    await member.send("年底", expect="请核对整改方案")
    preview = member.last()
    await member.send("/cancel", expect="方案没有提交")
    stale = await member.tap_for_alert(preview, button_data(preview, "提交审核"))
    assert "按钮已经失效" in stale
    assert (await one_rect(world)).status is RectificationStatus.DUE


async def test_the_committee_accepts_a_secretarys_own_member_plan(world: World) -> None:
    secretary = await world.join("沈宝方")
    committee = await world.join("刘晓燕")
    await closed_evaluation(world, subjects=[("沈宝方", 850)])
    notice = await secretary.receive("您的满意度为 85.0%")
    assert "报上级党组织审核" in notice.content
    await file_plan(secretary, "改进工作作风", "每周接待群众", "2026-11-30")
    await committee.receive("收到整改方案")
    rect = await one_rect(world)
    refusal = await secretary.tap_forged(f"rc:ok:{rect.id}:{rect.version}")
    assert "不是这项整改方案的审核人" in refusal
    await committee.tap("同意方案", expect="已同意")
    assert (await one_rect(world)).status is RectificationStatus.ACCEPTED
    person = await roster_person(world, "刘晓燕")
    assert (await one_rect(world)).reviewer_id == person.id


async def test_residents_are_told_rectification_is_not_theirs(world: World) -> None:
    resident = await world.join("张桂英")
    await resident.send("/rectify", expect="群众代表不需要整改")
    assert newest(resident, "群众代表")


async def test_an_oral_members_plan_is_written_by_the_secretary_and_accepted_above(
    world: World,
) -> None:
    # 朱德顺 pledged orally (elderly, no phone): the secretary writes the plan with him.
    secretary = await world.join("沈宝方")
    committee = await world.join("刘晓燕")
    await closed_evaluation(world, subjects=[("朱德顺", 800)])
    notice = await secretary.receive("朱德顺（口头承诺党员）的满意度为 80.0%")
    assert "代为填写后报上级党组织审核" in notice.content
    await file_plan(secretary, "每月参加一次志愿服务", "由支部书记陪同走访邻里", "2026-11-30")
    card = await committee.receive("收到整改方案")
    assert "朱德顺" in card.content
    rect = await one_rect(world)
    refusal = await secretary.tap_forged(f"rc:ok:{rect.id}:{rect.version}")
    assert "不是这项整改方案的审核人" in refusal  # who wrote it does not accept it
    await committee.tap("同意方案", expect="已同意")
    await secretary.receive("朱德顺的整改方案已由刘晓燕审核同意")
    await secretary.send("/rectify", expect="朱德顺（第 1 轮）：整改中")


async def test_an_english_speaking_member_files_in_english(world: World) -> None:
    member = await world.join("王建国", language_code="en")
    secretary = await world.join("沈宝方")
    await closed_evaluation(world, subjects=[("王建国", 800)])
    notice = await member.receive("your satisfaction is 80.0%")
    assert (
        "by 2026-10-09" in notice.content and "your branch secretary reviews it" in notice.content
    )
    await member.tap("Write the plan", expect="Step 1")
    await member.send("Serve residents better", expect="Step 2")
    await member.send("Visit every household monthly", expect="Step 3")
    await member.send("in 2 months", expect="Please check the plan")
    assert "Deadline: 2026-11-25" in member.last().content
    await member.tap("Submit", expect="Plan submitted")
    card = await secretary.receive("收到整改方案")  # the secretary reads Chinese
    assert "Serve residents better" in card.content
    await secretary.tap("退回修改", expect="退回意见")
    await secretary.send("请写明走访哪些户", expect="已退回")
    back = await member.receive("was sent back by 沈宝方")
    assert "请写明走访哪些户" in back.content


async def test_the_plan_button_ends_another_features_wait(world: World) -> None:
    # 王建国 was about to write progress on a pledge item (that conversation waits for text);
    # tapping "write the plan" ends that wait: what he types goes to the plan, and after the
    # plan nothing is taken as progress.
    member = await world.join("王建国")
    secretary = await world.join("沈宝方")
    await submit_one_item_pledge(member)
    await secretary.receive("提交了承诺")
    await secretary.tap("通过", expect="已通过")
    await closed_evaluation(world, subjects=[("王建国", 800)])
    await member.receive("您的满意度为 80.0%")
    await member.send("/progress", expect="请选择要记录进展的承诺事项")
    await member.tap("1. 每月参加支部学习", expect="请用几句话写下做了什么")
    await member.tap("填写整改方案", expect="第 1 步")
    await member.send("带头服务群众", expect="第 2 步")
    await member.send("每月为群众办一件实事", expect="第 3 步")
    await member.send("2026-11-30", expect="请核对整改方案")
    await member.tap("提交审核", expect="整改方案已提交")
    await member.send("今天走访了三户", expect="没有看懂")
    async with world.db.engine.connect() as conn:
        entries = await conn.execute(select(s.progress_entries.c.id))
        assert entries.all() == []
    # Our own unknown buttons are answered, not left spinning.
    forged = await member.tap_forged("rc:zzz:1")
    assert "按钮已经失效" in forged


async def test_a_deadline_that_became_today_is_asked_again_keeping_the_plan(
    world: World,
) -> None:
    clock = clock_of(world)
    member = await world.join("王建国")
    await closed_evaluation(world, subjects=[("王建国", 800)])
    await member.receive("您的满意度为 80.0%")
    await member.tap("填写整改方案", expect="第 1 步")
    await member.send("带头服务群众", expect="第 2 步")
    await member.send("每月为群众办一件实事", expect="第 3 步")
    await member.send("明天", expect="请核对整改方案")
    clock.set(datetime(2026, 9, 26, 0, 10, tzinfo=TZ))  # past midnight: tomorrow is today
    await member.tap("提交审核", expect="第 3 步")
    assert (await one_rect(world)).status is RectificationStatus.DUE
    await member.send("2026-10-31", expect="请核对整改方案")
    assert "带头服务群众" in member.last().content
    await member.tap("提交审核", expect="整改方案已提交")
    rect = await one_rect(world)
    assert rect.goals == "带头服务群众" and rect.deadline == date(2026, 10, 31)


async def return_first_plan(world: World, secretary: Human, committee: Human) -> None:
    """The branch files a plan; the committee sends it back with a comment."""
    await closed_evaluation(world, subjects=[(None, 850)])
    await secretary.receive("85.0%")
    await secretary.tap("✍️")  # the "write the plan" button, in the secretary's language
    await secretary.send("群众满意度提升到95%以上")
    await secretary.send("每周走访群众，建立问题台账")
    await secretary.send("2026-10-20")
    await secretary.tap("📤")
    await committee.receive("收到整改方案")
    await committee.tap("退回修改", expect="退回意见")
    await committee.send("措施要具体到每个村民小组", expect="已退回")
    assert (await one_rect(world)).status is RectificationStatus.RETURNED


async def test_a_returned_plan_reopens_with_the_previous_version_to_keep_or_edit(
    world: World,
) -> None:
    secretary = await world.join("沈宝方")
    committee = await world.join("刘晓燕")
    await return_first_plan(world, secretary, committee)
    await secretary.receive("整改方案被刘晓燕退回")

    goals = await secretary.tap("填写整改方案", expect="第 1 步")
    assert "措施要具体到每个村民小组" in goals.content  # why it came back
    assert "上一版是：\n群众满意度提升到95%以上" in goals.content
    measures = await secretary.tap("↩️ 沿用上一版", expect="第 2 步")
    assert "上一版是：\n每周走访群众，建立问题台账" in measures.content
    # The goals' button again (a double tap): stale, the step stays.
    step_one = newest(secretary, "第 1 步")
    answer = await secretary.tap_for_alert(step_one, button_data(step_one, "↩️ 沿用上一版"))
    assert "失效" in answer
    deadline = await secretary.send("每个村民小组每周走访一次，建立问题台账", expect="第 3 步")
    assert "上一版是：\n2026年10月20日" in deadline.content
    preview = await secretary.tap("↩️ 沿用上一版", expect="请核对整改方案")
    assert "群众满意度提升到95%以上" in preview.content
    assert "每个村民小组每周走访一次" in preview.content and "2026年10月20日" in preview.content
    await secretary.tap("提交审核", expect="整改方案已提交")
    again = await committee.receive("每个村民小组每周走访一次")
    assert "群众满意度提升到95%以上" in again.content
    rect = await one_rect(world)
    assert rect.status is RectificationStatus.SUBMITTED and rect.deadline == date(2026, 10, 20)
    assert rect.goals == "群众满意度提升到95%以上"


async def test_a_returned_plan_in_english_keeps_every_part(world: World) -> None:
    secretary = await world.join("沈宝方", language_code="en")
    committee = await world.join("刘晓燕")
    await return_first_plan(world, secretary, committee)
    await secretary.receive("sent back")
    goals = await secretary.tap("✍️ Write the plan", expect="Step 1")
    assert "The previous version:\n群众满意度提升到95%以上" in goals.content
    await secretary.tap("↩️ Keep it", expect="Step 2")
    await secretary.tap("↩️ Keep it", expect="Step 3")
    preview = await secretary.tap("↩️ Keep it", expect="Please check the plan")
    assert "每周走访群众，建立问题台账" in preview.content and "2026-10-20" in preview.content
    await secretary.tap("📤 Submit")
    await committee.receive("收到整改方案")
    assert (await one_rect(world)).status is RectificationStatus.SUBMITTED
