"""Dialog state: a person's open dialogs, in the database, channel-neutral.

A dialog (drafting a pledge, a return comment, …) is a row (person, dialog, step, data,
version, expiry), read with every event and written in the unit of work of the step's effect:
a change is *staged* while the event is handled and rides on the next unit of work that
writes (the service call that makes the step's effect), or on one of its own when the step
has no other effect. So a restart or a second worker continues where the person left off, and
a crash loses nothing they were told was saved. ``version`` is checked on every write: a step
answered twice (two workers, a redelivery) changes nothing the second time
(:class:`DialogMoved`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class DialogState:
    """One open dialog of one person. ``version`` 0: not stored yet."""

    person_id: int
    name: str
    step: str
    data: Mapping[str, Any]
    version: int
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        """Whether the person left it waiting past its expiry."""
        return now >= self.expires_at


class DialogMoved(Exception):
    """The dialog was changed by another delivery since it was read: nothing is written."""

    def __init__(self, person_id: int, name: str) -> None:
        super().__init__(f"dialog {name} of person {person_id} moved on")
        self.person_id = person_id
        self.name = name


@dataclass(frozen=True)
class DialogWrite:
    """A staged change: the new state (None: the dialog ends) and the version it was read at
    (0: it was not stored)."""

    person_id: int
    name: str
    state: DialogState | None
    read_version: int


@dataclass
class Staged:
    """The dialog changes of the event in hand, waiting for a unit of work to carry them."""

    task: asyncio.Task[Any] | None
    writes: dict[tuple[int, str], DialogWrite] = field(default_factory=dict)
    carried: dict[tuple[int, str], DialogWrite] = field(default_factory=dict)

    def take(self) -> list[DialogWrite]:
        """The changes, handed to the unit of work that writes them (so a later change of the
        same dialog in this event starts from what that one wrote)."""
        writes, self.writes = list(self.writes.values()), {}
        for w in writes:
            self.carried[(w.person_id, w.name)] = w
        return writes


_staged: ContextVar[Staged | None] = ContextVar("staged_dialog_writes", default=None)


@contextmanager
def staging() -> Iterator[Staged]:
    """Within: dialog changes wait for this task's next writing unit of work."""
    try:
        task = asyncio.current_task()
    except RuntimeError:
        task = None
    staged = Staged(task)
    token = _staged.set(staged)
    try:
        yield staged
    finally:
        _staged.reset(token)


def current_staging() -> Staged | None:
    """The staging of the event in hand (None outside :func:`staging`)."""
    return _staged.get()


def staged_here() -> Staged | None:
    """The staged changes of the event this task handles (tasks it started carry none)."""
    staged = _staged.get()
    if staged is None or not staged.writes:
        return None
    try:
        current = asyncio.current_task()
    except RuntimeError:
        return None
    return staged if staged.task is current else None


class Dialogs:
    """A person's dialogs as read for one event, with the changes this event makes."""

    def __init__(
        self, person_id: int, states: list[DialogState], staged: Staged, now: datetime
    ) -> None:
        self.person_id = person_id
        self.now = now
        self._read = {s.name: s for s in states}
        self._current: dict[str, DialogState | None] = dict(self._read)
        self._staged = staged
        self._kept: dict[tuple[int, str], DialogWrite] = {}

    def get(self, name: str) -> DialogState | None:
        """The dialog as it stands now (this event's changes included), None if not open."""
        return self._current.get(name)

    def open_names(self) -> list[str]:
        """The dialogs open now."""
        return [name for name, state in self._current.items() if state is not None]

    def go(self, name: str, step: str, data: Mapping[str, Any], ttl: timedelta) -> DialogState:
        """Open the dialog or move it to ``step`` with ``data``; it expires ``ttl`` from now."""
        stored = self._stored(name)
        state = DialogState(
            self.person_id,
            name,
            step,
            dict(data),
            (stored.version if stored else 0) + 1,
            self.now + ttl,
        )
        self._stage(name, state)
        return state

    def end(self, name: str) -> None:
        """Close the dialog (nothing if it is not open)."""
        if self._current.get(name) is not None or self._stored(name) is not None:
            self._stage(name, None)

    def checkpoint(self) -> None:
        """What is staged now stays, whatever :meth:`discard` drops later (a dialog ended
        because the event left it, before the step that failed)."""
        self._kept = {k: w for k, w in self._staged.writes.items() if k[0] == self.person_id}

    def discard(self) -> None:
        """Forget the changes since the checkpoint not yet written (the step's effect failed:
        the dialog stays where the last written or kept change left it)."""
        for key in [k for k in self._staged.writes if k[0] == self.person_id]:
            del self._staged.writes[key]
        self._staged.writes.update(self._kept)
        for name in list(self._current):
            kept = self._kept.get((self.person_id, name))
            self._current[name] = kept.state if kept is not None else self._stored(name)

    def _stored(self, name: str) -> DialogState | None:
        """The dialog as the database holds it: as read, or as this event wrote it since."""
        carried = self._staged.carried.get((self.person_id, name))
        return carried.state if carried is not None else self._read.get(name)

    def _stage(self, name: str, state: DialogState | None) -> None:
        key = (self.person_id, name)
        pending = self._staged.writes.get(key)
        if pending is not None:
            read_version = pending.read_version
        else:
            stored = self._stored(name)
            read_version = stored.version if stored else 0
        self._current[name] = state
        self._staged.writes[key] = DialogWrite(self.person_id, name, state, read_version)
