"""定诺 in conversation: /pledge (and /oral for a secretary recording for a member).

The conversation's next question is derived from the stored draft (``next_step``), so a
restart, a lost state or an old button never loses or confuses what was entered.
"""

from __future__ import annotations

from enum import StrEnum

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import callbacks as cb
from bot.context import Ctx
from bot.domain.dates import format_date
from bot.domain.enums import Category, Horizon, PledgerKind, PledgeStatus, Role
from bot.domain.errors import DomainError
from bot.domain.pledge_rules import cadre_gaps, categories_for
from bot.domain.pledges import ITEM_FIELDS, DraftView, Step
from bot.domain.render import pledge_card
from bot.domain.templates import suggested_topics
from bot.i18n import t
from handlers.common import (
    Buttons,
    answer_callback,
    guarded,
    locale_of,
    reply,
    text_of,
    user_id,
)
from handlers.dialog import dialog

CONVERSATION_TIMEOUT_SECONDS = 3600
QUICK_DEADLINES = {"y": "年底", "m": "下月底"}


class DraftState(StrEnum):
    """The conversation's states (stored by the persistence as strings)."""

    DRAFTING = "drafting"


def _b(text: str, action: str, *args: object) -> dict[str, str]:
    return {"text": text, "callback_data": cb.build(cb.DRAFT, action, *args)}


def render_step(view: DraftView, loc: str) -> tuple[str, Buttons]:
    """The question (and its buttons) for the draft's next step."""
    pledge = view.pledge
    key = (pledge.id, pledge.version)  # every button is for this version of the pledge
    step = view.step
    header = t(loc, "draft.header", name=view.pledger_name) if pledge.is_oral else ""
    pending = pledge.pending_item
    editing = pending is not None and pending.editing_item_id is not None
    # The item's number: its position when an existing item is re-asked, else the next one.
    n = len(pledge.items) + 1
    if pending is not None and pending.editing_item_id is not None:
        n = next(
            (k + 1 for k, i in enumerate(pledge.items) if i.id == pending.editing_item_id),
            len(pledge.items),
        )
    drop_row = [[_b(t(loc, "draft.btn.drop_item"), "drop", *key)]] if pledge.items else []
    text: str
    buttons: list[list[dict[str, str]]]
    if step is Step.HORIZON:
        text = t(loc, "draft.ask.horizon")
        if view.annual_closed is not None:  # warned before the choice, not at submitting
            text += "\n\n" + _annual_closed(view, loc)
        buttons = [[_b(t(loc, f"horizon.{h.value}"), "hz", *key, h.value)] for h in Horizon]
    elif step is Step.CATEGORY:
        text = t(loc, "draft.ask.category", n=n)
        buttons = [
            [_b(t(loc, f"category.{c.value}"), "cat", *key, c.value)]
            for c in categories_for(pledge.pledger_kind)
        ] + drop_row
    elif step is Step.CONTENT:
        topics = suggested_topics(view.org.type, view.kind, loc)
        lines = [t(loc, "draft.ask.content", n=n)]
        if topics and not editing:
            lines.append(t(loc, "draft.topics"))
            lines += [f"{i + 1}. {topic}" for i, topic in enumerate(topics)]
        text = "\n".join(lines)
        buttons = (
            [[_b(f"{i + 1}", "tpl", *key, i) for i in range(len(topics))]]
            if topics and not editing
            else []
        ) + drop_row
    elif step is Step.TARGET:
        text = t(loc, "draft.ask.target")
        buttons = drop_row
    elif step is Step.DEADLINE:
        text = t(loc, "draft.ask.deadline")
        buttons = [
            [_b(t(loc, f"draft.btn.deadline.{k}"), "dl", *key, k) for k in QUICK_DEADLINES],
            *drop_row,
        ]
    elif step is Step.RESPONSIBLE:
        text = t(loc, "draft.ask.responsible")
        me = t(loc, _whose("draft.btn.me", view), name=view.pledger_name)
        buttons = [[_b(me, "me", *key)], *drop_row]
    else:
        text, buttons = _summary(view, loc)
    if step is not Step.HORIZON and _annual_blocked(view):
        text = f"{_annual_closed(view, loc)}\n\n{text}"
    return (f"{header}\n{text}" if header else text), buttons


