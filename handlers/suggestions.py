"""调研提诺 in chat: /suggest (choose the branch, write, confirm) and the secretary's
/suggestions (paged list; link the pledge item that answers one; mark it solved).

The writing conversation runs in its own handler group before the features: while it waits
for the text nothing else takes it; any other command or another feature's button ends it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from enum import StrEnum
from typing import Any

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
from bot.chat.actions import Button, Rows, action
from bot.context import Ctx
from bot.domain.dates import format_day
from bot.domain.suggestion_models import SuggestionStatus
from bot.domain.suggestions import (
    FEATURE,
    SuggestionPage,
    SuggestionView,
    snippet,
)
from bot.i18n import t
from handlers.common import actor_of, answer_callback, guarded, locale_of, pressed, reply, text_of
from handlers.dialog import dialog

TIMEOUT_SECONDS = 1800
ORG_KEY = "suggest_org"
TEXT_KEY = "suggest_text"
LABEL_CHARS = 28

Buttons = Rows
Step = Callable[[Update, Ctx], Coroutine[Any, Any, object]]


class SuggestState(StrEnum):
    """What the conversation waits for (stored by the persistence as strings)."""

    TEXT = "text"  # the suggestion (another branch may still be chosen by button)
    CONFIRM = "confirm"  # submit or rewrite


def _b(text: str, name: str, *args: object) -> Button:
    return Button(text, action=action(FEATURE, name, *args))


def _data(ctx: Ctx) -> dict[Any, Any]:
    return ctx.user_data if ctx.user_data is not None else {}


def _args(update: Update) -> tuple[int, ...] | None:
    """The integer arguments of the tapped button; None if missing or tampered."""
    data = pressed(update)
    if data is None:
        return None
    try:
        return tuple(int(a) for a in data.args)
    except ValueError:
        return None


def _forget(ctx: Ctx) -> None:
    data = _data(ctx)
    data.pop(ORG_KEY, None)
    data.pop(TEXT_KEY, None)


def _stops(func: Step) -> Callable[[Update, Ctx], Coroutine[Any, Any, None]]:
    """Run a step (a DomainError becomes a reply, the state stays) and stop the update here."""
    step = guarded(func)

    @functools.wraps(func)
    async def wrapper(update: Update, ctx: Ctx) -> None:
        raise ApplicationHandlerStop(await step(update, ctx))

    return wrapper


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return snippet(text, limit)


# ---- writing a suggestion -------------------------------------------------------------------


@_stops
async def start(update: Update, ctx: Ctx) -> SuggestState:
    """/suggest: to one's own branch by default; other branches of the committee by button."""
    loc = await locale_of(update, ctx)
    targets = await ctx.svc.suggestions.targets(await actor_of(update, ctx))
    _forget(ctx)
    own = targets.orgs[0]
    _data(ctx)[ORG_KEY] = own.id
    buttons = [
        [_b(t(loc, "suggest.btn.to", org=_short(org.name, 20)), "to", org.id)]
        for org in targets.orgs[1:]
    ]
    lines = [t(loc, "suggest.ask", org=own.name)]
    if buttons:
        lines.append(t(loc, "suggest.ask.other"))
    await reply(update, "\n".join(lines), buttons or None)
    return SuggestState.TEXT


@_stops
async def choose(update: Update, ctx: Ctx) -> SuggestState | None:
    """A branch button: the suggestion goes there instead."""
    loc = await locale_of(update, ctx)
    args = _args(update)
    if not args:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return None
    org = await ctx.svc.suggestions.check_target(await actor_of(update, ctx), args[0])
    _data(ctx)[ORG_KEY] = org.id
    _data(ctx).pop(TEXT_KEY, None)
    await answer_callback(update)
    await reply(update, t(loc, "suggest.ask.to", org=org.name))
    return SuggestState.TEXT


def _confirm_buttons(loc: str) -> Buttons:
    return [
        [_b(t(loc, "suggest.btn.submit"), "ok")],
        [_b(t(loc, "suggest.btn.rewrite"), "redo"), _b(t(loc, "suggest.btn.cancel"), "no")],
    ]


@_stops
async def receive_text(update: Update, ctx: Ctx) -> SuggestState | None:
    """The suggestion: checked, then shown back for confirmation."""
    loc = await locale_of(update, ctx)
    data = _data(ctx)
    org_id = data.get(ORG_KEY)
    if org_id is None:
        await reply(update, t(loc, "error.stale_button"))
        return ConversationHandler.END  # type: ignore[return-value]
    text = ctx.svc.suggestions.clean(text_of(update))  # a DomainError keeps waiting for text
    org = await ctx.svc.suggestions.check_target(await actor_of(update, ctx), int(org_id))
    data[TEXT_KEY] = text
    await reply(update, t(loc, "suggest.confirm", org=org.name, text=text), _confirm_buttons(loc))
    return SuggestState.CONFIRM


