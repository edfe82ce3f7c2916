"""What Jiannuo's file store holds in an e2e world (bytes, metadata, Telegram's upload ids)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bot.domain.files import StoredFile
from storage import schema
from storage.files import DbFileStore, DiskBlobs
from tests.e2e.harness import World


@dataclass(frozen=True)
class Kept:
    """One stored file: what it is, its bytes (None while held by Telegram only) and the
    file_id Telegram knows it under (None if none)."""

    file: StoredFile
    data: bytes | None
    telegram_id: str | None


def store_of(world: World) -> DbFileStore:
    """The world's file store, as the bot has it."""
    return DbFileStore(world.db, DiskBlobs(world.settings.files_root()))


async def kept_files(world: World) -> list[Kept]:
    """Every stored file, oldest first."""
    store = store_of(world)
    async with world.db.read() as uow:
        ids = (await uow.files.conn.execute(select(schema.stored_files.c.id))).scalars().all()
    kept = []
    for file_id in sorted(ids):
        stored = await store.get(file_id)
        assert stored is not None
        data = await store.read(stored) if stored.here else None
        kept.append(Kept(stored, data, await store.upload_id(file_id, "telegram")))
    return kept
