"""Alembic environment. storage.db.Database.migrate hands over its connection; run from the
alembic command line instead, the database is JIANNUO_DATABASE_URL (else alembic.ini's), on
the same async drivers the bot uses (aiosqlite, asyncpg), and ``--sql`` prints the migration
script for the URL's engine without connecting (offline mode)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from alembic import context

from storage.schema import metadata

config = context.config
connection = config.attributes.get("connection")


def _url() -> str:
    return os.environ.get("JIANNUO_DATABASE_URL") or config.get_main_option(
        "sqlalchemy.url", "sqlite+aiosqlite:///jiannuo.db"
    )


def _run(sync_connection: Any) -> None:
    context.configure(connection=sync_connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def _online(url: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run)
    finally:
        await engine.dispose()


if connection is not None:
    _run(connection)
elif context.is_offline_mode():
    url = _url()
    if url.startswith("sqlite"):
        # Its ALTERs rebuild tables (batch mode), which needs the live table to read.
        raise SystemExit(
            "a SQLite database migrates itself: run `alembic upgrade head` without --sql, "
            "or any jiannuo command (each brings the schema up to date on start)"
        )
    context.configure(
        url=url,
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_online(_url()))
