"""SQLAlchemy's aiosqlite driver with one trip to the database thread per statement.

aiosqlite runs sqlite3 on a thread of its own; every call is a trip there and back (a queue
put, a wake-up of the event loop through its self-pipe, a task step). SQLAlchemy's adapter
makes four trips per statement: create a cursor, execute, fetch all rows, close the cursor.
This cursor does the four in one function on the database thread, so a statement costs one
trip. A commit or rollback when no transaction is open (only reads ran) makes no trip.
Everything else (transactions, isolation, errors, server-side cursors) is SQLAlchemy's own
adapter.

Nothing of the database runs on the event loop's thread: every statement, commit and rollback
is a trip to aiosqlite's thread, so none can hold the loop while it waits for the disk or for
another connection's lock. The one thing read on the loop's thread is sqlite3's
``in_transaction`` flag (``sqlite3_get_autocommit``: a field of the connection, no I/O, no
mutex), and only while no statement of the connection is on its way.

The adapter leans on private parts of SQLAlchemy's aiosqlite dialect and of aiosqlite (the
connection's ``_execute_mutex``, ``_handle_exception``, ``_cursor_cls``; aiosqlite's
``Connection._execute`` and ``_conn``). pyproject pins both to the versions in TESTED_WITH;
tests/storage/test_sqlite_driver.py fails when an installed version differs or a part is gone,
and :func:`usable` makes storage.db fall back to SQLAlchemy's stock adapter at run time when
the installed versions are not the tested ones.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable, Sequence
from importlib import metadata
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

# The distributions whose private parts this module uses, at the versions it was tested with
# (the same pins as pyproject.toml).
TESTED_WITH = {"sqlalchemy": "2.1.9", "aiosqlite": "0.22.1"}


def usable() -> bool:
    """The installed SQLAlchemy and aiosqlite are the versions this adapter was tested with."""
    try:
        return all(metadata.version(name) == v for name, v in TESTED_WITH.items())
    except metadata.PackageNotFoundError:
        return False


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
            outcome = await connection._execute(fn, connection._conn, operation, parameters)
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows) if rows else collections.deque()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection adapter, with the one-trip cursor; a commit or a
    rollback with no transaction open (only reads ran: sqlite3 opens one before the first
    write) is not sent to the database thread at all."""

    __slots__ = ()
    _cursor_cls = OneTripCursor  # type: ignore[assignment]  # a subclass: mypy wants the same

    def _nothing_open(self) -> bool:
        """No transaction is open and no statement is on its way (read on the loop's thread:
        sqlite3_get_autocommit reads a field, it neither waits nor does I/O)."""
        sqlite = self._connection._connection
        return (
            sqlite is not None and not self._execute_mutex.locked() and not sqlite.in_transaction
        )

    def commit(self) -> None:
        if not self._nothing_open():
            super().commit()

    def rollback(self) -> None:
        if not self._nothing_open():
            super().rollback()


class OneTripDbapi(AsyncAdapt_aiosqlite_dbapi):
    """The DB-API module SQLAlchemy's aiosqlite dialect uses, handing out OneTripConnections."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        # in_transaction is read on the event loop's thread (OneTripConnection._nothing_open).
        kw["check_same_thread"] = False
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)
