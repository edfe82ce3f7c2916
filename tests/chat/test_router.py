"""The router (bot/chat/router.py): which handler takes an event, and what every dialog keeps:
/cancel anywhere, a command mid-dialog says what became of the dialog, expiry is told, a
message a step cannot use gets an answer, a refused step leaves the dialog where it was."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from bot.chat.actions import Button, action
from bot.chat.actor import Actor
from bot.chat.dialogs import Dialogs, DialogState, Staged
from bot.chat.events import Command, Event, FileKind, FileSent, Other, Pressed, Text
from bot.chat.router import Router, Turn
from bot.domain.enums import Role
from bot.domain.errors import DomainError
from bot.i18n import t

NOW = datetime(2026, 11, 22, 8, tzinfo=UTC)
ME = Actor(person_id=7, name="王建国", org_id=1, role=Role.MEMBER, locale="zh_CN")
BASE: dict[str, Any] = {
    "channel": "test",
    "account": "700",
    "conversation": "700",
    "private": True,
    "update_key": "1",
    "actor": ME,
}


class Said:
    """A reply port that writes down what the person was told."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.notices: list[tuple[str | None, bool]] = []

    async def reply(self, text: str, buttons: Any = None) -> None:
        self.lines.append(text)

    async def edit(self, text: str, buttons: Any = None) -> None:
        self.lines.append(text)

    async def notice(self, text: str | None = None, *, alert: bool = False) -> None:
        self.notices.append((text, alert))

    async def send_file(self, name: str, data: bytes, **_: Any) -> None:
        self.lines.append(f"file {name}")

    async def ask_contact(self, text: str, label: str, placeholder: str | None = None) -> None:
        self.lines.append(text)

    async def show_commands(self, role: Role | None, locale: str) -> None:
        pass


def turn_of(*open_: DialogState, actor: Actor | None = ME) -> tuple[Turn, Said, Staged]:
    said, staged = Said(), Staged(None)
    dialogs = Dialogs(ME.person_id, list(open_), staged, NOW) if actor else None
    return Turn(cast(Any, None), said, dialogs, NOW, "zh_CN"), said, staged


def state(
    name: str, step: str, expires: timedelta = timedelta(hours=1), **data: Any
) -> DialogState:
    return DialogState(ME.person_id, name, step, data, 3, NOW + expires)


def command(name: str, *, actor: Actor | None = ME) -> Command:
    return Command(**{**BASE, "actor": actor}, name=name)


def text(words: str) -> Text:
    return Text(**BASE, text=words)


def pressed(feature: str, name: str, *args: object) -> Pressed:
    return Pressed(**BASE, action=action(feature, name, *args))


def comment_router() -> Router:
    """A return comment: asks for words, then a decision by button."""
    router = Router()
    spec = router.dialog(
        "review_comment", resume="review", ttl=timedelta(hours=1), features=frozenset({"rv"})
    )

    @router.command("review")
    async def review(ev: Event, turn: Turn) -> None:
        turn.dialog(spec).go("text")
        await turn.out.reply("退回的理由？")

    @spec.on(Text, step="text")
    async def comment(ev: Text, turn: Turn) -> None:
        if len(ev.text) < 2:
            raise DomainError("review.comment.empty")
        turn.dialog(spec).go("confirm", text=ev.text)
        await turn.out.reply("确认退回？", [[Button("退回", action("rv", "ret"))]])

    @router.action("rv")
    async def decide(ev: Pressed, turn: Turn) -> None:
        conversation = turn.dialog(spec)
        await turn.out.edit(f"已退回：{conversation.data['text']}")
        conversation.end()

    @spec.cancel
    async def cancel(ev: Event, turn: Turn) -> None:
        await turn.out.reply("已退出，承诺没有退回")

    @router.command("help", private=False, unbound=True)
    async def show_help(ev: Event, turn: Turn) -> None:
        await turn.out.reply("帮助")

    return router


async def test_a_command_goes_to_its_handler_and_opens_the_dialog() -> None:
    turn, said, staged = turn_of()
    assert await comment_router().dispatch(command("review"), turn)
    assert said.lines == ["退回的理由？"]
    (write,) = staged.writes.values()
    assert write.state is not None and write.state.step == "text" and write.read_version == 0


async def test_what_no_route_takes_is_left_for_others() -> None:
    turn, said, _ = turn_of()
    router = comment_router()
    assert not await router.dispatch(command("progress"), turn)
    assert not await router.dispatch(text("你好"), turn)  # no dialog open
    assert not await router.dispatch(pressed("pd", "sub", 1, 2), turn)
    assert not await router.dispatch(Pressed(**BASE, action=None), turn)  # undecodable
    assert said.lines == []


async def test_words_go_to_the_open_step_and_a_button_finishes() -> None:
    turn, said, staged = turn_of(state("review_comment", "text"))
    router = comment_router()
    assert await router.dispatch(text("目标请写具体"), turn)
    assert turn.dialogs is not None
    waiting = turn.dialogs.get("review_comment")
    assert waiting is not None
    assert (waiting.step, waiting.data) == ("confirm", {"text": "目标请写具体"})
    assert await router.dispatch(pressed("rv", "ret"), turn)
    assert said.lines[-1] == "已退回：目标请写具体"
    assert said.notices == [(None, False)]  # the press is acknowledged
    (write,) = staged.writes.values()
    assert write.state is None and write.read_version == 3


