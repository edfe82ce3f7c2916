"""The rectification step of the reminder tick: nudges, deadline reminders, re-evaluations.

Derived from the database on every tick (outside quiet hours; the reminder tick checks them):

- a plan not filed by its due day (two weeks after the result): a weekly nudge to whoever
  files it, and a note to whoever accepts it;
- an accepted plan: reminders 7 days and 1 day before its deadline;
- the day after the deadline: the re-evaluation opens with the same rules (H1's
  ``open_reevaluation``), closing ``reevaluation_days`` later.

Every message is recorded under a unique key in ``reminder_log`` in the tick's transaction, so
a restart neither loses one nor sends one twice; the deadline is part of the key, so a plan
whose re-evaluation is held again reminds again.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.chat.actions import Rows
from bot.domain.clock import Clock
from bot.domain.dates import format_date, format_moment
from bot.domain.errors import DomainError
from bot.domain.models import Person
from bot.domain.notify import message_row
from bot.domain.rectification import (
    FILABLE,
    PLAN_DUE_DAYS,
    Directory,
    RectificationStatus,
    acceptors,
    decision_buttons,
    filers,
    is_proxy,
    plan_button,
    plan_due,
    plan_text,
    subject_name,
)
from bot.domain.rectification_models import RectAction, Rectification, transition
from bot.i18n import t
from storage.reminder_repo import log_row
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

S = RectificationStatus
SOON_DAYS = 7
LATE_EVERY_DAYS = 7
WAITING_DAYS = 3  # a submitted plan undecided this long reminds its acceptors (then weekly)
DEFAULT_REEVALUATION_DAYS = 7
VOID_GRACE_DAYS = 3  # a void re-evaluation not rescheduled by then is held again by the tick


class _Settings:
    reevaluation_days = DEFAULT_REEVALUATION_DAYS


def configure(reevaluation_days: int) -> None:
    """Set how long a re-evaluation stays open (from settings, once at start)."""
    _Settings.reevaluation_days = max(1, reevaluation_days)


_Message = tuple[Person, str, Rows | None, str]


async def step(uow: UnitOfWork, clock: Clock) -> dict[str, int]:
    """Queue the rectification reminders due now and open due re-evaluations; counts by kind.

    One key per rectification and stage (the week of lateness, the deadline's 7- or 1-day
    mark) is looked up for all of them at once; only the rectifications whose key is new are
    resolved to people, so a tick over a district's worth of late plans stays cheap.
    """
    now = clock.now()
    today = now.astimezone(clock.tz).date()
    # A plan is late from the day after its due day (opened + PLAN_DUE_DAYS local days).
    late_before = datetime.combine(today - timedelta(days=PLAN_DUE_DAYS), time(0), tzinfo=clock.tz)
    staged: list[tuple[str, int, int]] = []  # (key, rectification id, days)
    opening: list[int] = []
    candidates = await uow.rectifications.needing_attention(
        late_before=late_before,
        waiting_before=now - timedelta(days=WAITING_DAYS),
        deadline_by=today + timedelta(days=SOON_DAYS),
    )
    for c in candidates:
        if c.status in FILABLE:
            due = c.created_at.astimezone(clock.tz).date() + timedelta(days=PLAN_DUE_DAYS)
            late = (today - due).days
            if late >= 1:
                week = (late - 1) // LATE_EVERY_DAYS
                staged.append((f"rectify:late:{c.id}:r{c.round}:w{week}", c.id, late))
        elif c.status is S.SUBMITTED and c.submitted_at is not None:
            waiting = (now - c.submitted_at).days
            week = (waiting - WAITING_DAYS) // LATE_EVERY_DAYS
            staged.append((f"rectify:waiting:{c.id}:v{c.version}:w{week}", c.id, waiting))
        elif c.deadline is not None:
            left = (c.deadline - today).days
            if left < 0:
                opening.append(c.id)
            else:
                stage = "d1" if left <= 1 else "d7"
                staged.append((f"rectify:{stage}:{c.id}:{c.deadline.isoformat()}", c.id, left))
    await _hold_again_after_void(uow, clock)
    known = await uow.reminders.already_queued(key for key, _, _ in staged)
    counts: dict[str, int] = {}
    outbox: list[dict[str, Any]] = []
    logged: list[dict[str, Any]] = []
    fresh = [(key, rect_id, days) for key, rect_id, days in staged if key not in known]
    rects = {r.id: r for r in await uow.rectifications.get_many(i for _, i, _ in fresh)}
    directory = await Directory.load(uow, list(rects.values())) if rects else None
    for key, rect_id, days in fresh:
        rect = rects.get(rect_id)
        if rect is None or directory is None:
            continue
        logged.append(log_row(key, rect.person_id, now))
        if rect.status in FILABLE:
            messages = _late(directory, rect, plan_due(rect, clock.tz), days)
        elif rect.status is S.SUBMITTED:
            messages = _waiting(directory, rect, days)
        else:
            messages = _soon(directory, rect, days)
        for person, text, buttons, kind in messages:
            if person.tg_user_id is not None:
                outbox.extend(message_row(person.tg_user_id, text, now, buttons=buttons))
                counts[kind] = counts.get(kind, 0) + 1
    await uow.reminders.record(logged)
    await uow.outbox.add(outbox)
    for rect_id in opening:
        rect = await uow.rectifications.get(rect_id)
        if rect is not None and await open_reevaluation_for(uow, clock, rect):
            counts["rectify_reevaluation"] = counts.get("rectify_reevaluation", 0) + 1
    return counts


def _late(d: Directory, rect: Rectification, due: date, late: int) -> list[_Message]:
    """The weekly nudge to whoever files the plan, and a note to whoever accepts it."""
    name = d.name(rect)
    messages: list[_Message] = []
    filing = d.filers(rect)
    for person in filing:
        text = t(
            person.locale,
            "rectify.remind.late.proxy" if is_proxy(person, rect) else "rectify.remind.late",
            name=name,
            due=format_date(due, person.locale),
            days=late,
        )
        messages.append((person, text, plan_button(person.locale, rect), "rectify_late"))
    for person in d.acceptors(rect):
        if person.id in {p.id for p in filing}:
            continue
        text = t(
            person.locale,
            "rectify.remind.late_acceptor",
            name=name,
            due=format_date(due, person.locale),
            days=late,
        )
        messages.append((person, text, None, "rectify_late_acceptor"))
    return messages


def _waiting(d: Directory, rect: Rectification, days: int) -> list[_Message]:
    """A plan undecided for days: the acceptors again, with the buttons (same version)."""
    name = d.name(rect)
    messages: list[_Message] = []
    for person in d.acceptors(rect):
        text = t(
            person.locale,
            "rectify.remind.waiting",
            name=name,
            days=days,
            plan=plan_text(person.locale, rect, name),
        )
        buttons = decision_buttons(person.locale, rect)
        messages.append((person, text, buttons, "rectify_waiting"))
    return messages


def _soon(d: Directory, rect: Rectification, left: int) -> list[_Message]:
    """The reminder a week and a day before an accepted plan's deadline."""
    assert rect.deadline is not None
    messages: list[_Message] = []
    name = d.name(rect)
    for person in d.filers(rect):
        when = format_date(rect.deadline, person.locale)
        suffix = ".proxy" if is_proxy(person, rect) else ""
        if left <= 1:
            key, kind = "rectify.remind.tomorrow", "rectify_d1"
        else:
            key, kind = "rectify.remind.soon", "rectify_d7"
        text = t(person.locale, key + suffix, name=name, deadline=when, days=left)
        messages.append((person, text, None, kind))
    return messages


