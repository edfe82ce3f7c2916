"""Leader review (领导点评) storage: liaison links, reviews and their statements, the figures a
reviewer is shown, item rectification deadlines (责令限期整改) and the cadence queries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.progress_models import ItemStatus
from storage import schema as s
from storage.ordering import by_name

_items = s.pledge_items
_pledges = s.pledges
_progress = s.item_progress
_reviews = s.leader_reviews
_status = func.coalesce(_progress.c.status, ItemStatus.OPEN.value)
_JOINED = _items.join(_pledges, _pledges.c.id == _items.c.pledge_id).outerjoin(
    _progress, _progress.c.item_id == _items.c.id
)


@dataclass(frozen=True)
class LeaderReview:
    """One leader review as stored."""

    id: int
    reviewer_id: int
    subject_kind: str  # member | branch
    subject_person_id: int | None
    subject_org_id: int
    period: str
    grade: str
    comment: str
    rectify_points: str | None
    published: bool
    response: str | None
    responded_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class SubjectFigures:
    """What a reviewer sees before grading: the items of the subject's published pledges."""

    items: int = 0
    fulfilled: int = 0
    overdue: int = 0
    last_progress_at: datetime | None = None


@dataclass(frozen=True)
class OpenItem:
    """An unfulfilled item past its deadline (a candidate for a rectification deadline)."""

    item_id: int
    content: str
    deadline: date
    rectify_by: date | None


@dataclass(frozen=True)
class RectifyItem:
    """An unfulfilled item with a rectification deadline, for the reminder tick."""

    item_id: int
    content: str
    rectify_by: date
    org_id: int
    person_id: int | None


def _review(row: Any) -> LeaderReview:
    m = row._mapping
    return LeaderReview(**{k: m[k] for k in LeaderReview.__dataclass_fields__})


def _subject_filter(kind: str, person_id: int | None, org_id: int) -> Any:
    """The published items a review of this subject looks at: a member's own, or, for a
    branch, every item pledged in it (its own pledge and its members'), as the ledger, the
    board, the exports and the rankings count a branch's items."""
    if kind == "member":
        return and_(_pledges.c.pledger_kind == "member", _pledges.c.person_id == person_id)
    return _pledges.c.org_id == org_id


