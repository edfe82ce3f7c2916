"""Organisational selection (组织评选) storage: ranking figures, rankings, awards, assessments.

The figures of a ranking come from one statement of grouped aggregates: items per subject,
the latest leader grade and the latest closed satisfaction rate per subject, joined to the
subjects; the score and the place are computed in SQL (a weighted mean over the components
that exist, ``RANK() OVER``), so a committee's 1,376 branches or a district's 37,199 members
are ranked and paged without loading them into Python. Portable SQL (SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Row,
    Select,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.selection_models import (
    GRADE_POINTS,
    Assessment,
    Award,
    AwardStatus,
    Ranking,
    SubjectFigures,
    SubjectKind,
    Weights,
)
from storage import schema as s
from storage.ordering import by_name
from storage.secrecy import is_published

MEMBER_ROLES = ("member", "secretary", "leader")  # party members ranked in their branch

_items = s.pledge_items
_pledges = s.pledges
_progress = s.item_progress
_reviews = s.leader_reviews
_subjects = s.evaluation_subjects
_evaluations = s.evaluations


@dataclass(frozen=True)
class YearSpan:
    """What the figures cover: reviews written and evaluations closed in the year up to
    ``end``, and the items of pledges published before ``end`` as they stood then.

    Items are counted as the ledger counts them (every item of a published pledge, whatever
    its deadline); of those, an item is *due* once fulfilled or once its deadline is before
    ``due_before``, and only due items enter the fulfilment rates: an item not due yet is no
    figure at all, neither good nor bad.
    """

    year: int
    start: datetime  # aware: the year's first local midnight
    end: datetime  # aware, exclusive: now, or the local midnight after a ranked period
    due_before: date  # an unfulfilled item whose deadline is before this day is overdue
    done_by: date | None = None  # a fulfilment counts when done by this day (None: all)

    @property
    def first_day(self) -> date:
        """1 January."""
        return date(self.year, 1, 1)

    @property
    def next_year(self) -> date:
        """1 January of the next year."""
        return date(self.year + 1, 1, 1)


@dataclass(frozen=True)
class Scope:
    """Whose figures: the members of one branch, members below a committee, or branches."""

    kind: SubjectKind
    org_id: int  # the branch (members) or the committee (branches, or members below it)
    below: bool = False  # members of every branch below the committee
    only: int | None = None  # one subject


def _below(root_id: int) -> Any:
    """Every organisation below ``root_id`` (a recursive CTE, portable SQL)."""
    scope = select(s.orgs.c.id).where(s.orgs.c.parent_id == root_id).cte("below", recursive=True)
    return scope.union_all(select(s.orgs.c.id).where(s.orgs.c.parent_id == scope.c.id))


def _subject_query(scope: Scope) -> Select[Any]:
    p, o = s.people, s.orgs
    if scope.kind is SubjectKind.MEMBER:
        query = select(
            p.c.id.label("sid"),
            p.c.name.label("name"),
            o.c.id.label("org_id"),
            o.c.name.label("org_name"),
            o.c.code.label("code"),
        ).select_from(p.join(o, o.c.id == p.c.org_id))
        query = query.where(p.c.role.in_(MEMBER_ROLES))
        if scope.below:
            query = query.where(p.c.org_id.in_(select(_below(scope.org_id).c.id)))
        else:
            query = query.where(p.c.org_id == scope.org_id)
        if scope.only is not None:
            query = query.where(p.c.id == scope.only)
        return query
    query = select(
        o.c.id.label("sid"),
        o.c.name.label("name"),
        o.c.id.label("org_id"),
        o.c.name.label("org_name"),
        o.c.code.label("code"),
    ).where(and_(o.c.id.in_(select(_below(scope.org_id).c.id)), o.c.type != "committee"))
    if scope.only is not None:
        query = query.where(o.c.id == scope.only)
    return query


def _item_figures(scope: Scope, span: YearSpan, sids: Any) -> Any:
    """Per subject: items of its published pledges (as in the ledger), how many are due,
    fulfilled, and fulfilled by the deadline."""
    fulfilled = func.coalesce(_progress.c.status, "open") == "fulfilled"
    if span.done_by is not None:  # done in the period (undated: verified before its end)
        undated = and_(
            _progress.c.done_on.is_(None),
            or_(_progress.c.fulfilled_at.is_(None), _progress.c.fulfilled_at < span.end),
        )
        fulfilled = and_(fulfilled, or_(_progress.c.done_on <= span.done_by, undated))
    on_time = and_(fulfilled, _progress.c.done_on <= _items.c.deadline)
    due = or_(fulfilled, _items.c.deadline < span.due_before)
    key = _pledges.c.person_id if scope.kind is SubjectKind.MEMBER else _pledges.c.org_id
    conditions = [
        _pledges.c.number.is_not(None),
        or_(_pledges.c.published_at.is_(None), _pledges.c.published_at < span.end),
        key.in_(sids),
    ]
    if scope.kind is SubjectKind.MEMBER:
        conditions.append(_pledges.c.pledger_kind == "member")
    return (
        select(
            key.label("sid"),
            func.count(_items.c.id).label("items"),
            func.sum(case((due, 1), else_=0)).label("due"),
            func.sum(case((fulfilled, 1), else_=0)).label("fulfilled"),
            func.sum(case((on_time, 1), else_=0)).label("on_time"),
        )
        .select_from(
            _items.join(_pledges, _pledges.c.id == _items.c.pledge_id).outerjoin(
                _progress, _progress.c.item_id == _items.c.id
            )
        )
        .where(and_(*conditions))
        .group_by(key)
        .subquery("item_figures")
    )


def _latest_grade(scope: Scope, span: YearSpan, sids: Any) -> Any:
    """The newest published leader review of each subject written in the year.

    A review sent "只发给本人" counts nowhere here: these figures reach board groups and award
    notices, and a public score that moved with a private grade would give the grade away
    (with the weights printed beside it, exactly)."""
    if scope.kind is SubjectKind.MEMBER:
        key, kind = _reviews.c.subject_person_id, "member"
    else:
        key, kind = _reviews.c.subject_org_id, "branch"
    latest = (
        select(key.label("sid"), func.max(_reviews.c.id).label("rid"))
        .where(
            and_(
                _reviews.c.subject_kind == kind,
                _reviews.c.published.is_(True),
                key.in_(sids),
                _reviews.c.created_at >= span.start,
                _reviews.c.created_at < span.end,
            )
        )
        .group_by(key)
        .subquery("latest_review")
    )
    return (
        select(latest.c.sid, _reviews.c.grade, _reviews.c.period)
        .select_from(latest.join(_reviews, _reviews.c.id == latest.c.rid))
        .subquery("grade")
    )


def _latest_satisfaction(scope: Scope, span: YearSpan, sids: Any) -> Any:
    """The satisfaction of each subject in its newest evaluation closed in the year."""
    if scope.kind is SubjectKind.MEMBER:
        key = _subjects.c.person_id
        whose: ColumnElement[bool] = _subjects.c.person_id.in_(sids)
    else:
        key = _subjects.c.org_id
        whose = and_(_subjects.c.person_id.is_(None), _subjects.c.org_id.in_(sids))
    latest = (
        select(key.label("sid"), func.max(_subjects.c.id).label("esid"))
        .select_from(_subjects.join(_evaluations, _evaluations.c.id == _subjects.c.evaluation_id))
        .where(
            and_(
                whose,
                _evaluations.c.status == "closed",
                _subjects.c.rate_permille.is_not(None),
                _evaluations.c.closed_at >= span.start,
                _evaluations.c.closed_at < span.end,
            )
        )
        .group_by(key)
        .subquery("latest_evaluation")
    )
    # The newest result counts; with too few votes it is hidden, not replaced by an older one.
    rate = case((is_published(_subjects), _subjects.c.rate_permille), else_=None)
    return (
        select(latest.c.sid, rate.label("rate_permille"))
        .select_from(latest.join(_subjects, _subjects.c.id == latest.c.esid))
        .subquery("satisfaction")
    )


def _percent(part: Any, whole: Any) -> Any:
    return case((whole > 0, cast(part, Float) * 100.0 / whole), else_=None)


def _score(weights: Weights, parts: Sequence[tuple[float, Any]]) -> Any:
    """Σ w·v over present components ÷ Σ w over present components (NULL when none)."""
    numerator = sum(
        (func.coalesce(value * literal(w, Float), 0.0) for w, value in parts), literal(0.0)
    )
    denominator = sum(
        (case((value.is_not(None), literal(w, Float)), else_=0.0) for w, value in parts),
        literal(0.0),
    )
    return case((denominator > 0, numerator / denominator), else_=None)


def figures_query(scope: Scope, span: YearSpan, weights: Weights) -> Any:
    """Every subject of the scope with its figures, score, place and the scope's size."""
    subjects = _subject_query(scope).cte("subjects")
    sids = select(subjects.c.sid)
    items = _item_figures(scope, span, sids)
    grade = _latest_grade(scope, span, sids)
    satisfaction = _latest_satisfaction(scope, span, sids)
    n_items = func.coalesce(items.c["items"], 0)
    n_due = func.coalesce(items.c.due, 0)
    points = case(
        *((grade.c.grade == g.value, literal(p, Float)) for g, p in GRADE_POINTS.items()),
        else_=None,
    )
    base = (
        select(
            subjects.c.sid,
            subjects.c.name,
            subjects.c.org_id,
            subjects.c.org_name,
            subjects.c.code,
            n_items.label("items"),
            n_due.label("due"),
            func.coalesce(items.c.fulfilled, 0).label("fulfilled"),
            func.coalesce(items.c.on_time, 0).label("on_time"),
            _percent(items.c.fulfilled, n_due).label("fulfilment"),
            _percent(items.c.on_time, n_due).label("on_time_rate"),
            grade.c.grade,
            grade.c.period.label("grade_period"),
            points.label("grade_points"),
            satisfaction.c.rate_permille.label("satisfaction_permille"),
            (cast(satisfaction.c.rate_permille, Float) / 10.0).label("satisfaction"),
        )
        .select_from(
            subjects.outerjoin(items, items.c.sid == subjects.c.sid)
            .outerjoin(grade, grade.c.sid == subjects.c.sid)
            .outerjoin(satisfaction, satisfaction.c.sid == subjects.c.sid)
        )
        .subquery("base")
    )
    score = _score(
        weights,
        [
            (weights.fulfilment, base.c.fulfilment),
            (weights.on_time, base.c.on_time_rate),
            (weights.grade, base.c.grade_points),
            (weights.satisfaction, base.c.satisfaction),
        ],
    )
    scored = select(base, score.label("score")).subquery("scored")
    unscored_last = case((scored.c.score.is_(None), 1), else_=0)
    order = (
        unscored_last,
        scored.c.score.desc(),
        func.coalesce(scored.c.fulfilment, -1.0).desc(),
        scored.c.code,
        scored.c.name,
        scored.c.sid,
    )
    return select(
        scored,
        func.rank().over(order_by=(unscored_last, scored.c.score.desc())).label("position"),
        func.row_number().over(order_by=order).label("row_no"),
        func.count().over().label("total"),
    ).subquery("ranked")


