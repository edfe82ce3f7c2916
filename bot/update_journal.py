"""The update journal: no update is lost between Telegram and the database (at least once in;
exactly once done, by processed_updates).

PTB's Updater tells Telegram that updates arrived (the next getUpdates' offset) as soon as it
has queued them, not once they are handled. A crash in between lost them: votes waiting in the
ballot box's window, messages waiting in the queue. The journal closes that window. Each
getUpdates answer is appended to a journal file before PTB even reads it (in the request that
fetched it, :class:`JournalingRequest`), so before the Updater can ask for the next one; at
start every kept update not recorded as handled goes back into the queue, oldest first, before
polling resumes. If the append fails, the fetch fails: the Updater retries it with the same
offset and Telegram delivers the same updates again.

"Handled" is what processed_updates records, always in the transaction of the update's effects:
the first unit of work of a message or a button press that writes records it just before it
commits (storage/update_claim.py), the ballot box records poll answers in the very transaction
that writes their ballots. So a crash before that commit leaves the update unrecorded and it is
put back; a crash after leaves it recorded and it is not (and were it delivered again, the
guard and the claim stop it). An update that wrote nothing is never recorded: the journal keeps
it until the persistence has saved the dialog state it left
(handlers/evaluation.VotingApplication.update_persistence), so a crash before that puts it
back; handling it again changes nothing (its answer may come twice). Answers are kept whole and
in order, and a poll answer sets a state (the voter's current choice), so putting back what was
not recorded leaves the ballots as if nothing had happened. An older answer that a newer one of
the same voter supersedes is not put back, and is recorded as handled: Telegram delivers again
what the dead process had not confirmed, and that copy must not undo the newer answer.

Why files and not a table: an append is a system call on the event loop's thread, no
transaction, no wait for the database's single writer (which the ballot box holds for each
batch in a burst of votes: a table made every fetch wait for it). The files are segments of at
most SEGMENT_BYTES; a segment is deleted once every update in it is handled. Like the
database (SQLite in WAL mode, synchronous=NORMAL), the journal survives the process crashing,
not the machine losing power in the same instant.

The journal holds raw updates, so who voted how: each answer is compressed and encrypted
(Fernet, with a key derived from the ballot key), and deleted soon after it is handled.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import os
import struct
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from telegram.error import NetworkError
from telegram.request import BaseRequest, RequestData

from bot.http import AiohttpRequest
from storage.db import Database

log = logging.getLogger(__name__)

SEGMENT_BYTES = 4 * 1024 * 1024  # a journal file is closed and a new one begun past this size
_HEADER = struct.Struct(">IQQ")  # record length, first update id, last update id
_NAME = "updates-{:020d}-{:020d}.journal"  # first update id, then a clock: never reused


def journal_key(ballot_key: bytes) -> bytes:
    """The journal's Fernet key, derived from the ballot key (never the same bytes)."""
    return base64.urlsafe_b64encode(hmac.digest(ballot_key, b"jiannuo update journal", "sha256"))


@dataclass
class _Segment:
    path: Path
    last: int  # the newest update id in it
    size: int


