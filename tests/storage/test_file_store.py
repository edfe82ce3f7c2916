"""Jiannuo's file store: a secretary's photo is kept once under its SHA-256, read back intact,
described in the database, and each channel's upload id is remembered and forgotten when the
channel refuses it."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.files import FileMissing
from bot.playground.sim_state import tiny_png
from config.settings import Settings
from storage.db import Database
from storage.files import DbFileStore, DiskBlobs
from storage.update_claim import update_in_hand

NOW = datetime(2026, 6, 5, 1, 30, tzinfo=UTC)


@pytest.fixture
def store(db: Database, tmp_path: Path) -> DbFileStore:
    return DbFileStore(db, DiskBlobs(tmp_path / "files"), now=lambda: NOW)


async def test_a_photo_is_kept_under_its_hash_and_read_back(
    store: DbFileStore, tmp_path: Path
) -> None:
    photo = tiny_png()
    digest = hashlib.sha256(photo).hexdigest()
    kept = await store.store(photo, "image/png", "村道.png")
    assert (kept.sha256, kept.size, kept.media_type, kept.name) == (
        digest,
        len(photo),
        "image/png",
        "村道.png",
    )
    assert kept.here and kept.held_by is None
    assert (tmp_path / "files" / digest[:2] / digest).read_bytes() == photo
    assert await store.read(kept) == photo
    assert await store.get(kept.id) == kept
    # Nothing half-written is left beside it.
    assert [p.name for p in (tmp_path / "files" / digest[:2]).iterdir()] == [digest]


async def test_the_same_photo_sent_twice_is_one_file_another_name_is_another(
    store: DbFileStore, tmp_path: Path
) -> None:
    photo = tiny_png()
    first = await store.store(photo, "image/png", "a.png")
    again = await store.store(photo, "image/png", "a.png")
    renamed = await store.store(photo, "image/png", "b.png")
    assert again.id == first.id
    assert renamed.id != first.id and renamed.sha256 == first.sha256
    assert len(list((tmp_path / "files").rglob("*"))) == 2  # one directory, one blob


async def test_a_damaged_or_missing_blob_is_reported_not_served(
    store: DbFileStore, tmp_path: Path
) -> None:
    kept = await store.store(b"%PDF-1.4 sign-in sheet", "application/pdf", "签到表.pdf")
    assert kept.sha256 is not None
    path = tmp_path / "files" / kept.sha256[:2] / kept.sha256
    path.write_bytes(b"%PDF-1.4 sign-in sheeT")
    with pytest.raises(FileMissing, match="damaged"):
        await store.read(kept)
    path.unlink()
    with pytest.raises(FileMissing, match="no file"):
        await store.read(kept)


async def test_a_file_held_by_telegram_only_gets_its_bytes_later(
    store: DbFileStore, db: Database
) -> None:
    async with db.uow() as uow:
        held = await uow.files.add(
            sha256=None,
            size=None,
            media_type="image/jpeg",
            name=None,
            created_at=NOW,
            held_by="telegram",
        )
    assert not held.here
    assert await store.held_elsewhere("telegram", 10) == [held]
    with pytest.raises(FileMissing, match="held by telegram"):
        await store.read(held)
    filled = await store.fill(held.id, b"jpeg bytes")
    assert filled.here and filled.held_by is None and filled.size == len(b"jpeg bytes")
    assert await store.read(filled) == b"jpeg bytes"
    assert await store.held_elsewhere("telegram", 10) == []


async def test_each_channel_remembers_its_own_upload_id(store: DbFileStore) -> None:
    kept = await store.store(tiny_png(), "image/png")
    assert await store.upload_id(kept.id, "telegram") is None
    await store.remember(kept.id, "telegram", "AgAC-first")
    await store.remember(kept.id, "wecom", "media-1")
    assert await store.upload_id(kept.id, "telegram") == "AgAC-first"
    # Uploaded again (the first id was refused): the new id replaces it.
    await store.remember(kept.id, "telegram", "AgAC-second")
    assert await store.upload_id(kept.id, "telegram") == "AgAC-second"
    # A late refusal of the old id does not forget the new one.
    await store.forget(kept.id, "telegram", "AgAC-first")
    assert await store.upload_id(kept.id, "telegram") == "AgAC-second"
    await store.forget(kept.id, "telegram", "AgAC-second")
    assert await store.upload_id(kept.id, "telegram") is None
    assert await store.upload_id(kept.id, "wecom") == "media-1"


async def test_keeping_a_file_does_not_mark_the_update_handled(
    store: DbFileStore, db: Database
) -> None:
    """The update's effects come later in its own unit of work, which must carry its mark."""
    with update_in_hand(77, NOW) as hand:
        kept = await store.store(tiny_png(), "image/png")
        await store.remember(kept.id, "telegram", "AgAC-1")
        assert not hand.claimed
        async with db.uow() as uow:  # the update's effects
            await uow.kv.put_many({("test", "effect"): "done"})
        assert hand.claimed


async def test_blobs_written_at_once_by_two_tasks_end_whole(tmp_path: Path) -> None:
    blobs = DiskBlobs(tmp_path)
    data = b"x" * 300_000
    digest = hashlib.sha256(data).hexdigest()
    await asyncio.gather(*(blobs.put(digest, data) for _ in range(4)))
    assert await blobs.get(digest) == data
    assert [p.name for p in (tmp_path / digest[:2]).iterdir()] == [digest]
    with pytest.raises(ValueError, match="SHA-256"):
        blobs.path_of("../../etc/passwd")


def test_the_files_go_beside_a_sqlite_database_unless_told(tmp_path: Path) -> None:
    beside = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/data/jiannuo.db")
    assert beside.files_root() == tmp_path / "data" / "files"
    told = Settings(database_url="sqlite+aiosqlite:///x.db", files_dir=tmp_path / "elsewhere")
    assert told.files_root() == tmp_path / "elsewhere"
    server = Settings(
        database_url="postgresql+asyncpg://jn@db.example/jiannuo",
        update_journal_dir=tmp_path / "journal" / "jiannuo.updates",
    )
    assert server.files_root() == tmp_path / "journal" / "jiannuo.files"
