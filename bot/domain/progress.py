"""践诺: progress records with evidence (记实), fulfilment claims and verification (兑现销号).

A member reports on the items of their published pledges; a report may claim the item
fulfilled. The claim goes to the branch secretary (a claim on the branch's own pledge, or by
a secretary, goes to the committee above): accepted, the item is ticked off; sent back, it is
open again with the verifier's comment. Every entry keeps its month: a member's monthly
record is the set of their entries of that month.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.chat import features
from bot.chat.actions import Button, Rows, action
from bot.chat.actor import Actor
from bot.domain import access
from bot.domain import pledge_rules as rules
from bot.domain.board import refresh_board
from bot.domain.clock import Clock
from bot.domain.dates import format_date
from bot.domain.enums import PledgerKind, Role
from bot.domain.errors import DomainError, Forbidden
from bot.domain.models import Person
from bot.domain.notify import tell, tell_text
from bot.domain.progress_models import (
    Evidence,
    EvidenceKind,
    ItemStatus,
    ProgressEntry,
    RecordLine,
    ReportableItem,
    Verdict,
    evidence_json,
)
from bot.i18n import normalize_locale, t
from storage.db import Database
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

FEATURE = features.PROGRESS  # actions: pg:<action>:<id>
MAX_TEXT = 1000
MAX_COMMENT = rules.MAX_COMMENT
MB = 1024 * 1024
MAX_PHOTO_BYTES = 10 * MB
MAX_DOCUMENT_BYTES = 20 * MB
MAX_EVIDENCE = 10  # per entry: a verifier reviews them one by one
PENDING_LIMIT = 20


def button(text: str, name: str, *args: object) -> Button:
    """An inline button of this feature."""
    return Button(text, action=action(FEATURE, name, *args))


def month_of(moment: datetime, clock: Clock) -> str:
    """The record month (YYYY-MM) of a moment, in the campaign's time zone."""
    return moment.astimezone(clock.tz).strftime("%Y-%m")


def month_label(locale: str | None, month: str) -> str:
    """A YYYY-MM month as people read it: 2026年6月 in Chinese, 2026-06 in English."""
    if normalize_locale(locale) == "en" or not valid_month(month):
        return month
    year, mon = month.split("-")
    return f"{year}年{int(mon)}月"


def previous_month(month: str) -> str:
    """The month before a YYYY-MM month."""
    year, mon = (int(p) for p in month.split("-"))
    return f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"


def valid_month(month: str) -> bool:
    """Whether text is a YYYY-MM month (an action's arguments are checked before use)."""
    parts = month.split("-")
    return (
        len(parts) == 2
        and len(parts[0]) == 4
        and parts[0].isdigit()
        and parts[1].isdigit()
        and 1 <= int(parts[1]) <= 12
    )


@dataclass(frozen=True)
class ItemView:
    """An item as its reporter sees it."""

    item: ReportableItem
    pledger_name: str
    own: bool  # the reporter is the pledger (not a branch pledge or a recorded oral pledge)


@dataclass(frozen=True)
class EntryView:
    """A progress entry with its item."""

    entry: ProgressEntry
    item: ReportableItem
    pledger_name: str
    notified: int = 0  # verifiers told of a claim


@dataclass(frozen=True)
class ClaimView:
    """A claim as a verifier sees it."""

    entry: ProgressEntry
    item: ReportableItem
    pledger_name: str
    author_name: str


@dataclass(frozen=True)
class MonthRecord:
    """A member's monthly record (记实)."""

    person: Person
    month: str
    current: str  # the month it is now
    lines: list[RecordLine]


def may_report(me: Person, item: ReportableItem) -> bool:
    """The pledger reports on their items; the secretary on the branch's own pledge and on
    the oral pledges they recorded for members."""
    if item.pledger_kind is PledgerKind.MEMBER:
        return item.person_id == me.id or (item.is_oral and item.drafter_id == me.id)
    return me.role is Role.SECRETARY and me.org_id == item.org_id


def _is_verifier_role(me: Person) -> bool:
    return me.role in (Role.SECRETARY, Role.COMMITTEE) or me.is_admin


