"""The archive for inspection (档案包): the reads beyond the single exports (storage/export_repo):
monthly records, leader reviews, evaluation results, rectifications, rankings and awards of a
page of organisations within a year.

Everything is read for a bounded list of organisations (a page of the committee's subtree), so
no read holds the database for a whole district. Evaluation results follow storage/secrecy.py:
a subject under the publication threshold comes back with no count, rate or verdict (its counts
are never selected), so nothing in the archive lets a hidden tally be recovered.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import schema as s
from storage.secrecy import is_published

_people = s.people


def _within(org: Any, at: Any, org_ids: Sequence[int], start: datetime, end: datetime) -> Any:
    """Rows of these organisations whose moment ``at`` falls in [start, end)."""
    return and_(org.in_(list(org_ids)), at >= start, at < end)


class ArchiveRepo:
    """Reads for the archive, each for a page of organisations and one year."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def orgs_page(self, root_id: int, limit: int, offset: int) -> list[dict[str, Any]]:
        """A page of ``root_id`` and the organisations below it, by code."""
        tree = s.orgs.select().where(s.orgs.c.id == root_id).cte("tree", recursive=True)
        tree = tree.union_all(s.orgs.select().where(s.orgs.c.parent_id == tree.c.id))
        rows = await self.conn.execute(
            select(tree.c.id, tree.c.code, tree.c.name, tree.c.type, tree.c.parent_id)
            .order_by(tree.c.code, tree.c.id)
            .limit(limit)
            .offset(offset)
        )
        return [dict(r._mapping) for r in rows]

    async def monthly_records(
        self, org_ids: Sequence[int], start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        """The progress entries (记实) of these organisations in [start, end), by month and
        member: who, which pledge and item, what, and whether it claimed fulfilment."""
        e = s.progress_entries
        rows = await self.conn.execute(
            select(
                e.c.org_id,
                e.c.month,
                _people.c.name.label("author"),
                s.pledges.c.number,
                s.pledge_items.c.content,
                e.c.text,
                e.c.claims_fulfilled,
                e.c.verdict,
                e.c.created_at,
            )
            .select_from(
                e.join(_people, _people.c.id == e.c.author_id)
                .join(s.pledges, s.pledges.c.id == e.c.pledge_id)
                .join(s.pledge_items, s.pledge_items.c.id == e.c.item_id)
            )
            .where(_within(e.c.org_id, e.c.created_at, org_ids, start, end))
            .order_by(e.c.org_id, e.c.month, _people.c.name, e.c.created_at, e.c.id)
        )
        return [dict(r._mapping) for r in rows]

    async def monthly_summary(
        self, org_ids: Sequence[int], start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        """Per organisation and month: how many records, by how many people (a committee's
        archive: the records themselves are in each branch's)."""
        e = s.progress_entries
        rows = await self.conn.execute(
            select(
                e.c.org_id,
                e.c.month,
                func.count().label("entries"),
                func.count(func.distinct(e.c.author_id)).label("authors"),
                func.coalesce(func.sum(case((e.c.claims_fulfilled, 1), else_=0)), 0).label(
                    "claims"
                ),
            )
            .where(_within(e.c.org_id, e.c.created_at, org_ids, start, end))
            .group_by(e.c.org_id, e.c.month)
            .order_by(e.c.org_id, e.c.month)
        )
        return [dict(r._mapping) for r in rows]

    async def leader_reviews(
        self, org_ids: Sequence[int], start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        """Leader reviews (领导点评) of these organisations and their members in [start, end)."""
        lr = s.leader_reviews
        reviewer = _people.alias("reviewer")
        subject = _people.alias("subject")
        rows = await self.conn.execute(
            select(
                lr.c.subject_org_id.label("org_id"),
                lr.c.subject_kind,
                subject.c.name.label("subject"),
                reviewer.c.name.label("reviewer"),
                lr.c.period,
                lr.c.grade,
                lr.c.comment,
                lr.c.rectify_points,
                lr.c.published,
                lr.c.response,
                lr.c.responded_at,
                lr.c.created_at,
            )
            .select_from(
                lr.join(reviewer, reviewer.c.id == lr.c.reviewer_id).outerjoin(
                    subject, subject.c.id == lr.c.subject_person_id
                )
            )
            .where(
                and_(
                    lr.c.subject_org_id.in_(list(org_ids)),
                    lr.c.created_at >= start,
                    lr.c.created_at < end,
                )
            )
            .order_by(lr.c.subject_org_id, lr.c.created_at, lr.c.id)
        )
        return [dict(r._mapping) for r in rows]

    async def evaluation_results(
        self, org_ids: Sequence[int], start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        """Closed mass evaluations of these organisations in [start, end), one row per subject:
        the tally and verdict of a published subject; a hidden one (under the threshold) with
        ``published`` False and no figure at all."""
        ev = s.evaluations
        subj = s.evaluation_subjects
        published = is_published(subj)

        def shown(column: Any) -> Any:
            return case((published, column), else_=literal(None)).label(column.name)

        rows = await self.conn.execute(
            select(
                ev.c.id.label("evaluation_id"),
                ev.c.org_id,
                ev.c.subject_kind,
                ev.c.quorum,
                ev.c.pass_permille,
                ev.c.valid_voters,
                ev.c.created_at,
                ev.c.closed_at,
                ev.c.reevaluation_of,
                subj.c.position,
                _people.c.name.label("member"),
                published.label("published"),
                shown(subj.c.satisfied),
                shown(subj.c.basic),
                shown(subj.c.unsatisfied),
                shown(subj.c.rate_permille),
                shown(subj.c.passed),
            )
            .select_from(
                ev.join(subj, subj.c.evaluation_id == ev.c.id).outerjoin(
                    _people, _people.c.id == subj.c.person_id
                )
            )
            .where(
                and_(
                    ev.c.org_id.in_(list(org_ids)),
                    ev.c.status == "closed",
                    ev.c.closed_at >= start,
                    ev.c.closed_at < end,
                )
            )
            .order_by(ev.c.org_id, ev.c.closed_at, ev.c.id, subj.c.position)
        )
        return [dict(r._mapping) for r in rows]

    async def rectifications(
        self, org_ids: Sequence[int], start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        """Rectification plans (整改) of these organisations begun in [start, end), with the
        decision on each (reviewer, comment, dates)."""
        r = s.rectifications
        reviewer = _people.alias("reviewer")
        subject = _people.alias("subject")
        rows = await self.conn.execute(
            select(
                r.c.org_id,
                r.c.kind,
                subject.c.name.label("member"),
                r.c.round,
                r.c.status,
                r.c.goals,
                r.c.measures,
                r.c.deadline,
                reviewer.c.name.label("reviewer"),
                r.c.review_comment,
                r.c.created_at,
                r.c.submitted_at,
                r.c.accepted_at,
                r.c.closed_at,
            )
            .select_from(
                r.outerjoin(reviewer, reviewer.c.id == r.c.reviewer_id).outerjoin(
                    subject, subject.c.id == r.c.person_id
                )
            )
            .where(_within(r.c.org_id, r.c.created_at, org_ids, start, end))
            .order_by(r.c.org_id, r.c.created_at, r.c.id)
        )
        return [dict(row._mapping) for row in rows]

    async def rankings(self, org_ids: Sequence[int], year: int) -> list[dict[str, Any]]:
        """Rankings published by these organisations for periods of ``year``."""
        rk = s.rankings
        rows = await self.conn.execute(
            select(rk.c.scope_org_id.label("org_id"), rk.c.kind, rk.c.period, rk.c.rows)
            .where(and_(rk.c.scope_org_id.in_(list(org_ids)), rk.c.period.like(f"{year}%")))
            .order_by(rk.c.scope_org_id, rk.c.kind, rk.c.period)
        )
        return [dict(r._mapping) for r in rows]

    async def awards(self, org_ids: Sequence[int], year: int) -> list[dict[str, Any]]:
        """Awards of ``year`` to these organisations or their members: kind, subject, status
        and who decided."""
        aw = s.awards
        subject = _people.alias("subject")
        decider = _people.alias("decider")
        rows = await self.conn.execute(
            select(
                aw.c.org_id,
                aw.c.kind,
                aw.c.status,
                subject.c.name.label("member"),
                s.orgs.c.name.label("branch"),
                aw.c.figures,
                decider.c.name.label("decider"),
                aw.c.decided_at,
            )
            .select_from(
                aw.join(s.orgs, s.orgs.c.id == aw.c.org_id)
                .outerjoin(subject, subject.c.id == aw.c.person_id)
                .outerjoin(decider, decider.c.id == aw.c.decided_by)
            )
            .where(and_(aw.c.year == year, aw.c.org_id.in_(list(org_ids))))
            .order_by(aw.c.kind, aw.c.org_id, aw.c.id)
        )
        return [dict(r._mapping) for r in rows]
