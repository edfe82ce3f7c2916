"""群众评议 in chat: /evaluate (a short conversation), /evaluations, and the ballots' answers.

The ballots are Telegram non-anonymous polls (see bot/domain/evaluation.py for why); their
answers arrive as ``poll_answer`` updates. Those skip the per-update idempotency guard: the
ballot box claims their update ids itself, in the same transaction as the ballots of the
batch they join. Nothing here logs or stores a choice, and PTB's own debug logging of raw
updates is filtered so a log never pairs a person with a choice.
"""

from __future__ import annotations

import logging
import warnings
from datetime import datetime
from enum import StrEnum
from typing import Any, NoReturn

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    ExtBot,
    MessageHandler,
    PollAnswerHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import callbacks as cb
from bot.context import BotData, Ctx, Services
from bot.domain.dates import format_date
from bot.domain.errors import DomainError
from bot.domain.evaluation import (
    FEATURE,
    TOLD,
    Answer,
    Overview,
    Plan,
    Tally,
    button,
    format_moment,
    parse_closing,
    percent,
    results_text,
)
from bot.domain.evaluation_models import EvalStatus, SubjectKind
from bot.i18n import t
from bot.lanes import ChatLanes
from handlers.common import answer_callback, guarded, locale_of, reply, text_of, user_id

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 1800
ORG_KEY = "ev_org"
KIND_KEY = "ev_kind"
CLOSES_KEY = "ev_closes"
QUORUM_KEY = "ev_quorum"
RESCHEDULE_KEY = "ev_re"
KEYS = (ORG_KEY, KIND_KEY, CLOSES_KEY, QUORUM_KEY, RESCHEDULE_KEY)


class EvaluateState(StrEnum):
    """What the /evaluate conversation waits for (stored by the persistence as strings)."""

    BRANCH = "branch"
    KIND = "kind"
    TIME = "time"
    QUORUM = "quorum"
    CONFIRM = "confirm"
    RESCHEDULE = "reschedule"


def _data(ctx: Ctx) -> dict[Any, Any]:
    return ctx.user_data if ctx.user_data is not None else {}


def _forget(ctx: Ctx) -> None:
    data = _data(ctx)
    for key in KEYS:
        data.pop(key, None)


def _arg(update: Update, index: int = 0) -> str | None:
    data = cb.parse(update.callback_query.data if update.callback_query else None)
    if data is None or len(data.args) <= index:
        return None
    return data.args[index]


def _int_arg(update: Update, index: int = 0) -> int | None:
    raw = _arg(update, index)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _stop(state: object) -> NoReturn:
    raise ApplicationHandlerStop(state)


def _closes(ctx: Ctx) -> datetime | None:
    raw = _data(ctx).get(CLOSES_KEY)
    try:
        return datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


# ---- /evaluate ----------------------------------------------------------------------------


@guarded
async def start(update: Update, ctx: Ctx) -> EvaluateState | int:
    """/evaluate: pick the branch (a clerk), then what is evaluated."""
    loc = await locale_of(update, ctx)
    branches = await ctx.svc.evaluations.branches(user_id(update))
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


@guarded
async def pick_branch(update: Update, ctx: Ctx) -> EvaluateState | int:
    """A branch button."""
    loc = await locale_of(update, ctx)
    org_id = _int_arg(update)
    branches = {b.org.id: b for b in await ctx.svc.evaluations.branches(user_id(update))}
    if org_id is None or org_id not in branches:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return ConversationHandler.END
    _data(ctx)[ORG_KEY] = org_id
    await answer_callback(update)
    await _ask_kind(update, loc, branches[org_id].org.name, edit=True)
    return EvaluateState.KIND


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


async def receive_time(update: Update, ctx: Ctx) -> int:
    """The closing time: then the quorum, with the rule's default on a button."""
    loc = await locale_of(update, ctx)
    data = _data(ctx)
    if ORG_KEY not in data or KIND_KEY not in data:
        await reply(update, t(loc, "ev.expired"))
        _stop(ConversationHandler.END)
    try:
        closes = parse_closing(text_of(update), ctx.svc.clock.now())
        plan = await ctx.svc.evaluations.preview(
            user_id(update), int(data[ORG_KEY]), SubjectKind(data[KIND_KEY]), closes
        )
    except DomainError as exc:
        await reply(update, exc.render(loc))
        if exc.key.startswith("ev.time."):
            _stop(EvaluateState.TIME)
        _forget(ctx)
        _stop(ConversationHandler.END)
    data[CLOSES_KEY] = closes.isoformat()
    await reply(
        update,
        t(
            loc,
            "ev.ask_quorum",
            closes=format_moment(closes, ctx.svc.clock.tz, loc),
            count=plan.participants,
            members=plan.members,
            residents=plan.residents,
            quorum=plan.default_quorum,
        ),
        [[button(t(loc, "ev.btn.keep_quorum", quorum=plan.default_quorum), "q")]],
    )
    _stop(EvaluateState.QUORUM)


