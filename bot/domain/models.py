"""Pydantic models of the domain, as repositories return them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.enums import (
    Category,
    Horizon,
    OrgType,
    PledgerKind,
    PledgeStatus,
    ReviewAction,
    Role,
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Org(_Model):
    """An organisation: committee or branch."""

    id: int
    code: str
    name: str
    type: OrgType
    parent_id: int | None = None
    board_chat_id: int | None = None

    @property
    def is_committee(self) -> bool:
        """Whether this organisation is a committee (reviews branch pledges)."""
        return self.type is OrgType.COMMITTEE


class Person(_Model):
    """Someone on the roster, possibly bound to a Telegram account."""

    id: int
    name: str
    org_id: int
    role: Role
    phone: str = ""
    cadre: bool = False
    post: str | None = None
    oral: bool = False
    origin_org_id: int | None = None
    residence_org_id: int | None = None
    tg_user_id: int | None = None
    locale: str | None = None
    is_admin: bool = False
    # A resident confirmed their phone by sharing their own contact (eligible to vote).
    phone_confirmed: bool = False

    @property
    def joined(self) -> bool:
        """They have bound an account on a channel (the bot can reach them)."""
        return self.tg_user_id is not None


class Invite(_Model):
    """A single-use, expiring invite code bound to one roster entry."""

    code: str
    person_id: int
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


class ItemDraft(BaseModel):
    """An item while it is being entered; every field optional until complete."""

    category: Category | None = None
    content: str | None = None
    target: str | None = None
    deadline: date | None = None
    responsible: str | None = None
    editing_item_id: int | None = None


class PledgeItem(_Model):
    """One 承诺事项: what, the checkable target, by when, who is responsible."""

    id: int
    position: int
    category: Category
    content: str
    target: str
    deadline: date
    responsible: str

    def snapshot(self) -> dict[str, Any]:
        """A JSON-able copy for the audit trail and change display (with the item's id, so
        an abandoned amendment restores the very rows that carry the progress history)."""
        return {
            "id": self.id,
            "category": self.category.value,
            "content": self.content,
            "target": self.target,
            "deadline": self.deadline.isoformat(),
            "responsible": self.responsible,
        }


class Pledge(_Model):
    """A pledge (承诺) of a member or a branch with its items."""

    id: int
    number: str | None
    pledger_kind: PledgerKind
    person_id: int | None
    org_id: int
    drafter_id: int
    horizon: Horizon | None
    status: PledgeStatus
    is_oral: bool = False
    version: int = 1
    pending_item: ItemDraft | None = None
    last_comment: str | None = None
    submitted_snapshot: dict[str, Any] | None = None
    published_snapshot: dict[str, Any] | None = None
    cadre_gaps: list[str] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None = None
    published_at: datetime | None = None
    items: tuple[PledgeItem, ...] = ()

    def items_snapshot(self) -> list[dict[str, Any]]:
        """The items as plain data."""
        return [item.snapshot() for item in self.items]


class Review(_Model):
    """One decision in the audit trail of a pledge."""

    id: int
    pledge_id: int
    reviewer_id: int
    action: ReviewAction
    comment: str | None
    version: int
    at: datetime


class OutboxMessage(_Model):
    """An intent the bot will carry out on its own (a message, a live view, a ballot …)."""

    id: int
    chat_id: int
    kind: str  # the intent (bot.chat.intents)
    payload: dict[str, Any]
    ref: str | None
    status: str
    attempts: int
    parts_sent: int = 0  # of a message split by its channel: the parts already delivered
    not_before: datetime
    message_id: int | None = None
    error: str | None = None
    sender_id: int | None = None
