"""整改: the rectification loop after a mass evaluation under the pass mark.

An evaluation closes → each subject under the mark gets a rectification (due) and whoever
must file the plan is told → the plan (goals, measures, deadline) is submitted → the acceptor
accepts it or sends it back with a comment → reminders before the deadline → after the
deadline a re-evaluation opens with the same rules (see ``rectification_tick``) → it passes:
the loop is closed and everyone is told; it fails: a new round opens.

Who files: a member subject files their own plan; a branch subject's plan is filed by its
secretary. Who accepts: for a branch, the upper committee (DOMAIN.md: "file a rectification
report to the upper committee"); for a member, the branch secretary (the member's reviewer,
as for pledges), or the committee above when the member is the secretary themselves. An oral
member (elderly, low-literacy) may have the secretary write the plan with them; the committee
above then accepts it. A failed re-evaluation opens a new round as a new rectification linked
to the last (``previous_id``), so every round keeps its own plan, decision and re-evaluation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot.chat import features
from bot.chat.actions import Button, Rows, action
from bot.chat.actor import Actor
from bot.domain import access
from bot.domain.clock import Clock
from bot.domain.dates import format_date, format_day
from bot.domain.enums import Role
from bot.domain.errors import DomainError, Forbidden
from bot.domain.models import Org, Person
from bot.domain.notify import message_row, tell
from bot.domain.rectification_models import (
    FILABLE,
    OPEN,
    EvaluationInfo,
    RectAction,
    Rectification,
    RectificationKind,
    RectificationStatus,
    SubjectResult,
    percent,
    transition,
)
from bot.i18n import t
from storage.db import Database
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

FEATURE = features.RECTIFY
PLAN_DUE_DAYS = 14  # a plan is expected within two weeks of the result
MAX_GOALS = 800
MAX_MEASURES = 1500
MAX_COMMENT = 500
MAX_PLAN_DAYS = 366  # a rectification deadline at most a year ahead

S = RectificationStatus


# ---- who ----------------------------------------------------------------------------------


def choose_filers(
    rect: Rectification, subject: Person | None, secretaries: list[Person]
) -> list[Person]:
    """Who files the plan: the member (an oral member: also the branch's secretaries, who
    write it with them), or the branch's secretaries."""
    if rect.person_id is None:
        return secretaries
    if subject is None:
        return []
    if not subject.oral:
        return [subject]
    return [subject, *[p for p in secretaries if p.id != subject.id]]


def choose_acceptors(
    rect: Rectification,
    subject: Person | None,
    secretaries: list[Person],
    committees_above: list[list[Person]],
) -> list[Person]:
    """Who gets the plan: the branch secretaries (member), else the nearest committee staff
    (``committees_above``: the staff of each organisation above, nearest first).

    An oral member's plan is written with the secretary, so the committee above accepts it.
    """
    if rect.person_id is not None and not (subject is not None and subject.oral):
        others = [p for p in secretaries if p.id != rect.person_id]
        if others:
            return others
    for staff in committees_above:
        chosen = [p for p in staff if p.id != rect.person_id]
        if chosen:
            return chosen
    return []


async def filers(uow: UnitOfWork, rect: Rectification) -> list[Person]:
    """Who files the plan (see ``choose_filers``)."""
    subject = await uow.people.get(rect.person_id) if rect.person_id is not None else None
    if rect.person_id is not None and (subject is None or not subject.oral):
        return [subject] if subject is not None else []
    secretaries = await uow.people.in_org(rect.org_id, [Role.SECRETARY.value])
    return choose_filers(rect, subject, secretaries)


def may_file(me: Person, rect: Rectification, *, oral: bool = False) -> bool:
    """The member themselves; for a branch, its secretary. An elderly or low-literacy member
    who pledged orally (``oral``) may have the branch secretary write the plan for them."""
    secretary_here = me.role is Role.SECRETARY and me.org_id == rect.org_id
    if rect.person_id is not None:
        return me.id == rect.person_id or (oral and secretary_here)
    return secretary_here


def is_proxy(person: Person, rect: Rectification) -> bool:
    """Whether this filer writes a member's plan on the member's behalf."""
    return rect.person_id is not None and person.id != rect.person_id


async def _oral(uow: UnitOfWork, rect: Rectification) -> bool:
    if rect.person_id is None:
        return False
    subject = await uow.people.get(rect.person_id)
    return subject is not None and subject.oral