async def _preview(update: Update, ctx: Ctx, loc: str, quorum: int | None) -> Plan:
    data = _data(ctx)
    closes = _closes(ctx)
    if closes is None or ORG_KEY not in data or KIND_KEY not in data:
        raise DomainError("ev.expired")
    return await ctx.svc.evaluations.preview(
        user_id(update), int(data[ORG_KEY]), SubjectKind(data[KIND_KEY]), closes, quorum
    )


def _preview_text(loc: str, plan: Plan, ctx: Ctx) -> str:
    kind = (
        t(loc, "ev.preview.kind.branch")
        if plan.kind is SubjectKind.BRANCH
        else t(loc, "ev.preview.kind.members", count=plan.subjects)
    )
    return t(
        loc,
        "ev.preview",
        org=plan.org.name,
        kind=kind,
        count=plan.participants,
        members=plan.members,
        residents=plan.residents,
        reachable=plan.reachable,
        quorum=plan.quorum,
        closes=format_moment(plan.closes_at, ctx.svc.clock.tz, loc),
        mark=percent(ctx.svc.evaluations.pass_permille),
    )


def _confirm_buttons(loc: str) -> list[list[dict[str, str]]]:
    return [[button(t(loc, "ev.btn.confirm"), "ok"), button(t(loc, "ev.btn.cancel"), "no")]]


@guarded
async def keep_quorum(update: Update, ctx: Ctx) -> EvaluateState | int:
    """The rule's quorum: show the preview."""
    loc = await locale_of(update, ctx)
    plan = await _preview(update, ctx, loc, None)
    _data(ctx)[QUORUM_KEY] = plan.quorum
    await answer_callback(update)
    await reply(update, _preview_text(loc, plan, ctx), _confirm_buttons(loc), edit=True)
    return EvaluateState.CONFIRM


async def receive_quorum(update: Update, ctx: Ctx) -> int:
    """A quorum typed by the opener."""
    loc = await locale_of(update, ctx)
    raw = text_of(update).strip()
    digits = raw.rstrip("人").strip()
    if not digits.isdigit() or len(digits) > 6:
        await reply(update, t(loc, "ev.quorum.not_number"))
        _stop(EvaluateState.QUORUM)
    try:
        plan = await _preview(update, ctx, loc, int(digits))
    except DomainError as exc:
        await reply(update, exc.render(loc))
        if exc.key == "ev.quorum.range":
            _stop(EvaluateState.QUORUM)
        _forget(ctx)
        _stop(ConversationHandler.END)
    _data(ctx)[QUORUM_KEY] = plan.quorum
    await reply(update, _preview_text(loc, plan, ctx), _confirm_buttons(loc))
    _stop(EvaluateState.CONFIRM)


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
        user_id(update),
        int(data[ORG_KEY]),
        SubjectKind(data[KIND_KEY]),
        closes,
        int(quorum) if quorum is not None else None,
    )
    _forget(ctx)
    ctx.svc.outbox.wake()
    await answer_callback(update)
    await reply(update, t(loc, "ev.opened", reachable=opened.plan.reachable), edit=True)
    return ConversationHandler.END


async def decline(update: Update, ctx: Ctx) -> int:
    """取消 on the preview."""
    _forget(ctx)
    await answer_callback(update)
    await reply(update, t(await locale_of(update, ctx), "ev.cancelled"), edit=True)
    return ConversationHandler.END


@guarded
async def ask_reschedule(update: Update, ctx: Ctx) -> EvaluateState | int:
    """🔁 on a void evaluation: ask for the new closing time."""
    loc = await locale_of(update, ctx)
    evaluation_id = _int_arg(update)
    if evaluation_id is None:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return ConversationHandler.END
    view = await ctx.svc.evaluations.overview(user_id(update), evaluation_id)
    if view.evaluation.status is not EvalStatus.VOID:
        raise DomainError("ev.not_void")
    _forget(ctx)
    _data(ctx)[RESCHEDULE_KEY] = evaluation_id
    await answer_callback(update)
    await reply(update, t(loc, "ev.ask_reschedule"))
    return EvaluateState.RESCHEDULE


