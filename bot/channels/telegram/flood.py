"""FloodControl: the Application's rate limiter, one global pace for everything sent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.outbox.pacing import Pacer, SendLimits
from bot.outbox.pacing import seconds as in_seconds

log = logging.getLogger(__name__)


class FloodControl(BaseRateLimiter[dict[str, Any]]):
    """The Application's rate limiter: one global pace for everything the bot sends.

    Like PTB's AIORateLimiter it limits requests that name a chat, paces groups, and on a 429
    holds every request for ``retry_after``. Unlike it, it paces with small bursts (so a
    broadcast at the limit gets no 429 at all) and lets a caller refuse the retries with
    ``rate_limit_args={"retries": 0}``: the outbox postpones the row instead of holding a
    worker for the wait.

    Answers come before bulk: the outbox's requests (``rate_limit_args={"bulk": True}``) take
    their slots one at a time, each when the one before it is due, so they never hold more
    than the next slot. A reply to someone in chat, which reserves its slot straight away,
    then waits for at most that one slot, not behind every worker of a broadcast that runs
    at the limit (16 workers held half a second of slots ahead).
    """

    def __init__(self, limits: SendLimits | None = None, max_retries: int = 3) -> None:
        self.limits = limits or SendLimits()
        self.max_retries = max_retries
        pace = self.limits.global_pace
        self._global = Pacer(pace, self.limits.global_burst) if pace > 0 else None
        self._groups: dict[int | str, Pacer] = {}
        self._paused_until = 0.0
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._resume_handle: asyncio.TimerHandle | None = None
        self._bulk = asyncio.Lock()  # one bulk request reserves at a time
        self.retry_after_seen = 0

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def pause(self, seconds: float) -> None:
        """Hold every request for ``seconds`` (the server said retry_after)."""
        loop = asyncio.get_running_loop()
        until = loop.time() + seconds
        if until <= self._paused_until:
            return
        self._paused_until = until
        if self._global is not None:
            self._global.hold_until(until)
        self._resumed.clear()
        if self._resume_handle is not None:
            self._resume_handle.cancel()
        self._resume_handle = loop.call_at(until, self._resumed.set)

    async def _take(self, pacer: Pacer) -> None:
        loop = asyncio.get_running_loop()
        delay = pacer.reserve(loop.time()) - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)

    def _group_pacer(self, chat: int | str) -> Pacer | None:
        per_minute = self.limits.group_per_minute * self.limits.headroom
        if per_minute <= 0:
            return None
        pacer = self._groups.get(chat)
        if pacer is None:
            if len(self._groups) > 1024:
                now = asyncio.get_running_loop().time()
                self._groups = {k: p for k, p in self._groups.items() if not p.idle(now)}
            pacer = self._groups[chat] = Pacer(per_minute / 60.0, self.limits.group_burst)
        return pacer

    async def _admit(self, chat_id: Any, bulk: bool = False) -> None:
        chat: int | str | None = chat_id
        with contextlib.suppress(TypeError, ValueError):
            chat = int(chat_id)
        await self._resumed.wait()
        if chat is None:
            return
        if isinstance(chat, str) or chat < 0:
            group = self._group_pacer(chat)
            if group is not None:
                await self._take(group)
        if self._global is not None:
            if bulk:
                async with self._bulk:
                    await self._take(self._global)
            else:
                await self._take(self._global)
        await self._resumed.wait()  # a 429 may have come while this one waited for its slot

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Wait for a slot, send; on a 429 hold everyone, and retry if the caller wants."""
        retries = self.max_retries
        bulk = False
        if rate_limit_args is not None:
            retries = int(rate_limit_args.get("retries", retries))
            bulk = bool(rate_limit_args.get("bulk", False))
        attempt = 0
        while True:
            await self._admit(data.get("chat_id"), bulk)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self.retry_after_seen += 1
                wait = in_seconds(exc.retry_after)
                self.pause(wait)
                if attempt >= retries:
                    raise
                attempt += 1
                log.info("%s: 429, retrying after %.1fs", endpoint, wait)
