"""Exports (三公开): the publicity table, the ledger, the pledge letter and the statistics form,
as files for a person in chat or for the operator at the command line.

Permissions are decided here: a secretary exports their own branch, a committee clerk any
organisation of their subtree; a member gets the public table of their branch and their own
pledge letters; a resident gets public data only. Data is read in one unit of work, then the
file is built in a worker thread (``asyncio.to_thread``) so a large branch never blocks the
event loop nor holds the database.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from bot.chat import features
from bot.chat.actor import Actor
from bot.domain import access
from bot.domain.clock import Clock
from bot.domain.enums import PledgerKind, PledgeStatus, Role
from bot.domain.errors import DomainError, Forbidden
from bot.domain.models import Org, Person
from bot.domain.progress_models import ItemStatus
from bot.domain.stats_form import StatsForm, gather, render_message
from bot.exports.models import (
    LedgerLine,
    LedgerSheet,
    Letter,
    LetterItem,
    PublicityRow,
    PublicityTable,
)
from bot.i18n import t
from storage.db import Database
from storage.export_repo import local_date
from storage.uow import UnitOfWork

FEATURE = features.EXPORTS
ORGS_PER_PAGE = 10
PLEDGES_PER_PAGE = 10
LEDGER_MAX_ROWS = 100_000  # a branch's items, read in one go (800 take a few milliseconds)
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_MIME = "application/pdf"


class ExportKind(StrEnum):
    """What can be exported (the value is the short code in an action)."""

    PUBLICITY_XLSX = "px"
    PUBLICITY_PDF = "pp"
    LEDGER = "lx"
    LETTER = "lt"
    STATS = "sx"
    ARCHIVE = "ar"  # the archive for inspection: every file in one ZIP (bot/domain/archive.py)


PUBLIC_KINDS = (ExportKind.PUBLICITY_XLSX, ExportKind.PUBLICITY_PDF)
STAFF_KINDS = tuple(ExportKind)
MEMBER_KINDS = (*PUBLIC_KINDS, ExportKind.LETTER)


@dataclass(frozen=True)
class ExportFile:
    """A built file: its (Chinese) name, bytes, MIME type, and a caption; the statistics
    form also has a chat message."""

    name: str
    data: bytes
    mime: str
    caption: str
    message: str | None = None


@dataclass(frozen=True)
class Menu:
    """What this person may export, and where their choice leads."""

    me: Person
    org: Org
    kinds: tuple[ExportKind, ...]
    committee: bool


@dataclass(frozen=True)
class OrgPage:
    """A committee clerk chooses an organisation: a page of those directly below ``org``."""

    kind: ExportKind
    org: Org
    children: list[tuple[int, str, bool]]
    page: int
    pages: int
    up: int | None  # the parent to go back to (None at the clerk's own level)


@dataclass(frozen=True)
class PledgePage:
    """A page of published pledges to choose a letter from (``org`` None: my own)."""

    org: Org | None
    pledges: list[tuple[int, str, str]]  # id, number, pledger
    page: int
    pages: int
    total: int


def _pages(count: int, per_page: int) -> int:
    return max(1, -(-count // per_page))


def _clamp(page: int, pages: int) -> int:
    return min(max(page, 0), pages - 1)


def _is_committee(me: Person) -> bool:
    return me.role is Role.COMMITTEE or me.is_admin


_UNSAFE = re.compile(r'[\\/:*?"<>|\s]+')


def file_name(*parts: str, ext: str) -> str:
    """A file name people can read (Chinese kept), safe on every system."""
    stem = "_".join(_UNSAFE.sub("_", p).strip("_") for p in parts if p)
    return f"{stem[:120]}.{ext}"


def kinds_for(me: Person) -> tuple[ExportKind, ...]:
    """The exports a person's role allows."""
    if _is_committee(me) or me.role is Role.SECRETARY:
        return STAFF_KINDS
    if me.role is Role.RESIDENT:
        return PUBLIC_KINDS
    return MEMBER_KINDS