def _whose(key: str, view: DraftView) -> str:
    """The form of ``key`` for whose pledge it is: one's own, a member's oral pledge recorded
    by the secretary (the secretary is not the pledger), or the branch's."""
    if view.kind is PledgerKind.BRANCH:
        return f"{key}.branch"
    return f"{key}.oral" if view.pledge.is_oral else key


def _annual_blocked(view: DraftView) -> bool:
    """An annual draft that could not be submitted today (outside the pledge window)."""
    pledge = view.pledge
    return (
        view.annual_closed is not None
        and pledge.horizon is Horizon.ANNUAL
        and pledge.status is PledgeStatus.DRAFT
    )


def _annual_closed(view: DraftView, loc: str) -> str:
    assert view.annual_closed is not None
    start, end = (format_date(day, loc) for day in view.annual_closed)
    return t(loc, "draft.annual_closed", start=start, end=end)


def _summary(view: DraftView, loc: str) -> tuple[str, list[list[dict[str, str]]]]:
    pledge = view.pledge
    key = (pledge.id, pledge.version)
    parts = [
        t(loc, _whose("draft.summary", view), name=view.pledger_name),
        pledge_card(loc, pledge, view.pledger_name, view.org.name),
    ]
    # Warn a cadre before submitting; the reviewer sees the same flag.
    if pledge.pledger_kind is PledgerKind.MEMBER and view.pledger_is_cadre:
        gaps = cadre_gaps([i.category for i in pledge.items])
        if gaps:
            names = "、".join(t(loc, f"cadre.gap.{g}") for g in gaps)
            parts.append(t(loc, "draft.cadre_warning", gaps=names))
    buttons = [
        [_b(t(loc, "draft.btn.add"), "add", *key), _b(t(loc, "draft.btn.edit"), "edits", *key)],
        [_b(t(loc, "draft.btn.remove"), "rms", *key), _b(t(loc, "draft.btn.submit"), "sub", *key)],
        [_b(t(loc, "draft.btn.change_horizon"), "chz", *key)],
    ]
    if pledge.status is PledgeStatus.AMENDING:
        buttons.append([_b(t(loc, "draft.btn.abandon"), "abandon", *key)])
    elif pledge.status is PledgeStatus.DRAFT:
        buttons.append([_b(t(loc, "draft.btn.discard"), "disc", *key)])
    return "\n\n".join(parts), buttons


async def _show(update: Update, ctx: Ctx, view: DraftView, *, edit: bool) -> DraftState:
    loc = await locale_of(update, ctx)
    ctx.user_data["pledge_id"] = view.pledge.id  # type: ignore[index]
    text, buttons = render_step(view, loc)
    await reply(update, text, buttons, edit=edit)
    return DraftState.DRAFTING


@guarded
async def start_pledge(update: Update, ctx: Ctx) -> DraftState | int:
    """/pledge: resume the open draft or start one (secretaries choose: own or branch)."""
    tg = user_id(update)
    loc = await locale_of(update, ctx)
    profile = await ctx.svc.onboarding.profile(tg)
    if profile is not None and profile.person.role is Role.SECRETARY:
        buttons = [
            [_b(t(loc, "draft.btn.kind.me"), "kind", "me")],
            [_b(t(loc, "draft.btn.kind.branch"), "kind", "br")],
        ]
        await reply(update, t(loc, "draft.ask.kind"), buttons)
        return DraftState.DRAFTING
    view = await ctx.svc.pledges.open_draft(tg)
    if view.pledge.items or view.pledge.horizon:
        await reply(update, t(loc, "draft.resumed"))
    return await _show(update, ctx, view, edit=False)


@guarded
async def start_oral(update: Update, ctx: Ctx) -> DraftState | int:
    """/oral: a secretary picks the member whose oral pledge they record."""
    loc = await locale_of(update, ctx)
    members = await ctx.svc.pledges.oral_candidates(user_id(update))
    if not members:
        await reply(update, t(loc, "oral.no_members"))
        return ConversationHandler.END
    buttons = [[_b(("🗣 " if m.oral else "") + m.name, "oral", m.id)] for m in members[:90]]
    await reply(update, t(loc, "oral.pick"), buttons)
    return DraftState.DRAFTING


