"""Jiannuo's file store: bytes on disk under their SHA-256, metadata in ``stored_files``, and
each channel's upload ids in ``file_uploads`` (the interfaces are in bot/domain/files.py).

The bytes are written before the metadata's short unit of work begins, and read outside any:
no transaction is held across file I/O. A blob is written to a temporary file in its
directory, flushed to disk and renamed into place, so a reader never sees half a file and a
crash leaves at most a stray temporary file. Writing the same bytes twice changes nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bot.domain.files import Blobs, FileMissing, StoredFile
from storage.db import Database

SHA256_HEX = 64


def sha256_of(data: bytes) -> str:
    """The content address of some bytes."""
    return hashlib.sha256(data).hexdigest()


class DiskBlobs(Blobs):
    """Blobs as files ``<root>/<sha256[:2]>/<sha256>``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, sha256: str) -> Path:
        """Where the bytes with this hash are kept."""
        if len(sha256) != SHA256_HEX or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a SHA-256 in hex: {sha256!r}")
        return self.root / sha256[:2] / sha256

    async def put(self, sha256: str, data: bytes) -> None:
        """Write the bytes atomically (temporary file, fsync, rename) unless already there."""
        await asyncio.to_thread(self._put, self.path_of(sha256), data)

    @staticmethod
    def _put(path: Path, data: bytes) -> None:
        if path.exists():
            return  # content-addressed: the same name holds the same bytes
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    async def get(self, sha256: str) -> bytes:
        """The bytes, checked against their hash (a damaged file is reported, not served)."""
        return await asyncio.to_thread(self._get, sha256, self.path_of(sha256))

    @staticmethod
    def _get(sha256: str, path: Path) -> bytes:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise FileMissing(f"no file {sha256} in the store") from None
        if sha256_of(data) != sha256:
            raise FileMissing(f"the file {sha256} in the store is damaged")
        return data


class DbFileStore:
    """The FileStore and the UploadCache: blobs (disk by default) described by rows of
    ``stored_files``, with each channel's ids in ``file_uploads``."""

    def __init__(
        self, db: Database, blobs: Blobs, now: Callable[[], datetime] | None = None
    ) -> None:
        self.db = db
        self.blobs = blobs
        self._now = now or (lambda: datetime.now(UTC))

    async def store(self, data: bytes, media_type: str, name: str | None = None) -> StoredFile:
        """Write the bytes, then describe them (the same bytes, type and name: the same file)."""
        sha256 = await asyncio.to_thread(sha256_of, data)
        await self.blobs.put(sha256, data)
        async with self.db.bookkeeping() as uow:
            found = await uow.files.same(sha256, media_type, name)
            if found is not None:
                return found
            return await uow.files.add(
                sha256=sha256,
                size=len(data),
                media_type=media_type,
                name=name,
                created_at=self._now(),
            )

    async def get(self, file_id: int) -> StoredFile | None:
        """A stored file's metadata, or None."""
        async with self.db.read() as uow:
            return await uow.files.get(file_id)

    async def read(self, file: StoredFile) -> bytes:
        """The bytes (FileMissing while a channel holds the only copy)."""
        if file.sha256 is None:
            raise FileMissing(f"file {file.id} is held by {file.held_by} only")
        return await self.blobs.get(file.sha256)

    async def fill(self, file_id: int, data: bytes) -> StoredFile:
        """The bytes of a file that a channel held: kept, and the file is here from now on."""
        sha256 = await asyncio.to_thread(sha256_of, data)
        await self.blobs.put(sha256, data)
        async with self.db.bookkeeping() as uow:
            await uow.files.fill(file_id, sha256, len(data))
            filled = await uow.files.get(file_id)
        if filled is None:
            raise FileMissing(f"no stored file {file_id}")
        return filled

    async def held_elsewhere(self, channel: str, limit: int, after: int = 0) -> list[StoredFile]:
        """Files whose only copy the channel holds, by id after ``after``."""
        async with self.db.read() as uow:
            return await uow.files.held_by(channel, limit, after)

    # ---- the upload cache ------------------------------------------------------------------

    async def upload_id(self, file_id: int, channel: str) -> str | None:
        """The channel's id for this file, or None."""
        async with self.db.read() as uow:
            return await uow.files.upload_id(file_id, channel)

    async def remember(self, file_id: int, channel: str, upload_id: str) -> None:
        """Keep (or replace) the channel's id for this file."""
        async with self.db.bookkeeping() as uow:
            await uow.files.remember_upload(file_id, channel, upload_id, self._now())

    async def forget(self, file_id: int, channel: str, upload_id: str) -> None:
        """Drop a refused id (a newer one stays)."""
        async with self.db.bookkeeping() as uow:
            await uow.files.forget_upload(file_id, channel, upload_id)
