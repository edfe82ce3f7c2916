"""Joining by invite, the admin bootstrap, /help and the command menus per role, /lang."""

from __future__ import annotations

import gc
import re
import unicodedata

from bot.domain.enums import Role
from bot.i18n import t
from bot.menu import commands_for
from tests.e2e.flows import expire_invite, person_of
from tests.e2e.harness import ADMIN_ID, Human, World


def help_commands(text: str) -> list[str]:
    """The commands a /help answer lists, in order."""
    return re.findall(r"(?<!\S)/([a-z]+)", text)


def screen_rows(text: str, width: int = 36) -> int:
    """How many rows ``text`` takes on a phone about 18 Chinese characters (36 columns) wide."""
    rows = 0
    for line in text.splitlines():
        used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
        rows += max(1, -(-used // width))
    return rows


def menu(role: Role | None, locale: str) -> list[tuple[str, str]]:
    """The command menu a role should see, in a language."""
    return [(c, t(locale, f"cmd.{c}")) for c in commands_for(role)]


async def test_invite_binds_and_greets_by_name_and_role(world: World) -> None:
    member = await world.join("王建国")
    greeting = member.last().content
    assert "王建国同志" in greeting
    assert "「党员」" in greeting and "「黄思村党总支」" in greeting
    person = await person_of(world, member)
    assert person.role is Role.MEMBER and person.locale == "zh_CN"

    secretary = await world.join("吴静")
    assert "「支部书记」" in secretary.last().content
    assert "「东园社区党支部」" in secretary.last().content

    # The same link again from the same account: greeted again, nothing breaks.
    await member.send(f"/start {world.invites['王建国']}", expect="王建国同志")


async def test_used_unknown_and_expired_codes_get_clear_answers(world: World) -> None:
    await world.join("王建国")
    stranger = world.human("某人")
    await stranger.send(f"/start {world.invites['王建国']}", expect="这个邀请链接已经使用过了")
    await stranger.send("/start NOT-A-REAL-CODE", expect="邀请码无效")

    await expire_invite(world, world.invites["杨友林"])
    await stranger.send(f"/start {world.invites['杨友林']}", expect="这个邀请链接已过期")

    async with world.db.uow() as uow:
        assert await uow.people.by_tg(stranger.user_id) is None
        invite = await uow.invites.get(world.invites["杨友林"])
    assert invite is not None and invite.used_at is None

    # An account bound to one person cannot take another person's invite.
    member = world.people["王建国"]
    await member.send(f"/start {world.invites['沈红梅']}", expect="已绑定为「王建国」")
    assert (await person_of(world, member)).name == "王建国"


async def test_start_without_code_asks_for_the_invite(world: World) -> None:
    stranger = world.human("路人")
    await stranger.send("/start", expect="请点击支部发给您的专属邀请链接")
    answer = await stranger.send("/help", expect="您可以使用以下命令")
    assert help_commands(answer.content) == list(commands_for(None))
    assert "邀请链接" in answer.content
    await stranger.send("/pledge", expect="您还没有绑定账号")
    # The language follows the Telegram client until the person is bound.
    assert "lang" not in help_commands(answer.content)
    await stranger.send("/lang", expect="您还没有绑定账号")
    await stranger.send("/cancel", expect="现在没有正在进行的操作")


async def test_admin_id_becomes_committee_staff(world: World) -> None:
    world.sim.add_user(ADMIN_ID, "区委管理员", language_code="zh-hans")
    admin = Human(world, ADMIN_ID, "区委管理员")
    greeting = await admin.send("/start", expect="区委管理员同志")
    assert "「党委工作人员」" in greeting.content and "新华镇党委" in greeting.content
    person = await person_of(world, admin)
    assert person.role is Role.COMMITTEE and person.is_admin
    assert world.sim.commands("chat", chat_id=ADMIN_ID) == menu(Role.COMMITTEE, "zh_CN")


async def test_help_lists_exactly_each_roles_commands(world: World) -> None:
    cases = {
        "王建国": Role.MEMBER,
        "沈宝方": Role.SECRETARY,
        "张桂英": Role.RESIDENT,
        "刘晓燕": Role.COMMITTEE,
        "陈国平": Role.LEADER,
    }
    for name, role in cases.items():
        person = await world.join(name)
        answer = await person.send("/help", expect="您可以使用以下命令")
        assert help_commands(answer.content) == list(commands_for(role)), name
        assert world.sim.commands("chat", chat_id=person.user_id) == menu(role, "zh_CN"), name
    stranger = world.human("路人")
    answer = await stranger.send("/help", expect="您可以使用以下命令")
    assert help_commands(answer.content) == list(commands_for(None))


async def test_help_fits_one_phone_screen_grouped_by_purpose(world: World) -> None:
    """25 commands for a secretary: grouped by what they are for, short lines, at most 20 rows
    on a phone in either language; the menu lists the same commands in the same order."""
    cases = {"沈宝方": Role.SECRETARY, "刘晓燕": Role.COMMITTEE, "张桂英": Role.RESIDENT}
    assert len(commands_for(Role.SECRETARY)) == 25
    for name, role in cases.items():
        person = await world.join(name)
        for locale, title in (("zh_CN", "您可以使用以下命令"), ("en", "You can use")):
            if locale == "en":
                await person.send("/lang", expect="请选择语言")
                await person.tap("English", expect="Switched to English")
            answer = await person.send("/help", expect=title)
            assert help_commands(answer.content) == list(commands_for(role)), name
            assert world.sim.commands("chat", chat_id=person.user_id) == menu(role, locale)
            assert screen_rows(answer.content) <= 20, answer.content
            assert screen_rows(answer.content) == len(answer.content.splitlines())
            if role is Role.SECRETARY and locale == "zh_CN":
                headings = [line[:2] for line in answer.content.splitlines()[1:]]
                groups = [h for h in headings if h.strip("\u3000")]
                assert groups == ["承诺", "审核", "践诺", "通知", "评议", "统计", "其他"]
                assert "承诺　/pledge 填写　/mypledges 我的" in answer.content


async def test_default_menus_in_chinese_and_english(world: World) -> None:
    zh = world.sim.commands("all_private_chats", language_code="")
    en = world.sim.commands("all_private_chats", language_code="en")
    assert zh == menu(None, "zh_CN")
    assert en == menu(None, "en")
    assert zh != en


async def test_english_client_is_answered_in_english(world: World) -> None:
    member = await world.join("孙立新", language_code="en")
    assert "Hello, 孙立新" in member.last().content
    assert world.sim.commands("chat", chat_id=member.user_id) == menu(Role.MEMBER, "en")


async def test_lang_switches_replies_and_menu(world: World) -> None:
    member = await world.join("王建国")
    assert world.sim.commands("chat", chat_id=member.user_id) == menu(Role.MEMBER, "zh_CN")
    await member.send("/lang", expect="请选择语言")
    await member.tap("English", expect="Switched to English")
    assert (await person_of(world, member)).locale == "en"
    assert world.sim.commands("chat", chat_id=member.user_id) == menu(Role.MEMBER, "en")

    answer = await member.send("/help", expect="You can use these commands")
    assert help_commands(answer.content) == list(commands_for(Role.MEMBER))
    await member.send("/pledge", expect="choose the type of pledge")
    await member.send("/cancel", expect="Everything you entered is saved")
    await member.send("hello?", expect="I did not understand")

    # And back again.
    await member.send("/lang", expect="Choose a language")
    await member.tap("中文", expect="已切换为中文")
    assert world.sim.commands("chat", chat_id=member.user_id) == menu(Role.MEMBER, "zh_CN")
    await member.send("/help", expect="您可以使用以下命令")


async def test_the_running_bot_freezes_its_start_up_heap_and_stop_thaws_it(world: World) -> None:
    """bot/runtime.py: the collector is tuned while the bot runs and put back at shutdown (so
    whatever runs next in the process, another bot in a test or a benchmark's baseline, gets
    the interpreter as it was)."""
    app = world.runner.app
    assert app is not None and app.bot_data.gc_state is not None
    assert gc.get_freeze_count() > 0
    thresholds = app.bot_data.gc_state.thresholds
    await world.runner.stop()
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == thresholds
    await world.runner.start()
    member = await world.join("王建国")
    assert "王建国同志" in member.last().content
