"""SQLAlchemy's aiosqlite driver with one trip to the database thread per statement.

aiosqlite runs sqlite3 on a thread of its own; every call is a trip there and back (a queue
put, a wake-up of the event loop through its self-pipe, a task step). SQLAlchemy's adapter
makes four trips per statement: create a cursor, execute, fetch all rows, close the cursor.
This cursor does the four in one function on the database thread, so a statement costs one
trip. A commit or rollback when no transaction is open (only reads ran) makes no trip. Everything
else (transactions, isolation, errors, server-side cursors) is SQLAlchemy's own adapter.

A trip costs far more than a quick statement: waking the thread, the thread waiting for the
interpreter's lock, the event loop woken back (bench_commands: 2 of the bot's 4.5 ms of CPU
per update went to six trips). So a statement proven quick runs on the event loop's own
thread instead (:class:`StatementTimes`): its SQL ran PROVEN times on the database thread
in under QUICK seconds each, and it cannot wait for another connection's lock: a read (WAL
readers never wait) or a write in a transaction that already holds the write lock. One
that ever takes longer than QUICK (the same SQL for the district instead of a branch) goes
back to the thread for good; its one slow run held the loop that once. The first write of
a transaction, executemany and everything unproven keep the trip; so does everything while
another statement of the connection is on its way.

Used by storage.db.make_engine for sqlite+aiosqlite URLs (``create_async_engine(module=…)``).
"""

from __future__ import annotations

import collections
import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

# What a statement leaves behind: description, rows (None: it returns none), rowcount,
# lastrowid.
_Outcome = tuple[Any, list[Any] | None, int, int | None]


def _execute(conn: sqlite3.Connection, operation: str, parameters: Any) -> _Outcome:
    """On the database thread: execute, fetch every row, close."""
    cursor = conn.cursor()
    try:
        cursor.execute(operation, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _executemany(conn: sqlite3.Connection, operation: str, parameters: Sequence[Any]) -> _Outcome:
    """On the database thread: execute for every parameter set, close."""
    cursor = conn.cursor()
    try:
        cursor.executemany(operation, parameters)
        return cursor.description, None, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


QUICK = 0.002  # seconds: a statement this fast may run on the event loop's thread
PROVEN = 3  # ... once it was this fast this many times on the database thread
REMEMBERED = 10_000  # distinct SQL texts remembered as quick (then it starts over)


def _timed(fn: Callable[..., _Outcome], *args: Any) -> tuple[_Outcome, float]:
    """The outcome and the CPU time the statement took on this thread (not its waits for
    the interpreter's lock, which under load would make every statement look slow)."""
    started = time.thread_time()
    outcome = fn(*args)
    return outcome, time.thread_time() - started


class StatementTimes:
    """What the driver learned of each SQL text: how many quick runs, or that it is slow."""

    def __init__(self) -> None:
        self._quick: dict[str, int] = {}
        self._slow: set[str] = set()

    def proven(self, sql: str) -> bool:
        """Quick PROVEN times and never slow."""
        return self._quick.get(sql, 0) >= PROVEN

    def ran(self, sql: str, seconds: float) -> None:
        """Record one run."""
        if seconds > QUICK:
            self._slow.add(sql)
            self._quick.pop(sql, None)
        elif sql not in self._slow:
            if len(self._quick) >= REMEMBERED and sql not in self._quick:
                self._quick.clear()
            self._quick[sql] = self._quick.get(sql, 0) + 1


def _reads(sql: str) -> bool:
    return sql.lstrip()[:6].upper() == "SELECT"


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor: the statement's rows and counts, fetched in one trip."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No aiosqlite cursor is opened (that alone was a trip): each statement opens and
        # closes a sqlite3 cursor on the database thread.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._rows = collections.deque()
        self._soft_closed_memoized = EMPTY_DICT
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]  # None before an insert, as sqlite3

    async def _async_soft_close(self) -> None:
        """Nothing is open on the database thread once a statement returned."""

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._trip(_execute, operation, parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            return await_(self._trip(_executemany, operation, seq_of_parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _trip(self, fn: Callable[..., _Outcome], operation: Any, parameters: Any) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        mutex = self._adapt_connection._execute_mutex
        times: StatementTimes = self._adapt_connection.dbapi.times
        sqlite = connection._conn
        if (
            fn is _execute
            and not mutex.locked()
            and times.proven(operation)
            and (sqlite.in_transaction or _reads(operation))
        ):
            # On this thread: nothing else uses the connection now (the mutex is free).
            outcome, seconds = _timed(fn, sqlite, operation, parameters)
        else:
            async with mutex:
                outcome, seconds = await connection._execute(
                    _timed, fn, sqlite, operation, parameters
                )
        if fn is _execute:
            times.ran(operation, seconds)
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows) if rows else collections.deque()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection adapter, with the one-trip cursor; a commit or a
    rollback with no transaction open (only reads ran: sqlite3 opens one before the first
    write) is not sent to the database thread at all."""

    __slots__ = ()
    _cursor_cls = OneTripCursor  # type: ignore[assignment]  # a subclass: mypy wants the same

    def _end(self, how: str) -> None:
        """Commit or roll back: nothing to do if no transaction is open (only reads ran:
        sqlite3 opens one before the first write); else on this thread, since the
        transaction holds the write lock and waits for no one (WAL); else by a trip."""
        # Read on the event loop's thread: nothing runs on this connection meanwhile (the
        # statements of its transaction have returned; SQLAlchemy ends it after them).
        sqlite = self._connection._connection
        if sqlite is not None and not sqlite.in_transaction:
            return
        if sqlite is not None and not self._execute_mutex.locked():
            try:
                getattr(sqlite, how)()
            except Exception as error:
                self._handle_exception(error)
            return
        if how == "commit":
            super().commit()
        else:
            super().rollback()

    def commit(self) -> None:
        self._end("commit")

    def rollback(self) -> None:
        self._end("rollback")


class OneTripDbapi(AsyncAdapt_aiosqlite_dbapi):
    """The DB-API module SQLAlchemy's aiosqlite dialect uses, handing out OneTripConnections."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)
        self.times = StatementTimes()

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        # Quick statements also run on the event loop's thread (never at the same time as
        # on the database thread: one user at a time per connection).
        kw["check_same_thread"] = False
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)