async def may_verify(uow: UnitOfWork, me: Person, item: ReportableItem, author_id: int) -> bool:
    """Member items: the branch secretary or the committee above; branch items: the committee.

    Nobody verifies their own claim or their own item.
    """
    if me.id == author_id or (item.pledger_kind is PledgerKind.MEMBER and item.person_id == me.id):
        return False
    ancestors = {org.id for org in await uow.orgs.ancestors(item.org_id)}
    committee_above = (me.role is Role.COMMITTEE or me.is_admin) and me.org_id in ancestors
    if item.pledger_kind is PledgerKind.MEMBER:
        if me.role is Role.SECRETARY and me.org_id == item.org_id:
            return True
        return committee_above
    return committee_above and me.id != item.drafter_id


def _verdict_key(key: str, view: ClaimView, person: Person) -> str:
    """A verdict as its hearer owns it: their own item and claim, the branch's, a member's
    they recorded (an oral pledger's), or, to that member, a claim his recorder made."""
    if view.item.pledger_kind is PledgerKind.BRANCH:
        return f"{key}_branch"
    if person.id != view.item.person_id:
        return f"{key}_for"
    return key if view.entry.author_id == person.id else f"{key}_oral"


async def verifiers_for(uow: UnitOfWork, item: ReportableItem, author_id: int) -> list[Person]:
    """Who hears a claim: the branch secretaries, else the nearest committee staff.

    A level where nobody has joined the bot yet is passed over, so a claim is not left
    unheard while someone above could verify it.
    """
    exclude = {author_id, item.person_id}
    levels: list[list[Person]] = []
    if item.pledger_kind is PledgerKind.MEMBER:
        levels.append(await uow.people.in_org(item.org_id, [Role.SECRETARY.value]))
    else:
        exclude.add(item.drafter_id)
    for org in await uow.orgs.ancestors(item.org_id):
        levels.append(await uow.people.in_org(org.id, [Role.COMMITTEE.value]))
    for level in levels:
        reachable = [p for p in level if p.id not in exclude and p.joined]
        if reachable:
            return reachable
    return []


async def _pledger_name(uow: UnitOfWork, item: ReportableItem) -> str:
    if item.pledger_kind is PledgerKind.BRANCH or item.person_id is None:
        org = await uow.orgs.get(item.org_id)
        return org.name if org else "?"
    person = await uow.people.get(item.person_id)
    return person.name if person else "?"


