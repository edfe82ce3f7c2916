"""PTB persistence in our own database: conversations and user_data survive a restart."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from storage.db import Database

CONV_NS = "conv:"
USER_NS = "user_data"


class DbPersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Stores conversation states and user_data in the ``kv`` table."""

    def __init__(self, db: Database, update_interval: float = 1.0) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self.db = db
        # Users with a stored row: an empty user_data of anyone else needs no write. PTB marks
        # every user who sent an update (a burst of poll answers: thousands of voters whose
        # data is empty), and a transaction each would cost more than the updates themselves.
        self._stored: set[int] = set()
        # Writes asked for in the same turn of the event loop (PTB gathers every write of a
        # flush at once) are committed together: one transaction per flush, not one per key.
        self._pending: dict[tuple[str, str], Any] = {}  # (namespace, key) → value; None: drop
        self._batch: asyncio.Future[None] | None = None
        self._last: asyncio.Task[None] | None = None

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        """Every user's data."""
        async with self.db.uow() as uow:
            raw = await uow.kv.get_namespace(USER_NS)
        data: dict[int, dict[Any, Any]] = defaultdict(dict)
        for key, value in raw.items():
            data[int(key)] = dict(value)
        self._stored = set(data)
        return data

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        """Chat data is not persisted."""
        return {}

    async def get_bot_data(self) -> dict[Any, Any]:
        """Bot data is not persisted (services are rebuilt at start)."""
        return {}

    async def get_callback_data(self) -> CDCData | None:
        """Arbitrary callback data is not used."""
        return None

    async def get_conversations(self, name: str) -> ConversationDict:
        """The states of one conversation handler."""
        async with self.db.uow() as uow:
            raw = await uow.kv.get_namespace(CONV_NS + name)
        return {tuple(json.loads(key)): value for key, value in raw.items()}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        """Write one conversation's state (None: the conversation ended)."""
        await self._write(CONV_NS + name, json.dumps(list(key)), new_state)

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        """Write one user's data (an empty one only replaces a stored row)."""
        if not data:
            if user_id in self._stored:
                await self.drop_user_data(user_id)
            return
        await self._write(USER_NS, str(user_id), data)
        self._stored.add(user_id)

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        """Not persisted."""

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        """Not persisted."""

    async def update_callback_data(self, data: CDCData) -> None:
        """Not used."""

    async def drop_chat_data(self, chat_id: int) -> None:
        """Not persisted."""

    async def drop_user_data(self, user_id: int) -> None:
        """Forget a user's data."""
        await self._write(USER_NS, str(user_id), None)
        self._stored.discard(user_id)

    async def _write(self, namespace: str, key: str, value: Any) -> None:
        """Join this turn's batch and wait until it is committed (or raise what failed it)."""
        self._pending[(namespace, key)] = value
        if self._batch is None:
            self._batch = asyncio.get_running_loop().create_future()
            # Runs after every write of this turn joined; after the batch before it.
            self._last = asyncio.create_task(self._commit(self._batch, self._last))
        await asyncio.shield(self._batch)

    async def _commit(
        self, batch: asyncio.Future[None], before: asyncio.Task[None] | None
    ) -> None:
        """Write one batch in one transaction, once the batch before it is written."""
        if before is not None:
            await asyncio.wait([before])
        writes, self._pending, self._batch = self._pending, {}, None
        try:
            async with self.db.uow() as uow:
                await uow.kv.put_many(writes)
        except Exception as exc:  # every writer of the batch is told
            batch.set_exception(exc)
            batch.exception()  # retrieved, even if no writer waits any more (cancelled)
        else:
            batch.set_result(None)

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        """Nothing to refresh: this process is the only writer."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        """Not persisted."""

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        """Not persisted."""

    async def flush(self) -> None:
        """Every write is already committed."""
