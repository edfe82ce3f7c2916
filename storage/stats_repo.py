"""Statistics for the charts of /stats: aggregates in SQL, grouped by the database.

A committee may cover 1,376 branches and tens of thousands of items: every method here is one
grouped query over a scope (an organisation and everything below it), never a loop per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.models import Org
from bot.domain.progress_models import ItemStatus
from bot.domain.stats_models import EvaluationResult, PledgerFulfilment, StatusCounts
from storage import schema as s
from storage.ordering import by_name

_items = s.pledge_items
_pledges = s.pledges
_progress = s.item_progress
_entries = s.progress_entries
_orgs = s.orgs

# An item with no item_progress row yet is open (as in the ledger).
_status = func.coalesce(_progress.c.status, ItemStatus.OPEN.value)
_JOINED = _items.join(_pledges, _pledges.c.id == _items.c.pledge_id).outerjoin(
    _progress, _progress.c.item_id == _items.c.id
)
# Items count once their pledge was published (numbered), as in the ledger.
_PUBLISHED = _pledges.c.number.is_not(None)


def _sum(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


class StatsRepo:
    """Aggregates over one organisation and everything below it."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    @staticmethod
    def _scope(root_id: int) -> Any:
        """The organisation and every organisation below it (recursive CTE, portable SQL)."""
        tree = select(_orgs.c.id).where(_orgs.c.id == root_id).cte("stats_scope", recursive=True)
        return tree.union_all(select(_orgs.c.id).where(_orgs.c.parent_id == tree.c.id))

    async def in_scope(self, root_id: int, org_id: int) -> bool:
        """Whether ``org_id`` is ``root_id`` or lies below it."""
        scope = self._scope(root_id)
        found = await self.conn.execute(select(scope.c.id).where(scope.c.id == org_id).limit(1))
        return found.first() is not None

    async def find_in_scope(self, root_id: int, text: str, limit: int) -> tuple[int, list[Org]]:
        """Organisations below ``root_id`` whose code is ``text`` or whose name contains it:
        how many, and the first ``limit`` by code. ``%`` and ``_`` match only themselves."""
        scope = self._scope(root_id)
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        match = and_(
            _orgs.c.id.in_(select(scope.c.id)),
            _orgs.c.id != root_id,
            or_(_orgs.c.code == text, _orgs.c.name.like(f"%{escaped}%", escape="\\")),
        )
        total = (
            await self.conn.execute(select(func.count()).select_from(_orgs).where(match))
        ).scalar_one()
        rows = await self.conn.execute(
            select(_orgs).where(match).order_by(_orgs.c.code, _orgs.c.id).limit(limit)
        )
        return int(total), [Org.model_validate(r._mapping) for r in rows]

    async def status_counts(self, root_id: int, today: date) -> StatusCounts:
        """Published items by status: fulfilled, claimed (waiting to be verified), overdue
        (open past its deadline) and in progress (open, deadline not passed)."""
        scope = self._scope(root_id)
        fulfilled = _status == ItemStatus.FULFILLED.value
        claimed = _status == ItemStatus.CLAIMED.value
        is_open = and_(~fulfilled, ~claimed)
        row = (
            await self.conn.execute(
                select(
                    _sum(fulfilled).label("fulfilled"),
                    _sum(claimed).label("claimed"),
                    _sum(and_(is_open, _items.c.deadline < today)).label("overdue"),
                    _sum(and_(is_open, _items.c.deadline >= today)).label("in_progress"),
                )
                .select_from(_JOINED)
                .where(and_(_PUBLISHED, _pledges.c.org_id.in_(select(scope.c.id))))
            )
        ).one()
        return StatusCounts.model_validate(row._mapping)

    async def fulfilment_by_branch(self, root_id: int) -> list[PledgerFulfilment]:
        """Every branch below the committee (not committees), with its fulfilled and total
        published items; branches without items come with zeros."""
        scope = self._scope(root_id)
        per_org = (
            select(
                _pledges.c.org_id.label("org_id"),
                func.count(_items.c.id).label("total"),
                _sum(_status == ItemStatus.FULFILLED.value).label("fulfilled"),
            )
            .select_from(_JOINED)
            .where(and_(_PUBLISHED, _pledges.c.org_id.in_(select(scope.c.id))))
            .group_by(_pledges.c.org_id)
            .subquery("per_org")
        )
        rows = await self.conn.execute(
            select(
                _orgs.c.name,
                func.coalesce(per_org.c.fulfilled, 0).label("fulfilled"),
                func.coalesce(per_org.c.total, 0).label("total"),
            )
            .select_from(_orgs.outerjoin(per_org, per_org.c.org_id == _orgs.c.id))
            .where(and_(_orgs.c.id.in_(select(scope.c.id)), _orgs.c.type != "committee"))
            .order_by(_orgs.c.code, _orgs.c.id)
        )
        return [PledgerFulfilment.model_validate(r._mapping) for r in rows]

    async def fulfilment_by_pledger(self, org_id: int) -> list[PledgerFulfilment]:
        """Each pledger of a branch (the branch's own pledge under the branch's name, each
        member under theirs) with fulfilled and total published items."""
        name = case(
            (_pledges.c.pledger_kind == "branch", _orgs.c.name),
            else_=func.coalesce(s.people.c.name, literal("?")),
        )
        rows = await self.conn.execute(
            select(
                name.label("name"),
                _sum(_status == ItemStatus.FULFILLED.value).label("fulfilled"),
                func.count(_items.c.id).label("total"),
            )
            .select_from(
                _JOINED.join(_orgs, _orgs.c.id == _pledges.c.org_id).outerjoin(
                    s.people, s.people.c.id == _pledges.c.person_id
                )
            )
            .where(and_(_PUBLISHED, _pledges.c.org_id == org_id))
            .group_by(_pledges.c.pledger_kind, _pledges.c.person_id, name)
            .order_by(by_name(name, self.conn.dialect.name))
        )
        return [PledgerFulfilment.model_validate(r._mapping) for r in rows]

    async def entries_per_month(self, root_id: int, months: Sequence[str]) -> dict[str, int]:
        """Progress entries per month (``YYYY-MM``) among ``months``; months without any are
        absent. Uses the (org_id, month) index."""
        scope = self._scope(root_id)
        rows = await self.conn.execute(
            select(_entries.c.month, func.count())
            .where(
                and_(
                    _entries.c.org_id.in_(select(scope.c.id)),
                    _entries.c.month.in_(list(months)),
                )
            )
            .group_by(_entries.c.month)
        )
        return {str(month): int(count) for month, count in rows}

    async def closed_evaluations(
        self, root_id: int, min_votes: int, limit: int
    ) -> list[EvaluationResult]:
        """The latest closed evaluations in scope, newest first: per evaluation the sums of
        (满意 + 基本满意) and of valid votes over its subjects with at least ``min_votes``
        votes (subjects with fewer stay secret and are left out entirely)."""
        scope = self._scope(root_id)
        ev = s.evaluations
        sub = s.evaluation_subjects
        votes = (
            func.coalesce(sub.c.satisfied, 0)
            + func.coalesce(sub.c.basic, 0)
            + func.coalesce(sub.c.unsatisfied, 0)
        )
        counted = votes >= min_votes
        good = func.coalesce(sub.c.satisfied, 0) + func.coalesce(sub.c.basic, 0)
        rows = await self.conn.execute(
            select(
                ev.c.id.label("evaluation_id"),
                _orgs.c.name.label("org_name"),
                ev.c.subject_kind,
                ev.c.closed_at,
                func.coalesce(func.sum(case((counted, good), else_=0)), 0).label("good"),
                func.coalesce(func.sum(case((counted, votes), else_=0)), 0).label("votes"),
            )
            .select_from(
                ev.join(sub, sub.c.evaluation_id == ev.c.id).join(_orgs, _orgs.c.id == ev.c.org_id)
            )
            .where(and_(ev.c.status == "closed", ev.c.org_id.in_(select(scope.c.id))))
            .group_by(ev.c.id, _orgs.c.name, ev.c.subject_kind, ev.c.closed_at)
            .order_by(ev.c.closed_at.desc(), ev.c.id.desc())
            .limit(limit)
        )
        return [EvaluationResult.model_validate(r._mapping) for r in rows]

    async def closed_evaluation_count(self, root_id: int) -> int:
        """How many closed evaluations the scope has (for the 'earlier ones' note)."""
        scope = self._scope(root_id)
        ev = s.evaluations
        found = await self.conn.execute(
            select(func.count())
            .select_from(ev)
            .where(and_(ev.c.status == "closed", ev.c.org_id.in_(select(scope.c.id))))
        )
        return int(found.scalar_one())
