"""The Telegram adapter: an Update becomes a neutral event, handled by the router.

Two PTB handlers do it. The *guard* runs first for every update: in one read it learns whether
the update was handled before (storage/update_claim.py: a redelivery stops here), who sent it
(the Actor) and their open dialogs; it turns the update into an event (bot/chat/events.py)
and lets the router end dialogs that this event leaves or that expired. The *router handler*
runs after the PTB dialogs that are not converted yet (so they still see every command first,
as before) and hands the event to its handler; what no route takes goes on to the remaining
PTB features and the fallback hints. Dialog changes are written with the update's effects, or
at its end (:func:`flush_dialogs`), in the transaction that marks the update handled.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from telegram import Update, User
from telegram.ext import ApplicationHandlerStop, BaseHandler, TypeHandler

from bot.channels.telegram.callbacks import decode
from bot.channels.telegram.replies import TelegramReplies
from bot.chat.actor import Actor
from bot.chat.dialogs import DialogMoved, Dialogs, current_staging, staged_here
from bot.chat.events import (
    Command,
    ContactShared,
    Event,
    FileKind,
    FileSent,
    Joined,
    MessageRef,
    Other,
    Pressed,
    Text,
)
from bot.chat.router import Router, Turn
from bot.context import Ctx
from bot.domain.models import Person
from bot.domain.typed_text import visible
from bot.i18n import normalize_locale
from storage.db import Database
from storage.update_claim import UpdateSeenBefore

log = logging.getLogger(__name__)

CHANNEL = "telegram"

PtbHandler = BaseHandler[Update, Ctx, object]


def actor_of(person: Person | None, user: User, admin_ids: set[int]) -> Actor | None:
    """The roster entry behind a Telegram account (None: bound to nobody yet)."""
    if person is None:
        return None
    return Actor(
        person_id=person.id,
        name=person.name,
        org_id=person.org_id,
        role=person.role,
        locale=person.locale or normalize_locale(user.language_code),
        is_admin=person.is_admin or user.id in admin_ids,
    )


def event_of(update: Update, actor: Actor | None, bot_username: str | None) -> Event | None:
    """The update as a neutral event; None for what the router does not take (an edited
    message, a poll answer, a command addressed to another bot)."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return None
    base: dict[str, Any] = {
        "channel": CHANNEL,
        "account": str(user.id),
        "conversation": str(chat.id),
        "private": chat.type == "private",
        "update_key": str(update.update_id),
        "actor": actor,
        "language": user.language_code,
        "sender_name": user.full_name,
    }
    query = update.callback_query
    if query is not None:
        action = decode(query.data)
        held = query.message
        ref = MessageRef(str(held.chat.id), str(held.message_id)) if held is not None else None
        return Pressed(**base, action=action, message=ref)
    message = update.message
    if message is None:
        return None
    if message.text is not None:
        words = message.text.split()
        if words and words[0].startswith("/") and len(words[0]) > 1:
            name, _, mention = words[0][1:].partition("@")
            if mention and mention.lower() != (bot_username or "").lower():
                return None
            args = tuple(words[1:])
            if name.lower() == "start" and args:
                return Joined(**base, code=args[0])
            return Command(**base, name=name.lower(), args=args)
        return Text(**base, text=visible(message.text))
    if message.contact is not None:
        contact = message.contact
        own = contact.user_id == user.id
        return ContactShared(**base, phone=contact.phone_number, own=own)
    caption = visible(message.caption)
    if message.photo:
        return FileSent(
            **base, kind=FileKind.PHOTO, file_ref=message.photo[-1].file_id, caption=caption
        )
    if message.document is not None:
        document = message.document
        return FileSent(
            **base,
            kind=FileKind.DOCUMENT,
            file_ref=document.file_id,
            name=document.file_name,
            caption=caption,
        )
    return Other(**base, kind=_kind_of(message))


def _kind_of(message: Any) -> str:
    for kind in ("sticker", "location", "voice", "video", "audio", "animation", "venue"):
        if getattr(message, kind, None) is not None:
            return kind
    return "other"


class TelegramAdapter:
    """Feeds the router from PTB: the guard (first) and the router's handler (see above)."""

    def __init__(self, router: Router) -> None:
        self.router = router

    def guard(self) -> list[PtbHandler]:
        """Runs before every other handler."""
        return [TypeHandler(Update, self._take)]

    def routed(self) -> list[PtbHandler]:
        """Runs after the PTB dialogs, before the PTB features."""
        return [TypeHandler(Update, self._dispatch)]

    async def _take(self, update: Update, ctx: Ctx) -> None:
        """Drop a redelivery; read the sender and their dialogs; say what an event leaves."""
        if update.poll_answer is not None:
            return  # the ballot box claims its update ids with the ballots
        svc = ctx.svc
        user = update.effective_user
        person, states = None, []
        async with svc.db.read() as uow:
            seen = await uow.updates.seen(update.update_id)
            if not seen and user is not None:
                person = await uow.people.by_tg(user.id)
                if person is not None:
                    states = await uow.dialogs.of_person(person.id)
        if seen:
            log.info("update %s seen before: ignored", update.update_id)
            raise ApplicationHandlerStop
        if user is None:
            return
        admins = set(svc.settings.admin_ids)
        event = event_of(update, actor_of(person, user, admins), ctx.bot.username)
        staged = current_staging()
        if event is None or staged is None:
            return
        now = svc.clock.now()
        dialogs = Dialogs(person.id, states, staged, now) if person is not None else None
        out = TelegramReplies(update, ctx.bot)
        turn = Turn(svc, out, dialogs, now, event.locale, functools.partial(save_dialogs, svc.db))
        ctx.inbound = (event, turn)
        await self.router.before(event, turn)

    async def _dispatch(self, update: Update, ctx: Ctx) -> None:
        """The event to its route; a routed event goes no further."""
        held = ctx.inbound
        if held is None:
            return
        event, turn = held
        if await self.router.dispatch(event, turn):
            raise ApplicationHandlerStop


async def save_dialogs(db: Database) -> None:
    """The dialog changes no effect carried, in a unit of work of their own (which marks the
    update handled if nothing did, storage/update_claim.py)."""
    staged = staged_here()
    if staged is None:
        return
    async with db.uow() as uow:
        await uow.dialogs.write(staged.take())


async def flush_dialogs(db: Database) -> None:
    """At the end of an update: what is still staged (a dialog left or expired)."""
    try:
        await save_dialogs(db)
    except UpdateSeenBefore as exc:
        log.info("update %s seen before: its dialog change was rolled back", exc.update_id)
    except DialogMoved as exc:  # another delivery moved it on: that one stands
        log.warning("%s", exc)
