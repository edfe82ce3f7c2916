"""组织评选 in chat: /ranking (上评下议), /awards (提名, 确认, 公布), /assess (年度考评).

Everything is buttons whose data carries the whole state (page, period, award version, the
grades chosen so far), so a tap works after a restart and nothing waits in memory; each tap
asks the service again, which checks the permission. The assessment is a row of button
steps, not a text conversation: 取消 leaves it, and an unfinished card simply expires (its
year is in the data; a card of an earlier year is refused as stale).
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.channels.telegram.callbacks import feature_pattern
from bot.chat import features
from bot.chat.actions import Action
from bot.context import Ctx
from bot.domain.selection_models import SubjectKind
from bot.domain.selection_view import (
    LETTER_KIND,
    assess_card_text,
    assess_list_text,
    assessment_text,
    awards_text,
    period_label,
    publish_confirm,
    ranking_text,
)
from bot.i18n import t
from handlers.common import actor_of, answer_callback, guarded, locale_of, pressed, reply, text_of

PRIVATE = filters.ChatType.PRIVATE


def _data(update: Update) -> Action:
    data = pressed(update)
    if data is None:
        raise ValueError("no data")
    return data


def _kind(letter: str) -> SubjectKind:
    return LETTER_KIND[letter]


async def _stale(update: Update, ctx: Ctx) -> None:
    await answer_callback(
        update, t(await locale_of(update, ctx), "error.stale_button"), alert=True
    )


# ---- /ranking ------------------------------------------------------------------------------


@guarded
async def show_ranking(update: Update, ctx: Ctx) -> None:
    """/ranking: the current slot's ranking, first page."""
    loc = await locale_of(update, ctx)
    view = await ctx.svc.selection.ranking(await actor_of(update, ctx))
    text, buttons = ranking_text(loc, view)
    await reply(update, text, buttons)


@guarded
async def ranking_button(update: Update, ctx: Ctx) -> None:
    """Page, ask to publish, publish, or cancel."""
    loc = await locale_of(update, ctx)
    try:
        data = _data(update)
        if data.name == "pg":
            view = await ctx.svc.selection.ranking(await actor_of(update, ctx), data.int_arg(0))
            text, buttons = ranking_text(loc, view)
            await answer_callback(update)
            await reply(update, text, buttons, edit=True)
        elif data.name == "ask":
            kind, period = _kind(data.args[0]), data.args[1]
            await answer_callback(update)
            text, buttons = publish_confirm(loc, kind, period)
            await reply(update, text, buttons)
        elif data.name == "ok":
            kind, period = _kind(data.args[0]), data.args[1]
            done = await ctx.svc.selection.publish(await actor_of(update, ctx), kind, period)
            lines = [
                t(loc, "selection.rank.done", period=period_label(loc, period), total=done.total)
            ]
            lines.append(
                t(
                    loc,
                    "selection.rank.done.board"
                    if done.on_board
                    else "selection.rank.done.no_board",
                )
            )
            if done.kind is SubjectKind.BRANCH:
                lines.append(t(loc, "selection.rank.done.secretaries", count=done.secretaries))
            ctx.svc.outbox.wake()
            await answer_callback(update)
            await reply(update, "\n".join(lines), edit=True)
        elif data.name == "no":
            await answer_callback(update)
            await reply(update, t(loc, "selection.rank.cancelled"), edit=True)
        else:
            raise ValueError(data.name)
    except (ValueError, IndexError, KeyError):  # a malformed or tampered action
        await _stale(update, ctx)


# ---- /awards -------------------------------------------------------------------------------


@guarded
async def show_awards(update: Update, ctx: Ctx) -> None:
    """/awards [year]: the committee's candidates and decisions."""
    loc = await locale_of(update, ctx)
    service = ctx.svc.selection
    parts = text_of(update).split()
    year = service.award_year()
    if len(parts) > 1 and parts[1].isdigit() and 2000 <= int(parts[1]) <= year:
        year = int(parts[1])
    view = await service.awards(await actor_of(update, ctx), year)
    text, buttons = awards_text(loc, view)
    await reply(update, text, buttons)


