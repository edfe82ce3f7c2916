"""Files kept by Jiannuo (evidence photos, documents, a broadcast's media, tally sheets).

The domain refers to a file by its :class:`StoredFile` id, never by a channel's handle: the
bytes live in Jiannuo's own store (content-addressed, storage/files.py), and each channel keeps
its own upload ids in an :class:`UploadCache` (Telegram's file_id of the first send), so a file
goes up once per channel and is re-sent by that id afterwards.

A file carried over from before the store existed may be *held by a channel only*
(``held_by``): its bytes are not here yet, only that channel's upload id; the channel fetches
them when it can (:meth:`FileStore.fill`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

MB = 1024 * 1024
OCTET_STREAM = "application/octet-stream"


class FileMissing(LookupError):
    """The bytes of a stored file are not in the store (held by a channel only, or lost)."""


@dataclass(frozen=True)
class StoredFile:
    """A file in Jiannuo's store: what the domain keeps in its rows is ``id``."""

    id: int
    sha256: str | None  # the content address; None while held by a channel only
    size: int | None
    media_type: str
    name: str | None
    created_at: datetime
    held_by: str | None = None  # the channel holding the only copy (a carried-over file)

    @property
    def here(self) -> bool:
        """True when the bytes are in Jiannuo's store."""
        return self.sha256 is not None


class Blobs(Protocol):
    """Bytes by their SHA-256 (the disk by default; another backend may replace it)."""

    async def put(self, sha256: str, data: bytes) -> None:
        """Keep the bytes under their hash (atomically; a second put of the same is a no-op)."""
        ...

    async def get(self, sha256: str) -> bytes:
        """The bytes under this hash (FileMissing if absent or damaged)."""
        ...


class FileStore(Protocol):
    """Storing, reading and describing files."""

    async def store(self, data: bytes, media_type: str, name: str | None = None) -> StoredFile:
        """Keep the bytes (no unit of work is held while they are written); their file."""
        ...

    async def get(self, file_id: int) -> StoredFile | None:
        """A stored file's metadata."""
        ...

    async def read(self, file: StoredFile) -> bytes:
        """The file's bytes (FileMissing if only a channel holds them)."""
        ...

    async def fill(self, file_id: int, data: bytes) -> StoredFile:
        """Give a file held by a channel only its bytes (once fetched from that channel)."""
        ...

    async def held_elsewhere(self, channel: str, limit: int, after: int = 0) -> list[StoredFile]:
        """Files whose only copy this channel holds (to fetch them), by id after ``after``."""
        ...


class UploadCache(Protocol):
    """Per channel: the id under which a file was uploaded there (to re-send it by id)."""

    async def upload_id(self, file_id: int, channel: str) -> str | None:
        """The channel's id for this file, if it was uploaded there."""
        ...

    async def remember(self, file_id: int, channel: str, upload_id: str) -> None:
        """Keep the channel's id for this file (replacing an older one)."""
        ...

    async def forget(self, file_id: int, channel: str, upload_id: str) -> None:
        """The channel refused this id: forget it (unless a newer one replaced it)."""
        ...
