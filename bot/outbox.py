"""The outbox dispatcher: drains queued messages to the channel under Telegram's limits.

Every row ends ``sent`` (with its message id) or ``failed`` (with the reason), or stays
``pending`` to be retried; nothing is dropped. A chat's rows go out in order: a chat has at
most one request in flight, and a postponed row holds back the chat's later rows (in memory
and, through :meth:`OutboxRepo.due_ids`, in SQL).

Pacing has two layers. :class:`FloodControl`, the Application's rate limiter, spaces every
request that names a chat (replies of handlers included) at the global rate and pauses all
of them after a 429. The dispatcher spaces each chat's own rows (about one a second to a
person, twenty a minute to a group) by *scheduling* the chat, so no worker sleeps on a slow
chat while others are ready.

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
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter, ExtBot

from bot.channels.telegram.callbacks import inline_keyboard
from bot.channels.telegram.files import TelegramFiles
from bot.chat.actions import AnyRows
from bot.domain.clock import Clock
from bot.domain.files import FileMissing
from storage.db import Database
from storage.repositories import OutboxBatch, OutboxRow
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300.0
SHOWN_MEMORY = 10_000  # ref'd posts whose shown content the dispatcher remembers
HOOK_INTERVAL_SECONDS = 0.5  # settle hooks (a report's refresh) run at most this often
GATHER_SECONDS = 0.05  # an outcome waits at most this long for others to share its commit
VIEW_METHOD = "view"
# Answers to an edit that mean "post it again" (the ref is then re-pointed to the new post).
UNEDITABLE = (
    "message to edit not found",
    "message can't be edited",
    "message_id_invalid",
    "message identifier is not specified",
)

Buttons = AnyRows
Rendered = tuple[str, AnyRows | None]
ViewRenderer = Callable[[UnitOfWork, int, dict[str, Any]], Awaitable[Rendered | None]]
SettleHook = Callable[[UnitOfWork, Sequence[OutboxRow]], Awaitable[bool]]
# Called with a sent row and the Bot API's raw answer, in the transaction that marks it sent
# (rows name theirs in payload["on_sent"]; e.g. a ballot poll's poll id is remembered).
SentHook = Callable[[UnitOfWork, OutboxRow, Any], Awaitable[None]]
# Renders a row's file at send time (payload["render"]), so no bytes sit in the outbox JSON:
# it reads what it needs in a read-only unit of work and returns the drawing, which runs on a
# thread after the unit of work ended (no transaction is open while a chart is drawn).
Drawing = Callable[[], bytes]
FileRenderer = Callable[[UnitOfWork, dict[str, Any]], Awaitable[Drawing]]


# --------------------------------------------------------------------------- limits


@dataclass(frozen=True)
class SendLimits:
    """Telegram's flood limits (Bot API FAQ) and how far below them the bot paces itself.

    A rate of 0 turns that limit off (a local server without limits, benchmarks).
    """

    global_per_second: float = 30.0
    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: float = 20.0
    group_burst: int = 10
    # Pace a little under the limit with small bursts: our clock and the server's never agree
    # exactly, and a request paced at the very limit arrives early now and then (a 429).
    headroom: float = 0.97
    global_burst: int = 5

    @classmethod
    def off(cls) -> SendLimits:
        """No pacing at all."""
        return cls(global_per_second=0, private_per_second=0, group_per_minute=0)

    @property
    def global_pace(self) -> float:
        """Requests per second the bot allows itself overall (0: unlimited)."""
        return self.global_per_second * self.headroom


class Pacer:
    """Hands out send slots at ``rate`` a second, ``burst`` at once (GCRA, virtual scheduling).

    A reservation is O(1) and first come, first served; the caller waits until its slot.
    """

    __slots__ = ("interval", "tat", "tolerance")

    def __init__(self, rate: float, burst: int) -> None:
        self.interval = 1.0 / rate
        self.tolerance = self.interval * max(0, burst - 1)
        self.tat = 0.0  # theoretical arrival time of the next request

    def reserve(self, now: float) -> float:
        """Take the next slot; returns when it may be used (``now`` or later)."""
        at = max(now, self.tat - self.tolerance)
        self.tat = max(self.tat, at) + self.interval
        return at

    def hold_until(self, moment: float) -> None:
        """No slot before ``moment`` (after a 429), and no burst right at it."""
        self.tat = max(self.tat, moment + self.tolerance)

    def idle(self, now: float) -> bool:
        """Whether the pacer is back to its full burst (it may be forgotten)."""
        return self.tat <= now


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


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
                seconds = _seconds(exc.retry_after)
                self.pause(seconds)
                if attempt >= retries:
                    raise
                attempt += 1
                log.info("%s: 429, retrying after %.1fs", endpoint, seconds)


# --------------------------------------------------------------------------- the dispatcher


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
class _Outcome:
    kind: Literal["sent", "failed", "postponed"]
    message_id: int | None = None
    error: str | None = None
    delay: float = 0.0
    count_attempt: bool = True
    rendered: Rendered | None = None


@dataclass
class _Settling:
    row: OutboxRow
    outcome: _Outcome


class OutboxDispatcher:
    """Sends pending outbox rows; started with the application, resumed at every start."""

    def __init__(
        self,
        db: Database,
        bot: ExtBot[Any],
        clock: Clock,
        *,
        poll_seconds: float = 0.5,
        batch: int = 300,
        concurrency: int = 16,
        window: int | None = None,
        max_loaded: int = 600,
        limits: SendLimits | None = None,
        files: TelegramFiles | None = None,
    ) -> None:
        self.db = db
        self.bot = bot
        self.files = files
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.concurrency = concurrency
        # Rows sent and not yet recorded, at most: the duplicates a crash can cause.
        self.window = window or 2 * concurrency
        self.max_loaded = max_loaded
        self.limits = limits or SendLimits()
        self.stats = DispatchStats()
        self._views: dict[str, ViewRenderer] = {}
        self._hooks: list[SettleHook] = []
        self._sent_hooks: dict[str, SentHook] = {}
        self._files: dict[str, FileRenderer] = {}
        self._results: dict[int, Any] = {}  # row id → raw answer, for its sent hook
        # ref → (message id, content) this dispatcher last put there: an edit to the very same
        # content is not sent (Telegram refuses it: "message is not modified"). Kept in memory
        # (the newest SHOWN_MEMORY): after a restart one identical edit may go, and its 400 is
        # taken as done.
        self._shown: OrderedDict[str, tuple[int, Any]] = OrderedDict()
        # The outbox's own requests are not retried inside the rate limiter: a 429 postpones
        # the row and frees the worker (only our FloodControl understands these arguments).
        self._rl: dict[str, Any] = (
            {"rate_limit_args": {"retries": 0, "bulk": True}}
            if isinstance(getattr(bot, "rate_limiter", None), FloodControl)
            else {}
        )
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
        """A live view: rows with method ``view`` and ``payload["view"] == name`` are rendered
        when sent (so a waiting refresh always shows the newest figures), posted under their
        ref and edited in place later."""
        self._views[name] = renderer

    def on_settled(self, hook: SettleHook) -> None:
        """Call ``hook(uow, rows)`` after rows were settled (sent or failed), in a transaction
        of its own: a failing hook is logged and never holds back the outbox. The hook returns
        whether it queued rows (they are then taken at once)."""
        self._hooks.append(hook)

    def on_sent(self, name: str, hook: SentHook) -> None:
        """Rows whose ``payload["on_sent"] == name``: ``hook(uow, row, answer)`` runs in the
        transaction that records them sent (never for a failed row)."""
        self._sent_hooks[name] = hook

    def register_file(self, name: str, renderer: FileRenderer) -> None:
        """``sendPhoto`` rows with ``payload["render"] == name`` get their image when they are
        sent: ``renderer(uow, payload)`` reads (read-only), the drawing it returns runs on a
        thread after."""
        self._files[name] = renderer

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

    async def _attempt(self, row: OutboxRow) -> _Outcome:
        """Send one row; the outcome to record."""
        rendered: Rendered | None = None
        try:
            message_id, rendered = await self._deliver(row)
        except RetryAfter as exc:
            seconds = _seconds(exc.retry_after)
            self.stats.postponed_429 += 1
            return _Outcome(
                "postponed",
                delay=seconds,
                error=f"429 retry after {seconds:g}s",
                count_attempt=False,
            )
        except Forbidden as exc:
            return self._failed(row, f"forbidden: {exc.message}")
        except BadRequest as exc:
            if "message is not modified" in exc.message.lower():
                self.stats.sent += 1
                return _Outcome("sent", message_id=row.payload.get("message_id"))
            return self._failed(row, f"bad request: {exc.message}")
        except NetworkError as exc:  # includes TimedOut and 5xx answers
            self.stats.postponed_network += 1
            return _Outcome("postponed", delay=self._backoff(row), error=f"network: {exc.message}")
        except TelegramError as exc:
            return self._failed(row, f"error: {exc.message}")
        except FileMissing as exc:  # neither the store nor Telegram has the file
            return self._failed(row, f"file missing: {exc}")
        except Exception as exc:  # a bug or a malformed row: retried with backoff, never lost
            log.exception("outbox row %s could not be sent", row.id)
            return _Outcome("postponed", delay=self._backoff(row), error=f"internal: {exc!r}")
        self.stats.sent += 1
        return _Outcome("sent", message_id=message_id, rendered=rendered)

    def _failed(self, row: OutboxRow, reason: str) -> _Outcome:
        log.warning("outbox row %s to chat %s failed: %s", row.id, row.chat_id, reason)
        self.stats.failed += 1
        return _Outcome("failed", error=reason)

    @staticmethod
    def _backoff(row: OutboxRow) -> float:
        return min(MAX_BACKOFF_SECONDS, 0.5 * 2 ** min(row.attempts, 10))

    async def _call(self, method: str, params: dict[str, Any]) -> Any:
        """One Bot API call through the bot (its rate limiter included); the raw result.

        PTB's typed methods build the whole Message from the answer, which costs as much as
        the request itself at broadcast rates, and the outbox needs only its message_id. So
        the call goes through ``do_api_request`` without a return type. The method is named
        capitalised (the Bot API's method names are case-insensitive): PTB warns when
        do_api_request is given the name of one of its own typed methods.
        """
        return await self.bot.do_api_request(
            method[0].upper() + method[1:], api_kwargs=params, **self._rl
        )

    @staticmethod
    def _message_id(result: Any, default: int | None = None) -> int | None:
        if isinstance(result, dict) and isinstance(result.get("message_id"), int):
            return int(result["message_id"])
        return default

    async def _deliver(self, row: OutboxRow) -> tuple[int | None, Rendered | None]:
        payload: dict[str, Any] = row.payload
        rendered: Rendered | None = None
        method = row.method
        if method == VIEW_METHOD:
            rendered = await self._render(row)
            if rendered is None:
                return None, None  # nothing to show (the view's subject is gone)
            payload = {"text": rendered[0], "buttons": rendered[1]}
            method = "upsert"
        params: dict[str, Any] = {"chat_id": row.chat_id}
        buttons = payload.get("buttons")
        if buttons:
            params["reply_markup"] = {"inline_keyboard": inline_keyboard(buttons)}
        if method == "upsert" and row.ref is not None:
            content = (payload["text"], buttons or None)
            async with self.db.read() as uow:
                known = await uow.outbox.posted(row.ref)
            if known is not None and known[0] == row.chat_id:
                if self._shown.get(row.ref) == (known[1], content):
                    self.stats.unchanged += 1
                    return known[1], rendered
                try:
                    result = await self._call(
                        "editMessageText",
                        {**params, "message_id": known[1], "text": payload["text"]},
                    )
                except BadRequest as exc:
                    text = exc.message.lower()
                    if "message is not modified" in text:
                        self._remember_shown(row.ref, known[1], content)
                        return known[1], rendered
                    if not any(reason in text for reason in UNEDITABLE):
                        raise
                    # Deleted, too old or otherwise uneditable: post anew, the ref follows.
                else:
                    message_id = self._message_id(result, known[1])
                    if message_id is not None:
                        self._remember_shown(row.ref, message_id, content)
                    return message_id, rendered
        if method in ("editMessageText", "editMessageReplyMarkup"):
            params["message_id"] = payload["message_id"]
            if method == "editMessageText":
                params["text"] = payload["text"]
            result = await self._call(method, params)
            return self._message_id(result, payload["message_id"]), None
        if method == "sendPoll":
            for key in ("question", "options", "is_anonymous"):
                params[key] = payload[key]
            result = await self._call(method, params)
            if payload.get("on_sent") in self._sent_hooks:
                self._results[row.id] = result
            return self._message_id(result), None
        if method == "stopPoll":
            params["message_id"] = payload["message_id"]
            try:
                await self._call(method, params)
            except BadRequest as exc:
                if "already been closed" not in exc.message.lower():
                    raise
            return int(payload["message_id"]), None
        if method == "sendPhoto" and payload.get("render"):
            renderer = self._files.get(str(payload["render"]))
            if renderer is None:
                raise TelegramError(f"unknown renderer {payload['render']!r}")
            async with self.db.read() as uow:
                drawing = await renderer(uow, payload)
            image = await asyncio.to_thread(drawing)
            message = await self.bot.send_photo(
                row.chat_id, image, caption=payload.get("caption"), **self._rl
            )
            return message.message_id, None
        if method in ("sendPhoto", "sendDocument"):
            if payload.get("caption"):
                params["caption"] = payload["caption"]
            if self.files is None:
                raise TelegramError("no file store to send a stored file from")
            # A file kept by Jiannuo, by Telegram's cached id or uploaded once.
            sent = await self.files.send(self._call, method, params, int(payload["file"]))
            return self._message_id(sent), None
        if method not in ("sendMessage", "upsert"):
            raise TelegramError(f"unknown outbox method {method!r}")
        params["text"] = payload["text"]
        message_id = self._message_id(await self._call("sendMessage", params))
        if method == "upsert" and row.ref is not None and message_id is not None:
            self._remember_shown(row.ref, message_id, (payload["text"], buttons or None))
        return message_id, rendered

    def _remember_shown(self, ref: str, message_id: int, content: Any) -> None:
        self._shown[ref] = (message_id, content)
        self._shown.move_to_end(ref)
        while len(self._shown) > SHOWN_MEMORY:
            self._shown.popitem(last=False)

    async def _render(self, row: OutboxRow) -> Rendered | None:
        renderer = self._views.get(str(row.payload.get("view")))
        if renderer is None:
            raise TelegramError(f"unknown view {row.payload.get('view')!r}")
        async with self.db.read() as uow:
            return await renderer(uow, row.chat_id, row.payload)

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
                log.info("outbox row %s postponed %.1fs: %s", row.id, outcome.delay, outcome.error)
                outcomes.postpone(
                    row.id,
                    now + timedelta(seconds=outcome.delay),
                    row.attempts + 1 if outcome.count_attempt else row.attempts,
                    outcome.error or "",
                )
        async with self.db.uow() as uow:
            await uow.outbox.settle(outcomes)
            for ref, chat_id, message_id in posted:
                await uow.outbox.remember_posted(ref, chat_id, message_id)
            for item in batch:
                if item.row.id not in self._results:
                    continue
                answer = self._results[item.row.id]
                hook = self._sent_hooks.get(str(item.row.payload.get("on_sent")))
                if hook is not None and item.outcome.kind == "sent":
                    try:
                        await hook(uow, item.row, answer)
                    except Exception:
                        log.exception("sent hook of outbox row %s failed", item.row.id)
        for item in batch:
            self._results.pop(item.row.id, None)
        self.stats.commits += 1

    async def _after_settle(self, batch: list[_Settling]) -> None:
        """Settle hooks, and a fresh refresh for a view whose figures moved while it was sent."""
        settled = [item.row for item in batch if item.outcome.kind != "postponed"]
        views = [
            item
            for item in batch
            if item.row.method == VIEW_METHOD and item.outcome.kind == "sent"
        ]
        if not views and not (self._hooks and settled):
            return
        queued = False
        try:
            async with self.db.uow() as uow:
                for hook in self._hooks:
                    queued = await hook(uow, settled) or queued
                for item in views:
                    fresh = await self._views[str(item.row.payload.get("view"))](
                        uow, item.row.chat_id, item.row.payload
                    )
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


def view_row(chat_id: int, ref: str, payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    """An outbox row that shows a live view (rendered when it is sent) under ``ref``."""
    return {
        "chat_id": chat_id,
        "method": VIEW_METHOD,
        "payload": payload,
        "ref": ref,
        "status": "pending",
        "attempts": 0,
        "not_before": now,
        "created_at": now,
    }
