"""Start the whole playground (simulator, demo district, bot, web page) in-process for tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.playground.run import Playground
from config.settings import Settings


def playground_settings(tmp: Path) -> Settings:
    """Settings with the playground's database in ``tmp`` and a free loopback port."""
    return Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp / 'production-never-touched.db'}",
        playground_database_url=f"sqlite+aiosqlite:///{tmp / 'playground.db'}",
        playground_port=0,
        outbox_poll_seconds=0.05,
        persistence_flush_seconds=0.2,
        ballot_key_path=tmp / "ballot.key",
    )


@asynccontextmanager
async def running_playground(tmp: Path) -> AsyncIterator[Playground]:
    """A started playground; stopped (bot, page streams, server) on exit."""
    playground = Playground(playground_settings(tmp))
    await playground.start()
    try:
        yield playground
    finally:
        await playground.stop()
