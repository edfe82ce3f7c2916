"""践诺 in chat: /progress (report, attach evidence, claim fulfilled), verifying claims, /record.

What was done is stored as soon as it is written; photos and files sent afterwards are
attached to that entry. The conversation runs in its own handler group before the features,
so while it waits for text or evidence nothing else takes them (a drafting conversation may
be open at the same time); any other command or button ends the wait and goes on.
"""

from __future__ import annotations

import logging
from datetime import tzinfo
from enum import StrEnum
from typing import Any, NoReturn

from telegram import Update
from telegram.error import TelegramError
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
from bot.channels.telegram.files import ApiCall, Incoming, incoming_of
from bot.chat.actions import Rows
from bot.context import Ctx
from bot.domain.dates import format_date
from bot.domain.errors import DomainError
from bot.domain.files import FileMissing
from bot.domain.progress import (
    FEATURE,
    MAX_EVIDENCE,
    ClaimView,
    EntryView,
    ItemView,
    MonthRecord,
    button,
    check_size,
    claim_buttons,
    claim_card,
    month_label,
    previous_month,
)
from bot.domain.progress_models import Evidence, EvidenceKind, ItemStatus, Verdict
from bot.i18n import t
from handlers.common import (
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

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 1800
MAX_ITEM_BUTTONS = 60
LABEL_CHARS = 30

ITEM_KEY = "progress_item"
ENTRY_KEY = "progress_entry"
BACK_KEY = "progress_back"
EARLY_KEY = "progress_early"  # photos and files sent before the words, kept for the entry
BACK_CARD_KEY = "progress_back_card"  # [chat id, message id] of the claim card being sent back


class ProgressState(StrEnum):
    """What the conversation waits for (stored by the persistence as strings)."""

    TEXT = "text"  # what was done
    ATTACH = "attach"  # photos / files for the entry just written
    COMMENT = "comment"  # a verifier's reason for sending a claim back


def _data(ctx: Ctx) -> dict[Any, Any]:
    return ctx.user_data if ctx.user_data is not None else {}


def _arg(update: Update, index: int = 0) -> int | None:
    """An integer argument of the tapped button; None if missing or tampered."""
    data = pressed(update)
    try:
        return data.int_arg(index) if data else None
    except (ValueError, IndexError):
        return None


def _stop(state: object) -> NoReturn:
    """Keep the update from going further (the text or file was ours) and set the state."""
    raise ApplicationHandlerStop(state)


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _attach_buttons(loc: str, entry_id: int, can_claim: bool = True) -> Rows:
    rows = [[button(t(loc, "progress.btn.done"), "done", entry_id)]]
    if can_claim:  # not while an earlier claim on the item waits for verification
        rows.append([button(t(loc, "progress.btn.claim"), "claim", entry_id)])
    return rows


def _can_claim(view: EntryView) -> bool:
    return view.item.status is ItemStatus.OPEN and view.entry.verdict is Verdict.NOTE


async def _evidence_of(ctx: Ctx, incoming: Incoming) -> Evidence:
    """The photo or file a person sent, checked for size first, then kept in Jiannuo's file
    store (DomainError: too big, or it could not be fetched)."""
    kind = EvidenceKind(incoming.kind)
    check_size(kind, incoming.size)
    stored = await ctx.svc.files.receive(ctx.bot, incoming)
    size = stored.size if stored.size is not None else incoming.size
    return Evidence(kind=kind, file=stored.id, size=size, name=incoming.name)


def _item_label(loc: str, view: ItemView, n: int) -> str:
    mark = "⏳ " if view.item.status is ItemStatus.CLAIMED else ""
    who = "" if view.own else f"{_short(view.pledger_name, 10)}："
    return f"{mark}{n}. {who}{_short(view.item.content, LABEL_CHARS)}"


# ---- reporting ----------------------------------------------------------------------------


@guarded
async def show_items(update: Update, ctx: Ctx) -> None:
    """/progress: the items one may report on, as buttons."""
    loc = await locale_of(update, ctx)
    views = await ctx.svc.progress.reportable(await actor_of(update, ctx))
    if not views:
        await reply(update, t(loc, "progress.none"))
        return
    open_views = [v for v in views if v.item.status is not ItemStatus.FULFILLED]
    fulfilled = len(views) - len(open_views)
    if not open_views:
        await reply(update, t(loc, "progress.all_done", count=fulfilled))
        return
    lines = [t(loc, "progress.pick")]
    if fulfilled:
        lines.append(t(loc, "progress.fulfilled_count", count=fulfilled))
    if len(open_views) > MAX_ITEM_BUTTONS:
        lines.append(t(loc, "progress.more", shown=MAX_ITEM_BUTTONS, count=len(open_views)))
    buttons = [
        [button(_item_label(loc, view, n), "it", view.item.item_id)]
        for n, view in enumerate(open_views[:MAX_ITEM_BUTTONS], start=1)
    ]
    await reply(update, "\n".join(lines), buttons)


@guarded
async def pick_item(update: Update, ctx: Ctx) -> ProgressState | int:
    """An item button: may this person report on it? Then ask what was done."""
    loc = await locale_of(update, ctx)
    item_id = _arg(update)
    if item_id is None:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return ConversationHandler.END
    view = await ctx.svc.progress.begin(await actor_of(update, ctx), item_id)
    data = _data(ctx)
    data[ITEM_KEY] = item_id
    data.pop(ENTRY_KEY, None)
    data.pop(EARLY_KEY, None)
    await answer_callback(update)
    lines = [
        t(
            loc,
            "progress.ask_text",
            content=view.item.content,
            deadline=format_date(view.item.deadline, loc),
        )
    ]
    if not view.own:
        lines.insert(0, t(loc, "progress.for_pledger", name=view.pledger_name))
    if view.item.status is ItemStatus.CLAIMED:
        lines.append(t(loc, "progress.ask_text.claimed"))
    await reply(update, "\n".join(lines))
    return ProgressState.TEXT


async def _saved(update: Update, ctx: Ctx, loc: str, view: EntryView) -> NoReturn:
    data = _data(ctx)
    data[ENTRY_KEY] = view.entry.id
    await reply(
        update,
        t(
            loc,
            "progress.saved",
            month=month_label(loc, view.entry.month),
            count=len(view.entry.evidence),
        ),
        _attach_buttons(loc, view.entry.id, _can_claim(view)),
    )
    _stop(ProgressState.ATTACH)


async def receive_text(update: Update, ctx: Ctx) -> int:
    """What was done: stored at once as this month's entry; evidence may follow."""
    loc = await locale_of(update, ctx)
    data = _data(ctx)
    item_id = data.get(ITEM_KEY)
    if item_id is None:
        await reply(update, t(loc, "error.stale_button"))
        _stop(ConversationHandler.END)
    try:
        view = await ctx.svc.progress.record(
            await actor_of(update, ctx), int(item_id), text_of(update), sent_before=_early(ctx)
        )
    except DomainError as exc:
        await reply(update, exc.render(loc))
        if exc.key.startswith("progress.text."):
            _stop(ProgressState.TEXT)  # still waiting for a usable text
        _forget(ctx)
        _stop(ConversationHandler.END)
    data.pop(EARLY_KEY, None)
    await _saved(update, ctx, loc, view)


def _early(ctx: Ctx) -> list[Evidence]:
    """The photos and files sent before the words (kept in the conversation's data)."""
    return [Evidence.model_validate(e) for e in _data(ctx).get(EARLY_KEY, [])]


async def receive_text_media(update: Update, ctx: Ctx) -> int:
    """A photo or file before the text: its caption is the text; without one it is kept for
    the entry and the words are asked for."""
    loc = await locale_of(update, ctx)
    data = _data(ctx)
    item_id = data.get(ITEM_KEY)
    message = update.effective_message
    caption = caption_of(update)
    incoming = incoming_of(message)
    if item_id is None or incoming is None:
        await reply(update, t(loc, "error.stale_button"))
        _stop(ConversationHandler.END)
    if not caption:
        await _keep_early(update, ctx, loc, incoming)
    try:
        evidence = await _evidence_of(ctx, incoming)
    except DomainError as exc:
        await reply(update, exc.render(loc))
        _stop(ProgressState.TEXT)
    try:
        view = await ctx.svc.progress.record(
            await actor_of(update, ctx), int(item_id), caption, evidence, sent_before=_early(ctx)
        )
    except DomainError as exc:
        await reply(update, exc.render(loc))
        if exc.key.startswith(("progress.text.", "progress.photo.", "progress.file.")):
            _stop(ProgressState.TEXT)
        _forget(ctx)
        _stop(ConversationHandler.END)
    data.pop(EARLY_KEY, None)
    await _saved(update, ctx, loc, view)


async def _keep_early(update: Update, ctx: Ctx, loc: str, incoming: Incoming) -> NoReturn:
    """Keep a photo or file sent before the words (refused as it would be when attached)."""
    early = _early(ctx)
    try:
        if len(early) >= MAX_EVIDENCE:
            raise DomainError("progress.evidence.too_many", limit=MAX_EVIDENCE)
        evidence = await _evidence_of(ctx, incoming)
    except DomainError as exc:
        await reply(update, exc.render(loc))
        _stop(ProgressState.TEXT)
    early.append(evidence)
    _data(ctx)[EARLY_KEY] = [e.model_dump(mode="json") for e in early]
    await reply(update, t(loc, "progress.evidence.kept_first", count=len(early)))
    _stop(ProgressState.TEXT)


async def receive_evidence(update: Update, ctx: Ctx) -> int:
    """A photo or file for the entry just written (a too-large one is refused, the rest kept)."""
    loc = await locale_of(update, ctx)
    data = _data(ctx)
    entry_id = data.get(ENTRY_KEY)
    incoming = incoming_of(update.effective_message)
    if entry_id is None or incoming is None:
        await reply(update, t(loc, "error.stale_button"))
        _stop(ConversationHandler.END)
    try:
        evidence = await _evidence_of(ctx, incoming)
        view = await ctx.svc.progress.attach(await actor_of(update, ctx), int(entry_id), evidence)
    except DomainError as exc:
        await reply(update, exc.render(loc), _attach_buttons(loc, int(entry_id)))
        if exc.key.startswith(
            ("progress.photo.", "progress.file.", "progress.evidence.", "files.")
        ):
            _stop(ProgressState.ATTACH)
        data.pop(ENTRY_KEY, None)
        _stop(ConversationHandler.END)
    await reply(
        update,
        t(loc, "progress.evidence.received", count=len(view.entry.evidence)),
        _attach_buttons(loc, view.entry.id, _can_claim(view)),
    )
    _stop(ProgressState.ATTACH)


async def attach_hint(update: Update, ctx: Ctx) -> int:
    """Anything but a photo or file while attaching: say what is expected (the entry is
    already saved)."""
    loc = await locale_of(update, ctx)
    entry_id = _data(ctx).get(ENTRY_KEY)
    buttons = _attach_buttons(loc, int(entry_id)) if entry_id is not None else None
    await reply(update, t(loc, "progress.send_media_or_done"), buttons)
    _stop(ProgressState.ATTACH)


def _forget(ctx: Ctx) -> None:
    """Drop what the conversation keeps (what was saved stays saved)."""
    data = _data(ctx)
    for key in (ITEM_KEY, ENTRY_KEY, BACK_KEY, BACK_CARD_KEY, EARLY_KEY):
        data.pop(key, None)


@guarded
async def finish(update: Update, ctx: Ctx) -> None:
    """ "完成": the entry stays as written; attaching ends."""
    loc = await locale_of(update, ctx)
    entry_id = _arg(update)
    if entry_id is None:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return
    view = await ctx.svc.progress.entry(await actor_of(update, ctx), entry_id)
    _forget(ctx)
    await answer_callback(update)
    await reply(
        update,
        t(
            loc,
            "progress.done",
            content=_short(view.item.content),
            month=month_label(loc, view.entry.month),
            count=len(view.entry.evidence),
        ),
        edit=True,
    )


@guarded
async def claim(update: Update, ctx: Ctx) -> None:
    """ "申请兑现销号": the entry becomes a claim; the verifiers are told."""
    loc = await locale_of(update, ctx)
    entry_id = _arg(update)
    if entry_id is None:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return
    view = await ctx.svc.progress.claim(await actor_of(update, ctx), entry_id)
    ctx.svc.outbox.wake()
    _forget(ctx)
    await answer_callback(update)
    key = "progress.claimed" if view.notified else "progress.claimed.nobody"
    await reply(update, t(loc, key, content=_short(view.item.content)), edit=True)


@guarded
async def cancel(update: Update, ctx: Ctx) -> int:
    """/cancel while reporting or commenting: what was saved stays."""
    data = _data(ctx)
    key = "progress.verify_cancelled" if data.pop(BACK_KEY, None) else "progress.cancelled"
    _forget(ctx)
    await reply(update, t(await locale_of(update, ctx), key))
    _stop(ConversationHandler.END)


# ---- verifying -----------------------------------------------------------------------------


@guarded
async def accept(update: Update, ctx: Ctx) -> None:
    """✅ on a claim: the item is ticked off (兑现销号)."""
    loc = await locale_of(update, ctx)
    entry_id = _arg(update)
    if entry_id is None:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return
    view = await ctx.svc.progress.accept(await actor_of(update, ctx), entry_id)
    ctx.svc.outbox.wake()
    await answer_callback(update, t(loc, "progress.done.accepted_short"))
    await reply(
        update,
        t(loc, "progress.done.accepted", name=view.pledger_name, content=view.item.content),
        edit=True,
    )


@guarded
async def ask_comment(update: Update, ctx: Ctx) -> ProgressState | int:
    """↩️ on a claim: check it can still be decided, then ask why it goes back."""
    loc = await locale_of(update, ctx)
    entry_id = _arg(update)
    if entry_id is None:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return ConversationHandler.END
    view = await ctx.svc.progress.check_verifiable(await actor_of(update, ctx), entry_id)
    data = _data(ctx)
    data[BACK_KEY] = entry_id
    card = update.callback_query.message if update.callback_query else None
    if card is not None:
        data[BACK_CARD_KEY] = [card.chat.id, card.message_id]
    else:
        data.pop(BACK_CARD_KEY, None)
    await answer_callback(update)
    await reply(
        update,
        t(loc, "progress.ask_comment", name=view.pledger_name, content=_short(view.item.content)),
    )
    return ProgressState.COMMENT


async def receive_comment(update: Update, ctx: Ctx) -> int:
    """The reason: send the claim back with it."""
    loc = await locale_of(update, ctx)
    data = _data(ctx)
    entry_id = data.get(BACK_KEY)
    if entry_id is None:
        await reply(update, t(loc, "error.stale_button"))
        _stop(ConversationHandler.END)
    try:
        view = await ctx.svc.progress.send_back(
            await actor_of(update, ctx), int(entry_id), text_of(update)
        )
    except DomainError as exc:
        await reply(update, exc.render(loc))
        if exc.key.startswith("progress.comment."):
            _stop(ProgressState.COMMENT)
        data.pop(BACK_KEY, None)
        data.pop(BACK_CARD_KEY, None)
        _stop(ConversationHandler.END)
    data.pop(BACK_KEY, None)
    ctx.svc.outbox.wake()
    card = data.pop(BACK_CARD_KEY, None)
    if isinstance(card, list) and len(card) == 2:
        # The card is decided: it says so and keeps no live 确认 / 退回 buttons.
        text = t(
            loc,
            "progress.card.sent_back",
            name=view.pledger_name,
            content=view.item.content,
            reason=text_of(update),
        )
        try:
            await ctx.bot.edit_message_text(text, chat_id=card[0], message_id=card[1])
        except TelegramError as exc:  # deleted meanwhile, or too old to edit
            log.info("claim card %s not edited: %s", card, exc.message)
    await reply(update, t(loc, "progress.done.sent_back", name=view.pledger_name))
    _stop(ConversationHandler.END)


@guarded
async def show_evidence(update: Update, ctx: Ctx) -> None:
    """📎 on a claim: the bot sends the photos and files by their Telegram file_id."""
    loc = await locale_of(update, ctx)
    entry_id = _arg(update)
    chat = update.effective_chat
    if entry_id is None or chat is None:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return
    view = await ctx.svc.progress.evidence(await actor_of(update, ctx), entry_id)
    await answer_callback(update)
    await reply(
        update,
        t(
            loc,
            "progress.evidence.title",
            name=view.pledger_name,
            content=_short(view.item.content),
            count=len(view.entry.evidence),
        ),
    )
    for evidence in view.entry.evidence:
        method = "sendPhoto" if evidence.kind is EvidenceKind.PHOTO else "sendDocument"
        try:
            await ctx.svc.files.send(_api(ctx), method, {"chat_id": chat.id}, evidence.file)
        except (TelegramError, FileMissing) as exc:  # Telegram lost it, and so did the store
            log.warning("evidence file %s could not be sent: %s", evidence.file, exc)
            await reply(update, t(loc, "progress.evidence.unavailable", name=evidence.name or ""))


def _api(ctx: Ctx) -> ApiCall:
    """A Bot API call by name, its raw answer (PTB's typed methods build what is not needed)."""

    async def call(method: str, params: dict[str, Any]) -> Any:
        return await ctx.bot.do_api_request(method[0].upper() + method[1:], api_kwargs=params)

    return call


async def _show_claims(update: Update, loc: str, claims: list[ClaimView]) -> None:
    if not claims:
        await reply(update, t(loc, "progress.pending.empty"))
        return
    await reply(update, t(loc, "progress.pending.title", count=len(claims)))
    for view in claims:
        await reply(update, claim_card(loc, view), claim_buttons(loc, view.entry))


@guarded
async def show_pending(update: Update, ctx: Ctx) -> None:
    """The claims waiting for this verifier (from the ledger's button)."""
    loc = await locale_of(update, ctx)
    claims = await ctx.svc.progress.pending_claims(await actor_of(update, ctx))
    await answer_callback(update)
    await _show_claims(update, loc, claims)


# ---- the monthly record ------------------------------------------------------------------


def render_record(loc: str, record: MonthRecord, tz: tzinfo) -> tuple[str, Rows]:
    """My entries of a month with their evidence count and what became of a claim."""
    label = month_label(loc, record.month)
    if not record.lines:
        text = t(loc, "record.empty", month=label)
    else:
        lines = [t(loc, "record.title", month=label, count=len(record.lines))]
        for line in record.lines:
            entry = line.entry
            lines.append(
                t(
                    loc,
                    "record.line",
                    date=entry.created_at.astimezone(tz).strftime("%m-%d"),
                    content=_short(line.item_content, 20),
                    text=entry.text,
                )
            )
            if entry.evidence:
                lines.append(t(loc, "record.evidence", count=len(entry.evidence)))
            if entry.verdict is Verdict.SENT_BACK:
                lines.append(t(loc, "record.sent_back", comment=entry.verdict_comment or ""))
            elif entry.verdict is not Verdict.NOTE:
                lines.append(t(loc, f"record.claim.{entry.verdict.value}"))
        text = "\n".join(lines)
    before = previous_month(record.month)
    buttons = [button(t(loc, "record.btn.month", month=month_label(loc, before)), "rec", before)]
    if record.month != record.current:
        buttons.append(button(t(loc, "record.btn.current"), "rec", record.current))
    return text, [buttons]


@guarded
async def show_record(update: Update, ctx: Ctx) -> None:
    """/record: my monthly record (记实) of this month."""
    loc = await locale_of(update, ctx)
    record = await ctx.svc.progress.month_record(await actor_of(update, ctx))
    text, buttons = render_record(loc, record, ctx.svc.clock.tz)
    await reply(update, text, buttons)


@guarded
async def record_month(update: Update, ctx: Ctx) -> None:
    """A month button of the record."""
    loc = await locale_of(update, ctx)
    data = pressed(update)
    month = data.args[0] if data and data.args else ""
    record = await ctx.svc.progress.month_record(await actor_of(update, ctx), month)
    await answer_callback(update)
    text, buttons = render_record(loc, record, ctx.svc.clock.tz)
    await reply(update, text, buttons, edit=True)


# ---- wiring ------------------------------------------------------------------------------


def _pattern(*actions: str) -> str:
    return actions_pattern(FEATURE, *actions)


def build() -> list[BaseHandler[Update, Ctx, object]]:
    """Among the features: /progress, /record and the buttons that need no conversation."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("progress", show_items, filters=private),
        CommandHandler("record", show_record, filters=private),
        CallbackQueryHandler(finish, pattern=_pattern("done")),
        CallbackQueryHandler(claim, pattern=_pattern("claim")),
        CallbackQueryHandler(accept, pattern=_pattern("ok")),
        CallbackQueryHandler(show_evidence, pattern=_pattern("ev")),
        CallbackQueryHandler(show_pending, pattern=_pattern("pend")),
        CallbackQueryHandler(record_month, pattern=_pattern("rec")),
    ]


def build_conversation() -> list[BaseHandler[Update, Ctx, object]]:
    """Writing progress (text, then evidence) and a verifier's send-back comment.

    In its own group before the features: only while it waits does it take text, photos or
    files, and then nothing after it sees them (handlers/dialog.py).
    """
    private = filters.ChatType.PRIVATE
    media = (filters.PHOTO | filters.Document.ALL) & private
    text = filters.TEXT & ~filters.COMMAND & private
    return [
        dialog(
            name="progress",
            entry_points=[
                CallbackQueryHandler(pick_item, pattern=_pattern("it")),
                CallbackQueryHandler(ask_comment, pattern=_pattern("back")),
            ],
            states={
                ProgressState.TEXT: [
                    MessageHandler(text, receive_text),
                    MessageHandler(media, receive_text_media),
                ],
                ProgressState.ATTACH: [
                    MessageHandler(media, receive_evidence),
                    # text, a sticker…: say that photos or files are asked for, or 完成
                    MessageHandler(~filters.COMMAND & private, attach_hint),
                ],
                ProgressState.COMMENT: [MessageHandler(text, receive_comment)],
            },
            cancel=cancel,
            forget=_forget,
            resume="progress",
            timeout=TIMEOUT_SECONDS,
            # 完成 and 申请兑现销号 end the attaching step by design.
            finishing_buttons=_pattern("done", "claim"),
        )
    ]
