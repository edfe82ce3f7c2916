"""The collector settings a running bot uses (bot/runtime.py), and that they are undone."""

from __future__ import annotations

import gc

from bot import runtime


def test_tune_freezes_the_heap_and_restore_puts_everything_back() -> None:
    before_threshold = gc.get_threshold()
    gc.unfreeze()
    state = runtime.tune()
    try:
        assert gc.get_freeze_count() > 1000  # the modules' objects, out of the collector's way
        young, *older = gc.get_threshold()
        assert young >= runtime.YOUNG_THRESHOLD and tuple(older) == before_threshold[1:]
    finally:
        runtime.restore(state)
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before_threshold


def test_a_raised_threshold_is_never_lowered() -> None:
    before = gc.get_threshold()
    gc.set_threshold(runtime.YOUNG_THRESHOLD * 3, before[1], before[2])
    try:
        state = runtime.tune()
        assert gc.get_threshold()[0] == runtime.YOUNG_THRESHOLD * 3
        runtime.restore(state)
    finally:
        gc.set_threshold(*before)
