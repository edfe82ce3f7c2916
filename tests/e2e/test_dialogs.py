"""What every dialog shares (handlers/dialog.py), played by people: a command in the middle of a
dialog says what became of it; a message a step cannot use, or that no dialog needs, gets an
answer that says what to do; a command in a board group points to the private chat."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.e2e.flows import BOARD_HS, submit_one_item_pledge
from tests.e2e.harness import Human, World


async def published(world: World) -> tuple[Human, Human]:
    """王建国's one-item pledge, approved by 沈宝方."""
    member = await world.join("王建国")
    secretary = await world.join("沈宝方")
    await submit_one_item_pledge(member)
    await secretary.receive("王建国 提交了承诺")
    await secretary.tap("通过", expect="已通过")
    await member.receive("审核通过并公开")
    return member, secretary


async def test_a_command_while_writing_progress_says_what_became_of_it(world: World) -> None:
    member, _ = await published(world)
    await member.send("/progress", expect="请选择要记录进展的承诺事项")
    await member.tap("每月参加支部学习", expect="请用几句话写下")
    notice = await member.send("/mypledges", expect="已离开“记录进展”")
    assert "要继续，请再发送 /progress" in notice.content
    await member.receive("每月参加支部学习")  # /mypledges itself is answered too
    # The words typed now are not taken as progress, and the bot says so.
    await member.send("参加了学习", expect="我没有看懂")
    await member.send("/progress", expect="请选择要记录进展的承诺事项")
    await member.tap("每月参加支部学习", expect="请用几句话写下")
    await member.send("参加了学习", expect="已记下")


async def test_in_english_the_notice_is_english(world: World) -> None:
    resident = await world.join("张桂英", language_code="en")
    await resident.send("/suggest", expect="黄思村党总支")
    notice = await resident.send("/help", expect="You left “make a suggestion”")
    assert "Nothing was submitted" in notice.content


# Each dialog: open it; return the person and the notice they must see when they leave it.
Opener = Callable[[World], Awaitable[tuple[Human, str]]]


async def review_comment(world: World) -> tuple[Human, str]:
    member = await world.join("王建国")
    secretary = await world.join("沈宝方")
    await submit_one_item_pledge(member)
    await secretary.receive("王建国 提交了承诺")
    await secretary.tap("退回修改", expect="退回的理由")
    return secretary, "这份承诺没有退回，仍在待审核"


async def broadcast(world: World) -> tuple[Human, str]:
    secretary = await world.join("沈宝方")
    await secretary.send("/broadcast", expect="请发送通知内容")
    return secretary, "通知没有发出"


async def evaluation(world: World) -> tuple[Human, str]:
    secretary = await world.join("沈宝方")
    await secretary.send("/evaluate", expect=None)
    return secretary, "评议没有发起"


async def leader_review(world: World) -> tuple[Human, str]:
    clerk = await world.join("刘晓燕")
    await clerk.send("/comment", expect="领导点评")
    await clerk.tap("🏢 黄思村党总支", expect="点评对象：黄思村党总支")
    return clerk, "没有确认发送的点评没有保存"


async def suggestion(world: World) -> tuple[Human, str]:
    resident = await world.join("张桂英")
    await resident.send("/suggest", expect="将提交给「黄思村党总支」")
    return resident, "建议没有提交"


@pytest.mark.parametrize(
    "open_dialog",
    [review_comment, broadcast, evaluation, leader_review, suggestion],
    ids=lambda f: f.__name__,
)
async def test_every_dialog_left_by_a_command_says_so(world: World, open_dialog: Opener) -> None:
    person, notice = await open_dialog(world)
    await person.send("/help", expect=notice)
    await person.receive("/help")  # and the command is answered


async def test_a_draft_waits_while_other_commands_are_answered(world: World) -> None:
    """The draft is stored as it is answered: a command between two answers is answered and
    the draft's question is taken up again where it was."""
    member = await world.join("王建国")
    await member.send("/pledge", expect="请选择承诺类型")
    await member.tap("年度承诺", expect="第 1 项")
    await member.tap("带头学习提高", expect="承诺内容")
    await member.send("/mypledges", expect="草稿")
    await member.send("每月参加支部学习", expect="可以检查的目标")


async def test_a_draft_under_a_return_comment_waits_and_goes_on(world: World) -> None:
    """A secretary drafting their own pledge returns a member's: the comment is the comment,
    then the draft goes on where it was."""
    member = await world.join("王建国")
    secretary = await world.join("沈宝方")
    await submit_one_item_pledge(member)
    await secretary.receive("王建国 提交了承诺")
    await secretary.send("/pledge", expect="您要填写哪一种承诺")
    await secretary.tap("我本人的承诺", expect="请选择承诺类型")
    await secretary.tap("年度承诺", expect="第 1 项")
    await secretary.tap("退回修改", expect="退回的理由")
    await secretary.send("目标请写具体", expect="已退回 王建国 的承诺")
    await secretary.tap("带头学习提高", expect="承诺内容")
    await secretary.send("每月讲一次党课", expect="可以检查的目标")


# ---- messages a step cannot use -------------------------------------------------------------


Step = Callable[[World], Awaitable[Human]]


