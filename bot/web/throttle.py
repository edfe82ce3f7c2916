"""Sliding-window rate limits for the ballot page (per address, per slip), kept in memory.

A guess at a slip's address is answered like any other page, so the page itself is the oracle
a brute-force attempt would query; after a few misses from one address, that address is
answered "too many tries" for everything until the window has passed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from time import monotonic

MAX_KEYS = 100_000  # addresses and slips remembered at most (forgotten oldest-idle first)


class Throttle:
    """At most ``limit`` events per ``window`` seconds for each key."""

    def __init__(self, limit: int, window: float, now: Callable[[], float] = monotonic) -> None:
        self.limit = limit
        self.window = window
        self._now = now
        self._events: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        now = self._now()
        events = self._events.get(key)
        if events is None:
            if len(self._events) >= MAX_KEYS:
                self._forget_idle(now)
            events = self._events[key] = deque()
        while events and now - events[0] >= self.window:
            events.popleft()
        return events

    def _forget_idle(self, now: float) -> None:
        idle = [k for k, ev in self._events.items() if not ev or now - ev[-1] >= self.window]
        for key in idle:
            del self._events[key]
        if len(self._events) >= MAX_KEYS:  # all busy: forget the oldest half
            for key in list(self._events)[: MAX_KEYS // 2]:
                del self._events[key]

    def full(self, key: str) -> bool:
        """Whether ``key`` has used up its events in the window (nothing is recorded)."""
        return len(self._recent(key)) >= self.limit

    def hit(self, key: str) -> bool:
        """Record one event; False (and nothing recorded) when the limit is reached."""
        events = self._recent(key)
        if len(events) >= self.limit:
            return False
        events.append(self._now())
        return True

    def retry_after(self, key: str) -> int:
        """Whole seconds until ``key`` may act again (0: now)."""
        events = self._recent(key)
        if len(events) < self.limit:
            return 0
        return max(1, int(self.window - (self._now() - events[0])) + 1)
