"""What people read: forms of address, level names, counts, names said once, in both languages.

Every e2e story is also read by tests/wording.py (conftest.py): '1 entries', '(s)', '最近 0 条'
and a name repeated as its own qualifier fail any story in which the bot says them.
"""

from __future__ import annotations

from tests.e2e.flows import draft_item, submit_one_item_pledge
from tests.e2e.harness import World


async def test_a_resident_is_greeted_by_name_and_a_member_as_comrade(world: World) -> None:
    resident = await world.join("张桂英")
    greeting = resident.last().content
    assert greeting.startswith("张桂英，您好！") and "同志" not in greeting
    assert "「群众代表」" in greeting

    member = await world.join("王建国")
    assert member.last().content.startswith("王建国同志，您好！")

    english = await world.join("李长根", language_code="en")
    assert english.last().content.startswith("Hello, 李长根!")
    assert (
        "You have joined 黄思村党总支; your role: resident representative."
        in english.last().content
    )


async def test_a_branch_pledge_names_its_branch_once_in_english(world: World) -> None:
    secretary = await world.join("沈宝方", language_code="en")
    await secretary.send("/pledge", expect="Which pledge do you want to write")
    await secretary.tap("The branch's pledge", expect="choose the type of pledge")
    await secretary.tap("annual pledge", expect="Item 1")
    await secretary.tap("A strong leadership team", expect="what will you do")
    await secretary.send("Hold a democratic life meeting every quarter", expect="target")
    await secretary.send("4 meetings this year", expect="By when")
    asked = await secretary.send("end of year", expect="Who is responsible")
    assert asked.button_labels()[0] == "The branch (黄思村党总支)"
    summary = await secretary.tap("The branch (黄思村党总支)", expect="the branch's pledge")
    assert "Pledger: 黄思村党总支 (the branch's own pledge)" in summary.content
    assert "Myself" not in summary.content and "your pledge" not in summary.content
    submitted = await secretary.tap("Submit for review", expect="Submitted for review")
    assert "reviewed by the committee above" in submitted.content


async def test_an_empty_review_history_says_none_in_both_languages(world: World) -> None:
    member = await world.join("王建国")
    history = await member.send("/comments", expect="我收到的点评")
    assert "📥 我收到的点评：暂无。" in history.content
    assert "0 条" not in history.content and "我作出的点评" not in history.content

    secretary = await world.join("吴静", language_code="en")
    history = await secretary.send("/comments", expect="Reviews I received")
    assert "📥 Reviews I received: none yet." in history.content
    assert "📤 Reviews I gave: none yet." in history.content
    assert "latest 0" not in history.content


async def test_a_record_of_one_entry_says_entry_in_english(world: World) -> None:
    member = await world.join("孙立新", language_code="en")
    secretary = await world.join("吴静")
    await member.send("/pledge", expect="choose the type of pledge")
    await member.tap("annual pledge", expect="Item 1")
    await member.tap("Lead in study", expect="what will you do")
    await member.send("Join every branch study session", expect="target")
    await member.send("12 sessions", expect="By when")
    await member.send("end of year", expect="Who is responsible")
    await member.tap("Myself (孙立新)", expect="Please check your pledge")
    await member.tap("Submit for review", expect="Submitted for review")
    await secretary.receive("孙立新 提交了承诺")
    await secretary.tap("通过", expect="已通过")
    await member.receive("approved and published")

    await member.send("/progress", expect="Choose the pledge item")
    await member.tap("Join every branch study", expect="In a few sentences")
    await member.send("Read two books", expect="Saved in your record")
    await member.tap("Done", expect="Saved: progress")
    record = await member.send("/record", expect="My record for")
    assert "(1 entry):" in record.content


async def test_a_town_committee_ledger_is_not_called_a_district_in_english(world: World) -> None:
    clerk = await world.join("刘晓燕", language_code="en")
    totals = await clerk.send(
        "/ledger", expect="Pledge ledger of 新华镇党委 (totals of its branches)"
    )
    branch = next(label for label in totals.button_labels() if "黄思村党总支" in label)
    page = await clerk.tap(branch, expect="Pledge ledger of 黄思村党总支")
    assert page.button_labels()[-1] == "↩️ Back to the totals"
    back = await clerk.tap("Back to the totals", expect="totals of its branches")
    seen = totals.content + page.content + back.content + " ".join(page.button_labels())
    assert "district" not in seen.lower()


async def test_a_member_pledge_card_keeps_the_member_and_the_branch(world: World) -> None:
    member = await world.join("王建国")
    secretary = await world.join("沈宝方")
    await submit_one_item_pledge(member)
    incoming = await secretary.receive("王建国 提交了承诺")
    assert "承诺人：王建国（黄思村党总支）" in incoming.content


async def test_a_returned_oral_pledge_is_told_as_the_members(world: World) -> None:
    secretary = await world.join("沈宝方")
    clerk = await world.join("刘晓燕")
    await secretary.send("/oral", expect="请选择要代录口头承诺的党员")
    await secretary.tap("🗣 朱德顺", expect="请选择承诺类型")
    await secretary.tap("年度承诺", expect="第 1 项")
    await draft_item(secretary, "带头弘扬正气", "带头移风易俗", responsible="朱德顺（承诺人）")
    await secretary.tap("提交审核", expect="已提交审核")
    await clerk.receive("朱德顺 提交了承诺")
    await clerk.tap("退回修改", expect="请写下退回的理由")
    await clerk.send("目标请写具体：劝导几户", expect="已退回")
    told = await secretary.receive("被退回修改")
    assert told.content.startswith("↩️ 您代录的 朱德顺 的承诺被退回修改。")
    assert "您的承诺" not in told.content and "目标请写具体：劝导几户" in told.content
