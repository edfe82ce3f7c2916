"""Broadcasts (通知): the notice, its recipients and acknowledgements, its delivery report.

The delivery report is an aggregate over the outbox rows that carry the broadcast's id: a
recipient's state is that of their newest round, all its parts together (a refused first part
is a failure even when the last part arrived).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, case, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import schema as s
from storage.accounts import telegram_chat, telegram_id, with_telegram
from storage.bulk import insert_rows
from storage.ordering import by_name
from storage.pace import paced

CHUNK = 500  # keeps IN (...) lists well under every engine's parameter limit
QUEUE_NS = "broadcast_queue"  # kv: a broadcast still being queued → its audience, watermark


@dataclass(frozen=True)
class BroadcastRecord:
    """A notice as it was sent."""

    id: int
    sender_id: int
    org_id: int
    audience: dict[str, Any]
    text: str
    media: dict[str, Any] | None
    recipients: int
    created_at: datetime


@dataclass(frozen=True)
class RecipientRecord:
    """One person a notice was meant for."""

    broadcast_id: int
    person_id: int
    chat_id: int | None  # None: not joined the bot when it was sent (not reachable)
    round: int
    acked_at: datetime | None


@dataclass(frozen=True)
class Member:
    """A person of an audience, with what it takes to write to them."""

    person_id: int
    name: str
    tg_user_id: int | None
    locale: str | None


@dataclass
class Delivery:
    """Recipients by the state of their newest message; failures by reason."""

    sent: int = 0
    failed: int = 0
    pending: int = 0
    errors: dict[str, int] = field(default_factory=dict)


def _record(row: Row[Any]) -> BroadcastRecord:
    m = row._mapping
    return BroadcastRecord(
        id=m["id"],
        sender_id=m["sender_id"],
        org_id=m["org_id"],
        audience=dict(m["audience"]),
        text=m["text"],
        media=m["media"],
        recipients=m["recipients"],
        created_at=m["created_at"],
    )


class BroadcastRepo:
    """Broadcasts, their recipients and the figures of their reports."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def create(self, **values: Any) -> int:
        """Store a broadcast; its id."""
        result = await self.conn.execute(insert(s.broadcasts).values(**values))
        pk = result.inserted_primary_key
        assert pk is not None
        return int(pk[0])

    async def add_recipients(self, rows: Sequence[dict[str, Any]]) -> None:
        """Store the recipients in one batch."""
        await insert_rows(self.conn, s.broadcast_recipients, rows)

    async def get(self, broadcast_id: int) -> BroadcastRecord | None:
        """A broadcast by id."""
        row = (
            await self.conn.execute(select(s.broadcasts).where(s.broadcasts.c.id == broadcast_id))
        ).first()
        return _record(row) if row else None

    async def recent(self, sender_id: int, limit: int) -> list[BroadcastRecord]:
        """The sender's newest broadcasts, newest first."""
        rows = await self.conn.execute(
            select(s.broadcasts)
            .where(s.broadcasts.c.sender_id == sender_id)
            .order_by(s.broadcasts.c.id.desc())
            .limit(limit)
        )
        return [_record(r) for r in rows]

    async def audience(
        self, org_ids: Sequence[int], roles: Iterable[str] | None, exclude: int | None
    ) -> list[Member]:
        """People of these organisations (of these roles), by organisation and name."""
        p = s.people.c
        query = select(p.id, p.name, telegram_id(p.id), p.locale).where(
            p.org_id.in_(list(org_ids))
        )
        if roles is not None:
            query = query.where(p.role.in_(list(roles)))
        if exclude is not None:
            query = query.where(p.id != exclude)
        rows = await self.conn.execute(
            query.order_by(p.org_id, by_name(p.name, self.conn.dialect.name), p.id)
        )
        return [Member(int(i), n, t, loc) for i, n, t, loc in rows]

    async def audience_page(
        self,
        org_ids: Sequence[int],
        roles: Iterable[str] | None,
        exclude: int | None,
        after: int,
        limit: int,
    ) -> list[Member]:
        """The next ``limit`` people of an audience whose id is above ``after``, by id (the
        watermark of a broadcast queued in chunks)."""
        p = s.people.c
        query = select(p.id, p.name, telegram_id(p.id), p.locale).where(
            and_(p.org_id.in_(list(org_ids)), p.id > after)
        )
        if roles is not None:
            query = query.where(p.role.in_(list(roles)))
        if exclude is not None:
            query = query.where(p.id != exclude)
        rows = await self.conn.execute(query.order_by(p.id).limit(limit))
        return [Member(int(i), n, t, loc) async for i, n, t, loc in paced(rows)]

    async def count_recipients(self, broadcast_id: int, more: int) -> None:
        """A chunk of recipients was queued: the broadcast counts them."""
        b = s.broadcasts.c
        await self.conn.execute(
            update(s.broadcasts).where(b.id == broadcast_id).values(recipients=b.recipients + more)
        )

    async def queue_state(self, broadcast_id: int) -> dict[str, Any] | None:
        """What is left to queue of a broadcast (None: it is queued whole)."""
        kv = s.kv.c
        row = (
            await self.conn.execute(
                select(kv.value).where(and_(kv.namespace == QUEUE_NS, kv.key == str(broadcast_id)))
            )
        ).first()
        return dict(row[0]) if row else None

    async def set_queue_state(self, broadcast_id: int, state: dict[str, Any] | None) -> None:
        """Move the watermark (None: the broadcast is queued whole)."""
        kv = s.kv.c
        await self.conn.execute(
            delete(s.kv).where(and_(kv.namespace == QUEUE_NS, kv.key == str(broadcast_id)))
        )
        if state is not None:
            await self.conn.execute(
                insert(s.kv).values(namespace=QUEUE_NS, key=str(broadcast_id), value=state)
            )

    async def being_queued(self) -> list[int]:
        """Broadcasts whose queueing has not finished (a crash stopped it), oldest first."""
        rows = await self.conn.execute(select(s.kv.c.key).where(s.kv.c.namespace == QUEUE_NS))
        return sorted(int(key) for (key,) in rows)

    async def recipient(self, broadcast_id: int, person_id: int) -> RecipientRecord | None:
        """A person's place in a broadcast."""
        r = s.broadcast_recipients.c
        row = (
            await self.conn.execute(
                select(s.broadcast_recipients).where(
                    and_(r.broadcast_id == broadcast_id, r.person_id == person_id)
                )
            )
        ).first()
        return RecipientRecord(**row._mapping) if row else None

    async def acknowledge(self, broadcast_id: int, person_id: int, at: datetime) -> bool:
        """Record the acknowledgement once; False if it was recorded before."""
        r = s.broadcast_recipients.c
        result = await self.conn.execute(
            update(s.broadcast_recipients)
            .where(
                and_(
                    r.broadcast_id == broadcast_id,
                    r.person_id == person_id,
                    r.acked_at.is_(None),
                )
            )
            .values(acked_at=at)
        )
        return result.rowcount == 1

    async def delivery(self, broadcast_id: int) -> Delivery:
        """Recipients by the state of their newest round (one SQL aggregate): delivered only
        when every part of it was sent; failed when any part was refused."""
        o = s.outbox.c
        # A round's rows are written together (one created_at); a re-send waits until every
        # row of the round before has settled.
        newest = (
            select(o.chat_id.label("chat_id"), func.max(o.created_at).label("at"))
            .where(o.broadcast_id == broadcast_id)
            .group_by(o.chat_id)
            .subquery()
        )
        failed = func.sum(case((o.status == "failed", 1), else_=0))
        unsettled = func.sum(case((o.status.not_in(("sent", "failed")), 1), else_=0))
        per_chat = (
            select(
                case((failed > 0, "failed"), (unsettled > 0, "pending"), else_="sent").label(
                    "state"
                ),
                func.min(case((o.status == "failed", o.error))).label("error"),
            )
            .select_from(
                s.outbox.join(
                    newest, and_(o.chat_id == newest.c.chat_id, o.created_at == newest.c.at)
                )
            )
            .where(o.broadcast_id == broadcast_id)
            .group_by(o.chat_id)
            .subquery()
        )
        rows = await self.conn.execute(
            select(per_chat.c.state, per_chat.c.error, func.count()).group_by(
                per_chat.c.state, per_chat.c.error
            )
        )
        report = Delivery()
        for state, error, count in rows:
            if state == "sent":
                report.sent += int(count)
            elif state == "failed":
                report.failed += int(count)
                key = error or ""
                report.errors[key] = report.errors.get(key, 0) + int(count)
            else:
                report.pending += int(count)
        return report

    async def last_queued(self, broadcast_id: int) -> datetime | None:
        """When the newest round of the notice was queued (its outbox rows' time)."""
        o = s.outbox.c
        last: datetime | None = (
            await self.conn.execute(
                select(func.max(o.created_at)).where(o.broadcast_id == broadcast_id)
            )
        ).scalar_one()
        return last

    async def ack_counts(self, broadcast_id: int) -> tuple[int, int, int, int]:
        """(acknowledged, reachable, not reachable, highest round) of a broadcast."""
        r = s.broadcast_recipients.c
        row = (
            await self.conn.execute(
                select(
                    func.count(r.acked_at),
                    func.count(r.chat_id),
                    func.count() - func.count(r.chat_id),
                    func.coalesce(func.max(r.round), 1),
                ).where(r.broadcast_id == broadcast_id)
            )
        ).one()
        return int(row[0]), int(row[1]), int(row[2]), int(row[3])

    async def unacknowledged(
        self, broadcast_id: int, offset: int, limit: int
    ) -> tuple[list[tuple[str, bool]], int]:
        """A page of (name, reachable) of those who have not acknowledged, and how many."""
        r = s.broadcast_recipients.c
        p = s.people.c
        where = and_(r.broadcast_id == broadcast_id, r.acked_at.is_(None))
        total = (
            await self.conn.execute(
                select(func.count()).select_from(s.broadcast_recipients).where(where)
            )
        ).scalar_one()
        rows = await self.conn.execute(
            select(p.name, r.chat_id)
            .select_from(s.broadcast_recipients.join(s.people, p.id == r.person_id))
            .where(where)
            .order_by(r.chat_id.is_(None), by_name(p.name, self.conn.dialect.name), p.id)
            .offset(offset)
            .limit(limit)
        )
        return [(name, chat is not None) for name, chat in rows], int(total)

    async def resend_targets(self, broadcast_id: int) -> list[tuple[Member, int]]:
        """Reachable recipients who have not acknowledged and have nothing still on the way,
        with their current round."""
        r = s.broadcast_recipients.c
        p = s.people.c
        o = s.outbox.c
        on_the_way = select(o.chat_id).where(
            and_(o.broadcast_id == broadcast_id, o.status == "pending")
        )
        rows = await self.conn.execute(
            select(r.person_id, p.name, r.chat_id, p.locale, r.round)
            .select_from(s.broadcast_recipients.join(s.people, p.id == r.person_id))
            .where(
                and_(
                    r.broadcast_id == broadcast_id,
                    r.acked_at.is_(None),
                    r.chat_id.is_not(None),
                    r.chat_id.not_in(on_the_way),
                )
            )
            .order_by(by_name(p.name, self.conn.dialect.name), p.id)
        )
        return [(Member(int(pid), n, chat, loc), int(rnd)) for pid, n, chat, loc, rnd in rows]

    async def set_rounds(self, broadcast_id: int, rounds: Sequence[tuple[int, int]]) -> None:
        """Record each (person, round) re-sent, in one batch."""
        if not rounds:
            return
        r = s.broadcast_recipients.c
        await self.conn.execute(
            update(s.broadcast_recipients)
            .where(and_(r.broadcast_id == broadcast_id, r.person_id == bindparam("b_person")))
            .values(round=bindparam("b_round")),
            [{"b_person": person, "b_round": rnd} for person, rnd in rounds],
        )

    async def acknowledged_before_sent(
        self, row_ids: Sequence[int]
    ) -> list[tuple[int, int, int, str | None]]:
        """(broadcast, chat, message id, recipient's language) of these notice rows, now sent,
        whose recipient acknowledged the notice already (on another copy, while this one was
        on its way): the copy still shows a live "收到" button."""
        o, r, p = s.outbox.c, s.broadcast_recipients.c, s.people.c
        if not row_ids:
            return []
        rows = await self.conn.execute(
            select(o.broadcast_id, o.chat_id, o.message_id, p.locale)
            .select_from(
                s.outbox.join(
                    s.broadcast_recipients,
                    and_(r.broadcast_id == o.broadcast_id, r.chat_id == o.chat_id),
                ).join(s.people, p.id == r.person_id)
            )
            .where(
                and_(
                    o.id.in_(list(row_ids)),
                    o.status == "sent",
                    o.message_id.is_not(None),
                    r.acked_at.is_not(None),
                )
            )
        )
        return [(int(b), int(c), int(m), loc) for b, c, m, loc in rows]

    async def copies(self, broadcast_id: int, chat_id: int) -> list[tuple[int, dict[str, Any]]]:
        """(message_id, payload) of the notice's messages delivered to a chat."""
        o = s.outbox.c
        rows = await self.conn.execute(
            select(o.message_id, o.payload)
            .where(
                and_(
                    o.broadcast_id == broadcast_id,
                    o.chat_id == chat_id,
                    o.status == "sent",
                    o.message_id.is_not(None),
                )
            )
            .order_by(o.id)
        )
        return [(int(mid), dict(payload)) for mid, payload in rows]

    async def sender_chat(self, broadcast_ids: Sequence[int]) -> dict[int, tuple[int, str | None]]:
        """broadcast id → (sender's chat, sender's language), for senders who joined."""
        b = s.broadcasts.c
        p = s.people.c
        result: dict[int, tuple[int, str | None]] = {}
        ids = list(broadcast_ids)
        for start in range(0, len(ids), CHUNK):
            rows = await self.conn.execute(
                select(b.id, telegram_chat(), p.locale)
                .select_from(s.broadcasts.join(with_telegram(s.people), p.id == b.sender_id))
                .where(b.id.in_(ids[start : start + CHUNK]))
            )
            for bid, chat, locale in rows:
                result[int(bid)] = (int(chat), locale)
        return result
