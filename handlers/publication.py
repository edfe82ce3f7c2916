"""亮诺 in chat: /linkboard in a group, /board and /mypledges in private."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, filters

from bot.chat import features
from bot.chat.actions import Button, Rows, action
from bot.context import Ctx
from bot.domain.enums import PledgeStatus, Role
from bot.domain.render import board_post
from bot.i18n import t
from handlers.common import actor_of, guarded, locale_of, reply

MINE_PAGE = 10


@guarded
async def link_board(update: Update, ctx: Ctx) -> None:
    """/linkboard in a group: this group becomes the branch's board."""
    loc = await locale_of(update, ctx)
    chat = update.effective_chat
    assert chat is not None
    if chat.type == "private":
        await reply(update, t(loc, "board.link.in_group"))
        return
    org, count = await ctx.svc.boards.link_board(await actor_of(update, ctx), chat.id)
    ctx.svc.outbox.wake()
    await reply(update, t(loc, "board.link.done", org=org.name, count=count))


@guarded
async def show_board(update: Update, ctx: Ctx) -> None:
    """/board: the branch's published pledges."""
    loc = await locale_of(update, ctx)
    org, snapshots = await ctx.svc.pledges.board(await actor_of(update, ctx))
    url = ctx.svc.boards.web_url(org.code)
    link = "\n\n" + t(loc, "webboard.chat.link", url=url) if url else ""
    if not snapshots:
        await reply(update, t(loc, "board.empty", org=org.name) + link)
        return
    posts = [board_post(loc, s) for s in snapshots]
    await reply(
        update,
        t(loc, "board.title", org=org.name, count=len(posts)) + link + "\n\n" + "\n\n".join(posts),
    )


@guarded
async def my_pledges(update: Update, ctx: Ctx) -> None:
    """/mypledges: each pledge with number and status; published ones can be amended."""
    loc = await locale_of(update, ctx)
    me, views = await ctx.svc.pledges.my_pledges(await actor_of(update, ctx))
    if me.role is Role.RESIDENT:  # residents do not pledge: /pledge would refuse them
        await reply(update, t(loc, "pledge.residents_do_not_pledge"))
        return
    if not views:
        await reply(update, t(loc, "mine.empty"))
        return
    lines = [t(loc, "mine.title")]
    buttons: Rows = []
    for view in views[-MINE_PAGE:]:
        pledge = view.pledge
        lines.append(
            t(
                loc,
                "mine.line",
                number=pledge.number or t(loc, "card.unnumbered"),
                horizon=t(loc, f"horizon.{pledge.horizon.value}") if pledge.horizon else "—",
                status=t(loc, f"status.{pledge.status.value}"),
                items=len(pledge.items),
                name=("🗣 " if pledge.is_oral else "") + view.pledger_name,
            )
        )
        label = pledge.number or f"#{pledge.id}"
        if not view.editable:
            if pledge.is_oral:  # the member it was recorded for: who changes it
                lines.append(t(loc, "mine.oral_note", recorder=view.recorder))
            continue
        if pledge.status is PledgeStatus.PUBLISHED:
            buttons.append(
                [
                    Button(
                        t(loc, "mine.btn.amend", number=label),
                        action=action(features.DRAFT, "amend", pledge.id, pledge.version),
                    )
                ]
            )
        elif pledge.status in (PledgeStatus.DRAFT, PledgeStatus.RETURNED, PledgeStatus.AMENDING):
            buttons.append(
                [
                    Button(
                        t(loc, "mine.btn.continue", number=label),
                        action=action(features.DRAFT, "open", pledge.id, pledge.version),
                    )
                ]
            )
    await reply(update, "\n".join(lines), buttons)


def build() -> list[BaseHandler[Update, Ctx, object]]:
    """The publication handlers."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("linkboard", link_board, filters=filters.ChatType.GROUPS | private),
        CommandHandler("board", show_board, filters=private),
        CommandHandler("mypledges", my_pledges, filters=private),
    ]
