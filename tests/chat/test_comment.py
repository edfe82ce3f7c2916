"""Ask for a comment, then decide (bot/chat/comment.py), as a reviewer lives it: a button asks
why, the next words decide; a comment refused as a comment is asked again, a decision that no
longer applies ends the dialog, /cancel decides nothing, and the question survives a restart
(the button's arguments are in the dialog's data)."""

from __future__ import annotations

from datetime import timedelta

from bot.chat.comment import COMMENT, CommentThenDecide, comment_then_decide
from bot.chat.events import Pressed, Text
from bot.chat.router import Router, Turn
from bot.domain.errors import DomainError
from bot.i18n import t
from tests.chat.test_router import command, pressed, state, text, turn_of

decided: list[tuple[tuple[str, ...], str]] = []


async def ask(ev: Pressed, turn: Turn, target: tuple[str, ...]) -> str:
    if target == ("9", "1"):
        raise DomainError("error.stale_button")  # decided by someone else meanwhile
    return f"请写下退回 {target[0]} 号承诺的理由"


async def decide(ev: Text, turn: Turn, target: tuple[str, ...], comment: str) -> str:
    if not comment.strip("。 "):
        raise DomainError("review.comment.empty")
    if target[0] == "8":
        raise DomainError("error.stale_button")
    decided.append((target, comment))
    return f"已退回 {target[0]} 号承诺"


def reviewing() -> Router:
    decided.clear()
    router = Router()
    comment_then_decide(
        router,
        name="review_comment",
        feature="rv",
        action="ret",
        resume="review",
        ttl=timedelta(minutes=30),
        flow=CommentThenDecide(
            ask,
            decide,
            cancelled="review.cancelled",
            asks_again=lambda exc: exc.key.startswith("review.comment."),
        ),
    )
    return router


async def test_the_button_asks_and_the_next_words_decide() -> None:
    router = reviewing()
    turn, said, staged = turn_of()
    assert await router.dispatch(pressed("rv", "ret", 5, 2), turn)
    assert said.lines == ["请写下退回 5 号承诺的理由"]
    (opened,) = staged.writes.values()
    assert opened.state is not None and opened.state.data == {"target": ["5", "2"]}

    # Read again from the database (a restart in between): the question is still open.
    turn, said, staged = turn_of(state("review_comment", COMMENT, target=["5", "2"]))
    assert await router.dispatch(text("目标请写具体"), turn)
    assert said.lines == ["已退回 5 号承诺"]
    assert decided == [(("5", "2"), "目标请写具体")]
    assert [w.state for w in staged.writes.values()] == [None]


async def test_a_comment_refused_as_a_comment_is_asked_again() -> None:
    turn, said, staged = turn_of(state("review_comment", COMMENT, target=["5", "2"]))
    assert await reviewing().dispatch(text("。"), turn)
    assert said.lines == [t("zh_CN", "review.comment.empty")]
    assert staged.writes == {} and decided == []


async def test_a_decision_that_no_longer_applies_ends_the_dialog() -> None:
    turn, said, staged = turn_of(state("review_comment", COMMENT, target=["8", "2"]))
    assert await reviewing().dispatch(text("目标请写具体"), turn)
    assert said.lines == [t("zh_CN", "error.stale_button")]
    assert [w.state for w in staged.writes.values()] == [None]


async def test_a_button_whose_decision_is_gone_opens_nothing() -> None:
    turn, said, staged = turn_of()
    assert await reviewing().dispatch(pressed("rv", "ret", 9, 1), turn)
    assert said.notices == [(t("zh_CN", "error.stale_button"), True)]
    assert staged.writes == {}


async def test_cancel_decides_nothing() -> None:
    turn, said, staged = turn_of(state("review_comment", COMMENT, target=["5", "2"]))
    assert await reviewing().dispatch(command("cancel"), turn)
    assert said.lines == [t("zh_CN", "review.cancelled")]
    assert decided == [] and [w.state for w in staged.writes.values()] == [None]


async def test_other_buttons_of_the_feature_go_to_their_own_handlers() -> None:
    router = reviewing()
    approved: list[tuple[str, ...]] = []

    @router.action("rv", "ok")
    async def approve(ev: Pressed, turn: Turn) -> None:
        assert ev.action is not None
        approved.append(ev.action.args)

    turn, said, _ = turn_of()
    assert await router.dispatch(pressed("rv", "ok", 5, 2), turn)
    assert approved == [("5", "2")] and said.lines == []


async def test_approving_instead_ends_the_question_without_a_word() -> None:
    router = reviewing()

    @router.action("rv", "ok")
    async def approve(ev: Pressed, turn: Turn) -> None:
        await turn.out.edit("已通过")

    turn, said, staged = turn_of(state("review_comment", COMMENT, target=["5", "2"]))
    await router.before(pressed("rv", "ok", 5, 2), turn)
    assert await router.dispatch(pressed("rv", "ok", 5, 2), turn)
    assert said.lines == ["已通过"]
    assert [w.state for w in staged.writes.values()] == [None]


async def test_asking_again_for_another_pledge_moves_the_question() -> None:
    router = reviewing()
    turn, said, staged = turn_of(state("review_comment", COMMENT, target=["5", "2"]))
    await router.before(pressed("rv", "ret", 6, 1), turn)
    assert await router.dispatch(pressed("rv", "ret", 6, 1), turn)
    assert said.lines == ["请写下退回 6 号承诺的理由"]
    (moved,) = staged.writes.values()
    assert moved.state is not None and moved.state.data == {"target": ["6", "1"]}
    assert moved.read_version == 3  # an update of the stored question, not a second one