class LeaderReviewRepo:
    """Everything leader reviews read and write."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    # ---- liaison links ------------------------------------------------------------------

    async def link(self, person_id: int, org_ids: Iterable[int]) -> int:
        """Link a liaison leader to branches (links already there are kept); returns added."""
        wanted = set(org_ids)
        have = set(await self.linked_orgs(person_id))
        rows = [{"person_id": person_id, "org_id": o} for o in sorted(wanted - have)]
        if rows:
            await self.conn.execute(insert(s.leader_links), rows)
        return len(rows)

    async def set_links(self, links: dict[int, list[int]]) -> None:
        """Make each leader's links exactly these branches (a roster re-import), in a batch."""
        if not links:
            return
        await self.conn.execute(
            delete(s.leader_links).where(s.leader_links.c.person_id.in_(list(links)))
        )
        rows = [{"person_id": p, "org_id": o} for p, orgs in links.items() for o in set(orgs)]
        if rows:
            await self.conn.execute(insert(s.leader_links), rows)

    async def unlink(self, person_id: int, org_ids: Iterable[int]) -> None:
        """Remove links."""
        await self.conn.execute(
            delete(s.leader_links).where(
                and_(
                    s.leader_links.c.person_id == person_id,
                    s.leader_links.c.org_id.in_(list(org_ids)),
                )
            )
        )

    async def linked_orgs(self, person_id: int) -> list[int]:
        """The branches a liaison leader is linked to."""
        rows = await self.conn.execute(
            select(s.leader_links.c.org_id)
            .where(s.leader_links.c.person_id == person_id)
            .order_by(s.leader_links.c.org_id)
        )
        return [int(o) for (o,) in rows]

    async def all_links(self) -> dict[int, list[int]]:
        """Every liaison leader → linked branches."""
        result: dict[int, list[int]] = {}
        for pid, oid in await self.conn.execute(select(s.leader_links)):
            result.setdefault(int(pid), []).append(int(oid))
        return result

    # ---- reviews ------------------------------------------------------------------------

    async def add(self, **values: Any) -> int:
        """Store a review; returns its id."""
        result = await self.conn.execute(insert(_reviews).values(**values))
        pk = result.inserted_primary_key
        assert pk is not None
        return int(pk[0])

    async def get(self, review_id: int) -> LeaderReview | None:
        """One review."""
        row = (await self.conn.execute(select(_reviews).where(_reviews.c.id == review_id))).first()
        return _review(row) if row else None

    async def respond(self, review_id: int, text: str, at: datetime) -> bool:
        """Keep the rectification statement, once; False if one was given already."""
        result = await self.conn.execute(
            update(_reviews)
            .where(and_(_reviews.c.id == review_id, _reviews.c.response.is_(None)))
            .values(response=text, responded_at=at)
        )
        return result.rowcount == 1

    async def given(self, reviewer_id: int, limit: int) -> list[LeaderReview]:
        """Reviews this person gave, newest first."""
        rows = await self.conn.execute(
            select(_reviews)
            .where(_reviews.c.reviewer_id == reviewer_id)
            .order_by(_reviews.c.created_at.desc(), _reviews.c.id.desc())
            .limit(limit)
        )
        return [_review(r) for r in rows]

    async def received(
        self, person_id: int, branch_ids: Sequence[int], limit: int
    ) -> list[LeaderReview]:
        """Reviews of this member, and of the branches they answer for, newest first."""
        cond = and_(_reviews.c.subject_kind == "member", _reviews.c.subject_person_id == person_id)
        if branch_ids:
            cond = or_(
                cond,
                and_(
                    _reviews.c.subject_kind == "branch",
                    _reviews.c.subject_org_id.in_(list(branch_ids)),
                ),
            )
        rows = await self.conn.execute(
            select(_reviews)
            .where(cond)
            .order_by(_reviews.c.created_at.desc(), _reviews.c.id.desc())
            .limit(limit)
        )
        return [_review(r) for r in rows]

    async def reviewed_by(self, reviewer_id: int, period: str) -> set[tuple[str, int]]:
        """Subjects this reviewer reviewed for a period: ('member', person) / ('branch', org)."""
        rows = await self.conn.execute(
            select(
                _reviews.c.subject_kind, _reviews.c.subject_person_id, _reviews.c.subject_org_id
            )
            .where(and_(_reviews.c.reviewer_id == reviewer_id, _reviews.c.period == period))
            .distinct()
        )
        return {(k, int(p) if k == "member" else int(o)) for k, p, o in rows}

    async def members_reviewed(self, period: str, since: datetime | None = None) -> set[int]:
        """Members reviewed for a period (or, with ``since``, in any review since then)."""
        cond = _reviews.c.period == period
        if since is not None:
            cond = or_(cond, _reviews.c.created_at >= since)
        rows = await self.conn.execute(
            select(_reviews.c.subject_person_id)
            .where(and_(_reviews.c.subject_kind == "member", cond))
            .distinct()
        )
        return {int(p) for (p,) in rows if p is not None}

    async def branches_reviewed(self, period: str) -> dict[int, set[int]]:
        """For a period: branch → the reviewers who reviewed it."""
        rows = await self.conn.execute(
            select(_reviews.c.subject_org_id, _reviews.c.reviewer_id)
            .where(and_(_reviews.c.subject_kind == "branch", _reviews.c.period == period))
            .distinct()
        )
        result: dict[int, set[int]] = {}
        for org, reviewer in rows:
            result.setdefault(int(org), set()).add(int(reviewer))
        return result

    async def people_by_org(
        self, org_ids: Iterable[int], roles: Sequence[str]
    ) -> dict[int, list[tuple[int, str, str]]]:
        """(id, name, role) of the people of these roles, per organisation, by name: one
        scan for a district-wide sweep instead of one query per branch."""
        wanted = set(org_ids)
        rows = await self.conn.execute(
            select(s.people.c.id, s.people.c.org_id, s.people.c.name, s.people.c.role)
            .where(s.people.c.role.in_(list(roles)))
            .order_by(by_name(s.people.c.name, self.conn.dialect.name), s.people.c.id)
        )
        result: dict[int, list[tuple[int, str, str]]] = {}
        for pid, oid, name, role in rows:
            if oid in wanted:
                result.setdefault(int(oid), []).append((int(pid), str(name), str(role)))
        return result

    # ---- figures and items --------------------------------------------------------------

    async def figures(
        self, kind: str, person_id: int | None, org_id: int, today: date
    ) -> SubjectFigures:
        """Items, fulfilled, overdue and the last progress of the subject's published pledges."""
        fulfilled = _status == ItemStatus.FULFILLED.value
        row = (
            await self.conn.execute(
                select(
                    func.count(_items.c.id),
                    func.coalesce(func.sum(case((fulfilled, 1), else_=0)), 0),
                    func.coalesce(
                        func.sum(case((and_(~fulfilled, _items.c.deadline < today), 1), else_=0)),
                        0,
                    ),
                    func.max(_progress.c.last_progress_at),
                )
                .select_from(_JOINED)
                .where(
                    and_(_pledges.c.number.is_not(None), _subject_filter(kind, person_id, org_id))
                )
            )
        ).first()
        if row is None:
            return SubjectFigures()
        last = row[3]
        if isinstance(last, str):  # an aggregate over a TypeDecorator comes back raw
            last = datetime.fromisoformat(last)
        if isinstance(last, datetime) and last.tzinfo is None:
            from datetime import UTC

            last = last.replace(tzinfo=UTC)
        return SubjectFigures(int(row[0] or 0), int(row[1] or 0), int(row[2] or 0), last)

    async def overdue_items(
        self, kind: str, person_id: int | None, org_id: int, today: date
    ) -> list[OpenItem]:
        """Unfulfilled items of the subject's published pledges past their deadline."""
        rows = await self.conn.execute(
            select(_items.c.id, _items.c.content, _items.c.deadline, _progress.c.rectify_by)
            .select_from(_JOINED)
            .where(
                and_(
                    _pledges.c.number.is_not(None),
                    _subject_filter(kind, person_id, org_id),
                    _status != ItemStatus.FULFILLED.value,
                    _items.c.deadline < today,
                )
            )
            .order_by(_items.c.deadline, _items.c.id)
        )
        return [OpenItem(int(i), str(c), d, r) for i, c, d, r in rows]

    async def set_rectify_by(self, item_ids: Sequence[int], day: date) -> None:
        """Set the rectification deadline of items (an item without progress gets its row)."""
        if not item_ids:
            return
        have = {
            int(i)
            for (i,) in await self.conn.execute(
                select(_progress.c.item_id).where(_progress.c.item_id.in_(list(item_ids)))
            )
        }
        missing = [
            {"item_id": i, "status": ItemStatus.OPEN.value} for i in item_ids if i not in have
        ]
        if missing:
            await self.conn.execute(insert(_progress), missing)
        await self.conn.execute(
            update(_progress).where(_progress.c.item_id.in_(list(item_ids))).values(rectify_by=day)
        )

    async def rectify_due(self, until: date, since: date) -> list[RectifyItem]:
        """Unfulfilled items whose rectification deadline lies between since and until."""
        rows = await self.conn.execute(
            select(
                _items.c.id,
                _items.c.content,
                _progress.c.rectify_by,
                _pledges.c.org_id,
                _pledges.c.person_id,
            )
            .select_from(_JOINED)
            .where(
                and_(
                    _progress.c.rectify_by.is_not(None),
                    _progress.c.rectify_by <= until,
                    _progress.c.rectify_by >= since,
                    _status != ItemStatus.FULFILLED.value,
                    _pledges.c.number.is_not(None),
                )
            )
        )
        return [RectifyItem(int(i), str(c), r, int(o), p) for i, c, r, o, p in rows]
