"""The person behind an inbound event, resolved once per event from their channel account."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.enums import Role

TELEGRAM = "telegram"


@dataclass(frozen=True)
class Account:
    """Somebody's identity on one channel: the channel's name and its own id for them (a
    Telegram user id, a WeCom userid), as text. Only the channel adapter and onboarding
    (binding an account to a roster entry) handle accounts; services take an Actor."""

    channel: str
    external_id: str


@dataclass(frozen=True)
class Actor:
    """A roster entry acting through some channel; services take this, never a channel id.

    ``locale`` is the language the person reads (their choice, else what their channel
    reports, else zh_CN). A channel account that is not bound to anybody yet has no actor:
    the adapter hands such events to onboarding (binding by invite code) only.
    """

    person_id: int
    name: str
    org_id: int
    role: Role
    locale: str
    is_admin: bool = False
