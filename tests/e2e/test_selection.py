"""组织评选 as people use it: rankings published to board groups (上评下议), award candidates
proposed, confirmed and rejected, then announced, the year-end assessment with the figures
shown, the monthly reminder, and every other role refused with nothing written."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select

from bot.domain.clock import FakeClock
from bot.playground.simulator import BotApiSimulator
from storage import schema as s
from tests.e2e.flows import BOARD_HS, button_data, newest, roster_person
from tests.e2e.harness import BotRunner, Human, World, make_settings
from tests.fulfilment_data import PublishedPledge, insert_published, set_progress

TZ = ZoneInfo("Asia/Shanghai")
BOARD_XH = -100_900  # the committee's board group
BOARD_DY = -100_002
DUE = date(2026, 10, 15)


async def _world(
    sim: BotApiSimulator, tmp_path: Path, start: datetime, **settings: Any
) -> AsyncIterator[World]:
    config = make_settings(tmp_path, sim, **settings)
    runner = BotRunner(config, clock=FakeClock(start))
    world = World(sim=sim, settings=config, runner=runner, tmp=tmp_path)
    await world.import_demo()
    await runner.start()
    try:
        yield world
    finally:
        await runner.stop()


@pytest.fixture
async def nov(sim: BotApiSimulator, tmp_path: Path) -> AsyncIterator[World]:
    """5 November 2026: October's member ranking and Sep–Oct's branch ranking are due."""
    async for world in _world(sim, tmp_path, datetime(2026, 11, 5, 10, 0, tzinfo=TZ)):
        yield world


async def org_id(world: World, code: str) -> int:
    async with world.db.uow() as uow:
        org = await uow.orgs.by_code(code)
    assert org is not None
    return org.id


async def seed(world: World) -> dict[str, int]:
    """Published items with progress, leader reviews and a closed evaluation.

    王建国 4/4 on time, grade 好 → 100; 杨友林 9/10 on time, satisfaction 96.0% → 91.5;
    沈红梅 1/2 late → 33.3; 孙立新 (东园) 2/2, grade 较好 → 96.3; 朱德顺 nothing → 暂无.
    Branches: 东园 100/100 → 100.0; 黄思村 14/16, 13 on time, grade 好 → 89.1.
    """
    hs, dy = await org_id(world, "XH-HS"), await org_id(world, "XH-DY")
    ids = {
        name: (await roster_person(world, name)).id
        for name in ("王建国", "杨友林", "沈红梅", "朱德顺", "孙立新", "陈国平", "沈宝方")
    }
    now = datetime(2026, 10, 20, tzinfo=UTC)
    pledges = [
        PublishedPledge(
            hs, "T-1", ids["王建国"], ids["王建国"], [(f"王{k}", DUE) for k in range(4)]
        ),
        PublishedPledge(
            hs, "T-2", ids["杨友林"], ids["杨友林"], [(f"杨{k}", DUE) for k in range(10)]
        ),
        PublishedPledge(
            hs, "T-3", ids["沈红梅"], ids["沈红梅"], [(f"沈{k}", DUE) for k in range(2)]
        ),
        PublishedPledge(
            dy, "T-4", ids["孙立新"], ids["孙立新"], [(f"孙{k}", DUE) for k in range(2)]
        ),
    ]
    await insert_published(world.db, pledges, now)
    done = [(i, DUE) for i in pledges[0].item_ids]
    done += [(i, DUE) for i in pledges[1].item_ids[:9]]
    done += [(pledges[2].item_ids[0], DUE + timedelta(days=5))]
    done += [(i, DUE) for i in pledges[3].item_ids]
    await set_progress(
        world.db, [{"item_id": i, "status": "fulfilled", "done_on": d} for i, d in done]
    )
    review = {
        "reviewer_id": ids["陈国平"],
        "comment": "认真",
        "period": "2026-Q3",
        "published": True,
        "created_at": now,
    }
    async with world.db.engine.begin() as conn:
        await conn.execute(
            insert(s.leader_reviews),
            [
                {
                    **review,
                    "subject_kind": "member",
                    "subject_person_id": ids["王建国"],
                    "subject_org_id": hs,
                    "grade": "good",
                },
                {
                    **review,
                    "subject_kind": "member",
                    "subject_person_id": ids["孙立新"],
                    "subject_org_id": dy,
                    "grade": "fairly_good",
                },
                {
                    **review,
                    "subject_kind": "branch",
                    "subject_person_id": None,
                    "subject_org_id": hs,
                    "grade": "good",
                },
            ],
        )
        result = await conn.execute(
            insert(s.evaluations).values(
                org_id=hs,
                subject_kind="members",
                opened_by=ids["沈宝方"],
                status="closed",
                quorum=30,
                pass_permille=900,
                closes_at=now,
                created_at=now,
                closed_at=now,
            )
        )
        pk = result.inserted_primary_key
        assert pk is not None
        await conn.execute(
            insert(s.evaluation_subjects).values(
                evaluation_id=pk[0],
                position=1,
                person_id=ids["杨友林"],
                org_id=hs,
                satisfied=40,
                basic=8,
                unsatisfied=2,
                rate_permille=960,
                passed=True,
            )
        )
    return ids


async def count(world: World, table: Any) -> int:
    async with world.db.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def board_message(world: World, chat_id: int, text: str) -> str:
    def posted() -> bool:
        return any(text in m.content for m in world.sim.bot_messages(chat_id))

    await world.sim.wait_until(posted, 10.0)
    return next(m.content for m in world.sim.bot_messages(chat_id) if text in m.content)


async def link_board(world: World, person: Human, chat_id: int, title: str) -> None:
    world.group(chat_id, title, [person])
    await person.send("/linkboard", expect="公示栏", chat_id=chat_id)


async def test_secretary_publishes_the_monthly_member_ranking_once(nov: World) -> None:
    world = nov
    secretary = await world.join("沈宝方")
    await link_board(world, secretary, BOARD_HS, "黄思村公示栏")
    await seed(world)  # after linking: the board is not flooded with the seeded pledges

    view = await secretary.send("/ranking", expect="党员月度排名 · 2026年10月")
    text = view.content
    assert "黄思村党总支 党员月度排名 · 2026年10月" in text
    assert "数据截至 2026-10-31（2026 年度）｜第 1/1 页" in text
    assert "兑现率×40%＋按时兑现率×20%＋领导点评×20%＋群众满意度×20%" in text
    assert (
        "1. 王建国  得分 100.0\n   兑现 4/4 项 100.0%｜按时 100.0%｜点评 好｜满意度 暂无" in text
    )
    assert (
        "2. 杨友林  得分 91.5\n   兑现 9/10 项 90.0%｜按时 90.0%｜点评 暂无｜满意度 96.0%" in text
    )
    assert "3. 沈红梅  得分 33.3\n   兑现 1/2 项 50.0%｜按时 0.0%｜点评 暂无｜满意度 暂无" in text
    assert text.endswith(
        "— 朱德顺：暂无数据\n— 沈宝方：暂无数据\n\n核对无误后，点“发布本期排名”公布到公示群。"
    )  # nothing measured yet: listed last, without a place
    assert "张桂英" not in text  # residents are not ranked
    assert len(text) <= 4096

    await secretary.tap("📢 发布本期排名", expect="确认发布 2026年10月 的党员排名吗")
    confirm = secretary.last()
    confirm_data = button_data(confirm, "确认发布")
    done = await secretary.tap("✅ 确认发布", expect="已发布 2026年10月 的排名")
    assert "共 5 名" in done.content and "已推送到公示群" in done.content

    posted = await board_message(world, BOARD_HS, "党员月度排名")
    assert "📊 黄思村党总支 党员月度排名 · 2026年10月" in posted
    assert "1. 王建国  得分 100.0" in posted and "3. 沈红梅  得分 33.3" in posted

    # The same slot twice: the old confirm button is refused, nothing more is stored or sent.
    # (the message was edited: the old button's data comes back as an old client sends it)
    again = await secretary.tap_forged(confirm_data, confirm)
    assert "已于 2026-11-05 发布过了，不能重复发布" in again
    view = await secretary.send("/ranking", expect="本期排名已于 2026-11-05 发布")
    assert "发布本期排名" not in view.button_labels()
    await world.outbox_settled()
    assert await count(world, s.rankings) == 1
    assert sum("党员月度排名" in m.content for m in world.sim.bot_messages(BOARD_HS)) == 1
    async with world.db.engine.connect() as conn:
        row = (await conn.execute(select(s.rankings))).one()
    assert (row.kind, row.period) == ("members", "2026-10")
    first = row.rows[0]
    assert (first["name"], first["position"], first["score"]) == ("王建国", 1, 100.0)
    assert [r["name"] for r in row.rows[:3]] == ["王建国", "杨友林", "沈红梅"]


async def test_committee_publishes_the_bimonthly_branch_ranking(nov: World) -> None:
    world = nov
    await seed(world)
    clerk = await world.join("刘晓燕")
    hs_secretary = await world.join("沈宝方")
    dy_secretary = await world.join("吴静")
    await link_board(world, clerk, BOARD_XH, "新华镇公示栏")

    view = await clerk.send("/ranking", expect="支部双月排名 · 2026年9–10月")
    assert "1. 东园社区党支部  得分 100.0" in view.content
    assert (
        "2. 黄思村党总支  得分 89.1\n   兑现 14/16 项 87.5%｜按时 81.2%｜点评 好｜满意度 暂无"
        in (view.content)
    )
    await clerk.tap("📢 发布本期排名", expect="确认发布 2026年9–10月 的支部排名吗")
    done = await clerk.tap("✅ 确认发布", expect="已发布 2026年9–10月 的排名")
    assert "共 4 名" in done.content and "已告知 2 位支部书记" in done.content

    posted = await board_message(world, BOARD_XH, "支部双月排名")
    assert "1. 东园社区党支部  得分 100.0" in posted
    await hs_secretary.receive("黄思村党总支 第 2 名（共 4 个），得分 89.1")
    await dy_secretary.receive("东园社区党支部 第 1 名（共 4 个），得分 100.0")
    async with world.db.engine.connect() as conn:
        row = (await conn.execute(select(s.rankings))).one()
    assert (row.kind, row.period, len(row.rows)) == ("branches", "2026-B5", 4)


async def test_awards_proposed_confirmed_rejected_and_announced(nov: World) -> None:
    world = nov
    clerk = await world.join("刘晓燕")
    star = await world.join("王建国")
    rejected = await world.join("孙立新")
    secretary = await world.join("沈宝方")
    await link_board(world, secretary, BOARD_HS, "黄思村公示栏")
    ids = await seed(world)

    empty = await clerk.send("/awards", expect="新华镇党委 2026 年度评选")
    assert "还没有候选" in empty.content
    listing = await clerk.tap("🔎 按数据提名候选", expect="待定 4｜已确认 0｜未通过 0")
    text = listing.content
    assert "1. 【践诺明星党员】王建国（黄思村党总支） — 待定" in text
    assert "兑现 4/4 项 100.0%｜按时 100.0%｜点评 好｜满意度 暂无｜得分 100.0" in text
    assert "2. 【践诺明星党员】孙立新（东园社区党支部） — 待定" in text
    assert "3. 【优秀党员】杨友林（黄思村党总支） — 待定" in text
    assert "满意度 96.0%" in text
    assert "4. 【先进党组织】东园社区党支部 — 待定" in text
    assert "沈红梅" not in text and "黄思村党总支 —" not in text  # under the bar

    stale = clerk.last()
    first_confirm = button_data(stale, "✅ 1")
    after = await clerk.tap("✅ 1 王建国", expect="王建国（黄思村党总支） — ✅ 已确认")
    assert after.message_id == listing.message_id  # edited in place
    await clerk.tap("❌ 2 不通过", expect="孙立新（东园社区党支部） — ❌ 未通过")
    # A double tap on the first decision's old button changes nothing.
    answer = await clerk.tap_forged(first_confirm, stale)
    assert "已经处理过了" in answer

    await clerk.tap("📣 公布已确认的 1 项", expect="已公布 1 项评选结果")
    await star.receive("恭喜！您被新华镇党委评为 2026 年度「践诺明星党员」")
    await secretary.receive("喜报：您支部的 王建国 被新华镇党委评为 2026 年度「践诺明星党员」")
    board = await board_message(world, BOARD_HS, "喜报")
    assert "【践诺明星党员】" in board and "王建国（黄思村党总支）" in board
    await world.outbox_settled()
    assert rejected.seen("践诺明星党员") == 0
    async with world.db.engine.connect() as conn:
        rows = {
            (r.kind, r.person_id or r.org_id): (r.status, r.version, r.announced_at is not None)
            for r in await conn.execute(select(s.awards))
        }
    assert rows[("star_member", ids["王建国"])] == ("confirmed", 2, True)
    assert rows[("star_member", ids["孙立新"])] == ("rejected", 2, False)
    assert rows[("excellent_member", ids["杨友林"])] == ("proposed", 1, False)
    # Nothing new to announce: the button is gone and a forged tap is refused.
    final = newest(clerk, "2026 年度评选")
    assert final.message_id == listing.message_id and "已确认 1" in final.content
    assert not any("公布" in label for label in final.button_labels())
    assert "没有新确认" in await clerk.tap_forged("aw:an:2026")


async def test_year_end_assessment_with_the_figures_shown(nov: World) -> None:
    world = nov
    ids = await seed(world)
    secretary = await world.join("沈宝方")
    member = await world.join("王建国")

    listing = await secretary.send("/assess", expect="2026 年度党员考评")
    assert "📝 王建国" in listing.button_labels()
    assert "📝 沈宝方" not in listing.button_labels()  # the committee assesses the secretary
    card = await secretary.tap("📝 王建国", expect="2026 年度考评：王建国（黄思村党总支）")
    assert (
        "承诺事项 4 项，已到期 4 项，已兑现 4 项｜到期兑现率 100.0%｜按时兑现率 100.0%"
        in card.content
    )
    assert "最近领导点评：好（2026-Q3）" in card.content
    assert "最近群众满意度：暂无" in card.content
    assert "综合得分：100.0" in card.content
    assert "第 1/5 步：请评定「岗位胜任度」" in card.content
    await secretary.tap("优秀", expect="第 2/5 步：请评定「发展贡献度」")
    await secretary.tap("合格", expect="第 3/5 步：请评定「群众满意度」")
    await world.runner.restart()  # the choices so far live in the buttons: nothing is lost
    await secretary.tap("优秀", expect="第 4/5 步：请评定「社会美誉度」")
    await secretary.tap("基本合格", expect="第 5/5 步：请评定「总体等次」")
    check = await secretary.tap("优秀", expect="请核对")
    assert "✔ 发展贡献度：合格" in check.content and "✔ 总体等次：优秀" in check.content
    saved = await secretary.tap("✅ 保存", expect="已保存 王建国 的 2026 年度考评：优秀")
    assert "社会美誉度：基本合格" in saved.content
    told = await member.receive("王建国 的 2026 年度考评结果：优秀")
    assert "岗位胜任度：优秀" in told.content

    # A double tap on 保存, or a second assessment, is refused; one row stays.
    answer = await secretary.tap_forged(f"as:ok:m:{ids['王建国']}:2026:UUUUU", saved)
    assert "已经录入，不能重复录入" in answer
    again = await secretary.send("/assess", expect="2026 年度党员考评")
    assert "✓ 王建国：优秀" in again.button_labels()
    async with world.db.engine.connect() as conn:
        row = (await conn.execute(select(s.assessments))).one()
    assert row.subject_key == f"p:{ids['王建国']}" and row.grade == "excellent"
    assert row.dimensions == {
        "competence": "excellent",
        "contribution": "qualified",
        "satisfaction": "excellent",
        "reputation": "basic",
    }
    assert row.figures["fulfilment"] == 100.0 and row.figures["grade"] == "good"
    assert row.figures["satisfaction"] is None

    # The committee assesses branches.
    clerk = await world.join("刘晓燕")
    branches = await clerk.send("/assess", expect="2026 年度支部考评")
    assert "📝 黄思村党总支" in branches.button_labels()
    card = await clerk.tap("📝 黄思村党总支", expect="2026 年度考评：黄思村党总支")
    assert (
        "承诺事项 16 项，已到期 16 项，已兑现 14 项｜到期兑现率 87.5%｜按时兑现率 81.2%"
        in card.content
    )
    await clerk.tap("取消", expect="已取消，没有保存")
    await clerk.send("/assess", expect="2026 年度支部考评")
    await clerk.tap("📝 黄思村党总支", expect="第 1/5 步")
    for grade in ("合格", "合格", "基本合格", "合格"):
        await clerk.tap(grade, expect="步")
    await clerk.tap("合格", expect="请核对")
    await clerk.tap("✅ 保存", expect="已保存 黄思村党总支 的 2026 年度考评：合格")
    await secretary.receive("黄思村党总支 的 2026 年度考评结果：合格")


async def test_other_roles_are_refused_and_nothing_is_written(nov: World) -> None:
    world = nov
    ids = await seed(world)
    member = await world.join("王建国")
    resident = await world.join("张桂英")
    leader = await world.join("陈国平")
    secretary = await world.join("沈宝方")
    for person in (member, resident, leader):
        await person.send("/ranking", expect="排名由支部书记（党员月度排名）和党委工作人员")
        await person.send("/awards", expect="评选由党委工作人员提名、确认和公布")
        await person.send("/assess", expect="年度考评由支部书记（考评本支部党员）和党委工作人员")
        assert "排名由支部书记" in await person.tap_forged("rk:ok:m:2026-10")
        assert "评选由党委工作人员" in await person.tap_forged("aw:pr:2026")
        assert "评选由党委工作人员" in await person.tap_forged("aw:ok:1:1:0")
        assert "评选由党委工作人员" in await person.tap_forged("aw:an:2026")
    assert "年度考评由支部书记" in await member.tap_forged(f"as:ok:m:{ids['沈红梅']}:2026:EEEEE")
    # A secretary neither confirms awards nor ranks branches, nor assesses another branch's
    # member or themselves.
    await secretary.send("/awards", expect="评选由党委工作人员提名、确认和公布")
    assert "评选由党委工作人员" in await secretary.tap_forged("aw:rj:1:1:0")
    assert "排名由支部书记" in await secretary.tap_forged("rk:ok:b:2026-B5")
    assert "只能考评本支部的党员" in await secretary.tap_forged(
        f"as:ok:m:{ids['孙立新']}:2026:EEEEE"
    )
    assert "不能给自己考评" in await secretary.tap_forged(f"as:c:m:{ids['沈宝方']}")
    assert "年度考评由支部书记" in await secretary.tap_forged(f"as:c:b:{ids['沈宝方']}")
    # Malformed data and a stale period.
    assert "按钮已经失效" in await secretary.tap_forged("rk:ok:z:2026-10")
    assert "按钮已经过期" in await secretary.tap_forged("rk:ok:m:2026-08")
    assert "按钮已经失效" in await secretary.tap_forged("as:g:m:x")
    for table in (s.rankings, s.awards, s.assessments):
        assert await count(world, table) == 0


@pytest.fixture
async def month_end(sim: BotApiSimulator, tmp_path: Path) -> AsyncIterator[World]:
    """31 October 2026 with a fast reminder tick; the test moves into November."""
    async for world in _world(
        sim, tmp_path, datetime(2026, 10, 31, 10, 0, tzinfo=TZ), reminder_tick_seconds=0.2
    ):
        yield world


async def test_start_of_month_reminds_to_publish_once(month_end: World) -> None:
    world = month_end
    secretary = await world.join("沈宝方")
    other = await world.join("吴静")
    clerk = await world.join("刘晓燕")
    await world.ticked()
    assert secretary.seen("党员月度排名") == 0  # 31 October: nothing due yet
    clock = world.runner.clock
    assert isinstance(clock, FakeClock)
    clock.set(datetime(2026, 11, 1, 9, 0, tzinfo=TZ))
    await secretary.receive("请发布 2026年10月 的党员月度排名（上评下议）：发送 /ranking")
    await other.receive("请发布 2026年10月 的党员月度排名")
    await clerk.receive("请发布 2026年9–10月 的支部双月排名")
    # Later ticks and a restart send none twice.
    await world.runner.restart()
    clock.set(datetime(2026, 11, 2, 9, 0, tzinfo=TZ))
    await world.ticked()
    assert secretary.seen("请发布 2026年10月") == 1
    assert clerk.seen("请发布 2026年9–10月") == 1


async def test_an_english_speaking_secretary_reads_english(nov: World) -> None:
    world = nov
    secretary = await world.join("沈宝方", language_code="en")
    await seed(world)
    view = await secretary.send("/ranking", expect="monthly member ranking · 2026-10")
    assert "1. 王建国  score 100.0\n   fulfilled 4/4 due 100.0% | on time 100.0% | grade good" in (
        view.content
    )
    assert "— 朱德顺: no figures yet" in view.content
    card = await secretary.send("/assess", expect="member assessment 2026")
    assert "📝 王建国" in card.button_labels()
    help_text = await secretary.send("/help", expect="/ranking")
    assert "/assess" in help_text.content and "/awards" not in help_text.content