class ExportService:
    """Builds exports for people in chat and for the command line."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def today(self) -> date:
        """Today in the campaign's time zone."""
        return self.clock.now().astimezone(self.clock.tz).date()

    # ---- permissions ---------------------------------------------------------------------

    async def may_export(self, uow: UnitOfWork, me: Person, kind: ExportKind, org: Org) -> None:
        """Refused unless ``me`` may export ``kind`` of ``org`` (see the module's docstring)."""
        if _is_committee(me):
            if org.id != me.org_id and org.id not in await uow.exports.subtree_ids(me.org_id):
                raise Forbidden("export.not_your_scope")
            return
        if me.role is Role.SECRETARY:
            if org.id != me.org_id:
                raise Forbidden("export.not_your_branch")
            return
        if kind not in PUBLIC_KINDS:
            if me.role is Role.RESIDENT:
                raise Forbidden("export.resident_public_only")
            raise Forbidden("export.members_public_only")
        if org.id != me.org_id:
            raise Forbidden("export.not_your_branch")

    async def _may_get_letter(self, uow: UnitOfWork, me: Person, pledge: dict[str, Any]) -> None:
        if me.role is Role.RESIDENT:
            raise Forbidden("export.resident_public_only")
        if _is_committee(me):
            if pledge["org_id"] != me.org_id and pledge["org_id"] not in (
                await uow.exports.subtree_ids(me.org_id)
            ):
                raise Forbidden("export.not_your_scope")
            return
        if pledge["person_id"] == me.id:
            return
        if me.role is Role.SECRETARY:
            if pledge["org_id"] == me.org_id:
                return
            raise Forbidden("export.not_your_branch")
        raise Forbidden("export.letter_not_yours")

    async def org(self, uow: UnitOfWork, org_id: int) -> Org:
        """The organisation, or a clear refusal if it is gone."""
        org = await uow.orgs.get(org_id)
        if org is None:
            raise DomainError("export.no_such_org")
        return org

    # ---- the chat's steps ----------------------------------------------------------------

    async def menu(self, actor: Actor) -> Menu:
        """/export: what this person may export."""
        async with self.db.read() as uow:
            me = await access.person_of(uow, actor)
            org = await self.org(uow, me.org_id)
            return Menu(me, org, kinds_for(me), _is_committee(me))

    async def org_page(self, actor: Actor, kind: ExportKind, org_id: int, page: int) -> OrgPage:
        """A committee clerk's choice of organisation, one level of the tree at a time."""
        async with self.db.read() as uow:
            me = await access.person_of(uow, actor)
            if not _is_committee(me):
                raise Forbidden("export.committee_only")
            org = await self.org(uow, org_id)
            await self.may_export(uow, me, kind, org)
            pages = _pages(await uow.exports.count_children(org.id), ORGS_PER_PAGE)
            page = _clamp(page, pages)
            children = await uow.exports.children(org.id, ORGS_PER_PAGE, page * ORGS_PER_PAGE)
            up = org.parent_id if org.id != me.org_id else None
            return OrgPage(kind, org, children, page, pages, up)

    async def pledge_page(self, actor: Actor, org_id: int | None, page: int) -> PledgePage:
        """Published pledges to pick a letter from: a branch's (staff), or my own (org None)."""
        async with self.db.read() as uow:
            me = await access.person_of(uow, actor)
            if me.role is Role.RESIDENT:
                raise Forbidden("export.resident_public_only")
            org: Org | None = None
            person_id: int | None = me.id
            if org_id is not None:
                org = await self.org(uow, org_id)
                if not (_is_committee(me) or me.role is Role.SECRETARY):
                    raise Forbidden("export.letter_not_yours")
                await self.may_export(uow, me, ExportKind.LETTER, org)
                person_id = None
            scope = org.id if org is not None else me.org_id
            total = await uow.exports.count_published(scope, person_id)
            pages = _pages(total, PLEDGES_PER_PAGE)
            page = _clamp(page, pages)
            rows = await uow.exports.published_pledges(
                scope, PLEDGES_PER_PAGE, page * PLEDGES_PER_PAGE, person_id=person_id
            )
            listed = [(int(r["id"]), str(r["number"]), _pledger(r)) for r in rows]
            return PledgePage(org, listed, page, pages, total)

    # ---- building files ------------------------------------------------------------------

    async def export(self, actor: Actor, kind: ExportKind, org_id: int, locale: str) -> ExportFile:
        """A person's export of one organisation (not a letter: see ``letter``)."""
        async with self.db.read() as uow:
            me = await access.person_of(uow, actor)
            org = await self.org(uow, org_id)
            await self.may_export(uow, me, kind, org)
            build = await self.gather_file(uow, kind, org, locale)
        return await asyncio.to_thread(build)

    async def letter(self, actor: Actor, pledge_id: int, locale: str) -> ExportFile:
        """A pledge letter: the pledger's own, or any of the branch (secretary) or the
        subtree (committee)."""
        async with self.db.read() as uow:
            me = await access.person_of(uow, actor)
            pledge = await uow.exports.published_pledge(pledge_id=pledge_id)
            if pledge is None:
                raise DomainError("export.no_such_pledge")
            await self._may_get_letter(uow, me, pledge)
            build = await self._letter(uow, pledge, locale)
        return await asyncio.to_thread(build)

    async def export_for_operator(
        self, kind: ExportKind, org_code: str, pledge_number: str | None, locale: str
    ) -> ExportFile:
        """The command line: the operator may export anything; unknown codes are refused."""
        async with self.db.read() as uow:
            org = await uow.orgs.by_code(org_code)
            if org is None:
                raise DomainError("export.cli.unknown_org", code=org_code)
            if kind is ExportKind.LETTER:
                if not pledge_number:
                    raise DomainError("export.cli.need_pledge")
                pledge = await uow.exports.published_pledge(number=pledge_number)
                if pledge is None:
                    raise DomainError("export.cli.unknown_pledge", number=pledge_number)
                if pledge["org_id"] not in await uow.exports.subtree_ids(org.id):
                    raise DomainError(
                        "export.cli.pledge_elsewhere", number=pledge_number, code=org_code
                    )
                build = await self._letter(uow, pledge, locale)
            else:
                build = await self.gather_file(uow, kind, org, locale)
        return await asyncio.to_thread(build)

    async def gather_file(
        self, uow: UnitOfWork, kind: ExportKind, org: Org, locale: str
    ) -> Callable[[], ExportFile]:
        """Read what the file needs; return the (thread-safe) function that builds it."""
        today = self.today()
        stamp = today.isoformat()
        # Each builder imports its library in the builder's thread: openpyxl or fpdf
        # take a tenth of a second to import, which held the event loop on a first export.
        if kind in PUBLIC_KINDS:
            table = await self.publicity_table(uow, org, today, locale)
            if kind is ExportKind.PUBLICITY_PDF:
                name = file_name(org.name, t(locale, "export.file.publicity"), stamp, ext="pdf")
                caption = t(locale, "export.caption.publicity_pdf", org=org.name)

                def publicity_pdf() -> ExportFile:
                    from bot.exports.pdf import publicity_pdf

                    return ExportFile(name, publicity_pdf(table), PDF_MIME, caption)

                return publicity_pdf
            name = file_name(org.name, t(locale, "export.file.publicity"), stamp, ext="xlsx")
            caption = t(locale, "export.caption.publicity_xlsx", org=org.name)

            def publicity_xlsx() -> ExportFile:
                from bot.exports.xlsx import publicity_xlsx

                return ExportFile(name, publicity_xlsx(table), XLSX_MIME, caption)

            return publicity_xlsx
        if kind is ExportKind.LEDGER:
            sheet = await self.ledger_sheet(uow, org, today, locale)
            name = file_name(org.name, t(locale, "export.file.ledger"), stamp, ext="xlsx")
            caption = t(locale, "export.caption.ledger", org=org.name, items=len(sheet.lines))

            def ledger_xlsx() -> ExportFile:
                from bot.exports.xlsx import ledger_xlsx

                return ExportFile(name, ledger_xlsx(sheet), XLSX_MIME, caption)

            return ledger_xlsx
        if kind is ExportKind.STATS:
            form: StatsForm = await gather(uow, org, today, locale)
            name = file_name(org.name, t(locale, "export.file.stats"), stamp, ext="xlsx")
            caption = t(locale, "export.caption.stats", org=org.name)
            message = render_message(locale, form)

            def stats_xlsx() -> ExportFile:
                from bot.exports.xlsx import stats_xlsx

                return ExportFile(name, stats_xlsx(form), XLSX_MIME, caption, message)

            return stats_xlsx
        raise DomainError("export.pick_a_pledge")

    async def publicity_table(
        self,
        uow: UnitOfWork,
        org: Org,
        today: date,
        locale: str,
        pledges: list[dict[str, Any]] | None = None,
    ) -> PublicityTable:
        """The publicity table of ``org`` (``pledges``: its published pledges, if read)."""
        if pledges is None:
            pledges = await uow.exports.published_pledges(org.id)
        states = await uow.exports.item_states(org.id)
        rows: list[PublicityRow] = []
        for pledge in pledges:
            snapshot = pledge["published_snapshot"] or {}
            pledger = _pledger(pledge)
            for item in snapshot.get("items", []):
                deadline = date.fromisoformat(item["deadline"])
                state = states.get(int(item.get("id") or 0), {})
                rows.append(
                    PublicityRow(
                        number=str(pledge["number"]),
                        pledger=pledger
                        if not pledge["is_oral"]
                        else t(locale, "export.pledger.oral", name=pledger),
                        category=t(locale, f"category.{item['category']}"),
                        content=item["content"],
                        target=item["target"],
                        deadline=deadline,
                        responsible=item["responsible"],
                        state=self._state(locale, state, deadline, today),
                    )
                )
        return PublicityTable(locale, org.name, today, len(pledges), rows)

    def _state(self, locale: str, state: dict[str, Any], deadline: date, today: date) -> str:
        status = ItemStatus(state.get("status") or ItemStatus.OPEN.value)
        if status is ItemStatus.FULFILLED:
            done = state.get("done_on") or local_date(state.get("fulfilled_at"), self.clock.tz)
            return t(locale, "export.state.fulfilled", date=done.isoformat() if done else "")
        if status is ItemStatus.CLAIMED:
            return t(locale, "export.state.claimed")
        if deadline < today:
            return t(locale, "export.state.overdue")
        return t(locale, "export.state.open")

    async def ledger_sheet(
        self,
        uow: UnitOfWork,
        org: Org,
        today: date,
        locale: str,
        pledges: list[dict[str, Any]] | None = None,
    ) -> LedgerSheet:
        """The ledger of ``org``'s items (``pledges``: its published pledges, if read)."""
        if pledges is None:
            pledges = await uow.exports.published_pledges(org.id)
        figures = await uow.ledger.branch_figures(org.id, today)
        rows = await uow.ledger.branch_rows(org.id, LEDGER_MAX_ROWS, 0)
        details = await uow.exports.item_details(org.id)
        # Under amendment the items table holds the edits under review; the ledger shows
        # the text as published (an item the amendment adds is marked, not hidden).
        published = {
            int(item["id"]): item
            for pledge in pledges
            for item in (pledge["published_snapshot"] or {}).get("items", [])
            if item.get("id")
        }
        branch_name = t(locale, "export.pledger.branch", org=org.name)
        lines = []
        for row in rows:
            d = details.get(row.item_id, {})
            category = d.get("category")
            content, deadline = row.content, row.deadline
            target, responsible = d.get("target") or "", d.get("responsible") or ""
            snap = published.get(row.item_id)
            if snap is not None:
                category, content, target = snap["category"], snap["content"], snap["target"]
                deadline = date.fromisoformat(snap["deadline"])
                responsible = snap["responsible"]
            state = {
                "status": row.status.value,
                "done_on": d.get("done_on"),
                "fulfilled_at": row.fulfilled_at,
            }
            status = self._state(locale, state, deadline, today)
            if snap is None and d.get("pledge_status") == PledgeStatus.AMENDING.value:
                status = t(locale, "export.state.amendment", state=status)
            lines.append(
                LedgerLine(
                    number=str(d.get("number") or ""),
                    pledger=branch_name
                    if row.pledger_kind is PledgerKind.BRANCH
                    else row.pledger_name,
                    category=t(locale, f"category.{category}") if category else "",
                    content=str(content),
                    target=str(target),
                    deadline=deadline,
                    responsible=str(responsible),
                    status=status,
                    last_progress=str(d.get("last_text") or ""),
                    last_progress_on=local_date(d.get("last_at"), self.clock.tz),
                    verified_on=local_date(row.fulfilled_at, self.clock.tz),
                )
            )
        return LedgerSheet(locale, org.name, today, figures, lines)

    async def _letter(
        self, uow: UnitOfWork, pledge: dict[str, Any], locale: str
    ) -> Callable[[], ExportFile]:
        letter = await self.letter_model(uow, pledge, locale)
        name = file_name(letter.pledger, t(locale, "export.file.letter"), letter.number, ext="pdf")
        caption = t(locale, "export.caption.letter", number=letter.number, name=letter.pledger)

        def letter_pdf() -> ExportFile:
            from bot.exports.pdf import letter_pdf  # in the builder's thread (see gather_file)

            return ExportFile(name, letter_pdf(letter), PDF_MIME, caption)

        return letter_pdf

    async def letter_model(self, uow: UnitOfWork, pledge: dict[str, Any], locale: str) -> Letter:
        """A published pledge as its letter prints it (reviewer, post, recorder, items)."""
        snapshot = pledge["published_snapshot"] or {}
        org = await self.org(uow, int(pledge["org_id"]))
        branch = pledge["pledger_kind"] == PledgerKind.BRANCH.value
        if branch:
            parents = await uow.orgs.ancestors(org.id)
            reviewer_org = parents[0].name if parents else org.name
        else:
            reviewer_org = org.name
        post = None
        if pledge["person_id"] is not None:
            post = (await uow.exports.posts([int(pledge["person_id"])])).get(
                int(pledge["person_id"])
            )
        recorder = None
        if pledge["is_oral"]:
            recorder = (await uow.exports.names([int(pledge["drafter_id"])])).get(
                int(pledge["drafter_id"])
            )
        horizon = snapshot.get("horizon")
        published = pledge["published_at"]
        return Letter(
            locale=locale,
            branch_pledge=branch,
            number=str(pledge["number"]),
            pledger=_pledger(pledge),
            org_name=org.name,
            post=post,
            horizon=t(locale, f"horizon.{horizon}") if horizon else t(locale, "horizon.unset"),
            oral_recorder=recorder,
            reviewer_org=reviewer_org,
            approver=await uow.exports.approver(int(pledge["id"])),
            published_on=local_date(published, self.clock.tz) or self.today(),
            items=[
                LetterItem(
                    category=t(locale, f"category.{i['category']}"),
                    content=i["content"],
                    target=i["target"],
                    deadline=date.fromisoformat(i["deadline"]),
                    responsible=i["responsible"],
                )
                for i in snapshot.get("items", [])
            ],
        )


def _pledger(pledge: dict[str, Any]) -> str:
    snapshot = pledge.get("published_snapshot") or {}
    return str(snapshot.get("pledger_name") or "?")
