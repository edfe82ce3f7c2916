"""Fulfilment (践诺) storage: progress entries, item status, and the ledger's aggregates.

The ledger aggregates and pages in SQL: a committee's district view must answer quickly over
tens of thousands of items, so nothing here loads a whole branch or district into memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import BindParameter

from bot.domain.progress_models import (
    BranchFigures,
    DistrictTotals,
    Evidence,
    Figures,
    ItemProgress,
    ItemStatus,
    LedgerRow,
    ProgressEntry,
    RecordLine,
    ReportableItem,
    Verdict,
)
from storage import schema as s
from storage.ordering import by_name

_items = s.pledge_items
_pledges = s.pledges
_progress = s.item_progress
_entries = s.progress_entries

# An item with no item_progress row yet is open.
_status = func.coalesce(_progress.c.status, ItemStatus.OPEN.value)


def _entry(row: Row[Any]) -> ProgressEntry:
    return _entry_from(dict(row._mapping))


def _entry_from(data: dict[str, Any]) -> ProgressEntry:
    data["evidence"] = tuple(Evidence.model_validate(e) for e in data.get("evidence") or [])
    return ProgressEntry.model_validate(data)


def _published() -> ColumnElement[bool]:
    """Items count once their pledge was published (numbered), amendments included."""
    return _pledges.c.number.is_not(None)


def _item_query() -> Select[Any]:
    return select(
        _items.c.id.label("item_id"),
        _items.c.pledge_id,
        _items.c.position,
        _items.c.content,
        _items.c.target,
        _items.c.deadline,
        _pledges.c.pledger_kind,
        _pledges.c.person_id,
        _pledges.c.drafter_id,
        _pledges.c.is_oral,
        _pledges.c.org_id,
        _pledges.c.number,
        _status.label("status"),
    ).select_from(
        _items.join(_pledges, _pledges.c.id == _items.c.pledge_id).outerjoin(
            _progress, _progress.c.item_id == _items.c.id
        )
    )


# Statements run for nearly every progress update, built once (building one and its cache
# key cost about as much as running it).
_ENTRY = select(_entries).where(_entries.c.id == bindparam("entry_id"))
_TOUCH = (
    update(_progress)
    .where(_progress.c.item_id == bindparam("touched"))
    .values(last_progress_at=bindparam("at"))
)


@cache
def _one_item_query() -> Select[Any]:
    return _item_query().where(_items.c.id == bindparam("item_id"))


@cache
def _reportable_query(branch_pledges: bool) -> Select[Any]:
    """Their own pledges, oral ones they recorded, and (``branch_pledges``) the branch's."""
    person_id: BindParameter[int] = bindparam("person_id")
    mine = or_(
        _pledges.c.person_id == person_id,
        and_(_pledges.c.is_oral.is_(True), _pledges.c.drafter_id == person_id),
    )
    if branch_pledges:
        mine = or_(
            mine,
            and_(_pledges.c.pledger_kind == "branch", _pledges.c.org_id == bindparam("org_id")),
        )
    return (
        _item_query()
        .where(and_(_published(), mine))
        .order_by(_pledges.c.id, _items.c.position, _items.c.id)
    )


