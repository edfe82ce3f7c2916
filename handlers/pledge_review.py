"""审诺 in chat: /review lists the queue; approve / return buttons; a return asks a comment."""

from __future__ import annotations

from datetime import timedelta

from bot.chat import features
from bot.chat.comment import CommentThenDecide, comment_then_decide
from bot.chat.events import Command, Pressed, Text
from bot.chat.router import Router, Turn
from bot.domain.errors import DomainError
from bot.domain.render import describe_changes, pledge_card
from bot.domain.review import review_buttons
from bot.i18n import t

QUEUE_PAGE = 10

router = Router()


@router.command("review")
async def show_queue(ev: Command, turn: Turn) -> None:
    """/review: each waiting pledge as a card with its buttons."""
    loc = turn.locale
    queue = await turn.svc.reviews.queue(ev.person)
    if not queue:
        await turn.out.reply(t(loc, "review.queue.empty"))
        return
    await turn.out.reply(t(loc, "review.queue.title", count=len(queue)))
    for entry in queue[:QUEUE_PAGE]:
        pledge = entry.pledge
        text = pledge_card(loc, pledge, entry.pledger_name, entry.org_name, show_cadre_gaps=True)
        snapshot = pledge.submitted_snapshot or {}
        changes = describe_changes(loc, snapshot.get("previous"), pledge.items_snapshot())
        if changes:
            text += "\n\n" + changes
        await turn.out.reply(text, review_buttons(loc, pledge))
    if len(queue) > QUEUE_PAGE:
        await turn.out.reply(t(loc, "review.queue.more", count=len(queue) - QUEUE_PAGE))


def _target(args: tuple[str, ...]) -> tuple[int, int]:
    """The pledge and the version a button was shown for."""
    try:
        return int(args[0]), int(args[1])
    except (ValueError, IndexError):  # malformed or tampered
        raise DomainError("error.stale_button") from None


@router.action(features.REVIEW, "ok")
async def approve(ev: Pressed, turn: Turn) -> None:
    """The approve button."""
    assert ev.action is not None
    loc = turn.locale
    decision = await turn.svc.reviews.approve(ev.person, *_target(ev.action.args))
    turn.svc.outbox.wake()
    await turn.out.notice(t(loc, "review.done.approved_short"))
    number = decision.pledge.number or ""
    await turn.out.edit(t(loc, "review.done.approved", name=decision.pledger_name, number=number))


async def _ask(ev: Pressed, turn: Turn, args: tuple[str, ...]) -> str:
    """The return button: check it still applies, then ask why."""
    pledge = await turn.svc.reviews.check_decidable(ev.person, *_target(args))
    return t(turn.locale, "review.ask_comment", number=pledge.id)


async def _return(ev: Text, turn: Turn, args: tuple[str, ...], comment: str) -> str:
    """The reason: return the pledge with it."""
    pid, version = _target(args)
    decision = await turn.svc.reviews.return_for_revision(ev.person, pid, version, comment)
    turn.svc.outbox.wake()
    return t(turn.locale, "review.done.returned", name=decision.pledger_name)


# Registered before the draft's dialog: a secretary drafting their own pledge who returns a
# member's writes the comment first, then the draft goes on.
comment_then_decide(
    router,
    name="review_comment",
    feature=features.REVIEW,
    action="ret",
    resume="review",
    ttl=timedelta(minutes=30),
    flow=CommentThenDecide(
        _ask,
        _return,
        cancelled="review.cancelled",
        asks_again=lambda exc: exc.key.startswith("review.comment."),
    ),
)
