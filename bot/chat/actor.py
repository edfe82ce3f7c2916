"""The person behind an inbound event, resolved once by the channel adapter."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.enums import Role


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
