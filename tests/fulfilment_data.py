"""Bulk data for fulfilment tests: published pledges with many items, inserted in batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select

from storage import schema as s
from storage.db import Database


@dataclass
class PublishedPledge:
    """A published pledge to insert: a member's (person_id) or the branch's (None)."""

    org_id: int
    number: str
    person_id: int | None
    drafter_id: int
    items: Sequence[tuple[str, date]]
    item_ids: list[int] = field(default_factory=list)


async def insert_published(db: Database, pledges: Sequence[PublishedPledge], at: datetime) -> None:
    """Insert published pledges and their items (two executemany); fills ``item_ids``."""
    async with db.engine.begin() as conn:
        await conn.execute(
            insert(s.pledges),
            [
                {
                    "number": p.number,
                    "pledger_kind": "member" if p.person_id is not None else "branch",
                    "person_id": p.person_id,
                    "org_id": p.org_id,
                    "drafter_id": p.drafter_id,
                    "horizon": "annual",
                    "status": "published",
                    "is_oral": False,
                    "version": 2,
                    "published_snapshot": {"items": []},
                    "created_at": at,
                    "updated_at": at,
                    "published_at": at,
                }
                for p in pledges
            ],
        )
        ids = dict(
            (
                await conn.execute(
                    select(s.pledges.c.number, s.pledges.c.id).where(
                        s.pledges.c.number.in_([p.number for p in pledges])
                    )
                )
            ).all()
        )
        rows: list[dict[str, Any]] = []
        for p in pledges:
            for position, (content, deadline) in enumerate(p.items, start=1):
                rows.append(
                    {
                        "pledge_id": ids[p.number],
                        "position": position,
                        "category": "serve" if p.person_id is not None else "performance",
                        "content": content,
                        "target": f"{content}的目标",
                        "deadline": deadline,
                        "responsible": "本人",
                    }
                )
        await conn.execute(insert(s.pledge_items), rows)
        found = await conn.execute(
            select(s.pledge_items.c.pledge_id, s.pledge_items.c.id)
            .where(s.pledge_items.c.pledge_id.in_(list(ids.values())))
            .order_by(s.pledge_items.c.pledge_id, s.pledge_items.c.position)
        )
        by_pledge: dict[int, list[int]] = {}
        for pledge_id, item_id in found:
            by_pledge.setdefault(pledge_id, []).append(item_id)
        for p in pledges:
            p.item_ids = by_pledge.get(ids[p.number], [])


async def set_progress(db: Database, rows: Sequence[dict[str, Any]]) -> None:
    """Bulk item_progress rows (item_id, status, and optionally dates)."""
    if rows:
        keys = {key for row in rows for key in row}  # executemany wants the same keys
        async with db.engine.begin() as conn:
            await conn.execute(
                insert(s.item_progress), [{k: row.get(k) for k in keys} for row in rows]
            )