async def acceptors(uow: UnitOfWork, rect: Rectification) -> list[Person]:
    """Who gets the plan (see ``choose_acceptors``)."""
    subject = await uow.people.get(rect.person_id) if rect.person_id is not None else None
    secretaries = await uow.people.in_org(rect.org_id, [Role.SECRETARY.value])
    committees = [
        await uow.people.in_org(org.id, [Role.COMMITTEE.value])
        for org in await uow.orgs.ancestors(rect.org_id)
    ]
    return choose_acceptors(rect, subject, secretaries, committees)


@dataclass
class Directory:
    """Who is who around many rectifications, loaded in a few queries: the reminder tick
    resolves a district's worth at once instead of querying per rectification."""

    orgs: dict[int, Org]
    subjects: dict[int, Person]
    by_org: dict[tuple[int, Role], list[Person]]

    @classmethod
    async def load(cls, uow: UnitOfWork, rects: list[Rectification]) -> Directory:
        """Everything needed to name, file and accept these rectifications."""
        orgs = {o.id: o for o in await uow.orgs.all()}
        subjects = await uow.people.by_ids(r.person_id for r in rects if r.person_id)
        wanted = {r.org_id for r in rects}
        for rect in rects:
            wanted |= _above(orgs, rect.org_id)
        by_org: dict[tuple[int, Role], list[Person]] = {}
        for person in await uow.rectifications.people_in(
            wanted, [Role.SECRETARY.value, Role.COMMITTEE.value]
        ):
            by_org.setdefault((person.org_id, person.role), []).append(person)
        return cls(orgs, subjects, by_org)

    def _subject(self, rect: Rectification) -> Person | None:
        return self.subjects.get(rect.person_id) if rect.person_id is not None else None

    def name(self, rect: Rectification) -> str:
        """The member's name, or the branch's name."""
        subject = self._subject(rect)
        if subject is not None:
            return subject.name
        org = self.orgs.get(rect.org_id)
        return org.name if org else "?"

    def filers(self, rect: Rectification) -> list[Person]:
        """As ``filers``, from memory."""
        secretaries = self.by_org.get((rect.org_id, Role.SECRETARY), [])
        return choose_filers(rect, self._subject(rect), secretaries)

    def acceptors(self, rect: Rectification) -> list[Person]:
        """As ``acceptors``, from memory."""
        chain: list[list[Person]] = []
        org = self.orgs.get(rect.org_id)
        seen = {rect.org_id}
        while org is not None and org.parent_id is not None and org.parent_id not in seen:
            seen.add(org.parent_id)
            chain.append(self.by_org.get((org.parent_id, Role.COMMITTEE), []))
            org = self.orgs.get(org.parent_id)
        secretaries = self.by_org.get((rect.org_id, Role.SECRETARY), [])
        return choose_acceptors(rect, self._subject(rect), secretaries, chain)


async def may_accept(uow: UnitOfWork, me: Person, rect: Rectification) -> bool:
    """The member's branch secretary or the committee above; a branch: the committee above."""
    above = {org.id for org in await uow.orgs.ancestors(rect.org_id)}
    return accepts(me, rect, oral=await _oral(uow, rect), above=above)


def accepts(me: Person, rect: Rectification, *, oral: bool, above: set[int]) -> bool:
    """``may_accept`` with the facts at hand: is the subject an oral member, and the ids of
    the organisations above the subject's branch."""
    if me.id == rect.person_id:
        return False
    if rect.person_id is None and me.org_id == rect.org_id:
        return False  # a branch does not accept its own plan
    if rect.person_id is not None and me.role is Role.SECRETARY and me.org_id == rect.org_id:
        return not oral  # an oral member's plan: the secretary wrote it, the committee accepts
    return (me.role is Role.COMMITTEE or me.is_admin) and me.org_id in above


async def subject_name(uow: UnitOfWork, rect: Rectification) -> str:
    """The member's name, or the branch's name."""
    if rect.person_id is not None:
        person = await uow.people.get(rect.person_id)
        if person is not None:
            return person.name
    org = await uow.orgs.get(rect.org_id)
    return org.name if org else "?"


async def _committee_above(uow: UnitOfWork, org_id: int) -> list[Person]:
    for org in await uow.orgs.ancestors(org_id):
        staff = await uow.people.in_org(org.id, [Role.COMMITTEE.value])
        if staff:
            return staff
    return []


def plan_due(rect: Rectification, tz: ZoneInfo) -> date:
    """The day by which the plan is expected (two weeks after the rectification opened)."""
    return rect.created_at.astimezone(tz).date() + timedelta(days=PLAN_DUE_DAYS)


