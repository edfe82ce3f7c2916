"""Figures behind the charts of /stats (read from SQL aggregates)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class StatusCounts(_Model):
    """Published items by where they stand; the four counts are disjoint."""

    fulfilled: int = 0
    claimed: int = 0
    in_progress: int = 0
    overdue: int = 0

    @property
    def total(self) -> int:
        """All published items."""
        return self.fulfilled + self.claimed + self.in_progress + self.overdue


class PledgerFulfilment(_Model):
    """A branch (or a pledger in a branch) with its fulfilled and total items."""

    name: str
    fulfilled: int = 0
    total: int = 0


class EvaluationResult(_Model):
    """A closed evaluation: satisfied + basically satisfied and valid votes, summed over its
    subjects with enough votes to be shown."""

    evaluation_id: int
    org_name: str
    subject_kind: str
    closed_at: datetime | None = None
    good: int = 0
    votes: int = 0
