"""/export in chat: choose what (and, for a committee clerk, which organisation), get the file.

Every step lives in its button's action (``ex:…``) and is checked again by the service,
so nothing is kept between taps: a menu still works after a restart, and there is no
half-finished state to cancel or to time out. The file arrives as a document with a Chinese
name; it is built in a worker thread while the bot keeps answering others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import Update
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.channels.telegram.callbacks import feature_pattern
from bot.chat.actions import Action, Button, Rows, action
from bot.chat.actor import Actor
from bot.context import Ctx
from bot.domain.archive import ZIP_MIME
from bot.domain.enums import Role
from bot.domain.exports import (
    FEATURE,
    PUBLIC_KINDS,
    ExportFile,
    ExportKind,
    Menu,
    OrgPage,
    PledgePage,
)
from bot.i18n import t
from handlers.common import actor_of, answer_callback, guarded, locale_of, pressed, reply

log = logging.getLogger(__name__)

Buttons = Rows
NAME_CHARS = 28
UPLOAD_TIMEOUT = 120.0

# People (roster ids) whose file is being built right now: a second tap waits instead of
# building twice.
_building: set[int] = set()

_KIND_BUTTON = {
    ExportKind.PUBLICITY_XLSX: "export.btn.publicity_xlsx",
    ExportKind.PUBLICITY_PDF: "export.btn.publicity_pdf",
    ExportKind.LEDGER: "export.btn.ledger",
    ExportKind.LETTER: "export.btn.letter",
    ExportKind.STATS: "export.btn.stats",
    ExportKind.ARCHIVE: "export.btn.archive",
}
# A bot may upload at most 50 MB to Telegram; a larger archive is left to the command line.
UPLOAD_LIMIT = 50 * 1024 * 1024


def _button(text: str, name: str, *args: object) -> Button:
    return Button(text, action=action(FEATURE, name, *args))


def _short(text: str, limit: int = NAME_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _close(loc: str) -> list[Button]:
    return [_button(t(loc, "export.btn.close"), "x")]


def render_menu(loc: str, menu: Menu) -> tuple[str, Buttons]:
    """The first question: what to export."""
    if menu.me.role is Role.RESIDENT:
        text = t(loc, "export.menu.resident")
    elif menu.kinds == (*PUBLIC_KINDS, ExportKind.LETTER):
        text = t(loc, "export.menu.member")
    else:
        text = t(loc, "export.menu.title", org=menu.org.name)
    buttons: Buttons = []
    for kind in menu.kinds:
        key = _KIND_BUTTON[kind]
        if kind is ExportKind.LETTER and menu.kinds != tuple(ExportKind):
            key = "export.btn.letter_mine"
        buttons.append([_button(t(loc, key), "k", kind.value)])
    buttons.append(_close(loc))
    return text, buttons


def render_orgs(loc: str, view: OrgPage) -> tuple[str, Buttons]:
    """A committee clerk's choice of organisation: this level, then those below, paged."""
    kind = view.kind
    text = t(
        loc,
        "export.pick_org",
        what=t(loc, f"export.what.{kind.value}"),
        org=view.org.name,
        page=view.page + 1,
        pages=view.pages,
    )
    if not view.children:
        text += "\n" + t(loc, "export.pick_org.empty")
    buttons: Buttons = []
    name = _short(view.org.name, 20)
    if kind is ExportKind.STATS:
        buttons.append(
            [_button(t(loc, "export.btn.whole", org=name), "g", kind.value, view.org.id)]
        )
    elif kind is ExportKind.LETTER:
        buttons.append([_button(t(loc, "export.btn.self", org=name), "p", view.org.id, 0)])
    else:
        buttons.append(
            [_button(t(loc, "export.btn.self", org=name), "g", kind.value, view.org.id)]
        )
    for org_id, child, has_children in view.children:
        if has_children:
            label = t(loc, "export.btn.open", name=_short(child))
            buttons.append([_button(label, "o", kind.value, org_id, 0)])
        elif kind is ExportKind.LETTER:
            buttons.append([_button(_short(child), "p", org_id, 0)])
        else:
            buttons.append([_button(_short(child), "g", kind.value, org_id)])
    nav = []
    if view.page > 0:
        nav.append(_button(t(loc, "export.btn.prev"), "o", kind.value, view.org.id, view.page - 1))
    if view.page < view.pages - 1:
        nav.append(_button(t(loc, "export.btn.next"), "o", kind.value, view.org.id, view.page + 1))
    if nav:
        buttons.append(nav)
    if view.up is not None:
        buttons.append([_button(t(loc, "export.btn.up"), "o", kind.value, view.up, 0)])
    buttons.append(_close(loc))
    return text, buttons


def render_pledges(loc: str, view: PledgePage) -> tuple[str, Buttons]:
    """A page of published pledges, one button per letter."""
    if view.total == 0:
        return t(loc, "export.pick_pledge.empty"), [_close(loc)]
    if view.org is None:
        text = t(
            loc, "export.pick_pledge.mine", total=view.total, page=view.page + 1, pages=view.pages
        )
    else:
        text = t(
            loc,
            "export.pick_pledge",
            org=view.org.name,
            total=view.total,
            page=view.page + 1,
            pages=view.pages,
        )
    buttons: Buttons = [
        [_button(t(loc, "export.btn.pledge", number=number, name=_short(name, 16)), "l", pid)]
        for pid, number, name in view.pledges
    ]
    scope = view.org.id if view.org is not None else 0
    nav = []
    if view.page > 0:
        nav.append(_button(t(loc, "export.btn.prev"), "p", scope, view.page - 1))
    if view.page < view.pages - 1:
        nav.append(_button(t(loc, "export.btn.next"), "p", scope, view.page + 1))
    if nav:
        buttons.append(nav)
    buttons.append(_close(loc))
    return text, buttons


