"""群众评议 in chat: /evaluations, its buttons, and the ballots' answers (/evaluate, the
conversation that opens one, is handlers/evaluation_setup.py).

The ballots are Telegram non-anonymous polls (see bot/domain/evaluation.py for why); their
answers arrive as ``poll_answer`` updates. Those skip the per-update idempotency guard: the
ballot box claims their update ids itself, in the same transaction as the ballots of the
batch they join. Nothing here logs or stores a choice, and PTB's own debug logging of raw
updates is filtered so a log never pairs a person with a choice.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ExtBot,
    filters,
)

from bot.channels.telegram.adapter import flush_dialogs
from bot.channels.telegram.callbacks import actions_pattern
from bot.chat.actions import Rows
from bot.chat.dialogs import staging
from bot.context import BotData, Ctx, Services
from bot.domain.dates import format_date, format_moment
from bot.domain.enums import Role
from bot.domain.errors import DomainError
from bot.domain.evaluation import (
    FEATURE,
    Answer,
    Overview,
    Tally,
    button,
    extra_line,
    results_text,
)
from bot.domain.evaluation_models import EvalStatus, SubjectKind
from bot.i18n import t
from bot.lanes import ChatLanes
from handlers import evaluation_setup
from handlers.common import actor_of, answer_callback, guarded, locale_of, pressed, reply
from handlers.evaluation_setup import build_conversation

__all__ = ["build", "build_conversation", "render_overview", "take_poll_answer"]

log = logging.getLogger(__name__)


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


# ---- /evaluations -------------------------------------------------------------------------


def _status(loc: str, status: EvalStatus) -> str:
    return t(loc, f"ev.status.{status.value}")


@guarded
async def show_list(update: Update, ctx: Ctx) -> None:
    """/evaluations: the newest evaluations of my branches, as buttons."""
    loc = await locale_of(update, ctx)
    found = await ctx.svc.evaluations.list_for(await actor_of(update, ctx))
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


def render_overview(loc: str, view: Overview, tz: Any) -> tuple[str, Rows]:
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
    ) + extra_line(loc, view.extra)
    if e.quorum_reason:
        text += "\n" + t(loc, "ev.result.reason", reason=e.quorum_reason)
    buttons: Rows = []
    if e.status is EvalStatus.OPEN:
        buttons.append([button(t(loc, "ev.btn.non_voters"), "nv", e.id)])
        # 现场票 and 纸质票 (handlers/ballot_slips.py, steps of the /evaluate conversation)
        buttons.append(
            [
                button(t(loc, "ev.btn.more_slips"), "sl", e.id),
                button(t(loc, "ev.btn.paper"), "pp", e.id),
            ]
        )
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
    view = await ctx.svc.evaluations.overview(await actor_of(update, ctx), evaluation_id)
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
    view, people, held = await ctx.svc.evaluations.non_voters(
        await actor_of(update, ctx), evaluation_id
    )
    await answer_callback(update)
    if not people and not held:
        await reply(update, t(loc, "ev.non_voters.none", org=view.org.name))
        return
    lines: list[str] = []
    if people:
        lines.append(t(loc, "ev.non_voters.title", org=view.org.name, count=len(people)))
    for n, person in enumerate(people, start=1):
        if person.tg_user_id is None:
            mark = t(loc, "ev.non_voters.unbound")
        elif person.role is Role.RESIDENT and not person.phone_confirmed:
            mark = t(loc, "ev.non_voters.unconfirmed")
        else:
            mark = ""
        lines.append(f"{n}. {person.name}（{t(loc, f'role.{person.role.value}')}）{mark}")
    if held:  # voted, kept, and counted once their phone is confirmed
        lines.append(t(loc, "ev.non_voters.held", count=len(held)))
        lines.extend(f"{n}. {person.name}" for n, person in enumerate(held, start=1))
    await reply(update, "\n".join(lines))


@guarded
async def ask_close(update: Update, ctx: Ctx) -> None:
    """⏹ 提前结束: confirm first."""
    loc = await locale_of(update, ctx)
    evaluation_id = _int_arg(update)
    if evaluation_id is None:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return
    view = await ctx.svc.evaluations.overview(await actor_of(update, ctx), evaluation_id)
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
    await ctx.svc.evaluations.close_early(await actor_of(update, ctx), evaluation_id)
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
    view = await ctx.svc.evaluations.overview(await actor_of(update, ctx), evaluation_id)
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
    # Updates handled since the persistence last saved what they left in memory.
    _unsaved: list[int] | None = None

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
        """One update through the handlers. Its effects in the database are committed with
        its mark (storage/update_claim.py); what it left in memory (a dialog's state, its
        user_data) is saved by the persistence's next flush, and only then may the journal
        forget it (:meth:`update_persistence`). The sender's person is read once for the
        whole update (Database.one_update)."""
        services = self.bot_data.services
        update_id = update.update_id if isinstance(update, Update) else None
        try:
            with services.db.one_update(update_id, services.clock.now()), staging():
                await super().process_update(update)
                await flush_dialogs(services.db)  # what no effect carried (bot/chat/dialogs)
        finally:
            if update_id is not None:
                if self._unsaved is None:
                    self._unsaved = []
                self._unsaved.append(update_id)

    async def update_persistence(self) -> None:
        """Save the dialogs' states and user_data, then let the journal forget the updates
        handled before: a crash before the save puts those back at the next start, so a step
        that lives only in a dialog's state (the review's return button asks for a comment
        and writes nothing) is taken again instead of lost. An update whose effects were
        committed is not taken again (processed_updates); a dialog on the router saves its
        state with the step's effect (bot/chat/dialogs.py)."""
        saved, self._unsaved = self._unsaved or [], []
        try:
            await super().update_persistence()
        except BaseException:
            self._unsaved = saved + self._unsaved  # kept until a save succeeds
            raise
        self.bot_data.services.journal.handled(saved)


# ---- wiring ------------------------------------------------------------------------------


def _pattern(*actions: str) -> str:
    return actions_pattern(FEATURE, *actions)


def build() -> list[BaseHandler[Update, Ctx, object]]:
    """Among the features: /evaluations and its buttons (poll answers never reach the handlers:
    VotingApplication.process_update takes them into the ballot box)."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("evaluations", show_list, filters=private),
        CallbackQueryHandler(show_one, pattern=_pattern("sh")),
        CallbackQueryHandler(show_non_voters, pattern=_pattern("nv")),
        CallbackQueryHandler(ask_close, pattern=_pattern("cl")),
        CallbackQueryHandler(close_now, pattern=_pattern("cly")),
        CallbackQueryHandler(keep_open, pattern=_pattern("cln")),
        CallbackQueryHandler(show_results, pattern=_pattern("rs")),
        *evaluation_setup.build_stale(),  # /evaluate's buttons once its dialog is over
    ]
