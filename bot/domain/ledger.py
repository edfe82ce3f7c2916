"""台账: the fulfilment ledger of a branch (per member and item) and of a committee (per branch).

Each page is read from the database when asked for (counts and the page's rows in SQL), so a
page button works after a restart and nothing is kept in memory between taps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from bot.chat import features
from bot.chat.actions import Action, Button, Rows, action
from bot.chat.actor import Actor
from bot.domain import access
from bot.domain.clock import Clock
from bot.domain.dates import local_date
from bot.domain.enums import PledgerKind, Role
from bot.domain.errors import DomainError, Forbidden
from bot.domain.models import Org, Person
from bot.domain.notify import TEXT_LIMIT
from bot.domain.progress import FEATURE as PROGRESS_FEATURE
from bot.domain.progress_models import (
    BranchFigures,
    DistrictTotals,
    Figures,
    ItemStatus,
    LedgerRow,
)
from bot.i18n import t
from storage.db import Database
from storage.uow import UnitOfWork

FEATURE = features.LEDGER  # actions: ld:b:<org>:<page>[:<district page>] and ld:d:<page>
ROWS_PER_PAGE = 25
BRANCHES_PER_PAGE = 16
CONTENT_CHARS = 24
NAME_CHARS = 20


@dataclass(frozen=True)
class BranchPage:
    """One page of a branch's ledger."""

    org: Org
    figures: Figures
    rows: list[LedgerRow]
    page: int
    pages: int
    today: date
    back_page: int | None  # set when a committee opened it from its district view


@dataclass(frozen=True)
class DistrictPage:
    """One page of a committee's ledger: totals and a page of branches."""

    org: Org
    totals: DistrictTotals
    branches: list[BranchFigures]
    page: int
    pages: int