@guarded
async def start_export(update: Update, ctx: Ctx) -> None:
    """/export: what may be exported, as buttons."""
    loc = await locale_of(update, ctx)
    menu = await ctx.svc.exports.menu(await actor_of(update, ctx))
    text, buttons = render_menu(loc, menu)
    await reply(update, text, buttons)


async def _send(update: Update, export: ExportFile) -> None:
    """The statistics form's message first, then the document under its Chinese name."""
    chat = update.effective_chat
    assert chat is not None
    if export.message:
        await reply(update, export.message)
    await chat.send_document(
        document=export.data,
        filename=export.name,
        caption=export.caption,
        write_timeout=UPLOAD_TIMEOUT,
        read_timeout=UPLOAD_TIMEOUT,
    )


async def _build_and_send(update: Update, ctx: Ctx, loc: str, data: Action, me: Actor) -> None:
    uid = me.person_id
    if uid in _building:
        await answer_callback(update, t(loc, "export.busy"))
        return
    _building.add(uid)
    try:
        if data.name == "l":
            pledge_id = data.int_arg(0)
            await _typing(update)
            export = await ctx.svc.exports.letter(me, pledge_id, loc)
        elif data.args[0] == ExportKind.ARCHIVE.value:
            await _send_archive(update, ctx, loc, data.int_arg(1), me)
            return
        else:
            kind, org_id = ExportKind(data.args[0]), data.int_arg(1)
            await _typing(update)
            export = await ctx.svc.exports.export(me, kind, org_id, loc)
        # Answered only now: a refusal above becomes the button's alert (see ``guarded``).
        await answer_callback(update)
        try:
            await _send(update, export)
        except TelegramError as exc:
            log.warning("export not sent: %s", exc.message)
            await reply(update, t(loc, "export.failed"))
    finally:
        _building.discard(uid)


async def _send_archive(update: Update, ctx: Ctx, loc: str, org_id: int, me: Actor) -> None:
    """The archive: refused at once (the button's alert), else built (it takes a while: the
    person is told) and sent as a document, or, over Telegram's limit, left to the command
    line with the command to run."""
    org = await ctx.svc.archive.permitted(me, org_id)
    await answer_callback(update)
    await reply(update, t(loc, "archive.building", org=org.name))
    await _typing(update)
    archive = await ctx.svc.archive.build(me, org_id, loc)
    try:
        if archive.size > UPLOAD_LIMIT:
            command = f"jiannuo export archive --org {archive.org_code} --out {archive.name}"
            size, limit = (f"{n / 1024 / 1024:.1f}" for n in (archive.size, UPLOAD_LIMIT))
            text = t(loc, "archive.too_big", org=org.name, size=size, limit=limit, command=command)
            await reply(update, text)
            return
        data = await asyncio.to_thread(archive.path.read_bytes)
        export = ExportFile(archive.name, data, ZIP_MIME, archive.caption)
        try:
            await _send(update, export)
        except TelegramError as exc:
            log.warning("archive not sent: %s", exc.message)
            await reply(update, t(loc, "export.failed"))
    finally:
        await asyncio.to_thread(archive.discard)


async def _typing(update: Update) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    with contextlib.suppress(TelegramError):  # a hint only
        await chat.send_action(ChatAction.UPLOAD_DOCUMENT)


@guarded
async def on_button(update: Update, ctx: Ctx) -> None:
    """Every /export button: choose, page, go up, build, close."""
    loc = await locale_of(update, ctx)
    data = pressed(update)
    me = await actor_of(update, ctx)
    try:
        if data is None:
            raise ValueError("no data")
        if data.name in ("g", "l"):
            await _build_and_send(update, ctx, loc, data, me)
            return
        if data.name == "x":
            await answer_callback(update)
            await reply(update, t(loc, "export.closed"), edit=True)
            return
        if data.name == "k":
            kind = ExportKind(data.args[0])
            menu = await ctx.svc.exports.menu(me)
            if menu.committee:
                view = await ctx.svc.exports.org_page(me, kind, menu.org.id, 0)
                text, buttons = render_orgs(loc, view)
            elif kind is ExportKind.LETTER:
                staff = menu.me.role is Role.SECRETARY
                pledges = await ctx.svc.exports.pledge_page(me, menu.org.id if staff else None, 0)
                text, buttons = render_pledges(loc, pledges)
            else:
                await _build_and_send(
                    update, ctx, loc, Action(FEATURE, "g", (kind.value, str(menu.org.id))), me
                )
                return
        elif data.name == "o":
            view = await ctx.svc.exports.org_page(
                me, ExportKind(data.args[0]), data.int_arg(1), data.int_arg(2)
            )
            text, buttons = render_orgs(loc, view)
        elif data.name == "p":
            scope = data.int_arg(0)
            pledges = await ctx.svc.exports.pledge_page(me, scope or None, data.int_arg(1))
            text, buttons = render_pledges(loc, pledges)
        else:
            raise ValueError(data.name)
    except (ValueError, IndexError):  # a malformed or tampered action
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return
    await answer_callback(update)
    await reply(update, text, buttons, edit=True)


def build() -> list[BaseHandler[Update, Ctx, object]]:
    """The export handlers."""
    return [
        CommandHandler("export", start_export, filters=filters.ChatType.PRIVATE),
        # Not blocking: while one person's file is built, everyone else's updates go on (and
        # that person's second tap meets the in-progress guard instead of building twice).
        CallbackQueryHandler(on_button, pattern=feature_pattern(FEATURE), block=False),
    ]
