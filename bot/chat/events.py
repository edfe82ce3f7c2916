"""Inbound events: what a person did on some channel, in the core's terms.

A channel adapter (``bot/channels/<name>/``) turns each thing that arrives (a Telegram update,
a WeCom callback, a web form) into one of these and resolves the account to an
:class:`~bot.chat.actor.Actor` first (None for an account bound to nobody yet). Handlers read
events; they never see the channel's own objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.chat.actions import Action
from bot.chat.actor import Actor
from bot.domain.errors import NotRegistered
from bot.i18n import normalize_locale


@dataclass(frozen=True, kw_only=True)
class Event:
    """Where an event came from and who sent it.

    ``channel``: the adapter's name ("telegram"); ``account``: the sender's id on that channel;
    ``conversation``: the chat it came in (replies go there); ``private``: a one-to-one chat
    with the bot; ``update_key``: the channel's own key of this delivery, so a redelivery is
    recognised; ``language`` and ``sender_name``: what the channel reports of the sender.
    """

    channel: str
    account: str
    conversation: str
    private: bool
    update_key: str
    actor: Actor | None
    language: str | None = None
    sender_name: str = ""

    @property
    def person(self) -> Actor:
        """The person acting, for a handler that serves only people on the roster: an
        account bound to nobody is refused (NotRegistered, told in the sender's language)."""
        if self.actor is None:
            raise NotRegistered()
        return self.actor

    @property
    def locale(self) -> str:
        """The language to answer in: the person's choice, else what the channel reports."""
        if self.actor is not None and self.actor.locale:
            return self.actor.locale
        return normalize_locale(self.language)


@dataclass(frozen=True, kw_only=True)
class Text(Event):
    """Words typed (invisible ends already removed)."""

    text: str


@dataclass(frozen=True, kw_only=True)
class Command(Event):
    """A command (``/pledge``), lower-case, without the slash, with its arguments."""

    name: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class MessageRef:
    """A message the bot sent, as its channel names it (for an edit in place)."""

    conversation: str
    message: str


@dataclass(frozen=True, kw_only=True)
class Pressed(Event):
    """A button pressed: the decoded action (None if the channel could not decode it: forged
    or from an older version) and the message the button was on."""

    action: Action | None
    message: MessageRef | None = None


class FileKind(StrEnum):
    """What kind of file a person sent."""

    PHOTO = "photo"
    DOCUMENT = "document"


@dataclass(frozen=True, kw_only=True)
class FileSent(Event):
    """A photo or a file, by the channel's reference to it, with its caption."""

    kind: FileKind
    file_ref: str
    name: str | None = None
    caption: str = ""


@dataclass(frozen=True, kw_only=True)
class ContactShared(Event):
    """A phone contact shared; ``own``: it is the sender's own (not someone else's card)."""

    phone: str
    own: bool


@dataclass(frozen=True, kw_only=True)
class Vote(Event):
    """Choices in a ballot the channel shows natively (a Telegram poll)."""

    ballot_ref: str
    choices: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class Joined(Event):
    """Someone came with an invite code (Telegram's ``/start <code>`` deep link)."""

    code: str


@dataclass(frozen=True, kw_only=True)
class Other(Event):
    """Something no step can use (a sticker, a location, a voice note): its kind."""

    kind: str


Inbound = Text | Command | Pressed | FileSent | ContactShared | Vote | Joined | Other
