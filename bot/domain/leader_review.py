"""Leader review (领导点评): a secretary reviews each member of the branch; a committee clerk
reviews the branches under the committee (and their members); a liaison leader reviews the
branches linked to them (and their members).

A review answers a cadence slot (一月一提醒、一季一点评、半年一检查、一年一总评): a month
(2026-07), a quarter (2026-Q3), a half year (2026-H1) or a year (2026). It has a grade, a
comment and optional points to rectify; it is delivered to the reviewed (a member privately, a
branch to its secretaries) and, as the reviewer chooses, published to the branch's board
group, all through the outbox in the unit of work that stores it. Open items found past their
deadline may be given a rectification deadline (责令限期整改). The reviewed may answer once
with a rectification statement (整改表态), which goes back to the reviewer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from bot.chat import features
from bot.chat.actions import Button, action
from bot.chat.actor import Actor
from bot.domain import access
from bot.domain import pledge_rules as rules
from bot.domain.clock import Clock
from bot.domain.dates import format_date, format_day
from bot.domain.enums import OrgType, Role
from bot.domain.errors import DomainError, Forbidden
from bot.domain.models import Org, Person
from bot.domain.notify import message_row, tell_text
from bot.domain.progress import FEATURE as PROGRESS_FEATURE  # pg:it:<item> opens progress
from bot.i18n import normalize_locale, t
from storage.db import Database
from storage.leader_review_repo import LeaderReview, OpenItem, SubjectFigures
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

FEATURE = features.LEADER_REVIEW
MAX_COMMENT = 1000
MAX_POINTS = 1000
MAX_RESPONSE = 1000
RECTIFY_DAYS = (15, 30, 60)  # the deadlines a reviewer picks from
HISTORY_LIMIT = 10
REPORT_BUTTONS = 3  # "record progress" buttons on a review with a rectification deadline
MEMBER_ROLES = (Role.MEMBER.value, Role.SECRETARY.value, Role.LEADER.value)


class PeriodKind(StrEnum):
    """The cadence a review answers."""

    MONTH = "m"  # 一月一提醒
    QUARTER = "q"  # 一季一点评
    HALF = "h"  # 半年一检查
    YEAR = "y"  # 一年一总评


class Grade(StrEnum):
    """好 / 较好 / 一般 / 差."""

    GOOD = "good"
    FAIRLY_GOOD = "fairly_good"
    AVERAGE = "average"
    POOR = "poor"


class SubjectKind(StrEnum):
    """Who is reviewed."""

    MEMBER = "member"
    BRANCH = "branch"


def period_of(kind: PeriodKind, day: date) -> str:
    """The slot of a day: 2026-07, 2026-Q3, 2026-H2, 2026."""
    if kind is PeriodKind.MONTH:
        return f"{day.year}-{day.month:02d}"
    if kind is PeriodKind.QUARTER:
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    if kind is PeriodKind.HALF:
        return f"{day.year}-H{1 if day.month <= 6 else 2}"
    return str(day.year)


def default_kind(day: date) -> PeriodKind:
    """The kind the calendar suggests: the annual review in December, the half-year check in
    June, the quarterly review in March and September (late Jun, Sep and Dec are the campaign's
    leader reviews), the monthly review otherwise."""
    if day.month == 12:
        return PeriodKind.YEAR
    if day.month == 6:
        return PeriodKind.HALF
    if day.month in (3, 9):
        return PeriodKind.QUARTER
    return PeriodKind.MONTH


def kind_of_period(period: str) -> PeriodKind | None:
    """The kind of a slot string, None if it is not one."""
    parts = period.split("-")
    if not parts[0].isdigit() or len(parts[0]) != 4:
        return None
    if len(parts) == 1:
        return PeriodKind.YEAR
    if len(parts) != 2:
        return None
    tail = parts[1]
    if tail.isdigit() and len(tail) == 2 and 1 <= int(tail) <= 12:
        return PeriodKind.MONTH
    if tail in ("Q1", "Q2", "Q3", "Q4"):
        return PeriodKind.QUARTER
    if tail in ("H1", "H2"):
        return PeriodKind.HALF
    return None


def period_label(locale: str | None, period: str) -> str:
    """A slot as people read it: 2026年7月、2026年第三季度、2026年上半年、2026年度."""
    kind = kind_of_period(period)
    if kind is None:
        return period
    year = period[:4]
    if kind is PeriodKind.YEAR:
        return t(locale, "lr.period.year", year=year)
    tail = period[5:]
    if kind is PeriodKind.MONTH:
        return t(locale, "lr.period.month", year=year, month=int(tail))
    if kind is PeriodKind.QUARTER:
        return t(locale, f"lr.period.q{tail[1]}", year=year)
    return t(locale, f"lr.period.h{tail[1]}", year=year)


def subject_key(kind: SubjectKind, subject_id: int) -> str:
    """m<person id> or o<org id>, as buttons carry it."""
    return f"{'m' if kind is SubjectKind.MEMBER else 'o'}{subject_id}"


def parse_subject(key: str) -> tuple[SubjectKind, int]:
    """The subject of a key; a malformed key is a stale button."""
    if len(key) < 2 or key[0] not in "mo" or not key[1:].isdigit():
        raise DomainError("error.stale_button")
    return (SubjectKind.MEMBER if key[0] == "m" else SubjectKind.BRANCH), int(key[1:])


def _label(text: str, limit: int = 16) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def button(text: str, name: str, *args: object) -> Button:
    """An inline button of this feature."""
    return Button(text, action=action(FEATURE, name, *args))


@dataclass(frozen=True)
class Subject:
    """Someone this reviewer may review, and whether the period's review is still due."""

    kind: SubjectKind
    id: int
    name: str
    org_id: int
    org_name: str
    due: bool

    @property
    def key(self) -> str:
        """The key buttons carry."""
        return subject_key(self.kind, self.id)


