"""/evaluate: the short conversation that opens a mass evaluation (群众评议), and rescheduling a
void one. The branch, what is evaluated, the closing time, the quorum (below the rule's only with
a reason), a preview, then 确认发起.

Every step stops the update here (ApplicationHandlerStop), so nothing after this group answers
it again; a set-up button of a dialog that is over, or someone else's, is answered as stale by
:func:`stale_button` (registered among the features), never left spinning.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from datetime import datetime
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
from bot.chat.actions import Rows
from bot.context import Ctx
from bot.domain.dates import format_moment
from bot.domain.errors import DomainError
from bot.domain.evaluation import FEATURE, Plan, button, parse_closing, percent
from bot.domain.evaluation_models import EvalStatus, SubjectKind
from bot.i18n import t
from handlers.common import actor_of, answer_callback, guarded, locale_of, pressed, reply, text_of
from handlers.dialog import dialog

TIMEOUT_SECONDS = 1800
ORG_KEY = "ev_org"
KIND_KEY = "ev_kind"
CLOSES_KEY = "ev_closes"
QUORUM_KEY = "ev_quorum"
REASON_KEY = "ev_reason"
RESCHEDULE_KEY = "ev_re"
SLIPS_KEY = "ev_slips"  # one-time ballot slips (现场票) printed with the evaluation
# the slip and paper-box steps' (handlers/ballot_slips.py MORE_KEY, PAPER_KEY)
SLIP_STEP_KEYS = ("sl_eval", "sl_paper")
KEYS = (
    ORG_KEY,
    KIND_KEY,
    CLOSES_KEY,
    QUORUM_KEY,
    REASON_KEY,
    RESCHEDULE_KEY,
    SLIPS_KEY,
    *SLIP_STEP_KEYS,
)
# the buttons of this conversation (and of its ballot-slip and paper-box steps)
SETUP_ACTIONS = ("br", "k", "q", "slq", "ok", "no", "ppok", "ppno")


class EvaluateState(StrEnum):
    """What the /evaluate conversation waits for (stored by the persistence as strings)."""

    BRANCH = "branch"
    KIND = "kind"
    TIME = "time"
    QUORUM = "quorum"
    REASON = "reason"
    CONFIRM = "confirm"
    RESCHEDULE = "reschedule"
    SLIPS = "slips"  # how many one-time ballot slips (handlers/ballot_slips.py)


Step = Callable[[Update, Ctx], Coroutine[Any, Any, object]]


def _stops(func: Step) -> Callable[[Update, Ctx], Coroutine[Any, Any, None]]:
    """The step's update goes no further than this conversation (no "not understood" hint, no
    stale-button answer after it); its result is the conversation's next state (None: the
    same)."""

    @functools.wraps(func)
    async def wrapper(update: Update, ctx: Ctx) -> None:
        raise ApplicationHandlerStop(await func(update, ctx))

    return wrapper


def _stop(state: object) -> NoReturn:
    raise ApplicationHandlerStop(state)


def _data(ctx: Ctx) -> dict[Any, Any]:
    return ctx.user_data if ctx.user_data is not None else {}


def _forget(ctx: Ctx) -> None:
    data = _data(ctx)
    for key in KEYS:
        data.pop(key, None)


def _arg(update: Update, index: int = 0) -> str | None:
    data = pressed(update)
    if data is None or len(data.args) <= index:
        return None
    return data.args[index]


def _int_arg(update: Update, index: int = 0) -> int | None:
    raw = _arg(update, index)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _closes(ctx: Ctx) -> datetime | None:
    raw = _data(ctx).get(CLOSES_KEY)
    try:
        return datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


# ---- the branch and what is evaluated -----------------------------------------------------


@_stops
@guarded
async def start(update: Update, ctx: Ctx) -> EvaluateState | int:
    """/evaluate: pick the branch (a clerk), then what is evaluated."""
    loc = await locale_of(update, ctx)
    branches = await ctx.svc.evaluations.branches(await actor_of(update, ctx))
    _forget(ctx)
    if len(branches) == 1:
        _data(ctx)[ORG_KEY] = branches[0].org.id
        await _ask_kind(update, loc, branches[0].org.name)
        return EvaluateState.KIND
    buttons = [[button(b.org.name, "br", b.org.id)] for b in branches[:60]]
    await reply(update, t(loc, "ev.pick_branch"), buttons)
    return EvaluateState.BRANCH


async def _ask_kind(update: Update, loc: str, org_name: str, *, edit: bool = False) -> None:
    buttons = [
        [button(t(loc, "ev.kind.branch", org=org_name), "k", "b")],
        [button(t(loc, "ev.kind.members"), "k", "m")],
    ]
    await reply(update, t(loc, "ev.pick_kind", org=org_name), buttons, edit=edit)


@_stops
@guarded
async def pick_branch(update: Update, ctx: Ctx) -> EvaluateState | int:
    """A branch button."""
    loc = await locale_of(update, ctx)
    org_id = _int_arg(update)
    branches = {
        b.org.id: b for b in await ctx.svc.evaluations.branches(await actor_of(update, ctx))
    }
    if org_id is None or org_id not in branches:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return ConversationHandler.END
    _data(ctx)[ORG_KEY] = org_id
    await answer_callback(update)
    await _ask_kind(update, loc, branches[org_id].org.name, edit=True)
    return EvaluateState.KIND


@_stops
async def pick_kind(update: Update, ctx: Ctx) -> EvaluateState | int:
    """The branch as a whole, or each member."""
    loc = await locale_of(update, ctx)
    kind = {"b": SubjectKind.BRANCH, "m": SubjectKind.MEMBERS}.get(_arg(update) or "")
    if kind is None or ORG_KEY not in _data(ctx):
        await answer_callback(update, t(loc, "ev.expired"), alert=True)
        return ConversationHandler.END
    _data(ctx)[KIND_KEY] = kind.value
    await answer_callback(update)
    await reply(update, t(loc, "ev.ask_time"), edit=True)
    return EvaluateState.TIME


# ---- the closing time and the quorum ------------------------------------------------------


@_stops
async def receive_time(update: Update, ctx: Ctx) -> EvaluateState | int:
    """The closing time: then the quorum. The rule's quorum is offered on a button when the
    list is long enough; otherwise the secretary learns the rule and what to do."""
    loc = await locale_of(update, ctx)
    data = _data(ctx)
    if ORG_KEY not in data or KIND_KEY not in data:
        await reply(update, t(loc, "ev.expired"))
        return ConversationHandler.END
    try:
        closes = parse_closing(text_of(update), ctx.svc.clock.now())
        plan = await ctx.svc.evaluations.preview(
            await actor_of(update, ctx), int(data[ORG_KEY]), SubjectKind(data[KIND_KEY]), closes
        )
    except DomainError as exc:
        await reply(update, exc.render(loc))
        if exc.key.startswith("ev.time."):
            return EvaluateState.TIME
        _forget(ctx)
        return ConversationHandler.END
    data[CLOSES_KEY] = closes.isoformat()
    await ask_quorum(update, ctx, loc, plan)
    return EvaluateState.QUORUM


async def ask_quorum(update: Update, ctx: Ctx, loc: str, plan: Plan) -> None:
    """The quorum question: the rule's quorum on a button when the list (with the ballot
    slips) is long enough, else the rule and what to do; and the offer of ballot slips for
    residents not on the roster (现场票)."""
    svc = ctx.svc.evaluations
    params = {
        "closes": format_moment(plan.closes_at, ctx.svc.clock.tz, loc),
        "count": plan.participants,
        "members": plan.members,
        "residents": plan.residents,
        "quorum": plan.default_quorum,
        "rule": t(loc, "ev.quorum.rule", default=svc.quorum_default, small=svc.quorum_small),
    }
    slips = [[button(t(loc, "ev.btn.slips"), "slq")]]
    if not plan.fits:
        text = t(loc, "ev.ask_quorum.short", **params)
        buttons = slips
    else:
        text = t(loc, "ev.ask_quorum", **params)
        buttons = [[button(t(loc, "ev.btn.keep_quorum", quorum=plan.default_quorum), "q")]]
        buttons += slips
    if plan.slips:
        total = plan.participants + plan.slips
        text += "\n\n" + t(loc, "ev.slips.planned", slips=plan.slips, total=total)
    await reply(update, text, buttons)


async def _preview(update: Update, ctx: Ctx) -> Plan:
    data = _data(ctx)
    closes = _closes(ctx)
    if closes is None or ORG_KEY not in data or KIND_KEY not in data:
        raise DomainError("ev.expired")
    quorum = data.get(QUORUM_KEY)
    return await ctx.svc.evaluations.preview(
        await actor_of(update, ctx),
        int(data[ORG_KEY]),
        SubjectKind(data[KIND_KEY]),
        closes,
        int(quorum) if quorum is not None else None,
        data.get(REASON_KEY),
        int(data.get(SLIPS_KEY) or 0),
    )


def _preview_text(loc: str, plan: Plan, ctx: Ctx) -> str:
    kind = (
        t(loc, "ev.preview.kind.branch")
        if plan.kind is SubjectKind.BRANCH
        else t(loc, "ev.preview.kind.members", count=plan.subjects)
    )
    quorum = t(loc, "ev.preview.quorum", quorum=plan.quorum)
    if plan.quorum_reason:
        quorum = t(
            loc,
            "ev.preview.quorum_below",
            quorum=plan.quorum,
            rule=plan.default_quorum,
            reason=plan.quorum_reason,
        )
    return t(
        loc,
        "ev.preview",
        org=plan.org.name,
        kind=kind,
        count=plan.participants,
        members=plan.members,
        residents=plan.residents,
        reach=_reach(plan.participants, plan.reachable, loc),
        quorum_line=quorum,
        closes=format_moment(plan.closes_at, ctx.svc.clock.tz, loc),
        mark=percent(ctx.svc.evaluations.pass_permille),
    ) + (("\n" + t(loc, "ev.slips.preview", slips=plan.slips)) if plan.slips else "")


def _reach(participants: int, reachable: int, loc: str) -> str:
    """Who gets the ballot now, and (only if anyone) who gets it once they join."""
    if reachable >= participants:
        return t(loc, "ev.preview.reach.all")
    return t(loc, "ev.preview.reach.some", reachable=reachable, later=participants - reachable)


def _confirm_buttons(loc: str) -> Rows:
    return [[button(t(loc, "ev.btn.confirm"), "ok"), button(t(loc, "ev.btn.cancel"), "no")]]


@_stops
@guarded
async def keep_quorum(update: Update, ctx: Ctx) -> EvaluateState | int:
    """The rule's quorum: show the preview."""
    loc = await locale_of(update, ctx)
    _data(ctx).pop(QUORUM_KEY, None)
    _data(ctx).pop(REASON_KEY, None)
    plan = await _preview(update, ctx)
    if not plan.fits:  # an old button: the list is shorter than the rule's quorum now
        raise DomainError(
            "ev.quorum.range", count=plan.participants + plan.slips, quorum=plan.quorum
        )
    _data(ctx)[QUORUM_KEY] = plan.quorum
    await answer_callback(update)
    await reply(update, _preview_text(loc, plan, ctx), _confirm_buttons(loc), edit=True)
    return EvaluateState.CONFIRM


