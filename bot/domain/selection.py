"""组织评选: rankings (上评下议), award candidates and confirmation, the year-end assessment.

- A branch secretary ranks the branch's members every month; a committee clerk ranks the
  branches below the committee every two months. ``/ranking`` shows the current figures;
  publishing stores the snapshot in ``rankings`` (once per slot: a second publication of the
  same slot is refused) and posts it through the outbox in the same unit of work.
- A committee clerk proposes award candidates for a year from the figures (thresholds and
  numbers in settings), confirms or rejects each (buttons bound to the award's version), and
  announces the confirmed ones.
- A secretary assesses the branch's members, a committee clerk the branches, on the four
  dimensions and overall, with the computed figures shown and stored beside the grades.

Permissions are checked here; nothing is written when a check fails.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.chat.actor import Actor
from bot.domain import access
from bot.domain.clock import Clock
from bot.domain.enums import Role
from bot.domain.errors import DomainError, Forbidden
from bot.domain.models import Org, Person
from bot.domain.notify import message_row
from bot.domain.selection_models import (
    DIMENSIONS,
    GRADE_LETTERS,
    Assessment,
    AssessmentGrade,
    Award,
    AwardKind,
    AwardStatus,
    Ranking,
    SubjectFigures,
    SubjectKind,
    Weights,
)
from bot.i18n import t
from config.settings import Settings
from storage.db import Database
from storage.reminder_repo import Recipient
from storage.selection_repo import Scope, YearSpan
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

RANK_PAGE = 20  # rows per /ranking page (well under 4096 characters)
BOARD_ROWS = 30  # a committee's board post lists the first places; each secretary hears theirs
AWARDS_PAGE = 6
ASSESS_PAGE = 8
CATCH_UP_DAYS = 3  # the publication reminder still goes out this many days into the month
# rankings.kind: a branch's members every month, a committee's branches every two months
RANKING_KIND = {SubjectKind.MEMBER: "members", SubjectKind.BRANCH: "branches"}


# ---- periods -------------------------------------------------------------------------------


def member_period(today: date) -> str:
    """The month a secretary ranks now: the month just ended (2026-10 in November)."""
    last = today.replace(day=1) - timedelta(days=1)
    return f"{last.year}-{last.month:02d}"


def branch_period(today: date) -> str:
    """The two months a committee ranks now: the pair just ended (2026-B5 is Sep–Oct)."""
    index = (today.month - 1) // 2  # the pair we are in, 0..5
    if index == 0:
        return f"{today.year - 1}-B6"
    return f"{today.year}-B{index}"


def period_for(kind: SubjectKind, today: date) -> str:
    """The slot to publish now for this kind of ranking."""
    return member_period(today) if kind is SubjectKind.MEMBER else branch_period(today)


def period_year(period: str) -> int:
    """The year of a period label."""
    return int(period[:4])


def period_months(period: str) -> tuple[int, int]:
    """First and last month of a period (2026-07 → (7, 7); 2026-B4 → (7, 8))."""
    if "-B" in period:
        pair = int(period.split("-B")[1])
        return 2 * pair - 1, 2 * pair
    month = int(period[5:7])
    return month, month


def year_span(year: int, tz: ZoneInfo, now: datetime | None = None) -> YearSpan:
    """The local calendar year as aware datetimes, read as of ``now`` when it falls inside
    the year (the figures so far: an item due today is not overdue yet)."""
    start = datetime.combine(date(year, 1, 1), time(), tzinfo=tz)
    end = datetime.combine(date(year + 1, 1, 1), time(), tzinfo=tz)
    if now is not None and start <= now < end:
        return YearSpan(year, start, now, now.astimezone(tz).date())
    return YearSpan(year, start, end, end.date(), end.date() - timedelta(days=1))


def period_end(period: str) -> date:
    """The last day of a ranked period (2026-11 → 2026-11-30; 2026-B5 → 2026-10-31)."""
    _, last = period_months(period)
    year = period_year(period)
    first_after = date(year + 1, 1, 1) if last == 12 else date(year, last + 1, 1)
    return first_after - timedelta(days=1)


def period_span(period: str, tz: ZoneInfo) -> YearSpan:
    """The figures of a ranked period: the year up to the end of its last day, and nothing
    after it (a later review, fulfilment or evaluation belongs to a later ranking)."""
    last = period_end(period)
    after = last + timedelta(days=1)
    return YearSpan(
        period_year(period),
        datetime.combine(date(period_year(period), 1, 1), time(), tzinfo=tz),
        datetime.combine(after, time(), tzinfo=tz),
        after,
        last,
    )


def subject_key(kind: SubjectKind, subject_id: int) -> str:
    """assessments.subject_key: p:<person> or o:<org>."""
    return f"{'p' if kind is SubjectKind.MEMBER else 'o'}:{subject_id}"


def _pages(count: int, per_page: int) -> int:
    return max(1, -(-count // per_page))


def _clamp(page: int, pages: int) -> int:
    return min(max(page, 0), pages - 1)


def _is_committee(me: Person) -> bool:
    return me.role is Role.COMMITTEE or (me.is_admin and me.role is not Role.SECRETARY)


# ---- views ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RankingView:
    """One page of the current ranking of a branch's members or a committee's branches."""

    kind: SubjectKind
    org: Org
    period: str
    today: date
    total: int
    rows: list[SubjectFigures]
    page: int
    pages: int
    published: Ranking | None
    weights: Weights


@dataclass(frozen=True)
class Published:
    """What publishing did."""

    kind: SubjectKind
    org: Org
    period: str
    total: int
    on_board: bool
    secretaries: int


@dataclass(frozen=True)
class AwardsView:
    """A committee's awards of a year, one page."""

    org: Org
    year: int
    awards: list[Award]
    page: int
    pages: int
    counts: dict[AwardStatus, int]
    to_announce: int


