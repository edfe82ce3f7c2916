"""Broadcasts in chat: /broadcast (compose → audience → preview → send), the recipient's
"收到", the sender's report buttons, /broadcasts.

The composing conversation runs in a group of its own before the features (like the review
comment): while it waits for the notice, the text or file it takes goes no further (a
secretary may have a pledge draft open at the same time); any other command or button ends
it and goes on to the features.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable, Coroutine
from enum import StrEnum
from typing import Any

from telegram import Message, Update
from telegram.error import BadRequest
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.channels.telegram.callbacks import markup
from bot.channels.telegram.files import incoming_of
from bot.channels.telegram.renderer import TEXT_LIMIT
from bot.chat.actions import Button, Rows, action
from bot.chat.text import utf16_len
from bot.context import Ctx
from bot.domain.broadcast import (
    FEATURE,
    Audience,
    AudienceKind,
    Media,
    Notice,
    acked_buttons,
    check_media_size,
    render_names,
    render_preview,
    render_report,
    title_of,
)
from bot.domain.dates import format_date
from bot.i18n import t
from handlers.common import (
    Buttons,
    actor_of,
    answer_callback,
    caption_of,
    guarded,
    locale_of,
    pressed,
    reply,
    text_of,
)
from handlers.dialog import dialog

CONVERSATION_TIMEOUT_SECONDS = 3600
BRANCH_PAGE = 40
DRAFT_KEY = "broadcast"
# A text part this long (UTF-16 code units) was most likely cut by the person's Telegram app.
CLIENT_SPLIT_UNITS = 3500
COMPOSE_ACTIONS = ("aud", "tog", "pg", "done", "send", "back", "stop")


class BroadcastState(StrEnum):
    """The composing conversation's states (stored by the persistence as strings)."""

    CONTENT = "content"
    AUDIENCE = "audience"
    CONFIRM = "confirm"


def _b(text: str, name: str, *args: object) -> Button:
    return Button(text, action=action(FEATURE, name, *args))


def _draft(ctx: Ctx) -> dict[str, Any]:
    data = ctx.user_data if ctx.user_data is not None else {}
    draft = data.get(DRAFT_KEY)
    if not isinstance(draft, dict):
        draft = {}
        data[DRAFT_KEY] = draft
    return draft


def _forget(ctx: Ctx) -> None:
    if ctx.user_data is not None:
        ctx.user_data.pop(DRAFT_KEY, None)


Step = Callable[[Update, Ctx], Coroutine[Any, Any, object]]


def _stops(func: Step) -> Callable[[Update, Ctx], Coroutine[Any, Any, None]]:
    """Run a step (a DomainError becomes a reply, the state stays) and stop the update here."""
    step = guarded(func)

    @functools.wraps(func)
    async def wrapper(update: Update, ctx: Ctx) -> None:
        raise ApplicationHandlerStop(await step(update, ctx))

    return wrapper


def _parse(update: Update) -> tuple[str, tuple[str, ...]]:
    data = pressed(update)
    if data is None:
        return "", ()
    return data.name, data.args


# --------------------------------------------------------------------------- composing


@_stops
async def start(update: Update, ctx: Ctx) -> BroadcastState:
    """/broadcast: refused unless staff; asks for the notice."""
    loc = await locale_of(update, ctx)
    composer = await ctx.svc.broadcasts.composer(await actor_of(update, ctx))
    _forget(ctx)
    draft = _draft(ctx)
    draft["kinds"] = [k.value for k in composer.kinds]
    draft["branches"] = [[oid, name] for oid, name in composer.branches]
    await reply(update, t(loc, "bc.ask.content"))
    return BroadcastState.CONTENT


async def _media_of(ctx: Ctx, message: Message) -> Media | None:
    """The photo or file of the notice, checked for size, then kept in Jiannuo's store."""
    incoming = incoming_of(message)
    if incoming is None:
        return None
    check_media_size(incoming.kind, incoming.size)
    stored = await ctx.svc.files.receive(ctx.bot, incoming)
    return Media(incoming.kind, stored.id, stored.size, incoming.name)


def _audience_buttons(loc: str, draft: dict[str, Any]) -> Buttons:
    rows = [[_b(t(loc, f"bc.aud.{kind}"), "aud", kind)] for kind in draft.get("kinds", [])]
    rows.append([_b(t(loc, "bc.btn.cancel"), "stop")])
    return rows


