"""Residents' suggestions (调研提诺): stored per branch, paged in SQL, counted for statistics."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.models import Org
from bot.domain.progress_models import ItemStatus, ReportableItem
from bot.domain.suggestion_models import Suggestion, SuggestionStatus
from storage import schema as s
from storage.progress_repo import _item_query

_sg = s.suggestions


class SuggestionRepo:
    """Suggestions to a branch, newest first; counts for the statistics form."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, *, org_id: int, author_id: int, text: str, at: datetime) -> int:
        """Store a new open suggestion; its id."""
        result = await self.conn.execute(
            insert(_sg).values(
                org_id=org_id,
                author_id=author_id,
                text=text,
                status=SuggestionStatus.OPEN.value,
                created_at=at,
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    async def get(self, suggestion_id: int) -> Suggestion | None:
        """One suggestion."""
        row = (await self.conn.execute(select(_sg).where(_sg.c.id == suggestion_id))).first()
        return Suggestion.model_validate(row._mapping) if row else None

    async def page(self, org_id: int, limit: int, offset: int) -> list[Suggestion]:
        """A page of the branch's suggestions: open ones first, newest first."""
        rows = await self.conn.execute(
            select(_sg)
            .where(_sg.c.org_id == org_id)
            .order_by(
                case((_sg.c.status == SuggestionStatus.OPEN.value, 0), else_=1),
                _sg.c.created_at.desc(),
                _sg.c.id.desc(),
            )
            .limit(limit)
            .offset(offset)
        )
        return [Suggestion.model_validate(r._mapping) for r in rows]

    async def by_author(self, author_id: int, limit: int) -> list[Suggestion]:
        """A person's own suggestions, newest first."""
        rows = await self.conn.execute(
            select(_sg)
            .where(_sg.c.author_id == author_id)
            .order_by(_sg.c.created_at.desc(), _sg.c.id.desc())
            .limit(limit)
        )
        return [Suggestion.model_validate(r._mapping) for r in rows]

    async def counts(self, org_ids: Sequence[int]) -> tuple[int, int]:
        """(collected, solved) over these organisations: the statistics form's figures."""
        if not org_ids:
            return 0, 0
        row = (
            await self.conn.execute(
                select(
                    func.count(_sg.c.id),
                    func.coalesce(
                        func.sum(
                            case((_sg.c.status == SuggestionStatus.SOLVED.value, 1), else_=0)
                        ),
                        0,
                    ),
                ).where(_sg.c.org_id.in_(list(org_ids)))
            )
        ).first()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def counts_by_org(self, org_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """(collected, solved) per organisation (those with none are left out)."""
        if not org_ids:
            return {}
        rows = await self.conn.execute(
            select(
                _sg.c.org_id,
                func.count(_sg.c.id),
                func.coalesce(
                    func.sum(case((_sg.c.status == SuggestionStatus.SOLVED.value, 1), else_=0)), 0
                ),
            )
            .where(_sg.c.org_id.in_(list(org_ids)))
            .group_by(_sg.c.org_id)
        )
        return {int(org): (int(n), int(solved)) for org, n, solved in rows}

    async def link_item(self, suggestion_id: int, item_id: int | None) -> bool:
        """Name the pledge item that answers the suggestion."""
        result = await self.conn.execute(
            update(_sg).where(_sg.c.id == suggestion_id).values(item_id=item_id)
        )
        return bool(result.rowcount)

    async def solve(self, suggestion_id: int, by: int, at: datetime) -> bool:
        """Mark an open suggestion solved; False if it was not open (a double tap)."""
        result = await self.conn.execute(
            update(_sg)
            .where(and_(_sg.c.id == suggestion_id, _sg.c.status == SuggestionStatus.OPEN.value))
            .values(status=SuggestionStatus.SOLVED.value, solved_by=by, solved_at=at)
        )
        return bool(result.rowcount)

    async def children(self, parent_id: int) -> list[Org]:
        """The organisations directly below ``parent_id``, by code."""
        rows = await self.conn.execute(
            select(s.orgs).where(s.orgs.c.parent_id == parent_id).order_by(s.orgs.c.code)
        )
        return [Org.model_validate(r._mapping) for r in rows]

    async def branch_items(self, org_id: int, limit: int) -> list[ReportableItem]:
        """Items of the branch's published pledges that are not fulfilled yet come first."""
        rows = await self.conn.execute(
            _item_query()
            .where(and_(s.pledges.c.number.is_not(None), s.pledges.c.org_id == org_id))
            .order_by(
                case(
                    (
                        func.coalesce(s.item_progress.c.status, "open")
                        == ItemStatus.FULFILLED.value,
                        1,
                    ),
                    else_=0,
                ),
                s.pledges.c.id,
                s.pledge_items.c.position,
            )
            .limit(limit)
        )
        return [ReportableItem.model_validate(r._mapping) for r in rows]