async def receive_reschedule(update: Update, ctx: Ctx) -> int:
    """The new closing time: the same evaluation opens again."""
    loc = await locale_of(update, ctx)
    evaluation_id = _data(ctx).get(RESCHEDULE_KEY)
    if evaluation_id is None:
        await reply(update, t(loc, "ev.expired"))
        _stop(ConversationHandler.END)
    try:
        closes = parse_closing(text_of(update), ctx.svc.clock.now())
        await ctx.svc.evaluations.reschedule(user_id(update), int(evaluation_id), closes)
    except DomainError as exc:
        await reply(update, exc.render(loc))
        if exc.key.startswith("ev.time."):
            _stop(EvaluateState.RESCHEDULE)
        _forget(ctx)
        _stop(ConversationHandler.END)
    _forget(ctx)
    ctx.svc.outbox.wake()
    await reply(
        update, t(loc, "ev.rescheduled", closes=format_moment(closes, ctx.svc.clock.tz, loc))
    )
    _stop(ConversationHandler.END)


async def cancel(update: Update, ctx: Ctx) -> int:
    """/cancel: nothing is opened."""
    _forget(ctx)
    await reply(update, t(await locale_of(update, ctx), "ev.cancelled"))
    _stop(ConversationHandler.END)


async def leave(update: Update, ctx: Ctx) -> int:
    """Another command or button: stop waiting and let it through."""
    _forget(ctx)
    return ConversationHandler.END


# ---- /evaluations -------------------------------------------------------------------------


def _status(loc: str, status: EvalStatus) -> str:
    return t(loc, f"ev.status.{status.value}")


@guarded
async def show_list(update: Update, ctx: Ctx) -> None:
    """/evaluations: the newest evaluations of my branches, as buttons."""
    loc = await locale_of(update, ctx)
    found = await ctx.svc.evaluations.list_for(user_id(update))
    if not found:
        await reply(update, t(loc, "ev.list.empty"))
        return
    tz = ctx.svc.clock.tz
    buttons = [
        [
            button(
                t(
                    loc,
                    "ev.list.item",
                    status=_status(loc, e.status),
                    org=org.name[:16],
                    date=format_date(e.closes_at.astimezone(tz).date(), loc),
                ),
                "sh",
                e.id,
            )
        ]
        for e, org in found
    ]
    await reply(update, t(loc, "ev.list.title"), buttons)


def render_overview(loc: str, view: Overview, tz: Any) -> tuple[str, list[list[dict[str, str]]]]:
    """One evaluation with the buttons its state allows."""
    e = view.evaluation
    kind = (
        t(loc, "ev.preview.kind.branch")
        if e.subject_kind is SubjectKind.BRANCH
        else t(loc, "ev.preview.kind.members", count=len(view.subjects))
    )
    text = t(
        loc,
        "ev.show",
        org=view.org.name,
        status=_status(loc, e.status),
        kind=kind,
        voted=view.voted,
        total=view.participants,
        quorum=e.quorum,
        closes=format_moment(e.closes_at, tz, loc),
    )
    buttons: list[list[dict[str, str]]] = []
    if e.status is EvalStatus.OPEN:
        buttons.append([button(t(loc, "ev.btn.non_voters"), "nv", e.id)])
        buttons.append([button(t(loc, "ev.btn.close"), "cl", e.id)])
    elif e.status is EvalStatus.CLOSED:
        buttons.append([button(t(loc, "ev.btn.results"), "rs", e.id)])
    elif e.status is EvalStatus.VOID:
        buttons.append([button(t(loc, "ev.btn.reschedule"), "re", e.id)])
    return text, buttons


@guarded
async def show_one(update: Update, ctx: Ctx) -> None:
    """An evaluation button of the list."""
    loc = await locale_of(update, ctx)
    evaluation_id = _int_arg(update)
    if evaluation_id is None:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return
    view = await ctx.svc.evaluations.overview(user_id(update), evaluation_id)
    await answer_callback(update)
    text, buttons = render_overview(loc, view, ctx.svc.clock.tz)
    await reply(update, text, buttons)


