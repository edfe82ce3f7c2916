"""Updates of one chat in the order they came; updates of different chats at the same time.

PTB's Application handles updates one after the other by default. Then one slow answer holds
everyone: while a district-wide broadcast runs at Telegram's limit, each reply waits for its
send slot, and every other member's message waits behind it. PTB's own concurrency
(``concurrent_updates``) would run every update at once, including two taps of one user,
whose conversation state must change in order.

:class:`ChatLanes` keeps one lane per chat (per user when an update has no chat): a lane
handles its updates strictly in order; lanes run side by side, at most ``limit`` handling at
once. The fetcher hands an update over and goes on at once, so the order within a chat is
the order Telegram delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update

log = logging.getLogger(__name__)

LaneKey = int | None
Process = Callable[[object], Coroutine[Any, Any, None]]
Spawn = Callable[[Coroutine[Any, Any, None]], object]


def lane_key(update: object) -> LaneKey:
    """The chat an update belongs to (a private chat is its user); None: no chat, no user."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


class ChatLanes:
    """One ordered lane per chat; ``process`` handles one update (it must not raise)."""

    def __init__(self, process: Process, spawn: Spawn, limit: int = 64) -> None:
        self._process = process
        self._spawn = spawn  # starts a lane's task (the Application's create_task)
        self._slots = asyncio.Semaphore(limit)
        self._lanes: dict[LaneKey, deque[object]] = {}
        self._limit = limit
        self._pending = 0  # updates handed over and not finished
        self._room: asyncio.Event | None = None  # set when _pending drops below the limit

    @property
    def busy(self) -> int:
        """Lanes with updates being handled or waiting."""
        return len(self._lanes)

    @property
    def pending(self) -> int:
        """Updates being handled or waiting in a lane."""
        return self._pending

    async def room(self, most_wait: float) -> None:
        """Wait until fewer updates than the limit are pending, at most ``most_wait`` seconds.

        The update fetcher asks before its next getUpdates: while every slot is taken, new
        updates would only wait in a lane, so they are let gather at Telegram a moment and
        fetched together (one request, one journal write for many). The wait is short, so
        poll answers (which take no lane) are stamped at most that late."""
        if self._pending < self._limit:
            return
        if self._room is None:
            self._room = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._room.wait(), most_wait)

    def submit(self, update: object) -> None:
        """Queue the update in its chat's lane; start the lane if it is idle."""
        self._pending += 1
        key = lane_key(update)
        lane = self._lanes.get(key)
        if lane is not None:
            lane.append(update)
            return
        self._lanes[key] = deque([update])
        self._spawn(self._drain(key))

    async def _drain(self, key: LaneKey) -> None:
        lane = self._lanes[key]
        try:
            while lane:
                update = lane[0]
                try:
                    async with self._slots:
                        await self._process(update)
                except Exception:  # the lane goes on: one update's failure is its own
                    log.exception("update in lane %s failed", key)
                finally:
                    self._finished()
                lane.popleft()
        finally:
            if self._lanes.get(key) is lane:
                del self._lanes[key]

    def _finished(self) -> None:
        self._pending -= 1
        if self._room is not None and self._pending < self._limit:
            self._room.set()
            self._room = None
