"""Broadcasts (通知): a secretary or committee clerk sends a notice to an audience.

Every recipient's message carries a "收到" button; the sender gets a delivery report that is
one message edited in place (a live view of the outbox: sent / failed with reasons / pending,
and the acknowledgements), can list who has not acknowledged and re-send to just them.

The notice is stored in the transaction of the sender's decision; its recipients, one outbox
row per message part, and last the sender's report are queued in chunks that each commit
with a watermark (bot/domain/broadcast_queue.py): a crash resumes where it stopped, and
others are answered between chunks.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.chat import features
from bot.chat.actions import Button, Rows, action
from bot.chat.actor import Actor
from bot.chat.text import split_text
from bot.domain import access
from bot.domain.broadcast_queue import CHUNK, ChunkedQueue, QueueSpec
from bot.domain.clock import Clock
from bot.domain.dates import format_date, format_time, local_date
from bot.domain.enums import Role
from bot.domain.errors import DomainError, Forbidden
from bot.domain.models import Org, Person
from bot.domain.notify import TEXT_LIMIT, edit_row, message_row, view_row
from bot.i18n import t
from storage.broadcast_repo import BroadcastRecord, Delivery, Member
from storage.db import Database
from storage.pace import paced
from storage.repositories import OutboxRow
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

FEATURE = features.BROADCAST  # actions: bc:<action>:<args>
REPORT_VIEW = "broadcast_report"
PHOTO_MAX_BYTES = 10 * 1024 * 1024  # Telegram refuses photos above 10 MB
DOCUMENT_MAX_BYTES = 20 * 1024 * 1024  # a bot fetches files up to 20 MB (getFile)
NOTICE_MAX_CHARS = 20_000  # five messages at most: a notice, not a document
TITLE_CHARS = 30
NAMES_PAGE = 30
RECENT = 10
# A re-send goes out as a reminder; another one within this interval is refused (people need
# time to read it, and two reminders a minute apart are noise).
RESEND_INTERVAL = timedelta(minutes=10)
MEMBER_ROLES = (Role.MEMBER.value, Role.LEADER.value, Role.SECRETARY.value)

Buttons = Rows


class AudienceKind(StrEnum):
    """Who a notice goes to."""

    MEMBERS = "members"  # the branch's party members (a secretary)
    RESIDENTS = "residents"  # the branch's residents / service recipients (a secretary)
    EVERYONE = "all"  # everyone on the branch's roster (a secretary)
    SECRETARIES = "secs"  # every branch secretary under the committee (a clerk)
    BRANCHES = "branches"  # the party members of chosen branches (a clerk)


SECRETARY_KINDS = (AudienceKind.MEMBERS, AudienceKind.RESIDENTS, AudienceKind.EVERYONE)
COMMITTEE_KINDS = (AudienceKind.SECRETARIES, AudienceKind.BRANCHES)


@dataclass(frozen=True)
class Media:
    """A photo or a file the sender sent, kept in Jiannuo's file store (bot/domain/files.py)."""

    kind: str  # "photo" | "document"
    file: int  # the stored file's id
    file_size: int | None = None
    file_name: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        return {"kind": self.kind, "file": self.file, "file_name": self.file_name}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Media:
        """Back from the stored form (a broadcast's row, a draft)."""
        return cls(data["kind"], int(data["file"]), data.get("file_size"), data.get("file_name"))


def check_media_size(kind: str, size: int | None) -> None:
    """Refuse a photo above Telegram's 10 MB or a file above 20 MB (what a bot may fetch),
    before it is fetched."""
    limit, key = (
        (PHOTO_MAX_BYTES, "bc.error.photo_too_big")
        if kind == "photo"
        else (DOCUMENT_MAX_BYTES, "bc.error.file_too_big")
    )
    if (size or 0) > limit:
        raise DomainError(key, size=f"{(size or 0) / 1024 / 1024:.1f}")


@dataclass(frozen=True)
class Notice:
    """What is sent: a text, or a photo / file with an optional caption."""

    text: str
    media: Media | None = None