@guarded
async def show_non_voters(update: Update, ctx: Ctx) -> None:
    """未投票名单: names only, never a choice."""
    loc = await locale_of(update, ctx)
    evaluation_id = _int_arg(update)
    if evaluation_id is None:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return
    view, people = await ctx.svc.evaluations.non_voters(user_id(update), evaluation_id)
    await answer_callback(update)
    if not people:
        await reply(update, t(loc, "ev.non_voters.none", org=view.org.name))
        return
    lines = [t(loc, "ev.non_voters.title", org=view.org.name, count=len(people))]
    for n, person in enumerate(people, start=1):
        unbound = t(loc, "ev.non_voters.unbound") if person.tg_user_id is None else ""
        lines.append(f"{n}. {person.name}（{t(loc, f'role.{person.role.value}')}）{unbound}")
    await reply(update, "\n".join(lines))


@guarded
async def ask_close(update: Update, ctx: Ctx) -> None:
    """⏹ 提前结束: confirm first."""
    loc = await locale_of(update, ctx)
    evaluation_id = _int_arg(update)
    if evaluation_id is None:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return
    view = await ctx.svc.evaluations.overview(user_id(update), evaluation_id)
    if view.evaluation.status is not EvalStatus.OPEN:
        raise DomainError("ev.already_closed")
    await answer_callback(update)
    await reply(
        update,
        t(
            loc,
            "ev.confirm_close",
            org=view.org.name,
            voted=view.voted,
            total=view.participants,
            quorum=view.evaluation.quorum,
        ),
        [
            [
                button(t(loc, "ev.btn.close_yes"), "cly", evaluation_id),
                button(t(loc, "ev.btn.close_no"), "cln", evaluation_id),
            ]
        ],
    )


@guarded
async def close_now(update: Update, ctx: Ctx) -> None:
    """确认结束并计票."""
    loc = await locale_of(update, ctx)
    evaluation_id = _int_arg(update)
    if evaluation_id is None:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return
    await ctx.svc.evaluations.close_early(user_id(update), evaluation_id)
    ctx.svc.outbox.wake()
    await answer_callback(update)
    await reply(update, t(loc, "ev.closed_now"), edit=True)


@guarded
async def keep_open(update: Update, ctx: Ctx) -> None:
    """先不结束."""
    loc = await locale_of(update, ctx)
    await answer_callback(update)
    await reply(update, t(loc, "ev.close_kept"), edit=True)


@guarded
async def show_results(update: Update, ctx: Ctx) -> None:
    """📊 查看结果: the aggregates as published (fewer than 5 votes: hidden)."""
    loc = await locale_of(update, ctx)
    evaluation_id = _int_arg(update)
    if evaluation_id is None:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return
    view = await ctx.svc.evaluations.overview(user_id(update), evaluation_id)
    await answer_callback(update)
    if view.evaluation.status is not EvalStatus.CLOSED:
        await reply(update, t(loc, "ev.results.not_yet"))
        return
    named = [(s.id, name, s.person_id) for s, name in view.subjects]
    tallies = {
        s.id: Tally(s.satisfied or 0, s.basic or 0, s.unsatisfied or 0) for s, _ in view.subjects
    }
    text = results_text(
        loc,
        view.org,
        view.evaluation,
        named,
        tallies,
        view.evaluation.valid_voters or 0,
        view.participants,
    )
    await reply(update, text)


# ---- the ballots --------------------------------------------------------------------------


async def on_poll_answer(update: Update, ctx: Ctx) -> None:
    """A vote, a changed vote or a retraction: into the ballot box (batched)."""
    answer = update.poll_answer
    if answer is None or answer.user is None:  # a vote "as a channel" names nobody
        return
    svc = ctx.svc.evaluations
    verdict = await svc.vote(
        Answer(
            update.update_id,
            answer.user.id,
            answer.poll_id,
            tuple(answer.option_ids),
            svc.clock.now(),
        )
    )
    if verdict in TOLD:
        ctx.svc.outbox.wake()  # the voter is told why it did not count


def take_poll_answer(services: Services, update: Update) -> None:
    """The fast lane: a poll answer goes straight into the ballot box, without the handler
    groups, a callback context or a persistence mark (a burst at the end of a meeting is
    thousands of them). The box commits them in batches; see bot/domain/evaluation.py."""
    answer = update.poll_answer
    if answer is None or answer.user is None:  # a vote "as a channel" names nobody
        services.journal.handled((update.update_id,))
        return
    box = services.evaluations
    if box.on_batch is None:
        box.on_batch = services.outbox.wake  # a voter is told why a vote did not count
    box.drop_in(
        Answer(
            update.update_id,
            answer.user.id,
            answer.poll_id,
            tuple(answer.option_ids),
            box.clock.now(),
        )
    )


