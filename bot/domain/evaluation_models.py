"""Mass evaluation (群众评议): the models repositories return, and the choices of a ballot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class EvalStatus(StrEnum):
    """open → closed (quorum met, results out) | void (quorum missed) | cancelled."""

    OPEN = "open"
    CLOSED = "closed"
    VOID = "void"
    CANCELLED = "cancelled"


class SubjectKind(StrEnum):
    """What is evaluated: the branch itself, or each member of the branch."""

    BRANCH = "branch"
    MEMBERS = "members"


class Choice(StrEnum):
    """The three answers of a ballot, in the poll's option order."""

    SATISFIED = "satisfied"  # 满意
    BASIC = "basic"  # 基本满意
    UNSATISFIED = "unsatisfied"  # 不满意


CHOICES: tuple[Choice, ...] = (Choice.SATISFIED, Choice.BASIC, Choice.UNSATISFIED)


class Evaluation(_Model):
    """One mass evaluation of a branch (or of its members)."""

    id: int
    org_id: int
    subject_kind: SubjectKind
    opened_by: int
    status: EvalStatus
    quorum: int
    quorum_reason: str | None = None  # why the quorum is below the rule's (shown in results)
    pass_permille: int
    closes_at: datetime
    reevaluation_of: int | None = None
    rectification_id: int | None = None
    valid_voters: int | None = None
    created_at: datetime
    closed_at: datetime | None = None


class Subject(_Model):
    """Who is evaluated in one evaluation (a member, or the branch when person_id is None);
    the tally is filled at closing."""

    id: int
    evaluation_id: int
    position: int
    person_id: int | None
    org_id: int
    satisfied: int | None = None
    basic: int | None = None
    unsatisfied: int | None = None
    rate_permille: int | None = None
    passed: bool | None = None

    @property
    def valid(self) -> int:
        """Valid votes counted at closing (0 before)."""
        return (self.satisfied or 0) + (self.basic or 0) + (self.unsatisfied or 0)


class Participant(_Model):
    """Someone on an evaluation's list: whether they voted, never when nor how."""

    evaluation_id: int
    person_id: int
    kind: str  # member | resident
    has_voted: bool


@dataclass(frozen=True, slots=True)
class PollRef:
    """A ballot poll as sent: to whom, for which subject (never what was chosen). A plain
    record: an evaluation's polls are read in bulk when its first answer arrives."""

    poll_id: str
    evaluation_id: int
    subject_id: int
    person_id: int
    chat_id: int
    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class Voter:
    """Who is behind a Telegram account, as much as a vote needs (read in bulk, cheaply)."""

    id: int
    role: str
    phone_confirmed: bool
    locale: str | None

    @property
    def unconfirmed_resident(self) -> bool:
        """A resident whose phone is not confirmed: their ballot counts once it is."""
        return self.role == "resident" and not self.phone_confirmed


class SatisfactionResult(_Model):
    """A subject's result in its latest closed evaluation (for rankings, exports, boards)."""

    evaluation_id: int
    subject_id: int
    org_id: int
    person_id: int | None
    published: bool  # False: fewer than 5 valid votes; then no count, rate or verdict at all
    satisfied: int | None
    basic: int | None
    unsatisfied: int | None
    rate_permille: int | None
    passed: bool | None
    closed_at: datetime