@guarded
async def on_button(update: Update, ctx: Ctx) -> DraftState | int:
    """Every drafting button: parse, call one service method, show the next step."""
    query = update.callback_query
    assert query is not None
    data = cb.parse(query.data)
    tg = user_id(update)
    svc = ctx.svc.pledges
    loc = await locale_of(update, ctx)
    if data is None or not data.args:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return ConversationHandler.END
    action = data.action
    try:
        if action == "kind":
            kind = PledgerKind.BRANCH if data.args[0] == "br" else PledgerKind.MEMBER
            view = await svc.open_draft(tg, kind=kind)
        elif action == "oral":
            view = await svc.open_draft(tg, on_behalf_of=data.int_arg(0))
        else:
            pid, version = data.int_arg(0), data.int_arg(1)
            ctx.user_data["pledge_id"] = pid  # type: ignore[index]
            result = await _pledge_action(update, ctx, action, (pid, version), data.args[2:], loc)
            if result is None:
                return DraftState.DRAFTING
            if isinstance(result, int):
                return result
            view = result
    except (ValueError, IndexError, KeyError):  # malformed or tampered callback data
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return DraftState.DRAFTING
    await answer_callback(update)
    return await _show(update, ctx, view, edit=True)


async def _pledge_action(
    update: Update, ctx: Ctx, action: str, key: tuple[int, int], args: tuple[str, ...], loc: str
) -> DraftView | int | None:
    """Run one button's action; a DraftView to show, END, or None if already answered.

    ``key``: the pledge and the version the button was made for; a button of an older
    version (e.g. "submit" on a pledge since submitted and returned) changes nothing."""
    tg = user_id(update)
    svc = ctx.svc.pledges
    pid, version = key
    if action == "open":  # only shows the draft as it is now, with buttons for this version
        return await svc.current_draft(tg, pid)
    if action == "amend":
        return await svc.amend(tg, pid, version=version)
    if action == "hz":
        return await svc.set_horizon(tg, pid, Horizon(args[0]), version=version)
    if action == "cat":
        return await svc.answer(tg, pid, Category(args[0]).value, version=version)
    if action == "tpl":
        view = await svc.current_draft(tg, pid, version=version)
        topics = suggested_topics(view.org.type, view.kind, loc)
        return await svc.answer(tg, pid, topics[int(args[0])], version=version)
    if action == "dl":
        return await svc.answer(tg, pid, QUICK_DEADLINES[args[0]], version=version)
    if action == "me":
        return await svc.answer(tg, pid, await svc.default_responsible(tg, pid), version=version)
    if action == "chz":
        return await svc.change_horizon(tg, pid, version=version)
    if action == "add":
        return await svc.start_item(tg, pid, version=version)
    if action == "drop":
        return await svc.drop_pending(tg, pid, version=version)
    if action in {"edits", "rms"}:
        view = await svc.current_draft(tg, pid, version=version)
        follow = "ei" if action == "edits" else "rm"
        # Numbered as the card numbers them (positions keep gaps after a removal).
        rows = [
            [_b(f"{k}. {i.content[:30]}", follow, *key, i.id)]
            for k, i in enumerate(view.pledge.items, start=1)
        ]
        rows.append([_b(t(loc, "draft.btn.back"), "open", *key)])
        await answer_callback(update)
        question = "draft.ask.which_edit" if action == "edits" else "draft.ask.which_remove"
        await reply(update, t(loc, question), rows, edit=True)
        return None
    if action == "ei":
        item_id = int(args[0])
        rows = [
            [_b(t(loc, f"field.{f.value}"), "ef", *key, item_id, f.value)] for f in ITEM_FIELDS
        ]
        rows.append([_b(t(loc, "draft.btn.back"), "open", *key)])
        await answer_callback(update)
        await reply(update, t(loc, "draft.ask.which_field"), rows, edit=True)
        return None
    if action == "ef":
        return await svc.edit_item(tg, pid, int(args[0]), Step(args[1]), version=version)
    if action == "rm":
        return await svc.remove_item(tg, pid, int(args[0]), version=version)
    if action == "sub":
        view = await svc.submit(tg, pid, version=version)
        ctx.svc.outbox.wake()
        await answer_callback(update)
        card = pledge_card(loc, view.pledge, view.pledger_name, view.org.name)
        submitted = t(loc, _whose("draft.submitted", view), name=view.pledger_name)
        await reply(update, submitted + "\n\n" + card, edit=True)
        return ConversationHandler.END
    if action == "disc":
        await svc.discard(tg, pid, version=version)
        await answer_callback(update)
        await reply(update, t(loc, "draft.discarded"), edit=True)
        return ConversationHandler.END
    if action == "abandon":
        await svc.abandon_amendment(tg, pid, version=version)
        await answer_callback(update)
        await reply(update, t(loc, "draft.amendment_abandoned"), edit=True)
        return ConversationHandler.END
    raise DomainError("error.stale_button")


