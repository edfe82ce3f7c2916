"""领导点评 as people do it: a secretary reviews a member (delivered, published, answered with
a rectification statement); a committee clerk and a liaison leader review a branch; refusals
write nothing; a rectification deadline is set on an overdue item and reminded."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from bot.domain.leader_review import PeriodKind, default_kind, period_of
from storage import schema
from tests.e2e.flows import (
    BOARD_HS,
    button_data,
    newest,
    only_pledge,
    submit_one_item_pledge,
)
from tests.e2e.harness import Human, World


def local_today() -> date:
    """Today in the bot's time zone (the bot runs on the system clock in these tests)."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


async def published_pledge(world: World) -> tuple[Human, Human]:
    """王建国 pledges one item; 沈宝方 approves it."""
    member = await world.join("王建国")
    secretary = await world.join("沈宝方")
    await submit_one_item_pledge(member, "每月参加支部学习")
    await secretary.receive("王建国 提交了承诺")
    await secretary.tap("通过", expect="已通过")
    await member.receive("审核通过并公开")
    return member, secretary


async def make_overdue(world: World, item_id: int) -> None:
    """Move the item's deadline into the past."""
    async with world.db.engine.begin() as conn:
        await conn.execute(
            update(schema.pledge_items)
            .where(schema.pledge_items.c.id == item_id)
            .values(deadline=local_today() - timedelta(days=10))
        )


async def reviews(world: World) -> list[dict[str, Any]]:
    async with world.db.engine.connect() as conn:
        query = select(schema.leader_reviews).order_by(schema.leader_reviews.c.id)
        rows = await conn.execute(query)
        return [dict(r._mapping) for r in rows]


async def review_count(world: World) -> int:
    async with world.db.engine.connect() as conn:
        return int(
            (
                await conn.execute(select(func.count()).select_from(schema.leader_reviews))
            ).scalar_one()
        )


async def test_secretary_reviews_member_published_and_answered(world: World) -> None:
    member, secretary = await published_pledge(world)
    item_id = (await only_pledge(world, member)).items[0].id
    await make_overdue(world, item_id)
    world.group(BOARD_HS, "黄思村公示栏", [secretary, member])
    await secretary.send("/linkboard", expect="公示栏", chat_id=BOARD_HS)

    listing = await secretary.send("/comment", expect="领导点评")
    assert "🔔 王建国" in [label for label, _ in _buttons(listing)]
    card = await secretary.tap("🔔 王建国", expect="点评对象：王建国")
    assert "承诺事项 1 项，已兑现 0 项，逾期未兑现 1 项" in card.content
    assert "每月参加支部学习" in card.content
    await secretary.tap("较好", expect="请写下点评意见")
    await secretary.send("   ", expect="点评意见不能为空")
    await secretary.send("学习记录认真，但进度慢了。", expect="需要整改的地方")
    await secretary.send("按月补齐学习笔记", expect="是否责令限期整改")
    await secretary.tap("30天内整改", expect="是否在支部公示群公布")
    await secretary.tap("公布到支部群", expect="请核对")
    done = await secretary.tap("确认发送", expect="已保存对「王建国」")
    assert "已送达 1 人" in done.content and "已公布到支部公示群" in done.content

    delivered = await member.receive("沈宝方对您的")
    assert "评价：较好" in delivered.content and "需整改：按月补齐学习笔记" in delivered.content
    assert "限期整改" in delivered.content and "每月参加支部学习" in delivered.content
    await world.sim.wait_until(
        lambda: any("领导点评" in m.content for m in world.sim.bot_messages(BOARD_HS)), 10
    )
    board = [m for m in world.sim.bot_messages(BOARD_HS) if "领导点评" in m.content][-1]
    assert "王建国" in board.content and "较好" in board.content

    stored = await reviews(world)
    assert len(stored) == 1
    row = stored[0]
    assert row["grade"] == "fairly_good" and row["published"] is True
    assert row["period"] == period_of(default_kind(local_today()), local_today())
    async with world.db.engine.connect() as conn:
        rectify_by = (
            await conn.execute(
                select(schema.item_progress.c.rectify_by).where(
                    schema.item_progress.c.item_id == item_id
                )
            )
        ).scalar_one()
    assert rectify_by is not None

    # The review leads straight to recording progress on the overdue item.
    await member.tap("记录进展：每月参加支部学习", expect="请用几句话写下做了什么")
    await member.send("/cancel", expect="已退出")

    # The member answers with a rectification statement; it reaches the secretary.
    await member.tap("整改表态", expect="请写下您的整改表态")
    await member.send("本月底前补齐笔记，按时参加学习。", expect="已送给点评人")
    statement = await secretary.receive("王建国对您")
    assert "本月底前补齐笔记" in statement.content
    assert (await reviews(world))[0]["response"] == "本月底前补齐笔记，按时参加学习。"
    # A second statement on the same review is refused.
    alert = await member.tap_for_alert(delivered, button_data(delivered, "整改表态"))
    assert "已经作过整改表态" in alert

    history = await member.send("/comments", expect="我收到的点评")
    assert "较好" in history.content and "本月底前补齐笔记" in history.content
    given = await secretary.send("/comments", expect="我作出的点评")
    assert "王建国" in given.content


