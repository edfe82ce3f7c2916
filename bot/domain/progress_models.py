"""Models of fulfilment (践诺): progress entries with evidence, item status, ledger figures.

Kept apart from the services so the storage layer can return them without import cycles.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.enums import PledgerKind


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class ItemStatus(StrEnum):
    """Where an item stands: open → claimed (the pledger says done) → fulfilled (兑现销号)."""

    OPEN = "open"
    CLAIMED = "claimed"
    FULFILLED = "fulfilled"


class Verdict(StrEnum):
    """A progress entry is a plain note, or a claim that is open, accepted or sent back."""

    NOTE = "note"
    OPEN = "open"
    ACCEPTED = "accepted"
    SENT_BACK = "sent_back"


class EvidenceKind(StrEnum):
    """Evidence is a photo or a file, kept in Jiannuo's file store (bot/domain/files.py)."""

    PHOTO = "photo"
    DOCUMENT = "document"


class Evidence(_Model):
    """One attachment of a progress entry."""

    kind: EvidenceKind
    file: int  # the stored file's id (bot/domain/files.py), never a channel's handle
    size: int = 0
    name: str | None = None


class ProgressEntry(_Model):
    """One progress record (记实) on an item; a claim when ``claims_fulfilled``."""

    id: int
    item_id: int
    pledge_id: int
    org_id: int
    author_id: int
    text: str
    evidence: tuple[Evidence, ...] = ()
    claims_fulfilled: bool = False
    verdict: Verdict = Verdict.NOTE
    verdict_comment: str | None = None
    verified_by: int | None = None
    verified_at: datetime | None = None
    month: str
    created_at: datetime


class ItemProgress(_Model):
    """The fulfilment state of one item (no row yet means open)."""

    item_id: int
    status: ItemStatus = ItemStatus.OPEN
    last_progress_at: datetime | None = None
    fulfilled_at: datetime | None = None
    verified_by: int | None = None


class ReportableItem(_Model):
    """An item of a published pledge, as its reporter picks it."""

    item_id: int
    pledge_id: int
    position: int
    content: str
    target: str
    deadline: date
    pledger_kind: PledgerKind
    person_id: int | None
    drafter_id: int
    is_oral: bool
    org_id: int
    number: str | None
    status: ItemStatus = ItemStatus.OPEN


class RecordLine(_Model):
    """A progress entry with the content of its item, for the monthly record."""

    entry: ProgressEntry
    item_content: str


class LedgerRow(_Model):
    """One item in a branch ledger."""

    item_id: int
    content: str
    deadline: date
    pledger_kind: PledgerKind
    person_id: int | None
    pledger_name: str
    status: ItemStatus
    last_progress_at: datetime | None = None
    fulfilled_at: datetime | None = None


class Figures(_Model):
    """Counts over items of published pledges (a branch, or the whole district)."""

    items: int = 0
    fulfilled: int = 0
    on_time: int = 0
    overdue: int = 0
    claimed: int = 0

    @property
    def rate(self) -> float | None:
        """兑现率: fulfilled ÷ all items (None when there are no items)."""
        return self.fulfilled / self.items if self.items else None

    @property
    def on_time_rate(self) -> float | None:
        """按时兑现率: fulfilled by the deadline ÷ all items."""
        return self.on_time / self.items if self.items else None


class BranchFigures(_Model):
    """One branch's line in the committee's ledger."""

    org_id: int
    name: str
    code: str
    figures: Figures = Field(default_factory=Figures)


class DistrictTotals(_Model):
    """The committee's totals over every branch below it."""

    branches: int = 0
    pledging_members: int = 0
    figures: Figures = Field(default_factory=Figures)


def evidence_json(items: tuple[Evidence, ...] | list[Evidence]) -> list[dict[str, Any]]:
    """Evidence as stored in the JSON column."""
    return [e.model_dump(mode="json") for e in items]
