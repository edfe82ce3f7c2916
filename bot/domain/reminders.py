"""Reminders derived from the database by a periodic tick.

Each reminder has a unique key (e.g. ``deadline:7d:item:42``) recorded in the same
transaction as its outbox row, so a restart neither loses one nor sends one twice; a tick
that missed its moment (the bot was down) catches up within the reminder's window.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.chat.actor import Actor
from bot.domain import rectification_tick
from bot.domain.campaign_calendar import CampaignCalendar
from bot.domain.clock import Clock, HeldClock
from bot.domain.dates import format_date
from bot.domain.enums import Role
from bot.domain.leader_review_reminders import leader_review_step
from bot.domain.names import name_key
from bot.domain.notify import message_row
from bot.domain.resident_phone import ask_residents_step
from bot.domain.selection import queue_ranking_reminders
from bot.i18n import t
from storage.db import Database
from storage.pace import Pacer, paced
from storage.reminder_repo import DueItem, Recipient, log_row
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

SOON_DAYS = 7
CATCH_UP_DAYS = 3  # a monthly / quarterly / phase notice still goes out this many days late
OVERDUE_EVERY_DAYS = 7
FLUSH_ROWS = 2_000  # rows held in memory before they are written (a transaction of their own)


@dataclass(frozen=True)
class QuietHours:
    """Hours in which no reminder is queued (default 22:00–08:00)."""

    start: time = time(22, 0)
    end: time = time(8, 0)

    def contains(self, moment: datetime) -> bool:
        """Whether a local time falls in the quiet hours."""
        now = moment.timetz().replace(tzinfo=None)
        if self.start <= self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end


@dataclass
class TickReport:
    """What one tick queued, by kind."""

    queued: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    quiet: bool = False

    @property
    def total(self) -> int:
        """Messages queued in all."""
        return sum(self.queued.values())


@dataclass
class _Batch:
    """Outbox rows and log rows of one tick, committed in chunks of FLUSH_ROWS.

    Each chunk is a short transaction of its own, so the first tick on a district (tens of
    thousands of messages) never holds the database's writer for long. A chunk holds each
    reminder's key with its message, so a crash mid-tick loses nothing and sends nothing
    twice: the next tick skips the keys committed. A sweep's marker (``mark``: "this month's
    self-check went out") is the watermark of the sweep and is written last, after every
    chunk of the tick."""

    db: Database
    now: datetime
    known: set[str]
    muted: set[int]
    outbox: list[dict[str, Any]] = field(default_factory=list)
    logged: list[dict[str, Any]] = field(default_factory=list)
    markers: list[dict[str, Any]] = field(default_factory=list)
    report: TickReport = field(default_factory=TickReport)
    pace: Pacer = field(default_factory=Pacer)  # every sweep's loop adds: it yields here

    async def flush(self, at_least: int = 0) -> None:
        """Commit what was collected (when more than ``at_least`` rows wait): bounded memory,
        bounded transactions."""
        if len(self.outbox) + len(self.logged) > at_least:
            async with self.db.uow() as uow:
                await uow.reminders.record(self.logged)
                await uow.outbox.add(self.outbox)
            self.logged, self.outbox = [], []
            await asyncio.sleep(0)  # others' units of work go between the chunks

    async def finish(self) -> None:
        """Commit the rest, then the sweeps' markers."""
        await self.flush()
        if self.markers:
            async with self.db.uow() as uow:
                await uow.reminders.record(self.markers)
            self.markers = []

    def mark(self, key: str) -> None:
        """A sweep ran: its marker is written once everything of this tick is."""
        self.known.add(key)
        self.markers.append(log_row(key, None, self.now))

    async def add(
        self,
        key: str,
        person: Recipient | None,
        text: str | None,
        kind: str,
        *,
        essential: bool,
        chat_id: int | None = None,
    ) -> None:
        """Queue one reminder under its key, unless it was queued before."""
        if key in self.known:
            return
        self.known.add(key)
        self.logged.append(log_row(key, person.person_id if person else None, self.now))
        if person is not None and not essential and person.person_id in self.muted:
            return  # muted: remembered as handled, not sent
        target = chat_id if chat_id is not None else (person.tg_user_id if person else None)
        if target is not None and text is not None:
            self.outbox.extend(message_row(target, text, self.now))
            self.report.queued[kind] += 1
        await self.flush(at_least=FLUSH_ROWS)
        await self.pace()