@_stops
async def not_text(update: Update, ctx: Ctx) -> None:
    """A photo, sticker or voice message instead of words."""
    await reply(update, t(await locale_of(update, ctx), "suggest.text_only"))


@_stops
async def submit(update: Update, ctx: Ctx) -> int | None:
    """✅ 提交: stored; the secretary is told."""
    loc = await locale_of(update, ctx)
    data = _data(ctx)
    org_id, text = data.get(ORG_KEY), data.get(TEXT_KEY)
    if org_id is None or not text:
        await answer_callback(update, t(loc, "suggest.stale"), alert=True)
        return ConversationHandler.END
    view = await ctx.svc.suggestions.submit(await actor_of(update, ctx), int(org_id), str(text))
    ctx.svc.outbox.wake()
    _forget(ctx)
    await answer_callback(update)
    key = "suggest.sent" if view.notified else "suggest.sent.nobody"
    await reply(update, t(loc, key, org=view.org_name, id=view.suggestion.id), edit=True)
    return ConversationHandler.END


@_stops
async def rewrite(update: Update, ctx: Ctx) -> SuggestState:
    """✏️ 重写: write it again."""
    loc = await locale_of(update, ctx)
    _data(ctx).pop(TEXT_KEY, None)
    await answer_callback(update)
    await reply(update, t(loc, "suggest.rewrite"), edit=True)
    return SuggestState.TEXT


@_stops
async def drop(update: Update, ctx: Ctx) -> int:
    """✖ 取消 (button) or /cancel: nothing is sent."""
    loc = await locale_of(update, ctx)
    _forget(ctx)
    await answer_callback(update)
    await reply(update, t(loc, "suggest.cancelled"), edit=update.callback_query is not None)
    return ConversationHandler.END


async def timed_out(update: Update, ctx: Ctx) -> None:
    """The conversation went quiet: nothing was sent."""
    _forget(ctx)
    if update.effective_chat is not None:
        await update.effective_chat.send_message(
            t(await locale_of(update, ctx), "suggest.timeout")
        )


@guarded
async def stale(update: Update, ctx: Ctx) -> None:
    """A writing button after the conversation ended (sent, cancelled, timed out, restarted)."""
    await answer_callback(update, t(await locale_of(update, ctx), "suggest.stale"), alert=True)


# ---- the secretary's side -------------------------------------------------------------------


def _status(loc: str, view: SuggestionView) -> str:
    return t(loc, f"suggest.status.{view.suggestion.status.value}")


def render_page(loc: str, view: SuggestionPage, tz: Any) -> tuple[str, Buttons]:
    """A page of the branch's suggestions: one line each, a button to open each."""
    lines = [
        t(
            loc,
            "suggest.list.title",
            org=view.org.name,
            collected=view.collected,
            solved=view.solved,
            page=view.page + 1,
            pages=view.pages,
        )
    ]
    if not view.rows:
        lines.append(t(loc, "suggest.list.empty"))
    buttons: Buttons = []
    for row in view.rows:
        s = row.suggestion
        lines.append(
            t(
                loc,
                "suggest.list.row",
                id=s.id,
                status=_status(loc, row),
                date=format_day(s.created_at, tz, loc),
                name=_short(row.author_name, 10),
                text=_short(s.text, 40),
            )
        )
        if row.item is not None:
            lines.append(t(loc, "suggest.list.linked", content=_short(row.item.content, 30)))
        buttons.append(
            [_b(t(loc, "suggest.btn.show", id=s.id, text=_short(s.text, 16)), "show", s.id)]
        )
    nav = []
    if view.page > 0:
        nav.append(_b(t(loc, "suggest.btn.prev"), "pg", view.page - 1))
    if view.page < view.pages - 1:
        nav.append(_b(t(loc, "suggest.btn.next"), "pg", view.page + 1))
    if nav:
        buttons.append(nav)
    return "\n".join(lines), buttons


def render_card(loc: str, view: SuggestionView, tz: Any) -> tuple[str, Buttons]:
    """One suggestion with what may be done to it."""
    s = view.suggestion
    lines = [
        t(loc, "suggest.card.title", id=s.id, status=_status(loc, view)),
        t(
            loc,
            "suggest.card.from",
            name=view.author_name,
            org=view.org_name,
            date=format_day(s.created_at, tz, loc),
        ),
        "",
        s.text,
    ]
    if view.item is not None:
        lines += [
            "",
            t(loc, "suggest.card.item", number=view.item.number or "", content=view.item.content),
        ]
    if s.status is SuggestionStatus.SOLVED and s.solved_at is not None:
        lines.append(t(loc, "suggest.card.solved", date=format_day(s.solved_at, tz, loc)))
    buttons: Buttons = []
    if s.status is SuggestionStatus.OPEN:
        buttons.append([_b(t(loc, "suggest.btn.link"), "link", s.id)])
        buttons.append([_b(t(loc, "suggest.btn.solve"), "solve", s.id)])
    buttons.append([_b(t(loc, "suggest.btn.list"), "pg", 0)])
    return "\n".join(lines), buttons


