"""The dialogs table (bot/chat/dialogs.py): read a person's dialogs, write staged changes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.chat.dialogs import DialogMoved, DialogState, DialogWrite
from storage import schema as s
from storage.upsert import insert_on_conflict

_d = s.dialogs


class DialogRepo:
    """A person's open dialogs, versioned."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def of_person(self, person_id: int) -> list[DialogState]:
        """Every dialog the person has open (expired ones too: the caller tells them)."""
        rows = await self.conn.execute(
            select(_d).where(_d.c.person_id == person_id).order_by(_d.c.name)
        )
        return [_state(r._mapping) for r in rows]

    async def write(self, writes: Sequence[DialogWrite]) -> None:
        """Apply staged changes, each only if the dialog is still at the version it was read
        at; else :class:`DialogMoved` (the unit of work rolls back, with the step's effect)."""
        for w in writes:
            key = and_(_d.c.person_id == w.person_id, _d.c.name == w.name)
            if w.state is None:
                if w.read_version == 0:
                    continue
                result = await self.conn.execute(
                    delete(_d).where(key, _d.c.version == w.read_version)
                )
            elif w.read_version == 0:
                result = await self.conn.execute(_insert(self.conn.dialect.name), _row(w.state))
            else:
                values = _row(w.state)
                del values["person_id"], values["name"]
                result = await self.conn.execute(
                    update(_d).where(key, _d.c.version == w.read_version).values(**values)
                )
            if not result.rowcount:
                raise DialogMoved(w.person_id, w.name)

    async def expired(self, now: datetime, limit: int = 500) -> list[DialogState]:
        """Dialogs left waiting past their expiry, oldest first."""
        rows = await self.conn.execute(
            select(_d).where(_d.c.expires_at <= now).order_by(_d.c.expires_at).limit(limit)
        )
        return [_state(r._mapping) for r in rows]


def _row(state: DialogState) -> dict[str, Any]:
    return {
        "person_id": state.person_id,
        "name": state.name,
        "step": state.step,
        "data": dict(state.data),
        "version": state.version,
        "expires_at": state.expires_at,
    }


def _state(row: Any) -> DialogState:
    return DialogState(
        row["person_id"],
        row["name"],
        row["step"],
        dict(row["data"]),
        row["version"],
        row["expires_at"],
    )


@cache
def _insert(dialect: str) -> Any:
    """INSERT a new dialog; nothing if one is there already (another delivery opened it)."""
    return insert_on_conflict(_d, dialect).on_conflict_do_nothing(
        index_elements=[_d.c.person_id, _d.c.name]
    )
