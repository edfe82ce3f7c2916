"""/stats: the charts of a branch, a committee's subtree, or the public figures, as photos.

The figures come from one service call; the images are drawn in a worker thread so a large
committee never blocks the event loop; each photo carries its own Chinese caption.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CommandHandler, filters

from bot.context import Ctx
from bot.domain.stats import intro as intro_text
from bot.domain.stats import render
from bot.i18n import t
from handlers.common import guarded, locale_of, reply, user_id

log = logging.getLogger(__name__)

# People whose charts are being drawn: a second /stats meanwhile is told to wait, so double
# sends never draw (and send) everything twice.
_drawing: set[int] = set()


@guarded
async def show_stats(update: Update, ctx: Ctx) -> None:
    """/stats: an intro line, then one photo per chart with its caption."""
    loc = await locale_of(update, ctx)
    uid = user_id(update)
    if uid in _drawing:
        await reply(update, t(loc, "stats.busy"))
        return
    _drawing.add(uid)
    try:
        figures = await ctx.svc.stats.figures(uid)
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
        await reply(update, intro_text(loc, figures, len(images)))
        for image in images:
            await chat.send_photo(image.png, caption=image.caption)
    finally:
        _drawing.discard(uid)


def build() -> list[BaseHandler[Update, Ctx, object]]:
    """The /stats handler."""
    return [CommandHandler("stats", show_stats, filters=filters.ChatType.PRIVATE)]
