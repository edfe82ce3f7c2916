"""storage/sqlite_driver: one trip to the database thread per statement, same results as before."""

from __future__ import annotations

import re
import threading
import tomllib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import Database, make_engine
from storage.sqlite_driver import TESTED_WITH, OneTripConnection, OneTripCursor, usable

ROOT = Path(__file__).resolve().parents[2]
schema = MetaData()
notes = Table(
    "notes",
    schema,
    Column("id", Integer, primary_key=True),
    Column("text", String(20), nullable=False, unique=True),
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(schema.create_all)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The functions sent to aiosqlite's thread, by name, from now on."""
    sent: list[str] = []
    real = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(getattr(fn, "__name__", repr(fn)))
        return await real(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return sent


async def test_a_statement_is_one_trip(engine: AsyncEngine, trips: list[str]) -> None:
    async with engine.connect() as conn:
        trips.clear()
        rows = (await conn.execute(select(notes))).all()
        assert rows == []
        assert trips == ["_execute"]  # SQLAlchemy's own adapter: cursor, execute, fetch, close
        trips.clear()
        await conn.execute(insert(notes).values(text="a"))
        assert trips == ["_execute"]


async def test_rows_counts_and_ids_are_those_of_sqlite(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        first = await conn.execute(insert(notes).values(text="走访"))
        assert first.inserted_primary_key == (1,)
        many = await conn.execute(insert(notes), [{"text": f"n{n}"} for n in range(5)])
        assert many.rowcount == 5
        changed = await conn.execute(
            update(notes).where(notes.c.text.like("n%")).values(text=notes.c.text + "!")
        )
        assert changed.rowcount == 5
        result = await conn.execute(select(notes.c.id, notes.c.text).order_by(notes.c.id))
        assert list(result.keys()) == ["id", "text"]
        assert result.all() == [(1, "走访"), *((n + 2, f"n{n}!") for n in range(5))]
        assert (await conn.execute(select(notes).where(notes.c.id == 99))).first() is None
        gone = await conn.execute(delete(notes).where(notes.c.id > 3))
        assert gone.rowcount == 3
        assert (await conn.execute(select(notes.c.id).order_by(notes.c.id))).scalars().all() == [
            1,
            2,
            3,
        ]


async def test_errors_are_sqlalchemys_and_the_transaction_rolls_back(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(notes).values(text="once"))
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(insert(notes).values(text="kept?"))
            await conn.execute(insert(notes).values(text="once"))  # unique
    with pytest.raises(OperationalError):
        async with engine.connect() as conn:
            await conn.exec_driver_sql("SELECT nothing FROM nowhere")
    async with engine.connect() as conn:
        texts = (await conn.execute(select(notes.c.text))).scalars().all()
    assert texts == ["once"]


async def test_streaming_and_the_raw_connection_still_work(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(notes), [{"text": f"s{n}"} for n in range(30)])
        streamed = [
            row.text async for row in await conn.stream(select(notes).order_by(notes.c.id))
        ]
        assert streamed == [f"s{n}" for n in range(30)]

        def raw_count(sync_conn: Any) -> Any:  # the DB-API cursor, as _sqlite_pragmas uses it
            cursor = sync_conn.connection.dbapi_connection.cursor()
            assert isinstance(cursor, OneTripCursor)
            cursor.execute("SELECT count(*) FROM notes")
            row = cursor.fetchone()
            cursor.close()
            return row

        assert await conn.run_sync(raw_count) == (30,)


async def test_a_unit_of_work_costs_its_statements_only(tmp_path: Path, trips: list[str]) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'uow.db'}")
    await db.migrate()
    try:
        async with db.uow() as uow:
            await uow.people.get(1)
        trips.clear()
        async with db.uow() as uow:
            await uow.people.get(1)
        # Only reads: nothing to commit, no trip for it; the pool adds no rollback either.
        assert trips == ["_execute"]
        trips.clear()
        async with db.uow() as uow:
            assert await uow.updates.claim(1, datetime(2026, 11, 22, tzinfo=UTC))
        # A write: the statement, then its commit (on the database thread too).
        assert trips == ["_execute", "commit"]
        trips.clear()
        with pytest.raises(RuntimeError):
            async with db.uow() as uow:
                assert await uow.updates.claim(2, datetime(2026, 11, 22, tzinfo=UTC))
                raise RuntimeError("refused")
        assert trips == ["_execute", "rollback"]
        async with db.uow() as uow:  # the commit and the rollback happened: 2 is new, 1 is not
            assert await uow.updates.claim(2, datetime(2026, 11, 22, tzinfo=UTC))
            assert not await uow.updates.claim(1, datetime(2026, 11, 22, tzinfo=UTC))
    finally:
        await db.dispose()


async def test_what_a_connection_left_open_is_still_rolled_back(engine: AsyncEngine) -> None:
    conn = await engine.connect()
    await conn.execute(insert(notes).values(text="not committed"))
    await conn.close()  # SQLAlchemy rolls its transaction back; the pool need not
    async with engine.connect() as conn:
        assert (await conn.execute(select(notes))).all() == []
        await conn.execute(insert(notes).values(text="committed"))
        await conn.commit()
    async with engine.connect() as conn:
        assert (await conn.execute(select(notes.c.text))).scalars().all() == ["committed"]


async def test_nothing_of_the_database_runs_on_the_loops_thread(
    engine: AsyncEngine, trips: list[str]
) -> None:
    """Statements, commits and rollbacks all go to aiosqlite's thread, however often the
    same statement ran: one that waits for the disk or a lock never holds the event loop."""
    threads: list[int] = []

    def traced(sql: str) -> None:  # sqlite3 calls it on the thread that runs the SQL
        threads.append(threading.get_ident())

    def trace(sync_conn: Any) -> None:
        sync_conn.connection.dbapi_connection._connection._conn.set_trace_callback(traced)

    read = select(notes.c.id).where(notes.c.id > 0)
    write = update(notes).where(notes.c.id == 1).values(text=notes.c.text + "!")
    async with engine.connect() as conn:
        await conn.run_sync(trace)
        await conn.execute(insert(notes).values(text="a"))
        await conn.commit()
        for _ in range(10):
            assert (await conn.execute(read)).all() == [(1,)]
            await conn.execute(write)
            await conn.execute(write)
            await conn.commit()
        await conn.execute(write)
        await conn.rollback()
        assert (await conn.execute(select(notes.c.text))).scalar_one() == "a" + "!" * 20
    assert threads, "the trace saw the statements"
    assert threading.get_ident() not in threads


async def test_only_reads_cost_no_commit_trip(engine: AsyncEngine, trips: list[str]) -> None:
    async with engine.connect() as conn:
        trips.clear()
        await conn.execute(select(notes))
        await conn.commit()
        await conn.execute(select(notes))
        await conn.rollback()
    assert trips == ["_execute", "_execute"]


def test_the_private_parts_used_are_those_of_the_pinned_versions() -> None:
    """pyproject pins SQLAlchemy and aiosqlite to the versions the adapter was tested with;
    installing another version fails here (and storage.db falls back to the stock adapter)."""
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pinned = {
        re.split(r"[\[=<>]", pin, maxsplit=1)[0].lower(): pin.split("==")[1]
        for pin in pins
        if pin.split("[")[0].split("=")[0].lower() in TESTED_WITH
    }
    assert pinned == TESTED_WITH
    assert {name: metadata.version(name) for name in TESTED_WITH} == TESTED_WITH
    assert usable()
    # What the adapter reaches into, by name.
    assert callable(aiosqlite.Connection._execute)
    assert isinstance(aiosqlite.Connection._conn, property)
    dialect_connection = AsyncAdapt_aiosqlite_connection
    for name in ("_execute_mutex", "_handle_exception", "_connection"):
        assert hasattr(dialect_connection, name) or name in _slots(dialect_connection), name
    assert {"_rows", "_soft_closed_memoized", "_adapt_connection", "_connection"} <= _slots(
        AsyncAdapt_aiosqlite_cursor
    )


def _slots(cls: type) -> set[str]:
    return {slot for klass in cls.__mro__ for slot in getattr(klass, "__slots__", ())}


async def test_other_versions_get_the_stock_adapter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(TESTED_WITH, "aiosqlite", "0.0.1")
    assert not usable()
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'stock.db'}")
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
            raw = await conn.get_raw_connection()
            assert not isinstance(raw.dbapi_connection, OneTripConnection)
            assert type(raw.dbapi_connection).__name__ == "AsyncAdapt_aiosqlite_connection"
    finally:
        await engine.dispose()