@_stops
async def receive_quorum(update: Update, ctx: Ctx) -> EvaluateState | int:
    """A quorum typed by the opener; below the rule's, the reason is asked next."""
    loc = await locale_of(update, ctx)
    raw = text_of(update).strip()
    digits = raw.rstrip("人").strip()
    if not digits.isdigit() or len(digits) > 6:
        await reply(update, t(loc, "ev.quorum.not_number"))
        return EvaluateState.QUORUM
    data = _data(ctx)
    data[QUORUM_KEY] = int(digits)
    data.pop(REASON_KEY, None)
    try:
        plan = await _preview(update, ctx)
    except DomainError as exc:
        data.pop(QUORUM_KEY, None)
        await reply(update, exc.render(loc))
        if exc.key == "ev.quorum.range":
            return EvaluateState.QUORUM
        _forget(ctx)
        return ConversationHandler.END
    if plan.below_rule:
        await reply(update, t(loc, "ev.ask_reason", quorum=plan.quorum, rule=plan.default_quorum))
        return EvaluateState.REASON
    await reply(update, _preview_text(loc, plan, ctx), _confirm_buttons(loc))
    return EvaluateState.CONFIRM


@_stops
async def receive_reason(update: Update, ctx: Ctx) -> EvaluateState | int:
    """Why the quorum is below the rule's: kept with the evaluation and shown in its result."""
    loc = await locale_of(update, ctx)
    data = _data(ctx)
    data[REASON_KEY] = text_of(update)
    try:
        plan = await _preview(update, ctx)
    except DomainError as exc:
        data.pop(REASON_KEY, None)
        await reply(update, exc.render(loc))
        if exc.key.startswith("ev.quorum.reason"):
            return EvaluateState.REASON
        _forget(ctx)
        return ConversationHandler.END
    data[REASON_KEY] = plan.quorum_reason
    await reply(update, _preview_text(loc, plan, ctx), _confirm_buttons(loc))
    return EvaluateState.CONFIRM


