"""Long loops on the event loop give it back every few milliseconds.

A big job (the first district tick, a 40,000-recipient broadcast) walks tens of thousands of
rows in Python between two statements: the rows a SELECT returned (SQLAlchemy builds each
Row and converts its values on the loop's thread), the reminders or outbox rows built from
them, the values of a bulk insert. Each walk is cheap per row and long in all, and nothing in
it awaits, so it held the loop for up to half a second while a member's /help waited.

:class:`Pacer` is the one place that decides when such a loop yields: it is called once a row
(a clock read) and awaits ``asyncio.sleep(0)`` once the task has run ``SLICE`` since it last
gave the loop back, so a step of a job stays near ``SLICE`` however many rows it has, and
whatever is ready (an answer, the outbox, another job) runs in between. :func:`paced` wraps
an iterable with one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from typing import TypeVar

T = TypeVar("T")

SLICE = 0.004  # seconds a loop over rows runs on the event loop before it yields


class Pacer:
    """Yields to the event loop when the task has held it for ``budget`` seconds."""

    __slots__ = ("_since", "budget", "yields")

    def __init__(self, budget: float | None = None) -> None:
        self.budget = SLICE if budget is None else budget
        self._since = time.perf_counter()
        self.yields = 0  # how often it gave the loop back (tests read it)

    async def __call__(self) -> None:
        """Once a row: give the loop back if this task's slice is used up."""
        if time.perf_counter() - self._since >= self.budget:
            await asyncio.sleep(0)
            self.yields += 1
            self._since = time.perf_counter()

    def restart(self) -> None:
        """The task just awaited something else (a statement): a new slice begins."""
        self._since = time.perf_counter()


async def paced(items: Iterable[T], pacer: Pacer | None = None) -> AsyncIterator[T]:
    """The items, yielding to the event loop every ``SLICE`` of work (the caller's included)."""
    pace = pacer or Pacer()
    for item in items:
        yield item
        await pace()
