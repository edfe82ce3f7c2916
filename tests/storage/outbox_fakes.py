"""A Bot API stand-in for the outbox's tests: records each call, answers like Telegram."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from bot.channels.telegram.files import TelegramFiles
from bot.channels.telegram.renderer import TELEGRAM, TelegramRenderer
from bot.chat.intents import Capabilities
from bot.domain.clock import SystemClock
from bot.outbox import OutboxDispatcher, SendLimits
from storage.db import Database


class FakeBot:
    """``do_api_request`` recorded; ``fail(n, error)`` raises ``error`` on the n-th call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.failures: dict[int, Exception] = {}
        self.answers: dict[str, Callable[[int], Any]] = {}

    def fail(self, call: int, error: Exception) -> None:
        self.failures[call] = error

    async def do_api_request(self, method: str, api_kwargs: dict[str, Any], **_: Any) -> Any:
        self.calls.append((method, api_kwargs))
        error = self.failures.pop(len(self.calls), None)
        if error is not None:
            raise error
        # An edit answers with the edited message (its id unchanged).
        message_id = api_kwargs.get("message_id") or 100 + len(self.calls)
        if method in self.answers:
            return self.answers[method](message_id)
        return {"message_id": message_id, "chat": {"id": api_kwargs.get("chat_id")}}

    def sent(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]


def dispatcher(
    db: Database,
    bot: FakeBot,
    capabilities: Capabilities = TELEGRAM,
    files: TelegramFiles | None = None,
) -> OutboxDispatcher:
    """An outbox over the fake bot, unpaced, polling often."""
    renderer = TelegramRenderer(bot, capabilities, files=files)  # type: ignore[arg-type]
    return OutboxDispatcher(
        db, renderer, SystemClock(), poll_seconds=0.02, limits=SendLimits.off()
    )


async def drained(db: Database, timeout: float = 20) -> dict[str, int]:
    """Wait until no row is pending; the rows per status."""
    async with asyncio.timeout(timeout):
        while True:
            async with db.read() as uow:
                counts = await uow.outbox.counts()
            if not counts.get("pending"):
                return counts
            await asyncio.sleep(0.02)