# ---- confirming -------------------------------------------------------------------------


@_stops
@guarded
async def confirm(update: Update, ctx: Ctx) -> int:
    """确认发起: one unit of work writes it all and queues the ballots."""
    loc = await locale_of(update, ctx)
    data = _data(ctx)
    closes = _closes(ctx)
    if closes is None or ORG_KEY not in data or KIND_KEY not in data:
        await answer_callback(update, t(loc, "ev.expired"), alert=True)
        return ConversationHandler.END
    quorum = data.get(QUORUM_KEY)
    opened = await ctx.svc.evaluations.open(
        await actor_of(update, ctx),
        int(data[ORG_KEY]),
        SubjectKind(data[KIND_KEY]),
        closes,
        int(quorum) if quorum is not None else None,
        data.get(REASON_KEY),
        int(data.get(SLIPS_KEY) or 0),
    )
    _forget(ctx)
    ctx.svc.outbox.wake()
    await answer_callback(update)
    await reply(update, t(loc, "ev.opened", reachable=opened.plan.reachable), edit=True)
    if opened.tokens:
        from handlers.ballot_slips import send_slips

        await send_slips(update, ctx, loc, opened.evaluation_id, opened.tokens)
    return ConversationHandler.END


@_stops
async def decline(update: Update, ctx: Ctx) -> int:
    """取消 on the preview."""
    _forget(ctx)
    await answer_callback(update)
    await reply(update, t(await locale_of(update, ctx), "ev.cancelled"), edit=True)
    return ConversationHandler.END