async def _hold_again_after_void(uow: UnitOfWork, clock: Clock) -> None:
    """A re-evaluation that missed its quorum is for the secretary to reschedule (the mass
    evaluation asks them to); if nobody has after VOID_GRACE_DAYS, the plan goes back to
    accepted with yesterday as its deadline and the next tick holds the re-evaluation, so a
    loop never stalls (least of all when the branch itself is the subject)."""
    now = clock.now()
    for rect_id, _ev_id, status, closed_at in await uow.rectifications.latest_reevaluations():
        if status != "void" or closed_at is None:
            continue
        if closed_at > now - timedelta(days=VOID_GRACE_DAYS):
            continue
        rect = await uow.rectifications.get(rect_id)
        if rect is None:
            continue
        transition(rect.status, RectAction.INCONCLUSIVE)
        yesterday = now.astimezone(clock.tz).date() - timedelta(days=1)
        if not await uow.rectifications.update(
            rect.id, rect.version, status=S.ACCEPTED.value, deadline=yesterday
        ):
            continue
        name = await subject_name(uow, rect)
        people = {p.id: p for p in [*await filers(uow, rect), *await acceptors(uow, rect)]}
        rows: list[dict[str, Any]] = []
        for person in people.values():
            if person.tg_user_id is not None:
                text = t(person.locale, "rectify.reevaluation.void", name=name)
                rows.extend(message_row(person.tg_user_id, text, now))
        await uow.outbox.add(rows)


async def open_reevaluation_for(uow: UnitOfWork, clock: Clock, rect: Rectification) -> bool:
    """The deadline passed: open the re-evaluation with the same rules and tell everyone."""
    from bot.domain import evaluation  # the mass evaluation opens it (H1's service)

    if rect.evaluation_id is None or rect.subject_id is None:
        return False
    transition(rect.status, RectAction.REEVALUATE)
    now = clock.now()
    closes_at = now + timedelta(days=_Settings.reevaluation_days)
    try:
        new_id = await evaluation.open_reevaluation(
            uow, clock, rect.evaluation_id, rect.id, [rect.subject_id], closes_at
        )
    except DomainError as exc:
        log.warning("re-evaluation of rectification %s not opened: %s", rect.id, exc.key)
        return False
    await uow.rectifications.link_reevaluation(new_id, rect.id)
    if not await uow.rectifications.update(
        rect.id, rect.version, status=S.REEVALUATING.value, reevaluation_id=new_id
    ):
        return False
    name = await subject_name(uow, rect)
    people = {p.id: p for p in [*await filers(uow, rect), *await acceptors(uow, rect)]}
    rows: list[dict[str, Any]] = []
    for person in people.values():
        if person.tg_user_id is None:
            continue
        text = t(
            person.locale,
            "rectify.reevaluation.opened",
            name=name,
            closes=format_moment(closes_at, clock.tz, person.locale),
        )
        rows.extend(message_row(person.tg_user_id, text, now))
    await uow.outbox.add(rows)
    return True
