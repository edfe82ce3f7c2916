"""What a row shows when it is sent: live views rendered, files drawn, the post to replace.

The domain registers its live views, its file renderers and the hooks of sent rows here (by
name, as the rows name them). Reading happens in a read-only unit of work; a file is drawn on
a thread after it ended, so no transaction is open while a chart is drawn.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

from bot.chat.intents import FILE, MESSAGE, VIEW
from bot.outbox.channel import (
    FileRenderer,
    Job,
    Outcome,
    Rendered,
    SentHook,
    ViewRenderer,
)
from storage.db import Database
from storage.repositories import OutboxRow
from storage.uow import UnitOfWork

SHOWN_MEMORY = 10_000  # ref'd posts whose shown content the dispatcher remembers


class Contents:
    """The registries of views, files and sent hooks, and the memory of what posts show."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.views: dict[str, ViewRenderer] = {}
        self.files: dict[str, FileRenderer] = {}
        self.sent_hooks: dict[str, SentHook] = {}
        # ref → (message id, content) last put there: an edit to the very same content is not
        # sent (Telegram refuses it: "message is not modified"). Kept in memory (the newest
        # SHOWN_MEMORY): after a restart one identical edit may go, and is taken as done.
        self._shown: OrderedDict[str, tuple[int, Any]] = OrderedDict()

    async def view(self, uow: UnitOfWork, row: OutboxRow) -> Rendered | None:
        """The live view a row names, rendered now (None: its subject is gone)."""
        renderer = self.views.get(str(row.payload.get("view")))
        if renderer is None:
            raise LookupError(f"unknown view {row.payload.get('view')!r}")
        return await renderer(uow, row.chat_id, row.payload)

    async def prepare(self, row: OutboxRow) -> Job | Outcome:
        """The row made ready for the channel, or its outcome when nothing is to be sent (a
        view whose subject is gone; a post that shows that very content already)."""
        kind, payload = row.kind, row.payload
        if kind == FILE:
            return Job(row, kind, payload, file=await self._draw(payload))
        if kind != VIEW and not (kind == MESSAGE and row.ref):
            return Job(row, kind, payload)
        rendered: Rendered | None = None
        async with self.db.read() as uow:
            if kind == VIEW:
                rendered = await self.view(uow, row)
                if rendered is None:
                    return Outcome("sent")
                payload = {"text": rendered[0]}
                if rendered[1]:
                    payload["buttons"] = rendered[1]
            posted = await uow.outbox.posted(row.ref) if row.ref else None
        known = posted[1] if posted is not None and posted[0] == row.chat_id else None
        if (
            known is not None
            and row.ref
            and self._shown.get(row.ref) == (known, _content(payload))
        ):
            return Outcome("sent", message_id=known, cause="unchanged", rendered=rendered)
        return Job(row, MESSAGE, payload, known=known, rendered=rendered)

    async def _draw(self, payload: dict[str, Any]) -> bytes:
        renderer = self.files.get(str(payload.get("render")))
        if renderer is None:
            raise LookupError(f"unknown file renderer {payload.get('render')!r}")
        async with self.db.read() as uow:
            drawing = await renderer(uow, payload)
        return await asyncio.to_thread(drawing)

    def shown(self, job: Job, message_id: int | None) -> None:
        """A ref'd message now shows the job's content under ``message_id``."""
        ref = job.row.ref
        if ref is None or message_id is None or job.kind != MESSAGE:
            return
        self._shown[ref] = (message_id, _content(job.payload))
        self._shown.move_to_end(ref)
        while len(self._shown) > SHOWN_MEMORY:
            self._shown.popitem(last=False)


def _content(payload: dict[str, Any]) -> Any:
    return (payload.get("text"), payload.get("buttons") or None)
