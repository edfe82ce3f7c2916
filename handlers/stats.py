"""/stats: the charts of a branch, a committee's subtree, or the public figures, as photos.

The figures come from one service call; the images are drawn in a worker thread so a large
committee never blocks the event loop; each photo carries its own Chinese caption. A
committee clerk may name a branch (``/stats 黄思村``) or pick one from the matches.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.channels.telegram.callbacks import feature_pattern
from bot.chat import features
from bot.context import Ctx
from bot.domain.stats import OrgChoice, StatsFigures, choice_buttons, choice_text, render
from bot.domain.stats import intro as intro_text
from bot.i18n import t
from handlers.common import actor_of, answer_callback, guarded, locale_of, pressed, reply

log = logging.getLogger(__name__)

# People (roster ids) whose charts are being drawn: a second /stats meanwhile is told to wait,
# so double sends never draw (and send) everything twice.
_drawing: set[int] = set()


async def _send_charts(update: Update, ctx: Ctx, loc: str, figures: StatsFigures) -> None:
    """An intro line, then one photo per chart with its caption."""
    chat = update.effective_chat
    assert chat is not None
    try:
        await chat.send_action(ChatAction.UPLOAD_PHOTO)
    except TelegramError as exc:  # only a hint to the client; the photos still go out
        log.debug("chat action failed: %s", exc.message)
    pass_percent = ctx.svc.settings.satisfaction_pass_percent
    try:
        images = await asyncio.to_thread(render, loc, figures, pass_percent)
    except Exception:
        log.exception("drawing the charts failed")
        await reply(update, t(loc, "stats.failed"))
        return
    await chat.send_message(intro_text(loc, figures, len(images)))
    for image in images:
        await chat.send_photo(image.png, caption=image.caption)


@guarded
async def show_stats(update: Update, ctx: Ctx) -> None:
    """/stats [name]: the person's charts, or a committee's chosen organisation."""
    me = await actor_of(update, ctx)
    uid = me.person_id
    if uid in _drawing:  # checked and marked with no await between: a double send sees it
        await reply(update, t(await locale_of(update, ctx), "stats.busy"))
        return
    _drawing.add(uid)
    try:
        loc = await locale_of(update, ctx)
        query = " ".join(ctx.args or [])
        result = await ctx.svc.stats.figures(me, query)
        if isinstance(result, OrgChoice):
            await reply(update, choice_text(loc, result), choice_buttons(loc, result))
            return
        await _send_charts(update, ctx, loc, result)
    finally:
        _drawing.discard(uid)


@guarded
async def pick_org(update: Update, ctx: Ctx) -> None:
    """A tapped organisation (``st:o:<org id>``): its charts, permission checked again."""
    me = await actor_of(update, ctx)
    uid = me.person_id
    data = pressed(update)
    try:
        if data is None or data.name != "o":
            raise ValueError("unknown action")
        org_id = data.int_arg(0)
    except (ValueError, IndexError):  # a malformed or tampered action
        await answer_callback(
            update, t(await locale_of(update, ctx), "error.stale_button"), alert=True
        )
        return
    if uid in _drawing:
        await answer_callback(update, t(await locale_of(update, ctx), "stats.busy"))
        return
    _drawing.add(uid)
    try:
        loc = await locale_of(update, ctx)
        figures = await ctx.svc.stats.figures_of(me, org_id)
        await answer_callback(update)
        await _send_charts(update, ctx, loc, figures)
    finally:
        _drawing.discard(uid)


def build() -> list[BaseHandler[Update, Ctx, object]]:
    """The /stats handlers."""
    # Not blocking: while one person's charts are drawn (up to a second for a district),
    # everyone else's updates go on; that person's second /stats meets the busy guard.
    return [
        CommandHandler("stats", show_stats, filters=filters.ChatType.PRIVATE, block=False),
        CallbackQueryHandler(pick_org, pattern=feature_pattern(features.STATS), block=False),
    ]
