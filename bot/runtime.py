"""Process-wide settings of the interpreter for a long-running bot.

The bot's heap after start-up is large and lives as long as the process: modules, the
database schema and its compiled statements, pydantic validators, PTB's handlers. CPython's
cyclic collector would walk all of it in every full collection, and a burst of updates (votes
at the end of a meeting, each update a tree of new objects) triggers collections often. So,
once started, the start-up heap is moved out of the collector's sight (``gc.freeze``, as the
Python documentation recommends for long-lived servers) and the youngest generation is
collected less often. Reference counting still frees almost everything at once; the collector
only finds cycles, and a larger young generation lets more of them die before it looks.

``tune`` returns what ``restore`` needs to put everything back (at shutdown: tests and the
benchmarks run several applications in one process).
"""

from __future__ import annotations

import gc
from dataclasses import dataclass

YOUNG_THRESHOLD = 10_000  # allocations between young collections (CPython's default: 700)


@dataclass(frozen=True)
class GcState:
    """The collector's thresholds before ``tune``."""

    thresholds: tuple[int, int, int]


def tune() -> GcState:
    """Freeze the heap as it is and collect the young generation less often.

    No full collection first: it would cost tens of milliseconds at every start (the tests
    start hundreds of applications), and what little start-up garbage is frozen with the
    rest is only memory, collectable again after ``restore``."""
    before = GcState(gc.get_threshold())
    gc.freeze()
    _, middle, old = before.thresholds
    gc.set_threshold(max(YOUNG_THRESHOLD, before.thresholds[0]), middle, old)
    return before


def restore(state: GcState) -> None:
    """Back to the collector as it was (frozen objects become collectable again)."""
    gc.unfreeze()
    gc.set_threshold(*state.thresholds)