@dataclass(frozen=True)
class AssessList:
    """A page of the subjects a reviewer assesses, with the grades already entered."""

    kind: SubjectKind
    org: Org
    year: int
    total: int
    subjects: list[tuple[int, str, str | None]]
    page: int
    pages: int


@dataclass(frozen=True)
class AssessCard:
    """A subject's computed figures, shown while the reviewer chooses the grades."""

    kind: SubjectKind
    year: int
    figures: SubjectFigures
    existing: Assessment | None


class ReminderBatch(Protocol):
    """What the reminder tick lends this module: queue a reminder under a unique key."""

    known: set[str]

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


# ---- the service ---------------------------------------------------------------------------


class SelectionService:
    """Rankings, awards and assessments; permissions are checked here."""

    def __init__(self, db: Database, clock: Clock, settings: Settings) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings

    @property
    def weights(self) -> Weights:
        """The score's weights from settings."""
        s = self.settings
        return Weights(
            fulfilment=s.rank_weight_fulfilment,
            on_time=s.rank_weight_on_time,
            grade=s.rank_weight_grade,
            satisfaction=s.rank_weight_satisfaction,
        )

    def _today(self) -> date:
        return self.clock.now().astimezone(self.clock.tz).date()

    def _span(self, year: int) -> YearSpan:
        return year_span(year, self.clock.tz, self.clock.now())

    # ---- rankings ---------------------------------------------------------------------

    @staticmethod
    def _ranking_kind(me: Person) -> SubjectKind:
        if me.role is Role.SECRETARY:
            return SubjectKind.MEMBER
        if _is_committee(me):
            return SubjectKind.BRANCH
        raise Forbidden("selection.rank.not_allowed")

    async def ranking(self, actor: Actor, page: int = 0) -> RankingView:
        """/ranking: the current slot's figures, one page (members or branches by role)."""
        async with self.db.read() as uow:
            me = await access.person_of(uow, actor)
            kind = self._ranking_kind(me)
            org = await uow.orgs.get(me.org_id)
            assert org is not None
            today = self._today()
            period = period_for(kind, today)
            span = period_span(period, self.clock.tz)
            scope = Scope(kind, org.id)
            total = await uow.selection.count(scope)
            pages = _pages(total, RANK_PAGE)
            page = _clamp(page, pages)
            total, rows = await uow.selection.ranking(
                scope, span, self.weights, limit=RANK_PAGE, offset=page * RANK_PAGE
            )
            published = await uow.selection.published(RANKING_KIND[kind], org.id, period)
            if published is not None:  # shown as the local date
                local = published.published_at.astimezone(self.clock.tz)
                published = published.model_copy(update={"published_at": local})
            return RankingView(
                kind, org, period, today, total, rows, page, pages, published, self.weights
            )

    async def publish(self, actor: Actor, kind: SubjectKind, period: str) -> Published:
        """Store the slot's snapshot and post it (board group, secretaries) — once per slot.

        The ranking (a district's 1,376 branches) is read in a read-only unit of work and its
        texts written outside any; the snapshot and its messages then commit in one short
        transaction that checks again that nobody published the slot meanwhile."""
        now = self.clock.now()
        async with self.db.read() as uow:
            me = await access.person_of(uow, actor)
            if self._ranking_kind(me) is not kind:
                raise Forbidden("selection.rank.not_allowed")
            today = self._today()
            if period != period_for(kind, today):
                raise DomainError("selection.rank.stale")
            org = await uow.orgs.get(me.org_id)
            assert org is not None
            await self._not_published(uow, kind, org, period)
            total, rows = await uow.selection.ranking(
                Scope(kind, org.id), period_span(period, self.clock.tz), self.weights
            )
            secretaries: list[Recipient] = []
            if kind is SubjectKind.BRANCH and rows:
                secretaries = await uow.reminders.recipients(
                    roles=[Role.SECRETARY.value], org_ids=[r.subject_id for r in rows]
                )
        from bot.domain.selection_view import board_text, secretary_place_text

        out: list[dict[str, Any]] = []
        if org.board_chat_id is not None:
            text = board_text(None, kind, org, period, rows, today, BOARD_ROWS)
            out += message_row(org.board_chat_id, text, now, sender_id=me.id)
        by_org = {r.subject_id: r for r in rows}
        for sec in secretaries:
            text = secretary_place_text(sec.locale, org, period, by_org[sec.org_id], total)
            out += message_row(sec.tg_user_id, text, now, sender_id=me.id)
        async with self.db.uow() as uow:
            await self._not_published(uow, kind, org, period)
            await uow.selection.publish(
                RANKING_KIND[kind], org.id, period, [r.snapshot() for r in rows], now
            )
            await uow.outbox.add(out)
        log.info("ranking %s %s of org %s published (%d rows)", kind, period, org.id, total)
        return Published(kind, org, period, total, org.board_chat_id is not None, len(secretaries))

    async def _not_published(
        self, uow: UnitOfWork, kind: SubjectKind, org: Org, period: str
    ) -> None:
        """Refuse a slot that was published already (saying when)."""
        done = await uow.selection.published(RANKING_KIND[kind], org.id, period)
        if done is not None:
            raise DomainError(
                "selection.rank.already",
                period=period,
                date=done.published_at.astimezone(self.clock.tz).strftime("%Y-%m-%d"),
            )

    # ---- awards -----------------------------------------------------------------------

    async def _clerk(self, uow: UnitOfWork, actor: Actor) -> tuple[Person, Org]:
        me = await access.person_of(uow, actor)
        if not _is_committee(me):
            raise Forbidden("selection.awards.not_allowed")
        org = await uow.orgs.get(me.org_id)
        assert org is not None
        return me, org

    async def _awards_view(self, uow: UnitOfWork, org: Org, year: int, page: int) -> AwardsView:
        awards = await uow.selection.awards(org.id, year)
        counts: dict[AwardStatus, int] = defaultdict(int)
        for award in awards:
            counts[award.status] += 1
        pages = _pages(len(awards), AWARDS_PAGE)
        page = _clamp(page, pages)
        to_announce = sum(
            1 for a in awards if a.status is AwardStatus.CONFIRMED and a.announced_at is None
        )
        return AwardsView(
            org,
            year,
            awards[page * AWARDS_PAGE : (page + 1) * AWARDS_PAGE],
            page,
            pages,
            dict(counts),
            to_announce,
        )

    def award_year(self) -> int:
        """The year awards and assessments are for now."""
        return self._today().year

    async def awards(self, actor: Actor, year: int, page: int = 0) -> AwardsView:
        """/awards: the committee's candidates and decisions of a year."""
        async with self.db.read() as uow:
            _, org = await self._clerk(uow, actor)
            return await self._awards_view(uow, org, year, page)

    async def propose(self, actor: Actor, year: int) -> tuple[int, AwardsView]:
        """Propose candidates from the year's figures; undecided proposals are replaced.

        Returns how many candidates the figures gave (0: nobody reaches the bars) and the list.
        The figures are read in a read-only unit of work; the proposals are written in a
        short one, if no award was decided meanwhile (else the figures are read again)."""
        while True:
            async with self.db.read() as uow:
                _, org = await self._clerk(uow, actor)
                decided = await self._decided(uow, org, year)
                rows = await self._proposals(uow, org, year, decided)
            async with self.db.uow() as uow:
                if await self._decided(uow, org, year) != decided:
                    continue  # a decision came in between: its award is not proposed again
                await uow.selection.replace_proposals(org.id, year, rows)
                return len(rows), await self._awards_view(uow, org, year, 0)

    @staticmethod
    async def _decided(uow: UnitOfWork, org: Org, year: int) -> list[Award]:
        return [
            a
            for a in await uow.selection.awards(org.id, year)
            if a.status is not AwardStatus.PROPOSED
        ]

    async def _proposals(
        self, uow: UnitOfWork, org: Org, year: int, decided: list[Award]
    ) -> list[dict[str, Any]]:
        """The award rows the year's figures propose, past the decided ones."""
        now = self.clock.now()
        st = self.settings
        span = self._span(year)
        taken: dict[AwardKind, set[int]] = defaultdict(set)
        for a in decided:
            taken[a.kind].add(a.person_id if a.person_id is not None else a.org_id)
        confirmed_star = {
            a.person_id
            for a in decided
            if a.kind is AwardKind.STAR_MEMBER and a.status is AwardStatus.CONFIRMED
        }
        members = Scope(SubjectKind.MEMBER, org.id, below=True)
        stars = await self._candidates(
            uow,
            members,
            span,
            st.award_star_fulfilment_percent,
            st.award_star_top,
            taken[AwardKind.STAR_MEMBER],
        )
        chosen_star = {f.subject_id for f in stars} | {p for p in confirmed_star if p}
        excellent = await self._candidates(
            uow,
            members,
            span,
            st.award_excellent_fulfilment_percent,
            st.award_excellent_top,
            taken[AwardKind.EXCELLENT_MEMBER] | chosen_star,
        )
        branches = await self._candidates(
            uow,
            Scope(SubjectKind.BRANCH, org.id),
            span,
            st.award_branch_fulfilment_percent,
            st.award_branch_top,
            taken[AwardKind.ADVANCED_BRANCH],
        )
        return [
            _award_row(kind, year, org.id, f, now)
            for kind, found in (
                (AwardKind.STAR_MEMBER, stars),
                (AwardKind.EXCELLENT_MEMBER, excellent),
                (AwardKind.ADVANCED_BRANCH, branches),
            )
            for f in found
        ]

    async def _candidates(
        self,
        uow: UnitOfWork,
        scope: Scope,
        span: YearSpan,
        bar: float,
        top: int,
        exclude: set[int],
    ) -> list[SubjectFigures]:
        if top <= 0:
            return []
        _, found = await uow.selection.ranking(
            scope, span, self.weights, limit=top + len(exclude), min_fulfilment=bar
        )
        return [f for f in found if f.subject_id not in exclude][:top]

    async def decide(
        self, actor: Actor, award_id: int, version: int, confirm: bool, page: int
    ) -> tuple[Award, AwardsView]:
        """Confirm or reject one proposal; a stale or second tap changes nothing."""
        now = self.clock.now()
        async with self.db.uow() as uow:
            me, org = await self._clerk(uow, actor)
            award = await uow.selection.award(award_id)
            if award is None:
                raise DomainError("selection.awards.gone")
            if award.scope_org_id != org.id and not await uow.selection.in_scope(
                org.id, award.scope_org_id
            ):
                raise Forbidden("selection.awards.not_your_scope")
            if award.status is not AwardStatus.PROPOSED or award.version != version:
                raise DomainError("selection.awards.decided", status=award.status.value)
            status = AwardStatus.CONFIRMED if confirm else AwardStatus.REJECTED
            if not await uow.selection.decide(award_id, version, status, me.id, now):
                raise DomainError("selection.awards.decided", status=award.status.value)
            updated = await uow.selection.award(award_id)
            assert updated is not None
            view = await self._awards_view(uow, org, award.year, page)
            return updated, view

    async def announce(self, actor: Actor, year: int) -> int:
        """Announce the confirmed awards not announced yet: awardees, secretaries, boards."""
        now = self.clock.now()
        from bot.domain.selection_view import award_board_text, award_name

        async with self.db.uow() as uow:
            me, org = await self._clerk(uow, actor)
            fresh = [
                a
                for a in await uow.selection.awards(org.id, year, [AwardStatus.CONFIRMED])
                if a.announced_at is None
            ]
            if not fresh:
                raise DomainError("selection.awards.nothing_to_announce")
            out: list[dict[str, Any]] = []
            people = await uow.people.by_ids(a.person_id for a in fresh if a.person_id)
            secretaries: dict[int, list[Recipient]] = defaultdict(list)
            for sec in await uow.reminders.recipients(
                roles=[Role.SECRETARY.value], org_ids={a.org_id for a in fresh}
            ):
                secretaries[sec.org_id].append(sec)
            by_branch: dict[int, list[Award]] = defaultdict(list)
            for award in fresh:
                by_branch[award.org_id].append(award)
                name = str(award.figures.get("name", ""))
                branch = str(award.figures.get("org_name", ""))
                person = people.get(award.person_id) if award.person_id else None
                if person is not None and person.tg_user_id is not None:
                    out += message_row(
                        person.tg_user_id,
                        t(
                            person.locale,
                            "selection.award.you",
                            year=year,
                            award=award_name(person.locale, award.kind),
                            committee=org.name,
                        ),
                        now,
                        sender_id=me.id,
                    )
                for sec in secretaries.get(award.org_id, []):
                    if person is not None and sec.person_id == person.id:
                        continue
                    key = (
                        "selection.award.branch"
                        if award.kind is AwardKind.ADVANCED_BRANCH
                        else "selection.award.member"
                    )
                    out += message_row(
                        sec.tg_user_id,
                        t(
                            sec.locale,
                            key,
                            year=year,
                            award=award_name(sec.locale, award.kind),
                            name=name,
                            branch=branch,
                            committee=org.name,
                        ),
                        now,
                        sender_id=me.id,
                    )
            if org.board_chat_id is not None:
                text = award_board_text(None, org.name, year, fresh)
                out += message_row(org.board_chat_id, text, now, sender_id=me.id)
            boards = {
                b.id: b.board_chat_id
                for b in [await uow.orgs.get(oid) for oid in by_branch]
                if b is not None and b.board_chat_id is not None
            }
            for branch_id, chat in boards.items():
                if chat is None or chat == org.board_chat_id:
                    continue
                text = award_board_text(None, org.name, year, by_branch[branch_id])
                out += message_row(chat, text, now, sender_id=me.id)
            await uow.outbox.add(out)
            await uow.selection.mark_announced([a.id for a in fresh], now)
            return len(fresh)

    # ---- year-end assessment --------------------------------------------------------

    async def _assessor(self, uow: UnitOfWork, actor: Actor) -> tuple[Person, SubjectKind]:
        me = await access.person_of(uow, actor)
        if me.role is Role.SECRETARY:
            return me, SubjectKind.MEMBER
        if _is_committee(me):
            return me, SubjectKind.BRANCH
        raise Forbidden("selection.assess.not_allowed")

    async def assess_list(self, actor: Actor, page: int = 0) -> AssessList:
        """/assess: the members (secretary) or branches (committee) to assess this year."""
        async with self.db.uow() as uow:
            me, kind = await self._assessor(uow, actor)
            org = await uow.orgs.get(me.org_id)
            assert org is not None
            year = self.award_year()
            total, _ = await uow.selection.subject_names(kind, org.id, 0, 0, exclude=me.id)
            pages = _pages(total, ASSESS_PAGE)
            page = _clamp(page, pages)
            _, names = await uow.selection.subject_names(
                kind, org.id, ASSESS_PAGE, page * ASSESS_PAGE, exclude=me.id
            )
            done = await uow.selection.assessed(year, [subject_key(kind, i) for i, _ in names])
            subjects = [(i, n, done.get(subject_key(kind, i))) for i, n in names]
            return AssessList(kind, org, year, total, subjects, page, pages)

    async def _check_subject(
        self, uow: UnitOfWork, me: Person, kind: SubjectKind, subject_id: int
    ) -> None:
        if kind is SubjectKind.MEMBER:
            person = await uow.people.get(subject_id)
            if person is None or person.role is Role.RESIDENT or person.role is Role.COMMITTEE:
                raise DomainError("selection.assess.no_such")
            if person.id == me.id:
                raise Forbidden("selection.assess.self")
            if person.org_id != me.org_id:
                raise Forbidden("selection.assess.not_your_member")
        else:
            if not await uow.selection.in_scope(me.org_id, subject_id):
                raise Forbidden("selection.assess.not_your_branch")

    async def assess_card(self, actor: Actor, kind: SubjectKind, subject_id: int) -> AssessCard:
        """The figures of one subject (and an earlier assessment, if any)."""
        async with self.db.uow() as uow:
            me, mine = await self._assessor(uow, actor)
            if kind is not mine:
                raise Forbidden("selection.assess.not_allowed")
            await self._check_subject(uow, me, kind, subject_id)
            year = self.award_year()
            figures = await uow.selection.subject(kind, subject_id, self._span(year), self.weights)
            if figures is None:
                raise DomainError("selection.assess.no_such")
            existing = await uow.selection.assessment(year, subject_key(kind, subject_id))
            return AssessCard(kind, year, figures, existing)

    async def assess(
        self, actor: Actor, kind: SubjectKind, subject_id: int, year: int, letters: str
    ) -> Assessment:
        """Store the four dimensions and the overall grade with the figures; tell the subject."""
        now = self.clock.now()
        if len(letters) != len(DIMENSIONS) + 1 or any(c not in GRADE_LETTERS for c in letters):
            raise DomainError("selection.assess.incomplete")
        if year != self.award_year():
            raise DomainError("selection.assess.stale")
        grades = [GRADE_LETTERS[c] for c in letters]
        dimensions = {d.value: g.value for d, g in zip(DIMENSIONS, grades[:-1], strict=True)}
        overall: AssessmentGrade = grades[-1]
        from bot.domain.selection_view import assessment_text

        async with self.db.uow() as uow:
            me, mine = await self._assessor(uow, actor)
            if kind is not mine:
                raise Forbidden("selection.assess.not_allowed")
            await self._check_subject(uow, me, kind, subject_id)
            key = subject_key(kind, subject_id)
            before = await uow.selection.assessment(year, key)
            if before is not None:
                raise DomainError(
                    "selection.assess.done",
                    name=str(before.figures.get("name", "")),
                    year=year,
                )
            figures = await uow.selection.subject(kind, subject_id, self._span(year), self.weights)
            if figures is None:
                raise DomainError("selection.assess.no_such")
            snapshot = figures.snapshot()
            new_id = await uow.selection.add_assessment(
                year=year,
                subject_kind=kind.value,
                person_id=subject_id if kind is SubjectKind.MEMBER else None,
                org_id=figures.org_id,
                subject_key=key,
                dimensions=dimensions,
                grade=overall.value,
                figures=snapshot,
                assessor_id=me.id,
                created_at=now,
            )
            stored = await uow.selection.assessment(year, key)
            assert stored is not None and stored.id == new_id
            told: list[Recipient] = []
            if kind is SubjectKind.MEMBER:
                told = list((await uow.reminders.people([subject_id])).values())
            else:
                told = await uow.reminders.recipients(
                    roles=[Role.SECRETARY.value], org_ids=[subject_id]
                )
            out: list[dict[str, Any]] = []
            for person in told:
                out += message_row(
                    person.tg_user_id,
                    assessment_text(person.locale, stored, for_subject=True),
                    now,
                    sender_id=me.id,
                )
            await uow.outbox.add(out)
            return stored


