"""Rows of Jiannuo's file store: ``stored_files`` (what a file is) and ``file_uploads`` (each
channel's id for it). The bytes are not here: storage/files.py keeps them on disk."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.files import StoredFile
from storage import schema as s
from storage.upsert import insert_on_conflict

_files = s.stored_files
_uploads = s.file_uploads


def _file(row: Any) -> StoredFile:
    m = row._mapping
    return StoredFile(
        id=m["id"],
        sha256=m["sha256"],
        size=m["size"],
        media_type=m["media_type"],
        name=m["name"],
        created_at=m["created_at"],
        held_by=m["held_by"],
    )


class FileRepo:
    """Stored files' metadata and their upload ids per channel."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, file_id: int) -> StoredFile | None:
        """One stored file, or None."""
        row = (await self.conn.execute(select(_files).where(_files.c.id == file_id))).first()
        return _file(row) if row is not None else None

    async def same(self, sha256: str, media_type: str, name: str | None) -> StoredFile | None:
        """The file already kept with these bytes, type and name, if any."""
        named = _files.c.name.is_(None) if name is None else _files.c.name == name
        query = select(_files).where(
            _files.c.sha256 == sha256, _files.c.media_type == media_type, named
        )
        row = (await self.conn.execute(query.order_by(_files.c.id).limit(1))).first()
        return _file(row) if row is not None else None

    async def add(
        self,
        *,
        sha256: str | None,
        size: int | None,
        media_type: str,
        name: str | None,
        created_at: datetime,
        held_by: str | None = None,
    ) -> StoredFile:
        """Describe a file (its bytes are kept already, or ``held_by`` a channel)."""
        values: dict[str, Any] = {
            "sha256": sha256,
            "size": size,
            "media_type": media_type,
            "name": name,
            "created_at": created_at,
            "held_by": held_by,
        }
        result = await self.conn.execute(insert(_files).values(**values).returning(_files.c.id))
        return StoredFile(id=result.scalar_one(), **values)

    async def fill(self, file_id: int, sha256: str, size: int) -> None:
        """The bytes of a file a channel held are kept now."""
        await self.conn.execute(
            update(_files)
            .where(_files.c.id == file_id)
            .values(sha256=sha256, size=size, held_by=None)
        )

    async def held_by(self, channel: str, limit: int, after: int = 0) -> list[StoredFile]:
        """Files whose only copy the channel holds, by id after ``after``."""
        rows = await self.conn.execute(
            select(_files)
            .where(_files.c.sha256.is_(None), _files.c.held_by == channel, _files.c.id > after)
            .order_by(_files.c.id)
            .limit(limit)
        )
        return [_file(r) for r in rows]

    async def upload_id(self, file_id: int, channel: str) -> str | None:
        """The channel's id for this file, or None."""
        found = await self.conn.execute(
            select(_uploads.c.upload_id).where(
                _uploads.c.stored_file_id == file_id, _uploads.c.channel == channel
            )
        )
        return found.scalar_one_or_none()

    async def remember_upload(
        self, file_id: int, channel: str, upload_id: str, at: datetime
    ) -> None:
        """Keep (or replace) the channel's id for this file."""
        stmt = insert_on_conflict(_uploads, self.conn.dialect.name).values(
            stored_file_id=file_id, channel=channel, upload_id=upload_id, uploaded_at=at
        )
        await self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["stored_file_id", "channel"],
                set_={"upload_id": upload_id, "uploaded_at": at},
            )
        )

    async def forget_upload(self, file_id: int, channel: str, upload_id: str) -> None:
        """Drop a refused id (a newer one stays)."""
        await self.conn.execute(
            delete(_uploads).where(
                _uploads.c.stored_file_id == file_id,
                _uploads.c.channel == channel,
                _uploads.c.upload_id == upload_id,
            )
        )