# ---- buttons ------------------------------------------------------------------------------


def plan_button(locale: str | None, rect: Rectification) -> Rows:
    """The button that starts writing the plan."""
    return [[Button(t(locale, "rectify.btn.plan"), action=action(FEATURE, "plan", rect.id))]]


def decision_buttons(locale: str | None, rect: Rectification) -> Rows:
    """Accept / send back, bound to this version (a stale or second tap changes nothing)."""
    return [
        [
            Button(
                t(locale, "rectify.btn.accept"),
                action=action(FEATURE, "ok", rect.id, rect.version),
            ),
            Button(
                t(locale, "rectify.btn.return"),
                action=action(FEATURE, "ret", rect.id, rect.version),
            ),
        ]
    ]


def plan_text(locale: str | None, rect: Rectification, name: str) -> str:
    """The plan as the acceptor and the filer see it."""
    return t(
        locale,
        "rectify.card",
        name=name,
        round=rect.round,
        status=t(locale, f"rectify.status.{rect.status.value}"),
        goals=rect.goals or "—",
        measures=rect.measures or "—",
        deadline=format_date(rect.deadline, locale) if rect.deadline else "—",
    )


# ---- the hook called when an evaluation closes ----------------------------------------------


async def on_evaluation_closed(uow: UnitOfWork, clock: Clock, evaluation_id: int) -> None:
    """Called inside the unit of work that closed an evaluation, after the results are written.

    A first evaluation: each subject under the pass mark gets a rectification and whoever must
    file the plan is told. A re-evaluation: passed closes the loop; failed opens a new round.
    Idempotent: a second call for the same evaluation changes nothing.
    """
    ev = await uow.rectifications.evaluation(evaluation_id)
    if ev is None:
        return
    if ev.rectification_id is not None:
        await _after_reevaluation(uow, clock, ev)
        return
    if ev.status != "closed":
        return
    subjects = [s for s in await uow.rectifications.subjects(evaluation_id) if s.passed is False]
    if not subjects:
        return
    existing = {
        r.subject_id for r in await uow.rectifications.for_subjects(s.id for s in subjects)
    }
    fresh = [s for s in subjects if s.id not in existing]
    await _open(uow, clock, ev, fresh, round_no=1, previous=None)


async def _open(
    uow: UnitOfWork,
    clock: Clock,
    ev: EvaluationInfo,
    subjects: list[SubjectResult],
    *,
    round_no: int,
    previous: Rectification | None,
) -> list[Rectification]:
    """Open rectifications (status due) for these subjects and tell who must file the plan."""
    if not subjects:
        return []
    now = clock.now()
    await uow.rectifications.add_many(
        [
            {
                "kind": RectificationKind.SATISFACTION.value,
                "evaluation_id": ev.id,
                "subject_id": s.id,
                "org_id": s.org_id,
                "person_id": s.person_id,
                "status": S.DUE.value,
                "round": round_no,
                "previous_id": previous.id if previous else None,
                "version": 1,
                "created_at": now,
            }
            for s in subjects
        ]
    )
    opened = await uow.rectifications.for_subjects(s.id for s in subjects)
    rates = {s.id: s.rate_permille for s in subjects}
    for rect in opened:
        name = await subject_name(uow, rect)
        deciders = await acceptors(uow, rect)
        to_committee = not deciders or deciders[0].role is not Role.SECRETARY
        for person in await filers(uow, rect):
            key = "rectify.opened.member" if rect.is_member else "rectify.opened.branch"
            if is_proxy(person, rect):
                key = "rectify.opened.proxy"
            if round_no > 1:
                key = "rectify.opened.again"
            await tell(
                uow,
                person,
                key,
                now,
                buttons=plan_button(person.locale, rect),
                name=name,
                rate=percent(rates.get(rect.subject_id or 0)),
                mark=percent(ev.pass_permille),
                due=format_date(plan_due(rect, clock.tz), person.locale),
                round=rect.round,
                reviewer=t(
                    person.locale,
                    "rectify.reviewer.committee" if to_committee else "rectify.reviewer.secretary",
                ),
            )
    return opened