@_stops
async def on_content(update: Update, ctx: Ctx) -> BroadcastState:
    """The notice: a text, a photo or a file (with its caption)."""
    message = update.effective_message
    assert message is not None
    loc = await locale_of(update, ctx)
    media = await _media_of(ctx, message)
    text = caption_of(update) if media is not None else text_of(update)
    notice = await ctx.svc.broadcasts.check_notice(await actor_of(update, ctx), text, media)
    draft = _draft(ctx)
    draft["text"] = notice.text
    draft["media"] = (
        {**notice.media.to_json(), "file_size": notice.media.file_size} if notice.media else None
    )
    draft.pop("picked", None)
    draft["parts"] = 1
    draft["tail_units"] = utf16_len(text) if media is None else 0
    await reply(update, t(loc, "bc.ask.audience"), _audience_buttons(loc, draft))
    return BroadcastState.AUDIENCE


@_stops
async def on_more_text(update: Update, ctx: Ctx) -> None:
    """Text while the audience is asked for. Telegram's apps send a text above 4096 as several
    messages, the first ones nearly full: a text that follows such a part continues the
    notice. Anything else was typed instead of tapping a button."""
    loc = await locale_of(update, ctx)
    draft = _draft(ctx)
    part = text_of(update)
    tail = int(draft.get("tail_units") or 0)
    if draft.get("media") or draft.get("audience") or tail < CLIENT_SPLIT_UNITS or not part:
        await reply(update, t(loc, "bc.use_buttons"))
        return
    # A cut at the very limit fell inside the text; a shorter part ended at a line break or
    # a space, which the app dropped.
    joiner = "" if tail >= TEXT_LIMIT else "\n"
    text = f"{draft.get('text') or ''}{joiner}{part}"
    notice = await ctx.svc.broadcasts.check_notice(await actor_of(update, ctx), text, None)
    draft["text"] = notice.text
    draft["parts"] = int(draft.get("parts") or 1) + 1
    draft["tail_units"] = utf16_len(part)
    await reply(
        update,
        t(loc, "bc.continued", parts=draft["parts"], length=len(notice.text)),
        _audience_buttons(loc, draft),
    )


@_stops
async def unsupported(update: Update, ctx: Ctx) -> None:
    """A sticker, a voice message…: not a notice."""
    await reply(update, t(await locale_of(update, ctx), "bc.unsupported"))


@_stops
async def use_buttons(update: Update, ctx: Ctx) -> None:
    """Typing while buttons are asked for."""
    await reply(update, t(await locale_of(update, ctx), "bc.use_buttons"))


def _notice(draft: dict[str, Any]) -> Notice:
    media = draft.get("media")
    return Notice(
        str(draft.get("text") or ""),
        Media.from_json(media) if media else None,
    )


def _audience(draft: dict[str, Any]) -> Audience:
    return Audience(
        AudienceKind(draft["audience"]), tuple(int(i) for i in draft.get("picked", []))
    )


