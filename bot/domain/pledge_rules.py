"""The pledge state machine and the content rules (limits, the cadre's higher standard)."""

from __future__ import annotations

from bot.domain.enums import (
    BRANCH_CATEGORIES,
    MEMBER_CATEGORIES,
    Category,
    PledgerKind,
    PledgeStatus,
)
from bot.domain.errors import DomainError

# Actions on a pledge and the states they may start from → the state they lead to.
TRANSITIONS: dict[str, tuple[frozenset[PledgeStatus], PledgeStatus | None]] = {
    "edit": (
        frozenset({PledgeStatus.DRAFT, PledgeStatus.RETURNED, PledgeStatus.AMENDING}),
        None,  # stays where it is
    ),
    "submit": (
        frozenset({PledgeStatus.DRAFT, PledgeStatus.RETURNED, PledgeStatus.AMENDING}),
        PledgeStatus.SUBMITTED,
    ),
    "approve": (frozenset({PledgeStatus.SUBMITTED}), PledgeStatus.PUBLISHED),
    "return": (frozenset({PledgeStatus.SUBMITTED}), PledgeStatus.RETURNED),
    "amend": (frozenset({PledgeStatus.PUBLISHED}), PledgeStatus.AMENDING),
    "discard": (frozenset({PledgeStatus.DRAFT}), None),
    "abandon_amendment": (frozenset({PledgeStatus.AMENDING}), PledgeStatus.PUBLISHED),
}

EDITABLE = TRANSITIONS["edit"][0]

MAX_ITEMS = 20
MAX_CONTENT = 500
MAX_TARGET = 300
MAX_RESPONSIBLE = 50
MAX_COMMENT = 1000


def transition(status: PledgeStatus, action: str) -> PledgeStatus:
    """The state after ``action``, or a DomainError naming why it is refused."""
    allowed_from, to = TRANSITIONS[action]
    if status not in allowed_from:
        raise DomainError(f"pledge.cannot.{action}", status=status)
    return to if to is not None else status


def categories_for(kind: PledgerKind) -> tuple[Category, ...]:
    """五带头 for members, 五个好 for branches."""
    return MEMBER_CATEGORIES if kind is PledgerKind.MEMBER else BRANCH_CATEGORIES


# A leader-cadre pledges to lead on study, on residents' most pressing problems and on
# integrity (DOMAIN.md, seed 002): each group must be covered by at least one item.
CADRE_REQUIREMENTS: dict[str, frozenset[Category]] = {
    "study": frozenset({Category.STUDY}),
    "serve": frozenset({Category.SERVE}),
    "integrity": frozenset({Category.INTEGRITY, Category.DISCIPLINE}),
}


def cadre_gaps(categories: list[Category]) -> list[str]:
    """Which parts of the cadre's higher standard the items do not cover."""
    present = set(categories)
    return [name for name, cats in CADRE_REQUIREMENTS.items() if not present & cats]


def clean_text(value: str, limit: int, key: str) -> str:
    """Trim a user's text; refuse empty or over-long input with a clear message."""
    text = " ".join(value.split()) if "\n" not in value else value.strip()
    if not text:
        raise DomainError(f"{key}.empty")
    if len(text) > limit:
        raise DomainError(f"{key}.too_long", limit=limit, length=len(text))
    return text
