"""Residents confirm their phone number by sharing their own Telegram contact.

A resident joins through their invite link; the bot then asks for the contact (a reply
keyboard button with request_contact). Only one's own contact counts (the contact's user_id is
the sender's), and its number must match the roster phone once both are normalised (+86 /
0086, spaces, dashes, brackets). A resident's vote in a mass evaluation is kept when cast
and counts once the phone is confirmed (before closing): one who votes first and confirms
afterwards need not vote again, and is told so once (``Person.phone_confirmed``).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bot.chat import features
from bot.chat.actions import Button, action
from bot.chat.actor import Actor
from bot.domain import access
from bot.domain.clock import Clock
from bot.domain.enums import Role
from bot.domain.errors import DomainError
from bot.domain.evaluation import Ongoing, on_phone_confirmed
from bot.domain.models import Person
from bot.domain.notify import message_row
from bot.i18n import t
from storage.db import Database
from storage.reminder_repo import Recipient
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

_JUNK = re.compile(r"[\s\-()（）.·]")


def normalise_phone(raw: str | None) -> str:
    """Digits only, without the China country code: '+86 138-0000-0151' → '13800000151'."""
    text = _JUNK.sub("", unicodedata.normalize("NFKC", raw or ""))
    if text.startswith("+"):
        text = text[1:]
    if text.startswith("0086"):
        text = text[4:]
    elif text.startswith("86") and len(text) == 13:
        text = text[2:]
    return text


def needs_phone(person: Person) -> bool:
    """Whether the bot should ask this person to confirm their phone."""
    return person.role is Role.RESIDENT and not person.phone_confirmed


@dataclass(frozen=True)
class PhoneResult:
    """The person after confirming, whether it was confirmed before already, and the open
    mass evaluations they are on (their vote counts from now on)."""

    person: Person
    already: bool
    ongoing: list[Ongoing] = field(default_factory=list)


class PhoneService:
    """Confirming a resident's phone from a shared contact."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def status(self, actor: Actor) -> Person:
        """The acting resident (to know whether to ask); refused for anyone else: only a
        resident's vote waits for a confirmed phone."""
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
        _require_resident(me)
        return me

    async def confirm(self, actor: Actor, phone_number: str, *, own: bool) -> PhoneResult:
        """Mark the phone confirmed when the shared contact is one's own (``own``: the channel
        says the contact is the sender's own account) and matches the roster."""
        if not own:
            raise DomainError("resphone.not_own")
        shared = normalise_phone(phone_number)
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            _require_resident(me)
            if me.phone_confirmed:
                return PhoneResult(me, True)
            roster = normalise_phone(me.phone)
            if not roster or not shared or roster != shared:
                log.info("person %s shared a phone that does not match the roster", me.id)
                raise DomainError("resphone.mismatch", phone=_masked(shared))
            await uow.people.set_phone_confirmed(me.id, True)
            ongoing = await on_phone_confirmed(uow, self.clock.now(), me)
            return PhoneResult(me.model_copy(update={"phone_confirmed": True}), False, ongoing)


def _require_resident(person: Person) -> None:
    if person.role is not Role.RESIDENT:
        raise DomainError("resphone.not_resident")


def _masked(phone: str) -> str:
    """Enough of the number to recognise it, not enough to read it out: 138****0151."""
    if len(phone) < 7:
        return phone
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


# ---- asking residents of an open mass evaluation (the reminder tick) ------------------------

ASK_ACTION = "ask"


class ReminderBatch(Protocol):
    """What the reminder tick lends this step: queue a reminder under a unique key."""

    known: set[str]
    now: datetime
    outbox: list[dict[str, Any]]

    async def add(
        self,
        key: str,
        person: Recipient | None,
        text: str | None,
        kind: str,
        *,
        essential: bool,
        chat_id: int | None = None,
    ) -> None: ...


def ask_button(locale: str | None) -> Button:
    """An inline button that brings up the share-contact keyboard (an outbox message cannot
    carry a reply keyboard itself)."""
    return Button(
        t(locale, "resphone.btn.confirm"), action=action(features.RESIDENT_PHONE, ASK_ACTION)
    )


async def ask_residents_step(uow: UnitOfWork, batch: ReminderBatch) -> None:
    """Once per open mass evaluation, each bound resident of its branch whose phone is not
    confirmed is asked to confirm it (they cannot vote before)."""
    pending = await uow.people.unconfirmed_residents_in_evaluations()
    if not pending:
        return
    keys = [f"rp:ask:ev{eid}:p{person.id}" for eid, person in pending]
    batch.known |= await uow.reminders.already_queued(keys)
    for key, (_, person) in zip(keys, pending, strict=True):
        if key in batch.known or person.tg_user_id is None:
            continue
        # The message with its button, then its key through the batch (no text): both in
        # the same chunk of the tick.
        batch.outbox.extend(
            message_row(
                person.tg_user_id,
                t(person.locale, "resphone.evaluation"),
                batch.now,
                buttons=[[ask_button(person.locale)]],
            )
        )
        await batch.add(key, None, None, "resphone_ask", essential=True)
