"""Alembic environment: runs on the connection handed over by storage.db.Database.migrate."""

from __future__ import annotations

from alembic import context

from storage.schema import metadata

config = context.config
connection = config.attributes.get("connection")

if connection is None:
    # Offline / CLI use: `alembic -c storage/alembic.ini revision --autogenerate` with a sync URL.
    from sqlalchemy import create_engine

    url = config.get_main_option("sqlalchemy.url") or "sqlite:///jiannuo.db"
    engine = create_engine(url.replace("+aiosqlite", ""))
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
