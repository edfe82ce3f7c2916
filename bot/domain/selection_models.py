"""Models of organisational selection (组织评选): ranking figures, the score, awards, assessments.

Kept apart from the service so the storage layer can return them without import cycles.

The score (得分, 0–100) is a weighted mean of the components that exist for a subject:
到期兑现率 (fulfilled ÷ due items), 按时兑现率 (fulfilled by the deadline ÷ due items), the
latest published leader grade (好 100, 较好 85, 一般 70, 差 50; a private review never counts)
and the latest published satisfaction rate of a closed mass evaluation. A component that does
not exist yet (nothing due, no published review, no published evaluation) is left
out and its weight is shared over the others in proportion; with no component at all there is
no score ("暂无") and the subject is listed last.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class SubjectKind(StrEnum):
    """Who is ranked, awarded or assessed: a member (by a secretary) or a branch (committee)."""

    MEMBER = "member"
    BRANCH = "branch"


class LeaderGrade(StrEnum):
    """A leader review's grade (领导点评): 好 / 较好 / 一般 / 差."""

    GOOD = "good"
    FAIRLY_GOOD = "fairly_good"
    AVERAGE = "average"
    POOR = "poor"


GRADE_POINTS: dict[LeaderGrade, float] = {
    LeaderGrade.GOOD: 100.0,
    LeaderGrade.FAIRLY_GOOD: 85.0,
    LeaderGrade.AVERAGE: 70.0,
    LeaderGrade.POOR: 50.0,
}


class AwardKind(StrEnum):
    """践诺明星党员, 优秀党员, 先进党组织."""

    STAR_MEMBER = "star_member"
    EXCELLENT_MEMBER = "excellent_member"
    ADVANCED_BRANCH = "advanced_branch"

    @property
    def subject(self) -> SubjectKind:
        """Whether the award goes to a member or to a branch."""
        return SubjectKind.BRANCH if self is AwardKind.ADVANCED_BRANCH else SubjectKind.MEMBER


class AwardStatus(StrEnum):
    """proposed → confirmed | rejected (by a committee clerk)."""

    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class AssessmentGrade(StrEnum):
    """优秀 / 合格 / 基本合格 / 不合格."""

    EXCELLENT = "excellent"
    QUALIFIED = "qualified"
    BASIC = "basic"
    UNQUALIFIED = "unqualified"


# One letter per grade keeps a whole assessment inside one action (Telegram carries 64 bytes).
GRADE_LETTERS: dict[str, AssessmentGrade] = {
    "E": AssessmentGrade.EXCELLENT,
    "Q": AssessmentGrade.QUALIFIED,
    "B": AssessmentGrade.BASIC,
    "U": AssessmentGrade.UNQUALIFIED,
}
LETTER_OF: dict[AssessmentGrade, str] = {grade: letter for letter, grade in GRADE_LETTERS.items()}


class Dimension(StrEnum):
    """The four dimensions of the year-end assessment."""

    COMPETENCE = "competence"  # 岗位胜任度
    CONTRIBUTION = "contribution"  # 发展贡献度
    SATISFACTION = "satisfaction"  # 群众满意度
    REPUTATION = "reputation"  # 社会美誉度


DIMENSIONS: tuple[Dimension, ...] = tuple(Dimension)


class Weights(_Model):
    """The weights of the score's components (from settings; need not sum to 1)."""

    fulfilment: float = 0.4
    on_time: float = 0.2
    grade: float = 0.2
    satisfaction: float = 0.2


class SubjectFigures(_Model):
    """A member's or a branch's figures for a year, the score, and the place in a ranking."""

    subject_id: int  # the person, or the branch
    name: str
    org_id: int  # the branch (a member's own branch)
    org_name: str
    items: int = 0  # items of published pledges, as the ledger counts them
    due: int = 0  # of those, fulfilled or past the deadline: the ones that can be judged
    fulfilled: int = 0
    on_time: int = 0
    grade: LeaderGrade | None = None
    grade_period: str | None = None
    satisfaction_permille: int | None = None
    score: float | None = None
    position: int | None = None  # ties share a place; None without a score

    @property
    def fulfilment(self) -> float | None:
        """到期兑现率 in percent: fulfilled ÷ due (None while nothing is due)."""
        return 100.0 * self.fulfilled / self.due if self.due else None

    @property
    def on_time_rate(self) -> float | None:
        """按时兑现率 in percent: fulfilled by the deadline ÷ due (None while nothing is due)."""
        return 100.0 * self.on_time / self.due if self.due else None

    @property
    def satisfaction(self) -> float | None:
        """群众满意度 in percent (None before a closed evaluation)."""
        if self.satisfaction_permille is None:
            return None
        return self.satisfaction_permille / 10.0

    def snapshot(self) -> dict[str, Any]:
        """The row as stored in a published ranking or with an award or assessment."""
        return {
            "position": self.position,
            "id": self.subject_id,
            "name": self.name,
            "org_id": self.org_id,
            "org_name": self.org_name,
            "items": self.items,
            "due": self.due,
            "fulfilled": self.fulfilled,
            "on_time": self.on_time,
            "fulfilment": _round(self.fulfilment),
            "on_time_rate": _round(self.on_time_rate),
            "grade": self.grade.value if self.grade else None,
            "grade_period": self.grade_period,
            "satisfaction": _round(self.satisfaction),
            "score": _round(self.score),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def compute_score(
    weights: Weights,
    *,
    fulfilment: float | None,
    on_time: float | None,
    grade: LeaderGrade | None,
    satisfaction: float | None,
) -> float | None:
    """The weighted mean of the components that exist (percent values, 0–100).

    The reference for the SQL expression in ``storage/selection_repo.py`` (a test checks that
    both agree).
    """
    parts = [
        (weights.fulfilment, fulfilment),
        (weights.on_time, on_time),
        (weights.grade, GRADE_POINTS[grade] if grade is not None else None),
        (weights.satisfaction, satisfaction),
    ]
    present = [(w, v) for w, v in parts if v is not None]
    total = sum(w for w, _ in present)
    if not present or total <= 0:
        return None
    return sum(w * v for w, v in present) / total


class Ranking(_Model):
    """A published ranking: the rows as they stood."""

    id: int
    kind: str
    scope_org_id: int
    period: str
    rows: list[dict[str, Any]]
    published_at: datetime


class Award(_Model):
    """A proposed, confirmed or rejected award, with the figures it was proposed on."""

    id: int
    kind: AwardKind
    year: int
    scope_org_id: int
    person_id: int | None = None
    org_id: int
    status: AwardStatus
    figures: dict[str, Any]
    proposed_at: datetime
    decided_by: int | None = None
    decided_at: datetime | None = None
    version: int = 1
    announced_at: datetime | None = None


class Assessment(_Model):
    """A year-end assessment as entered."""

    id: int
    year: int
    subject_kind: SubjectKind
    person_id: int | None = None
    org_id: int
    subject_key: str
    dimensions: dict[str, AssessmentGrade]
    grade: AssessmentGrade
    figures: dict[str, Any]
    assessor_id: int
    created_at: datetime