@guarded
async def show_list(update: Update, ctx: Ctx) -> None:
    """/suggestions: the first page."""
    loc = await locale_of(update, ctx)
    page = await ctx.svc.suggestions.page(await actor_of(update, ctx), 0)
    text, buttons = render_page(loc, page, ctx.svc.clock.tz)
    await reply(update, text, buttons)


@guarded
async def on_button(update: Update, ctx: Ctx) -> None:
    """The list's and the card's buttons: page, open, link (pick an item), solve."""
    loc = await locale_of(update, ctx)
    data = pressed(update)
    args = _args(update)
    if data is None or args is None or (data.name != "pg" and not args):
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return
    svc = ctx.svc.suggestions
    me = await actor_of(update, ctx)
    tz = ctx.svc.clock.tz
    if data.name == "pg":
        page = await svc.page(me, args[0] if args else 0)
        await answer_callback(update)
        await reply(update, *render_page(loc, page, tz), edit=True)
    elif data.name == "show":
        view = await svc.show(me, args[0])
        await answer_callback(update)
        await reply(update, *render_card(loc, view, tz), edit=True)
    elif data.name == "link":
        view, items = await svc.linkable(me, args[0])
        await answer_callback(update)
        if not items:
            await reply(
                update,
                t(loc, "suggest.link.none"),
                [[_b(t(loc, "suggest.btn.back"), "show", args[0])]],
            )
            return
        buttons = [
            [_b(f"{n}. {_short(item.content, LABEL_CHARS)}", "li", args[0], item.item_id)]
            for n, item in enumerate(items, start=1)
        ]
        buttons.append([_b(t(loc, "suggest.btn.back"), "show", args[0])])
        await reply(
            update,
            t(loc, "suggest.link.pick", text=_short(view.suggestion.text, 60)),
            buttons,
            edit=True,
        )
    elif data.name == "li" and len(args) == 2:
        view = await svc.link(me, args[0], args[1])
        ctx.svc.outbox.wake()
        await answer_callback(update, t(loc, "suggest.linked_short"))
        await reply(update, *render_card(loc, view, tz), edit=True)
    elif data.name == "solve":
        view = await svc.solve(me, args[0])
        ctx.svc.outbox.wake()
        await answer_callback(update, t(loc, "suggest.solved_short"))
        await reply(update, *render_card(loc, view, tz), edit=True)
    else:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)


# ---- wiring ---------------------------------------------------------------------------------


def _pattern(*actions: str) -> str:
    return actions_pattern(FEATURE, *actions)


def build() -> list[BaseHandler[Update, Ctx, object]]:
    """Among the features: /suggestions and its buttons; stale writing buttons."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("suggestions", show_list, filters=private),
        CallbackQueryHandler(on_button, pattern=_pattern("pg", "show", "link", "li", "solve")),
        CallbackQueryHandler(stale, pattern=_pattern("to", "ok", "redo", "no")),
    ]


def build_conversation() -> list[BaseHandler[Update, Ctx, object]]:
    """/suggest: a dialog in its own group, before the features (handlers/dialog.py)."""
    private = filters.ChatType.PRIVATE
    text = filters.TEXT & ~filters.COMMAND & private
    other = private & ~filters.COMMAND & ~filters.TEXT
    return [
        dialog(
            name="suggest",
            entry_points=[CommandHandler("suggest", start, filters=private)],
            states={
                SuggestState.TEXT: [
                    MessageHandler(text, receive_text),
                    MessageHandler(other, not_text),
                    CallbackQueryHandler(choose, pattern=_pattern("to")),
                    CallbackQueryHandler(drop, pattern=_pattern("no")),
                ],
                SuggestState.CONFIRM: [
                    CallbackQueryHandler(submit, pattern=_pattern("ok")),
                    CallbackQueryHandler(rewrite, pattern=_pattern("redo")),
                    CallbackQueryHandler(drop, pattern=_pattern("no")),
                    CallbackQueryHandler(choose, pattern=_pattern("to")),
                    MessageHandler(text, receive_text),  # a new text replaces the first
                    MessageHandler(other, not_text),
                ],
                ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, timed_out)],
            },
            cancel=drop,
            forget=_forget,
            resume="suggest",
            timeout=TIMEOUT_SECONDS,
            # its own buttons on an older card go on to the features (answered there)
            passing_buttons=rf"{FEATURE}:(to|ok|redo|no)(:|$)",
        )
    ]
