"""Rectification (整改) storage: the rectifications, and what they read of the evaluations.

A handful of rectifications follow each evaluation, so these queries stay small; the ones the
reminder tick runs read only the rectifications still in progress.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.models import Person
from bot.domain.rectification_models import (
    Candidate,
    EvaluationInfo,
    Rectification,
    RectificationStatus,
    SubjectResult,
)
from storage import schema as s
from storage.accounts import PERSON
from storage.ordering import by_name

_r = s.rectifications


def _rect(row: Any) -> Rectification:
    return Rectification.model_validate(dict(row._mapping))


class RectificationRepo:
    """Rectifications and the evaluation facts they depend on."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, rect_id: int) -> Rectification | None:
        """One rectification."""
        row = (await self.conn.execute(select(_r).where(_r.c.id == rect_id))).first()
        return _rect(row) if row else None

    async def add_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Open rectifications (one statement)."""
        if rows:
            await self.conn.execute(insert(_r), list(rows))

    async def for_subjects(self, subject_ids: Iterable[int]) -> list[Rectification]:
        """The rectifications opened for these evaluation subjects."""
        ids = list(subject_ids)
        if not ids:
            return []
        rows = await self.conn.execute(
            select(_r).where(_r.c.subject_id.in_(ids)).order_by(_r.c.id)
        )
        return [_rect(r) for r in rows]

    async def update(self, rect_id: int, expected_version: int, **values: Any) -> bool:
        """Change a rectification if nobody changed it since ``expected_version``; bumps it."""
        result = await self.conn.execute(
            update(_r)
            .where(and_(_r.c.id == rect_id, _r.c.version == expected_version))
            .values(version=expected_version + 1, **values)
        )
        return bool(result.rowcount)

    async def in_progress(
        self,
        statuses: Iterable[RectificationStatus],
        *,
        org_ids: Iterable[int] | None = None,
        person_id: int | None = None,
    ) -> list[Rectification]:
        """Rectifications in some states, of some orgs and/or one member, oldest first."""
        query = select(_r).where(_r.c.status.in_([st.value for st in statuses]))
        scope: list[ColumnElement[bool]] = []
        if org_ids is not None:
            scope.append(_r.c.org_id.in_(list(org_ids)))
        if person_id is not None:
            scope.append(_r.c.person_id == person_id)
        if scope:
            query = query.where(or_(*scope))
        rows = await self.conn.execute(query.order_by(_r.c.id))
        return [_rect(r) for r in rows]

    async def needing_attention(
        self, *, late_before: datetime, waiting_before: datetime, deadline_by: date
    ) -> list[Candidate]:
        """What the tick may act on: plans not filed and opened before ``late_before``, plans
        submitted before ``waiting_before`` and still undecided, accepted plans due by
        ``deadline_by``."""
        filable = [RectificationStatus.DUE.value, RectificationStatus.RETURNED.value]
        rows = await self.conn.execute(
            select(
                _r.c.id,
                _r.c.status,
                _r.c.round,
                _r.c.version,
                _r.c.created_at,
                _r.c.submitted_at,
                _r.c.deadline,
            )
            .where(
                or_(
                    and_(_r.c.status.in_(filable), _r.c.created_at < late_before),
                    and_(
                        _r.c.status == RectificationStatus.SUBMITTED.value,
                        _r.c.submitted_at < waiting_before,
                    ),
                    and_(
                        _r.c.status == RectificationStatus.ACCEPTED.value,
                        _r.c.deadline <= deadline_by,
                    ),
                )
            )
            .order_by(_r.c.id)
        )
        return [
            Candidate(int(i), RectificationStatus(st), int(rnd), int(v), created, sub, deadline)
            for i, st, rnd, v, created, sub, deadline in rows
        ]

    async def latest_reevaluations(self) -> list[tuple[int, int, str, datetime | None]]:
        """(rectification id, evaluation id, status, closed_at) of the newest re-evaluation of
        each rectification being re-evaluated (a void one may have been rescheduled)."""
        e = s.evaluations
        rows = await self.conn.execute(
            select(_r.c.id, e.c.id, e.c.status, e.c.closed_at)
            .join(e, e.c.rectification_id == _r.c.id)
            .where(_r.c.status == RectificationStatus.REEVALUATING.value)
            .order_by(_r.c.id, e.c.id)
        )
        latest: dict[int, tuple[int, int, str, datetime | None]] = {}
        for rect_id, ev_id, status, closed_at in rows:
            latest[int(rect_id)] = (int(rect_id), int(ev_id), str(status), closed_at)
        return list(latest.values())

    async def people_in(self, org_ids: Iterable[int], roles: Sequence[str]) -> list[Person]:
        """People of some roles in many organisations, by organisation and name."""
        ids = list(set(org_ids))
        found: list[Person] = []
        p = s.people
        for start in range(0, len(ids), 500):
            rows = await self.conn.execute(
                PERSON.where(
                    p.c.org_id.in_(ids[start : start + 500]), p.c.role.in_(list(roles))
                ).order_by(p.c.org_id, by_name(p.c.name, self.conn.dialect.name), p.c.id)
            )
            found.extend(Person.model_validate(r._mapping) for r in rows)
        return found

    async def get_many(self, ids: Iterable[int]) -> list[Rectification]:
        """Rectifications by id, in id order."""
        id_list = sorted(set(ids))
        found: list[Rectification] = []
        for start in range(0, len(id_list), 500):
            rows = await self.conn.execute(
                select(_r).where(_r.c.id.in_(id_list[start : start + 500])).order_by(_r.c.id)
            )
            found.extend(_rect(r) for r in rows)
        return found

    # ---- the evaluations they follow ----------------------------------------------------

    async def evaluation(self, evaluation_id: int) -> EvaluationInfo | None:
        """What a rectification needs to know of an evaluation."""
        e = s.evaluations
        row = (
            await self.conn.execute(
                select(
                    e.c.id,
                    e.c.org_id,
                    e.c.status,
                    e.c.pass_permille,
                    e.c.quorum,
                    e.c.closes_at,
                    e.c.created_at,
                    e.c.closed_at,
                    e.c.reevaluation_of,
                    e.c.rectification_id,
                ).where(e.c.id == evaluation_id)
            )
        ).first()
        return EvaluationInfo.model_validate(dict(row._mapping)) if row else None

    async def subjects(self, evaluation_id: int) -> list[SubjectResult]:
        """The subjects of an evaluation with their results, in ballot order."""
        es = s.evaluation_subjects
        rows = await self.conn.execute(
            select(
                es.c.id,
                es.c.evaluation_id,
                es.c.person_id,
                es.c.org_id,
                es.c.rate_permille,
                es.c.passed,
            )
            .where(es.c.evaluation_id == evaluation_id)
            .order_by(es.c.position)
        )
        return [SubjectResult.model_validate(dict(r._mapping)) for r in rows]

    async def link_reevaluation(self, evaluation_id: int, rect_id: int) -> None:
        """Mark an evaluation as the re-evaluation of a rectification (if not marked yet)."""
        await self.conn.execute(
            update(s.evaluations)
            .where(
                and_(
                    s.evaluations.c.id == evaluation_id, s.evaluations.c.rectification_id.is_(None)
                )
            )
            .values(rectification_id=rect_id)
        )
