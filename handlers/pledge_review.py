"""审诺 in chat: /review lists the queue; approve / return buttons; a return asks a comment."""

from __future__ import annotations

from enum import StrEnum

from telegram import Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.chat import features
from bot.context import Ctx
from bot.domain.errors import DomainError
from bot.domain.render import describe_changes, pledge_card
from bot.domain.review import review_buttons
from bot.i18n import t
from handlers.common import answer_callback, guarded, locale_of, pressed, reply, text_of, user_id
from handlers.dialog import dialog

QUEUE_PAGE = 10
COMMENT_TIMEOUT_SECONDS = 1800


class ReviewState(StrEnum):
    """Waiting for the reason of a return."""

    COMMENT = "comment"


@guarded
async def show_queue(update: Update, ctx: Ctx) -> None:
    """/review: each waiting pledge as a card with its buttons."""
    loc = await locale_of(update, ctx)
    queue = await ctx.svc.reviews.queue(user_id(update))
    if not queue:
        await reply(update, t(loc, "review.queue.empty"))
        return
    await reply(update, t(loc, "review.queue.title", count=len(queue)))
    for entry in queue[:QUEUE_PAGE]:
        pledge = entry.pledge
        text = pledge_card(loc, pledge, entry.pledger_name, entry.org_name, show_cadre_gaps=True)
        snapshot = pledge.submitted_snapshot or {}
        changes = describe_changes(loc, snapshot.get("previous"), pledge.items_snapshot())
        if changes:
            text += "\n\n" + changes
        await reply(update, text, review_buttons(loc, pledge))
    if len(queue) > QUEUE_PAGE:
        await reply(update, t(loc, "review.queue.more", count=len(queue) - QUEUE_PAGE))


def _target(update: Update) -> tuple[int, int] | None:
    data = pressed(update)
    try:
        return (data.int_arg(0), data.int_arg(1)) if data else None
    except (ValueError, IndexError):
        return None


@guarded
async def approve(update: Update, ctx: Ctx) -> None:
    """The approve button."""
    loc = await locale_of(update, ctx)
    target = _target(update)
    if target is None:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return
    decision = await ctx.svc.reviews.approve(user_id(update), *target)
    ctx.svc.outbox.wake()
    await answer_callback(update, t(loc, "review.done.approved_short"))
    await reply(
        update,
        t(
            loc,
            "review.done.approved",
            name=decision.pledger_name,
            number=decision.pledge.number or "",
        ),
        edit=True,
    )


@guarded
async def ask_comment(update: Update, ctx: Ctx) -> ReviewState | int:
    """The return button: check it still applies, then ask why."""
    loc = await locale_of(update, ctx)
    target = _target(update)
    if target is None:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return ConversationHandler.END
    pledge = await ctx.svc.reviews.check_decidable(user_id(update), *target)
    ctx.user_data["returning"] = list(target)  # type: ignore[index]
    await answer_callback(update)
    await reply(update, t(loc, "review.ask_comment", number=pledge.id))
    return ReviewState.COMMENT


async def receive_comment(update: Update, ctx: Ctx) -> int:
    """The reason: return the pledge with it.

    The comment conversation runs in a group before the features, so the text it takes must
    go no further (a secretary may be drafting their own pledge at the same time).
    """
    loc = await locale_of(update, ctx)
    user_data = ctx.user_data if ctx.user_data is not None else {}
    target = user_data.get("returning")
    if not target:
        await reply(update, t(loc, "error.stale_button"))
        raise ApplicationHandlerStop(ConversationHandler.END)
    try:
        decision = await ctx.svc.reviews.return_for_revision(
            user_id(update), int(target[0]), int(target[1]), text_of(update)
        )
    except DomainError as exc:
        await reply(update, exc.render(loc))
        if exc.key.startswith("review.comment."):
            raise ApplicationHandlerStop(ReviewState.COMMENT) from None  # still waiting
        user_data.pop("returning", None)
        raise ApplicationHandlerStop(ConversationHandler.END) from None
    user_data.pop("returning", None)
    ctx.svc.outbox.wake()
    await reply(update, t(loc, "review.done.returned", name=decision.pledger_name))
    raise ApplicationHandlerStop(ConversationHandler.END)


async def cancel(update: Update, ctx: Ctx) -> int:
    """/cancel while asked for a comment: nothing is decided."""
    if ctx.user_data is not None:
        ctx.user_data.pop("returning", None)
    await reply(update, t(await locale_of(update, ctx), "review.cancelled"))
    raise ApplicationHandlerStop(ConversationHandler.END)


def _forget(ctx: Ctx) -> None:
    """The comment is no longer awaited."""
    if ctx.user_data is not None:
        ctx.user_data.pop("returning", None)


def build() -> list[BaseHandler[Update, Ctx, object]]:
    """The review handlers among the features: /review and the approve button."""
    return [
        CommandHandler("review", show_queue, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(approve, pattern=rf"^{features.REVIEW}:ok:"),
    ]


def build_comment() -> list[BaseHandler[Update, Ctx, object]]:
    """The return button and its comment: a dialog in its own group before the features.

    Only while it waits for a comment does it take text (handlers/dialog.py).
    """
    return [
        dialog(
            name="review_comment",
            entry_points=[CallbackQueryHandler(ask_comment, pattern=rf"^{features.REVIEW}:ret:")],
            states={
                ReviewState.COMMENT: [
                    MessageHandler(filters.TEXT & ~filters.COMMAND, receive_comment)
                ]
            },
            cancel=cancel,
            forget=_forget,
            resume="review",
            timeout=COMMENT_TIMEOUT_SECONDS,
        )
    ]
