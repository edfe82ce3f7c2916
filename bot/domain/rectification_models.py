"""Rectification (整改) models and its state machine (no storage, no telegram)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from bot.domain.errors import DomainError


class RectificationStatus(StrEnum):
    """Where a rectification stands.

    due (plan awaited) → submitted → accepted | returned (→ submitted …) → reevaluating →
    closed (the re-evaluation passed) | failed (it did not: a new round opens as a new
    rectification linked to this one, so every round keeps its own plan and decision).
    """

    DUE = "due"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    ACCEPTED = "accepted"
    REEVALUATING = "reevaluating"
    CLOSED = "closed"
    FAILED = "failed"


class RectificationKind(StrEnum):
    """What caused it: a mass evaluation under the pass mark, or unfulfilled items."""

    SATISFACTION = "satisfaction"
    ITEMS = "items"


class RectAction(StrEnum):
    """What can happen to a rectification."""

    SUBMIT = "submit"
    ACCEPT = "accept"
    RETURN = "return"
    REEVALUATE = "reevaluate"
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"  # the re-evaluation closed with < 5 votes for the subject


S = RectificationStatus
TRANSITIONS: dict[tuple[RectificationStatus, RectAction], RectificationStatus] = {
    (S.DUE, RectAction.SUBMIT): S.SUBMITTED,
    (S.RETURNED, RectAction.SUBMIT): S.SUBMITTED,
    (S.SUBMITTED, RectAction.ACCEPT): S.ACCEPTED,
    (S.SUBMITTED, RectAction.RETURN): S.RETURNED,
    (S.ACCEPTED, RectAction.REEVALUATE): S.REEVALUATING,
    (S.REEVALUATING, RectAction.PASS): S.CLOSED,
    (S.REEVALUATING, RectAction.FAIL): S.FAILED,
    # Too few votes to judge: the plan stays accepted and the next tick re-evaluates again.
    (S.REEVALUATING, RectAction.INCONCLUSIVE): S.ACCEPTED,
}

# A plan can be written while these hold; decisions only on a submitted plan.
FILABLE = frozenset({S.DUE, S.RETURNED})
OPEN = frozenset({S.DUE, S.SUBMITTED, S.RETURNED, S.ACCEPTED, S.REEVALUATING})


def transition(status: RectificationStatus, action: RectAction) -> RectificationStatus:
    """The next state, or a DomainError naming the state it is in."""
    nxt = TRANSITIONS.get((status, action))
    if nxt is None:
        raise DomainError("rectify.wrong_state", status=status.value)
    return nxt


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Rectification(_Model):
    """One round of rectification of one subject."""

    id: int
    kind: RectificationKind
    evaluation_id: int | None
    subject_id: int | None
    org_id: int
    person_id: int | None  # a member subject; None for the branch itself
    status: RectificationStatus
    round: int = 1
    previous_id: int | None = None
    version: int = 1
    goals: str | None = None
    measures: str | None = None
    deadline: date | None = None
    reviewer_id: int | None = None
    review_comment: str | None = None
    reevaluation_id: int | None = None
    created_at: datetime
    submitted_at: datetime | None = None
    accepted_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def is_member(self) -> bool:
        """Whether the subject is a member (else the branch)."""
        return self.person_id is not None


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the reminder tick reads of a rectification that may need attention (a plain
    dataclass: read every minute over a whole district)."""

    id: int
    status: RectificationStatus
    round: int
    version: int
    created_at: datetime
    submitted_at: datetime | None
    deadline: date | None


class EvaluationInfo(_Model):
    """The facts of an evaluation a rectification depends on."""

    id: int
    org_id: int
    status: str
    pass_permille: int
    quorum: int
    closes_at: datetime
    created_at: datetime
    closed_at: datetime | None = None  # when it actually closed (early, or at closes_at)
    reevaluation_of: int | None = None
    rectification_id: int | None = None


class SubjectResult(_Model):
    """One subject of an evaluation and, once closed, its result."""

    id: int
    evaluation_id: int
    person_id: int | None
    org_id: int
    rate_permille: int | None = None
    passed: bool | None = None


def percent(permille: int | None) -> str:
    """92.5% from 925; — when unknown."""
    if permille is None:
        return "—"
    return f"{permille / 10:.1f}%"
