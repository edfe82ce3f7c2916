"""Files on Telegram: what a person sends is downloaded into Jiannuo's store (getFile and the
file download), and a stored file is sent by the file_id Telegram knows it under, uploaded
once when it knows none (or refuses the one kept).

Nothing here runs inside a unit of work: the download, the disk and the upload happen between
the store's own short bookkeeping transactions (bot/domain/files.py, storage/files.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from telegram import InputFile, Message
from telegram.error import BadRequest, NetworkError, TelegramError

from bot.domain.errors import DomainError
from bot.domain.files import OCTET_STREAM, FileStore, StoredFile, UploadCache

log = logging.getLogger(__name__)

CHANNEL = "telegram"
PHOTO = "photo"
DOCUMENT = "document"
PHOTO_MEDIA_TYPE = "image/jpeg"  # Telegram re-encodes every photo it is sent as a JPEG


@dataclass(frozen=True)
class Incoming:
    """A photo or file in a person's message, before it is downloaded."""

    kind: str  # "photo" | "document"
    file_id: str  # Telegram's handle: used here at the edge only
    size: int
    name: str | None
    media_type: str


def incoming_of(message: Message | None) -> Incoming | None:
    """The photo (its largest size) or the file a message carries, if any."""
    if message is None:
        return None
    if message.photo:
        largest = max(message.photo, key=lambda p: (p.file_size or 0, p.width * p.height))
        return Incoming(PHOTO, largest.file_id, largest.file_size or 0, None, PHOTO_MEDIA_TYPE)
    doc = message.document
    if doc is not None:
        return Incoming(
            DOCUMENT, doc.file_id, doc.file_size or 0, doc.file_name, doc.mime_type or OCTET_STREAM
        )
    return None


class Store(FileStore, UploadCache, Protocol):
    """The file store with its upload cache (storage.files.DbFileStore)."""


class FileBot(Protocol):
    """What of PTB's bot this needs (the real ExtBot, or a test's stand-in)."""

    async def get_file(self, file_id: str) -> Any:
        """Telegram's getFile."""
        ...


ApiCall = Callable[[str, dict[str, Any]], Awaitable[Any]]


def _refused_id(exc: BadRequest) -> bool:
    """Telegram does not take this file_id (unknown, expired, of another kind or bot)."""
    text = exc.message.lower()
    return any(
        reason in text
        for reason in ("file identifier", "file_id", "wrong file", "can't use file", "file type")
    )


def _upload_id(result: Any, field: str) -> str | None:
    """The file_id Telegram gave the file just sent (the largest photo size, or the file)."""
    if not isinstance(result, dict):
        return None
    sent = result.get(field)
    if field == PHOTO and isinstance(sent, list) and sent:
        sent = max(sent, key=lambda p: p.get("file_size") or 0)
    if isinstance(sent, dict) and isinstance(sent.get("file_id"), str):
        return str(sent["file_id"])
    return None


class TelegramFiles:
    """Receiving files into the store and sending stored files, on Telegram."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def receive(self, bot: FileBot, incoming: Incoming) -> StoredFile:
        """Download what a person sent and keep it; the file_id it came under is its upload
        id on Telegram from now on (sending it again uploads nothing)."""
        try:
            handle = await bot.get_file(incoming.file_id)
            data = bytes(await handle.download_as_bytearray())
        except (TelegramError, OSError) as exc:
            log.warning("file %s could not be downloaded: %s", incoming.file_id, exc)
            raise DomainError("files.receive_failed") from exc
        stored = await self.store.store(data, incoming.media_type, incoming.name)
        await self.store.remember(stored.id, CHANNEL, incoming.file_id)
        return stored

    async def send(self, call: ApiCall, method: str, params: dict[str, Any], file_id: int) -> Any:
        """``sendPhoto``/``sendDocument`` of a stored file with the other ``params``: by the
        cached file_id, or uploaded (and its new file_id cached) when there is none or
        Telegram refuses it. The raw answer."""
        field = PHOTO if method == "sendPhoto" else DOCUMENT
        cached = await self.store.upload_id(file_id, CHANNEL)
        if cached is not None:
            try:
                return await call(method, {**params, field: cached})
            except BadRequest as exc:
                if not _refused_id(exc):
                    raise
                log.info("file %s: Telegram refused its id (%s), uploading", file_id, exc)
                await self.store.forget(file_id, CHANNEL, cached)
        stored = await self.store.get(file_id)
        if stored is None:
            raise BadRequest(f"no stored file {file_id}")
        data = await self.store.read(stored)  # FileMissing: held elsewhere or lost
        upload = InputFile(data, filename=stored.name or _default_name(stored), attach=True)
        result = await call(method, {**params, field: upload})
        new_id = _upload_id(result, field)
        if new_id is not None:
            await self.store.remember(file_id, CHANNEL, new_id)
        return result

    async def fetch_held(self, bot: FileBot, page: int = 20) -> int:
        """Download the files that Telegram held alone (carried over from file ids, before
        Jiannuo kept files), a page at a time; how many were fetched. One Telegram cannot
        give (gone, over its 20 MB) stays held by Telegram and is still sent by its id."""
        fetched, after = 0, 0
        while held := await self.store.held_elsewhere(CHANNEL, page, after):
            for each in held:
                after = each.id
                cached = await self.store.upload_id(each.id, CHANNEL)
                if cached is None:
                    continue
                try:
                    handle = await bot.get_file(cached)
                    data = bytes(await handle.download_as_bytearray())
                except BadRequest as exc:  # (a NetworkError in PTB): gone, or too big
                    log.warning("carried-over file %s not fetched: %s", each.id, exc)
                    continue
                except NetworkError:
                    raise  # the network, not the file: the next run tries again
                except (TelegramError, OSError) as exc:
                    log.warning("carried-over file %s not fetched: %s", each.id, exc)
                    continue
                await self.store.fill(each.id, data)
                fetched += 1
        return fetched


def _default_name(stored: StoredFile) -> str:
    """A file name for an upload of a file sent without one."""
    ext = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}.get(
        stored.media_type, "bin"
    )
    return f"file-{stored.id}.{ext}"