@dataclass(frozen=True)
class Audience:
    """The chosen audience: a kind and, for chosen branches, their ids."""

    kind: AudienceKind
    org_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Composer:
    """What this sender may choose from."""

    kinds: tuple[AudienceKind, ...]
    branches: tuple[tuple[int, str], ...]  # (org id, name) a clerk may pick


@dataclass(frozen=True)
class Preview:
    """The audience as it would be sent to now."""

    label: str
    total: int
    reachable: int
    header: str = ""  # the notice's first line as the sender's language shows it


@dataclass(frozen=True)
class Sent:
    """A broadcast that was queued."""

    broadcast_id: int
    total: int
    reachable: int


@dataclass(frozen=True)
class Report:
    """The figures of a broadcast's delivery report."""

    record: BroadcastRecord
    delivery: Delivery
    acked: int
    reachable: int
    unreachable: int
    rounds: int
    sent_on: date  # the day it was sent, in the campaign's time zone

    @property
    def unacked(self) -> int:
        """Recipients (reachable or not) who have not acknowledged."""
        return self.record.recipients - self.acked


@dataclass(frozen=True)
class Acknowledged:
    """What a tap on "收到" did."""

    first: bool  # False: it had been acknowledged before (a double tap)
    superseded: bool  # the tapped message was an older round of the notice
    broadcast_id: int


@dataclass(frozen=True)
class NamesPage:
    """A page of those who have not acknowledged."""

    broadcast_id: int
    names: tuple[tuple[str, bool], ...]  # (name, reachable)
    page: int
    pages: int
    total: int


# --------------------------------------------------------------------------- rendering


def title_of(text: str, media: dict[str, Any] | None, locale: str | None) -> str:
    """A notice's title: its first line, shortened."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not first:
        kind = (media or {}).get("kind", "document")
        return t(locale, f"bc.media.{kind}")
    return first if len(first) <= TITLE_CHARS else first[: TITLE_CHARS - 1] + "…"


def audience_label(locale: str | None, audience: dict[str, Any]) -> str:
    """ "黄思村党总支 · 本支部党员" and the like."""
    kind = audience.get("kind", "")
    names = audience.get("org_names") or []
    label = t(locale, f"bc.aud.{kind}")
    if kind == AudienceKind.BRANCHES.value:
        shown = "、".join(names[:5]) + ("…" if len(names) > 5 else "")
        return f"{label}（{shown}）"
    if names:
        return f"{names[0]} · {label}"
    return label


def failure_reason(error: str) -> str:
    """The catalog key of why a message could not be delivered."""
    low = error.lower()
    if "blocked" in low:
        return "bc.reason.blocked"
    if "chat not found" in low:
        return "bc.reason.not_found"
    if "deactivated" in low:
        return "bc.reason.deactivated"
    if "kicked" in low or "not a member" in low:
        return "bc.reason.kicked"
    return "bc.reason.other"


def _button(text: str, name: str, *args: object) -> Button:
    return Button(text, action=action(FEATURE, name, *args))


def ack_buttons(locale: str | None, broadcast_id: int, round_: int) -> Buttons:
    """The recipient's "收到" button, bound to the broadcast and the round."""
    return [[_button(t(locale, "bc.btn.ack"), "ack", broadcast_id, round_)]]


def acked_buttons(locale: str | None, broadcast_id: int) -> Buttons:
    """What replaces "收到" once it was tapped."""
    return [[_button(t(locale, "bc.btn.acked"), "acked", broadcast_id)]]


