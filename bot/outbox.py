"""The outbox dispatcher: drains queued messages to the channel under Telegram's limits.

Every row ends ``sent`` (with its message id) or ``failed`` (with the reason), or stays
``pending`` to be retried; nothing is dropped. A chat's rows go out in order: a row waits
while an earlier row of the same chat is still pending.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.domain.clock import Clock
from bot.domain.models import OutboxMessage
from storage.db import Database

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300.0
PRIVATE_BURST = 3  # Telegram tolerates short bursts to one chat, about 1 msg/s sustained
PRIVATE_RATE = 1.0
PERMANENT_MARKERS = ("chat not found", "user is deactivated", "bot was kicked", "have no rights")


def markup(buttons: Sequence[Sequence[dict[str, str]]] | None) -> InlineKeyboardMarkup | None:
    """Inline keyboard from the payload's plain rows."""
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    b["text"], callback_data=b.get("callback_data"), url=b.get("url")
                )
                for b in row
            ]
            for row in buttons
        ]
    )


class _ChatBucket:
    """A token bucket per private chat (the global and group limits are PTB's limiter's)."""

    def __init__(self) -> None:
        self.tokens = float(PRIVATE_BURST)
        self.stamp = time.monotonic()

    def wait_time(self) -> float:
        now = time.monotonic()
        self.tokens = min(PRIVATE_BURST, self.tokens + (now - self.stamp) * PRIVATE_RATE)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        needed = (1 - self.tokens) / PRIVATE_RATE
        self.tokens -= 1
        return needed


class OutboxDispatcher:
    """Sends pending outbox rows; started with the application, resumed at every start."""

    def __init__(
        self,
        db: Database,
        bot: Bot,
        clock: Clock,
        *,
        poll_seconds: float = 0.5,
        batch: int = 200,
        concurrency: int = 16,
    ) -> None:
        self.db = db
        self.bot = bot
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.concurrency = concurrency
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._buckets: dict[int, _ChatBucket] = {}
        self._stopping = False

    def wake(self) -> None:
        """New rows were queued: look now instead of at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        """Run the drain loop in the background."""
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox-dispatcher")

    async def stop(self) -> None:
        """Stop after the messages in flight; pending rows stay for the next start."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._stopping:
            try:
                sent = await self.drain_once()
            except Exception:
                log.exception("outbox drain failed; retrying")
                sent = 0
            if sent == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
                self._wake.clear()

    async def drain_once(self) -> int:
        """Send what is due now; returns how many rows were settled."""
        now = self.clock.now()
        async with self.db.uow() as uow:
            rows = await uow.outbox.due(now, self.batch)
        per_chat: dict[int, list[OutboxMessage]] = {}
        blocked: set[int] = set()
        for row in rows:
            if row.chat_id in blocked:
                continue
            if row.not_before > now:
                blocked.add(row.chat_id)  # keep the chat's order: later rows wait
                continue
            per_chat.setdefault(row.chat_id, []).append(row)
        if not per_chat:
            return 0
        semaphore = asyncio.Semaphore(self.concurrency)
        results = await asyncio.gather(
            *(self._send_chat(chat_rows, semaphore) for chat_rows in per_chat.values())
        )
        return sum(results)

    async def _send_chat(self, rows: list[OutboxMessage], semaphore: asyncio.Semaphore) -> int:
        settled = 0
        async with semaphore:
            for row in rows:
                if self._stopping:
                    break
                if not await self._send_row(row):
                    break  # postponed: the chat's later rows wait for it
                settled += 1
        return settled

    async def _pace(self, chat_id: int) -> None:
        if chat_id > 0:
            bucket = self._buckets.setdefault(chat_id, _ChatBucket())
            delay = bucket.wait_time()
            if delay > 0:
                await asyncio.sleep(delay)

    async def _send_row(self, row: OutboxMessage) -> bool:
        """Send one row; True if settled (sent or failed), False if postponed."""
        await self._pace(row.chat_id)
        try:
            message_id = await self._deliver(row)
        except RetryAfter as exc:
            retry = exc.retry_after
            seconds = retry.total_seconds() if isinstance(retry, timedelta) else float(retry)
            await self._postpone(row, seconds, f"429 retry after {seconds:g}s", count=False)
            return False
        except Forbidden as exc:
            await self._fail(row, f"forbidden: {exc.message}")
            return True
        except BadRequest as exc:
            text = exc.message.lower()
            if "message is not modified" in text:
                await self._settle(row, None)
                return True
            await self._fail(row, f"bad request: {exc.message}")
            return True
        except NetworkError as exc:  # includes TimedOut and 5xx answers
            backoff = min(MAX_BACKOFF_SECONDS, 0.5 * 2 ** min(row.attempts, 10))
            await self._postpone(row, backoff, f"network: {exc.message}")
            return False
        except TelegramError as exc:
            await self._fail(row, f"error: {exc.message}")
            return True
        await self._settle(row, message_id)
        return True

    async def _deliver(self, row: OutboxMessage) -> int | None:
        payload: dict[str, Any] = row.payload
        reply_markup = markup(payload.get("buttons"))
        if row.method == "upsert" and row.ref is not None:
            async with self.db.uow() as uow:
                known = await uow.outbox.posted(row.ref)
            if known is not None and known[0] == row.chat_id:
                try:
                    result = await self.bot.edit_message_text(
                        payload["text"],
                        chat_id=row.chat_id,
                        message_id=known[1],
                        reply_markup=reply_markup,
                    )
                except BadRequest as exc:
                    if "message to edit not found" not in exc.message.lower():
                        raise
                else:
                    return result.message_id if isinstance(result, Message) else known[1]
        if row.method == "editMessageText":
            result = await self.bot.edit_message_text(
                payload["text"],
                chat_id=row.chat_id,
                message_id=payload["message_id"],
                reply_markup=reply_markup,
            )
            return result.message_id if isinstance(result, Message) else payload["message_id"]
        message = await self.bot.send_message(
            row.chat_id, payload["text"], reply_markup=reply_markup
        )
        return message.message_id

    async def _settle(self, row: OutboxMessage, message_id: int | None) -> None:
        async with self.db.uow() as uow:
            await uow.outbox.mark_sent(row.id, message_id, self.clock.now())
            if row.ref is not None and message_id is not None:
                await uow.outbox.remember_posted(row.ref, row.chat_id, message_id)

    async def _fail(self, row: OutboxMessage, reason: str) -> None:
        log.warning("outbox row %s to chat %s failed: %s", row.id, row.chat_id, reason)
        async with self.db.uow() as uow:
            await uow.outbox.mark_failed(row.id, reason)

    async def _postpone(
        self, row: OutboxMessage, seconds: float, reason: str, count: bool = True
    ) -> None:
        log.info("outbox row %s postponed %.1fs: %s", row.id, seconds, reason)
        async with self.db.uow() as uow:
            await uow.outbox.postpone(
                row.id,
                self.clock.now() + timedelta(seconds=seconds),
                row.attempts + 1 if count else row.attempts,
                reason,
            )