def _buttons(message: Any) -> list[tuple[str, str]]:
    return [(b.text, b.callback_data or "") for b in message.iter_buttons()]


async def test_refusals_write_nothing(world: World) -> None:
    member = await world.join("王建国")
    secretary = await world.join("沈宝方")
    other_secretary = await world.join("吴静")
    await member.send("/comment", expect="只有支部书记、党委工作人员和联点领导")
    listing = await secretary.send("/comment", expect="领导点评")
    labels = [label for label, _ in _buttons(listing)]
    assert not any("沈宝方" in label for label in labels)  # never oneself
    assert not any("张桂英" in label for label in labels)  # residents are not reviewed
    data = button_data(listing, "王建国")
    sid = await world_person_id(world, "沈宝方")
    # self-review, forged
    alert = await secretary.tap_forged(data.replace(data.split(":")[-1], f"m{sid}"), listing)
    assert "不能点评自己" in alert
    # another branch's secretary cannot review 王建国 (out of scope)
    other_list = await other_secretary.send("/comment", expect="领导点评")
    alert = await other_secretary.tap_forged(data, other_list)
    assert "不在您负责点评的范围内" in alert
    # a secretary cannot review a branch
    hs = await world_org_id(world, "XH-HS")
    alert = await secretary.tap_forged(f"lr:s:{PeriodKind.MONTH.value}:o{hs}", listing)
    assert "支部由党委或联点领导点评" in alert
    assert await review_count(world) == 0


async def world_person_id(world: World, name: str) -> int:
    from tests.e2e.flows import roster_person

    return (await roster_person(world, name)).id


async def world_org_id(world: World, code: str) -> int:
    async with world.db.uow() as uow:
        org = await uow.orgs.by_code(code)
    assert org is not None
    return org.id


async def test_committee_clerk_reviews_a_branch_its_secretary_answers(world: World) -> None:
    clerk = await world.join("刘晓燕")
    secretary = await world.join("沈宝方")
    listing = await clerk.send("/comment", expect="领导点评")
    labels = [label for label, _ in _buttons(listing)]
    assert any("黄思村党总支" in label for label in labels)
    assert any("新华镇机关党支部" in label for label in labels)  # every branch of the town
    await clerk.tap("🏢 黄思村党总支", expect="点评对象：黄思村党总支")
    await clerk.tap("好", expect="请写下点评意见")
    await clerk.send("班子团结，承诺公开及时。", expect="需要整改的地方")
    await clerk.tap("无需整改", expect="本支部还没有公示群")
    done = await clerk.tap("确认发送", expect="已保存对「黄思村党总支」")
    assert "已送达 1 人" in done.content

    delivered = await secretary.receive("刘晓燕对黄思村党总支的")
    assert "评价：好" in delivered.content and "需整改" not in delivered.content
    await secretary.tap("整改表态", expect="请写下您的整改表态")
    await secretary.send("继续保持，每月公开一次进展。", expect="已送给点评人")
    await clerk.receive("沈宝方对您")
    row = (await reviews(world))[0]
    assert row["subject_kind"] == "branch" and row["subject_person_id"] is None
    assert row["published"] is False and row["response"] == "继续保持，每月公开一次进展。"

    # The clerk may also review the branch's members, one branch at a time.
    await clerk.send("/comment", expect="领导点评")
    listing = clerk.last()
    # Each branch's row has its own members button, named for that branch.
    member_buttons = [label for label in listing.button_labels() if label.startswith("👥")]
    assert len(member_buttons) == len(set(member_buttons)) >= 2
    assert "👥 黄思村党总支的党员" in member_buttons
    members = await clerk.tap("👥 东园社区党支部的党员", expect="东园社区党支部的党员：")
    labels = [label for label, _ in _buttons(members)]
    assert any("孙立新" in label for label in labels)
    assert any("吴静" in label for label in labels)  # the secretary is a member too
    assert "返回支部列表" in labels[-1]