# ---- rescheduling a void evaluation -------------------------------------------------------


@_stops
@guarded
async def ask_reschedule(update: Update, ctx: Ctx) -> EvaluateState | int:
    """🔁 on a void evaluation: ask for the new closing time."""
    loc = await locale_of(update, ctx)
    evaluation_id = _int_arg(update)
    if evaluation_id is None:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return ConversationHandler.END
    view = await ctx.svc.evaluations.overview(await actor_of(update, ctx), evaluation_id)
    if view.evaluation.status is not EvalStatus.VOID:
        raise DomainError("ev.not_void")
    _forget(ctx)
    _data(ctx)[RESCHEDULE_KEY] = evaluation_id
    await answer_callback(update)
    await reply(update, t(loc, "ev.ask_reschedule"))
    return EvaluateState.RESCHEDULE


@_stops
async def receive_reschedule(update: Update, ctx: Ctx) -> EvaluateState | int:
    """The new closing time: the same evaluation opens again."""
    loc = await locale_of(update, ctx)
    evaluation_id = _data(ctx).get(RESCHEDULE_KEY)
    if evaluation_id is None:
        await reply(update, t(loc, "ev.expired"))
        return ConversationHandler.END
    try:
        closes = parse_closing(text_of(update), ctx.svc.clock.now())
        await ctx.svc.evaluations.reschedule(
            await actor_of(update, ctx), int(evaluation_id), closes
        )
    except DomainError as exc:
        await reply(update, exc.render(loc))
        if exc.key.startswith("ev.time."):
            return EvaluateState.RESCHEDULE
        _forget(ctx)
        return ConversationHandler.END
    _forget(ctx)
    ctx.svc.outbox.wake()
    await reply(
        update, t(loc, "ev.rescheduled", closes=format_moment(closes, ctx.svc.clock.tz, loc))
    )
    return ConversationHandler.END