# ---- the reminder step (called from the reminder tick) --------------------------------------


async def queue_ranking_reminders(uow: UnitOfWork, today: date, batch: ReminderBatch) -> None:
    """At the start of a month secretaries are asked to publish last month's member ranking;
    in odd months committee staff also the last two months' branch ranking. Unique keys per
    person and slot; those who published already are not asked."""
    if today.day > CATCH_UP_DAYS:
        return
    await _remind(uow, batch, SubjectKind.MEMBER, member_period(today), Role.SECRETARY)
    if today.month % 2 == 1:
        await _remind(uow, batch, SubjectKind.BRANCH, branch_period(today), Role.COMMITTEE)


async def _remind(
    uow: UnitOfWork, batch: ReminderBatch, kind: SubjectKind, period: str, role: Role
) -> None:
    marker = f"rank:{kind.value}:{period}:done"
    if marker in batch.known or await uow.reminders.already_queued([marker]):
        return
    done = await uow.selection.published_scopes(RANKING_KIND[kind], period)
    people = [
        p for p in await uow.reminders.recipients(roles=[role.value]) if p.org_id not in done
    ]
    keys = [f"rank:{kind.value}:{period}:p{p.person_id}" for p in people]
    batch.known |= await uow.reminders.already_queued(keys)
    from bot.domain.selection_view import period_label

    for person, key in zip(people, keys, strict=True):
        text = t(
            person.locale,
            f"selection.remind.{kind.value}",
            period=period_label(person.locale, period),
        )
        await batch.add(key, person, text, "ranking", essential=True)
    await batch.add(marker, None, None, "ranking", essential=True)


def _award_row(
    kind: AwardKind, year: int, scope_org_id: int, f: SubjectFigures, now: datetime
) -> dict[str, Any]:
    return {
        "kind": kind.value,
        "year": year,
        "scope_org_id": scope_org_id,
        "person_id": f.subject_id if kind.subject is SubjectKind.MEMBER else None,
        "org_id": f.org_id,
        "status": AwardStatus.PROPOSED.value,
        "figures": f.snapshot(),
        "proposed_at": now,
        "decided_by": None,
        "decided_at": None,
        "version": 1,
        "announced_at": None,
    }
