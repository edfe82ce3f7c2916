"""The plain data each file builder takes (already localised, already permitted)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.domain.progress_models import Figures


@dataclass(frozen=True)
class PublicityRow:
    """One item on the registration/publicity table (承诺登记(公示)表)."""

    number: str
    pledger: str
    category: str
    content: str
    target: str
    deadline: date
    responsible: str
    state: str  # 兑现情况, in words


@dataclass(frozen=True)
class PublicityTable:
    """A branch's publicity table: published pledges only, never a phone number."""

    locale: str
    org_name: str
    as_of: date
    pledges: int
    rows: list[PublicityRow] = field(default_factory=list)


@dataclass(frozen=True)
class LedgerLine:
    """One item of the ledger (台账)."""

    number: str
    pledger: str
    category: str
    content: str
    target: str
    deadline: date
    responsible: str
    status: str
    last_progress: str
    last_progress_on: date | None
    verified_on: date | None


@dataclass(frozen=True)
class LedgerSheet:
    """A branch's ledger with its figures."""

    locale: str
    org_name: str
    as_of: date
    figures: Figures
    lines: list[LedgerLine] = field(default_factory=list)


@dataclass(frozen=True)
class LetterItem:
    """One pledged item as the letter prints it."""

    category: str
    content: str
    target: str
    deadline: date
    responsible: str


@dataclass(frozen=True)
class Letter:
    """A pledge letter (承诺书): printed three times, one copy per keeper."""

    locale: str
    branch_pledge: bool
    number: str
    pledger: str
    org_name: str
    post: str | None
    horizon: str
    oral_recorder: str | None  # set for an oral pledge: who recorded it
    reviewer_org: str  # 审定方: the branch for a member, the committee for a branch
    approver: str | None
    published_on: date
    items: list[LetterItem] = field(default_factory=list)


@dataclass(frozen=True)
class Table:
    """One sheet of a workbook: tab name, title, subtitle, headers, column widths, rows."""

    sheet: str
    title: str
    subtitle: str
    headers: list[str]
    widths: tuple[int, ...]
    rows: list[list[Any]] = field(default_factory=list)


@dataclass(frozen=True)
class IndexEntry:
    """One file of the archive as its index page lists it."""

    name: str
    what: str
    period: str
    count: str = ""