class ProgressRepo:
    """Progress entries and the state of each item."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def reportable_items(
        self, person_id: int, org_id: int, *, branch_pledges: bool
    ) -> list[ReportableItem]:
        """Items of published pledges this person reports on.

        Their own pledges, oral pledges they recorded for a member, and (for a secretary,
        ``branch_pledges``) the branch's own pledge.
        """
        rows = await self.conn.execute(
            _reportable_query(branch_pledges), {"person_id": person_id, "org_id": org_id}
        )
        return [ReportableItem.model_validate(r._mapping) for r in rows]

    async def item(self, item_id: int) -> ReportableItem | None:
        """One item with its pledge's facts and its status."""
        row = (await self.conn.execute(_one_item_query(), {"item_id": item_id})).first()
        return ReportableItem.model_validate(row._mapping) if row else None

    async def item_progress(self, item_id: int) -> ItemProgress:
        """The item's fulfilment state (open when nothing was recorded yet)."""
        row = (
            await self.conn.execute(select(_progress).where(_progress.c.item_id == item_id))
        ).first()
        if row is None:
            return ItemProgress(item_id=item_id)
        return ItemProgress.model_validate(row._mapping)

    async def add_entry(self, **values: Any) -> int:
        """Store a progress entry; returns its id."""
        result = await self.conn.execute(insert(_entries).values(**values))
        pk = result.inserted_primary_key
        assert pk is not None
        return int(pk[0])

    async def entry(self, entry_id: int) -> ProgressEntry | None:
        """One progress entry."""
        row = (await self.conn.execute(_ENTRY, {"entry_id": entry_id})).first()
        return _entry(row) if row else None

    async def set_evidence(self, entry_id: int, evidence: list[dict[str, Any]]) -> None:
        """Replace the entry's evidence list."""
        await self.conn.execute(
            update(_entries).where(_entries.c.id == entry_id).values(evidence=evidence)
        )

    async def make_claim(self, entry_id: int) -> bool:
        """Turn a plain note into an open claim; False if it is not a note any more."""
        result = await self.conn.execute(
            update(_entries)
            .where(and_(_entries.c.id == entry_id, _entries.c.verdict == Verdict.NOTE.value))
            .values(claims_fulfilled=True, verdict=Verdict.OPEN.value)
        )
        return result.rowcount == 1

    async def decide(
        self, entry_id: int, verdict: Verdict, by: int, at: datetime, comment: str | None
    ) -> bool:
        """Settle an open claim; False if someone settled it first (a stale or second tap)."""
        result = await self.conn.execute(
            update(_entries)
            .where(and_(_entries.c.id == entry_id, _entries.c.verdict == Verdict.OPEN.value))
            .values(verdict=verdict.value, verified_by=by, verified_at=at, verdict_comment=comment)
        )
        return result.rowcount == 1

    async def touch_item(self, item_id: int, at: datetime) -> None:
        """Record that progress was reported now (creates the item's row if needed)."""
        updated = await self.conn.execute(_TOUCH, {"touched": item_id, "at": at})
        if updated.rowcount == 0:
            await self.conn.execute(
                insert(_progress).values(
                    item_id=item_id, status=ItemStatus.OPEN.value, last_progress_at=at
                )
            )

    async def move_item(
        self, item_id: int, expected: ItemStatus, to: ItemStatus, **values: Any
    ) -> bool:
        """Change the item's status only from ``expected``; False if it stood elsewhere."""
        result = await self.conn.execute(
            update(_progress)
            .where(and_(_progress.c.item_id == item_id, _progress.c.status == expected.value))
            .values(status=to.value, **values)
        )
        return result.rowcount == 1

    async def month_record(self, author_id: int, month: str) -> list[RecordLine]:
        """The author's entries of a month (YYYY-MM), oldest first, with their item's content."""
        rows = await self.conn.execute(
            select(_entries, _items.c.content.label("item_content"))
            .select_from(_entries.join(_items, _items.c.id == _entries.c.item_id))
            .where(and_(_entries.c.author_id == author_id, _entries.c.month == month))
            .order_by(_entries.c.created_at, _entries.c.id)
        )
        result = []
        for row in rows:
            data = dict(row._mapping)
            content = data.pop("item_content")
            result.append(RecordLine(entry=_entry_from(data), item_content=content))
        return result

    async def open_claims(self, org_ids: Sequence[int], limit: int) -> list[ProgressEntry]:
        """Claims waiting for verification in these organisations, oldest first."""
        if not org_ids:
            return []
        rows = await self.conn.execute(
            select(_entries)
            .where(
                and_(
                    _entries.c.verdict == Verdict.OPEN.value,
                    _entries.c.org_id.in_(list(org_ids)),
                )
            )
            .order_by(_entries.c.id)
            .limit(limit)
        )
        return [_entry(r) for r in rows]


def _figure_columns(today: date) -> list[Any]:
    fulfilled = _status == ItemStatus.FULFILLED.value
    on_time = and_(fulfilled, _progress.c.done_on <= _items.c.deadline)
    return [
        func.count(_items.c.id).label("items"),
        func.coalesce(func.sum(case((fulfilled, 1), else_=0)), 0).label("fulfilled"),
        func.coalesce(func.sum(case((on_time, 1), else_=0)), 0).label("on_time"),
        func.coalesce(
            func.sum(case((and_(~fulfilled, _items.c.deadline < today), 1), else_=0)), 0
        ).label("overdue"),
        func.coalesce(func.sum(case((_status == ItemStatus.CLAIMED.value, 1), else_=0)), 0).label(
            "claimed"
        ),
    ]


def _figures(row: Any) -> Figures:
    if row is None:
        return Figures()
    m = row._mapping
    return Figures(
        items=int(m["items"] or 0),
        fulfilled=int(m["fulfilled"] or 0),
        on_time=int(m["on_time"] or 0),
        overdue=int(m["overdue"] or 0),
        claimed=int(m["claimed"] or 0),
    )


_JOINED = _items.join(_pledges, _pledges.c.id == _items.c.pledge_id).outerjoin(
    _progress, _progress.c.item_id == _items.c.id
)