def _branch_picker(loc: str, draft: dict[str, Any], page: int) -> tuple[str, Buttons]:
    branches = draft.get("branches", [])
    picked = set(draft.get("picked", []))
    pages = max(1, -(-len(branches) // BRANCH_PAGE))
    page = min(max(0, page), pages - 1)
    shown = branches[page * BRANCH_PAGE : (page + 1) * BRANCH_PAGE]
    rows: Rows = []
    for start_at in range(0, len(shown), 2):
        rows.append(
            [
                _b(("☑ " if oid in picked else "☐ ") + name[:30], "tog", oid, page)
                for oid, name in shown[start_at : start_at + 2]
            ]
        )
    nav = []
    if page > 0:
        nav.append(_b(t(loc, "bc.btn.prev"), "pg", page - 1))
    if page + 1 < pages:
        nav.append(_b(t(loc, "bc.btn.next"), "pg", page + 1))
    if nav:
        rows.append(nav)
    rows.append(
        [_b(t(loc, "bc.btn.done", count=len(picked)), "done"), _b(t(loc, "bc.btn.cancel"), "stop")]
    )
    return t(loc, "bc.ask.branches", count=len(picked)), rows


async def _show_preview(update: Update, ctx: Ctx, loc: str, draft: dict[str, Any]) -> None:
    preview = await ctx.svc.broadcasts.preview(await actor_of(update, ctx), _audience(draft))
    draft["nonce"] = secrets.token_hex(4)
    buttons = [
        [_b(t(loc, "bc.btn.send"), "send", draft["nonce"])],
        [_b(t(loc, "bc.btn.change_audience"), "back"), _b(t(loc, "bc.btn.cancel"), "stop")],
    ]
    await answer_callback(update)
    await reply(update, render_preview(loc, _notice(draft), preview), buttons, edit=True)


@_stops
async def on_button(update: Update, ctx: Ctx) -> BroadcastState | int | None:
    """The composing buttons: audience, branches, confirm, back, cancel."""
    loc = await locale_of(update, ctx)
    action, args = _parse(update)
    draft = _draft(ctx)
    if action == "stop":
        _forget(ctx)
        await answer_callback(update)
        await reply(update, t(loc, "bc.cancelled"), edit=True)
        return ConversationHandler.END
    if "text" not in draft:  # a button of an earlier notice while this one is being written
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return None
    try:
        if action == "back":
            await answer_callback(update)
            await reply(
                update, t(loc, "bc.ask.audience"), _audience_buttons(loc, draft), edit=True
            )
            return BroadcastState.AUDIENCE
        if action == "aud":
            kind = AudienceKind(args[0])
            draft["audience"] = kind.value
            if kind is AudienceKind.BRANCHES:
                await answer_callback(update)
                text, buttons = _branch_picker(loc, draft, 0)
                await reply(update, text, buttons, edit=True)
                return BroadcastState.AUDIENCE
            draft.pop("picked", None)
            await _show_preview(update, ctx, loc, draft)
            return BroadcastState.CONFIRM
        if action in ("tog", "pg"):
            if action == "tog":
                org_id = int(args[0])
                picked = [int(i) for i in draft.get("picked", [])]
                draft["picked"] = [i for i in picked if i != org_id] + (
                    [] if org_id in picked else [org_id]
                )
            await answer_callback(update)
            text, buttons = _branch_picker(loc, draft, int(args[-1]))
            await reply(update, text, buttons, edit=True)
            return BroadcastState.AUDIENCE
        if action == "done":
            await _show_preview(update, ctx, loc, draft)
            return BroadcastState.CONFIRM
        if action == "send" and args and args[0] == draft.get("nonce"):
            sent = await ctx.svc.broadcasts.send(
                await actor_of(update, ctx), _notice(draft), _audience(draft)
            )
            _forget(ctx)
            ctx.svc.outbox.wake()
            await answer_callback(update)
            await reply(
                update,
                t(loc, "bc.queued", total=sent.total, reachable=sent.reachable),
                edit=True,
            )
            return ConversationHandler.END
    except (ValueError, IndexError, KeyError):  # a malformed or tampered action
        pass
    await answer_callback(update, t(loc, "error.stale_button"), alert=True)
    return None


@_stops
async def cancel(update: Update, ctx: Ctx) -> int:
    """/cancel while composing: nothing is sent."""
    _forget(ctx)
    await reply(update, t(await locale_of(update, ctx), "bc.cancelled"))
    return ConversationHandler.END


async def timed_out(update: Update, ctx: Ctx) -> None:
    """The conversation went quiet: nothing was sent."""
    _forget(ctx)
    if update.effective_chat is not None:
        await update.effective_chat.send_message(t(await locale_of(update, ctx), "bc.timeout"))


# --------------------------------------------------------------------------- following up


@guarded
async def on_follow_up(update: Update, ctx: Ctx) -> None:
    """Buttons outside the conversation: 收到, the report's buttons, the list's buttons."""
    loc = await locale_of(update, ctx)
    action, args = _parse(update)
    svc = ctx.svc.broadcasts
    try:
        if action == "ack":
            await _acknowledge(update, ctx, loc, int(args[0]), int(args[1]))
            return
        if action == "acked":
            await answer_callback(update, t(loc, "bc.ack.already"))
            return
        bid = int(args[0])
        if action in ("rp", "show"):
            text, buttons = render_report(loc, await svc.report(await actor_of(update, ctx), bid))
            await answer_callback(update)
            await reply(update, text, buttons, edit=action == "rp")
            return
        if action in ("un", "unp"):
            page = await svc.unacknowledged(await actor_of(update, ctx), bid, int(args[1]))
            text, buttons = render_names(loc, page)
            await answer_callback(update)
            await reply(update, text, buttons, edit=action == "unp")
            return
        if action == "rs":
            count = await svc.resend(await actor_of(update, ctx), bid)
            ctx.svc.outbox.wake()
            key = "bc.resent" if count else "bc.resent.none"
            await answer_callback(update, t(loc, key, count=count), alert=count == 0)
            return
    except (ValueError, IndexError):
        pass
    await answer_callback(update, t(loc, "error.stale_button"), alert=True)


async def _acknowledge(update: Update, ctx: Ctx, loc: str, bid: int, round_: int) -> None:
    query = update.callback_query
    assert query is not None
    message = query.message
    message_id = message.message_id if message is not None else None
    result = await ctx.svc.broadcasts.acknowledge(
        await actor_of(update, ctx), bid, round_, message_id
    )
    ctx.svc.outbox.wake()
    if not result.first:
        key = "bc.ack.already"
    else:
        key = "bc.ack.superseded" if result.superseded else "bc.ack.thanks"
    await answer_callback(update, t(loc, key))
    try:
        await query.edit_message_reply_markup(markup(acked_buttons(loc, bid)))
    except BadRequest as exc:  # already edited (a double tap), or the message is gone
        if "not modified" not in exc.message.lower():
            raise


@guarded
async def stale(update: Update, ctx: Ctx) -> None:
    """A composing button of a conversation that is over."""
    await answer_callback(
        update, t(await locale_of(update, ctx), "error.stale_button"), alert=True
    )


@guarded
async def list_recent(update: Update, ctx: Ctx) -> None:
    """/broadcasts: the newest notices, each with a button to its report."""
    loc = await locale_of(update, ctx)
    reports = await ctx.svc.broadcasts.recent(await actor_of(update, ctx))
    if not reports:
        await reply(update, t(loc, "bc.list.empty"))
        return
    lines = [t(loc, "bc.list.title")]
    buttons: Rows = []
    for report in reports:
        record = report.record
        title = title_of(record.text, record.media, loc)
        lines.append(
            t(
                loc,
                "bc.list.item",
                id=record.id,
                date=format_date(report.sent_on, loc),
                title=title,
                sent=report.delivery.sent,
                total=record.recipients,
                acked=report.acked,
            )
        )
        buttons.append([_b(t(loc, "bc.btn.report", id=record.id, title=title), "show", record.id)])
    await reply(update, "\n".join(lines), buttons)


# --------------------------------------------------------------------------- wiring


def build_compose() -> list[BaseHandler[Update, Ctx, object]]:
    """The composing dialog: in its own group, before the features (handlers/dialog.py)."""
    private = filters.ChatType.PRIVATE
    compose_pattern = rf"^{FEATURE}:({'|'.join(COMPOSE_ACTIONS)})(:|$)"
    buttons: CallbackQueryHandler[Ctx, object] = CallbackQueryHandler(
        on_button, pattern=compose_pattern
    )
    typed: MessageHandler[Ctx, object] = MessageHandler(private & ~filters.COMMAND, use_buttons)
    return [
        dialog(
            name="broadcast",
            entry_points=[CommandHandler("broadcast", start, filters=private)],
            states={
                BroadcastState.CONTENT: [
                    MessageHandler(
                        private
                        & ~filters.COMMAND
                        & (filters.TEXT | filters.PHOTO | filters.Document.ALL),
                        on_content,
                    ),
                    MessageHandler(private & ~filters.COMMAND, unsupported),
                    buttons,
                ],
                BroadcastState.AUDIENCE: [
                    buttons,
                    MessageHandler(private & filters.TEXT & ~filters.COMMAND, on_more_text),
                    typed,
                ],
                BroadcastState.CONFIRM: [buttons, typed],
                ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, timed_out)],
            },
            cancel=cancel,
            forget=_forget,
            resume="broadcast",
            timeout=CONVERSATION_TIMEOUT_SECONDS,
            # its other buttons (收到, the report's) are answered by the features meanwhile
            passing_buttons=rf"{FEATURE}:",
        )
    ]


def build() -> list[BaseHandler[Update, Ctx, object]]:
    """Among the features: /broadcasts, 收到 and the report buttons, stale composing buttons."""
    return [
        CommandHandler("broadcasts", list_recent, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(
            on_follow_up, pattern=rf"^{FEATURE}:(ack|acked|rp|show|un|unp|rs)(:|$)"
        ),
        CallbackQueryHandler(stale, pattern=rf"^{FEATURE}:"),
    ]
