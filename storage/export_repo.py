"""Exports (公示表, 台账, 承诺书, 统计表): the reads the file builders need, in SQL.

The ledger's own queries (``LedgerRepo``) give the rows and figures; this adds what a printed
table needs beyond the chat ledger (targets, responsible persons, the latest progress, the
published text of each pledge) and the aggregates of the statistics form, grouped per branch.
Never a phone number: no query here selects one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import dates
from bot.domain.progress_models import Figures
from storage import schema as s
from storage.progress_repo import _JOINED, _figure_columns, _figures, _published, _status
from storage.secrecy import favourable_votes, is_published, valid_votes

_items = s.pledge_items
_pledges = s.pledges
_progress = s.item_progress
_entries = s.progress_entries

MEMBER_ROLES = ("member", "secretary", "committee", "leader")  # party members (not residents)


class ExportRepo:
    """Reads for exports; everything scoped by organisation, aggregated in SQL."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    # ---- organisations ------------------------------------------------------------------

    def _subtree(self, root_id: int) -> Any:
        """``root_id`` and every organisation below it (a recursive CTE, portable SQL)."""
        tree = select(s.orgs.c.id).where(s.orgs.c.id == root_id).cte("subtree", recursive=True)
        return tree.union_all(select(s.orgs.c.id).where(s.orgs.c.parent_id == tree.c.id))

    async def subtree_ids(self, root_id: int) -> list[int]:
        """``root_id`` and the ids of every organisation below it."""
        tree = self._subtree(root_id)
        return [int(i) for (i,) in await self.conn.execute(select(tree.c.id))]

    async def children(self, org_id: int, limit: int, offset: int) -> list[tuple[int, str, bool]]:
        """One page of the organisations directly below (by code): id, name, has children."""
        below = s.orgs.alias("below")
        has_children = (
            select(func.count()).select_from(below).where(below.c.parent_id == s.orgs.c.id)
        ).scalar_subquery()
        rows = await self.conn.execute(
            select(s.orgs.c.id, s.orgs.c.name, has_children.label("kids"))
            .where(s.orgs.c.parent_id == org_id)
            .order_by(s.orgs.c.code, s.orgs.c.id)
            .limit(limit)
            .offset(offset)
        )
        return [(int(r.id), str(r.name), int(r.kids or 0) > 0) for r in rows]

    async def count_children(self, org_id: int) -> int:
        """How many organisations sit directly below."""
        return int(
            (
                await self.conn.execute(
                    select(func.count()).select_from(s.orgs).where(s.orgs.c.parent_id == org_id)
                )
            ).scalar_one()
        )

    # ---- published pledges (公示表, 承诺书) -------------------------------------------------

    def _published_pledges(self) -> Select[Any]:
        return select(
            _pledges.c.id,
            _pledges.c.number,
            _pledges.c.pledger_kind,
            _pledges.c.person_id,
            _pledges.c.org_id,
            _pledges.c.drafter_id,
            _pledges.c.is_oral,
            _pledges.c.published_snapshot,
            _pledges.c.published_at,
        ).where(and_(_published(), _pledges.c.published_snapshot.is_not(None)))

    async def published_pledges(
        self,
        org_id: int,
        limit: int | None = None,
        offset: int = 0,
        person_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """Published pledges of a branch (the branch's own first, then by number).

        Each carries its ``published_snapshot``: the items as approved, never an amendment
        still under review.
        """
        query = self._published_pledges().order_by(
            case((_pledges.c.pledger_kind == "branch", 0), else_=1), _pledges.c.number
        )
        if person_id is not None:
            query = query.where(_pledges.c.person_id == person_id)
        else:
            query = query.where(_pledges.c.org_id == org_id)
        if limit is not None:
            query = query.limit(limit).offset(offset)
        return [dict(r._mapping) for r in await self.conn.execute(query)]

    async def count_published(self, org_id: int, person_id: int | None = None) -> int:
        """How many published pledges a branch (or a person) has."""
        where = (
            _pledges.c.person_id == person_id
            if person_id is not None
            else _pledges.c.org_id == org_id
        )
        return int(
            (
                await self.conn.execute(
                    select(func.count())
                    .select_from(_pledges)
                    .where(and_(_published(), _pledges.c.published_snapshot.is_not(None), where))
                )
            ).scalar_one()
        )

    async def published_pledge(
        self, *, pledge_id: int | None = None, number: str | None = None
    ) -> dict[str, Any] | None:
        """One published pledge by id or by number."""
        query = self._published_pledges()
        if pledge_id is not None:
            query = query.where(_pledges.c.id == pledge_id)
        if number is not None:
            query = query.where(_pledges.c.number == number)
        row = (await self.conn.execute(query.limit(1))).first()
        return dict(row._mapping) if row else None

    async def item_states(self, org_id: int) -> dict[int, dict[str, Any]]:
        """Status, done date and verification time of every item of the branch's pledges."""
        rows = await self.conn.execute(
            select(
                _items.c.id,
                _status.label("status"),
                _progress.c.done_on,
                _progress.c.fulfilled_at,
            )
            .select_from(_JOINED)
            .where(and_(_published(), _pledges.c.org_id == org_id))
        )
        return {int(r.id): dict(r._mapping) for r in rows}

    async def approver(self, pledge_id: int) -> str | None:
        """The name of who approved the pledge last (the 审定方's signatory)."""
        row = (
            await self.conn.execute(
                select(s.people.c.name)
                .select_from(s.reviews.join(s.people, s.people.c.id == s.reviews.c.reviewer_id))
                .where(and_(s.reviews.c.pledge_id == pledge_id, s.reviews.c.action == "approve"))
                .order_by(s.reviews.c.at.desc(), s.reviews.c.id.desc())
                .limit(1)
            )
        ).first()
        return str(row.name) if row else None

    # ---- the ledger's extra columns ------------------------------------------------------

    async def item_details(self, org_id: int) -> dict[int, dict[str, Any]]:
        """Per item of the branch: number, category, target, responsible, the verified date,
        and the latest progress entry (text and time)."""
        latest = (
            select(func.max(_entries.c.id).label("entry_id"))
            .select_from(_entries.join(_pledges, _pledges.c.id == _entries.c.pledge_id))
            .where(_pledges.c.org_id == org_id)
            .group_by(_entries.c.item_id)
            .subquery("latest")
        )
        last = (
            select(_entries.c.item_id, _entries.c.text, _entries.c.created_at)
            .where(_entries.c.id.in_(select(latest.c.entry_id)))
            .subquery("last")
        )
        rows = await self.conn.execute(
            select(
                _items.c.id,
                _pledges.c.number,
                _pledges.c.status.label("pledge_status"),
                _items.c.category,
                _items.c.target,
                _items.c.responsible,
                _progress.c.fulfilled_at,
                _progress.c.done_on,
                last.c.text.label("last_text"),
                last.c.created_at.label("last_at"),
            )
            .select_from(_JOINED.outerjoin(last, last.c.item_id == _items.c.id))
            .where(and_(_published(), _pledges.c.org_id == org_id))
        )
        return {int(r.id): dict(r._mapping) for r in rows}

    # ---- the statistics form (统计表) -----------------------------------------------------

    async def scope_totals(self, root_id: int, per_org: list[dict[str, Any]]) -> dict[str, Any]:
        """The statistics form's figures over ``root_id`` and everything below it, summed from
        ``per_org_figures``; members pledging in two organisations of the scope count once."""
        keys = (
            "branches",
            "pledging_orgs",
            "members",
            "suggestions",
            "solved",
            "evaluations",
            "subjects",
            "passed",
            "favourable",
            "votes",
            "voters",
            "hidden",
        )
        totals: dict[str, Any] = {key: sum(row[key] for row in per_org) for key in keys}
        figures = Figures()
        for row in per_org:
            figures = _add(figures, row["figures"])
        tree = self._subtree(root_id)
        totals["pledging_members"] = int(
            (
                await self.conn.execute(
                    select(func.count(func.distinct(_pledges.c.person_id))).where(
                        and_(
                            _published(),
                            _pledges.c.pledger_kind == "member",
                            _pledges.c.org_id.in_(select(tree.c.id)),
                        )
                    )
                )
            ).scalar_one()
        )
        totals["figures"] = figures
        return totals

    async def per_org_figures(self, root_id: int, today: date) -> list[dict[str, Any]]:
        """The statistics form's figures per organisation of the subtree (by code).

        Each figure is one grouped query over the whole subtree, so a district of a thousand
        branches costs a handful of queries, not a thousand.
        """
        tree = self._subtree(root_id)
        in_tree = select(tree.c.id)
        orgs_q = (
            select(s.orgs.c.id, s.orgs.c.code, s.orgs.c.name, s.orgs.c.type)
            .where(s.orgs.c.id.in_(in_tree))
            .order_by(s.orgs.c.code, s.orgs.c.id)
        )
        orgs = [dict(r._mapping) for r in await self.conn.execute(orgs_q)]

        async def grouped(query: Select[Any]) -> dict[int, Any]:
            return {int(r[0]): r for r in await self.conn.execute(query)}

        members = await grouped(
            select(s.people.c.org_id, func.count())
            .where(and_(s.people.c.org_id.in_(in_tree), s.people.c.role.in_(MEMBER_ROLES)))
            .group_by(s.people.c.org_id)
        )
        pledging = await grouped(
            select(
                _pledges.c.org_id,
                func.count(func.distinct(_pledges.c.person_id)),
                func.coalesce(
                    func.sum(case((_pledges.c.pledger_kind == "branch", 1), else_=0)), 0
                ),
            )
            .where(and_(_published(), _pledges.c.org_id.in_(in_tree)))
            .group_by(_pledges.c.org_id)
        )
        items = await grouped(
            select(_pledges.c.org_id, *_figure_columns(today))
            .select_from(_JOINED)
            .where(and_(_published(), _pledges.c.org_id.in_(in_tree)))
            .group_by(_pledges.c.org_id)
        )
        sug = s.suggestions
        suggestions = await grouped(
            select(
                sug.c.org_id,
                func.count(),
                func.coalesce(func.sum(case((sug.c.status == "solved", 1), else_=0)), 0),
            )
            .where(sug.c.org_id.in_(in_tree))
            .group_by(sug.c.org_id)
        )
        ev = s.evaluations
        held = await grouped(
            select(ev.c.org_id, func.count(), func.coalesce(func.sum(ev.c.valid_voters), 0))
            .where(and_(ev.c.org_id.in_(in_tree), ev.c.status == "closed"))
            .group_by(ev.c.org_id)
        )
        subj = s.evaluation_subjects
        published = is_published(subj)
        # Only published subjects (≥ 5 votes) enter a sum: a hidden tally must not be
        # recoverable as this total minus the per-subject results the secretary already has.
        tallies = await grouped(
            select(
                ev.c.org_id,
                _count_if(published),
                _count_if(and_(published, subj.c.passed.is_(True))),
                func.coalesce(func.sum(case((published, favourable_votes(subj)), else_=0)), 0),
                func.coalesce(func.sum(case((published, valid_votes(subj)), else_=0)), 0),
                _count_if(~published),
            )
            .select_from(subj.join(ev, ev.c.id == subj.c.evaluation_id))
            .where(and_(ev.c.org_id.in_(in_tree), ev.c.status == "closed"))
            .group_by(ev.c.org_id)
        )
        result = []
        for org in orgs:
            oid = int(org["id"])
            p = pledging.get(oid)
            sg = suggestions.get(oid)
            h = held.get(oid)
            tl = tallies.get(oid)
            result.append(
                {
                    **org,
                    "branches": 0 if org["type"] == "committee" else 1,
                    "pledging_orgs": 1 if p and int(p[2]) > 0 else 0,
                    "members": int(members[oid][1]) if oid in members else 0,
                    "pledging_members": int(p[1]) if p else 0,
                    "figures": _figures(items.get(oid)),
                    "suggestions": int(sg[1]) if sg else 0,
                    "solved": int(sg[2]) if sg else 0,
                    "evaluations": int(h[1]) if h else 0,
                    "voters": int(h[2] or 0) if h else 0,
                    "subjects": int(tl[1]) if tl else 0,
                    "passed": int(tl[2]) if tl else 0,
                    "favourable": int(tl[3]) if tl else 0,
                    "votes": int(tl[4]) if tl else 0,
                    "hidden": int(tl[5]) if tl else 0,
                }
            )
        return result

    async def org_codes(self, codes: Sequence[str]) -> dict[str, int]:
        """Organisation ids by code (for the command line)."""
        rows = await self.conn.execute(
            select(s.orgs.c.code, s.orgs.c.id).where(s.orgs.c.code.in_(list(codes)))
        )
        return {str(c): int(i) for c, i in rows}

    async def names(self, person_ids: Sequence[int]) -> dict[int, str]:
        """Names by person id (never phones)."""
        if not person_ids:
            return {}
        rows = await self.conn.execute(
            select(s.people.c.id, s.people.c.name).where(s.people.c.id.in_(list(person_ids)))
        )
        return {int(i): str(n) for i, n in rows}

    async def posts(self, person_ids: Sequence[int]) -> dict[int, str]:
        """The post and duty (设岗定责) of these people, where they have one."""
        if not person_ids:
            return {}
        rows = await self.conn.execute(
            select(s.people.c.id, s.people.c.post).where(
                and_(s.people.c.id.in_(list(person_ids)), s.people.c.post.is_not(None))
            )
        )
        return {int(i): str(p) for i, p in rows if p}


def _count_if(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _add(a: Figures, b: Figures) -> Figures:
    return Figures(
        items=a.items + b.items,
        fulfilled=a.fulfilled + b.fulfilled,
        on_time=a.on_time + b.on_time,
        overdue=a.overdue + b.overdue,
        claimed=a.claimed + b.claimed,
    )


def local_date(moment: datetime | None, tz: Any) -> date | None:
    """A stored UTC moment as the local date (None stays None)."""
    return dates.local_date(moment, tz) if moment is not None else None