class LedgerRepo:
    """The ledger (台账): per item for a branch, per branch for a committee; paged in SQL."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    def _scope(self, root_id: int) -> Any:
        """Every organisation below ``root_id`` (a recursive CTE, portable SQL)."""
        below = (
            select(s.orgs.c.id).where(s.orgs.c.parent_id == root_id).cte("scope", recursive=True)
        )
        below = below.union_all(select(s.orgs.c.id).where(s.orgs.c.parent_id == below.c.id))
        return below

    async def branch_figures(self, org_id: int, today: date) -> Figures:
        """Counts over the items of the branch's published pledges."""
        row = (
            await self.conn.execute(
                select(*_figure_columns(today))
                .select_from(_JOINED)
                .where(and_(_published(), _pledges.c.org_id == org_id))
            )
        ).first()
        return _figures(row)

    async def branch_rows(self, org_id: int, limit: int, offset: int) -> list[LedgerRow]:
        """One page of the branch's items: the branch pledge first, then members by name."""
        name = func.coalesce(s.people.c.name, literal(""))
        rows = await self.conn.execute(
            select(
                _items.c.id.label("item_id"),
                _items.c.content,
                _items.c.deadline,
                _pledges.c.pledger_kind,
                _pledges.c.person_id,
                name.label("pledger_name"),
                _status.label("status"),
                _progress.c.last_progress_at,
                _progress.c.fulfilled_at,
            )
            .select_from(_JOINED.outerjoin(s.people, s.people.c.id == _pledges.c.person_id))
            .where(and_(_published(), _pledges.c.org_id == org_id))
            .order_by(
                case((_pledges.c.pledger_kind == "branch", 0), else_=1),
                by_name(name, self.conn.dialect.name),
                _pledges.c.person_id,
                _pledges.c.id,
                _items.c.position,
                _items.c.id,
            )
            .limit(limit)
            .offset(offset)
        )
        return [LedgerRow.model_validate(r._mapping) for r in rows]

    async def district_totals(self, root_id: int, today: date) -> DistrictTotals:
        """Totals over every branch below the committee."""
        scope = self._scope(root_id)
        in_scope = _pledges.c.org_id.in_(select(scope.c.id))
        row = (
            await self.conn.execute(
                select(
                    *_figure_columns(today),
                    func.count(func.distinct(_pledges.c.person_id)).label("members"),
                )
                .select_from(_JOINED)
                .where(and_(_published(), in_scope))
            )
        ).first()
        branches = (
            await self.conn.execute(
                select(func.count())
                .select_from(s.orgs)
                .where(and_(s.orgs.c.id.in_(select(scope.c.id)), s.orgs.c.type != "committee"))
            )
        ).scalar_one()
        return DistrictTotals(
            branches=int(branches),
            pledging_members=int(row._mapping["members"] or 0) if row else 0,
            figures=_figures(row),
        )

    async def district_branches(
        self, root_id: int, today: date, limit: int, offset: int
    ) -> list[BranchFigures]:
        """One page of the branches below the committee (by code), each with its counts."""
        scope = self._scope(root_id)
        page = (
            select(s.orgs.c.id, s.orgs.c.name, s.orgs.c.code)
            .where(and_(s.orgs.c.id.in_(select(scope.c.id)), s.orgs.c.type != "committee"))
            .order_by(s.orgs.c.code, s.orgs.c.id)
            .limit(limit)
            .offset(offset)
            .subquery("page")
        )
        # Aggregate only the page's branches, not the whole district.
        per_org = (
            select(_pledges.c.org_id.label("org_id"), *_figure_columns(today))
            .select_from(_JOINED)
            .where(and_(_published(), _pledges.c.org_id.in_(select(page.c.id))))
            .group_by(_pledges.c.org_id)
            .subquery("per_org")
        )
        rows = await self.conn.execute(
            select(
                page.c.id,
                page.c.name,
                page.c.code,
                per_org.c["items"],
                per_org.c.fulfilled,
                per_org.c.on_time,
                per_org.c.overdue,
                per_org.c.claimed,
            )
            .select_from(page.outerjoin(per_org, per_org.c.org_id == page.c.id))
            .order_by(page.c.code, page.c.id)
        )
        return [
            BranchFigures(org_id=int(r.id), name=r.name, code=r.code, figures=_figures(r))
            for r in rows
        ]

    async def scope_ids(self, root_id: int) -> list[int]:
        """Ids of every organisation below ``root_id``."""
        scope = self._scope(root_id)
        return [int(i) for (i,) in await self.conn.execute(select(scope.c.id))]

    async def in_scope(self, root_id: int, org_id: int) -> bool:
        """Whether ``org_id`` lies below ``root_id``."""
        scope = self._scope(root_id)
        found = (
            await self.conn.execute(select(scope.c.id).where(scope.c.id == org_id).limit(1))
        ).first()
        return found is not None
