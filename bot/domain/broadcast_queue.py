"""Queueing a broadcast in bounded chunks, with a watermark (通知 to a whole district).

A district's notice goes to tens of thousands. Queued in one transaction it held SQLite's
single writer for seconds (every other person's answer waited behind it), and a crash in the
middle left nothing queued and nothing to say so. Instead:

1. the notice is stored with its audience (organisations, roles, who is left out) and a
   watermark, the highest person id queued so far (0), in the transaction of the sender's
   decision (the update's own unit of work);
2. each chunk reads the next CHUNK people above the watermark in a read-only unit of work,
   builds their outbox rows outside any transaction, and writes the recipients, their rows
   and the new watermark in one short transaction: all or nothing, so a person is queued
   exactly once, and between two chunks other units of work take the writer;
3. the last chunk also queues the sender's report (its figures are whole then) and drops the
   watermark.

A crash between chunks leaves the watermark of the last commit: :meth:`ChunkedQueue.resume`
(the reminder tick, first run a second after start) carries on from there. The audience is
read as it stands when each chunk is written (a person who joins the branch meanwhile and
sorts above the watermark is included).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.domain.models import Person
from storage.broadcast_repo import BroadcastRecord, Member
from storage.db import Database

log = logging.getLogger(__name__)

CHUNK = 2000  # recipients a transaction: about 40 ms of writing on SQLite

# (the broadcast, its sender, the sender's organisation's name, the chunk's people, whether it
# is the last chunk) → the outbox rows of the chunk
BuildRows = Callable[
    [BroadcastRecord, Person, str, Sequence[Member], bool], Awaitable[list[dict[str, Any]]]
]


@dataclass(frozen=True)
class QueueSpec:
    """Who a broadcast goes to, as the chunks read it."""

    org_ids: tuple[int, ...]
    roles: tuple[str, ...] | None
    exclude: int | None

    def state(self, through: int) -> dict[str, Any]:
        """The stored form, with the watermark."""
        roles = list(self.roles) if self.roles is not None else None
        return {
            "org_ids": list(self.org_ids),
            "roles": roles,
            "exclude": self.exclude,
            "through": through,
        }

    @staticmethod
    def of(state: dict[str, Any]) -> tuple[QueueSpec, int]:
        """The spec and the watermark of a stored state."""
        roles = state.get("roles")
        spec = QueueSpec(
            tuple(int(i) for i in state["org_ids"]),
            tuple(roles) if roles is not None else None,
            state.get("exclude"),
        )
        return spec, int(state["through"])


class ChunkedQueue:
    """Queues broadcasts chunk by chunk; one queueing of a broadcast at a time per process."""

    def __init__(self, db: Database, build: BuildRows, chunk: int = CHUNK) -> None:
        self.db = db
        self.build = build
        self.chunk = chunk
        self._running: dict[int, asyncio.Future[None]] = {}

    async def run(self, broadcast_id: int) -> bool:
        """Queue what is left of a broadcast. If this process is queueing it already (the
        sender's update and the tick's resume), wait for that to finish and return False."""
        running = self._running.get(broadcast_id)
        if running is not None:
            await asyncio.shield(running)
            return False
        done = self._running[broadcast_id] = asyncio.get_running_loop().create_future()
        try:
            while await self._one_chunk(broadcast_id):
                pass
        finally:
            del self._running[broadcast_id]
            done.set_result(None)  # whoever waits reads the stored figures (or resumes)
        return True

    async def resume(self) -> list[int]:
        """Carry on with every broadcast a crash (or an error) left half queued."""
        async with self.db.read() as uow:
            waiting = await uow.broadcasts.being_queued()
        resumed = [bid for bid in waiting if await self.run(bid)]
        if resumed:
            log.info("broadcasts %s: queueing resumed at their watermark", resumed)
        return resumed

    async def _one_chunk(self, broadcast_id: int) -> bool:
        """Queue the next chunk; False when the broadcast is queued whole."""
        async with self.db.read() as uow:
            state = await uow.broadcasts.queue_state(broadcast_id)
            record = await uow.broadcasts.get(broadcast_id)
            if state is None or record is None:
                return False
            sender = await uow.people.get(record.sender_id)
            assert sender is not None
            org = await uow.orgs.get(sender.org_id)
            spec, through = QueueSpec.of(state)
            members = await uow.broadcasts.audience_page(
                spec.org_ids, spec.roles, spec.exclude, through, self.chunk
            )
        last = len(members) < self.chunk
        rows = await self.build(record, sender, org.name if org else "", members, last)
        async with self.db.uow() as uow:
            if await uow.broadcasts.queue_state(broadcast_id) != state:
                return True  # moved on meanwhile (another worker): read again
            await uow.broadcasts.add_recipients(
                [
                    {
                        "broadcast_id": broadcast_id,
                        "person_id": m.person_id,
                        "chat_id": m.tg_user_id,
                        "round": 1,
                        "acked_at": None,
                    }
                    for m in members
                ]
            )
            await uow.outbox.add(rows)
            if members:
                await uow.broadcasts.count_recipients(broadcast_id, len(members))
            after = spec.state(members[-1].person_id) if members else state
            await uow.broadcasts.set_queue_state(broadcast_id, None if last else after)
        return not last