async def test_liaison_leader_reviews_linked_branch_only(world: World) -> None:
    leader = await world.join("陈国平")
    secretary = await world.join("吴静")
    listing = await leader.send("/comment", expect="领导点评")
    labels = [label for label, _ in _buttons(listing)]
    assert any("东园社区党支部" in label for label in labels)
    assert not any("新华精密机械" in label for label in labels)  # not linked
    jx = await world_org_id(world, "XH-JX")
    data = button_data(listing, "东园社区党支部")
    alert = await leader.tap_forged(data.rsplit(":", 1)[0] + f":o{jx}", listing)
    assert "不在您负责点评的范围内" in alert
    assert await review_count(world) == 0

    await leader.tap("🏢 东园社区党支部", expect="点评对象：东园社区党支部")
    await leader.tap("一般", expect="请写下点评意见")
    await leader.send("群众反映的问题办结慢。", expect="需要整改的地方")
    await leader.send("两周内回复积压的群众意见", expect="请核对")
    await leader.tap("确认发送", expect="已保存")
    delivered = await secretary.receive("陈国平对东园社区党支部的")
    assert "需整改：两周内回复积压的群众意见" in delivered.content
    # The list now shows it as reviewed for the period.
    again = await leader.send("/comment", expect="领导点评")
    assert any("✅ 🏢 东园社区党支部" in label for label, _ in _buttons(again))
    # Only the reviewed may answer: the leader cannot answer his own review.
    alert = await leader.tap_forged(button_data(delivered, "整改表态"), again)
    assert "只有被点评的本人" in alert


async def test_review_survives_restart_cancel_writes_nothing_double_tap_once(
    world: World,
) -> None:
    await world.join("王建国")
    secretary = await world.join("沈宝方")
    await secretary.send("/comment", expect="领导点评")
    await secretary.tap("王建国", expect="点评对象：王建国")
    await secretary.tap("差", expect="请写下点评意见")
    await secretary.send("/cancel", expect="这条点评没有保存")
    await secretary.send("本月没有记录进展。", expect=None)  # no longer taken as a comment
    assert await review_count(world) == 0

    await secretary.send("/comment", expect="领导点评")
    await secretary.tap("王建国", expect="点评对象：王建国")
    await secretary.tap("一般", expect="请写下点评意见")
    await secretary.send("x" * 1001, expect="点评意见太长了")
    await secretary.send("本月没有记录进展。", expect="需要整改的地方")
    await world.runner.restart()  # the draft and the step survive
    await secretary.send("每月至少记录一次进展", expect="请核对对「王建国」的")
    confirm = newest(secretary, "请核对")
    data = button_data(confirm, "确认发送")
    await secretary.tap("确认发送", expect="已保存对「王建国」")
    assert not confirm.buttons  # the buttons went with the edit
    alert = await secretary.tap_forged(data, confirm)  # a second tap racing the first
    assert "失效" in alert
    assert await review_count(world) == 1
    row = (await reviews(world))[0]
    assert row["comment"] == "本月没有记录进展。"
    assert row["rectify_points"] == "每月至少记录一次进展"