async def _after_reevaluation(uow: UnitOfWork, clock: Clock, ev: EvaluationInfo) -> None:
    assert ev.rectification_id is not None
    rect = await uow.rectifications.get(ev.rectification_id)
    if rect is None or rect.status is not S.REEVALUATING or ev.status != "closed":
        # Handled already; or void: the mass evaluation asks the secretary to reschedule,
        # and the rescheduled one carries the same rectification id and comes back here.
        return
    now = clock.now()
    name = await subject_name(uow, rect)
    subjects = await uow.rectifications.subjects(ev.id)
    result = next(
        (s for s in subjects if s.person_id == rect.person_id and s.org_id == rect.org_id),
        subjects[0] if subjects else None,
    )
    if result is None:
        return
    if result.passed is None:
        await _inconclusive(uow, clock, rect, name)
        return
    rate, mark = percent(result.rate_permille), percent(ev.pass_permille)
    if result.passed:
        transition(rect.status, RectAction.PASS)
        if not await uow.rectifications.update(
            rect.id, rect.version, status=S.CLOSED.value, closed_at=now, reevaluation_id=ev.id
        ):
            return
        told: set[int] = set()
        for person in await filers(uow, rect):
            if is_proxy(person, rect):
                continue  # the secretary hears it with the others below
            told.add(person.id)
            await tell(uow, person, "rectify.closed.subject", now, rate=rate, mark=mark)
        others = [
            *await acceptors(uow, rect),
            *await uow.people.in_org(rect.org_id, [Role.SECRETARY.value]),
            *await _committee_above(uow, rect.org_id),
        ]
        for person in others:
            if person.id in told:
                continue
            told.add(person.id)
            await tell(uow, person, "rectify.closed.others", now, name=name, rate=rate, mark=mark)
        org = await uow.orgs.get(rect.org_id)
        if not rect.is_member and org is not None and org.board_chat_id is not None:
            # The branch's residents saw the result; they see the rectification through too.
            text = t(None, "rectify.closed.board", name=name, rate=rate, mark=mark)
            await uow.outbox.add(message_row(org.board_chat_id, text, now))
        return
    # Failed again: this round ends as failed and a new round opens as a new rectification,
    # so each round keeps its own plan, decision and re-evaluation for the record.
    transition(rect.status, RectAction.FAIL)
    if not await uow.rectifications.update(
        rect.id, rect.version, status=S.FAILED.value, closed_at=now, reevaluation_id=ev.id
    ):
        return
    opened = await _open(uow, clock, ev, [result], round_no=rect.round + 1, previous=rect)
    for person in await acceptors(uow, rect):
        await tell(
            uow,
            person,
            "rectify.failed.acceptor",
            now,
            name=name,
            rate=rate,
            mark=mark,
            round=opened[0].round if opened else rect.round + 1,
        )


async def _inconclusive(uow: UnitOfWork, clock: Clock, rect: Rectification, name: str) -> None:
    """Fewer than 5 valid votes for the subject: no result to judge (nor to show). The plan
    goes back to accepted with yesterday as its deadline, so the next tick re-evaluates."""
    now = clock.now()
    transition(rect.status, RectAction.INCONCLUSIVE)
    yesterday = now.astimezone(clock.tz).date() - timedelta(days=1)
    if not await uow.rectifications.update(
        rect.id, rect.version, status=S.ACCEPTED.value, deadline=yesterday
    ):
        return
    people = {p.id: p for p in [*await filers(uow, rect), *await acceptors(uow, rect)]}
    for person in people.values():
        await tell(uow, person, "rectify.reevaluation.inconclusive", now, name=name)


async def _result_line(
    uow: UnitOfWork, rect: Rectification, locale: str | None, tz: ZoneInfo
) -> str:
    """The evaluation result that called for this rectification, for the acceptor."""
    if rect.evaluation_id is None:
        return ""
    ev = await uow.rectifications.evaluation(rect.evaluation_id)
    subjects = await uow.rectifications.subjects(rect.evaluation_id)
    subject = next((x for x in subjects if x.id == rect.subject_id), None)
    if ev is None or subject is None or subject.rate_permille is None:
        return ""
    return t(
        locale,
        "rectify.card.result",
        rate=percent(subject.rate_permille),
        mark=percent(ev.pass_permille),
        when=format_day(ev.closed_at or ev.closes_at, tz, locale),
    )


# ---- the service ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RectView:
    """A rectification as one person sees it in their list."""

    rect: Rectification
    name: str
    can_file: bool
    can_decide: bool
    plan_due: date


@dataclass(frozen=True)
class Decided:
    """What a decision did."""

    rect: Rectification
    name: str
    notified: bool = True  # whether anyone was told (a reviewer may not have joined yet)


