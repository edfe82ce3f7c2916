"""整改 in chat: /rectify, writing a plan (goals → measures → deadline → preview → submit),
accepting it or sending it back with a comment.

The plan and the send-back comment are one conversation in its own handler group before the
features: only while it waits does it take text, and then nothing after it sees the text; any
other command or button ends the wait and goes on. The draft lives in user_data, which the
database persistence keeps across restarts; nothing is written to the rectification until
the plan is submitted.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import date
from enum import StrEnum
from typing import Any, NoReturn

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

from bot.channels.telegram.callbacks import actions_pattern
from bot.chat.actions import Button, action
from bot.context import Ctx
from bot.domain.dates import format_date
from bot.domain.errors import DomainError
from bot.domain.rectification import (
    FEATURE,
    RectView,
    decision_buttons,
    plan_button,
    plan_text,
)
from bot.domain.rectification_models import Rectification, RectificationStatus
from bot.i18n import t
from handlers.common import actor_of, answer_callback, guarded, locale_of, pressed, reply, text_of
from handlers.dialog import dialog

TIMEOUT_SECONDS = 1800
LIST_LIMIT = 30  # lines in the /rectify summary
CARD_LIMIT = 10  # cards with buttons after it

DRAFT_KEY = "rectify_draft"
RETURN_KEY = "rectify_returning"


class RectifyState(StrEnum):
    """What the conversation waits for (stored by the persistence as strings)."""

    GOALS = "goals"
    MEASURES = "measures"
    DEADLINE = "deadline"
    PREVIEW = "preview"
    COMMENT = "comment"  # an acceptor's reason for sending a plan back


def _data(ctx: Ctx) -> dict[Any, Any]:
    return ctx.user_data if ctx.user_data is not None else {}


def _args(update: Update, count: int) -> tuple[int, ...] | None:
    """The integer arguments of the tapped button; None if missing or tampered."""
    data = pressed(update)
    try:
        return tuple(data.int_arg(i) for i in range(count)) if data else None
    except (ValueError, IndexError):
        return None


def _stop(state: object) -> NoReturn:
    """Keep the update from going further (it was ours) and set the state."""
    raise ApplicationHandlerStop(state)


def _btn(text: str, name: str, *args: object) -> Button:
    return Button(text, action=action(FEATURE, name, *args))


# ---- /rectify -------------------------------------------------------------------------------


def _line(loc: str, n: int, view: RectView) -> list[str]:
    rect = view.rect
    lines = [
        t(
            loc,
            "rectify.list.line",
            n=n,
            name=view.name,
            round=rect.round,
            status=t(loc, f"rectify.status.{rect.status.value}"),
        )
    ]
    if rect.status in (RectificationStatus.DUE, RectificationStatus.RETURNED):
        lines.append(t(loc, "rectify.list.due_by", date=format_date(view.plan_due, loc)))
    elif rect.deadline is not None:
        lines.append(t(loc, "rectify.list.deadline", date=format_date(rect.deadline, loc)))
    return lines


@guarded
async def show_list(update: Update, ctx: Ctx) -> None:
    """/rectify: the rectifications one must file or accept, or follows, with their state."""
    loc = await locale_of(update, ctx)
    views = await ctx.svc.rectifications.listing(await actor_of(update, ctx))
    if not views:
        await reply(update, t(loc, "rectify.list.empty"))
        return
    lines = [t(loc, "rectify.list.title", count=len(views))]
    for n, view in enumerate(views[:LIST_LIMIT], start=1):
        lines += _line(loc, n, view)
    if len(views) > LIST_LIMIT:
        lines.append(t(loc, "rectify.list.more", count=len(views) - LIST_LIMIT))
    await reply(update, "\n".join(lines))
    actionable = [v for v in views if v.can_file or v.can_decide]
    for view in actionable[:CARD_LIMIT]:
        n = views.index(view) + 1
        if view.can_decide:
            text = plan_text(loc, view.rect, view.name)
            await reply(update, text, decision_buttons(loc, view.rect))
            continue
        lines = [line.strip() for line in _line(loc, n, view)]
        if view.rect.status is RectificationStatus.RETURNED and view.rect.review_comment:
            lines.append(t(loc, "rectify.ask_goals.returned", comment=view.rect.review_comment))
        await reply(update, "\n".join(lines), plan_button(loc, view.rect))


# ---- writing the plan -----------------------------------------------------------------------


# The plan's steps in order: the draft field, its question, the state that waits for it.
STEPS = (
    ("goals", "rectify.ask_goals", RectifyState.GOALS),
    ("measures", "rectify.ask_measures", RectifyState.MEASURES),
    ("deadline", "rectify.ask_deadline", RectifyState.DEADLINE),
)


def _new_draft(view: RectView) -> dict[str, Any]:
    """A fresh draft; a plan that was sent back brings its previous version to keep or edit."""
    draft: dict[str, Any] = {"id": view.rect.id}
    rect = view.rect
    if rect.status is RectificationStatus.RETURNED and rect.goals:
        draft["previous"] = {
            "goals": rect.goals,
            "measures": rect.measures or "",
            "deadline": rect.deadline.isoformat() if rect.deadline else "",
        }
    return draft


async def _ask(update: Update, loc: str, draft: dict[str, Any], field: str, text: str) -> None:
    """A step's question; with the previous version's answer to keep (a button) or to copy,
    edit and send."""
    previous = str((draft.get("previous") or {}).get(field) or "")
    if not previous:
        await reply(update, text)
        return
    shown = format_date(date.fromisoformat(previous), loc) if field == "deadline" else previous
    text += "\n\n" + t(loc, "rectify.previous", value=shown)
    keep = [[_btn(t(loc, "rectify.btn.keep"), "keep", draft["id"], STEP_CODES[field])]]
    await reply(update, text, keep)


STEP_CODES = {"goals": 1, "measures": 2, "deadline": 3}


async def _ask_goals(update: Update, loc: str, view: RectView, draft: dict[str, Any]) -> None:
    lines = [t(loc, "rectify.ask_goals", name=view.name, round=view.rect.round)]
    if view.rect.status is RectificationStatus.RETURNED and view.rect.review_comment:
        lines.insert(0, t(loc, "rectify.ask_goals.returned", comment=view.rect.review_comment))
    await _ask(update, loc, draft, "goals", "\n\n".join(lines))


async def start_plan(update: Update, ctx: Ctx) -> RectifyState | int:
    """The "write the plan" button: may this person file it? Then ask the goals.

    A button is not stopped here: the waits of other features' conversations (later groups)
    see it and end, as any other button ends them.
    """
    loc = await locale_of(update, ctx)
    args = _args(update, 1)
    if args is None:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return ConversationHandler.END
    try:
        view = await ctx.svc.rectifications.begin_plan(await actor_of(update, ctx), args[0])
    except DomainError as exc:
        await answer_callback(update, exc.render(loc), alert=True)
        return ConversationHandler.END
    draft = _data(ctx)[DRAFT_KEY] = _new_draft(view)
    await answer_callback(update)
    await _ask_goals(update, loc, view, draft)
    return RectifyState.GOALS


def _draft(ctx: Ctx) -> dict[str, Any] | None:
    draft = _data(ctx).get(DRAFT_KEY)
    return draft if isinstance(draft, dict) and "id" in draft else None


async def _lost(update: Update, loc: str) -> NoReturn:
    await reply(update, t(loc, "error.stale_button"))
    _stop(ConversationHandler.END)


async def _receive_text(
    update: Update,
    ctx: Ctx,
    field: str,
    check: Callable[[str], str],
    here: RectifyState,
    next_question: str,
    next_state: RectifyState,
) -> NoReturn:
    """One text step of the plan: checked into the draft, then the next question."""
    loc = await locale_of(update, ctx)
    draft = _draft(ctx)
    if draft is None:
        await _lost(update, loc)
    try:
        draft[field] = check(text_of(update))
    except DomainError as exc:
        await reply(update, exc.render(loc))
        _stop(here)
    following = STEPS[STEP_CODES[field]][0]
    await _ask(update, loc, draft, following, t(loc, next_question))
    _stop(next_state)


async def receive_goals(update: Update, ctx: Ctx) -> int:
    """Step 1: the goals."""
    check = ctx.svc.rectifications.check_goals
    await _receive_text(
        update,
        ctx,
        "goals",
        check,
        RectifyState.GOALS,
        "rectify.ask_measures",
        RectifyState.MEASURES,
    )


async def receive_measures(update: Update, ctx: Ctx) -> int:
    """Step 2: the measures."""
    check = ctx.svc.rectifications.check_measures
    await _receive_text(
        update,
        ctx,
        "measures",
        check,
        RectifyState.MEASURES,
        "rectify.ask_deadline",
        RectifyState.DEADLINE,
    )


async def receive_deadline(update: Update, ctx: Ctx) -> int:
    """Step 3: the deadline; then the preview with submit / start over."""
    loc = await locale_of(update, ctx)
    draft = _draft(ctx)
    if draft is None:
        await _lost(update, loc)
    try:
        deadline = ctx.svc.rectifications.check_deadline(text_of(update))
    except DomainError as exc:
        await reply(update, exc.render(loc))
        _stop(RectifyState.DEADLINE)
    await _deadline_chosen(update, ctx, loc, draft, deadline)


async def _deadline_chosen(
    update: Update, ctx: Ctx, loc: str, draft: dict[str, Any], deadline: date
) -> NoReturn:
    draft["deadline"] = deadline.isoformat()
    try:
        await _preview(update, ctx, loc, draft)
    except DomainError as exc:  # decided meanwhile (e.g. filed from another device)
        await reply(update, exc.render(loc))
        _data(ctx).pop(DRAFT_KEY, None)
        _stop(ConversationHandler.END)
    _stop(RectifyState.PREVIEW)


async def _preview(update: Update, ctx: Ctx, loc: str, draft: dict[str, Any]) -> None:
    view = await ctx.svc.rectifications.begin_plan(await actor_of(update, ctx), int(draft["id"]))
    shown = Rectification.model_validate(
        {
            **view.rect.model_dump(),
            "goals": draft.get("goals"),
            "measures": draft.get("measures"),
            "deadline": date.fromisoformat(draft["deadline"]),
        }
    )
    buttons = [
        [
            _btn(t(loc, "rectify.btn.submit"), "sub", view.rect.id),
            _btn(t(loc, "rectify.btn.redo"), "redo", view.rect.id),
        ]
    ]
    await reply(update, t(loc, "rectify.preview", plan=plan_text(loc, shown, view.name)), buttons)


def keep_previous(step: int) -> Callable[[Update, Ctx], Coroutine[Any, Any, int]]:
    """ "Keep the previous version" at ``step`` (1-3) of a returned plan: as if typed."""
    field, question, state = STEPS[step - 1]

    async def keep(update: Update, ctx: Ctx) -> int:
        loc = await locale_of(update, ctx)
        args = _args(update, 2)
        draft = _draft(ctx)
        previous = str(((draft or {}).get("previous") or {}).get(field) or "")
        # The button of this very step of this plan, once: any other is stale.
        if args != (int((draft or {}).get("id", -1)), step) or not previous or draft is None:
            await answer_callback(update, t(loc, "error.stale_button"), alert=True)
            _stop(None)
        await answer_callback(update)
        svc = ctx.svc.rectifications
        try:
            if field == "deadline":
                # Checked again: a deadline that was fine then may have passed since.
                await _deadline_chosen(update, ctx, loc, draft, svc.check_deadline(previous))
            check = svc.check_goals if field == "goals" else svc.check_measures
            draft[field] = check(previous)
        except DomainError as exc:
            await reply(update, exc.render(loc) + "\n\n" + t(loc, question))
            _stop(state)
        following, next_question, next_state = STEPS[step]
        await _ask(update, loc, draft, following, t(loc, next_question))
        _stop(next_state)

    return keep


async def use_buttons(update: Update, ctx: Ctx) -> int:
    """Text while the preview waits for a button."""
    await reply(update, t(await locale_of(update, ctx), "rectify.use_buttons"))
    _stop(RectifyState.PREVIEW)


async def text_only(update: Update, ctx: Ctx) -> int:
    """A photo, sticker or file while a text answer is awaited: ask for text, keep waiting."""
    await reply(update, t(await locale_of(update, ctx), "rectify.text_only"))
    _stop(None)  # the state stays where it is


async def submit(update: Update, ctx: Ctx) -> int:
    """The submit button of the preview: the plan goes to the acceptor."""
    loc = await locale_of(update, ctx)
    args = _args(update, 1)
    draft = _draft(ctx)
    if args is None or draft is None or int(draft["id"]) != args[0] or "deadline" not in draft:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        _stop(ConversationHandler.END)
    try:
        decided = await ctx.svc.rectifications.submit_plan(
            await actor_of(update, ctx),
            args[0],
            str(draft.get("goals", "")),
            str(draft.get("measures", "")),
            date.fromisoformat(draft["deadline"]),
        )
    except DomainError as exc:
        await answer_callback(update, exc.render(loc), alert=True)
        if exc.key.startswith(("rectify.deadline.", "date.")):
            # The day turned since it was typed (tomorrow is today now): ask the date again,
            # keeping the goals and measures.
            draft.pop("deadline", None)
            await reply(update, exc.render(loc) + "\n\n" + t(loc, "rectify.ask_deadline"))
            _stop(RectifyState.DEADLINE)
        _data(ctx).pop(DRAFT_KEY, None)
        _stop(ConversationHandler.END)
    _data(ctx).pop(DRAFT_KEY, None)
    ctx.svc.outbox.wake()
    await answer_callback(update)
    plan = plan_text(loc, decided.rect, decided.name)
    await reply(update, plan, edit=True)
    key = "rectify.submitted" if decided.notified else "rectify.submitted.nobody"
    await reply(update, t(loc, key))
    _stop(ConversationHandler.END)


async def redo(update: Update, ctx: Ctx) -> int:
    """Start over from the goals."""
    loc = await locale_of(update, ctx)
    args = _args(update, 1)
    draft = _draft(ctx)
    if args is None or draft is None or int(draft["id"]) != args[0]:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        _stop(ConversationHandler.END)
    try:
        view = await ctx.svc.rectifications.begin_plan(await actor_of(update, ctx), args[0])
    except DomainError as exc:
        await answer_callback(update, exc.render(loc), alert=True)
        _stop(ConversationHandler.END)
    draft = _data(ctx)[DRAFT_KEY] = _new_draft(view)
    await answer_callback(update)
    await _ask_goals(update, loc, view, draft)
    _stop(RectifyState.GOALS)


# ---- deciding -------------------------------------------------------------------------------


@guarded
async def accept(update: Update, ctx: Ctx) -> None:
    """The accept button (bound to the plan's version)."""
    loc = await locale_of(update, ctx)
    args = _args(update, 2)
    if args is None:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return
    decided = await ctx.svc.rectifications.accept(await actor_of(update, ctx), args[0], args[1])
    ctx.svc.outbox.wake()
    await answer_callback(update, t(loc, "rectify.done.accepted_short"))
    await reply(
        update,
        plan_text(loc, decided.rect, decided.name)
        + "\n\n"
        + t(loc, "rectify.done.accepted", name=decided.name),
        edit=True,
    )


async def ask_comment(update: Update, ctx: Ctx) -> RectifyState | int:
    """The send-back button: check it still applies, then ask why."""
    loc = await locale_of(update, ctx)
    args = _args(update, 2)
    if args is None:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return ConversationHandler.END
    try:
        await ctx.svc.rectifications.check_decidable(await actor_of(update, ctx), args[0], args[1])
    except DomainError as exc:
        await answer_callback(update, exc.render(loc), alert=True)
        return ConversationHandler.END
    _data(ctx)[RETURN_KEY] = [args[0], args[1]]
    await answer_callback(update)
    await reply(update, t(loc, "rectify.ask_comment"))
    return RectifyState.COMMENT


async def receive_comment(update: Update, ctx: Ctx) -> int:
    """The reason: send the plan back with it."""
    loc = await locale_of(update, ctx)
    target = _data(ctx).get(RETURN_KEY)
    if not target:
        await _lost(update, loc)
    try:
        decided = await ctx.svc.rectifications.send_back(
            await actor_of(update, ctx), int(target[0]), int(target[1]), text_of(update)
        )
    except DomainError as exc:
        await reply(update, exc.render(loc))
        if exc.key.startswith("rectify.comment."):
            _stop(RectifyState.COMMENT)  # still waiting for a usable comment
        _data(ctx).pop(RETURN_KEY, None)
        _stop(ConversationHandler.END)
    _data(ctx).pop(RETURN_KEY, None)
    ctx.svc.outbox.wake()
    await reply(update, t(loc, "rectify.done.returned", name=decided.name))
    _stop(ConversationHandler.END)


# ---- leaving --------------------------------------------------------------------------------


async def cancel(update: Update, ctx: Ctx) -> int:
    """/cancel: nothing is submitted or decided."""
    loc = await locale_of(update, ctx)
    data = _data(ctx)
    key = "rectify.decide.cancelled" if data.pop(RETURN_KEY, None) else "rectify.cancelled"
    data.pop(DRAFT_KEY, None)
    await reply(update, t(loc, key))
    _stop(ConversationHandler.END)


def _forget(ctx: Ctx) -> None:
    """Neither a plan nor a send-back comment is awaited any more."""
    data = _data(ctx)
    data.pop(RETURN_KEY, None)
    data.pop(DRAFT_KEY, None)


async def timed_out(update: Update, ctx: Ctx) -> None:
    """The conversation went quiet: say the plan was not submitted."""
    data = _data(ctx)
    data.pop(RETURN_KEY, None)
    data.pop(DRAFT_KEY, None)
    if update.effective_chat is not None:
        await update.effective_chat.send_message(
            t(await locale_of(update, ctx), "rectify.timeout")
        )


async def stale(update: Update, ctx: Ctx) -> None:
    """A preview button after its conversation ended (timeout, restart of the draft)."""
    await answer_callback(
        update, t(await locale_of(update, ctx), "error.stale_button"), alert=True
    )


# ---- wiring ---------------------------------------------------------------------------------


def _pattern(*actions: str) -> str:
    return actions_pattern(FEATURE, *actions)


def build() -> list[BaseHandler[Update, Ctx, object]]:
    """Among the features: /rectify, the accept button, and stale preview buttons."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("rectify", show_list, filters=private),
        CallbackQueryHandler(accept, pattern=_pattern("ok")),
        # The preview's buttons after its conversation ended (cancelled, timed out), and
        # anything else of ours no handler knows; plan / ret belong to the conversation.
        CallbackQueryHandler(stale, pattern=rf"^{FEATURE}:(?!(plan|ret|ok)(:|$))"),
    ]


def build_conversation() -> list[BaseHandler[Update, Ctx, object]]:
    """Writing a plan and an acceptor's send-back comment: one dialog in its own group."""
    private = filters.ChatType.PRIVATE
    text = filters.TEXT & ~filters.COMMAND & private
    other = ~filters.TEXT & ~filters.COMMAND & private
    return [
        dialog(
            name="rectify",
            entry_points=[
                CallbackQueryHandler(start_plan, pattern=_pattern("plan")),
                CallbackQueryHandler(ask_comment, pattern=_pattern("ret")),
            ],
            states={
                RectifyState.GOALS: [
                    MessageHandler(text, receive_goals),
                    MessageHandler(other, text_only),
                    CallbackQueryHandler(keep_previous(1), pattern=_pattern("keep")),
                ],
                RectifyState.MEASURES: [
                    MessageHandler(text, receive_measures),
                    MessageHandler(other, text_only),
                    CallbackQueryHandler(keep_previous(2), pattern=_pattern("keep")),
                ],
                RectifyState.DEADLINE: [
                    MessageHandler(text, receive_deadline),
                    MessageHandler(other, text_only),
                    CallbackQueryHandler(keep_previous(3), pattern=_pattern("keep")),
                ],
                RectifyState.PREVIEW: [
                    CallbackQueryHandler(submit, pattern=_pattern("sub")),
                    CallbackQueryHandler(redo, pattern=_pattern("redo")),
                    MessageHandler(text | other, use_buttons),
                ],
                RectifyState.COMMENT: [
                    MessageHandler(text, receive_comment),
                    MessageHandler(other, text_only),
                ],
                ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, timed_out)],
            },
            cancel=cancel,
            forget=_forget,
            resume="rectify",
            timeout=TIMEOUT_SECONDS,
        )
    ]
