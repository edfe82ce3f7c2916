"""The reply port: how a handler answers the event it is handling, on whatever channel.

Each channel adapter implements :class:`Replies` for one inbound event. Messages the bot sends
on its own (notices to other people, reminders) go through the outbox instead; this port is
only for answering the person who just did something, in the conversation they did it in.
"""

from __future__ import annotations

from typing import Protocol

from bot.chat.actions import Keyboard
from bot.domain.enums import Role


class Replies(Protocol):
    """Answers to the event in hand."""

    async def reply(self, text: str, buttons: Keyboard | None = None) -> None:
        """A new message in the event's conversation (a long text in as many as it takes)."""

    async def edit(self, text: str, buttons: Keyboard | None = None) -> None:
        """Replace the message whose button was pressed; a new message where that cannot be
        done (no pressed message, too old, a channel that cannot edit)."""

    async def notice(self, text: str | None = None, *, alert: bool = False) -> None:
        """Acknowledge a press, with a short notice (``alert``: one the person must dismiss).
        Every press is acknowledged once; without a press this does nothing."""

    async def send_file(
        self, name: str, data: bytes, *, caption: str | None = None, photo: bool = False
    ) -> None:
        """A file (``photo``: shown as a picture) in the event's conversation."""

    async def ask_contact(self, text: str, label: str, placeholder: str | None = None) -> None:
        """Ask for the person's own phone number with the channel's share-contact control
        (``label`` on the control, ``placeholder`` where the person would type)."""

    async def show_commands(self, role: Role | None, locale: str) -> None:
        """Show the person the commands of their role in their language (a channel menu)."""