def check_size(kind: EvidenceKind, size: int) -> None:
    """Refuse a photo over 10 MB or a file over 20 MB, naming the limit (before it is even
    fetched: the size is what the channel reports)."""
    limit = MAX_PHOTO_BYTES if kind is EvidenceKind.PHOTO else MAX_DOCUMENT_BYTES
    if size > limit:
        key = "photo" if kind is EvidenceKind.PHOTO else "file"
        raise DomainError(f"progress.{key}.too_big", size=f"{size / MB:.1f}", limit=limit // MB)


def check_evidence(evidence: Evidence) -> None:
    """Refuse a photo over 10 MB or a file over 20 MB, naming the limit."""
    check_size(evidence.kind, evidence.size)


def claim_card(locale: str | None, claim: ClaimView) -> str:
    """The text a verifier gets for a claim (and sees again in the pending list)."""
    entry, item = claim.entry, claim.item
    lines = [
        t(locale, "progress.claim.incoming", name=claim.pledger_name),
        t(locale, "progress.claim.item", content=item.content),
        t(locale, "progress.claim.target", target=item.target),
        t(locale, "progress.claim.deadline", deadline=format_date(item.deadline, locale)),
        t(locale, "progress.claim.text", text=entry.text),
    ]
    if claim.author_name != claim.pledger_name:
        lines.append(t(locale, "progress.claim.by", name=claim.author_name))
    if entry.evidence:
        lines.append(t(locale, "progress.claim.evidence", count=len(entry.evidence)))
    else:
        lines.append(t(locale, "progress.claim.no_evidence"))
    return "\n".join(lines)


def claim_buttons(locale: str | None, entry: ProgressEntry) -> Rows:
    """Accept / send back, bound to this claim (a decided claim's buttons are stale)."""
    rows = [
        [
            button(t(locale, "progress.btn.accept"), "ok", entry.id),
            button(t(locale, "progress.btn.send_back"), "back", entry.id),
        ]
    ]
    if entry.evidence:
        rows.append(
            [button(t(locale, "progress.btn.evidence", count=len(entry.evidence)), "ev", entry.id)]
        )
    return rows


class ProgressService:
    """Reporting progress, claiming fulfilment, verifying claims, monthly records."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    # ---- reporting ----------------------------------------------------------------------

    async def reportable(self, actor: Actor) -> list[ItemView]:
        """Every item of the published pledges this person reports on, with its status."""
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            if not access.can_pledge(me):
                raise Forbidden("progress.residents")
            items = await uow.progress.reportable_items(
                me.id, me.org_id, branch_pledges=me.role is Role.SECRETARY
            )
            names: dict[int, str] = {}
            result = []
            for item in items:
                if item.pledge_id not in names:
                    names[item.pledge_id] = await _pledger_name(uow, item)
                own = item.pledger_kind is PledgerKind.MEMBER and item.person_id == me.id
                result.append(ItemView(item, names[item.pledge_id], own))
            return result

    async def _item_for_report(self, uow: UnitOfWork, me: Person, item_id: int) -> ReportableItem:
        item = await uow.progress.item(item_id)
        if item is None or item.number is None:
            raise DomainError("progress.item_gone")
        if not may_report(me, item):
            raise Forbidden("progress.not_yours")
        if item.status is ItemStatus.FULFILLED:
            raise DomainError("progress.already_fulfilled")
        return item

    async def begin(self, actor: Actor, item_id: int) -> ItemView:
        """Check that this person may report on the item now (before asking what was done)."""
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            item = await self._item_for_report(uow, me, item_id)
            own = item.pledger_kind is PledgerKind.MEMBER and item.person_id == me.id
            return ItemView(item, await _pledger_name(uow, item), own)

    async def record(
        self,
        actor: Actor,
        item_id: int,
        text: str,
        evidence: Evidence | None = None,
        *,
        sent_before: Sequence[Evidence] = (),
    ) -> EntryView:
        """Keep what was done as a progress entry of this month (evidence may follow).

        ``sent_before``: photos and files sent before the words, kept for this entry."""
        cleaned = rules.clean_text(text, MAX_TEXT, "progress.text")
        attached = [*sent_before, *([evidence] if evidence is not None else [])]
        for each in attached:
            check_evidence(each)
        if len(attached) > MAX_EVIDENCE:
            raise DomainError("progress.evidence.too_many", limit=MAX_EVIDENCE)
        now = self.clock.now()
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            item = await self._item_for_report(uow, me, item_id)
            entry_id = await uow.progress.add_entry(
                item_id=item.item_id,
                pledge_id=item.pledge_id,
                org_id=item.org_id,
                author_id=me.id,
                text=cleaned,
                evidence=evidence_json(attached),
                claims_fulfilled=False,
                verdict=Verdict.NOTE.value,
                month=month_of(now, self.clock),
                created_at=now,
            )
            await uow.progress.touch_item(item.item_id, now)
            await refresh_board(uow, item.pledge_id, now)  # the board shows the last progress
            return await self._entry_view(uow, entry_id)

    async def _entry_view(self, uow: UnitOfWork, entry_id: int, notified: int = 0) -> EntryView:
        entry = await uow.progress.entry(entry_id)
        if entry is None:
            raise DomainError("progress.entry_gone")
        item = await uow.progress.item(entry.item_id)
        if item is None:
            raise DomainError("progress.item_gone")
        return EntryView(entry, item, await _pledger_name(uow, item), notified)

    async def _own_entry(self, uow: UnitOfWork, me: Person, entry_id: int) -> ProgressEntry:
        entry = await uow.progress.entry(entry_id)
        if entry is None:
            raise DomainError("progress.entry_gone")
        if entry.author_id != me.id:
            raise Forbidden("progress.not_yours")
        return entry

    async def attach(self, actor: Actor, entry_id: int, evidence: Evidence) -> EntryView:
        """Add a photo or a file to one's own entry (while it is a note or an open claim)."""
        check_evidence(evidence)
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            entry = await self._own_entry(uow, me, entry_id)
            if entry.verdict not in (Verdict.NOTE, Verdict.OPEN):
                raise DomainError("progress.entry_closed")
            if len(entry.evidence) >= MAX_EVIDENCE:
                raise DomainError("progress.evidence.too_many", limit=MAX_EVIDENCE)
            await uow.progress.set_evidence(entry.id, evidence_json([*entry.evidence, evidence]))
            return await self._entry_view(uow, entry.id)

    async def entry(self, actor: Actor, entry_id: int) -> EntryView:
        """One's own entry as it stands (to close the attaching step)."""
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            entry = await self._own_entry(uow, me, entry_id)
            return await self._entry_view(uow, entry.id)

    async def claim(self, actor: Actor, entry_id: int) -> EntryView:
        """Claim the item fulfilled with this entry; the verifiers are told (outbox)."""
        now = self.clock.now()
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            entry = await self._own_entry(uow, me, entry_id)
            item = await self._item_for_report(uow, me, entry.item_id)
            if item.status is ItemStatus.CLAIMED or entry.verdict is not Verdict.NOTE:
                raise DomainError("progress.already_claimed")
            if not await uow.progress.make_claim(entry.id):
                raise DomainError("progress.already_claimed")
            await uow.progress.touch_item(item.item_id, now)
            if not await uow.progress.move_item(item.item_id, ItemStatus.OPEN, ItemStatus.CLAIMED):
                raise DomainError("progress.already_claimed")
            view = await self._entry_view(uow, entry.id)
            claim = ClaimView(view.entry, view.item, view.pledger_name, me.name)
            told = 0
            for verifier in await verifiers_for(uow, item, me.id):
                loc = verifier.locale
                if await tell_text(
                    uow,
                    verifier,
                    claim_card(loc, claim),
                    now,
                    buttons=claim_buttons(loc, view.entry),
                ):
                    told += 1
            return EntryView(view.entry, view.item, view.pledger_name, told)

    # ---- verifying ----------------------------------------------------------------------

    async def _claim_view(self, uow: UnitOfWork, entry: ProgressEntry) -> ClaimView:
        item = await uow.progress.item(entry.item_id)
        if item is None:
            raise DomainError("progress.item_gone")
        author = await uow.people.get(entry.author_id)
        author_name = author.name if author else "?"
        return ClaimView(entry, item, await _pledger_name(uow, item), author_name)

    async def _decidable(
        self, uow: UnitOfWork, me: Person, entry_id: int
    ) -> tuple[ProgressEntry, ClaimView]:
        if not _is_verifier_role(me):
            raise Forbidden("progress.not_a_verifier")
        entry = await uow.progress.entry(entry_id)
        if entry is None or not entry.claims_fulfilled:
            raise DomainError("progress.entry_gone")
        view = await self._claim_view(uow, entry)
        if entry.author_id == me.id or (
            view.item.pledger_kind is PledgerKind.MEMBER and view.item.person_id == me.id
        ):
            raise Forbidden("progress.own_claim")
        if not await may_verify(uow, me, view.item, entry.author_id):
            raise Forbidden("progress.not_your_scope")
        if entry.verdict is not Verdict.OPEN:
            raise DomainError(
                "progress.already_decided",
                verdict=t(me.locale, f"progress.verdict.{entry.verdict.value}"),
            )
        if view.item.status is not ItemStatus.CLAIMED:
            raise DomainError("progress.stale")
        return entry, view

    async def check_verifiable(self, actor: Actor, entry_id: int) -> ClaimView:
        """Before asking for a send-back comment: may this person still decide this claim?"""
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            _, view = await self._decidable(uow, me, entry_id)
            return view

    async def accept(self, actor: Actor, entry_id: int) -> ClaimView:
        """Accept the claim: the item is ticked off (兑现销号) and the pledger is told."""
        now = self.clock.now()
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            entry, view = await self._decidable(uow, me, entry_id)
            if not await uow.progress.decide(entry.id, Verdict.ACCEPTED, me.id, now, None):
                raise DomainError("progress.stale")
            done_on: date = entry.created_at.astimezone(self.clock.tz).date()
            if not await uow.progress.move_item(
                view.item.item_id,
                ItemStatus.CLAIMED,
                ItemStatus.FULFILLED,
                fulfilled_at=now,
                verified_by=me.id,
                done_on=done_on,
            ):
                raise DomainError("progress.stale")
            await refresh_board(uow, view.item.pledge_id, now)  # ticked off on the board too
            for person in await self._told(uow, view, me.id):
                await tell(
                    uow,
                    person,
                    _verdict_key("progress.result.accepted", view, person),
                    now,
                    name=view.pledger_name,
                    author=view.author_name,
                    content=view.item.content,
                    verifier=me.name,
                )
            fresh = await uow.progress.entry(entry.id)
            assert fresh is not None
            return ClaimView(fresh, view.item, view.pledger_name, view.author_name)

    async def send_back(self, actor: Actor, entry_id: int, comment: str) -> ClaimView:
        """Send the claim back with a comment: the item is open again and the pledger told."""
        now = self.clock.now()
        text = rules.clean_text(comment, MAX_COMMENT, "progress.comment")
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            entry, view = await self._decidable(uow, me, entry_id)
            if not await uow.progress.decide(entry.id, Verdict.SENT_BACK, me.id, now, text):
                raise DomainError("progress.stale")
            if not await uow.progress.move_item(
                view.item.item_id, ItemStatus.CLAIMED, ItemStatus.OPEN
            ):
                raise DomainError("progress.stale")
            for person in await self._told(uow, view, me.id):
                await tell(
                    uow,
                    person,
                    _verdict_key("progress.result.sent_back", view, person),
                    now,
                    name=view.pledger_name,
                    # Who made the claim claims again: a recorder's claim is not his member's.
                    buttons=[
                        [
                            button(
                                t(person.locale, "progress.btn.report_again"),
                                "it",
                                view.item.item_id,
                            )
                        ]
                    ]
                    if person.id == entry.author_id
                    else None,
                    author=view.author_name,
                    content=view.item.content,
                    verifier=me.name,
                    comment=text,
                )
            fresh = await uow.progress.entry(entry.id)
            assert fresh is not None
            return ClaimView(fresh, view.item, view.pledger_name, view.author_name)

    async def _told(self, uow: UnitOfWork, view: ClaimView, verifier_id: int) -> list[Person]:
        """Who hears a verdict: the claim's author, and the member if someone else recorded it."""
        ids = {view.entry.author_id}
        if view.item.person_id is not None:
            ids.add(view.item.person_id)
        ids.discard(verifier_id)
        return list((await uow.people.by_ids(ids)).values())

    async def evidence(self, actor: Actor, entry_id: int) -> ClaimView:
        """An entry's evidence, for its author or for someone who may verify it."""
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            entry = await uow.progress.entry(entry_id)
            if entry is None:
                raise DomainError("progress.entry_gone")
            view = await self._claim_view(uow, entry)
            if entry.author_id != me.id and not await may_verify(
                uow, me, view.item, entry.author_id
            ):
                raise Forbidden("progress.not_your_scope")
            if not entry.evidence:
                raise DomainError("progress.no_evidence")
            return view

    async def pending_claims(self, actor: Actor) -> list[ClaimView]:
        """Claims waiting for this verifier, oldest first."""
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            if not _is_verifier_role(me):
                raise Forbidden("progress.not_a_verifier")
            org_ids = [me.org_id]
            if me.role is Role.COMMITTEE or me.is_admin:
                org_ids += await uow.ledger.scope_ids(me.org_id)
            result = []
            for entry in await uow.progress.open_claims(org_ids, PENDING_LIMIT * 5):
                view = await self._claim_view(uow, entry)
                if await may_verify(uow, me, view.item, entry.author_id):
                    result.append(view)
                if len(result) >= PENDING_LIMIT:
                    break
            return result

    # ---- the monthly record (记实) -------------------------------------------------------

    async def month_record(self, actor: Actor, month: str | None = None) -> MonthRecord:
        """My progress entries of a month (this month by default)."""
        current = month_of(self.clock.now(), self.clock)
        wanted = month or current
        if not valid_month(wanted):
            raise DomainError("error.stale_button")
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            if not access.can_pledge(me):
                raise Forbidden("progress.residents")
            lines = await uow.progress.month_record(me.id, wanted)
            return MonthRecord(me, wanted, current, lines)
