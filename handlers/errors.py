"""The last resort: log the failure, tell the person something went wrong, keep running."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.context import Ctx
from bot.i18n import normalize_locale, t
from storage.update_claim import UpdateSeenBefore

log = logging.getLogger(__name__)


async def on_error(update: object, ctx: Ctx) -> None:
    """Log with the traceback; answer in the user's language if there is a user. An update
    whose effects an earlier delivery committed stops quietly: nothing was done twice."""
    if isinstance(ctx.error, UpdateSeenBefore):
        log.info("update %s seen before: its work was rolled back", ctx.error.update_id)
        raise ApplicationHandlerStop
    log.error("error while handling an update", exc_info=ctx.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        user = update.effective_user
        locale = normalize_locale(user.language_code if user else None)
        try:
            await update.effective_chat.send_message(t(locale, "error.internal"))
        except Exception:  # the channel itself may be what failed
            log.debug("could not tell the user about the error", exc_info=True)
