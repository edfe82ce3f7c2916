"""调研提诺 as people do it: a resident suggests, the secretary sees it, links the pledge item
that answers it and marks it solved; the resident is told at each step."""

from __future__ import annotations

from bot.domain.suggestion_models import SuggestionStatus
from tests.e2e.flows import newest, submit_one_item_pledge
from tests.e2e.harness import World


async def suggestions(world: World) -> list[dict[str, object]]:
    from sqlalchemy import select

    from storage import schema

    async with world.db.engine.connect() as conn:
        rows = await conn.execute(select(schema.suggestions).order_by(schema.suggestions.c.id))
        return [dict(r._mapping) for r in rows]


async def org_id(world: World, code: str) -> int:
    async with world.db.uow() as uow:
        org = await uow.orgs.by_code(code)
        assert org is not None
        return org.id


async def test_suggest_see_link_solve_and_the_resident_is_told(world: World) -> None:
    member = await world.join("王建国")
    secretary = await world.join("沈宝方")
    resident = await world.join("张桂英")
    await submit_one_item_pledge(member, "修好村口路灯")
    await secretary.receive("王建国 提交了承诺")
    await secretary.tap("通过", expect="已通过")

    ask = await resident.send("/suggest", expect="将提交给「黄思村党总支」")
    assert "东园社区党支部" in str([b.text for b in ask.iter_buttons()])
    await resident.send("\u3000 ", expect="建议内容不能为空")
    await resident.send("灯" * 501, expect="内容太长了（501 字）")
    await resident.send("村口路灯坏了，晚上出行不便", expect="请核对")
    await resident.tap("确认提交", expect="已提交给「黄思村党总支」")
    [row] = await suggestions(world)
    assert row["text"] == "村口路灯坏了，晚上出行不便" and row["status"] == "open"

    notice = await secretary.receive("张桂英 给「黄思村党总支」提了一条建议")
    assert "村口路灯坏了" in notice.content
    listing = await secretary.send("/suggestions", expect="收到的群众建议")
    assert "共 1 条，已办结 0 条" in listing.content and "【待办】" in listing.content
    card = await secretary.tap("村口路灯", expect="建议 #")
    assert "提出人：张桂英" in card.content and "13800000151" not in card.content
    await secretary.tap("关联承诺事项", expect="由哪一项承诺来回应")
    await secretary.tap("1. 修好村口路灯", expect="对应承诺事项")
    told = await resident.receive("已有承诺回应")
    assert "修好村口路灯" in told.content

    solved_card = await secretary.tap("标记已办结", expect="已办结")
    assert "（已办结）" in solved_card.content and "标记已办结" not in str(
        [b.text for b in solved_card.iter_buttons()]
    )
    done = await resident.receive("已办结，对应承诺")
    assert "村口路灯坏了" in done.content
    # The old card's button, tapped again: refused, the resident is not told twice.
    again = await secretary.tap_forged(f"sg:solve:{row['id']}", card)
    assert "已经办结" in again
    await world.outbox_settled()
    assert resident.seen("已办结，对应承诺") == 1

    [row] = await suggestions(world)
    assert row["status"] == SuggestionStatus.SOLVED.value and row["item_id"] is not None
    async with world.db.uow() as uow:
        hs = await org_id_in(uow, "XH-HS")
        assert await uow.suggestions.counts([hs]) == (1, 1)
        assert await uow.suggestions.counts([]) == (0, 0)
    listing = await secretary.send("/suggestions", expect="收到的群众建议")
    assert "共 1 条，已办结 1 条" in listing.content and "【已办结】" in listing.content


async def org_id_in(uow: object, code: str) -> int:
    org = await uow.orgs.by_code(code)  # type: ignore[attr-defined]
    assert org is not None
    return int(org.id)


async def test_another_branch_cancel_and_stale_buttons(world: World) -> None:
    resident = await world.join("张桂英")
    other_secretary = await world.join("吴静")  # 东园社区
    own_secretary = await world.join("沈宝方")

    await resident.send("/suggest", expect="将提交给")
    await resident.send("不想提了", expect="请核对")
    await resident.send("/cancel", expect="已取消")
    assert await suggestions(world) == []

    await resident.send("/suggest", expect="将提交给")
    await resident.tap("改提给：东园社区党支部", expect="提给「东园社区党支部」")
    await resident.send("社区活动室开放时间太短", expect="请核对")
    await resident.tap("重写", expect="请重新写下")
    await resident.send("希望社区活动室周末也开放", expect="提交给「东园社区党支部」")
    confirm = resident.last()
    await resident.tap("确认提交", expect="已提交给「东园社区党支部」")
    # A second tap of 确认提交 (the message was replaced, the tap arrives late): nothing twice.
    stale = await resident.tap_forged("sg:ok", confirm)
    assert "这一步已经结束" in stale
    [row] = await suggestions(world)
    assert row["org_id"] == await org_id(world, "XH-DY")
    assert row["text"] == "希望社区活动室周末也开放"

    await other_secretary.receive("希望社区活动室周末也开放")
    await world.outbox_settled()
    assert own_secretary.seen("希望社区活动室周末也开放") == 0
    # Another branch's secretary cannot open it (a forged button), nor a resident.
    answer = await own_secretary.tap_forged(f"sg:show:{row['id']}", own_secretary.last())
    assert "不是提给您所在党组织" in answer
    answer = await resident.tap_forged(f"sg:solve:{row['id']}", resident.last())
    assert "只有支部书记" in answer
    await resident.send("/suggestions", expect="只有支部书记")
    # A forged branch (not offered to this resident) is refused, nothing stored.
    await resident.send("/suggest", expect="将提交给")
    answer = await resident.tap_forged("sg:to:99999", resident.last())
    assert "不能提给这个支部" in answer
    assert len(await suggestions(world)) == 1


async def test_the_conversation_survives_a_restart(world: World) -> None:
    resident = await world.join("张桂英")
    secretary = await world.join("沈宝方")
    await resident.send("/suggest", expect="将提交给")
    await resident.send("希望增加垃圾清运次数", expect="请核对")
    await world.runner.restart()
    await resident.tap("确认提交", expect="已提交给「黄思村党总支」")
    await secretary.receive("希望增加垃圾清运次数")
    card = newest(secretary, "希望增加垃圾清运次数")
    await secretary.tap("处理这条建议", expect="建议 #")
    assert card is not None


async def test_the_list_pages(world: World) -> None:
    secretary = await world.join("沈宝方")
    resident = await world.join("张桂英")
    hs = await org_id(world, "XH-HS")
    now = world.runner.app.bot_data.services.clock.now()  # type: ignore[union-attr]
    async with world.db.uow() as uow:
        author = await uow.people.by_tg(resident.user_id)
        assert author is not None
        for n in range(11):
            await uow.suggestions.add(org_id=hs, author_id=author.id, text=f"第{n}条建议", at=now)
    first = await secretary.send("/suggestions", expect="共 11 条")
    assert "第 1/2 页" in first.content and first.content.count("【待办】") == 8
    second = await secretary.tap("下一页", expect="第 2/2 页")
    assert second.content.count("【待办】") == 3 and "第0条建议" in second.content
    back = await secretary.tap("上一页", expect="第 1/2 页")
    assert "第10条建议" in back.content