# The longest the update fetcher waits for a free lane slot before its next getUpdates; a
# poll answer fetched meanwhile is stamped at most this late (they take no lane).
POLL_PAUSE = 0.05

_App = Application[ExtBot[Any], Ctx, dict[Any, Any], dict[Any, Any], BotData, Any]


class VotingApplication(
    Application[ExtBot[Any], Ctx, dict[Any, Any], dict[Any, Any], BotData, Any]
):
    """PTB's Application with a fast lane for poll answers (:func:`take_poll_answer`); every
    other update goes through the handlers in its chat's lane (bot/lanes.py): in order within
    a chat, chats side by side, so one slow answer does not hold everyone else's."""

    _lanes: ChatLanes | None = None

    async def process_update(self, update: object) -> None:
        """Poll answers into the ballot box; the rest into their chat's lane."""
        if isinstance(update, Update) and update.poll_answer is not None:
            take_poll_answer(self.bot_data.services, update)
            return  # handled once its batch commits (EvaluationService.on_handled)
        if self._lanes is None:
            self._lanes = ChatLanes(self._handle, lambda lane: self.create_task(lane))
        self._lanes.submit(update)

    async def room_for_updates(self) -> None:
        """Before the next getUpdates: while every lane slot is taken, wait a moment (at most
        POLL_PAUSE) so that waiting updates are fetched together (ChatLanes.room)."""
        if self._lanes is not None:
            await self._lanes.room(POLL_PAUSE)

    async def _handle(self, update: object) -> None:
        """One update through the handlers; then the journal may forget it (its effects are
        committed with its mark, storage/update_claim.py). The sender's person is read once
        for the whole update (Database.one_update)."""
        services = self.bot_data.services
        update_id = update.update_id if isinstance(update, Update) else None
        try:
            with services.db.one_update(update_id, services.clock.now()):
                await super().process_update(update)
        finally:
            if isinstance(update, Update):
                self.bot_data.services.journal.handled((update.update_id,))


# ---- wiring ------------------------------------------------------------------------------


def _pattern(*actions: str) -> str:
    return cb.actions_pattern(FEATURE, *actions)


def build() -> list[BaseHandler[Update, Ctx, object]]:
    """Among the features: /evaluations, its buttons, and the poll answers."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("evaluations", show_list, filters=private),
        CallbackQueryHandler(show_one, pattern=_pattern("sh")),
        CallbackQueryHandler(show_non_voters, pattern=_pattern("nv")),
        CallbackQueryHandler(ask_close, pattern=_pattern("cl")),
        CallbackQueryHandler(close_now, pattern=_pattern("cly")),
        CallbackQueryHandler(keep_open, pattern=_pattern("cln")),
        CallbackQueryHandler(show_results, pattern=_pattern("rs")),
        # Not blocking: the next update is handled while this vote waits for its batch.
        PollAnswerHandler(on_poll_answer, block=False),
    ]


def build_conversation() -> list[BaseHandler[Update, Ctx, object]]:
    """/evaluate and rescheduling: in their own group, taking text only while they wait."""
    private = filters.ChatType.PRIVATE
    text = filters.TEXT & ~filters.COMMAND & private
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBUserWarning)  # per-user conversation, by design
        conversation: ConversationHandler[Ctx] = ConversationHandler(
            entry_points=[
                CommandHandler("evaluate", start, filters=private),
                CallbackQueryHandler(ask_reschedule, pattern=_pattern("re")),
            ],
            states={
                EvaluateState.BRANCH: [CallbackQueryHandler(pick_branch, pattern=_pattern("br"))],
                EvaluateState.KIND: [CallbackQueryHandler(pick_kind, pattern=_pattern("k"))],
                EvaluateState.TIME: [MessageHandler(text, receive_time)],
                EvaluateState.QUORUM: [
                    CallbackQueryHandler(keep_quorum, pattern=_pattern("q")),
                    MessageHandler(text, receive_quorum),
                ],
                EvaluateState.CONFIRM: [
                    CallbackQueryHandler(confirm, pattern=_pattern("ok")),
                    CallbackQueryHandler(decline, pattern=_pattern("no")),
                ],
                EvaluateState.RESCHEDULE: [MessageHandler(text, receive_reschedule)],
            },
            fallbacks=[
                CommandHandler("cancel", cancel),
                MessageHandler(filters.COMMAND, leave),
                CallbackQueryHandler(leave),
            ],
            name="evaluation",
            persistent=True,
            allow_reentry=True,
            conversation_timeout=TIMEOUT_SECONDS,
        )
    return [conversation]