@guarded
async def on_text(update: Update, ctx: Ctx) -> DraftState | int:
    """A typed answer to the current question."""
    tg = user_id(update)
    loc = await locale_of(update, ctx)
    svc = ctx.svc.pledges
    pid = ctx.user_data.get("pledge_id") if ctx.user_data else None
    if pid is None:
        latest = await svc.latest_open_draft(tg)
        if latest is None:
            await reply(update, t(loc, "draft.none_open"))
            return ConversationHandler.END
        pid = latest.pledge.id
    view = await svc.current_draft(tg, int(pid))
    if view.step not in ITEM_FIELDS or view.step is Step.CATEGORY:
        await reply(update, t(loc, "draft.use_buttons"))
        return await _show(update, ctx, view, edit=False)
    try:
        view = await svc.answer(tg, int(pid), text_of(update))
    except DomainError as exc:
        await reply(update, exc.render(loc))
        return await _show(update, ctx, view, edit=False)
    return await _show(update, ctx, view, edit=False)


@guarded
async def not_text(update: Update, ctx: Ctx) -> DraftState | int:
    """A photo, sticker, location…: say what the current step needs and ask it again."""
    loc = await locale_of(update, ctx)
    pid = ctx.user_data.get("pledge_id") if ctx.user_data else None
    view = await ctx.svc.pledges.current_draft(user_id(update), int(pid)) if pid else None
    if view is None:  # still choosing whose pledge it is: the buttons above
        await reply(update, t(loc, "dialog.wants_button"))
        return DraftState.DRAFTING
    wants_words = view.step in ITEM_FIELDS and view.step is not Step.CATEGORY
    await reply(update, t(loc, "dialog.wants_words" if wants_words else "draft.use_buttons"))
    return await _show(update, ctx, view, edit=False)


def _forget(ctx: Ctx) -> None:
    """The draft stays in the database; only the conversation's pointer to it goes."""
    if ctx.user_data is not None:
        ctx.user_data.pop("pledge_id", None)


@guarded
async def cancel(update: Update, ctx: Ctx) -> int:
    """/cancel: leave; the draft stays and /pledge resumes it."""
    await reply(update, t(await locale_of(update, ctx), "draft.cancelled"))
    return ConversationHandler.END


async def timed_out(update: Update, ctx: Ctx) -> None:
    """The conversation went quiet: tell the person the draft is kept."""
    if update.effective_chat is not None:
        await update.effective_chat.send_message(t(await locale_of(update, ctx), "draft.timeout"))


def build() -> list[BaseHandler[Update, Ctx, object]]:
    """The drafting dialog (handlers/dialog.py): /pledge, /oral and every drafting button."""
    private = filters.ChatType.PRIVATE
    buttons: CallbackQueryHandler[Ctx, object] = CallbackQueryHandler(
        on_button, pattern=cb.pattern(cb.DRAFT)
    )
    return [
        dialog(
            name="pledge_draft",
            entry_points=[
                CommandHandler("pledge", start_pledge, filters=private),
                CommandHandler("oral", start_oral, filters=private),
                buttons,
            ],
            states={
                DraftState.DRAFTING: [
                    buttons,
                    MessageHandler(filters.TEXT & ~filters.COMMAND & private, on_text),
                ],
                ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, timed_out)],
            },
            cancel=cancel,
            forget=_forget,
            resume="pledge",
            timeout=CONVERSATION_TIMEOUT_SECONDS,
            # The draft is stored as it is answered: it waits under whatever comes between.
            stays_open=True,
            off_topic=not_text,
        )
    ]