def _pages(count: int, per_page: int) -> int:
    return max(1, -(-count // per_page))


def _clamp(page: int, pages: int) -> int:
    return min(max(page, 0), pages - 1)


def _is_committee(me: Person) -> bool:
    return me.role is Role.COMMITTEE or me.is_admin


class LedgerService:
    """Reading the ledger; permissions are checked here, not only by hiding buttons."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def _today(self) -> date:
        return self.clock.now().astimezone(self.clock.tz).date()

    async def open(self, actor: Actor) -> BranchPage | DistrictPage:
        """/ledger: a secretary's branch, or a committee's district view."""
        async with self.db.read() as uow:
            me = await access.person_of(uow, actor)
            if _is_committee(me):
                return await self._district(uow, me, 0)
            if me.role is Role.SECRETARY:
                return await self._branch(uow, me.org_id, 0, None)
            raise Forbidden("ledger.not_allowed")

    async def branch(
        self, actor: Actor, org_id: int, page: int, back_page: int | None = None
    ) -> BranchPage:
        """One page of a branch's ledger: its secretary, or a committee above it."""
        async with self.db.read() as uow:
            me = await access.person_of(uow, actor)
            if _is_committee(me):
                if org_id != me.org_id and not await uow.ledger.in_scope(me.org_id, org_id):
                    raise Forbidden("ledger.not_your_branch")
            elif me.role is Role.SECRETARY:
                if org_id != me.org_id:
                    raise Forbidden("ledger.not_your_branch")
                back_page = None
            else:
                raise Forbidden("ledger.not_allowed")
            return await self._branch(uow, org_id, page, back_page)

    async def district(self, actor: Actor, page: int) -> DistrictPage:
        """One page of the committee's view."""
        async with self.db.read() as uow:
            me = await access.person_of(uow, actor)
            if not _is_committee(me):
                raise Forbidden("ledger.committee_only")
            return await self._district(uow, me, page)

    async def _branch(
        self, uow: UnitOfWork, org_id: int, page: int, back_page: int | None
    ) -> BranchPage:
        org = await uow.orgs.get(org_id)
        if org is None:
            raise DomainError("ledger.no_such_branch")
        today = self._today()
        figures = await uow.ledger.branch_figures(org.id, today)
        pages = _pages(figures.items, ROWS_PER_PAGE)
        page = _clamp(page, pages)
        rows = await uow.ledger.branch_rows(org.id, ROWS_PER_PAGE, page * ROWS_PER_PAGE)
        return BranchPage(org, figures, rows, page, pages, today, back_page)

    async def _district(self, uow: UnitOfWork, me: Person, page: int) -> DistrictPage:
        org = await uow.orgs.get(me.org_id)
        assert org is not None
        today = self._today()
        totals = await uow.ledger.district_totals(org.id, today)
        pages = _pages(totals.branches, BRANCHES_PER_PAGE)
        page = _clamp(page, pages)
        branches = await uow.ledger.district_branches(
            org.id, today, BRANCHES_PER_PAGE, page * BRANCHES_PER_PAGE
        )
        return DistrictPage(org, totals, branches, page, pages)


# ---- rendering ---------------------------------------------------------------------------


def _button(text: str, name: str, *args: object) -> Button:
    return Button(text, action=action(FEATURE, name, *args))


def _short(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def percent(rate: float | None) -> str:
    """A rate as people read it: 87.5%; a dash when there is nothing to count."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


def figures_line(locale: str | None, figures: Figures) -> str:
    """Items, fulfilled, the fulfilment and on-time rates, overdue and waiting counts."""
    return t(
        locale,
        "ledger.figures",
        items=figures.items,
        fulfilled=figures.fulfilled,
        rate=percent(figures.rate),
        on_time=percent(figures.on_time_rate),
        overdue=figures.overdue,
        claimed=figures.claimed,
    )


def _mark(row: LedgerRow, today: date) -> str:
    if row.status is ItemStatus.FULFILLED:
        return "✓"
    late = row.deadline < today
    if row.status is ItemStatus.CLAIMED:
        return "⏳⚠" if late else "⏳"
    return "⚠" if late else "○"


def _local_day(moment: datetime | None, tz: tzinfo) -> str:
    if moment is None:
        return "—"
    return local_date(moment, tz).strftime("%m-%d")


def _nav(
    locale: str | None, page: int, pages: int, target: Callable[[int], Action]
) -> list[Button]:
    """◀ ▶ buttons; ``target(page)`` is the action of a page."""
    row = []
    if page > 0:
        row.append(Button(t(locale, "ledger.btn.prev"), action=target(page - 1)))
    if page < pages - 1:
        row.append(Button(t(locale, "ledger.btn.next"), action=target(page + 1)))
    return row


def _fit(lines: list[str]) -> str:
    """Join lines, never past Telegram's limit (pages are sized well below it)."""
    text = "\n".join(lines)
    if len(text) <= TEXT_LIMIT:
        return text
    cut = text.rfind("\n", 0, TEXT_LIMIT - 2)
    return text[: cut if cut > 0 else TEXT_LIMIT - 2] + "\n…"


def render_branch(locale: str | None, view: BranchPage, tz: tzinfo) -> tuple[str, Rows]:
    """A branch ledger page: figures, then items grouped by pledger, with paging buttons."""
    lines = [
        t(locale, "ledger.branch.title", org=view.org.name, page=view.page + 1, pages=view.pages),
        figures_line(locale, view.figures),
        t(locale, "ledger.legend"),
    ]
    if not view.rows:
        lines += ["", t(locale, "ledger.branch.empty")]
    current: tuple[PledgerKind, int | None] | None = None
    for row in view.rows:
        key = (row.pledger_kind, row.person_id)
        if key != current:
            current = key
            name = (
                t(locale, "ledger.branch_pledge")
                if row.pledger_kind is PledgerKind.BRANCH
                else _short(row.pledger_name, NAME_CHARS)
            )
            lines += ["", t(locale, "ledger.pledger", name=name)]
        lines.append(
            t(
                locale,
                "ledger.row",
                mark=_mark(row, view.today),
                content=_short(row.content, CONTENT_CHARS),
                deadline=row.deadline.isoformat(),
                last=_local_day(row.last_progress_at, tz),
            )
        )
    buttons: Rows = []
    back = () if view.back_page is None else (view.back_page,)
    nav = _nav(
        locale, view.page, view.pages, lambda p: action(FEATURE, "b", view.org.id, p, *back)
    )
    if nav:
        buttons.append(nav)
    if view.figures.claimed:
        buttons.append(
            [
                Button(
                    t(locale, "ledger.btn.pending", count=view.figures.claimed),
                    action=action(PROGRESS_FEATURE, "pend"),
                )
            ]
        )
    if view.back_page is not None:
        buttons.append([_button(t(locale, "ledger.btn.district"), "d", view.back_page)])
    return _fit(lines), buttons


def render_district(locale: str | None, view: DistrictPage) -> tuple[str, Rows]:
    """The committee's view: district totals, a page of branches, a button per branch."""
    totals = view.totals
    lines = [
        t(locale, "ledger.district.title", org=view.org.name),
        t(
            locale,
            "ledger.district.scope",
            branches=totals.branches,
            members=totals.pledging_members,
        ),
        figures_line(locale, totals.figures),
        "",
        t(locale, "ledger.district.branches", page=view.page + 1, pages=view.pages),
    ]
    if not view.branches:
        lines.append(t(locale, "ledger.district.empty"))
    buttons: Rows = []
    pair: list[Button] = []
    start = view.page * BRANCHES_PER_PAGE
    for index, branch in enumerate(view.branches, start=start + 1):
        f = branch.figures
        lines.append(
            t(
                locale,
                "ledger.district.row",
                n=index,
                name=_short(branch.name, NAME_CHARS),
                items=f.items,
                fulfilled=f.fulfilled,
                rate=percent(f.rate),
                overdue=f.overdue,
            )
        )
        pair.append(
            _button(
                t(locale, "ledger.btn.branch", n=index, name=_short(branch.name, 12)),
                "b",
                branch.org_id,
                0,
                view.page,
            )
        )
        if len(pair) == 2:
            buttons.append(pair)
            pair = []
    if pair:
        buttons.append(pair)
    nav = _nav(locale, view.page, view.pages, lambda p: action(FEATURE, "d", p))
    if nav:
        buttons.append(nav)
    return _fit(lines), buttons
