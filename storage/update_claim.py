"""An update's id is recorded as handled in the transaction of its effects (at least once in,
exactly once done).

While the Application handles an update (Database.one_update), the update is *in hand*. The
first unit of work of that update that writes records the update id in processed_updates in
the same transaction, just before it commits: the effects and the mark commit together or not
at all. If the id is recorded already, an earlier delivery did this work: the unit of work
rolls back and :class:`UpdateSeenBefore` stops the update (handlers/errors.py). A crash before
the commit leaves neither, so the update journal (bot/update_journal.py) puts the update back
at the next start and it is handled again; a crash after leaves both, and the replay is
stopped.

An update that writes nothing (/help, a list, a button that only opens a dialog) is not
recorded, by decision: its effect is a reply and perhaps a dialog's state, and recording it
would cost a writing transaction (SQLite's one writer) for nothing. The journal keeps it until
the persistence has saved what it left in memory (VotingApplication.update_persistence); a
crash before that puts it back, and its reply may come twice.

What is delivered how. A handler's reply is sent after the commit: a crash between the commit
and the send loses the reply, never the effect (the person asks again: /pledge shows the step
the draft is at). What the bot decides on its own goes through the outbox, in the transaction
of the decision: at least once (a row in flight at a crash is sent again).

What this does not cover: an update whose handler commits two writing units of work (the
mark goes with the first; a crash between them loses the second). Only the broadcast queue
does so, by design: its chunks resume from their watermark (bot/domain/broadcast_queue.py).
A dialog on the router (bot/chat/dialogs.py) saves its state with the step's effect; a dialog
still on PTB's ConversationHandler has its state saved by the persistence after the step, and
the journal keeps the update until that save (above).

Which statements write is told by SQLAlchemy's execution context (an INSERT, UPDATE or DELETE
construct) or, for SQL text, by its first word; the same hook refuses writes in a read-only
unit of work (Database.read).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

READ_ONLY = "jiannuo_read_only"  # keys in the pooled connection's info dict
WROTE = "jiannuo_wrote"
_READING = frozenset({"SELECT", "WITH", "PRAGMA", "EXPLAIN", "VALUES"})


class UpdateSeenBefore(Exception):
    """This update's effects were committed by an earlier delivery: nothing is done again."""

    def __init__(self, update_id: int) -> None:
        super().__init__(f"update {update_id} was handled before")
        self.update_id = update_id


class WriteInReadOnly(RuntimeError):
    """A read-only unit of work tried to write (a programming error)."""


@dataclass
class UpdateInHand:
    """The update being handled: its id, when it came, the task handling it."""

    update_id: int
    at: datetime
    task: asyncio.Task[Any] | None = field(default=None)
    claimed: bool = False


_in_hand: ContextVar[UpdateInHand | None] = ContextVar("update_in_hand", default=None)


@contextmanager
def update_in_hand(update_id: int, at: datetime) -> Iterator[UpdateInHand]:
    """Within: the first writing unit of work of this task records the update as handled."""
    try:
        task = asyncio.current_task()
    except RuntimeError:
        task = None
    hand = UpdateInHand(update_id, at, task)
    token = _in_hand.set(hand)
    try:
        yield hand
    finally:
        _in_hand.reset(token)


def unclaimed_update() -> UpdateInHand | None:
    """The update in hand, if this task handles it and no transaction recorded it yet (tasks
    started from the handler, such as a persistence flush, do not carry it)."""
    hand = _in_hand.get()
    if hand is None or hand.claimed:
        return None
    try:
        current = asyncio.current_task()
    except RuntimeError:
        return None
    return hand if hand.task is current else None


def _writes(statement: str, context: Any) -> bool:
    if context is not None and (context.isinsert or context.isupdate or context.isdelete):
        return True
    words = statement.lstrip().split(None, 1)
    return bool(words) and words[0].upper() not in _READING


def _note_write(
    conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
) -> None:
    """Before every statement: remember a write, or refuse it in a read-only unit of work."""
    info = conn.info
    if READ_ONLY in info and _writes(statement, context):  # inside a unit of work
        if info[READ_ONLY]:
            raise WriteInReadOnly(f"a read-only unit of work tried to write: {statement[:80]}")
        info[WROTE] = True


def watch_writes(engine: AsyncEngine) -> None:
    """Install the hook (storage.db.make_engine)."""
    event.listen(engine.sync_engine, "before_cursor_execute", _note_write)
