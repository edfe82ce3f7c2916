"""The contract between the outbox dispatcher and a channel's renderer of intents.

The dispatcher decides when a row goes (order per chat, pacing, lanes, the window) and what it
shows (a live view rendered, a file drawn, the post to replace under its ref); the channel's
renderer turns that into its own calls within its limits, and says how it went: sent (with
its reference), refused for good, or to be tried again, and after how long.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from bot.chat.intents import Capabilities, Sent
from storage.repositories import OutboxRow
from storage.uow import UnitOfWork

Rendered = tuple[str, Any]
"""A live view's text and its buttons (rows, or None), as its renderer made them."""
ViewRenderer = Callable[[UnitOfWork, int, dict[str, Any]], Awaitable[Rendered | None]]
SettleHook = Callable[[UnitOfWork, Sequence[OutboxRow]], Awaitable[bool]]
# Called with a sent row and what the channel reported of it, in the transaction that marks it
# sent (rows name theirs in payload["on_sent"]; e.g. a ballot's id is remembered).
SentHook = Callable[[UnitOfWork, OutboxRow, Sent], Awaitable[None]]
# Renders a row's file at send time (payload["render"]), so no bytes sit in the outbox JSON:
# it reads what it needs in a read-only unit of work and returns the drawing, which runs on a
# thread after the unit of work ended (no transaction is open while a chart is drawn).
Drawing = Callable[[], bytes]
FileRenderer = Callable[[UnitOfWork, dict[str, Any]], Awaitable[Drawing]]


@dataclass
class Job:
    """One row made ready to send.

    ``kind``/``payload``: the intent to render (a live view arrives as the ``message`` it
    rendered to, with the row's ref). ``known``: the message posted under the row's ref in this
    chat, which the new content replaces. ``file``: the bytes of a ``file`` intent.
    """

    row: OutboxRow
    kind: str
    payload: dict[str, Any]
    known: int | None = None
    file: bytes | None = None
    rendered: Rendered | None = None


@dataclass
class Outcome:
    """How a row went. ``postponed`` rows are tried again after ``delay`` seconds (None: the
    dispatcher's backoff); ``parts_sent``: the parts of a split message the channel already
    took (a retry goes on from there); ``cause`` of a postponement: rate, network, internal."""

    kind: Literal["sent", "failed", "postponed"]
    message_id: int | None = None
    error: str | None = None
    delay: float | None = None
    count_attempt: bool = True
    parts_sent: int = 0
    cause: str = ""
    ballot_id: str | None = None
    rendered: Rendered | None = None


class ChannelRenderer(Protocol):
    """A channel's renderer of intents (``bot/channels/<name>/``)."""

    capabilities: Capabilities

    async def deliver(self, job: Job) -> Outcome:
        """Send the job's intent; never raises: every failure is an outcome."""
        ...
