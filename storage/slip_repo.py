"""One-time ballot slips (现场票) and paper ballot boxes (纸质票) of mass evaluations.

A slip is found by the SHA-256 of its token (the token itself is never stored); its ballots
live in ``ballots`` beside the chat ballots, under a keyed hash of the slip, so the tally at
closing counts them with everything else. Nothing here pairs a slip with a person: there is
no person to pair it with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import schema as s


@dataclass(frozen=True, slots=True)
class Slip:
    """A slip as its page needs it: which evaluation, whether voted, its form revision."""

    id: int
    evaluation_id: int
    voted: bool
    revision: int


@dataclass(frozen=True, slots=True)
class PaperBox:
    """A paper ballot box as entered: ballots it held and the tally sheet's photo."""

    evaluation_id: int
    ballots: int
    photo_file: int  # the tally sheet's photo in Jiannuo's file store
    entered_by: int
    entered_at: datetime


class SlipRepo:
    """Slips and paper boxes, on the unit of work's connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    # -- slips

    async def add_slips(self, evaluation_id: int, token_hashes: Sequence[str]) -> None:
        """Insert new slips of an evaluation (by their tokens' hashes)."""
        rows = [
            {"evaluation_id": evaluation_id, "token_hash": h, "voted": False, "revision": 0}
            for h in token_hashes
        ]
        for start in range(0, len(rows), 400):
            await self.conn.execute(insert(s.ballot_slips), rows[start : start + 400])

    async def move_slips(self, from_evaluation: int, to_evaluation: int) -> int:
        """Slips handed out for one evaluation now vote in another (a void one rescheduled):
        none has voted there yet, and a form shown before is stale. How many."""
        c = s.ballot_slips.c
        result = await self.conn.execute(
            update(s.ballot_slips)
            .where(c.evaluation_id == from_evaluation)
            .values(evaluation_id=to_evaluation, voted=False, revision=c.revision + 1)
        )
        return int(result.rowcount or 0)

    async def by_hash(self, token_hash: str) -> Slip | None:
        """The slip with this token hash."""
        c = s.ballot_slips.c
        row = (
            await self.conn.execute(
                select(c.id, c.evaluation_id, c.voted, c.revision).where(
                    c.token_hash == token_hash
                )
            )
        ).first()
        if row is None:
            return None
        return Slip(int(row[0]), int(row[1]), bool(row[2]), int(row[3]))

    async def bump(self, slip_id: int, revision: int, voted: bool) -> bool:
        """Take the next revision if the form was made from ``revision`` (False: a stale
        or repeated form, nothing changes); set whether the slip holds a vote."""
        c = s.ballot_slips.c
        result = await self.conn.execute(
            update(s.ballot_slips)
            .where(and_(c.id == slip_id, c.revision == revision))
            .values(revision=c.revision + 1, voted=voted)
        )
        return bool(result.rowcount)

    async def choices(self, evaluation_id: int, voter: str) -> dict[int, str]:
        """subject id → choice of one slip's ballots (its own page shows them)."""
        b = s.ballots.c
        rows = await self.conn.execute(
            select(b.subject_id, b.choice).where(
                and_(b.evaluation_id == evaluation_id, b.voter == voter)
            )
        )
        return {int(sid): str(choice) for sid, choice in rows}

    async def replace_choices(
        self, evaluation_id: int, voter: str, choices: Mapping[int, str]
    ) -> None:
        """A slip's ballots become exactly ``choices`` (subject id → choice)."""
        b = s.ballots.c
        await self.conn.execute(
            delete(s.ballots).where(and_(b.evaluation_id == evaluation_id, b.voter == voter))
        )
        if choices:
            await self.conn.execute(
                insert(s.ballots),
                [
                    {
                        "subject_id": sid,
                        "voter": voter,
                        "evaluation_id": evaluation_id,
                        "choice": c,
                    }
                    for sid, c in sorted(choices.items())
                ],
            )

    async def slip_turnout(self, evaluation_id: int) -> tuple[int, int]:
        """(slips that hold a vote, slips issued)."""
        c = s.ballot_slips.c
        row = (
            await self.conn.execute(
                select(
                    func.count(), func.coalesce(func.sum(case((c.voted.is_(True), 1), else_=0)), 0)
                ).where(c.evaluation_id == evaluation_id)
            )
        ).one()
        return int(row[1]), int(row[0])

    # -- paper ballot boxes

    async def paper_box(self, evaluation_id: int) -> PaperBox | None:
        """The paper box entered for an evaluation."""
        p = s.paper_boxes.c
        row = (
            await self.conn.execute(
                select(p.evaluation_id, p.ballots, p.photo_file, p.entered_by, p.entered_at).where(
                    p.evaluation_id == evaluation_id
                )
            )
        ).first()
        return PaperBox(*row) if row is not None else None

    async def set_paper(
        self,
        evaluation_id: int,
        ballots: int,
        photo_file: int,
        entered_by: int,
        at: datetime,
        counts: Mapping[int, tuple[int, int, int]],
    ) -> None:
        """Record (or correct) the paper box and its per-subject counts."""
        await self.conn.execute(
            delete(s.paper_tallies).where(s.paper_tallies.c.evaluation_id == evaluation_id)
        )
        await self.conn.execute(
            delete(s.paper_boxes).where(s.paper_boxes.c.evaluation_id == evaluation_id)
        )
        await self.conn.execute(
            insert(s.paper_boxes).values(
                evaluation_id=evaluation_id,
                ballots=ballots,
                photo_file=photo_file,
                entered_by=entered_by,
                entered_at=at,
            )
        )
        rows: list[dict[str, Any]] = [
            {
                "evaluation_id": evaluation_id,
                "subject_id": sid,
                "satisfied": a,
                "basic": b,
                "unsatisfied": c,
            }
            for sid, (a, b, c) in sorted(counts.items())
        ]
        if rows:
            await self.conn.execute(insert(s.paper_tallies), rows)

    async def paper_counts(self, evaluation_id: int) -> dict[int, tuple[int, int, int]]:
        """subject id → (满意, 基本满意, 不满意) of the paper box."""
        p = s.paper_tallies.c
        rows = await self.conn.execute(
            select(p.subject_id, p.satisfied, p.basic, p.unsatisfied).where(
                p.evaluation_id == evaluation_id
            )
        )
        return {int(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in rows}
