"""Ask for a comment, then decide: the dialog four features share (a return for revision, a
verifier's or an acceptor's send-back, a leader's review comment).

A button asks for the comment (after checking that the decision still applies); the next
words are the comment, and one service call decides with it. Another button of the feature
(approving instead) ends the question without a word. A comment the service refuses
as a comment (empty, too long) is asked again; any other refusal ends the dialog (the
decision no longer applies). /cancel decides nothing. The button's arguments (what is being
decided, with the version it was shown at) are kept in the dialog's data, so a restart or
another worker takes the comment.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.chat.events import Event, Pressed, Text
from bot.chat.router import DialogSpec, Router, Turn
from bot.domain.errors import DomainError
from bot.i18n import t

COMMENT = "comment"

Ask = Callable[[Pressed, Turn, tuple[str, ...]], Awaitable[str]]
Decide = Callable[[Text, Turn, tuple[str, ...], str], Awaitable[str]]


@dataclass(frozen=True)
class CommentThenDecide:
    """What differs between the places that ask for a comment, then decide.

    ``ask``: checks the decision still applies and returns the question; ``decide``: makes
    the decision with the comment and returns what to say; ``asks_again``: whether a refusal
    is about the comment itself (the question stays open); ``cancelled``: the catalog key
    said on /cancel.
    """

    ask: Ask
    decide: Decide
    cancelled: str
    asks_again: Callable[[DomainError], bool] = lambda exc: False


def comment_then_decide(
    router: Router,
    *,
    name: str,
    feature: str,
    action: str,
    resume: str,
    ttl: timedelta,
    flow: CommentThenDecide,
) -> DialogSpec:
    """Register the dialog: ``feature:action`` buttons ask, the next words decide."""
    # Any button of the feature ends the question without a word: the decision was made
    # another way (approved instead), or the asking button opens it again for its pledge.
    spec = router.dialog(name, resume=resume, ttl=ttl, finishing=frozenset({feature}))

    @router.action(feature, action)
    async def asked(ev: Pressed, turn: Turn) -> None:
        assert ev.action is not None
        question = await flow.ask(ev, turn, ev.action.args)
        turn.dialog(spec).go(COMMENT, target=list(ev.action.args))
        await turn.out.notice()
        await turn.out.reply(question)

    @spec.on(Text, step=COMMENT)
    async def commented(ev: Text, turn: Turn) -> None:
        conversation = turn.dialog(spec)
        target = tuple(str(a) for a in conversation.data.get("target", ()))
        conversation.end()  # written with the decision
        try:
            done = await flow.decide(ev, turn, target, ev.text)
        except DomainError as exc:
            if flow.asks_again(exc):
                raise  # the dialog stays where it was: the question is still open
            await turn.out.reply(exc.render(turn.locale))  # it no longer applies: ended
            return
        await turn.out.reply(done)

    @spec.cancel
    async def cancel(ev: Event, turn: Turn) -> None:
        await turn.out.reply(t(turn.locale, flow.cancelled))

    return spec