class UpdateJournal:
    """getUpdates answers kept until handled (see the module's text)."""

    def __init__(self, directory: Path, db: Database, ballot_key: bytes) -> None:
        self.directory = directory
        self.db = db
        self._fernet = Fernet(journal_key(ballot_key))
        self._in_flight: set[int] = set()  # taken, not yet handled
        self._next = 0  # the update id after the newest taken
        self._segments: list[_Segment] = []  # oldest first; the last one is appended to
        self._fd: int | None = None

    def watermark(self) -> int:
        """Every update below this id is handled."""
        return min(self._in_flight) if self._in_flight else self._next

    def _take(self, update_ids: Iterable[int]) -> None:
        ids = list(update_ids)
        if ids:
            self._in_flight.update(ids)
            self._next = max(self._next, max(ids) + 1)

    # -- writing

    def keep(self, body: bytes, update_ids: list[int]) -> None:
        """Append one getUpdates answer (its JSON text as it came) and take its updates.
        Raises OSError if it cannot be written (nothing is taken then)."""
        if not update_ids:
            return
        first, last = min(update_ids), max(update_ids)
        token = self._fernet.encrypt(zlib.compress(body, 1))
        record = _HEADER.pack(len(token), first, last) + token
        segment = self._segment(first)
        written = 0
        while written < len(record):  # os.write may write less than asked
            written += os.write(self._require_fd(), record[written:])
        segment.last = max(segment.last, last)
        segment.size += len(record)
        self._take(update_ids)

    def _segment(self, first: int) -> _Segment:
        """The segment to append to: a new one when there is none or it is full."""
        if self._segments and self._fd is not None and self._segments[-1].size < SEGMENT_BYTES:
            return self._segments[-1]
        self._close_fd()
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / _NAME.format(first, time.time_ns())
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        segment = _Segment(path, first, path.stat().st_size)
        self._segments.append(segment)
        return segment

    def _require_fd(self) -> int:
        assert self._fd is not None
        return self._fd

    def _close_fd(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def handled(self, update_ids: Iterable[int]) -> None:
        """These updates are handled (their effects committed, or nothing to do); a segment
        whose every update is handled is deleted."""
        self._in_flight.difference_update(update_ids)
        self.prune()

    def prune(self) -> int:
        """Delete the segments wholly handled; how many."""
        below = self.watermark()
        gone = 0
        while self._segments and self._segments[0].last < below:
            segment = self._segments.pop(0)
            if not self._segments:
                self._close_fd()  # the one appended to: a new one is begun when needed
            segment.path.unlink(missing_ok=True)
            gone += 1
        return gone

    def close(self) -> None:
        """At a clean stop: delete what is handled and close the file."""
        self.prune()
        self._close_fd()

    # -- reading, at start

    async def unhandled(self) -> list[dict[str, Any]]:
        """The kept updates not recorded as handled, oldest first, each once."""
        updates: dict[int, dict[str, Any]] = {}
        paths = sorted(self.directory.glob("updates-*.journal")) if self.directory.is_dir() else []
        for path in paths:
            last = 0
            for answer in self._read(path):
                for update in answer:
                    if isinstance(update, dict) and isinstance(update.get("update_id"), int):
                        updates.setdefault(update["update_id"], update)
                        last = max(last, update["update_id"])
            self._segments.append(_Segment(path, last, path.stat().st_size))
        if not updates:
            self.prune()
            return []
        superseded = _superseded_votes(updates)
        async with self.db.uow() as uow:
            handled = await uow.updates.handled_among(list(updates))
            # Handled already, though not recorded (it wrote nothing): a later update of its
            # chat is recorded, and a chat's updates are handled in order (bot/lanes.py).
            # Put back, it would act on a state the later ones changed (a /pledge that
            # showed the draft would open a new one once that draft was submitted).
            superseded |= _overtaken(updates, handled)
            # Not put back, and recorded as handled: Telegram delivers again what the dead
            # process had not confirmed, and an older answer taken after the newer one
            # would undo it (the ballot box stops a recorded update as a duplicate).
            stale = sorted(superseded - handled)
            if stale:
                await uow.updates.record_handled(stale, datetime.now(UTC))
        ordered = [updates[i] for i in sorted(updates) if i not in handled and i not in superseded]
        self._next = max(self._next, max(updates) + 1)
        self._take(u["update_id"] for u in ordered)
        self.prune()
        if ordered:
            log.warning("%d updates taken before the last stop were not handled", len(ordered))
        return ordered

    def _read(self, path: Path) -> Iterable[list[Any]]:
        """The answers of one segment; a torn last record (a crash mid-write) ends it."""
        data = path.read_bytes()
        at = 0
        while at + _HEADER.size <= len(data):
            length, _, _ = _HEADER.unpack_from(data, at)
            token = data[at + _HEADER.size : at + _HEADER.size + length]
            at += _HEADER.size + length
            if len(token) < length:
                log.warning("%s ends with a torn record: ignored", path.name)
                return
            try:
                answer = json.loads(zlib.decompress(self._fernet.decrypt(token)))
            except (InvalidToken, ValueError, zlib.error):
                log.error("an update journal record could not be read (another key?): skipped")
                continue
            result = answer.get("result") if isinstance(answer, dict) else answer
            if isinstance(result, list):
                yield result


def _chat_of(update: dict[str, Any]) -> Any:
    """The chat whose lane handles this raw update (as bot.lanes.lane_key), or None."""
    for kind in ("message", "edited_message", "my_chat_member", "chat_member"):
        body = update.get(kind)
        if isinstance(body, dict) and isinstance(body.get("chat"), dict):
            return body["chat"].get("id")
    query = update.get("callback_query")
    if isinstance(query, dict):
        message = query.get("message")
        if isinstance(message, dict) and isinstance(message.get("chat"), dict):
            return message["chat"].get("id")
        sender = query.get("from")
        return sender.get("id") if isinstance(sender, dict) else None
    return None


def _overtaken(updates: dict[int, dict[str, Any]], handled: set[int]) -> set[int]:
    """Unrecorded updates of a chat with a later update recorded as handled."""
    newest_handled: dict[Any, int] = {}
    for update_id in handled:
        chat = _chat_of(updates.get(update_id, {}))
        if chat is not None:
            newest_handled[chat] = max(newest_handled.get(chat, update_id), update_id)
    return {
        update_id
        for update_id, update in updates.items()
        if update_id not in handled
        and (chat := _chat_of(update)) is not None
        and update_id < newest_handled.get(chat, update_id)
    }


def _superseded_votes(updates: dict[int, dict[str, Any]]) -> set[int]:
    """Poll answers followed by a newer answer of the same voter to the same poll.

    A vote sets a state and the last one wins; the newer answer decides, whether it was
    written already (then putting the older one back would undo it: a batch that failed
    while later ones were written) or not (then it is put back itself). The journal is a
    suffix of the updates in order, so every newer answer is in it."""
    newest: dict[tuple[Any, Any], int] = {}
    superseded: set[int] = set()
    for update_id in sorted(updates):
        answer = updates[update_id].get("poll_answer")
        if not isinstance(answer, dict):
            continue
        user = answer.get("user")
        voter = user.get("id") if isinstance(user, dict) else None
        key = (voter, answer.get("poll_id"))
        if key in newest:
            superseded.add(newest[key])
        newest[key] = update_id
    return superseded


class JournalingRequest(AiohttpRequest):
    """The getUpdates connection: each answer is in the journal before PTB reads it."""

    def __init__(self, journal: UpdateJournal, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.journal = journal
        # Awaited before each getUpdates (the Application's lanes: bot/lanes.ChatLanes.room).
        self.before_poll: Callable[[], Awaitable[None]] | None = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Fetch; a successful, non-empty getUpdates answer is kept before it is returned."""
        if self.before_poll is not None and url.endswith("/getUpdates"):
            await self.before_poll()
        code, body = await super().do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        if code == HTTPStatus.OK and url.endswith("/getUpdates"):
            ids = _update_ids(body)
            if ids:
                try:
                    self.journal.keep(body, ids)
                except OSError as exc:  # the Updater retries with the same offset
                    log.error("the update journal cannot be written: %s", exc.strerror)
                    raise NetworkError("update journal not written") from exc
        return code, body


def _update_ids(body: bytes) -> list[int]:
    """The update ids of a getUpdates answer (none if it is not a successful one)."""
    try:
        answer = json.loads(body)
    except ValueError:
        return []  # PTB reports it
    result = answer.get("result") if isinstance(answer, dict) and answer.get("ok") else None
    if not isinstance(result, list):
        return []
    return [u["update_id"] for u in result if isinstance(u, dict) and "update_id" in u]