@dataclass(frozen=True)
class SubjectList:
    """The reviewer's subjects for a period: due first."""

    reviewer: Person
    period: str
    kind: PeriodKind
    subjects: list[Subject]
    branch_view: bool  # a committee / leader sees branches (members one branch at a time)
    org_id: int | None = None  # the branch whose members are listed


@dataclass(frozen=True)
class SubjectCard:
    """What the reviewer sees before grading."""

    subject: Subject
    period: str
    figures: SubjectFigures
    overdue: list[OpenItem]
    has_board: bool
    reviewed_before: bool  # this reviewer already reviewed the subject for this period


@dataclass
class ReviewDraft:
    """A review while it is being written (kept in the conversation's user_data)."""

    subject: str
    period: str
    grade: str | None = None
    comment: str | None = None
    points: str | None = None
    rectify_days: int = 0
    publish: bool = False

    def dump(self) -> dict[str, object]:
        """As plain data for the persistence."""
        return {
            "subject": self.subject,
            "period": self.period,
            "grade": self.grade,
            "comment": self.comment,
            "points": self.points,
            "rectify_days": self.rectify_days,
            "publish": self.publish,
        }

    @classmethod
    def load(cls, data: object) -> ReviewDraft | None:
        """From user_data; None if missing or malformed."""
        if not isinstance(data, dict) or not isinstance(data.get("subject"), str):
            return None
        return cls(
            subject=str(data["subject"]),
            period=str(data.get("period") or ""),
            grade=data.get("grade") if isinstance(data.get("grade"), str) else None,
            comment=data.get("comment") if isinstance(data.get("comment"), str) else None,
            points=data.get("points") if isinstance(data.get("points"), str) else None,
            rectify_days=int(data.get("rectify_days") or 0),
            publish=bool(data.get("publish")),
        )


@dataclass(frozen=True)
class Submitted:
    """A stored review and how it went out."""

    review_id: int
    subject: Subject
    period: str
    delivered: int  # people told privately
    published: bool
    rectify_by: date | None
    rectify_items: int


@dataclass(frozen=True)
class ReviewLine:
    """A review in a list, with names."""

    review: LeaderReview
    reviewer_name: str
    subject_name: str


@dataclass(frozen=True)
class History:
    """Reviews received and given."""

    me: Person
    received: list[ReviewLine]
    given: list[ReviewLine]


def grade_label(locale: str | None, grade: str) -> str:
    """好 / 较好 / 一般 / 差."""
    return t(locale, f"lr.grade.{grade}")


