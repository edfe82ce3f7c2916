"""Anything no feature took: a hint (the update guard is the adapter's: bot/channels/telegram)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.context import Ctx
from bot.i18n import t
from bot.menu import ROLE_COMMANDS
from handlers.common import locale_of, reply
from handlers.dialog import command_of

log = logging.getLogger(__name__)

ALL_COMMANDS = frozenset(c for commands in ROLE_COMMANDS.values() for c in commands)


async def not_understood(update: Update, ctx: Ctx) -> None:
    """Private text outside any conversation: point to /help."""
    await reply(update, t(await locale_of(update, ctx), "fallback.not_understood"))


async def not_text(update: Update, ctx: Ctx) -> None:
    """A photo, file, sticker, location… with no dialog open: say it was not kept, and how."""
    await reply(update, t(await locale_of(update, ctx), "fallback.not_text"))


async def private_chat_only(update: Update, ctx: Ctx) -> None:
    """One of our commands in a group that no feature takes there: point to the private chat
    (briefly, as a reply; commands meant for other bots are left alone)."""
    message = update.effective_message
    command = command_of(update)
    if message is None or command not in ALL_COMMANDS:
        return
    mention = (message.text or "").split(maxsplit=1)[0].partition("@")[2]
    if mention and mention.lower() != (ctx.bot.username or "").lower():
        return
    text = t(await locale_of(update, ctx), "fallback.group_command", command=command)
    await message.reply_text(text, do_quote=True)


async def nothing_to_cancel(update: Update, ctx: Ctx) -> None:
    """/cancel outside any conversation: say so, rather than 'not understood'."""
    await reply(update, t(await locale_of(update, ctx), "fallback.nothing_to_cancel"))


def build() -> list[BaseHandler[Update, Ctx, object]]:
    """Runs after everything."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("cancel", nothing_to_cancel, filters=private),
        MessageHandler(private & (filters.TEXT | filters.COMMAND), not_understood),
        MessageHandler(filters.UpdateType.MESSAGE & private, not_text),
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.ChatType.GROUPS & filters.COMMAND,
            private_chat_only,
        ),
    ]
