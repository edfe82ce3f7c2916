"""SQLAlchemy's aiosqlite driver with one trip to the database thread per statement.

aiosqlite runs sqlite3 on a thread of its own; every call is a trip there and back (a queue
put, a wake-up of the event loop through its self-pipe, a task step). SQLAlchemy's adapter
makes four trips per statement: create a cursor, execute, fetch all rows, close the cursor.
This cursor does the four in one function on the database thread, so a statement costs one
trip. A commit or rollback when no transaction is open (only reads ran) makes no trip. Everything
else (transactions, isolation, errors, server-side cursors) is SQLAlchemy's own adapter.

Used by storage.db.make_engine for sqlite+aiosqlite URLs (``create_async_engine(module=…)``).
"""

from __future__ import annotations

import collections
import sqlite3
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
        async with self._adapt_connection._execute_mutex:
            outcome: _Outcome = await connection._execute(
                fn, connection._conn, operation, parameters
            )
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows) if rows else collections.deque()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection adapter, with the one-trip cursor; a commit or a
    rollback with no transaction open (only reads ran: sqlite3 opens one before the first
    write) is not sent to the database thread at all."""

    __slots__ = ()
    _cursor_cls = OneTripCursor  # type: ignore[assignment]  # a subclass: mypy wants the same

    def _nothing_to_end(self) -> bool:
        # Read on the event loop's thread: nothing runs on this connection meanwhile (the
        # statements of its transaction have returned; SQLAlchemy ends it after them).
        sqlite = self._connection._connection
        return sqlite is not None and not sqlite.in_transaction

    def commit(self) -> None:
        if not self._nothing_to_end():
            super().commit()

    def rollback(self) -> None:
        if not self._nothing_to_end():
            super().rollback()


class OneTripDbapi(AsyncAdapt_aiosqlite_dbapi):
    """The DB-API module SQLAlchemy's aiosqlite dialect uses, handing out OneTripConnections."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)
