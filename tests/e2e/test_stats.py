"""/stats as people use it: photos with Chinese captions for a secretary and a committee
clerk, public aggregates only for members and residents, a clear word for an empty branch."""

from __future__ import annotations

import io
from datetime import date, timedelta

from PIL import Image
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.clock import SystemClock
from bot.playground.sim_state import SimMessage
from handlers import stats as stats_handlers
from storage import schema as s
from tests.e2e.flows import roster_person
from tests.e2e.harness import Human, World
from tests.fulfilment_data import PublishedPledge, insert_published, set_progress


async def org_id(world: World, code: str) -> int:
    async with world.db.uow() as uow:
        org = await uow.orgs.by_code(code)
    assert org is not None
    return org.id


async def branch_with_figures(world: World) -> None:
    """黄思村: 2 members × 5 items (3 fulfilled, 1 overdue), 4 progress entries this month,
    one closed evaluation of the branch (30 满意, 4 基本满意, 1 不满意)."""
    hs = await org_id(world, "XH-HS")
    now = SystemClock().now()
    today = now.astimezone(SystemClock().tz).date()
    pledges = []
    for n, name in enumerate(("王建国", "杨友林")):
        person = await roster_person(world, name)
        items: list[tuple[str, date]] = [
            (f"{name}的第{k + 1}项承诺", today + timedelta(days=-2 if k == 4 else 30))
            for k in range(5)
        ]
        pledges.append(PublishedPledge(hs, f"XH-HS-S-{n}", person.id, person.id, items))
    await insert_published(world.db, pledges, now)
    await set_progress(
        world.db,
        [
            {"item_id": pledges[0].item_ids[k], "status": "fulfilled", "done_on": today}
            for k in (0, 1)
        ]
        + [{"item_id": pledges[1].item_ids[0], "status": "fulfilled", "done_on": today}],
    )
    secretary = await roster_person(world, "沈宝方")
    wang = await roster_person(world, "王建国")
    async with world.db.engine.begin() as conn:
        await conn.execute(
            insert(s.progress_entries),
            [
                {
                    "item_id": pledges[0].item_ids[0],
                    "pledge_id": (await _pledge_id(conn, "XH-HS-S-0")),
                    "org_id": hs,
                    "author_id": wang.id,
                    "text": "进展",
                    "evidence": [],
                    "month": today.strftime("%Y-%m"),
                    "created_at": now,
                }
            ]
            * 4,
        )
        ev = await conn.execute(
            insert(s.evaluations).values(
                org_id=hs,
                subject_kind="branch",
                opened_by=secretary.id,
                status="closed",
                quorum=30,
                pass_permille=900,
                closes_at=now - timedelta(days=3),
                created_at=now - timedelta(days=10),
                closed_at=now - timedelta(days=3),
            )
        )
        assert ev.inserted_primary_key is not None
        await conn.execute(
            insert(s.evaluation_subjects).values(
                evaluation_id=ev.inserted_primary_key[0],
                position=1,
                org_id=hs,
                satisfied=30,
                basic=4,
                unsatisfied=1,
            )
        )


async def _pledge_id(conn: AsyncConnection, number: str) -> int:
    found = await conn.execute(select(s.pledges.c.id).where(s.pledges.c.number == number))
    return int(found.scalar_one())


async def photos_after(human: Human, count: int, since: int) -> list[SimMessage]:
    """Wait for ``count`` photos in the person's chat after message ``since``."""

    def photos() -> list[SimMessage]:
        return [
            m
            for m in human.sim.bot_messages(human.user_id)
            if m.photo is not None and m.message_id > since
        ]

    await human.sim.wait_until(lambda: len(photos()) >= count, 15.0)
    return photos()


def decoded(message: SimMessage) -> Image.Image:
    assert message.photo is not None
    img = Image.open(io.BytesIO(message.photo.data))
    img.load()
    return img


async def test_secretary_gets_the_branch_charts_as_photos(world: World) -> None:
    await branch_with_figures(world)
    secretary = await world.join("沈宝方")
    intro = await secretary.send("/stats", expect="统计图")
    assert "黄思村党总支 统计图（4 张）" in intro.content
    photos = await photos_after(secretary, 4, intro.message_id)
    captions = [p.content for p in photos]
    assert len(photos) == 4
    assert "承诺事项共 10 项，已兑现 3 项（兑现率 30.0%）" in captions[0]
    assert "已逾期 2 项" in captions[0]
    assert "2 个承诺人的兑现率" in captions[1]
    assert "近 12 个月每月记录的承诺进展，共 4 条，本月 4 条" in captions[2]
    assert "最近 1 次已结束的群众评议的满意率" in captions[3] and "合格线 90%" in captions[3]
    for photo in photos:
        assert len(photo.content) <= 1024
        img = decoded(photo)
        assert img.format == "PNG" and img.width == 1080


