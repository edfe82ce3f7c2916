"""The database: engine creation (SQLite in WAL mode by default), migrations, units of work."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.chat.actor import Account
from bot.domain.models import Person
from bot.domain.names import name_key
from storage.repositories import people_of_one_update, remembered_account
from storage.sqlite_driver import OneTripDbapi, usable
from storage.uow import UnitOfWork
from storage.update_claim import update_in_hand, watch_writes

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the single writer; NORMAL sync is safe with WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
    # ORDER BY name_key(name): names by pinyin (bot/domain/names.py).
    dbapi_connection.create_function("name_key", 1, name_key, deterministic=True)


def make_engine(url: str) -> AsyncEngine:
    """Create the async engine for a database URL."""
    parsed = make_url(url)
    one_trip = parsed.get_driver_name() == "aiosqlite" and usable()
    if parsed.get_backend_name() == "sqlite" and one_trip:
        # One trip to aiosqlite's thread per statement instead of four (storage/sqlite_driver).
        # No rollback when a connection goes back to the pool: SQLAlchemy's Connection has
        # already committed or rolled back its transaction on close, and the pool's own
        # rollback was one more trip for every unit of work.
        engine = create_async_engine(url, module=OneTripDbapi(), pool_reset_on_return=None)
    else:  # other engines; SQLAlchemy's own adapter when aiosqlite is not the tested version
        engine = create_async_engine(url)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    watch_writes(engine)
    return engine


class Database:
    """Owns the engine and hands out units of work."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        # SQLite has one writer: serialising our own writing transactions in-process avoids
        # SQLITE_BUSY on read-to-write upgrades without busy-polling. Readers take no lock
        # (WAL: they read a snapshot beside the writer), so no read waits behind a write.
        self._lock = asyncio.Lock() if make_url(url).get_backend_name() == "sqlite" else None

    @contextmanager
    def one_update(
        self, update_id: int | None = None, at: datetime | None = None
    ) -> Iterator[None]:
        """Around the handling of one update: an account's person is read from the database
        once, not by every service the update calls (any write to people forgets it); with
        an update id, the update's first writing unit of work records it as handled
        (storage/update_claim.py)."""
        with people_of_one_update():
            if update_id is None or at is None:
                yield
                return
            with update_in_hand(update_id, at):
                yield

    @staticmethod
    def remembered_account(account: Account) -> tuple[bool, Person | None]:
        """What this update already read of an account, without a transaction: (True,
        person or None if unbound), or (False, None) if it has not read it."""
        return remembered_account(account)

    def uow(self) -> UnitOfWork:
        """A new unit of work that may write (use as ``async with db.uow() as uow``)."""
        return UnitOfWork(self.engine, self._lock)

    def bookkeeping(self) -> UnitOfWork:
        """A unit of work that writes what is not an update's effect (a received file's
        metadata, a channel's upload id): it never records the update in hand as handled, so
        the update's one writing unit of work still carries its effects and its mark."""
        return UnitOfWork(self.engine, self._lock, claims_update=False)

    def read(self) -> UnitOfWork:
        """A new unit of work that only reads: it waits for no writer (a write in it fails)."""
        return UnitOfWork(self.engine, read_only=True)

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        # The option is read through configparser's interpolation: a percent sign (an escaped
        # character in a password, a socket path, a file name) must be doubled.
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))

        async with self.engine.begin() as conn:

            def _upgrade(sync_conn: Any) -> None:
                cfg.attributes["connection"] = sync_conn
                command.upgrade(cfg, "head")

            await conn.run_sync(_upgrade)
        log.info("database at newest revision")

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