class RectificationService:
    """Filing, accepting and following rectification plans."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def today(self) -> date:
        """The local date."""
        return self.clock.now().astimezone(self.clock.tz).date()

    async def listing(self, actor: Actor) -> list[RectView]:
        """The rectifications this person must file or accept, or follows, oldest first."""
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            if me.role is Role.RESIDENT:
                raise Forbidden("rectify.residents")
            all_orgs = {o.id: o for o in await uow.orgs.all()}
            scope = _below(all_orgs, me.org_id)
            rects = await uow.rectifications.in_progress(OPEN, org_ids=scope, person_id=me.id)
            # A committee may follow a district's worth: facts in memory, not queries per row.
            subjects = await uow.people.by_ids(r.person_id for r in rects if r.person_id)
            views = []
            staff = me.role in (Role.SECRETARY, Role.COMMITTEE) or me.is_admin
            for rect in rects:
                subject = subjects.get(rect.person_id) if rect.person_id else None
                oral = subject is not None and subject.oral
                can_file = may_file(me, rect, oral=oral)
                acceptor = accepts(me, rect, oral=oral, above=_above(all_orgs, rect.org_id))
                if not (can_file or acceptor or staff):
                    continue  # a member sees only their own
                org = all_orgs.get(rect.org_id)
                name = subject.name if subject else (org.name if org else "?")
                views.append(
                    RectView(
                        rect,
                        name,
                        can_file and rect.status in FILABLE,
                        acceptor and rect.status is S.SUBMITTED,
                        plan_due(rect, self.clock.tz),
                    )
                )
            return views

    async def _filable(self, uow: UnitOfWork, actor: Actor, rect_id: int) -> Rectification:
        me = await access.person_of(uow, actor)
        rect = await uow.rectifications.get(rect_id)
        if rect is None:
            raise DomainError("rectify.not_found")
        if not may_file(me, rect, oral=await _oral(uow, rect)):
            raise Forbidden("rectify.not_yours")
        if rect.status not in FILABLE:
            raise DomainError(
                "rectify.not_filable", status=t(me.locale, f"rectify.status.{rect.status.value}")
            )
        return rect

    async def begin_plan(self, actor: Actor, rect_id: int) -> RectView:
        """Before writing a plan: may this person file it now? With the comment if returned."""
        async with self.db.uow() as uow:
            rect = await self._filable(uow, actor, rect_id)
            return RectView(
                rect, await subject_name(uow, rect), True, False, plan_due(rect, self.clock.tz)
            )

    def check_goals(self, text: str) -> str:
        """A plan's goals: not empty, not too long."""
        return _clean(text, MAX_GOALS, "rectify.goals")

    def check_measures(self, text: str) -> str:
        """A plan's measures: not empty, not too long."""
        return _clean(text, MAX_MEASURES, "rectify.measures")

    def check_deadline(self, text: str) -> date:
        """A deadline typed in chat: after today, within a year."""
        from bot.domain.dates import DeadlineError, parse_deadline

        today = self.today()
        try:
            deadline = parse_deadline(text, today)
        except DeadlineError as exc:
            raise DomainError(exc.key, **{k: v for k, v in exc.params.items()}) from None
        if deadline <= today:
            raise DomainError("rectify.deadline.too_soon")
        if deadline > today + timedelta(days=MAX_PLAN_DAYS):
            raise DomainError("rectify.deadline.too_far", days=MAX_PLAN_DAYS)
        return deadline

    async def submit_plan(
        self, actor: Actor, rect_id: int, goals: str, measures: str, deadline: date
    ) -> Decided:
        """File the plan: it goes to the acceptor with accept / send back buttons."""
        goals = self.check_goals(goals)
        measures = self.check_measures(measures)
        today = self.today()
        if deadline <= today or deadline > today + timedelta(days=MAX_PLAN_DAYS):
            raise DomainError("rectify.deadline.too_soon")
        now = self.clock.now()
        async with self.db.uow() as uow:
            rect = await self._filable(uow, actor, rect_id)
            status = transition(rect.status, RectAction.SUBMIT)
            if not await uow.rectifications.update(
                rect.id,
                rect.version,
                status=status.value,
                goals=goals,
                measures=measures,
                deadline=deadline,
                submitted_at=now,
            ):
                raise DomainError("rectify.stale")
            fresh = await uow.rectifications.get(rect.id)
            assert fresh is not None
            name = await subject_name(uow, fresh)
            notified = False
            for person in await acceptors(uow, fresh):
                notified |= await tell(
                    uow,
                    person,
                    "rectify.submitted.acceptor",
                    now,
                    buttons=decision_buttons(person.locale, fresh),
                    plan=plan_text(person.locale, fresh, name),
                    result=await _result_line(uow, fresh, person.locale, self.clock.tz),
                )
            return Decided(fresh, name, notified)

    async def _decidable(
        self, uow: UnitOfWork, actor: Actor, rect_id: int, version: int
    ) -> tuple[Person, Rectification]:
        me = await access.person_of(uow, actor)
        rect = await uow.rectifications.get(rect_id)
        if rect is None:
            raise DomainError("rectify.not_found")
        if not await may_accept(uow, me, rect):
            raise Forbidden("rectify.not_acceptor")
        if rect.status is not S.SUBMITTED:
            raise DomainError(
                "rectify.already_decided",
                status=t(me.locale, f"rectify.status.{rect.status.value}"),
            )
        if rect.version != version:
            raise DomainError("rectify.stale")
        return me, rect

    async def check_decidable(self, actor: Actor, rect_id: int, version: int) -> Decided:
        """Before asking for a send-back comment: may this person still decide this version?"""
        async with self.db.uow() as uow:
            _, rect = await self._decidable(uow, actor, rect_id, version)
            return Decided(rect, await subject_name(uow, rect))

    async def accept(self, actor: Actor, rect_id: int, version: int) -> Decided:
        """Accept the plan: the subject is told; the re-evaluation follows its deadline."""
        now = self.clock.now()
        async with self.db.uow() as uow:
            me, rect = await self._decidable(uow, actor, rect_id, version)
            status = transition(rect.status, RectAction.ACCEPT)
            if not await uow.rectifications.update(
                rect.id,
                version,
                status=status.value,
                reviewer_id=me.id,
                review_comment=None,
                accepted_at=now,
            ):
                raise DomainError("rectify.stale")
            fresh = await uow.rectifications.get(rect.id)
            assert fresh is not None and fresh.deadline is not None
            name = await subject_name(uow, fresh)
            for person in await filers(uow, fresh):
                if person.id == me.id:
                    continue  # an oral member's secretary deciding sees it in the reply
                proxy = is_proxy(person, fresh)
                await tell(
                    uow,
                    person,
                    "rectify.accepted.proxy" if proxy else "rectify.accepted.subject",
                    now,
                    name=name,
                    reviewer=me.name,
                    deadline=format_date(fresh.deadline, person.locale),
                )
            return Decided(fresh, name)

    async def send_back(self, actor: Actor, rect_id: int, version: int, comment: str) -> Decided:
        """Send the plan back with a comment: the filer revises and submits again."""
        now = self.clock.now()
        text = _clean(comment, MAX_COMMENT, "rectify.comment")
        async with self.db.uow() as uow:
            me, rect = await self._decidable(uow, actor, rect_id, version)
            status = transition(rect.status, RectAction.RETURN)
            if not await uow.rectifications.update(
                rect.id, version, status=status.value, reviewer_id=me.id, review_comment=text
            ):
                raise DomainError("rectify.stale")
            fresh = await uow.rectifications.get(rect.id)
            assert fresh is not None
            name = await subject_name(uow, fresh)
            for person in await filers(uow, fresh):
                if person.id == me.id:
                    continue
                proxy = is_proxy(person, fresh)
                await tell(
                    uow,
                    person,
                    "rectify.returned.proxy" if proxy else "rectify.returned.subject",
                    now,
                    buttons=plan_button(person.locale, fresh),
                    name=name,
                    reviewer=me.name,
                    comment=text,
                )
            return Decided(fresh, name)


def _below(orgs: dict[int, Org], root: int) -> list[int]:
    """An organisation and everything below it."""
    children: dict[int | None, list[int]] = {}
    for org in orgs.values():
        children.setdefault(org.parent_id, []).append(org.id)
    scope, frontier = [root], [root]
    while frontier:
        frontier = [c for parent in frontier for c in children.get(parent, [])]
        scope.extend(frontier)
    return scope


def _above(orgs: dict[int, Org], org_id: int) -> set[int]:
    """The ids of the organisations above one (its parent, the parent's parent, …)."""
    found: set[int] = set()
    org = orgs.get(org_id)
    while org is not None and org.parent_id is not None and org.parent_id not in found:
        found.add(org.parent_id)
        org = orgs.get(org.parent_id)
    return found


def _clean(value: str, limit: int, key: str) -> str:
    text = value.strip()
    if not text:
        raise DomainError(f"{key}.empty")
    if len(text) > limit:
        raise DomainError(f"{key}.too_long", limit=limit, length=len(text))
    return text
