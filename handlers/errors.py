"""The last resort: log the failure, tell the person something went wrong, keep running."""

from __future__ import annotations

import logging

from telegram import Update

from bot.context import Ctx
from bot.i18n import normalize_locale, t

log = logging.getLogger(__name__)


async def on_error(update: object, ctx: Ctx) -> None:
    """Log with the traceback; answer in the user's language if there is a user."""
    log.error("error while handling an update", exc_info=ctx.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        user = update.effective_user
        locale = normalize_locale(user.language_code if user else None)
        try:
            await update.effective_chat.send_message(t(locale, "error.internal"))
        except Exception:  # the channel itself may be what failed
            log.debug("could not tell the user about the error", exc_info=True)