def _figures(row: Row[Any]) -> SubjectFigures:
    m = row._mapping
    score = m["score"]
    return SubjectFigures(
        subject_id=int(m["sid"]),
        name=m["name"],
        org_id=int(m["org_id"]),
        org_name=m["org_name"],
        items=int(m["items"] or 0),
        due=int(m["due"] or 0),
        fulfilled=int(m["fulfilled"] or 0),
        on_time=int(m["on_time"] or 0),
        grade=m["grade"],
        grade_period=m["grade_period"],
        satisfaction_permille=m["satisfaction_permille"],
        score=float(score) if score is not None else None,
        position=int(m["position"]) if score is not None else None,
    )


class SelectionRepo:
    """Figures, published rankings, awards and assessments."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    # ---- figures ----------------------------------------------------------------------

    async def ranking(
        self,
        scope: Scope,
        span: YearSpan,
        weights: Weights,
        *,
        limit: int | None = None,
        offset: int = 0,
        min_fulfilment: float | None = None,
    ) -> tuple[int, list[SubjectFigures]]:
        """(subjects in scope, one page of them in ranking order) — one statement.

        ``min_fulfilment`` (percent) keeps only subjects with items, fulfilment at least that
        and satisfaction, where measured, at least that (award candidates); the count is then
        the number of such subjects.
        """
        ranked = figures_query(scope, span, weights)
        query = select(ranked)
        if min_fulfilment is not None:
            bar = literal(min_fulfilment, Float)
            query = query.where(
                and_(
                    ranked.c.due > 0,
                    ranked.c.fulfilment >= bar,
                    or_(ranked.c.satisfaction.is_(None), ranked.c.satisfaction >= bar),
                )
            )
        query = query.order_by(ranked.c.row_no).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        rows = (await self.conn.execute(query)).all()
        if min_fulfilment is not None:
            return len(rows), [_figures(r) for r in rows]
        total = int(rows[0]._mapping["total"]) if rows else await self.count(scope)
        return total, [_figures(r) for r in rows]

    async def count(self, scope: Scope) -> int:
        """How many subjects the scope has."""
        subjects = _subject_query(scope).subquery()
        return int(
            (await self.conn.execute(select(func.count()).select_from(subjects))).scalar_one()
        )

    async def subject(
        self, kind: SubjectKind, subject_id: int, span: YearSpan, weights: Weights
    ) -> SubjectFigures | None:
        """One member's or branch's figures (no place): the assessment card."""
        if kind is SubjectKind.MEMBER:
            person = (
                await self.conn.execute(
                    select(s.people.c.org_id, s.people.c.role).where(s.people.c.id == subject_id)
                )
            ).first()
            if person is None or person.role not in MEMBER_ROLES:
                return None
            scope = Scope(kind, int(person.org_id), only=subject_id)
        else:
            org = (
                await self.conn.execute(
                    select(s.orgs.c.parent_id, s.orgs.c.type).where(s.orgs.c.id == subject_id)
                )
            ).first()
            if org is None or org.type == "committee" or org.parent_id is None:
                return None
            scope = Scope(kind, int(org.parent_id), only=subject_id)
        _, rows = await self.ranking(scope, span, weights)
        return rows[0].model_copy(update={"position": None}) if rows else None

    async def in_scope(self, root_id: int, org_id: int) -> bool:
        """Whether ``org_id`` lies below ``root_id``."""
        below = _below(root_id)
        found = await self.conn.execute(select(below.c.id).where(below.c.id == org_id).limit(1))
        return found.first() is not None

    async def subject_names(
        self, kind: SubjectKind, org_id: int, limit: int, offset: int, *, exclude: int = 0
    ) -> tuple[int, list[tuple[int, str]]]:
        """(count, a page of (id, name)): a branch's members (but ``exclude``, the assessor)
        or a committee's branches."""
        query = _subject_query(Scope(kind, org_id))
        if kind is SubjectKind.MEMBER:
            query = query.where(s.people.c.id != exclude)
        subjects = query.subquery()
        total = (await self.conn.execute(select(func.count()).select_from(subjects))).scalar_one()
        rows = await self.conn.execute(
            select(subjects.c.sid, subjects.c.name)
            .order_by(
                subjects.c.code, by_name(subjects.c.name, self.conn.dialect.name), subjects.c.sid
            )
            .limit(limit)
            .offset(offset)
        )
        return int(total), [(int(a), str(b)) for a, b in rows]

    # ---- published rankings -------------------------------------------------------------

    async def published(self, kind: str, scope_org_id: int, period: str) -> Ranking | None:
        """The ranking published in this slot, if any."""
        r = s.rankings
        row = (
            await self.conn.execute(
                select(r).where(
                    and_(r.c.kind == kind, r.c.scope_org_id == scope_org_id, r.c.period == period)
                )
            )
        ).first()
        return Ranking.model_validate(row._mapping) if row else None

    async def published_scopes(self, kind: str, period: str) -> set[int]:
        """Organisations that published this slot already."""
        r = s.rankings
        rows = await self.conn.execute(
            select(r.c.scope_org_id).where(and_(r.c.kind == kind, r.c.period == period))
        )
        return {int(o) for (o,) in rows}

    async def publish(
        self, kind: str, scope_org_id: int, period: str, rows: list[dict[str, Any]], at: datetime
    ) -> int:
        """Store a ranking's snapshot; returns its id."""
        result = await self.conn.execute(
            insert(s.rankings).values(
                kind=kind, scope_org_id=scope_org_id, period=period, rows=rows, published_at=at
            )
        )
        pk = result.inserted_primary_key
        assert pk is not None
        return int(pk[0])

    # ---- awards -----------------------------------------------------------------------

    async def awards(
        self, scope_org_id: int, year: int, statuses: Iterable[AwardStatus] | None = None
    ) -> list[Award]:
        """The awards of a committee's year, by kind then proposal order."""
        a = s.awards
        query = select(a).where(and_(a.c.scope_org_id == scope_org_id, a.c.year == year))
        if statuses is not None:
            query = query.where(a.c.status.in_([st.value for st in statuses]))
        kind_order = case(
            (a.c.kind == "star_member", 0), (a.c.kind == "excellent_member", 1), else_=2
        )
        rows = await self.conn.execute(query.order_by(kind_order, a.c.id))
        return [Award.model_validate(r._mapping) for r in rows]

    async def award(self, award_id: int) -> Award | None:
        """One award."""
        row = (await self.conn.execute(select(s.awards).where(s.awards.c.id == award_id))).first()
        return Award.model_validate(row._mapping) if row else None

    async def replace_proposals(
        self, scope_org_id: int, year: int, rows: Sequence[dict[str, Any]]
    ) -> None:
        """Drop the undecided proposals of the year and store new ones (one executemany)."""
        a = s.awards
        await self.conn.execute(
            delete(a).where(
                and_(
                    a.c.scope_org_id == scope_org_id,
                    a.c.year == year,
                    a.c.status == AwardStatus.PROPOSED.value,
                )
            )
        )
        if rows:
            await self.conn.execute(insert(a), list(rows))

    async def decide(
        self, award_id: int, version: int, status: AwardStatus, by: int, at: datetime
    ) -> bool:
        """Confirm or reject a proposal; False if it changed since the button was drawn."""
        a = s.awards
        result = await self.conn.execute(
            update(a)
            .where(
                and_(
                    a.c.id == award_id,
                    a.c.version == version,
                    a.c.status == AwardStatus.PROPOSED.value,
                )
            )
            .values(status=status.value, decided_by=by, decided_at=at, version=a.c.version + 1)
        )
        return result.rowcount == 1

    async def mark_announced(self, award_ids: Sequence[int], at: datetime) -> int:
        """Mark confirmed awards as announced (only those not announced yet)."""
        if not award_ids:
            return 0
        a = s.awards
        result = await self.conn.execute(
            update(a)
            .where(and_(a.c.id.in_(list(award_ids)), a.c.announced_at.is_(None)))
            .values(announced_at=at)
        )
        return int(result.rowcount)

    # ---- assessments ------------------------------------------------------------------

    async def assessment(self, year: int, subject_key: str) -> Assessment | None:
        """The assessment of a subject for a year."""
        a = s.assessments
        row = (
            await self.conn.execute(
                select(a).where(and_(a.c.year == year, a.c.subject_key == subject_key))
            )
        ).first()
        return Assessment.model_validate(row._mapping) if row else None

    async def assessed(self, year: int, keys: Sequence[str]) -> dict[str, str]:
        """subject key → overall grade, for the subjects of a page already assessed."""
        if not keys:
            return {}
        a = s.assessments
        rows = await self.conn.execute(
            select(a.c.subject_key, a.c.grade).where(
                and_(a.c.year == year, a.c.subject_key.in_(list(keys)))
            )
        )
        return {str(k): str(g) for k, g in rows}

    async def add_assessment(self, **values: Any) -> int:
        """Store an assessment; returns its id."""
        result = await self.conn.execute(insert(s.assessments).values(**values))
        pk = result.inserted_primary_key
        assert pk is not None
        return int(pk[0])
