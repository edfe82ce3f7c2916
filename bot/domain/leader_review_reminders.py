"""The reminder tick's leader-review step: the cadence (一月一提醒、一季一点评、半年一检查、
一年一总评) and the reminders before a rectification deadline (责令限期整改).

Derived from the database on every tick; each reminder has a unique key in reminder_log, so a
restart sends none twice; quiet hours are the tick's (it does not run in them).

- Monthly nudge (non-essential, muted people are spared): on the 20th (or up to two days late),
  each secretary hears which members of the branch have no review this month.
- The slot reviews, in the campaign's leader-review months: March and September (quarterly),
  June (half-year check) and December (annual overall review), on the day a review phase of the
  campaign calendar opens in that month (late Jun, Sep and Dec in seed 000), else the 21st:
  secretaries hear of members not reviewed for the slot, committee staff of branches in their
  scope that nobody reviewed, liaison leaders of their linked branches they did not review.
- Rectification: 3 days before the deadline (or later, up to the day) the pledger (a branch's
  secretaries for a branch item) is reminded; the day after, if still open, told it lapsed.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Protocol

from bot.domain.campaign_calendar import CampaignCalendar
from bot.domain.dates import format_date
from bot.domain.enums import OrgType, Role
from bot.domain.leader_review import (
    MEMBER_ROLES,
    PeriodKind,
    default_kind,
    period_label,
    period_of,
)
from bot.i18n import t
from storage.reminder_repo import Recipient
from storage.uow import UnitOfWork

MONTH_NUDGE_DAY = 20
SLOT_DEFAULT_DAY = 21
CATCH_UP_DAYS = 3
RECTIFY_SOON_DAYS = 3
NAMES_SHOWN = 10
REVIEW_PHASE_WORDS = ("review", "evaluation", "assessment")  # calendar phase ids


class ReminderBatch(Protocol):
    """What the reminder tick lends this step: queue a reminder under a unique key; mark a
    sweep done (written after its reminders)."""

    known: set[str]

    def mark(self, key: str) -> None: ...

    async def add(
        self,
        key: str,
        person: Recipient | None,
        text: str | None,
        kind: str,
        *,
        essential: bool,
        chat_id: int | None = None,
    ) -> None: ...


def slot_day(calendar: CampaignCalendar, year: int, month: int) -> int:
    """The day of a leader-review month on which the slot reminder goes out."""
    days = [
        phase.start_on(year).day
        for phase in calendar.phases
        if phase.start_on(year).month == month
        and any(word in phase.id for word in REVIEW_PHASE_WORDS)
    ]
    return min(days) if days else SLOT_DEFAULT_DAY


def _names(names: list[str]) -> str:
    shown = "、".join(names[:NAMES_SHOWN])
    return shown + ("等" if len(names) > NAMES_SHOWN else "")


async def _once(uow: UnitOfWork, batch: ReminderBatch, marker: str) -> bool:
    """True the first time a sweep runs (its marker is then logged by this tick)."""
    if marker in batch.known or await uow.reminders.already_queued([marker]):
        return False
    batch.mark(marker)  # written after the sweep's reminders (the tick's last chunk)
    return True


async def leader_review_step(
    uow: UnitOfWork, now: datetime, batch: ReminderBatch, calendar: CampaignCalendar
) -> None:
    """Queue the leader-review reminders due now (``now`` in the campaign's zone)."""
    today = now.date()
    kind = default_kind(today)
    if kind is PeriodKind.MONTH:
        if MONTH_NUDGE_DAY <= today.day < MONTH_NUDGE_DAY + CATCH_UP_DAYS:
            month_start = datetime.combine(today.replace(day=1), time(0), now.tzinfo)
            await _monthly(uow, today, month_start, batch)
    else:
        start = slot_day(calendar, today.year, today.month)
        if start <= today.day < start + CATCH_UP_DAYS:
            await _slot(uow, today, batch, kind)
    await _rectify(uow, today, batch)


async def _unreviewed_members(
    uow: UnitOfWork, secretaries: list[Recipient], period: str, since: datetime | None
) -> dict[int, list[str]]:
    """Per branch (of these secretaries): names of members without a review for the period."""
    org_ids = sorted({s.org_id for s in secretaries})
    if not org_ids:
        return {}
    reviewed = await uow.leader_reviews.members_reviewed(period, since)
    people = await uow.leader_reviews.people_by_org(org_ids, MEMBER_ROLES)
    return {
        org_id: [
            name
            for pid, name, role in people.get(org_id, [])
            if pid not in reviewed and role != Role.SECRETARY.value
        ]
        for org_id in org_ids
    }


async def _monthly(
    uow: UnitOfWork, today: date, month_start: datetime, batch: ReminderBatch
) -> None:
    month = period_of(PeriodKind.MONTH, today)
    if not await _once(uow, batch, f"lr:month:{month}:done"):
        return
    secretaries = await uow.reminders.recipients(roles=[Role.SECRETARY.value])
    missing = await _unreviewed_members(uow, secretaries, month, month_start)
    keys = [f"lr:month:{month}:p{s.person_id}" for s in secretaries]
    batch.known |= await uow.reminders.already_queued(keys)
    for secretary in secretaries:
        names = missing.get(secretary.org_id) or []
        if not names:
            continue
        await batch.add(
            f"lr:month:{month}:p{secretary.person_id}",
            secretary,
            t(
                secretary.locale,
                "lr.remind.month",
                month=period_label(secretary.locale, month),
                count=len(names),
                names=_names(names),
            ),
            "lr_month",
            essential=False,  # a nudge: a muted secretary is spared it
        )


async def _slot(uow: UnitOfWork, today: date, batch: ReminderBatch, kind: PeriodKind) -> None:
    period = period_of(kind, today)
    if not await _once(uow, batch, f"lr:slot:{period}:done"):
        return
    cadence_key = f"lr.cadence.{kind.value}"
    reviewers = await uow.reminders.recipients(
        roles=[Role.SECRETARY.value, Role.COMMITTEE.value, Role.LEADER.value]
    )
    batch.known |= await uow.reminders.already_queued(
        f"lr:slot:{period}:p{r.person_id}" for r in reviewers
    )
    secretaries = [r for r in reviewers if r.role == Role.SECRETARY.value]
    missing_members = await _unreviewed_members(uow, secretaries, period, None)
    reviewed_branches = await uow.leader_reviews.branches_reviewed(period)
    orgs = {o.id: o for o in await uow.orgs.all()}
    links = await uow.leader_reviews.all_links()
    for reviewer in reviewers:
        loc = reviewer.locale
        if reviewer.role == Role.SECRETARY.value:
            names = missing_members.get(reviewer.org_id) or []
            key = "lr.remind.slot.members"
        else:
            if reviewer.role == Role.COMMITTEE.value:
                scope = set(await uow.ledger.scope_ids(reviewer.org_id))
                branch_ids = [
                    o for o in scope if o in orgs and orgs[o].type is not OrgType.COMMITTEE
                ]
                due = [o for o in branch_ids if not reviewed_branches.get(o)]
            else:
                branch_ids = links.get(reviewer.person_id, [])
                due = [
                    o
                    for o in branch_ids
                    if reviewer.person_id not in reviewed_branches.get(o, set())
                ]
            names = [orgs[o].name for o in sorted(due, key=lambda o: orgs[o].code) if o in orgs]
            key = "lr.remind.slot.branches"
        if not names:
            continue
        await batch.add(
            f"lr:slot:{period}:p{reviewer.person_id}",
            reviewer,
            t(
                loc,
                key,
                cadence=t(loc, cadence_key),
                period=period_label(loc, period),
                count=len(names),
                names=_names(names),
            ),
            f"lr_{kind.value}",
            essential=True,  # the campaign's review rounds are part of the work
        )


async def _rectify(uow: UnitOfWork, today: date, batch: ReminderBatch) -> None:
    items = await uow.leader_reviews.rectify_due(
        today + timedelta(days=RECTIFY_SOON_DAYS), today - timedelta(days=CATCH_UP_DAYS)
    )
    if not items:
        return
    pledgers = await uow.reminders.people(i.person_id for i in items if i.person_id is not None)
    secretaries: dict[int, list[Recipient]] = defaultdict(list)
    branch_orgs = {i.org_id for i in items if i.person_id is None}
    if branch_orgs:
        for s in await uow.reminders.recipients(roles=[Role.SECRETARY.value], org_ids=branch_orgs):
            secretaries[s.org_id].append(s)
    planned: list[tuple[str, Recipient | None, str]] = []
    for item in items:
        days_left = (item.rectify_by - today).days
        stage = "soon" if days_left >= 0 else "lapsed"
        owners: list[Recipient | None] = (
            [pledgers.get(item.person_id)]
            if item.person_id is not None
            else list(secretaries.get(item.org_id, []))
        ) or [None]
        for owner in owners:
            key = f"lr:rectify:{stage}:{item.item_id}:{item.rectify_by.isoformat()}"
            if owner is not None:
                key += f":p{owner.person_id}"
            text = None
            if owner is not None:
                text = t(
                    owner.locale,
                    f"lr.remind.rectify.{stage}",
                    content=item.content,
                    date=format_date(item.rectify_by, owner.locale),
                    days=days_left,
                )
            planned.append((key, owner, text or ""))
    batch.known |= await uow.reminders.already_queued(k for k, _, _ in planned)
    for key, owner, text in planned:
        await batch.add(key, owner, text or None, "lr_rectify", essential=True)
