"""Queries of the reminder tick: due items, who to tell, which reminders were already queued."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import schema as s
from storage.accounts import telegram_chat, with_telegram
from storage.bulk import insert_rows
from storage.pace import paced

KEY_CHUNK = 500  # keeps IN (...) lists well under every engine's parameter limit


@dataclass(frozen=True)
class DueItem:
    """An unfulfilled item of a published pledge, with who pledged it."""

    item_id: int
    content: str
    deadline: date
    pledge_id: int
    org_id: int
    person_id: int | None  # None for a branch pledge
    recorder_id: int | None = None  # who recorded an oral pledge for its member
    pledger: str = ""  # the member's name (a branch pledge: "")


@dataclass(frozen=True)
class Recipient:
    """A bound person the tick may write to."""

    person_id: int
    tg_user_id: int
    locale: str | None
    org_id: int
    role: str
    name: str


class ReminderRepo:
    """Everything the reminder tick reads and the log it writes."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def open_items_due_by(self, until: date, today: date) -> list[DueItem]:
        """Unfulfilled items of published pledges due by ``until`` whose watermark is reached."""
        progress = s.item_progress
        query = (
            select(
                s.pledge_items.c.id,
                s.pledge_items.c.content,
                s.pledge_items.c.deadline,
                s.pledges.c.id,
                s.pledges.c.org_id,
                s.pledges.c.person_id,
                case((s.pledges.c.is_oral, s.pledges.c.drafter_id), else_=None),
                func.coalesce(s.people.c.name, ""),
            )
            .select_from(
                s.pledge_items.join(s.pledges, s.pledges.c.id == s.pledge_items.c.pledge_id)
                .outerjoin(progress, progress.c.item_id == s.pledge_items.c.id)
                .outerjoin(s.people, s.people.c.id == s.pledges.c.person_id)
            )
            .where(
                and_(
                    s.pledge_items.c.deadline <= until,
                    or_(
                        s.pledge_items.c.remind_from.is_(None),
                        s.pledge_items.c.remind_from <= today,
                    ),
                    s.pledges.c.number.is_not(None),
                    or_(progress.c.status.is_(None), progress.c.status != "fulfilled"),
                )
            )
        )
        rows = await self.conn.execute(query)
        return [DueItem(*row) async for row in paced(rows)]  # a district: tens of thousands

    async def advance_watermarks(self, day: date, item_ids: Sequence[int]) -> None:
        """Set these items' next reminder day (one statement a KEY_CHUNK of items: an
        executemany converts every parameter set in Python on the event loop)."""
        items = s.pledge_items.c
        for start in range(0, len(item_ids), KEY_CHUNK):
            await self.conn.execute(
                update(s.pledge_items)
                .where(items.id.in_(list(item_ids[start : start + KEY_CHUNK])))
                .values(remind_from=day)
            )

    async def already_queued(self, keys: Iterable[str]) -> set[str]:
        """Which of these reminder keys were queued before."""
        found: set[str] = set()
        key_list = list(keys)
        for start in range(0, len(key_list), KEY_CHUNK):
            chunk = key_list[start : start + KEY_CHUNK]
            rows = await self.conn.execute(
                select(s.reminder_log.c.key).where(s.reminder_log.c.key.in_(chunk))
            )
            found.update(key for (key,) in rows)
        return found

    async def record(self, rows: Sequence[dict[str, Any]]) -> None:
        """Remember reminders as queued (in the same transaction as their outbox rows)."""
        await insert_rows(self.conn, s.reminder_log, rows)

    async def recipients(
        self, *, roles: Iterable[str] | None = None, org_ids: Iterable[int] | None = None
    ) -> list[Recipient]:
        """Bound people, optionally of some roles and organisations."""
        p = s.people
        query = select(
            p.c.id, telegram_chat(), p.c.locale, p.c.org_id, p.c.role, p.c.name
        ).select_from(with_telegram(p))
        if roles is not None:
            query = query.where(p.c.role.in_(list(roles)))
        if org_ids is not None:
            query = query.where(p.c.org_id.in_(list(org_ids)))
        rows = await self.conn.execute(query.order_by(p.c.id))
        return [Recipient(*row) async for row in paced(rows)]

    async def people(self, ids: Iterable[int]) -> dict[int, Recipient]:
        """Bound people by id."""
        id_list = list(set(ids))
        result: dict[int, Recipient] = {}
        p = s.people
        for start in range(0, len(id_list), KEY_CHUNK):
            rows = await self.conn.execute(
                select(p.c.id, telegram_chat(), p.c.locale, p.c.org_id, p.c.role, p.c.name)
                .select_from(with_telegram(p))
                .where(p.c.id.in_(id_list[start : start + KEY_CHUNK]))
            )
            result.update({row[0]: Recipient(*row) for row in rows})
        return result

    async def muted(self) -> set[int]:
        """People who muted non-essential reminders."""
        rows = await self.conn.execute(
            select(s.reminder_prefs.c.person_id).where(s.reminder_prefs.c.muted.is_(True))
        )
        return {pid for (pid,) in rows}

    async def set_muted(self, person_id: int, muted: bool) -> None:
        """Mute or unmute non-essential reminders for a person."""
        await self.conn.execute(
            delete(s.reminder_prefs).where(s.reminder_prefs.c.person_id == person_id)
        )
        await self.conn.execute(insert(s.reminder_prefs).values(person_id=person_id, muted=muted))

    async def pledgers_with_open_items(self) -> dict[int, int]:
        """Members with unfulfilled items of published pledges: person id → org id."""
        progress = s.item_progress
        rows = await self.conn.execute(
            select(s.pledges.c.person_id, s.pledges.c.org_id)
            .select_from(
                s.pledge_items.join(
                    s.pledges, s.pledges.c.id == s.pledge_items.c.pledge_id
                ).outerjoin(progress, progress.c.item_id == s.pledge_items.c.id)
            )
            .where(
                and_(
                    s.pledges.c.person_id.is_not(None),
                    s.pledges.c.number.is_not(None),
                    or_(progress.c.status.is_(None), progress.c.status != "fulfilled"),
                )
            )
            .distinct()
        )
        return {int(pid): int(oid) async for pid, oid in paced(rows)}

    async def pledgers_reported_in_month(self, month: str) -> set[int]:
        """Members with progress recorded on their pledges in a month (YYYY-MM), whoever
        recorded it (the member, or the secretary who recorded his oral pledge)."""
        entries = s.progress_entries
        rows = await self.conn.execute(
            select(s.pledges.c.person_id)
            .select_from(entries.join(s.pledges, s.pledges.c.id == entries.c.pledge_id))
            .where(and_(entries.c.month == month, s.pledges.c.person_id.is_not(None)))
            .distinct()
        )
        return {pid async for (pid,) in paced(rows)}

    async def branch_figures(self) -> dict[int, tuple[int, int]]:
        """Per organisation: (items of published pledges, items fulfilled)."""
        progress = s.item_progress
        fulfilled = func.sum(case((progress.c.status == "fulfilled", 1), else_=0))
        rows = await self.conn.execute(
            select(s.pledges.c.org_id, func.count(s.pledge_items.c.id), fulfilled)
            .select_from(
                s.pledge_items.join(
                    s.pledges, s.pledges.c.id == s.pledge_items.c.pledge_id
                ).outerjoin(progress, progress.c.item_id == s.pledge_items.c.id)
            )
            .where(s.pledges.c.number.is_not(None))
            .group_by(s.pledges.c.org_id)
        )
        return {int(org): (int(total), int(done or 0)) for org, total, done in rows}

    async def boards(self) -> list[tuple[int, str, int]]:
        """(org id, name, board chat) of every organisation with a board."""
        rows = await self.conn.execute(
            select(s.orgs.c.id, s.orgs.c.name, s.orgs.c.board_chat_id).where(
                s.orgs.c.board_chat_id.is_not(None)
            )
        )
        return [(int(a), str(b), int(c)) for a, b, c in rows]


def log_row(key: str, person_id: int | None, at: datetime) -> dict[str, Any]:
    """A reminder_log row."""
    return {"key": key, "person_id": person_id, "queued_at": at}