class ReminderService:
    """Computes and queues the reminders due now."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        calendar: CampaignCalendar,
        quiet: QuietHours | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.calendar = calendar
        self.quiet = quiet or QuietHours()

    async def tick(self) -> TickReport:
        """Queue every reminder that is due and was not queued before."""
        now = self.clock.now()
        if self.quiet.contains(now):
            return TickReport(quiet=True)
        today = now.date()
        # Reads on their own (no lock), writes in short chunks (_Batch).
        async with self.db.read() as uow:
            repo = uow.reminders
            due = await repo.open_items_due_by(today + timedelta(days=SOON_DAYS), today)
            batch = _Batch(self.db, now, set(), await repo.muted())
            await self._deadlines(uow, today, due, batch)
            await self._self_check(uow, today, batch)
            await self._quarter(uow, today, batch)
            await self._phases(uow, today, batch)
            await leader_review_step(uow, now, batch, self.calendar)  # 领导点评 cadence, 整改
            await ask_residents_step(uow, batch)  # residents of an open evaluation: confirm phone
            await queue_ranking_reminders(uow, today, batch)  # 上评下议: publish the rankings
        await batch.finish()
        async with self.db.uow() as uow:  # at the tick's moment, not the clock's by now
            held = HeldClock(now, self.clock.tz)
            batch.report.queued.update(await rectification_tick.step(uow, held))
        await self._advance(due, today)
        if batch.report.total:
            log.info("reminder tick queued %s", dict(batch.report.queued))
        return batch.report

    async def toggle_mute(self, actor: Actor) -> bool:
        """Switch the acting person's non-essential reminders off or on; True if now muted."""
        from bot.domain import access

        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            muted = me.id not in await uow.reminders.muted()
            await uow.reminders.set_muted(me.id, muted)
            return muted

    async def set_muted(self, person_id: int, muted: bool) -> None:
        """Mute or unmute non-essential reminders for a person."""
        async with self.db.uow() as uow:
            await uow.reminders.set_muted(person_id, muted)

    async def _advance(self, due: list[DueItem], today: date) -> None:
        """The items' watermarks, once their reminders are in: a transaction of about
        FLUSH_ROWS items at a time (a crash between two leaves some at the watermark they
        had; the next tick finds their reminders' keys queued and sends nothing twice)."""
        by_day: dict[date, list[int]] = defaultdict(list)
        async for item in paced(due):
            by_day[self._next_stage(item, today)].append(item.item_id)
        held: list[tuple[date, list[int]]] = []
        size = 0
        for day, item_ids in by_day.items():
            for start in range(0, len(item_ids), FLUSH_ROWS):
                held.append((day, item_ids[start : start + FLUSH_ROWS]))
                size += len(held[-1][1])
                if size >= FLUSH_ROWS:
                    await self._watermarks(held)
                    held, size = [], 0
        await self._watermarks(held)

    async def _watermarks(self, marks: list[tuple[date, list[int]]]) -> None:
        if marks:
            async with self.db.uow() as uow:
                for day, item_ids in marks:
                    await uow.reminders.advance_watermarks(day, item_ids)

    # ---- deadlines --------------------------------------------------------------------

    @staticmethod
    def _next_stage(item: DueItem, today: date) -> date:
        """The day this item's next reminder stage begins (its watermark)."""
        days_left = (item.deadline - today).days
        if days_left > 1:
            return item.deadline - timedelta(days=1)
        if days_left >= 0:
            return item.deadline + timedelta(days=1)
        week = (-days_left - 1) // OVERDUE_EVERY_DAYS
        return item.deadline + timedelta(days=1 + OVERDUE_EVERY_DAYS * (week + 1))

    @staticmethod
    def _item_keys(item: DueItem, today: date) -> list[tuple[str, str]]:
        """(key, kind) of the deadline reminders this item is in the window for today."""
        days_left = (item.deadline - today).days
        if days_left > 1:
            return [(f"deadline:soon:item:{item.item_id}", "soon")]
        if days_left >= 0:
            return [(f"deadline:due:item:{item.item_id}", "due")]
        week = (-days_left - 1) // OVERDUE_EVERY_DAYS
        return [
            (f"deadline:overdue:{week}:item:{item.item_id}", "overdue"),
            (f"deadline:overdue:{week}:item:{item.item_id}:secretary", "overdue_secretary"),
        ]

    async def _deadlines(
        self, uow: UnitOfWork, today: date, items: list[DueItem], batch: _Batch
    ) -> None:
        repo = uow.reminders
        pledgers = await repo.people(i.person_id for i in items if i.person_id is not None)
        recorders = await repo.people(i.recorder_id for i in items if i.recorder_id is not None)
        secretaries = await self._secretaries(uow, {i.org_id for i in items})
        late_by_org: dict[int, list[tuple[str, DueItem]]] = defaultdict(list)
        planned: list[tuple[str, Recipient | None, str, DueItem]] = []
        async for item in paced(items, batch.pace):
            owners: list[Recipient | None] = (
                [pledgers[item.person_id]]
                if item.person_id is not None and item.person_id in pledgers
                else []
                if item.person_id is not None
                else list(secretaries.get(item.org_id, []))  # a branch pledge: its secretaries
            )
            recorder = recorders.get(item.recorder_id) if item.recorder_id is not None else None
            if recorder is not None:
                # An oral pledge: who recorded it hears it too, for the member (who may have
                # no chat at all); an overdue item reaches them in the branch's list.
                owners.append(recorder)
            for key, kind in self._item_keys(item, today):
                if kind == "overdue_secretary":
                    planned.append((key, None, kind, item))
                    continue
                for owner in owners or [None]:  # nobody to tell: remembered all the same
                    if owner is recorder and owner is not None and kind == "overdue":
                        continue
                    suffix = f":p{owner.person_id}" if owner is not None else ""
                    planned.append((key + suffix, owner, kind, item))
        batch.known |= await repo.already_queued(key for key, _, _, _ in planned)
        async for key, owner, kind, item in paced(planned, batch.pace):
            if key in batch.known:
                continue
            if kind == "overdue_secretary":
                late_by_org[item.org_id].append((key, item))
                continue
            days_left = (item.deadline - today).days
            text = None
            if owner is not None:
                for_member = owner.person_id != item.person_id and item.recorder_id is not None
                text = self._item_text(owner.locale, kind, item, days_left, for_member)
            await batch.add(key, owner, text, kind, essential=kind != "soon")
        for org_id, late in late_by_org.items():
            names = await repo.people(i.person_id for _, i in late if i.person_id is not None)
            for secretary in secretaries.get(org_id, []):
                lines = [
                    t(
                        secretary.locale,
                        "reminder.overdue.line",
                        name=names[i.person_id].name if i.person_id in names else "—",
                        content=i.content,
                        deadline=format_date(i.deadline, secretary.locale),
                    )
                    for _, i in late
                ]
                text = t(secretary.locale, "reminder.overdue.secretary", lines="\n".join(lines))
                batch.outbox.extend(message_row(secretary.tg_user_id, text, batch.now))
                batch.report.queued["overdue_secretary"] += 1
            for key, _item in late:
                await batch.add(key, None, None, "overdue_secretary", essential=True)

    @staticmethod
    def _item_text(
        locale: str | None, kind: str, item: DueItem, days_left: int, for_member: bool = False
    ) -> str:
        """A deadline reminder to the pledger, or (``for_member``) to who recorded his oral
        pledge, naming him."""
        deadline = format_date(item.deadline, locale)
        suffix = "_for" if for_member else ""
        params = {"content": item.content, "deadline": deadline, "name": item.pledger}
        if kind == "soon":
            return t(locale, f"reminder.soon{suffix}", days=days_left, **params)
        if kind == "due":
            key = "reminder.due.today" if days_left == 0 else "reminder.due.tomorrow"
            return t(locale, key + suffix, **params)
        return t(locale, f"reminder.overdue{suffix}", days=-days_left, **params)

    async def _secretaries(self, uow: UnitOfWork, org_ids: set[int]) -> dict[int, list[Recipient]]:
        result: dict[int, list[Recipient]] = defaultdict(list)
        if not org_ids:
            return result
        for person in await uow.reminders.recipients(
            roles=[Role.SECRETARY.value], org_ids=org_ids
        ):
            result[person.org_id].append(person)
        return result

    @staticmethod
    async def _swept(uow: UnitOfWork, marker: str, batch: _Batch) -> bool:
        """Whether a once-only sweep ran already; if not, mark it as run by this tick.

        Within the sweep each person's key still guards against a double message; the
        marker only spares the following ticks from re-checking tens of thousands of keys.
        """
        if marker in batch.known or await uow.reminders.already_queued([marker]):
            return True
        batch.mark(marker)
        return False

    # ---- 一月一自查 -------------------------------------------------------------------

    async def _self_check(self, uow: UnitOfWork, today: date, batch: _Batch) -> None:
        if today.day > CATCH_UP_DAYS:
            return
        this_month = today.strftime("%Y-%m")
        last = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        repo = uow.reminders
        if await self._swept(uow, f"selfcheck:{this_month}:done", batch):
            return
        pledgers = await repo.pledgers_with_open_items()
        active = await repo.pledgers_reported_in_month(last)
        idle = {pid: org for pid, org in pledgers.items() if pid not in active}
        keys = [f"selfcheck:{this_month}:p{pid}" for pid in idle]
        batch.known |= await repo.already_queued(keys)
        people = await repo.people(idle)
        by_org: dict[int, list[Recipient]] = defaultdict(list)
        for pid in idle:
            person = people.get(pid)
            if person is None:
                continue
            by_org[person.org_id].append(person)
            await batch.add(
                f"selfcheck:{this_month}:p{pid}",
                person,
                t(person.locale, "reminder.selfcheck", month=last),
                "selfcheck",
                essential=False,
            )
        secretaries = await self._secretaries(uow, set(by_org))
        sec_keys = [
            f"selfcheck:{this_month}:secretary:{s.person_id}"
            for group in secretaries.values()
            for s in group
        ]
        batch.known |= await repo.already_queued(sec_keys)
        for org_id, members in by_org.items():
            names = "、".join(sorted((m.name for m in members), key=name_key))
            for secretary in secretaries.get(org_id, []):
                await batch.add(
                    f"selfcheck:{this_month}:secretary:{secretary.person_id}",
                    secretary,
                    t(secretary.locale, "reminder.selfcheck.secretary", month=last, names=names),
                    "selfcheck_secretary",
                    essential=True,
                )

    # ---- 一季一检查 and the quarterly notice -----------------------------------------

    async def _quarter(self, uow: UnitOfWork, today: date, batch: _Batch) -> None:
        if today.month not in (1, 4, 7, 10) or today.day > CATCH_UP_DAYS:
            return
        previous = (today.month - 1) // 3 or 4
        year = today.year if today.month != 1 else today.year - 1
        label = f"{year}Q{previous}"
        repo = uow.reminders
        if await self._swept(uow, f"quarter:{label}:done", batch):
            return
        secretaries = await repo.recipients(roles=[Role.SECRETARY.value])
        boards = await repo.boards()
        keys = [f"quarter:{label}:inspect:{s.person_id}" for s in secretaries]
        keys += [f"quarter:{label}:notice:{org}" for org, _, _ in boards]
        batch.known |= await repo.already_queued(keys)
        for secretary in secretaries:
            await batch.add(
                f"quarter:{label}:inspect:{secretary.person_id}",
                secretary,
                t(secretary.locale, "reminder.quarter.inspect", quarter=label),
                "quarter_inspect",
                essential=True,
            )
        figures = await repo.branch_figures()
        for org_id, name, chat_id in boards:
            total, done = figures.get(org_id, (0, 0))
            rate = f"{done / total:.0%}" if total else "—"
            await batch.add(
                f"quarter:{label}:notice:{org_id}",
                None,
                t(
                    None,
                    "reminder.quarter.notice",
                    org=name,
                    quarter=label,
                    items=total,
                    done=done,
                    rate=rate,
                ),
                "quarter_notice",
                essential=True,
                chat_id=chat_id,
            )

    # ---- campaign calendar ------------------------------------------------------------

    async def _phases(self, uow: UnitOfWork, today: date, batch: _Batch) -> None:
        events = []
        for phase in self.calendar.phases:
            start, end = phase.start_on(today.year), phase.end_on(today.year)
            if start <= today <= min(end, start + timedelta(days=CATCH_UP_DAYS - 1)):
                events.append((phase, "open"))
            if today == end and end != start:
                events.append((phase, "close"))
        if not events:
            return
        repo = uow.reminders
        for phase, moment in events:
            prefix = f"phase:{phase.id}:{today.year}:{moment}"
            if await self._swept(uow, f"{prefix}:done", batch):
                continue
            people = await repo.recipients(roles=[r.value for r in phase.audiences])
            batch.known |= await repo.already_queued(f"{prefix}:{p.person_id}" for p in people)
            for person in people:
                text = t(
                    person.locale,
                    f"reminder.phase.{moment}",
                    name=phase.name(person.locale),
                    start=format_date(phase.start_on(today.year), person.locale),
                    end=format_date(phase.end_on(today.year), person.locale),
                    note=phase.note(person.locale),
                )
                # The member-wide notices are optional; secretaries' are part of the work.
                essential = person.role != Role.MEMBER.value
                await batch.add(
                    f"{prefix}:{person.person_id}", person, text, "phase", essential=essential
                )
