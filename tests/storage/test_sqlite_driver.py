"""storage/sqlite_driver: one trip to the database thread per statement, same results as before."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime
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
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import Database, make_engine
from storage.sqlite_driver import PROVEN, QUICK, OneTripCursor, StatementTimes

metadata = MetaData()
notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("text", String(20), nullable=False, unique=True),
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
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
        assert trips == ["_timed"]  # SQLAlchemy's own adapter: cursor, execute, fetch, close
        trips.clear()
        await conn.execute(insert(notes).values(text="a"))
        assert trips == ["_timed"]


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
        assert trips == ["_timed"]
        trips.clear()
        async with db.uow() as uow:
            assert await uow.updates.claim(1, datetime(2026, 11, 22, tzinfo=UTC))
        # A write: its commit runs on the loop's thread (the write lock is held: no wait).
        assert trips == ["_timed"]
        trips.clear()
        with pytest.raises(RuntimeError):
            async with db.uow() as uow:
                assert await uow.updates.claim(2, datetime(2026, 11, 22, tzinfo=UTC))
                raise RuntimeError("refused")
        assert trips == ["_timed"]  # the rollback too
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


async def test_a_proven_quick_read_runs_on_the_loops_thread(
    engine: AsyncEngine, trips: list[str]
) -> None:
    threads: list[int] = []

    def here() -> int:  # SQL here(): records the thread the statement runs on
        threads.append(threading.get_ident())
        return 1

    def where(sync_conn: Any) -> None:
        sync_conn.connection.dbapi_connection._connection._conn.create_function("here", 0, here)

    async with engine.begin() as conn:
        await conn.execute(insert(notes).values(text="row"))
    async with engine.connect() as conn:
        await conn.run_sync(where)
        query = select(notes.c.id).where(text("here() = 1"))
        for _ in range(PROVEN):
            trips.clear()
            await conn.execute(query)
            assert trips == ["_timed"]  # on the database thread while it proves itself
        trips.clear()
        await conn.execute(insert(notes).values(text="x"))
        for _ in range(2):
            assert (await conn.execute(query)).all() == [(1,), (2,)]
        assert trips == ["_timed"]  # only the insert (the first write of its transaction)
    loop_thread = threading.get_ident()
    assert threads[-4:] == [loop_thread] * 4  # two rows, twice
    assert loop_thread not in threads[:PROVEN]


async def test_writes_in_a_locked_transaction_and_its_commit_run_here(
    engine: AsyncEngine, trips: list[str]
) -> None:
    statement = update(notes).where(notes.c.id == 1).values(text=notes.c.text + "!")
    async with engine.begin() as conn:
        await conn.execute(insert(notes).values(text="a"))
        for _ in range(PROVEN):
            await conn.execute(statement)
    trips.clear()
    async with engine.begin() as conn:
        await conn.execute(statement)  # first write of the transaction: a trip
        await conn.execute(statement)  # the lock is held: here
    assert trips == ["_timed"]  # and the commit needed none
    async with engine.connect() as conn:
        assert (await conn.execute(select(notes.c.text))).scalar_one() == "a!!!!!"
    # A rollback here undoes what the transaction wrote here.
    with pytest.raises(RuntimeError):
        async with engine.begin() as conn:
            await conn.execute(statement)
            await conn.execute(statement)
            raise RuntimeError("refused")
    async with engine.connect() as conn:
        assert (await conn.execute(select(notes.c.text))).scalar_one() == "a!!!!!"


async def test_a_slow_statement_stays_on_the_database_thread(
    engine: AsyncEngine, trips: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("storage.sqlite_driver.QUICK", -1.0)  # every run is "slow"
    async with engine.connect() as conn:
        trips.clear()
        for _ in range(PROVEN + 2):
            await conn.execute(select(notes))
        assert trips == ["_timed"] * (PROVEN + 2)


def test_statement_times() -> None:
    times = StatementTimes()
    for _ in range(PROVEN - 1):
        times.ran("SELECT 1", 0.0001)
    assert not times.proven("SELECT 1")
    times.ran("SELECT 1", 0.0001)
    assert times.proven("SELECT 1")
    times.ran("SELECT 1", QUICK * 10)  # once slow: for good
    for _ in range(PROVEN * 2):
        times.ran("SELECT 1", 0.0001)
    assert not times.proven("SELECT 1")
