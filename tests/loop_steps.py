"""How often a job gives the event loop back: what a test of a big job's pacing counts."""

from __future__ import annotations

import types
from collections.abc import Coroutine, Generator
from typing import Any, TypeVar, cast

T = TypeVar("T")


@types.coroutine
def counting_suspensions(job: Coroutine[Any, Any, T], count: list[int]) -> Generator[Any, Any, T]:
    """Runs ``job``, counting each time it gives the event loop back (``count[0]``)."""
    steps = job.__await__()
    try:
        awaited = steps.send(None)
        while True:
            count[0] += 1
            try:
                sent = yield awaited
            except BaseException as error:  # handed on to the job
                awaited = steps.throw(error)
            else:
                awaited = steps.send(sent)
    except StopIteration as done:
        return cast(T, done.value)