async def draft_content(world: World) -> Human:
    member = await world.join("王建国")
    await member.send("/pledge", expect="请选择承诺类型")
    await member.tap("年度承诺", expect="第 1 项")
    await member.tap("带头学习提高", expect="承诺内容")
    return member


async def oral_content(world: World) -> Human:
    secretary = await world.join("沈宝方")
    await secretary.send("/oral", expect="请选择要代录口头承诺的党员")
    await secretary.tap("🗣 朱德顺", expect="请选择承诺类型")
    await secretary.tap("年度承诺", expect="第 1 项")
    await secretary.tap("带头服务群众", expect="承诺内容")
    return secretary


async def return_comment(world: World) -> Human:
    secretary, _ = await review_comment(world)
    return secretary


async def claim_send_back(world: World) -> Human:
    member, secretary = await published(world)
    await member.send("/progress", expect="请选择要记录进展的承诺事项")
    await member.tap("每月参加支部学习", expect="请用几句话写下")
    await member.send("参加了学习", expect="已记下")
    await member.tap("申请兑现销号", expect="已申请兑现销号")
    await secretary.receive("王建国 申请兑现销号")
    await secretary.tap("退回补充", expect="的理由")
    return secretary


async def comment_text(world: World) -> Human:
    clerk, _ = await leader_review(world)
    await clerk.tap("好", expect="请写下点评意见")
    return clerk


async def statement(world: World) -> Human:
    secretary = await world.join("沈宝方")
    clerk = await comment_text(world)
    await clerk.send("班子团结", expect="需要整改的地方")
    await clerk.tap("无需整改", expect="请核对")
    await clerk.tap("确认发送", expect="已保存")
    await secretary.receive("刘晓燕对黄思村党总支的")
    await secretary.tap("整改表态", expect="请写下您的整改表态")
    return secretary


@pytest.mark.parametrize("kind", ["sticker", "location"])
@pytest.mark.parametrize(
    "step",
    [draft_content, oral_content, return_comment, claim_send_back, comment_text, statement],
    ids=lambda f: f.__name__,
)
async def test_a_step_that_wants_words_says_so(world: World, step: Step, kind: str) -> None:
    person = await step(world)
    await person.send_other(kind, expect="这一步需要文字回答")


async def attaching(world: World) -> tuple[Human, str]:
    member, _ = await published(world)
    await member.send("/progress", expect="请选择要记录进展的承诺事项")
    await member.tap("每月参加支部学习", expect="请用几句话写下")
    await member.send("参加了学习", expect="已记下")
    return member, "请发送照片或文件作为证据"


async def grade(world: World) -> tuple[Human, str]:
    clerk, _ = await leader_review(world)
    return clerk, "请点上面的按钮选择"


@pytest.mark.parametrize("step", [attaching, grade], ids=lambda f: f.__name__)
async def test_a_step_that_wants_something_else_says_what(world: World, step: Opener) -> None:
    person, hint = await step(world)
    await person.send_other("sticker", expect=hint)
    assert person.seen("这一步需要文字回答") == 0


async def test_a_draft_step_that_wants_a_button_says_so_and_asks_again(world: World) -> None:
    member = await world.join("王建国")
    await member.send("/pledge", expect="请选择承诺类型")
    await member.send_other("photo", expect="请选择承诺类型")
    assert member.seen("请点击下面的按钮选择") == 1


# ---- no dialog open --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["photo", "file", "sticker", "location"])
@pytest.mark.parametrize("name", ["王建国", "沈宝方", "张桂英", "刘晓燕"])
async def test_a_message_nothing_needs_is_answered(world: World, name: str, kind: str) -> None:
    person = await world.join(name)
    answer = await person.send_other(kind, expect="没有被保存")
    assert "/progress" in answer.content and "/help" in answer.content


async def test_in_english_too(world: World) -> None:
    person = await world.join("王建国", language_code="en")
    await person.send_other("sticker", expect="it was not kept")


# ---- a board group ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", ["/pledge", "/review", "/start", "/broadcast", "/evaluate", "/cancel", "/suggest"]
)
async def test_a_command_in_the_board_group_points_to_the_private_chat(
    world: World, command: str
) -> None:
    secretary = await world.join("沈宝方")
    member = await world.join("王建国")
    world.group(BOARD_HS, "黄思村公示栏", [secretary, member])
    await secretary.send("/linkboard", expect="公示栏", chat_id=BOARD_HS)
    answer = await member.send(command, expect="请在与我的私聊中使用", chat_id=BOARD_HS)
    assert answer.content.startswith(command)


async def test_a_command_for_another_bot_is_left_alone(world: World) -> None:
    secretary = await world.join("沈宝方", language_code="en")
    world.group(BOARD_HS, "黄思村公示栏", [secretary])
    await secretary.send("/linkboard", chat_id=BOARD_HS)
    world.sim.send_text(secretary.user_id, "/pledge@another_bot", chat_id=BOARD_HS)
    # Updates are handled in order: once /review is answered, /pledge@another_bot was seen.
    await secretary.send("/review@jiannuo_bot", expect="private chat", chat_id=BOARD_HS)
    assert secretary.seen("/pledge", chat_id=BOARD_HS) == 0
