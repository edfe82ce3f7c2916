"""The update journal: no update is lost between Telegram and the database.

PTB's Updater tells Telegram that updates arrived (the next getUpdates' offset) as soon as it
has queued them, not once they are handled. A crash in between lost them: votes waiting in the
ballot box's window, messages waiting in the queue. The journal closes that window. Each
getUpdates answer is written to the database before the Updater can ask for the next one (the
answer is kept in the request that fetched it, :class:`JournalingRequest`), and at start every
kept update not recorded as handled goes back into the queue, oldest first, before polling
resumes. If the write fails, the fetch fails: the Updater retries it with the same offset and
Telegram delivers the same updates again.

"Handled" is what processed_updates records: the guard records a message or a button press
when it takes it (handlers/fallback.py), the ballot box records poll answers in the very
transaction that writes their ballots. Answers are kept whole and in order, and a poll answer
sets a state (the voter's current choice), so putting back what was not recorded leaves the
ballots as if nothing had happened.

The journal holds raw updates, so who voted how: each answer is encrypted (Fernet, a key
derived from the ballot key) and dropped as soon as everything in it is handled; a database
export shows at most a few seconds of traffic, and never readably.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from bot.domain.clock import Clock
from storage.db import Database

log = logging.getLogger(__name__)


def journal_key(ballot_key: bytes) -> bytes:
    """The journal's Fernet key, derived from the ballot key (never the same bytes)."""
    return base64.urlsafe_b64encode(hmac.digest(ballot_key, b"jiannuo update journal", "sha256"))


class UpdateJournal:
    """getUpdates answers kept until handled (see the module's text)."""

    def __init__(self, db: Database, clock: Clock, ballot_key: bytes) -> None:
        self.db = db
        self.clock = clock
        self._fernet = Fernet(journal_key(ballot_key))
        self._in_flight: set[int] = set()  # taken, not yet handled
        self._next = 0  # the update id after the newest taken

    def watermark(self) -> int:
        """Every update below this id is handled."""
        return min(self._in_flight) if self._in_flight else self._next

    def _take(self, update_ids: Iterable[int]) -> None:
        ids = list(update_ids)
        if ids:
            self._in_flight.update(ids)
            self._next = max(self._next, max(ids) + 1)

    async def keep(self, updates: list[Any]) -> None:
        """Write one getUpdates answer (and drop the answers wholly handled)."""
        ids = [int(u["update_id"]) for u in updates if isinstance(u, dict) and "update_id" in u]
        if not ids:
            return
        raw = json.dumps(updates, separators=(",", ":"), ensure_ascii=False).encode()
        async with self.db.uow() as uow:
            await uow.updates.journal_add(
                min(ids), max(ids), self._fernet.encrypt(raw), self.clock.now(), self.watermark()
            )
        self._take(ids)

    def handled(self, update_ids: Iterable[int]) -> None:
        """These updates are handled (their effects committed, or nothing to do)."""
        self._in_flight.difference_update(update_ids)

    async def prune(self) -> int:
        """Drop every kept answer wholly handled (at a clean stop: all of them)."""
        async with self.db.uow() as uow:
            return await uow.updates.journal_prune(self.watermark())

    async def unhandled(self) -> list[dict[str, Any]]:
        """At start: the kept updates not recorded as handled, oldest first, each once."""
        async with self.db.uow() as uow:
            payloads = await uow.updates.journal()
        updates: dict[int, dict[str, Any]] = {}
        for blob in payloads:
            try:
                answer = json.loads(self._fernet.decrypt(blob))
            except (InvalidToken, ValueError):
                log.error("an update journal entry could not be read (another key?): skipped")
                continue
            for update in answer:
                if isinstance(update, dict) and isinstance(update.get("update_id"), int):
                    updates.setdefault(update["update_id"], update)
        if not updates:
            return []
        async with self.db.uow() as uow:
            handled = await uow.updates.handled_among(list(updates))
        ordered = [updates[i] for i in sorted(updates) if i not in handled]
        self._take(u["update_id"] for u in ordered)
        if ordered:
            log.warning(
                "%d updates taken before a stop were not handled: handling them now", len(ordered)
            )
        return ordered


class JournalingRequest(HTTPXRequest):
    """The getUpdates connection: each answer is in the journal before PTB reads it."""

    def __init__(self, journal: UpdateJournal, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.journal = journal

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
        """Fetch; keep a successful, non-empty getUpdates answer before returning it."""
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
            try:
                answer = json.loads(body)
            except ValueError:
                return code, body  # PTB reports it
            result = answer.get("result") if isinstance(answer, dict) else None
            if answer.get("ok") and isinstance(result, list) and result:
                await self.journal.keep(result)
        return code, body
