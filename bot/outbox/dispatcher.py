"""The outbox dispatcher: drains queued intents to the channel under its limits.

Every row ends ``sent`` (with its message id) or ``failed`` (with the reason), or stays
``pending`` to be retried; nothing is dropped. A chat's rows go out in order: a chat has at
most one request in flight, and a postponed row holds back the chat's later rows (in memory
and, through :meth:`OutboxRepo.due_ids`, in SQL).

What a row shows is prepared here (``content``: live views rendered, files drawn); the
channel's renderer (``ChannelRenderer``, e.g. ``bot/channels/telegram/renderer.py``) turns the
intent into its own calls and classifies how it went.

Pacing has two layers. The channel's global pace (Telegram: ``FloodControl``, the
Application's rate limiter) spaces every request that names a chat (replies of handlers
included) and pauses all of them after a 429. The dispatcher spaces each chat's own rows
(about one a second to a person, twenty a minute to a group) by *scheduling* the chat, so no
worker sleeps on a slow chat while others are ready.

Crash safety: outcomes are recorded by one recorder task, all those ready at the same moment
in one transaction (group commit); a chat's next row is only taken once the previous outcome
is committed. At most ``window`` rows are ever sent without their outcome being recorded
(workers wait for room otherwise): after a crash, those, and only those, are sent again.

Two lanes: the bot's own messages (notices of reviews, reminders, a broadcast's report) are
taken before broadcast rows, so a broadcast to thousands does not hold them back for minutes.
Within a lane a chat's rows keep their order; a broadcast's message to a person may be
overtaken by another message of the bot to that person.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass
from datetime import timedelta

from bot.chat.intents import VIEW, Sent
from bot.domain.clock import Clock
from bot.outbox.channel import (
    ChannelRenderer,
    FileRenderer,
    Outcome,
    SentHook,
    SettleHook,
    ViewRenderer,
)
from bot.outbox.content import Contents
from bot.outbox.pacing import Pacer, SendLimits
from bot.outbox.rows import view_row
from storage.db import Database
from storage.repositories import OutboxBatch, OutboxRow

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300.0
HOOK_INTERVAL_SECONDS = 0.5  # settle hooks (a report's refresh) run at most this often
GATHER_SECONDS = 0.05  # an outcome waits at most this long for others to share its commit


@dataclass
class DispatchStats:
    """What the dispatcher did since it was built."""

    sent: int = 0
    failed: int = 0
    postponed_429: int = 0
    postponed_network: int = 0
    commits: int = 0
    unchanged: int = 0  # edits skipped: the post already showed that very content


@dataclass
class _Settling:
    row: OutboxRow
    outcome: Outcome


class OutboxDispatcher:
    """Sends pending outbox rows; started with the application, resumed at every start."""

    def __init__(
        self,
        db: Database,
        channel: ChannelRenderer,
        clock: Clock,
        *,
        poll_seconds: float = 0.5,
        batch: int = 300,
        concurrency: int = 16,
        window: int | None = None,
        max_loaded: int = 600,
        limits: SendLimits | None = None,
    ) -> None:
        self.db = db
        self.channel = channel
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.concurrency = concurrency
        # Rows sent and not yet recorded, at most: the duplicates a crash can cause.
        self.window = window or 2 * concurrency
        self.max_loaded = max_loaded
        self.limits = limits or SendLimits()
        self.stats = DispatchStats()
        self.contents = Contents(db)
        self._hooks: list[SettleHook] = []
        self._reset()

    def _reset(self) -> None:
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._workers: list[asyncio.Task[None]] = []
        self._held: set[int] = set()  # ids of rows loaded and not yet settled
        self._held_own: set[int] = set()  # those of them in the bot's own lane
        self._queues: dict[int, deque[OutboxRow]] = {}  # per chat, oldest first
        # Chats whose head row may go now, first come first served; paced ones wait on a timer.
        self._ready: asyncio.Queue[int | None] = asyncio.Queue()
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._pacers: dict[int, Pacer] = {}
        self._wake = asyncio.Event()
        self._settle_event = asyncio.Event()
        self._settling: list[_Settling] = []
        self._unhooked: list[_Settling] = []  # recorded, their hooks not run yet
        self._hooked_at = 0.0
        self._unrecorded = asyncio.Semaphore(self.window)
        self._settling_since = 0.0

    # -- wiring

    def register_view(self, name: str, renderer: ViewRenderer) -> None:
        """A live view: ``view`` rows with ``payload["view"] == name`` are rendered when sent
        (so a waiting refresh always shows the newest figures), posted under their ref and
        replaced in place later."""
        self.contents.views[name] = renderer

    def on_settled(self, hook: SettleHook) -> None:
        """Call ``hook(uow, rows)`` after rows were settled (sent or failed), in a transaction
        of its own: a failing hook is logged and never holds back the outbox. The hook returns
        whether it queued rows (they are then taken at once)."""
        self._hooks.append(hook)

    def on_sent(self, name: str, hook: SentHook) -> None:
        """Rows whose ``payload["on_sent"] == name``: ``hook(uow, row, sent)`` runs in the
        transaction that records them sent (never for a failed row)."""
        self.contents.sent_hooks[name] = hook

    def register_file(self, name: str, renderer: FileRenderer) -> None:
        """``file`` rows with ``payload["render"] == name`` get their file when they are sent:
        ``renderer(uow, payload)`` reads (read-only), the drawing it returns runs on a thread
        after."""
        self.contents.files[name] = renderer

    # -- lifecycle

    def wake(self) -> None:
        """New rows were queued: look now instead of at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        """Run the loader, the workers and the recorder in the background."""
        self._reset()
        self._workers = [
            asyncio.create_task(self._work(), name=f"outbox-worker-{n}")
            for n in range(self.concurrency)
        ]
        self._tasks = [
            asyncio.create_task(self._load_loop(), name="outbox-loader"),
            asyncio.create_task(self._settle_loop(), name="outbox-recorder"),
        ]

    async def stop(self) -> None:
        """Stop after the messages in flight (their outcomes recorded); the rest stay pending."""
        if not self._tasks:
            return
        self._stopping = True
        self._wake.set()
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for _ in self._workers:
            self._ready.put_nowait(None)
        await asyncio.gather(*self._workers, return_exceptions=True)
        # Not cancelled: a task cancelled inside a unit of work's setup could leave the
        # database's lock taken. The loader sees the flag at its next turn (woken above).
        self._settle_event.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self._workers = []

    # -- loading

    async def _load_loop(self) -> None:
        while not self._stopping:
            woken = self._wake.is_set()
            self._wake.clear()
            try:
                loaded = await self._load(woken)
            except Exception:
                log.exception("outbox load failed; retrying")
                loaded = 0
            if loaded == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)

    async def _load(self, woken: bool = True) -> int:
        """Take due rows the workers do not hold yet, oldest first; returns how many.

        Announced rows (``woken``) are the bot's own messages: their lane is read at once,
        which is cheap (few of them are ever held). Both lanes are read when there is room
        for half a batch: reading after every send would cost more than it brings.
        """
        room = self.max_loaded - len(self._held)
        if room <= 0:
            return 0
        both = room >= self.batch // 2 or not self._held
        if not both and not woken:
            return 0
        now = self.clock.now()
        async with self.db.uow() as uow:
            # The oldest due ids, as many as we hold plus a batch: the held ones are skipped,
            # so a chat's new rows land behind its held ones, in order.
            if both:
                ids = await uow.outbox.due_ids(now, len(self._held) + min(room, self.batch))
            else:
                ids = await uow.outbox.due_ids(
                    now, len(self._held_own) + min(room, self.batch), own_only=True
                )
            fresh = [i for i in ids if i not in self._held]
            rows = await uow.outbox.rows(fresh) if fresh else []
        for row in rows:
            if row.status != "pending" or row.id in self._held:
                continue
            self._held.add(row.id)
            if row.broadcast_id is None:
                self._held_own.add(row.id)
            queue = self._queues.get(row.chat_id)
            if queue is not None:
                queue.append(row)  # the chat is scheduled or being worked: it comes in turn
            else:
                self._queues[row.chat_id] = deque([row])
                self._schedule(row.chat_id)
        if len(self._pacers) > 50_000:
            loop_now = asyncio.get_running_loop().time()
            self._pacers = {c: p for c, p in self._pacers.items() if not p.idle(loop_now)}
        return len(rows)

    def _release(self, row_id: int) -> None:
        self._held.discard(row_id)
        self._held_own.discard(row_id)

    # -- scheduling chats

    def _pacer(self, chat_id: int) -> Pacer | None:
        pacer = self._pacers.get(chat_id)
        if pacer is None:
            limits = self.limits
            if chat_id > 0:
                rate, burst = limits.private_per_second * limits.headroom, limits.private_burst
            else:
                rate = limits.group_per_minute * limits.headroom / 60.0
                burst = limits.group_burst
            if rate <= 0:
                return None
            pacer = self._pacers[chat_id] = Pacer(rate, burst)
        return pacer

    def _schedule(self, chat_id: int) -> None:
        """The chat's head row may go at its pace: now, or by a timer."""
        loop = asyncio.get_running_loop()
        pacer = self._pacer(chat_id)
        now = loop.time()
        when = pacer.reserve(now) if pacer is not None else now
        if when <= now:
            self._ready.put_nowait(chat_id)
        else:
            self._timers[chat_id] = loop.call_at(when, self._ready_later, chat_id)

    def _ready_later(self, chat_id: int) -> None:
        self._timers.pop(chat_id, None)
        self._ready.put_nowait(chat_id)

    async def _next_chat(self) -> int | None:
        chat_id = await self._ready.get()  # None: stop
        return None if self._stopping else chat_id

    # -- working

    async def _work(self) -> None:
        while True:
            chat_id = await self._next_chat()
            if chat_id is None:
                return
            row = self._queues[chat_id][0]
            await self._unrecorded.acquire()  # released once the outcome is committed
            outcome = await self._attempt(row)
            # The chat waits for the record (its next row is scheduled by the recorder); this
            # worker goes on with another chat.
            if not self._settling:
                self._settling_since = asyncio.get_running_loop().time()
            self._settling.append(_Settling(row, outcome))
            self._settle_event.set()

    def _recorded(self, item: _Settling) -> None:
        """The outcome is committed: the chat may go on (or waits behind a postponed row)."""
        self._unrecorded.release()
        row = item.row
        queue = self._queues.get(row.chat_id)
        if queue is None:  # pragma: no cover - a chat is held until its head is recorded
            return
        if item.outcome.kind == "postponed":
            # The chat's later rows wait behind this one: let go of them; the loader takes
            # the chat up again, in order, once the row is due.
            for held in queue:
                self._release(held.id)
            del self._queues[row.chat_id]
            return
        queue.popleft()
        self._release(row.id)
        if queue and not self._stopping:
            self._schedule(row.chat_id)
        else:
            for held in queue:
                self._release(held.id)
            del self._queues[row.chat_id]

    async def _attempt(self, row: OutboxRow) -> Outcome:
        """Send one row; the outcome to record."""
        try:
            job = await self.contents.prepare(row)
        except LookupError as exc:  # a view or a file nobody registered: a bug, said so
            outcome = Outcome("failed", error=f"error: {exc}")
        except Exception as exc:  # reading failed: retried with backoff, never lost
            log.exception("outbox row %s could not be prepared", row.id)
            outcome = Outcome("postponed", error=f"internal: {exc!r}", cause="internal")
        else:
            if isinstance(job, Outcome):
                outcome = job
            else:
                outcome = await self.channel.deliver(job)
                outcome.rendered = job.rendered
                if outcome.kind == "sent":
                    self.contents.shown(job, outcome.message_id)
        if outcome.kind == "sent":
            self.stats.sent += 1
            if outcome.cause == "unchanged":
                self.stats.unchanged += 1
        elif outcome.kind == "failed":
            log.warning("outbox row %s to chat %s failed: %s", row.id, row.chat_id, outcome.error)
            self.stats.failed += 1
        else:
            if outcome.cause == "rate":
                self.stats.postponed_429 += 1
            elif outcome.cause == "network":
                self.stats.postponed_network += 1
            if outcome.delay is None:
                outcome.delay = min(MAX_BACKOFF_SECONDS, 0.5 * 2 ** min(row.attempts, 10))
        return outcome

    # -- recording outcomes

    async def _settle_loop(self) -> None:
        """Record outcomes as they come (all that are ready share one transaction); run the
        settle hooks on what was recorded at most every HOOK_INTERVAL_SECONDS."""
        loop = asyncio.get_running_loop()
        while True:
            if not self._settling:
                timeout = None
                if self._unhooked:
                    timeout = max(0.0, self._hooked_at + HOOK_INTERVAL_SECONDS - loop.time())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._settle_event.wait(), timeout)
            self._settle_event.clear()
            if self._settling and not self._stopping:
                # Let a few more outcomes join the transaction: a commit costs the same for one
                # row as for fifty, and under load each one waits for the interpreter's lock.
                delay = self._settling_since + GATHER_SECONDS - loop.time()
                if delay > 0 and len(self._settling) < self.window // 2:
                    await asyncio.sleep(delay)
            batch, self._settling = self._settling, []
            if batch:
                while True:
                    try:
                        await self._write(batch)
                        break
                    except Exception:
                        log.exception("recording %d outbox outcomes failed; retrying", len(batch))
                        await asyncio.sleep(0.5)
                for item in batch:
                    self._recorded(item)
                self._unhooked += batch
            finished = self._stopping and all(w.done() for w in self._workers)
            due = loop.time() >= self._hooked_at + HOOK_INTERVAL_SECONDS
            if self._unhooked and (due or finished):
                recorded, self._unhooked = self._unhooked, []
                self._hooked_at = loop.time()
                await self._after_settle(recorded)
            if finished and not self._settling and not self._unhooked:
                return

    async def _write(self, batch: list[_Settling]) -> None:
        now = self.clock.now()
        outcomes = OutboxBatch()
        posted: list[tuple[str, int, int]] = []
        for item in batch:
            row, outcome = item.row, item.outcome
            if outcome.kind == "sent":
                outcomes.mark_sent(row.id, outcome.message_id, now)
                if row.ref is not None and outcome.message_id is not None:
                    posted.append((row.ref, row.chat_id, outcome.message_id))
            elif outcome.kind == "failed":
                outcomes.mark_failed(row.id, outcome.error or "")
            else:
                log.info(
                    "outbox row %s postponed %.1fs: %s", row.id, outcome.delay or 0, outcome.error
                )
                outcomes.postpone(
                    row.id,
                    now + timedelta(seconds=outcome.delay or 0.0),
                    row.attempts + 1 if outcome.count_attempt else row.attempts,
                    outcome.error or "",
                    max(row.parts_sent, outcome.parts_sent),
                )
        async with self.db.uow() as uow:
            await uow.outbox.settle(outcomes)
            for ref, chat_id, message_id in posted:
                await uow.outbox.remember_posted(ref, chat_id, message_id)
            for item in batch:
                hook = self.contents.sent_hooks.get(str(item.row.payload.get("on_sent")))
                if hook is None or item.outcome.kind != "sent":
                    continue
                sent = Sent(item.outcome.message_id, item.outcome.ballot_id)
                try:
                    await hook(uow, item.row, sent)
                except Exception:
                    log.exception("sent hook of outbox row %s failed", item.row.id)
        self.stats.commits += 1

    async def _after_settle(self, batch: list[_Settling]) -> None:
        """Settle hooks, and a fresh refresh for a view whose figures moved while it was sent."""
        settled = [item.row for item in batch if item.outcome.kind != "postponed"]
        views = [item for item in batch if item.row.kind == VIEW and item.outcome.kind == "sent"]
        if not views and not (self._hooks and settled):
            return
        queued = False
        try:
            async with self.db.uow() as uow:
                for hook in self._hooks:
                    queued = await hook(uow, settled) or queued
                for item in views:
                    fresh = await self.contents.view(uow, item.row)
                    if fresh is not None and fresh != item.outcome.rendered:
                        row = view_row(
                            item.row.chat_id,
                            item.row.ref or "",
                            item.row.payload,
                            self.clock.now(),
                        )
                        queued = await uow.outbox.refresh_view(row) or queued
        except Exception:
            log.exception("outbox settle hooks failed")
            return
        if queued:
            self.wake()