def review_text(
    locale: str | None,
    *,
    reviewer: str,
    subject: str,
    kind: SubjectKind,
    period: str,
    grade: str,
    comment: str,
    points: str | None,
    rectify_by: date | None = None,
    items: list[OpenItem] | None = None,
) -> str:
    """The review as the reviewed reads it."""
    head = "lr.deliver.member" if kind is SubjectKind.MEMBER else "lr.deliver.branch"
    lines = [
        t(locale, head, reviewer=reviewer, subject=subject, period=period_label(locale, period)),
        t(locale, "lr.line.grade", grade=grade_label(locale, grade)),
        t(locale, "lr.line.comment", comment=comment),
    ]
    if points:
        lines.append(t(locale, "lr.line.points", points=points))
    if rectify_by is not None and items:
        lines.append(t(locale, "lr.line.rectify", date=format_date(rectify_by, locale)))
        lines += [t(locale, "lr.line.rectify_item", content=i.content) for i in items]
    return "\n".join(lines)


class LeaderReviewService:
    """Choosing a subject, grading, delivering and publishing, statements, history."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def today(self) -> date:
        """The campaign's local date."""
        return self.clock.now().astimezone(self.clock.tz).date()

    # ---- scope --------------------------------------------------------------------------

    @staticmethod
    def _require_reviewer(me: Person) -> None:
        if me.role in (Role.SECRETARY, Role.COMMITTEE, Role.LEADER) or me.is_admin:
            return
        raise Forbidden("lr.role")

    async def _branches(self, uow: UnitOfWork, me: Person) -> list[Org]:
        """The branches this person reviews (a secretary: none; members only)."""
        if me.role is Role.LEADER:
            linked = await uow.leader_reviews.linked_orgs(me.id)
            orgs = [o for o in [await uow.orgs.get(i) for i in linked] if o is not None]
        elif me.role is Role.COMMITTEE or me.is_admin:
            ids = set(await uow.ledger.scope_ids(me.org_id))
            orgs = [o for o in await uow.orgs.all() if o.id in ids]
        else:
            return []
        return sorted(
            (o for o in orgs if o.type is not OrgType.COMMITTEE), key=lambda o: (o.code, o.id)
        )

    async def _member_orgs(self, uow: UnitOfWork, me: Person) -> list[Org]:
        """The branches whose members this person reviews."""
        if me.role is Role.SECRETARY and not me.is_admin:
            own = await uow.orgs.get(me.org_id)
            return [own] if own is not None else []
        return await self._branches(uow, me)

    async def _subject(
        self, uow: UnitOfWork, me: Person, kind: SubjectKind, subject_id: int
    ) -> tuple[Person | None, Org]:
        """Check the subject is within this reviewer's scope; refuse self-review."""
        self._require_reviewer(me)
        if kind is SubjectKind.MEMBER:
            if subject_id == me.id:
                raise Forbidden("lr.self")
            person = await uow.people.get(subject_id)
            if person is None or person.role.value not in MEMBER_ROLES:
                raise DomainError("lr.unknown_subject")
            orgs = {o.id: o for o in await self._member_orgs(uow, me)}
            if person.org_id not in orgs:
                raise Forbidden("lr.out_of_scope", name=person.name)
            return person, orgs[person.org_id]
        org = await uow.orgs.get(subject_id)
        if org is None or org.type is OrgType.COMMITTEE:
            raise DomainError("lr.unknown_subject")
        if me.role is Role.SECRETARY and not me.is_admin:
            raise Forbidden("lr.branch_by_secretary")
        if org.id not in {o.id for o in await self._branches(uow, me)}:
            raise Forbidden("lr.out_of_scope", name=org.name)
        return None, org

    # ---- choosing a subject -------------------------------------------------------------

    async def subjects(
        self, actor: Actor, kind: PeriodKind | None = None, org_id: int | None = None
    ) -> SubjectList:
        """The subjects for a period, due first: a secretary's members; a committee's or a
        leader's branches, or the members of one of their branches (``org_id``)."""
        today = self.today()
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            self._require_reviewer(me)
            chosen = kind or default_kind(today)
            period = period_of(chosen, today)
            done = await uow.leader_reviews.reviewed_by(me.id, period)
            subjects: list[Subject] = []
            branch_view = me.role is not Role.SECRETARY or me.is_admin
            if branch_view and org_id is None:
                for org in await self._branches(uow, me):
                    due = ("branch", org.id) not in done
                    subjects.append(
                        Subject(SubjectKind.BRANCH, org.id, org.name, org.id, org.name, due)
                    )
            else:
                orgs = await self._member_orgs(uow, me)
                if org_id is not None:
                    orgs = [o for o in orgs if o.id == org_id]
                    if not orgs:
                        raise Forbidden("lr.out_of_scope", name=str(org_id))
                for org in orgs:
                    for person in await uow.people.in_org(org.id, MEMBER_ROLES):
                        if person.id == me.id:
                            continue
                        due = ("member", person.id) not in done
                        subjects.append(
                            Subject(
                                SubjectKind.MEMBER, person.id, person.name, org.id, org.name, due
                            )
                        )
            subjects.sort(key=lambda s: not s.due)  # stable: due first, then as listed
            return SubjectList(me, period, chosen, subjects, branch_view, org_id)

    async def open_subject(self, actor: Actor, key: str, kind: PeriodKind) -> SubjectCard:
        """Check the subject and show its figures for this kind's current slot."""
        subject_kind, subject_id = parse_subject(key)
        today = self.today()
        period = period_of(kind, today)
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            person, org = await self._subject(uow, me, subject_kind, subject_id)
            return await self._card(uow, me, subject_kind, person, org, period, today)

    async def _card(
        self,
        uow: UnitOfWork,
        me: Person,
        kind: SubjectKind,
        person: Person | None,
        org: Org,
        period: str,
        today: date,
    ) -> SubjectCard:
        pid = person.id if person else None
        sid = person.id if person else org.id
        reviewed = (kind.value, sid) in await uow.leader_reviews.reviewed_by(me.id, period)
        name = person.name if person else org.name
        subject = Subject(kind, sid, name, org.id, org.name, not reviewed)
        figures = await uow.leader_reviews.figures(kind.value, pid, org.id, today)
        overdue = await uow.leader_reviews.overdue_items(kind.value, pid, org.id, today)
        has_board = org.board_chat_id is not None
        return SubjectCard(subject, period, figures, overdue, has_board, reviewed)

    # ---- submitting ---------------------------------------------------------------------

    @staticmethod
    def check_comment(text: str) -> str:
        """A usable comment, or a clear refusal."""
        return rules.clean_text(text, MAX_COMMENT, "lr.comment")

    @staticmethod
    def check_points(text: str) -> str:
        """Usable points to rectify, or a clear refusal."""
        return rules.clean_text(text, MAX_POINTS, "lr.points")

    async def submit(self, actor: Actor, draft: ReviewDraft) -> Submitted:
        """Store the review; deliver it, publish it, set rectification deadlines: one unit."""
        if draft.grade not in {g.value for g in Grade} or draft.comment is None:
            raise DomainError("lr.incomplete")
        if kind_of_period(draft.period) is None:
            raise DomainError("error.stale_button")
        comment = self.check_comment(draft.comment)
        points = self.check_points(draft.points) if draft.points else None
        if draft.rectify_days not in (0, *RECTIFY_DAYS):
            raise DomainError("error.stale_button")
        subject_kind, subject_id = parse_subject(draft.subject)
        now = self.clock.now()
        today = self.today()
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            person, org = await self._subject(uow, me, subject_kind, subject_id)
            pid = person.id if person else None
            items = await uow.leader_reviews.overdue_items(subject_kind.value, pid, org.id, today)
            rectify_by = today + timedelta(days=draft.rectify_days) if draft.rectify_days else None
            if rectify_by is not None and items:
                await uow.leader_reviews.set_rectify_by([i.item_id for i in items], rectify_by)
            publish = draft.publish and org.board_chat_id is not None
            review_id = await uow.leader_reviews.add(
                reviewer_id=me.id,
                subject_kind=subject_kind.value,
                subject_person_id=pid,
                subject_org_id=org.id,
                period=draft.period,
                grade=draft.grade,
                comment=comment,
                rectify_points=points,
                published=publish,
                created_at=now,
            )
            name = person.name if person else org.name
            recipients = (
                [person]
                if person is not None
                else await uow.people.in_org(org.id, [Role.SECRETARY.value])
            )
            delivered = 0
            for who in recipients:
                if who.id == me.id:
                    continue
                text = review_text(
                    who.locale,
                    reviewer=me.name,
                    subject=name,
                    kind=subject_kind,
                    period=draft.period,
                    grade=draft.grade,
                    comment=comment,
                    points=points,
                    rectify_by=rectify_by,
                    items=items,
                )
                text += "\n\n" + t(who.locale, "lr.deliver.answer_hint")
                answer = [[button(t(who.locale, "lr.btn.respond"), "resp", review_id)]]
                if rectify_by is not None:  # straight to recording progress on those items
                    answer += [
                        [
                            Button(
                                t(who.locale, "lr.btn.report", content=_label(i.content)),
                                action=action(PROGRESS_FEATURE, "it", i.item_id),
                            )
                        ]
                        for i in items[:REPORT_BUTTONS]
                    ]
                if await tell_text(uow, who, text, now, buttons=answer):
                    delivered += 1
            if publish and org.board_chat_id is not None:
                board = t(
                    None,
                    "lr.board",
                    period=period_label(None, draft.period),
                    subject=name,
                    grade=grade_label(None, draft.grade),
                    comment=comment,
                    reviewer=me.name,
                )
                if points:
                    board += "\n" + t(None, "lr.line.points", points=points)
                await uow.outbox.add(message_row(org.board_chat_id, board, now))
            subject = Subject(subject_kind, subject_id, name, org.id, org.name, False)
            log.info("leader review %s by %s of %s", review_id, me.id, draft.subject)
            return Submitted(
                review_id,
                subject,
                draft.period,
                delivered,
                publish,
                rectify_by if items else None,
                len(items) if rectify_by else 0,
            )

    # ---- the rectification statement (整改表态) ------------------------------------------

    async def _answerable(self, uow: UnitOfWork, me: Person, review_id: int) -> LeaderReview:
        review = await uow.leader_reviews.get(review_id)
        if review is None:
            raise DomainError("lr.review_gone")
        if review.subject_kind == SubjectKind.MEMBER.value:
            mine = review.subject_person_id == me.id
        else:
            mine = me.role is Role.SECRETARY and me.org_id == review.subject_org_id
        if not mine:
            raise Forbidden("lr.respond.not_yours")
        if review.response is not None:
            raise DomainError("lr.respond.already")
        return review

    async def check_respond(self, actor: Actor, review_id: int) -> LeaderReview:
        """Before asking for a statement: may this person still answer this review?"""
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            return await self._answerable(uow, me, review_id)

    async def respond(self, actor: Actor, review_id: int, text: str) -> LeaderReview:
        """Keep the statement and send it to the reviewer (outbox), once."""
        cleaned = rules.clean_text(text, MAX_RESPONSE, "lr.response")
        now = self.clock.now()
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            review = await self._answerable(uow, me, review_id)
            if not await uow.leader_reviews.respond(review.id, cleaned, now):
                raise DomainError("lr.respond.already")
            reviewer = await uow.people.get(review.reviewer_id)
            if reviewer is not None:
                await tell_text(
                    uow,
                    reviewer,
                    t(
                        reviewer.locale,
                        "lr.response.incoming",
                        name=me.name,
                        period=period_label(reviewer.locale, review.period),
                        grade=grade_label(reviewer.locale, review.grade),
                        text=cleaned,
                    ),
                    now,
                )
            fresh = await uow.leader_reviews.get(review.id)
            assert fresh is not None
            return fresh

    # ---- history ------------------------------------------------------------------------

    async def history(self, actor: Actor) -> History:
        """The reviews I received (and my branch's, for a secretary) and the ones I gave."""
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            if me.role is Role.RESIDENT:
                raise Forbidden("lr.role")
            branches = [me.org_id] if me.role is Role.SECRETARY else []
            received = await uow.leader_reviews.received(me.id, branches, HISTORY_LIMIT)
            given = await uow.leader_reviews.given(me.id, HISTORY_LIMIT)
            return History(me, await self._lines(uow, received), await self._lines(uow, given))

    @staticmethod
    async def _lines(uow: UnitOfWork, reviews: list[LeaderReview]) -> list[ReviewLine]:
        people = await uow.people.by_ids(
            {r.reviewer_id for r in reviews}
            | {r.subject_person_id for r in reviews if r.subject_person_id is not None}
        )
        lines = []
        for review in reviews:
            if review.subject_person_id is not None:
                subject = people.get(review.subject_person_id)
                name = subject.name if subject else "?"
            else:
                org = await uow.orgs.get(review.subject_org_id)
                name = org.name if org else "?"
            reviewer = people.get(review.reviewer_id)
            lines.append(ReviewLine(review, reviewer.name if reviewer else "?", name))
        return lines


def last_progress_label(locale: str | None, moment: datetime | None, clock: Clock) -> str:
    """The last progress as a date, or 'none yet'."""
    if moment is None:
        return t(locale, "lr.card.no_progress")
    return format_day(moment, clock.tz, normalize_locale(locale))