async def test_committee_gets_charts_per_branch(world: World) -> None:
    await branch_with_figures(world)
    clerk = await world.join("刘晓燕")
    intro = await clerk.send("/stats", expect="所辖支部统计图")
    photos = await photos_after(clerk, 4, intro.message_id)
    captions = [p.content for p in photos]
    assert "新华镇党委：承诺事项共 10 项" in captions[0]
    assert "1 个支部的兑现率" in captions[1] and "另有 3 个还没有公开的承诺事项" in captions[1]


async def test_members_and_residents_get_public_figures_only(world: World) -> None:
    await branch_with_figures(world)
    for name in ("王建国", "张桂英"):
        person = await world.join(name)
        intro = await person.send("/stats", expect="公开统计")
        assert "只显示汇总" in intro.content
        photos = await photos_after(person, 3, intro.message_id)
        captions = " ".join(p.content for p in photos)
        assert "承诺事项共 10 项" in captions and "满意率" in captions
        # Nobody's personal fulfilment: no per-pledger chart.
        assert "承诺人的兑现率" not in captions
        assert len(photos) == 3


async def test_empty_branch_and_strangers_get_a_clear_message(world: World) -> None:
    secretary = await world.join("吴静")
    await secretary.send("/stats", expect="「东园社区党支部」还没有可统计的数据")
    assert not [m for m in secretary.sim.bot_messages(secretary.user_id) if m.photo]
    stranger = world.human("路人")
    await stranger.send("/stats", expect="邀请链接")


async def test_committee_opens_one_branch_by_name_or_button(world: World) -> None:
    await branch_with_figures(world)
    clerk = await world.join("刘晓燕")
    intro = await clerk.send("/stats", expect="所辖支部统计图")
    assert "/stats 黄思村" in intro.content  # the hint names a real branch
    await photos_after(clerk, 4, intro.message_id)
    named = await clerk.send("/stats 黄思村", expect="黄思村党总支 统计图（4 张）")
    photos = await photos_after(clerk, 4, named.message_id)
    assert "2 个承诺人的兑现率" in photos[1].content
    choice = await clerk.send("/stats 党支部", expect="名称包含「党支部」的组织有 3 个")
    assert choice.button_labels() == [
        "东园社区党支部",
        "新华镇机关党支部",
        "新华精密机械有限公司党支部",
    ]
    # A branch without data: told so in the button's answer, nothing half-sent.
    data = next(b.callback_data for row in choice.buttons for b in row if "机关" in b.text)
    assert data is not None
    alert = await clerk.tap_for_alert(choice, data)
    assert "「新华镇机关党支部」还没有可统计的数据" in alert
    await clerk.send("/stats 不存在的村", expect="没有找到名称包含「不存在的村」的")
    # Forged buttons: a member may not look at another branch; junk data is a stale button.
    member = await world.join("王建国")
    dy = await org_id(world, "XH-DY")
    shown = await member.send("/stats", expect="公开统计")
    await photos_after(member, 3, shown.message_id)
    assert "只能查看本组织" in await member.tap_forged(f"st:o:{dy}")
    assert "按钮已经失效" in await member.tap_forged("st:o:x")
    await member.send("/stats 东园", expect="只能查看本组织")


async def test_a_double_send_draws_once(world: World) -> None:
    await branch_with_figures(world)
    secretary = await world.join("沈宝方")
    before = secretary.last().message_id
    secretary.sim.send_text(secretary.user_id, "/stats")
    secretary.sim.send_text(secretary.user_id, "/stats")
    await secretary.receive("统计图正在生成，请稍候")
    await photos_after(secretary, 4, before)
    # Both sends handled, no drawing under way, everything queued sent: a second drawing,
    # had it started, would be in the chat now.
    await world.sim.wait_until(
        lambda: world.sim.updates_pending() == 0 and not stats_handlers._drawing, 10
    )
    await world.outbox_settled()
    assert len(await photos_after(secretary, 4, before)) == 4
    assert secretary.seen("黄思村党总支 统计图（4 张）") == 1
