"""台账 in chat: /ledger for a secretary (their branch) or a committee (the district).

Every page button reads its page from the database again; ◀ ▶ edit the message in place.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.channels.telegram.callbacks import feature_pattern
from bot.context import Ctx
from bot.domain.ledger import FEATURE, BranchPage, render_branch, render_district
from bot.i18n import t
from handlers.common import actor_of, answer_callback, guarded, locale_of, pressed, reply


@guarded
async def show_ledger(update: Update, ctx: Ctx) -> None:
    """/ledger: the first page of the branch's or the district's ledger."""
    loc = await locale_of(update, ctx)
    view = await ctx.svc.ledger.open(await actor_of(update, ctx))
    if isinstance(view, BranchPage):
        text, buttons = render_branch(loc, view, ctx.svc.clock.tz)
    else:
        text, buttons = render_district(loc, view)
    await reply(update, text, buttons)


@guarded
async def turn_page(update: Update, ctx: Ctx) -> None:
    """◀ ▶, a branch button, or back to the district: the page asked for, edited in place."""
    loc = await locale_of(update, ctx)
    data = pressed(update)
    try:
        if data is None:
            raise ValueError("no data")
        if data.name == "b":
            back = data.int_arg(2) if len(data.args) > 2 else None
            branch = await ctx.svc.ledger.branch(
                await actor_of(update, ctx), data.int_arg(0), data.int_arg(1), back
            )
            text, buttons = render_branch(loc, branch, ctx.svc.clock.tz)
        elif data.name == "d":
            district = await ctx.svc.ledger.district(await actor_of(update, ctx), data.int_arg(0))
            text, buttons = render_district(loc, district)
        else:
            raise ValueError(data.name)
    except (ValueError, IndexError):  # a malformed or tampered action
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return
    await answer_callback(update)
    await reply(update, text, buttons, edit=True)


def build() -> list[BaseHandler[Update, Ctx, object]]:
    """The ledger handlers."""
    return [
        CommandHandler("ledger", show_ledger, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(turn_page, pattern=feature_pattern(FEATURE)),
    ]
