"""/mute: turn routine reminders off or on (deadline and overdue reminders always come)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, filters

from bot.context import Ctx
from bot.i18n import t
from handlers.common import guarded, locale_of, reply, user_id


@guarded
async def toggle_mute(update: Update, ctx: Ctx) -> None:
    """Flip the person's reminder setting and say what it is now."""
    muted = await ctx.svc.reminders.toggle_mute(user_id(update))
    loc = await locale_of(update, ctx)
    await reply(update, t(loc, "reminder.muted" if muted else "reminder.unmuted"))


def build() -> list[BaseHandler[Update, Ctx, object]]:
    """The reminder settings handlers."""
    return [CommandHandler("mute", toggle_mute, filters=filters.ChatType.PRIVATE)]
