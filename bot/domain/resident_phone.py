"""Residents confirm their phone number by sharing their own Telegram contact.

A resident joins through their invite link; the bot then asks for the contact (a reply
keyboard button with request_contact). Only one's own contact counts (the contact's user_id is
the sender's), and its number must match the roster phone once both are normalised (+86 /
0086, spaces, dashes, brackets). A mass evaluation counts only residents with a confirmed phone
as eligible voters (``Person.phone_confirmed``).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass

from bot.domain import access
from bot.domain.clock import Clock
from bot.domain.enums import Role
from bot.domain.errors import DomainError
from bot.domain.models import Person
from storage.db import Database

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
    """The person after confirming, and whether it was confirmed before already."""

    person: Person
    already: bool


class PhoneService:
    """Confirming a resident's phone from a shared contact."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def status(self, tg_user_id: int) -> Person:
        """The bound person (to know whether to ask)."""
        async with self.db.uow() as uow:
            return await access.actor(uow, tg_user_id)

    async def confirm(
        self, tg_user_id: int, contact_user_id: int | None, phone_number: str
    ) -> PhoneResult:
        """Mark the phone confirmed when the shared contact is one's own and matches."""
        if contact_user_id != tg_user_id:
            raise DomainError("resphone.not_own")
        shared = normalise_phone(phone_number)
        async with self.db.uow() as uow:
            me = await access.actor(uow, tg_user_id)
            if me.phone_confirmed:
                return PhoneResult(me, True)
            roster = normalise_phone(me.phone)
            if not roster or not shared or roster != shared:
                log.info("person %s shared a phone that does not match the roster", me.id)
                raise DomainError("resphone.mismatch", phone=_masked(shared))
            await uow.people.set_phone_confirmed(me.id, True)
            return PhoneResult(me.model_copy(update={"phone_confirmed": True}), False)


def _masked(phone: str) -> str:
    """Enough of the number to recognise it, not enough to read it out: 138****0151."""
    if len(phone) < 7:
        return phone
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