def render_report(locale: str | None, report: Report) -> tuple[str, Buttons]:
    """The sender's delivery report and its buttons."""
    record = report.record
    delivery = report.delivery
    lines = [
        t(
            locale,
            "bc.report.title",
            id=record.id,
            title=title_of(record.text, record.media, locale),
        ),
        t(
            locale,
            "bc.report.audience",
            audience=audience_label(locale, record.audience),
            total=record.recipients,
            date=format_date(report.sent_on, locale),
        ),
        t(
            locale,
            "bc.report.delivery",
            sent=delivery.sent,
            pending=delivery.pending,
            failed=delivery.failed,
        ),
    ]
    if report.unreachable:
        lines.append(t(locale, "bc.report.unreachable", count=report.unreachable))
    if delivery.errors:
        reasons: dict[str, int] = {}
        for error, count in delivery.errors.items():
            key = failure_reason(error)
            reasons[key] = reasons.get(key, 0) + count
        detail = "，".join(f"{t(locale, key)} {n}" for key, n in sorted(reasons.items()))
        lines.append(t(locale, "bc.report.reasons", reasons=detail))
    lines.append(t(locale, "bc.report.acked", acked=report.acked, total=record.recipients))
    if report.rounds > 1:
        lines.append(t(locale, "bc.report.rounds", rounds=report.rounds))
    if delivery.pending == 0 and report.unacked == 0:
        lines.append(t(locale, "bc.report.all_acked"))
    buttons: Buttons = []
    if report.unacked:
        buttons.append(
            [
                _button(t(locale, "bc.btn.unacked", count=report.unacked), "un", record.id, 0),
                _button(t(locale, "bc.btn.resend"), "rs", record.id),
            ]
        )
    buttons.append([_button(t(locale, "bc.btn.refresh"), "rp", record.id)])
    return "\n".join(lines), buttons


def render_names(locale: str | None, page: NamesPage) -> tuple[str, Buttons]:
    """A page of the names who have not acknowledged, with paging buttons."""
    if page.total == 0:
        return t(locale, "bc.unacked.none"), []
    start = page.page * NAMES_PAGE
    lines = [t(locale, "bc.unacked.title", total=page.total, page=page.page + 1, pages=page.pages)]
    for n, (name, reachable) in enumerate(page.names, start=start + 1):
        mark = "" if reachable else t(locale, "bc.unacked.unreachable")
        lines.append(f"{n}. {name}{mark}")
    nav: list[Button] = []
    if page.page > 0:
        nav.append(_button(t(locale, "bc.btn.prev"), "unp", page.broadcast_id, page.page - 1))
    if page.page + 1 < page.pages:
        nav.append(_button(t(locale, "bc.btn.next"), "unp", page.broadcast_id, page.page + 1))
    return "\n".join(lines), [nav] if nav else []


def render_preview(locale: str | None, notice: Notice, preview: Preview) -> str:
    """What the sender confirms: the notice and how many it reaches."""
    parts = [t(locale, "bc.preview.title")]
    if notice.media is not None:
        parts.append(t(locale, f"bc.media.{notice.media.kind}"))
    if notice.text:
        shown = notice.text if len(notice.text) <= 1000 else notice.text[:1000] + "…"
        parts.append(shown)
    parts.append(
        t(
            locale,
            "bc.preview.audience",
            audience=preview.label,
            total=preview.total,
            reachable=preview.reachable,
        )
    )
    if preview.total > preview.reachable:
        parts.append(t(locale, "bc.preview.unreachable", count=preview.total - preview.reachable))
    body = f"{preview.header}\n\n{notice.text}"
    count = len(split_text(body, TEXT_LIMIT)) if notice.media is None else 1
    if count > 1:
        parts.append(t(locale, "bc.preview.parts", parts=count))
    return "\n\n".join(parts)


# --------------------------------------------------------------------------- outbox rows


def notice_rows(
    member: Member,
    broadcast_id: int,
    round_: int,
    header: str,
    notice: Notice,
    sender_id: int,
    now: datetime,
    buttons: Buttons | None = None,
) -> list[dict[str, Any]]:
    """The outbox row that brings the notice to one recipient (tagged with the broadcast).

    ``buttons``: the recipient's ack buttons when the caller has them already (they depend
    only on the locale, the broadcast and the round).

    The header heads the text; a photo or file goes with them (the channel's renderer puts
    the whole in its caption if it fits, else the header alone, then the text).
    """
    assert member.tg_user_id is not None
    if buttons is None:
        buttons = ack_buttons(member.locale, broadcast_id, round_)
    media = notice.media
    attachment = None if media is None else {"type": media.kind, "file": media.file}
    return message_row(
        member.tg_user_id,
        notice.text,
        now,
        title=header,
        buttons=buttons,
        attachment=attachment,
        sender_id=sender_id,
        dedupe_key=f"bc:{broadcast_id}:{member.person_id}:{round_}",
        broadcast_id=broadcast_id,
    )


