"""Read-only queries of the public web board (网上晒).

Only what may be public is ever selected: published pledges (numbered, with their published
snapshot), item statuses, per-branch counts, and the aggregates of closed evaluations. No
query here reads a phone number, a draft, a participant list or a ballot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.models import Org
from bot.domain.progress_models import BranchFigures, DistrictTotals, Figures, ItemProgress
from storage import schema as s
from storage.progress_repo import LedgerRepo
from storage.secrecy import MIN_PUBLISHED_VOTES

MIN_VOTES = MIN_PUBLISHED_VOTES  # a subject's result is shown only from this many votes


@dataclass(frozen=True)
class PublicPledge:
    """A published pledge as it was published."""

    id: int
    number: str
    snapshot: dict[str, Any]
    published_at: datetime | None


@dataclass(frozen=True)
class SubjectResult:
    """One subject's tally of a closed evaluation (aggregates only)."""

    name: str
    is_branch: bool
    satisfied: int
    basic: int
    unsatisfied: int
    rate_permille: int | None
    passed: bool | None

    @property
    def votes(self) -> int:
        """Valid votes counted for this subject."""
        return self.satisfied + self.basic + self.unsatisfied


@dataclass(frozen=True)
class EvaluationResult:
    """A closed evaluation with the subjects that may be shown."""

    id: int
    closed_at: datetime | None
    valid_voters: int | None
    subjects: list[SubjectResult] = field(default_factory=list)


def _published() -> Any:
    return and_(s.pledges.c.number.is_not(None), s.pledges.c.published_snapshot.is_not(None))


class PublicBoardRepo:
    """What the web board shows; every method is a read."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.ledger = LedgerRepo(conn)

    async def orgs(self) -> list[Org]:
        """Every organisation, by code (the tree is built by the caller)."""
        rows = await self.conn.execute(select(s.orgs).order_by(s.orgs.c.code))
        return [Org.model_validate(r._mapping) for r in rows]

    async def org(self, code: str) -> Org | None:
        """The organisation with this code."""
        row = (await self.conn.execute(select(s.orgs).where(s.orgs.c.code == code))).first()
        return Org.model_validate(row._mapping) if row else None

    async def org_by_id(self, org_id: int) -> Org | None:
        """The organisation with this id."""
        row = (await self.conn.execute(select(s.orgs).where(s.orgs.c.id == org_id))).first()
        return Org.model_validate(row._mapping) if row else None

    async def pledge_count(self, org_ids: Sequence[int]) -> dict[int, int]:
        """Published pledges per organisation."""
        if not org_ids:
            return {}
        rows = await self.conn.execute(
            select(s.pledges.c.org_id, func.count(s.pledges.c.id))
            .where(and_(_published(), s.pledges.c.org_id.in_(list(org_ids))))
            .group_by(s.pledges.c.org_id)
        )
        return {int(o): int(n) for o, n in rows}

    async def scope_pledge_count(self, root_id: int) -> int:
        """Published pledges of every organisation below a committee."""
        ids = await self.ledger.scope_ids(root_id)
        return sum((await self.pledge_count(ids)).values()) if ids else 0

    async def branch_figures(self, org_id: int, today: date) -> Figures:
        """Items, fulfilled, overdue of the branch's published pledges."""
        return await self.ledger.branch_figures(org_id, today)

    async def district_totals(self, root_id: int, today: date) -> DistrictTotals:
        """The committee's totals."""
        return await self.ledger.district_totals(root_id, today)

    async def district_branches(
        self, root_id: int, today: date, limit: int, offset: int
    ) -> list[BranchFigures]:
        """A page of the branches below a committee with their counts."""
        return await self.ledger.district_branches(root_id, today, limit, offset)

    async def pledges(self, org_id: int, limit: int, offset: int) -> list[PublicPledge]:
        """A page of the branch's published pledges, by number."""
        rows = await self.conn.execute(
            select(
                s.pledges.c.id,
                s.pledges.c.number,
                s.pledges.c.published_snapshot,
                s.pledges.c.published_at,
            )
            .where(and_(_published(), s.pledges.c.org_id == org_id))
            .order_by(s.pledges.c.number, s.pledges.c.id)
            .limit(limit)
            .offset(offset)
        )
        return [
            PublicPledge(int(r.id), str(r.number), dict(r.published_snapshot), r.published_at)
            for r in rows
        ]

    async def item_progress(self, item_ids: Sequence[int]) -> dict[int, ItemProgress]:
        """The status and last progress of these items (missing: open, no progress)."""
        if not item_ids:
            return {}
        rows = await self.conn.execute(
            select(
                s.item_progress.c.item_id,
                s.item_progress.c.status,
                s.item_progress.c.last_progress_at,
                s.item_progress.c.fulfilled_at,
            ).where(s.item_progress.c.item_id.in_(list(item_ids)))
        )
        return {int(r.item_id): ItemProgress.model_validate(r._mapping) for r in rows}

    async def evaluations(self, org_id: int, limit: int = 3) -> list[EvaluationResult]:
        """The latest closed evaluations of the branch with subjects of ≥ MIN_VOTES votes."""
        ev = s.evaluations
        rows = list(
            await self.conn.execute(
                select(ev.c.id, ev.c.closed_at, ev.c.valid_voters)
                .where(and_(ev.c.org_id == org_id, ev.c.status == "closed"))
                .order_by(ev.c.closed_at.desc(), ev.c.id.desc())
                .limit(limit)
            )
        )
        if not rows:
            return []
        sub = s.evaluation_subjects
        subjects = await self.conn.execute(
            select(
                sub.c.evaluation_id,
                sub.c.position,
                sub.c.person_id,
                s.people.c.name.label("person_name"),
                s.orgs.c.name.label("org_name"),
                sub.c.satisfied,
                sub.c.basic,
                sub.c.unsatisfied,
                sub.c.rate_permille,
                sub.c.passed,
            )
            .select_from(
                sub.outerjoin(s.people, s.people.c.id == sub.c.person_id).join(
                    s.orgs, s.orgs.c.id == sub.c.org_id
                )
            )
            .where(sub.c.evaluation_id.in_([int(r.id) for r in rows]))
            .order_by(sub.c.evaluation_id, sub.c.position)
        )
        per_eval: dict[int, list[SubjectResult]] = {}
        for r in subjects:
            result = SubjectResult(
                name=str(r.person_name if r.person_id is not None else r.org_name),
                is_branch=r.person_id is None,
                satisfied=int(r.satisfied or 0),
                basic=int(r.basic or 0),
                unsatisfied=int(r.unsatisfied or 0),
                rate_permille=r.rate_permille,
                passed=r.passed,
            )
            if result.votes >= MIN_VOTES:
                per_eval.setdefault(int(r.evaluation_id), []).append(result)
        return [
            EvaluationResult(int(r.id), r.closed_at, r.valid_voters, per_eval.get(int(r.id), []))
            for r in rows
            if per_eval.get(int(r.id))
        ]