# ---- leaving, and buttons that are no longer valid ----------------------------------------


async def cancel(update: Update, ctx: Ctx) -> int:
    """/cancel: nothing is opened."""
    _forget(ctx)
    await reply(update, t(await locale_of(update, ctx), "ev.cancelled"))
    _stop(ConversationHandler.END)


@guarded
async def stale_button(update: Update, ctx: Ctx) -> None:
    """A set-up button of a dialog that is over (a double tap on 确认发起, /cancel before),
    or of someone else's: answered, nothing changes. While a dialog of one's own is open, it
    goes on (the state stays)."""
    await answer_callback(
        update, t(await locale_of(update, ctx), "error.stale_button"), alert=True
    )


# ---- wiring ------------------------------------------------------------------------------


def _pattern(*actions: str) -> str:
    return actions_pattern(FEATURE, *actions)


def build_stale() -> list[BaseHandler[Update, Ctx, object]]:
    """Among the features: set-up buttons no conversation took."""
    return [CallbackQueryHandler(stale_button, pattern=_pattern(*SETUP_ACTIONS))]


def build_conversation() -> list[BaseHandler[Update, Ctx, object]]:
    """/evaluate and rescheduling: a dialog in its own group, taking text only while it waits
    (handlers/dialog.py)."""
    from handlers import ballot_slips as slips

    private = filters.ChatType.PRIVATE
    text = filters.TEXT & ~filters.COMMAND & private
    return [
        dialog(
            name="evaluation",
            entry_points=[
                CommandHandler("evaluate", start, filters=private),
                CallbackQueryHandler(ask_reschedule, pattern=_pattern("re")),
                *slips.entry_points(),
            ],
            states={
                EvaluateState.BRANCH: [CallbackQueryHandler(pick_branch, pattern=_pattern("br"))],
                EvaluateState.KIND: [CallbackQueryHandler(pick_kind, pattern=_pattern("k"))],
                EvaluateState.TIME: [MessageHandler(text, receive_time)],
                EvaluateState.QUORUM: [
                    CallbackQueryHandler(keep_quorum, pattern=_pattern("q")),
                    CallbackQueryHandler(slips.ask_count, pattern=_pattern("slq")),
                    MessageHandler(text, receive_quorum),
                ],
                EvaluateState.SLIPS: [MessageHandler(text, slips.receive_count)],
                **slips.states(text, private),
                EvaluateState.REASON: [MessageHandler(text, receive_reason)],
                EvaluateState.CONFIRM: [
                    CallbackQueryHandler(confirm, pattern=_pattern("ok")),
                    CallbackQueryHandler(decline, pattern=_pattern("no")),
                ],
                EvaluateState.RESCHEDULE: [MessageHandler(text, receive_reschedule)],
            },
            cancel=cancel,
            forget=_forget,
            resume="evaluate",
            timeout=TIMEOUT_SECONDS,
            fallbacks=[
                # An old set-up button while the dialog waits for something else: refused,
                # and the dialog goes on where it was.
                CallbackQueryHandler(_stops(stale_button), pattern=_pattern(*SETUP_ACTIONS)),
            ],
        )
    ]