def report_row(
    chat_id: int, broadcast_id: int, locale: str | None, now: datetime
) -> dict[str, Any]:
    """The sender's report: a live view, rendered when sent and edited in place later."""
    payload = {"view": REPORT_VIEW, "broadcast_id": broadcast_id, "locale": locale}
    return view_row(chat_id, f"bc:{broadcast_id}:report", payload, now)


# --------------------------------------------------------------------------- the service


class BroadcastService:
    """Composing, sending and following up notices."""

    def __init__(self, db: Database, clock: Clock, chunk: int = CHUNK) -> None:
        self.db = db
        self.clock = clock
        self.queue = ChunkedQueue(db, self._chunk_rows, chunk)

    # -- who may send what

    async def _sender(self, uow: UnitOfWork, actor: Actor) -> Person:
        person = await access.person_of(uow, actor)
        access.require_role(person, Role.SECRETARY, Role.COMMITTEE)
        return person

    @staticmethod
    def _is_clerk(person: Person) -> bool:
        return person.role is Role.COMMITTEE or (person.is_admin and person.role != Role.SECRETARY)

    async def _branches_under(self, uow: UnitOfWork, org_id: int) -> list[Org]:
        orgs = await uow.orgs.all()
        children: dict[int, list[Org]] = {}
        for org in orgs:
            if org.parent_id is not None:
                children.setdefault(org.parent_id, []).append(org)
        found: list[Org] = []
        stack = [org_id]
        seen = {org_id}
        while stack:
            for child in children.get(stack.pop(), []):
                if child.id not in seen:
                    seen.add(child.id)
                    found.append(child)
                    stack.append(child.id)
        return sorted(found, key=lambda o: (o.code, o.id))

    async def composer(self, actor: Actor) -> Composer:
        """/broadcast: the audiences this person may choose (refused unless staff)."""
        async with self.db.uow() as uow:
            me = await self._sender(uow, actor)
            if not self._is_clerk(me):
                return Composer(SECRETARY_KINDS, ())
            branches = [
                o for o in await self._branches_under(uow, me.org_id) if not o.is_committee
            ]
            return Composer(COMMITTEE_KINDS, tuple((o.id, o.name) for o in branches))

    async def check_notice(self, actor: Actor, text: str, media: Media | None) -> Notice:
        """Refuse an empty or oversized notice, a photo above Telegram's 10 MB or a file
        above 20 MB."""
        async with self.db.uow() as uow:
            await self._sender(uow, actor)
        body = (text or "").strip()
        if media is None and not body:
            raise DomainError("bc.error.empty")
        if len(body) > NOTICE_MAX_CHARS:
            raise DomainError("bc.error.too_long", limit=NOTICE_MAX_CHARS, length=len(body))
        if media is not None:
            check_media_size(media.kind, media.file_size)
        return Notice(body, media)

    async def _resolve(
        self, uow: UnitOfWork, me: Person, audience: Audience
    ) -> tuple[list[int], tuple[str, ...] | None, dict[str, Any]]:
        """Organisations and roles of an audience, checked against what ``me`` may reach."""
        clerk = self._is_clerk(me)
        allowed = COMMITTEE_KINDS if clerk else SECRETARY_KINDS
        if audience.kind not in allowed:
            raise Forbidden("bc.error.audience_not_allowed")
        if not clerk:
            org = await uow.orgs.get(me.org_id)
            assert org is not None
            roles = {
                AudienceKind.MEMBERS: MEMBER_ROLES,
                AudienceKind.RESIDENTS: (Role.RESIDENT.value,),
                AudienceKind.EVERYONE: None,
            }[audience.kind]
            stored = {"kind": audience.kind.value, "org_ids": [org.id], "org_names": [org.name]}
            return [org.id], roles, stored
        branches = [o for o in await self._branches_under(uow, me.org_id) if not o.is_committee]
        by_id = {o.id: o for o in branches}
        if audience.kind is AudienceKind.SECRETARIES:
            stored = {"kind": audience.kind.value, "org_ids": [], "org_names": []}
            return list(by_id), (Role.SECRETARY.value,), stored
        chosen = [by_id[i] for i in dict.fromkeys(audience.org_ids) if i in by_id]
        if not chosen or len(chosen) != len(set(audience.org_ids)):
            raise DomainError("bc.error.no_branches")
        stored = {
            "kind": audience.kind.value,
            "org_ids": [o.id for o in chosen],
            "org_names": [o.name for o in chosen],
        }
        return [o.id for o in chosen], MEMBER_ROLES, stored

    async def preview(self, actor: Actor, audience: Audience) -> Preview:
        """How many the audience counts now, and how many of them joined the bot."""
        async with self.db.read() as uow:
            me = await self._sender(uow, actor)
            org_ids, roles, stored = await self._resolve(uow, me, audience)
            members = await uow.broadcasts.audience(org_ids, roles, exclude=me.id)
            org = await uow.orgs.get(me.org_id)
        reachable = sum(1 for m in members if m.tg_user_id is not None)
        header = t(me.locale, "bc.notice.header", org=org.name if org else "", sender=me.name)
        return Preview(audience_label(me.locale, stored), len(members), reachable, header)

    async def send(self, actor: Actor, notice: Notice, audience: Audience) -> Sent:
        """Store the notice, then queue it to everyone in the audience chunk by chunk, and
        last the sender's live report."""
        notice = await self.check_notice(actor, notice.text, notice.media)
        now = self.clock.now()
        async with self.db.uow() as uow:
            me = await self._sender(uow, actor)
            org_ids, roles, stored = await self._resolve(uow, me, audience)
            spec = QueueSpec(tuple(org_ids), roles, me.id)
            if not await uow.broadcasts.audience_page(org_ids, roles, me.id, 0, 1):
                raise DomainError("bc.error.nobody")
            bid = await uow.broadcasts.create(
                sender_id=me.id,
                org_id=me.org_id,
                audience=stored,
                text=notice.text,
                media=notice.media.to_json() if notice.media else None,
                recipients=0,  # counted as the chunks are queued
                created_at=now,
            )
            await uow.broadcasts.set_queue_state(bid, spec.state(0))
        await self.queue.run(bid)
        async with self.db.read() as uow:
            _acked, reachable, unreachable, _rounds = await uow.broadcasts.ack_counts(bid)
        log.info("broadcast %s queued: %d reachable, %d not", bid, reachable, unreachable)
        return Sent(bid, reachable + unreachable, reachable)

    async def resume(self) -> list[int]:
        """Queue the rest of broadcasts a crash stopped half-way (the reminder tick)."""
        return await self.queue.resume()

    async def _chunk_rows(
        self,
        record: BroadcastRecord,
        sender: Person,
        org_name: str,
        members: Sequence[Member],
        last: bool,
    ) -> list[dict[str, Any]]:
        """A chunk's outbox rows (and the sender's report with the last chunk)."""
        now = self.clock.now()
        targets = [(member, 1) for member in members]
        rows = await self._rows_for(org_name, sender, record.id, _notice_of(record), targets, now)
        if last and sender.tg_user_id is not None:
            rows.append(report_row(sender.tg_user_id, record.id, sender.locale, now))
        return rows

    async def _rows_for(
        self,
        org_name: str,
        sender: Person,
        broadcast_id: int,
        notice: Notice,
        targets: Sequence[tuple[Member, int]],
        now: datetime,
    ) -> list[dict[str, Any]]:
        headers: dict[tuple[str | None, bool], str] = {}
        buttons: dict[tuple[str | None, int], Buttons] = {}
        rows: list[dict[str, Any]] = []
        async for member, round_ in paced(targets):  # a district's rows: replies go between
            if member.tg_user_id is None:
                continue
            header = headers.get((member.locale, round_ > 1))
            if header is None:
                header = t(member.locale, "bc.notice.header", org=org_name, sender=sender.name)
                if round_ > 1:  # a re-send is a reminder, and says so
                    header = f"{t(member.locale, 'bc.notice.reminder')}\n{header}"
                headers[member.locale, round_ > 1] = header
            ack = buttons.get((member.locale, round_))
            if ack is None:
                ack = buttons[member.locale, round_] = ack_buttons(
                    member.locale, broadcast_id, round_
                )
            rows += notice_rows(
                member, broadcast_id, round_, header, notice, sender.id, now, buttons=ack
            )
        return rows

    # -- the sender's follow-up

    async def _own(self, uow: UnitOfWork, actor: Actor, broadcast_id: int) -> BroadcastRecord:
        me = await self._sender(uow, actor)
        record = await uow.broadcasts.get(broadcast_id)
        if record is None:
            raise DomainError("error.stale_button")
        if record.sender_id != me.id and not me.is_admin:
            raise Forbidden("bc.error.not_yours")
        return record

    async def _report(self, uow: UnitOfWork, record: BroadcastRecord) -> Report:
        delivery = await uow.broadcasts.delivery(record.id)
        acked, reachable, unreachable, rounds = await uow.broadcasts.ack_counts(record.id)
        sent_on = local_date(record.created_at, self.clock.tz)
        return Report(record, delivery, acked, reachable, unreachable, rounds, sent_on)

    async def report(self, actor: Actor, broadcast_id: int) -> Report:
        """The figures of one of the sender's broadcasts."""
        async with self.db.uow() as uow:
            record = await self._own(uow, actor, broadcast_id)
            return await self._report(uow, record)

    async def recent(self, actor: Actor) -> list[Report]:
        """/broadcasts: the sender's newest broadcasts with their figures."""
        async with self.db.uow() as uow:
            me = await self._sender(uow, actor)
            return [
                await self._report(uow, record)
                for record in await uow.broadcasts.recent(me.id, RECENT)
            ]

    async def unacknowledged(self, actor: Actor, broadcast_id: int, page: int) -> NamesPage:
        """A page of the names who have not acknowledged (the unreachable ones last)."""
        async with self.db.uow() as uow:
            await self._own(uow, actor, broadcast_id)
            page = max(0, page)
            names, total = await uow.broadcasts.unacknowledged(
                broadcast_id, page * NAMES_PAGE, NAMES_PAGE
            )
        pages = max(1, -(-total // NAMES_PAGE))
        return NamesPage(broadcast_id, tuple(names), min(page, pages - 1), pages, total)

    async def resend(self, actor: Actor, broadcast_id: int) -> int:
        """A new round, marked as a reminder, to those who have not acknowledged (and have
        nothing on the way); refused within RESEND_INTERVAL of the previous reminder."""
        now = self.clock.now()
        async with self.db.uow() as uow:
            record = await self._own(uow, actor, broadcast_id)
            targets = await uow.broadcasts.resend_targets(broadcast_id)
            if not targets:
                return 0
            _acked, _reachable, _unreachable, rounds = await uow.broadcasts.ack_counts(
                broadcast_id
            )
            last = await uow.broadcasts.last_queued(broadcast_id)
            if rounds > 1 and last is not None and now - last < RESEND_INTERVAL:
                raise DomainError(
                    "bc.resend.too_soon",
                    at=format_time(last, self.clock.tz),
                    minutes=int(RESEND_INTERVAL.total_seconds() // 60),
                    next=format_time(last + RESEND_INTERVAL, self.clock.tz),
                )
            sender = await uow.people.get(record.sender_id)
            assert sender is not None
            org = await uow.orgs.get(sender.org_id)
            bumped = [(member, round_ + 1) for member, round_ in targets]
            await uow.broadcasts.set_rounds(
                broadcast_id, [(member.person_id, round_) for member, round_ in bumped]
            )
            await uow.outbox.add(
                await self._rows_for(
                    org.name if org else "",
                    sender,
                    broadcast_id,
                    _notice_of(record),
                    bumped,
                    now,
                )
            )
            await self._refresh(uow, [broadcast_id], now)
        log.info("broadcast %s re-sent to %d", broadcast_id, len(targets))
        return len(targets)

    # -- the recipient's acknowledgement

    async def acknowledge(
        self, actor: Actor, broadcast_id: int, round_: int, message_id: int | None
    ) -> Acknowledged:
        """ "收到": recorded once; the notice's other copies lose their button too."""
        now = self.clock.now()
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            recipient = await uow.broadcasts.recipient(broadcast_id, me.id)
            if recipient is None:
                raise DomainError("error.stale_button")
            first = await uow.broadcasts.acknowledge(broadcast_id, me.id, now)
            if first:
                await self._refresh(uow, [broadcast_id], now)
                if recipient.chat_id is not None:
                    await self._retire_copies(uow, me, broadcast_id, recipient.chat_id, message_id)
        return Acknowledged(first, round_ < recipient.round, broadcast_id)

    async def _retire_copies(
        self, uow: UnitOfWork, me: Person, broadcast_id: int, chat_id: int, tapped: int | None
    ) -> None:
        """Older or newer copies of the notice (re-sent rounds) keep no live "收到" button."""
        now = self.clock.now()
        rows = []
        for message_id, payload in await uow.broadcasts.copies(broadcast_id, chat_id):
            if message_id == tapped or not payload.get("buttons"):
                continue
            buttons = acked_buttons(me.locale, broadcast_id)
            rows.append(edit_row(chat_id, message_id, buttons, now))
        await uow.outbox.add(rows)

    # -- the live report (wired into the outbox dispatcher)

    async def _refresh(self, uow: UnitOfWork, broadcast_ids: Sequence[int], now: datetime) -> bool:
        """Queue a refresh of these reports (at most one waits per report); any queued?

        A broadcast still being queued has no report yet: its last chunk queues it, with
        the whole figures (a refresh now would show a part of the audience as its total)."""
        queued = False
        queueing = set(await uow.broadcasts.being_queued())
        for bid, (chat, locale) in (await uow.broadcasts.sender_chat(broadcast_ids)).items():
            if bid in queueing:
                continue
            queued = await uow.outbox.refresh_view(report_row(chat, bid, locale, now)) or queued
        return queued

    async def on_settled(self, uow: UnitOfWork, rows: Sequence[OutboxRow]) -> bool:
        """Outbox hook: deliveries moved the figures of their broadcasts' reports; a copy
        that arrived after its recipient had acknowledged another copy loses its button."""
        now = self.clock.now()
        notices = [
            row.id for row in rows if row.broadcast_id is not None and row.payload.get("buttons")
        ]
        late = await uow.broadcasts.acknowledged_before_sent(notices)
        await uow.outbox.add(
            [
                edit_row(chat_id, message_id, acked_buttons(locale, bid), now)
                for bid, chat_id, message_id, locale in late
            ]
        )
        ids = sorted({row.broadcast_id for row in rows if row.broadcast_id is not None})
        return (bool(ids) and await self._refresh(uow, ids, now)) or bool(late)

    async def report_view(
        self, uow: UnitOfWork, chat_id: int, payload: dict[str, Any]
    ) -> tuple[str, Buttons | None] | None:
        """Outbox view: the report as it stands at the moment it is sent."""
        record = await uow.broadcasts.get(int(payload["broadcast_id"]))
        if record is None:
            return None
        report = await self._report(uow, record)
        text, buttons = render_report(payload.get("locale"), report)
        return text, buttons


def _notice_of(record: BroadcastRecord) -> Notice:
    """The notice a stored broadcast sends."""
    media = record.media
    return Notice(record.text, Media.from_json(media) if media else None)