@guarded
async def awards_button(update: Update, ctx: Ctx) -> None:
    """Page, propose, confirm / reject one, announce."""
    loc = await locale_of(update, ctx)
    service = ctx.svc.selection
    me = await actor_of(update, ctx)
    announced: int | None = None
    nobody: str | None = None
    try:
        data = _data(update)
        if data.name == "pg":
            view = await service.awards(me, data.int_arg(0), data.int_arg(1))
            await answer_callback(update)
        elif data.name == "pr":
            found, view = await service.propose(me, data.int_arg(0))
            if found:
                await answer_callback(update, t(loc, "selection.awards.proposed", count=found))
            else:  # the list may look the same: say why nobody was proposed
                await answer_callback(update, t(loc, "selection.awards.none_found.short"))
                st = service.settings
                nobody = t(
                    loc,
                    "selection.awards.none_found",
                    year=view.year,
                    star=f"{st.award_star_fulfilment_percent:g}",
                    excellent=f"{st.award_excellent_fulfilment_percent:g}",
                    branch=f"{st.award_branch_fulfilment_percent:g}",
                )
        elif data.name in ("ok", "rj"):
            confirm = data.name == "ok"
            _, view = await service.decide(
                me, data.int_arg(0), data.int_arg(1), confirm, data.int_arg(2)
            )
            key = "selection.awards.confirmed" if confirm else "selection.awards.rejected"
            await answer_callback(update, t(loc, key))
        elif data.name == "an":
            year = data.int_arg(0)
            announced = await service.announce(me, year)
            ctx.svc.outbox.wake()
            await answer_callback(update)
            view = await service.awards(me, year)
        else:
            raise ValueError(data.name)
    except (ValueError, IndexError):
        await _stale(update, ctx)
        return
    text, buttons = awards_text(loc, view)
    await reply(update, text, buttons, edit=True)  # the list, without the spent button
    if announced is not None:
        await reply(update, t(loc, "selection.awards.announced", count=announced))
    if nobody is not None:
        await reply(update, nobody)


# ---- /assess -------------------------------------------------------------------------------


@guarded
async def show_assess(update: Update, ctx: Ctx) -> None:
    """/assess: the members or branches to assess this year."""
    loc = await locale_of(update, ctx)
    view = await ctx.svc.selection.assess_list(await actor_of(update, ctx))
    text, buttons = assess_list_text(loc, view)
    await reply(update, text, buttons)


@guarded
async def assess_button(update: Update, ctx: Ctx) -> None:
    """List pages, a subject's card, a grade step, save, cancel."""
    loc = await locale_of(update, ctx)
    service = ctx.svc.selection
    me = await actor_of(update, ctx)
    try:
        data = _data(update)
        if data.name == "l":
            view = await service.assess_list(me, data.int_arg(0))
            text, buttons = assess_list_text(loc, view)
        elif data.name == "c":
            card = await service.assess_card(me, _kind(data.args[0]), data.int_arg(1))
            text, buttons = assess_card_text(loc, card, "")
        elif data.name == "g":
            kind, subject, year, letters = (
                _kind(data.args[0]),
                data.int_arg(1),
                data.int_arg(2),
                data.args[3],
            )
            card = await service.assess_card(me, kind, subject)
            if year != card.year or len(letters) > 5 or any(c not in "EQBU" for c in letters):
                raise ValueError("stale card")
            text, buttons = assess_card_text(loc, card, letters)
        elif data.name == "ok":
            saved = await service.assess(
                me, _kind(data.args[0]), data.int_arg(1), data.int_arg(2), data.args[3]
            )
            ctx.svc.outbox.wake()
            text, buttons = assessment_text(loc, saved, for_subject=False), []
        elif data.name == "x":
            text, buttons = t(loc, "selection.assess.cancelled"), []
        else:
            raise ValueError(data.name)
    except (ValueError, IndexError, KeyError):
        await _stale(update, ctx)
        return
    await answer_callback(update)
    await reply(update, text, buttons, edit=True)


def build() -> list[BaseHandler[Update, Ctx, object]]:
    """The selection handlers: three commands and their buttons."""
    return [
        CommandHandler("ranking", show_ranking, filters=PRIVATE),
        CommandHandler("awards", show_awards, filters=PRIVATE),
        CommandHandler("assess", show_assess, filters=PRIVATE),
        CallbackQueryHandler(ranking_button, pattern=feature_pattern(features.RANKING)),
        CallbackQueryHandler(awards_button, pattern=feature_pattern(features.AWARDS)),
        CallbackQueryHandler(assess_button, pattern=feature_pattern(features.ASSESS)),
    ]