async def test_a_refused_step_stays_where_it_was_and_is_told() -> None:
    turn, said, staged = turn_of(state("review_comment", "text"))
    assert await comment_router().dispatch(text("x"), turn)
    assert said.lines == [t("zh_CN", "review.comment.empty")]
    assert staged.writes == {}
    assert turn.dialogs is not None and turn.dialogs.get("review_comment") is not None
    assert turn.dialogs.get("review_comment").step == "text"  # type: ignore[union-attr]


async def test_a_refused_press_is_a_notice() -> None:
    router = Router()

    @router.action("lg")
    async def refuse(ev: Pressed, turn: Turn) -> None:
        raise DomainError("error.stale_button")

    turn, said, _ = turn_of()
    assert await router.dispatch(pressed("lg", "set", "xx"), turn)
    assert said.notices == [(t("zh_CN", "error.stale_button"), True)] and said.lines == []


async def test_cancel_ends_the_open_dialog_with_its_own_words() -> None:
    turn, said, staged = turn_of(state("review_comment", "confirm", text="a"))
    assert await comment_router().dispatch(command("cancel"), turn)
    assert said.lines == ["已退出，承诺没有退回"]
    assert [w.state for w in staged.writes.values()] == [None]


async def test_cancel_with_nothing_open_is_left_for_the_fallback() -> None:
    turn, _, _ = turn_of()
    assert not await comment_router().dispatch(command("cancel"), turn)


async def test_a_command_mid_dialog_says_what_became_of_it_then_is_answered() -> None:
    turn, said, staged = turn_of(state("review_comment", "text"))
    router = comment_router()
    await router.before(command("help"), turn)
    assert await router.dispatch(command("help"), turn)
    assert said.lines == [t("zh_CN", "dialog.left.review_comment"), "帮助"]
    assert [w.state for w in staged.writes.values()] == [None]


async def test_its_own_way_back_in_and_its_own_buttons_leave_nothing() -> None:
    router = comment_router()
    for event in (command("review"), pressed("rv", "ret")):
        turn, said, staged = turn_of(state("review_comment", "confirm", text="a"))
        await router.before(event, turn)
        assert said.lines == [] and staged.writes == {}


async def test_a_dialog_that_stays_open_waits_under_other_commands() -> None:
    router = Router()
    router.dialog("pledge_draft", resume="pledge", ttl=timedelta(hours=1), stays_open=True)
    turn, said, staged = turn_of(state("pledge_draft", "drafting", pledge_id=3))
    await router.before(command("mypledges"), turn)
    assert said.lines == [] and staged.writes == {}


async def test_an_expired_dialog_is_ended_and_the_person_is_told() -> None:
    turn, said, staged = turn_of(state("review_comment", "text", expires=-timedelta(seconds=1)))
    router = comment_router()
    await router.before(text("目标请写具体"), turn)
    assert said.lines == [t("zh_CN", "dialog.expired")]
    assert not await router.dispatch(text("目标请写具体"), turn)  # no dialog takes it now
    assert [w.state for w in staged.writes.values()] == [None]


async def test_a_message_the_step_cannot_use_is_answered_with_what_it_needs() -> None:
    router = comment_router()
    sticker = Other(**BASE, kind="sticker")
    photo = FileSent(**BASE, kind=FileKind.PHOTO, file_ref="f")
    turn, said, _ = turn_of(state("review_comment", "text"))
    assert await router.dispatch(sticker, turn)
    assert said.lines == [t("zh_CN", "dialog.wants_words")]
    turn, said, _ = turn_of(state("review_comment", "confirm", text="a"))
    assert await router.dispatch(photo, turn)
    assert said.lines == [t("zh_CN", "dialog.wants_button")]


async def test_an_account_bound_to_nobody_reaches_only_what_is_open_to_all() -> None:
    router = comment_router()
    turn, said, _ = turn_of(actor=None)
    assert await router.dispatch(command("help", actor=None), turn)
    assert await router.dispatch(command("review", actor=None), turn)
    assert said.lines == ["帮助", t("zh_CN", "auth.not_registered")]


async def test_a_private_command_in_a_group_is_left_for_the_group_hint() -> None:
    router = comment_router()
    turn, _, _ = turn_of()
    in_group = Command(**{**BASE, "private": False}, name="review")
    assert not await router.dispatch(in_group, turn)
    assert await router.dispatch(Command(**{**BASE, "private": False}, name="help"), turn)


async def test_nothing_is_said_before_the_step_it_tells_of_is_stored() -> None:
    turn, said, staged = turn_of(state("review_comment", "text"))
    order: list[str] = []

    async def save() -> None:
        order.append(f"stored {len(staged.take())}")

    turn.save = save
    assert await comment_router().dispatch(text("目标请写具体"), turn)
    order.extend(said.lines)
    assert order == ["stored 1", "确认退回？"]
    assert turn.out is said  # the port is the adapter's again after the handler


async def test_a_dialog_left_stays_left_when_the_command_is_refused() -> None:
    router = comment_router()

    @router.command("stats")
    async def refuse(ev: Event, turn: Turn) -> None:
        raise DomainError("error.stale_button")

    turn, said, staged = turn_of(state("review_comment", "text"))
    await router.before(command("stats"), turn)
    assert await router.dispatch(command("stats"), turn)
    assert said.lines == [
        t("zh_CN", "dialog.left.review_comment"),
        t("zh_CN", "error.stale_button"),
    ]
    assert [w.state for w in staged.writes.values()] == [None]  # told it was left: it is
    assert turn.dialogs is not None and turn.dialogs.get("review_comment") is None
