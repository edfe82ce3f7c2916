"""台账 as secretaries and committee staff read it: pages, district totals, refusals."""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain.clock import SystemClock
from tests.e2e.flows import roster_person
from tests.e2e.harness import Human, World
from tests.fulfilment_data import PublishedPledge, insert_published, set_progress


async def org_id(world: World, code: str) -> int:
    async with world.db.uow() as uow:
        org = await uow.orgs.by_code(code)
    assert org is not None
    return org.id


async def sixty_items(world: World) -> None:
    """Four members of 黄思村 with 15 published items each; some fulfilled, some overdue."""
    hs = await org_id(world, "XH-HS")
    today = SystemClock().now().date()
    pledges = []
    for n, name in enumerate(("王建国", "杨友林", "沈红梅", "朱德顺")):
        person = await roster_person(world, name)
        items: list[tuple[str, date]] = [
            (
                f"{name}的第{k + 1:02d}项承诺",
                today - timedelta(days=2) if k % 3 == 0 else today + timedelta(days=40),
            )
            for k in range(15)
        ]
        pledges.append(PublishedPledge(hs, f"XH-HS-T-{n}", person.id, person.id, items))
    await insert_published(world.db, pledges, SystemClock().now())
    await set_progress(
        world.db,
        [
            {"item_id": p.item_ids[k], "status": "fulfilled", "done_on": today}
            for p in pledges
            for k in (1, 2)
        ],
    )


def page_of(message_text: str) -> str:
    return message_text.splitlines()[0]


async def test_secretary_ledger_pages_forward_and_back(world: World) -> None:
    await sixty_items(world)
    secretary = await world.join("沈宝方")
    first = await secretary.send("/ledger", expect="承诺台账")
    assert "（第 1/3 页）" in page_of(first.content)
    assert "承诺事项 60 项｜已兑现 8 项｜兑现率 13.3%" in first.content
    assert "逾期 20 项" in first.content
    assert first.button_labels() == ["下一页 ▶"]
    seen = first.content
    second = await secretary.tap("下一页 ▶", expect="（第 2/3 页）")
    assert second.message_id == first.message_id  # edited in place
    assert second.button_labels() == ["◀ 上一页", "下一页 ▶"]
    seen += second.content
    third = await secretary.tap("下一页 ▶", expect="（第 3/3 页）")
    assert third.button_labels() == ["◀ 上一页"]
    seen += third.content
    for text in (first.content, second.content, third.content):
        assert len(text) <= 4096
    for name in ("王建国", "杨友林", "沈红梅", "朱德顺"):
        for k in range(15):
            assert f"{name}的第{k + 1:02d}项承诺" in seen
    assert "✓ 王建国的第02项承诺" in seen and "⚠ 王建国的第01项承诺" in seen
    back = await secretary.tap("◀ 上一页", expect="（第 2/3 页）")
    assert back.message_id == first.message_id

    # Another branch's ledger, or the district's, by forged buttons: refused.
    dy = await org_id(world, "XH-DY")
    assert "只能查看本支部" in await secretary.tap_forged(f"ld:b:{dy}:0")
    assert "仅供党委工作人员" in await secretary.tap_forged("ld:d:0")
    assert "按钮已经失效" in await secretary.tap_forged("ld:b:x:y")


async def test_committee_sees_branches_and_district_totals(world: World) -> None:
    await sixty_items(world)
    clerk = await world.join("刘晓燕")
    district = await clerk.send("/ledger", expect="新华镇党委 承诺台账（所辖支部汇总）")
    assert "所辖支部 4 个｜作出承诺的党员 4 人" in district.content
    assert "承诺事项 60 项｜已兑现 8 项｜兑现率 13.3%" in district.content
    assert "黄思村党总支：60 项，已兑现 8 项，兑现率 13.3%，逾期 20 项" in district.content
    assert "东园社区党支部：0 项，已兑现 0 项，兑现率 —，逾期 0 项" in district.content
    label = next(lbl for lbl in district.button_labels() if "黄思村党总支" in lbl)
    branch = await clerk.tap(label, expect="黄思村党总支 承诺台账（第 1/3 页）")
    assert branch.button_labels()[-1] == "↩️ 返回汇总"
    await clerk.tap("下一页 ▶", expect="（第 2/3 页）")
    back = await clerk.tap("返回汇总", expect="所辖支部汇总")
    # 新华镇 is a town: nothing calls its committee a district (全区).
    assert "全区" not in district.content + back.content + " ".join(back.button_labels())


async def test_people_without_the_role_are_refused(world: World) -> None:
    member = await world.join("王建国")
    await member.send("/ledger", expect="承诺台账仅供支部书记和党委工作人员查看")
    resident: Human = await world.join("张桂英")
    await resident.send("/ledger", expect="承诺台账仅供支部书记和党委工作人员查看")
    await resident.send("/progress", expect="群众代表不需要记录承诺进展")
    hs = await org_id(world, "XH-HS")
    assert "仅供支部书记和党委工作人员" in await member.tap_forged(f"ld:b:{hs}:0")
    secretary = await world.join("沈宝方")
    empty = await secretary.send("/ledger", expect="承诺台账")
    assert "还没有公开的承诺事项" in empty.content and "（第 1/1 页）" in empty.content
