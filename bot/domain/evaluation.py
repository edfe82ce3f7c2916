"""Mass evaluation (群众评议): a branch's members and resident representatives vote their
satisfaction with the branch (or with each member) in chat; at closing the bot counts.

Ballots are Telegram **non-anonymous polls** (满意 / 基本满意 / 不满意), one poll per subject,
sent privately to each participant. Why polls rather than inline-keyboard ballots:

* the voter's own Telegram client shows the choice and lets them change or retract it, with
  no message edit per vote: at the end of a meeting thousands of votes arrive within minutes,
  and an edit per vote would queue thousands of requests under the 30 msg/s limit;
* retraction is native (an answer with no options), and the last choice simply wins;
* ``poll_answer`` updates name who voted, so eligibility is checked: a vote on a forwarded
  copy, from someone not on the list, or after closing counts for nothing and the person is
  told why, privately.

Secrecy: a ballot is stored as (subject, voter, choice) where voter = HMAC-SHA256(key,
"evaluation:person"), the key kept outside the database (settings.ballot_key, or a file with
0600 permissions), and no time. Nothing the bot logs, queues or shows carries a choice next to
a person: a vote writes no outbox row with its choice; the group sees turnout only; results
are aggregates, hidden for a subject with fewer than 5 valid votes.

Votes are recorded in batches (:meth:`EvaluationService.vote` coalesces answers that arrive
within a few milliseconds into one transaction): a burst at the end of a meeting costs a few
statements per batch, not a transaction per vote.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import hmac
import logging
import os
import re
import secrets
import unicodedata
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from pathlib import Path
from time import monotonic
from typing import Any

from bot.chat import features
from bot.chat.actions import Button, Rows, action
from bot.chat.actor import Actor
from bot.chat.intents import Sent
from bot.domain import access
from bot.domain.clock import Clock
from bot.domain.dates import DeadlineError, format_moment, parse_deadline, read_count
from bot.domain.enums import OrgType, Role
from bot.domain.errors import DomainError, Forbidden
from bot.domain.evaluation_models import (
    CHOICES,
    Choice,
    EvalStatus,
    Evaluation,
    Participant,
    PollRef,
    SatisfactionResult,
    Subject,
    SubjectKind,
    Voter,
)
from bot.domain.models import Org, Person
from bot.domain.names import name_key
from bot.domain.notify import (
    ballot_row,
    close_ballot_row,
    file_row,
    message_row,
    view_row,
)
from bot.domain.slips import Extra, add_paper, check_slip_count, extra_turnout, issue_slips
from bot.i18n import t
from storage.db import Database
from storage.reminder_repo import log_row
from storage.secrecy import MIN_PUBLISHED_VOTES
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

FEATURE = features.EVALUATION  # actions: ev:<action>:<id>
TURNOUT_VIEW = "ev_turnout"  # the board group's live turnout (outbox view)
CHART_RENDER = "ev_chart"  # the results chart, rendered when the outbox sends it
POLL_SENT = "ev_poll"  # outbox hook: remember the poll id of a sent ballot
MEMBER_ROLES = (Role.MEMBER.value, Role.LEADER.value, Role.SECRETARY.value)
SMALL_QUORUM_TYPES = (OrgType.PRIVATE, OrgType.SOCIAL)
DEFAULT_CLOSING_TIME = time(20, 0)
MIN_LEAD = timedelta(minutes=10)
MAX_LEAD = timedelta(days=60)
REMIND_BEFORE = timedelta(hours=24)
MAX_SUBJECTS = 60
BATCH_WINDOW = 0.005  # seconds an answer waits for others to share its transaction
BATCH_RETRY_DELAYS = (0.25, 1.0, 3.0)  # seconds before a failed batch is tried again
BATCH_MAX = 2000  # answers in one transaction at most (a batch is a few statements)
UNKNOWN_POLL_RETRY = 1.5  # a vote may arrive before the poll's id is recorded: look again
QUESTION_LIMIT = 300
SEEN_LIMIT = 200_000  # update ids remembered (a day of a district's votes)
VOTER_TTL = 60.0  # seconds a Telegram account's person is trusted without asking again
CACHE_LIMIT = 200_000  # ballot polls kept in memory (a poll id and five integers each)


# --------------------------------------------------------------------------- secrecy in logs

# At DEBUG, PTB logs raw updates (a poll answer: who chose which option) and the database
# drivers log statements with their parameters (a ballot's voter hash and choice; the
# has_voted update pairs that hash with a person). These loggers never pass such records on.
SECRET_LOGGERS = (
    "telegram.ext.Application",
    "telegram.Bot",
    "telegram.ext.ExtBot",
    "aiosqlite",
    "sqlalchemy.engine.Engine",
)
SECRET_MARKS = ("option_ids", "poll_answer", "ballots")


class BallotSecrecyFilter(logging.Filter):
    """Drops log records that could pair a person with a choice."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a record about poll answers or the ballots table."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to judge
            return True
        return not any(mark in message for mark in SECRET_MARKS)


def install_log_filter() -> None:
    """Attach the secrecy filter to the loggers that would show raw votes (once)."""
    for name in SECRET_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, BallotSecrecyFilter) for f in logger.filters):
            logger.addFilter(BallotSecrecyFilter())


# --------------------------------------------------------------------------- the voter hash


def load_ballot_key(secret: str | None, path: Path) -> bytes:
    """The ballots' key: the configured secret, else the key file (created once, mode 0600).

    Never stored in the database: a database export alone cannot name a voter."""
    if secret:
        return secret.encode()
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    log.info("generated a new ballot key in %s", path)
    return key


def voter_hash(key: bytes, evaluation_id: int, person_id: int) -> str:
    """The ballot's voter: HMAC-SHA256(key, "evaluation:person"), hex (64 characters)."""
    return hmac.new(key, f"{evaluation_id}:{person_id}".encode(), hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------- the tally


@dataclass(frozen=True)
class Tally:
    """One subject's count and its satisfaction rate."""

    satisfied: int
    basic: int
    unsatisfied: int

    @property
    def valid(self) -> int:
        """Valid votes."""
        return self.satisfied + self.basic + self.unsatisfied

    @property
    def published(self) -> bool:
        """Whether the result may be shown (at least 5 valid votes)."""
        return self.valid >= MIN_PUBLISHED_VOTES

    def rate_permille(self) -> int | None:
        """(满意 + 基本满意) / valid, per mille, rounded half up; None without votes."""
        if self.valid == 0:
            return None
        good = self.satisfied + self.basic
        return (2000 * good + self.valid) // (2 * self.valid)

    def passed(self, pass_permille: int) -> bool | None:
        """Whether the rate reaches the pass mark (exactly, not the rounded rate); None when
        too few votes to judge."""
        if not self.published:
            return None
        return (self.satisfied + self.basic) * 1000 >= pass_permille * self.valid


def tally_of(counts: dict[str, int]) -> Tally:
    """A subject's tally from {choice: count}."""
    return Tally(
        counts.get(Choice.SATISFIED.value, 0),
        counts.get(Choice.BASIC.value, 0),
        counts.get(Choice.UNSATISFIED.value, 0),
    )


def percent(permille: int) -> str:
    """93.3% from 933."""
    return f"{permille // 10}.{permille % 10}%"


def choice_of(option_ids: Sequence[int]) -> Choice | None:
    """The ballot's choice from the poll's option ids (empty: retracted)."""
    if not option_ids:
        return None
    index = option_ids[0]
    if not 0 <= index < len(CHOICES):
        raise ValueError(f"no option {index}")
    return CHOICES[index]


# --------------------------------------------------------------------------- eligibility


class Verdict:
    """What became of one poll answer."""

    COUNTED = "counted"
    RETRACTED = "retracted"
    CLOSED = "closed"  # after closing
    NOT_YOURS = "not_yours"  # a participant voting on someone else's (forwarded) poll
    NOT_LISTED = "not_listed"  # not on this evaluation's list at all
    UNKNOWN = "unknown"  # not one of our ballot polls
    DUPLICATE = "duplicate"  # the same update delivered again
    UNCONFIRMED = "unconfirmed"  # kept, but a resident's ballot counts once the phone is confirmed


TOLD = (Verdict.CLOSED, Verdict.NOT_YOURS, Verdict.NOT_LISTED, Verdict.UNCONFIRMED)
"""Verdicts that queue a message to the voter."""


def judge(
    evaluation: Evaluation,
    poll: PollRef,
    voter: Person | Voter | None,
    is_participant: bool,
    now: datetime,
) -> str:
    """Whether an answer counts: the poll's addressee, on the list, while it is open."""
    if evaluation.status is not EvalStatus.OPEN or now >= evaluation.closes_at:
        return Verdict.CLOSED
    if voter is None or voter.id != poll.person_id:
        return Verdict.NOT_YOURS if is_participant else Verdict.NOT_LISTED
    if not is_participant:
        return Verdict.NOT_LISTED
    return Verdict.COUNTED


# --------------------------------------------------------------------------- closing time


_COUNT = r"([0-9]{1,4}|[零〇一二两三四五六七八九十]{1,3})"
_ZH_SPAN = re.compile(r"^" + _COUNT + r"个?(分钟|分|小时|钟头)(?:后|以后|之后)$")
_ZH_HALF_HOUR = re.compile(r"^半个?(?:小时|钟头)(?:后|以后|之后)$")
_EN_SPAN = re.compile(r"^in ([0-9]{1,4}) ?(minutes?|mins?|hours?|hrs?)$")
# A time of day at the end, found on the text with its spaces (so that what comes before it
# keeps them: "in 3 days 18:00", "明天 下午3点").
_CLOCK = re.compile(r"([0-9]{1,2}) ?[:：] ?([0-9]{2})$")
_ZH_CLOCK = re.compile(
    r"(上午|早上|中午|下午|晚上|傍晚)? ?([0-9]{1,2}) ?[点时] ?(半|([0-9]{1,2}) ?分?)?$"
)


def _span(compact: str, spaced: str) -> timedelta | None:
    """10分钟后, 2小时后, 半小时后, in 30 minutes, in 2 hours: how long from now."""
    if _ZH_HALF_HOUR.match(compact):
        return timedelta(minutes=30)
    zh = _ZH_SPAN.match(compact)
    if zh:
        try:
            count = read_count(zh[1])
        except DeadlineError:
            raise DomainError("ev.time.unparsable") from None
        hours = zh[2] in ("小时", "钟头")
        return timedelta(hours=count) if hours else timedelta(minutes=count)
    en = _EN_SPAN.match(spaced)
    if en:
        count = int(en[1])
        return timedelta(hours=count) if en[2].startswith("h") else timedelta(minutes=count)
    return None


def parse_closing(text: str, now: datetime) -> datetime:
    """A closing time typed by a person: 3天后, 2小时后, 30分钟后, 下周五, 10月1日,
    2026-10-01 18:00, 明天下午3点, in 3 days, in 30 minutes.

    A date without a time closes at 20:00. Raises DomainError (past, too far, unreadable)."""
    raw = unicodedata.normalize("NFKC", text or "").strip().lower()
    if not raw or len(raw) > 64:
        raise DomainError("ev.time.unparsable")
    spaced = " ".join(raw.split())
    compact = "".join(raw.split())
    span = _span(compact, spaced)
    if span is not None:
        moment = now + span
    else:
        at: time | None = None
        rest = spaced
        m = _CLOCK.search(spaced)
        if m:
            at = _clock(int(m[1]), int(m[2]))
            rest = spaced[: m.start()].strip()
        else:
            z = _ZH_CLOCK.search(spaced)
            if z:
                hour = int(z[2])
                minute = 30 if z[3] == "半" else int(z[4] or 0)
                if z[1] in ("下午", "晚上", "傍晚") and hour < 12:
                    hour += 12
                at = _clock(hour, minute)
                rest = spaced[: z.start()].strip()
        local_now = now.astimezone(now.tzinfo)
        today = local_now.date()
        if rest in ("", "今天", "今日", "today"):
            day = today
        else:
            try:
                day = parse_deadline(rest, today)
            except DeadlineError as exc:
                if exc.key == "date.past":
                    raise DomainError("ev.time.past") from None
                raise DomainError("ev.time.unparsable") from None
        moment = datetime.combine(day, at or DEFAULT_CLOSING_TIME, tzinfo=now.tzinfo)
    if moment < now + MIN_LEAD:
        raise DomainError("ev.time.past")
    if moment > now + MAX_LEAD:
        raise DomainError("ev.time.too_far", days=MAX_LEAD.days)
    return moment


def _clock(hour: int, minute: int) -> time:
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise DomainError("ev.time.unparsable")
    return time(hour, minute)


# --------------------------------------------------------------------------- results of calls


@dataclass(frozen=True)
class Branch:
    """A branch someone may open an evaluation for."""

    org: Org
    quorum: int  # the default quorum of its type


@dataclass(frozen=True)
class Plan:
    """What /evaluate would open, as the preview shows it."""

    org: Org
    kind: SubjectKind
    closes_at: datetime
    quorum: int
    default_quorum: int
    participants: int
    members: int
    residents: int
    reachable: int  # participants who have joined the bot (they get the ballot now)
    subjects: int
    quorum_reason: str | None = None  # why the quorum is below the rule's
    slips: int = 0  # one-time ballot slips (现场票) for residents not on the roster

    @property
    def fits(self) -> bool:
        """Whether the list (with the ballot slips) is long enough for the quorum."""
        return self.quorum <= self.participants + self.slips

    @property
    def below_rule(self) -> bool:
        """Whether the quorum is lower than the rule's (then a reason is needed)."""
        return self.quorum < self.default_quorum


@dataclass(frozen=True)
class Opened:
    """An evaluation that was opened."""

    evaluation_id: int
    plan: Plan
    tokens: tuple[str, ...] = ()  # the slips' tokens, to print once (only hashes are kept)


@dataclass(frozen=True)
class Answer:
    """One poll answer as the channel delivered it."""

    update_id: int
    tg_user_id: int
    poll_id: str
    option_ids: tuple[int, ...]
    # When the bot took it: an answer is judged at that moment, not when its batch is
    # written (a vote in the last second before closing counts). None: when judged.
    received_at: datetime | None = None


@dataclass(frozen=True)
class Overview:
    """One evaluation as its opener (or the committee) sees it."""

    evaluation: Evaluation
    org: Org
    voted: int
    participants: int
    subjects: list[tuple[Subject, str]]  # with the subject's name
    may_manage: bool
    extra: Extra = field(default_factory=Extra)  # slips (现场票) and paper (纸质票), apart


@dataclass
class _Pending:
    answer: Answer
    future: asyncio.Future[str] | None  # None: nobody waits (the update loop's fast lane)
    final: bool = False


@dataclass(frozen=True)
class _Roster:
    """An evaluation's list as the ballot box reads it: the participants' person ids, and
    the Telegram account → voter of those bound to one."""

    listed: frozenset[int]
    voters: dict[int, Voter]
    read_at: float  # monotonic


@dataclass
class CloseReport:
    """What one tick did."""

    closed: int = 0
    void: int = 0
    reminded: int = 0
    ids: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Anything queued."""
        return self.closed + self.void + self.reminded


def button(text: str, name: str, *args: object) -> Button:
    """An inline button of this feature."""
    return Button(text, action=action(FEATURE, name, *args))


def default_quorum(org: Org, quorum_default: int, quorum_small: int) -> int:
    """≥ 20 for private enterprises and social organisations, ≥ 30 otherwise (seed 002)."""
    return quorum_small if org.type in SMALL_QUORUM_TYPES else quorum_default


REASON_LIMIT = 200
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def quorum_reason(text: str | None) -> str:
    """The opener's reason for a quorum below the rule's, tidied; refused when empty or long."""
    reason = " ".join(unicodedata.normalize("NFC", text or "").translate(_INVISIBLE).split())
    if not reason:
        raise DomainError("ev.quorum.reason_empty")
    if len(reason) > REASON_LIMIT:
        raise DomainError("ev.quorum.reason_long", limit=REASON_LIMIT)
    return reason


# --------------------------------------------------------------------------- module functions


async def _roster(uow: UnitOfWork, org_id: int) -> tuple[list[Person], list[Person]]:
    """(members, residents) of a branch."""
    people = await uow.people.in_org(org_id)
    members = [p for p in people if p.role.value in MEMBER_ROLES]
    residents = [p for p in people if p.role is Role.RESIDENT]
    return members, residents


def _poll_rows(
    evaluation_id: int,
    org: Org,
    subjects: Sequence[tuple[int, str, int | None]],
    person: Person,
    now: datetime,
) -> list[dict[str, Any]]:
    """The ballot of one participant: a short introduction, then one poll per subject (none
    about themselves). Each poll row names its evaluation, subject and addressee so the
    outbox hook can remember the poll id it gets."""
    assert person.tg_user_id is not None
    loc = person.locale
    mine = [(sid, name) for sid, name, pid in subjects if pid != person.id]
    if not mine:
        return []
    rows = message_row(
        person.tg_user_id,
        t(loc, "ev.ballot.intro", org=org.name, count=len(mine)),
        now,
        dedupe_key=f"ev:{evaluation_id}:intro:{person.id}",
    )
    options = [t(loc, f"ev.choice.{c.value}") for c in CHOICES]
    for sid, name in mine:
        question = t(loc, "ev.ballot.question", org=org.name, subject=name)[:QUESTION_LIMIT]
        rows.append(
            ballot_row(
                person.tg_user_id,
                question,
                options,
                now,
                on_sent=POLL_SENT,
                dedupe_key=f"ev:{evaluation_id}:poll:{sid}:{person.id}",
                evaluation_id=evaluation_id,
                subject_id=sid,
                person_id=person.id,
            )
        )
    return rows


async def _subject_names(
    uow: UnitOfWork, org: Org, subjects: Sequence[Subject]
) -> list[tuple[int, str, int | None]]:
    people = await uow.people.by_ids(s.person_id for s in subjects if s.person_id is not None)
    named: list[tuple[int, str, int | None]] = []
    for s in subjects:
        if s.person_id is None:
            named.append((s.id, org.name, None))
        else:
            who = people.get(s.person_id)
            named.append((s.id, who.name if who else "?", s.person_id))
    return named


def turnout_row(chat_id: int, evaluation_id: int, now: datetime) -> dict[str, Any]:
    """The board group's live turnout: rendered when sent, edited in place later."""
    payload = {"view": TURNOUT_VIEW, "evaluation_id": evaluation_id}
    return view_row(chat_id, f"ev:{evaluation_id}:turnout", payload, now)


async def _queue_ballots(
    uow: UnitOfWork,
    evaluation_id: int,
    org: Org,
    people: Sequence[Person],
    now: datetime,
) -> int:
    """Queue the ballot of each reachable participant; how many got one."""
    subjects = await _subject_names(uow, org, await uow.evaluations.subjects(evaluation_id))
    rows: list[dict[str, Any]] = []
    reached = 0
    for person in people:
        if person.tg_user_id is None:
            continue
        mine = _poll_rows(evaluation_id, org, subjects, person, now)
        if mine:
            reached += 1
            rows.extend(mine)
        if len(rows) >= 2000:
            await uow.outbox.add(rows)
            rows = []
    await uow.outbox.add(rows)
    return reached


async def _create(
    uow: UnitOfWork,
    now: datetime,
    *,
    org: Org,
    kind: SubjectKind,
    opened_by: int,
    quorum: int,
    pass_permille: int,
    closes_at: datetime,
    subject_people: Sequence[int | None],
    participants: Sequence[tuple[Person, str]],
    quorum_reason: str | None = None,
    reevaluation_of: int | None = None,
    rectification_id: int | None = None,
) -> int:
    """Write the evaluation, its subjects and participants, queue the ballots and the
    board's turnout: one unit of work."""
    evaluation_id = await uow.evaluations.create(
        org_id=org.id,
        subject_kind=kind.value,
        opened_by=opened_by,
        status=EvalStatus.OPEN.value,
        quorum=quorum,
        quorum_reason=quorum_reason,
        pass_permille=pass_permille,
        closes_at=closes_at,
        reevaluation_of=reevaluation_of,
        rectification_id=rectification_id,
        created_at=now,
    )
    await uow.evaluations.add_subjects(
        [
            {"evaluation_id": evaluation_id, "position": n, "person_id": pid, "org_id": org.id}
            for n, pid in enumerate(subject_people, start=1)
        ]
    )
    await uow.evaluations.add_participants(
        [
            {"evaluation_id": evaluation_id, "person_id": p.id, "kind": k, "has_voted": False}
            for p, k in participants
        ]
    )
    await _queue_ballots(uow, evaluation_id, org, [p for p, _ in participants], now)
    if org.board_chat_id is not None:
        await uow.outbox.add([turnout_row(org.board_chat_id, evaluation_id, now)])
    log.info(
        "evaluation %s opened for org %s: %d subjects, %d participants",
        evaluation_id,
        org.id,
        len(subject_people),
        len(participants),
    )
    return evaluation_id


async def _copy(
    uow: UnitOfWork,
    now: datetime,
    previous: Evaluation,
    subject_ids: Sequence[int] | None,
    closes_at: datetime,
    *,
    opened_by: int | None = None,
    reevaluation_of: int | None,
    rectification_id: int | None,
) -> int:
    org = await uow.orgs.get(previous.org_id)
    if org is None:
        raise DomainError("ev.gone")
    subjects = await uow.evaluations.subjects(previous.id)
    if subject_ids is not None:
        wanted = set(subject_ids)
        subjects = [s for s in subjects if s.id in wanted]
        if not subjects:
            raise DomainError("ev.no_subjects")
    listed = await uow.evaluations.participants(previous.id)
    people = await uow.people.by_ids(p.person_id for p in listed)
    participants = [(people[p.person_id], p.kind) for p in listed if p.person_id in people]
    return await _create(
        uow,
        now,
        org=org,
        kind=previous.subject_kind,
        opened_by=opened_by or previous.opened_by,
        quorum=previous.quorum,
        quorum_reason=previous.quorum_reason,
        pass_permille=previous.pass_permille,
        closes_at=closes_at,
        subject_people=[s.person_id for s in subjects],
        participants=participants,
        reevaluation_of=reevaluation_of,
        rectification_id=rectification_id,
    )


async def open_reevaluation(
    uow: UnitOfWork,
    clock: Clock,
    previous_evaluation_id: int,
    rectification_id: int,
    subject_ids: list[int],
    closes_at: datetime,
) -> int:
    """Re-evaluate the failing subjects after rectification (整改后再次评议): same branch,
    participants, quorum and pass mark; only ``subject_ids`` (subjects of the previous
    evaluation). Queues the polls in the caller's unit of work; the new evaluation's id."""
    previous = await uow.evaluations.get(previous_evaluation_id)
    if previous is None:
        raise DomainError("ev.gone")
    return await _copy(
        uow,
        clock.now(),
        previous,
        subject_ids,
        closes_at,
        reevaluation_of=previous.id,
        rectification_id=rectification_id,
    )


async def latest_satisfaction(
    uow: UnitOfWork, *, org_id: int | None = None, person_id: int | None = None
) -> SatisfactionResult | None:
    """The latest closed evaluation's result of a branch (``org_id``) or a member
    (``person_id``); under 5 valid votes it is marked unpublished and carries no figure."""
    return await uow.evaluations.latest_results(org_id=org_id, person_id=person_id)


async def on_joined(uow: UnitOfWork, clock: Clock, person: Person) -> int:
    """Someone joined the bot: the ballots of open evaluations they are on the list of
    (those already queued are not queued again). How many evaluations."""
    if person.tg_user_id is None:
        return 0
    now = clock.now()
    count = 0
    for evaluation in await uow.evaluations.open_participations(person.id):
        if evaluation.closes_at <= now:
            continue
        if await uow.evaluations.outbox_key_taken(f"ev:{evaluation.id}:intro:{person.id}:0"):
            continue
        org = await uow.orgs.get(evaluation.org_id)
        if org is None:
            continue
        if await _queue_ballots(uow, evaluation.id, org, [person], now):
            count += 1
    return count


@dataclass(frozen=True)
class Ongoing:
    """An open evaluation someone is on the list of, and whether they have voted in it."""

    org: Org
    closes_at: datetime
    voted: bool


async def on_phone_confirmed(uow: UnitOfWork, now: datetime, person: Person) -> list[Ongoing]:
    """A resident confirmed their phone: their ballots in open evaluations count from now on.
    The board's turnout of each is refreshed; the evaluations are returned so the resident
    is told (their vote counts now, or the ballot waits for them)."""
    found: list[Ongoing] = []
    for evaluation in await uow.evaluations.open_participations(person.id):
        if evaluation.closes_at <= now:
            continue
        org = await uow.orgs.get(evaluation.org_id)
        if org is None:
            continue
        voted = await uow.evaluations.has_voted(evaluation.id, person.id)
        found.append(Ongoing(org, evaluation.closes_at, voted))
        if voted and org.board_chat_id is not None:
            await uow.outbox.refresh_view(turnout_row(org.board_chat_id, evaluation.id, now))
    return found


# --------------------------------------------------------------------------- the service


class EvaluationService:
    """Opening, voting, closing and reading mass evaluations."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        ballot_key: bytes,
        *,
        quorum_default: int = 30,
        quorum_small: int = 20,
        pass_percent: float = 90.0,
    ) -> None:
        self.db = db
        self.clock = clock
        self._key = ballot_key
        # (evaluation, person) → voter hash: an HMAC per answer is a measurable share of a
        # burst of votes; the hashes never change (the key is fixed for the process).
        self._voter_keys: dict[tuple[int, int], str] = {}
        self.quorum_default = quorum_default
        self.quorum_small = quorum_small
        self.pass_permille = round(pass_percent * 10)
        self._pending: list[_Pending] = []
        # Polls whose answers wait for the poll's id to be recorded (UNKNOWN_POLL_RETRY):
        # every later answer to such a poll waits behind them, so none overtakes an older one
        # (the last answer must win, and the retry comes after newer answers otherwise).
        self._waiting: dict[str, list[_Pending]] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._full = asyncio.Event()
        self._failures = 0  # consecutive failures of the batch in hand
        self.batches = 0  # transactions used for votes (the benchmark reads them)
        self.answered = 0  # poll answers handled
        # Called after a batch that queued a message (someone is told why a vote did not
        # count): the application wakes the outbox.
        self.on_batch: Callable[[], None] | None = None
        # Called with the update ids of each committed batch (the update journal lets go
        # of them).
        self.on_handled: Callable[[list[int]], None] | None = None
        self._poll_cache: dict[str, PollRef] = {}
        self._polls_read: set[int] = set()  # evaluations whose every poll is in the cache
        self._rosters: dict[int, _Roster] = {}
        self._subjects: dict[int, list[int]] = {}
        self._seen: set[int] = set()
        self._seen_order: deque[int] = deque()
        self._voters: dict[int, tuple[float, Voter]] = {}
        install_log_filter()

    # -- who may open / manage

    async def _staff(self, uow: UnitOfWork, actor: Actor) -> Person:
        person = await access.person_of(uow, actor)
        access.require_role(person, Role.SECRETARY, Role.COMMITTEE)
        return person

    async def _manageable(self, uow: UnitOfWork, me: Person) -> list[Org]:
        """The branches this person may open evaluations for: a secretary their own, a
        committee clerk every branch under their committee."""
        orgs = await uow.orgs.all()
        if me.role is Role.SECRETARY:
            return [o for o in orgs if o.id == me.org_id and not o.is_committee]
        children: dict[int, list[Org]] = {}
        for org in orgs:
            if org.parent_id is not None:
                children.setdefault(org.parent_id, []).append(org)
        found: list[Org] = []
        stack = [me.org_id]
        while stack:
            for child in children.get(stack.pop(), []):
                if not child.is_committee:
                    found.append(child)
                stack.append(child.id)
        return sorted(found, key=lambda o: (o.code, o.id))

    async def _may_manage(self, uow: UnitOfWork, me: Person, evaluation: Evaluation) -> bool:
        if me.id == evaluation.opened_by:
            return True
        return any(o.id == evaluation.org_id for o in await self._manageable(uow, me))

    async def branches(self, actor: Actor) -> list[Branch]:
        """/evaluate: the branches this person may evaluate (refused unless staff)."""
        async with self.db.uow() as uow:
            me = await self._staff(uow, actor)
            orgs = await self._manageable(uow, me)
        if not orgs:
            raise DomainError("ev.no_branch")
        return [Branch(o, default_quorum(o, self.quorum_default, self.quorum_small)) for o in orgs]

    async def _plan(
        self,
        uow: UnitOfWork,
        me: Person,
        org_id: int,
        kind: SubjectKind,
        closes_at: datetime,
        quorum: int | None,
        reason: str | None = None,
        slips: int = 0,
    ) -> tuple[Plan, list[Person], list[Person]]:
        """What would be opened. A quorum the opener chose must fit the list; the rule's
        (``quorum`` None) may not fit a small branch: the plan says so (``fits``)."""
        org = next((o for o in await self._manageable(uow, me) if o.id == org_id), None)
        if org is None:
            raise Forbidden("ev.not_your_branch")
        members, residents = await _roster(uow, org.id)
        everyone = members + residents
        default = default_quorum(org, self.quorum_default, self.quorum_small)
        wanted = default if quorum is None else quorum
        if slips:
            check_slip_count(slips)
        if not everyone and not slips:
            raise DomainError("ev.nobody")
        if kind is SubjectKind.MEMBERS and not members:
            raise DomainError("ev.no_members")
        if kind is SubjectKind.MEMBERS and len(members) > MAX_SUBJECTS:
            raise DomainError("ev.too_many_subjects", count=len(members), limit=MAX_SUBJECTS)
        # Slip voters (现场票) count toward the quorum like everyone on the list.
        if quorum is not None and not 1 <= quorum <= len(everyone) + slips:
            raise DomainError("ev.quorum.range", count=len(everyone) + slips, quorum=quorum)
        if closes_at <= self.clock.now():
            raise DomainError("ev.time.past")
        # Said as soon as the kind and time are known, not after the quorum and its reason.
        for other in await uow.evaluations.for_orgs([org.id]):
            if other.status is EvalStatus.OPEN and other.subject_kind is kind:
                raise DomainError("ev.already_open")
        plan = Plan(
            org=org,
            kind=kind,
            closes_at=closes_at,
            quorum=wanted,
            default_quorum=default,
            participants=len(everyone),
            members=len(members),
            residents=len(residents),
            reachable=sum(1 for p in everyone if p.tg_user_id is not None),
            subjects=1 if kind is SubjectKind.BRANCH else len(members),
            quorum_reason=quorum_reason(reason)
            if reason is not None and wanted < default
            else None,
            slips=slips,
        )
        return plan, members, residents

    async def preview(
        self,
        actor: Actor,
        org_id: int,
        kind: SubjectKind,
        closes_at: datetime,
        quorum: int | None = None,
        reason: str | None = None,
        slips: int = 0,
    ) -> Plan:
        """What would be opened (nothing is written)."""
        async with self.db.uow() as uow:
            me = await self._staff(uow, actor)
            plan, _, _ = await self._plan(uow, me, org_id, kind, closes_at, quorum, reason, slips)
        return plan

    async def open(
        self,
        actor: Actor,
        org_id: int,
        kind: SubjectKind,
        closes_at: datetime,
        quorum: int | None = None,
        reason: str | None = None,
        slips: int = 0,
    ) -> Opened:
        """Open the evaluation: rows, ballots and ``slips`` one-time ballot slips (现场票) in
        one unit of work; the slips' tokens come back once, to be printed. A quorum below the
        rule's (a branch smaller than 30, or 20) is allowed with a reason, which is kept and
        shown with the results; slips count toward the list."""
        now = self.clock.now()
        async with self.db.uow() as uow:
            me = await self._staff(uow, actor)
            plan, members, residents = await self._plan(
                uow, me, org_id, kind, closes_at, quorum, reason, slips
            )
            if not plan.fits:
                raise DomainError(
                    "ev.quorum.range", count=plan.participants + plan.slips, quorum=plan.quorum
                )
            if plan.below_rule and plan.quorum_reason is None:
                raise DomainError("ev.quorum.reason_needed", rule=plan.default_quorum)
            subject_people: list[int | None] = (
                [None] if kind is SubjectKind.BRANCH else [p.id for p in members]
            )
            evaluation_id = await _create(
                uow,
                now,
                org=plan.org,
                kind=kind,
                opened_by=me.id,
                quorum=plan.quorum,
                quorum_reason=plan.quorum_reason,
                pass_permille=self.pass_permille,
                closes_at=closes_at,
                subject_people=subject_people,
                participants=[(p, "member") for p in members]
                + [(p, "resident") for p in residents],
            )
            tokens: list[str] = []
            if slips:
                created = await uow.evaluations.get(evaluation_id)
                assert created is not None
                tokens = await issue_slips(uow, created, slips, now)
        return Opened(evaluation_id, plan, tuple(tokens))

    async def reschedule(self, actor: Actor, evaluation_id: int, closes_at: datetime) -> int:
        """A void evaluation (quorum missed) again, with a new closing time: a new evaluation
        with the same branch, subjects, participants and rules; the slips handed out for the
        void one (现场票) are valid for the new one, and vote again."""
        now = self.clock.now()
        if closes_at <= now:
            raise DomainError("ev.time.past")
        async with self.db.uow() as uow:
            me = await self._staff(uow, actor)
            previous = await uow.evaluations.get(evaluation_id)
            if previous is None:
                raise DomainError("ev.gone")
            if not await self._may_manage(uow, me, previous):
                raise Forbidden("ev.not_your_branch")
            if previous.status is not EvalStatus.VOID:
                raise DomainError("ev.not_void")
            for other in await uow.evaluations.for_orgs([previous.org_id]):
                if other.status is EvalStatus.OPEN and other.subject_kind is previous.subject_kind:
                    raise DomainError("ev.already_open")
            again = await _copy(
                uow,
                now,
                previous,
                None,
                closes_at,
                opened_by=me.id,
                reevaluation_of=previous.reevaluation_of,
                rectification_id=previous.rectification_id,
            )
            # The slips were handed out at the meeting: they vote in the new evaluation.
            await uow.slips.move_slips(previous.id, again)
            return again

    # -- reading

    async def list_for(self, actor: Actor) -> list[tuple[Evaluation, Org]]:
        """/evaluations: the newest evaluations of the branches this person manages."""
        async with self.db.uow() as uow:
            me = await self._staff(uow, actor)
            orgs = {o.id: o for o in await self._manageable(uow, me)}
            found = await uow.evaluations.for_orgs(list(orgs), limit=20)
        return [(e, orgs[e.org_id]) for e in found]

    async def overview(self, actor: Actor, evaluation_id: int) -> Overview:
        """One evaluation: turnout, and the results once closed (aggregates only)."""
        async with self.db.uow() as uow:
            me = await self._staff(uow, actor)
            evaluation = await uow.evaluations.get(evaluation_id)
            if evaluation is None:
                raise DomainError("ev.gone")
            if not await self._may_manage(uow, me, evaluation):
                raise Forbidden("ev.not_your_branch")
            org = await uow.orgs.get(evaluation.org_id)
            assert org is not None
            voted, total = await uow.evaluations.turnout(evaluation_id)
            extra = await extra_turnout(uow, evaluation_id)
            subjects = await uow.evaluations.subjects(evaluation_id)
            names = {sid: name for sid, name, _ in await _subject_names(uow, org, subjects)}
        return Overview(
            evaluation,
            org,
            voted + extra.voted,
            total + extra.listed,
            [(s, names.get(s.id, "?")) for s in subjects],
            True,
            extra,
        )

    async def non_voters(
        self, actor: Actor, evaluation_id: int
    ) -> tuple[Overview, list[Person], list[Person]]:
        """未投票名单: who has not voted, and who voted but does not count yet (a resident
        whose phone is not confirmed); never how anyone voted."""
        view = await self.overview(actor, evaluation_id)
        async with self.db.uow() as uow:
            ids = await uow.evaluations.non_voters(evaluation_id)
            held = await uow.evaluations.held_voters(evaluation_id)
            people = await uow.people.by_ids([*ids, *held])

        def ordered(wanted: list[int]) -> list[Person]:
            found = [people[pid] for pid in wanted if pid in people]
            return sorted(found, key=lambda p: (p.role is Role.RESIDENT, name_key(p.name)))

        return view, ordered(ids), ordered(held)

    # -- voting

    async def vote(self, answer: Answer) -> str:
        """Record one poll answer (batched with others arriving at the same moment); the
        verdict. Returns once the batch it joined is committed."""
        return await self.submit(answer)

    def submit(self, answer: Answer) -> asyncio.Future[str]:
        """Put a poll answer into the ballot box; the future resolves to its verdict once
        the batch it joined is committed (the update loop need not wait for it)."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._enqueue(_Pending(answer, future))
        return future

    def drop_in(self, answer: Answer) -> None:
        """Put a poll answer into the ballot box with nobody waiting for its verdict (the
        fast lane of the update loop): after each batch, ``on_batch`` hears whether anyone
        is to be told something."""
        self._enqueue(_Pending(answer, None))

    def _enqueue(self, pending: _Pending) -> None:
        waiting = self._waiting.get(pending.answer.poll_id)
        if waiting is not None:  # behind the older answers to the same poll
            waiting.append(pending)
            return
        self._pending.append(pending)
        if len(self._pending) >= BATCH_MAX:
            self._full.set()
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_soon(), name="ballot-box")

    def _voter_key(self, evaluation_id: int, person_id: int) -> str:
        found = self._voter_keys.get((evaluation_id, person_id))
        if found is None:
            found = voter_hash(self._key, evaluation_id, person_id)
            self._voter_keys[(evaluation_id, person_id)] = found
        return found

    async def drain(self) -> None:
        """Commit every answer in the box (at shutdown: nothing taken is left unwritten)."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.shield(self._flusher)

    def _retry_later(self, pending: _Pending) -> None:
        # The poll's id may not be recorded yet (the vote came right after the poll): this
        # answer, and every later one to the same poll, go into the box again in order.
        again = _Pending(pending.answer, pending.future, final=True)
        poll_id = pending.answer.poll_id
        waiting = self._waiting.get(poll_id)
        if waiting is not None:
            waiting.append(again)
            return
        self._waiting[poll_id] = [again]
        # Answers to this poll already in the box, behind this one, wait with it.
        behind = [p for p in self._pending if p.answer.poll_id == poll_id]
        if behind:
            self._pending = [p for p in self._pending if p.answer.poll_id != poll_id]
            self._waiting[poll_id].extend(behind)
        asyncio.get_running_loop().call_later(UNKNOWN_POLL_RETRY, self._release, poll_id)

    def _release(self, poll_id: str) -> None:
        """The retry: a poll's waiting answers back into the box, oldest first."""
        for pending in self._waiting.pop(poll_id, []):
            self._enqueue(pending)

    async def _flush_soon(self) -> None:
        while self._pending:
            if len(self._pending) < BATCH_MAX:
                self._full.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), BATCH_WINDOW)
            batch, self._pending = self._pending[:BATCH_MAX], self._pending[BATCH_MAX:]
            try:
                verdicts = await self.record_answers(
                    [p.answer for p in batch], final=[p.final for p in batch]
                )
            except BaseException as exc:
                # Never the exception's text: a database error quotes the ballots it held.
                log.error("a batch of %d poll answers failed: %s", len(batch), type(exc).__name__)
                if isinstance(exc, Exception) and self._failures < len(BATCH_RETRY_DELAYS):
                    # A passing fault (the database busy, a full disk freed): the same batch
                    # again after a pause, before anything newer (the last answer wins).
                    await asyncio.sleep(BATCH_RETRY_DELAYS[self._failures])
                    self._failures += 1
                    self._pending[:0] = batch
                    continue
                # Given up: the update journal keeps these answers; the next start puts back
                # those that no newer answer of the same voter superseded.
                self._failures = 0
                for p in batch:
                    if p.future is not None and not p.future.done():
                        p.future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            self._failures = 0
            told = False
            handled: list[int] = []
            for p, verdict in zip(batch, verdicts, strict=True):
                if verdict == Verdict.UNKNOWN and not p.final:
                    self._retry_later(p)
                    continue
                handled.append(p.answer.update_id)
                told = told or verdict in TOLD
                if p.future is not None and not p.future.done():
                    p.future.set_result(verdict)
            if self.on_handled is not None:
                self.on_handled(handled)
            if told and self.on_batch is not None:
                self.on_batch()

    async def record_answers(
        self, answers: Sequence[Answer], final: Sequence[bool] | None = None
    ) -> list[str]:
        """Apply poll answers in order, in one transaction: last choice wins, retraction
        removes the ballot, ineligible answers count for nothing (and the person is told
        why, once per poll and reason). Verdicts in the same order.

        An answer to a poll we do not know yet is left unclaimed (``final`` False) so it can
        be tried again once the poll's id is recorded."""
        now = self.clock.now()
        final = list(final) if final is not None else [True] * len(answers)
        verdicts: list[str] = [Verdict.UNKNOWN] * len(answers)
        async with self.db.uow() as uow:
            repo = uow.evaluations
            polls = await self._polls(uow, {a.poll_id for a in answers})
            taken = [
                a for a, last in zip(answers, final, strict=True) if a.poll_id in polls or last
            ]
            fresh = self._claim([a.update_id for a in taken])
            evaluations: dict[int, Evaluation] = {}
            for eid in sorted({ref.evaluation_id for ref in polls.values()}):
                found = await repo.get(eid)
                if found is not None:
                    evaluations[eid] = found
            rosters = [await self._roster(uow, eid) for eid in evaluations]
            listed = {eid: roster.listed for eid, roster in zip(evaluations, rosters, strict=True)}
            voters = await self._voters_of(uow, rosters, {a.tg_user_id for a in answers})
            voters = await self._confirmed_since(uow, voters)
            final_choice: dict[tuple[int, str], tuple[int, Choice | None]] = {}
            touched: dict[tuple[int, int], str] = {}
            # chat, what the notice is about (a poll; the evaluation for an unconfirmed phone:
            # one notice however many ballots they answer), reason, locale
            notices: list[tuple[int, str, str, str | None]] = []
            for n, answer in enumerate(answers):
                ref = polls.get(answer.poll_id)
                if ref is None:
                    continue
                if answer.update_id not in fresh:
                    verdicts[n] = Verdict.DUPLICATE
                    continue
                fresh.discard(answer.update_id)  # delivered twice within the batch: once
                evaluation = evaluations.get(ref.evaluation_id)
                if evaluation is None:
                    continue
                voter = voters.get(answer.tg_user_id)
                on_list = voter is not None and voter.id in listed[evaluation.id]
                verdict = judge(evaluation, ref, voter, on_list, answer.received_at or now)
                if verdict == Verdict.COUNTED:
                    assert voter is not None
                    try:
                        choice = choice_of(answer.option_ids)
                    except ValueError:
                        continue
                    voter_key = self._voter_key(evaluation.id, voter.id)
                    final_choice[(ref.subject_id, voter_key)] = (evaluation.id, choice)
                    touched[(evaluation.id, voter.id)] = voter_key
                    verdicts[n] = Verdict.COUNTED if choice is not None else Verdict.RETRACTED
                    if (
                        choice is not None and voter.unconfirmed_resident
                    ):  # kept; counts once confirmed
                        verdicts[n] = Verdict.UNCONFIRMED
                        reason = Verdict.UNCONFIRMED
                        notices.append(
                            (answer.tg_user_id, f"e{evaluation.id}", reason, voter.locale)
                        )
                else:
                    verdicts[n] = verdict
                    if answer.option_ids:  # a retraction of a void vote needs no word
                        notices.append(
                            (
                                answer.tg_user_id,
                                answer.poll_id,
                                verdict,
                                voter.locale if voter else None,
                            )
                        )
            set_rows = [
                {"subject_id": sid, "voter": key, "evaluation_id": eid, "choice": choice.value}
                for (sid, key), (eid, choice) in final_choice.items()
                if choice is not None
            ]
            retract = [
                (sid, key) for (sid, key), (_, choice) in final_choice.items() if choice is None
            ]
            await repo.apply_ballots(set_rows, retract)
            for eid in {eid for eid, _ in touched}:
                subject_ids = await self._subject_ids(uow, eid)
                holding: set[str] | None = None
                if len(subject_ids) == 1:  # one subject: this batch's last choices decide
                    holding = {
                        key
                        for (sid, key), (_, choice) in final_choice.items()
                        if sid == subject_ids[0] and choice is not None
                    }
                await repo.sync_has_voted(
                    eid,
                    subject_ids,
                    {pid: key for (e, pid), key in touched.items() if e == eid},
                    holding,
                )
            await self._tell_ineligible(uow, notices, now)
            # With the ballots: these answers are handled (the update journal puts back at
            # start only what was not; bot/update_journal.py).
            await uow.updates.record_handled([a.update_id for a in taken], now)
            for eid in {eid for eid, _ in touched}:
                org = await uow.orgs.get(evaluations[eid].org_id)
                if org is not None and org.board_chat_id is not None:
                    await uow.outbox.refresh_view(turnout_row(org.board_chat_id, eid, now))
        self.batches += 1
        self.answered += len(answers)
        return verdicts

    def _claim(self, update_ids: Sequence[int]) -> set[int]:
        """The update ids not handled before (a redelivered answer changes nothing twice).

        Kept in memory, not in processed_updates: a poll answer sets a state (the voter's
        current choice), so the in-order replay Telegram makes of unconfirmed updates after a
        restart leaves the same ballots; only a duplicate within this process's life could
        reorder them, and those are caught here."""
        fresh: set[int] = set()
        for update_id in update_ids:
            if update_id in self._seen:
                continue
            fresh.add(update_id)
            self._seen.add(update_id)
            self._seen_order.append(update_id)
        while len(self._seen_order) > SEEN_LIMIT:
            self._seen.discard(self._seen_order.popleft())
        return fresh

    async def _polls(self, uow: UnitOfWork, poll_ids: set[str]) -> dict[str, PollRef]:
        """Ballot polls by id; a recorded poll never changes, so they are kept in memory."""
        found = {p: self._poll_cache[p] for p in poll_ids if p in self._poll_cache}
        missing = poll_ids - found.keys()
        if missing:
            fresh = await uow.evaluations.polls(missing)
            if len(self._poll_cache) > CACHE_LIMIT:
                self._poll_cache.clear()
                self._polls_read.clear()
            self._poll_cache.update(fresh)
            found.update(fresh)
            # The first answer to an evaluation's poll: the rest of its polls in one read.
            for eid in sorted({ref.evaluation_id for ref in fresh.values()} - self._polls_read):
                self._polls_read.add(eid)
                for ref in await uow.evaluations.polls_of(eid):
                    self._poll_cache.setdefault(ref.poll_id, ref)
        return found

    async def _subject_ids(self, uow: UnitOfWork, evaluation_id: int) -> list[int]:
        """An evaluation's subjects (fixed when it is opened: kept in memory)."""
        known = self._subjects.get(evaluation_id)
        if known is None:
            known = [s.id for s in await uow.evaluations.subjects(evaluation_id)]
            if len(self._subjects) > 64:
                self._subjects.clear()
            self._subjects[evaluation_id] = known
        return known

    async def _roster(self, uow: UnitOfWork, evaluation_id: int) -> _Roster:
        """An evaluation's list and its voters' accounts, read in one query when its first
        answer arrives and again after VOTER_TTL (an account bound to someone else meanwhile
        is seen within a minute). A burst of votes then needs no lookup per voter."""
        now = monotonic()
        known = self._rosters.get(evaluation_id)
        if known is None or now - known.read_at >= VOTER_TTL:
            listed, voters = await uow.evaluations.roster(evaluation_id)
            if sum(len(r.voters) for r in self._rosters.values()) > CACHE_LIMIT:
                self._rosters.clear()
            known = self._rosters[evaluation_id] = _Roster(frozenset(listed), voters, now)
        return known

    async def _voters_of(
        self, uow: UnitOfWork, rosters: Sequence[_Roster], tg_ids: set[int]
    ) -> dict[int, Voter]:
        """The people behind these accounts: from the rosters, else (someone not on any of
        these lists: they are told why their vote does not count) looked up."""
        found: dict[int, Voter] = {}
        missing: set[int] = set()
        for tg in tg_ids:
            for roster in rosters:
                voter = roster.voters.get(tg)
                if voter is not None:
                    found[tg] = voter
                    break
            else:
                missing.add(tg)
        if missing:
            found.update(await self._people_by_tg(uow, missing))
        return found

    async def _people_by_tg(self, uow: UnitOfWork, tg_ids: set[int]) -> dict[int, Voter]:
        """Voters by Telegram account; looked up again after VOTER_TTL (an account bound to
        someone else meanwhile is seen within a minute)."""
        now = monotonic()
        found: dict[int, Voter] = {}
        missing: set[int] = set()
        for tg in tg_ids:
            known = self._voters.get(tg)
            if known is not None and now - known[0] < VOTER_TTL:
                found[tg] = known[1]
            else:
                missing.add(tg)
        if missing:
            fresh = await uow.evaluations.voters_by_tg(missing)
            if len(self._voters) > CACHE_LIMIT:
                self._voters.clear()
            for tg, person in fresh.items():
                self._voters[tg] = (now, person)
            found.update(fresh)
        return found

    async def _tell_ineligible(
        self, uow: UnitOfWork, notices: list[tuple[int, str, str, str | None]], now: datetime
    ) -> None:
        """Tell someone once (per poll and reason; per evaluation while their phone is not
        confirmed) why their vote does not count. The notice names no choice."""
        from bot.domain.resident_phone import ask_button  # it reads this module's results

        rows: list[dict[str, Any]] = []
        seen: set[str] = set()
        for chat, about, reason, locale in notices:
            key = f"ev:void:{about}:{chat}:{reason}"
            if key in seen or await uow.evaluations.outbox_key_taken(f"{key}:0"):
                continue
            seen.add(key)
            buttons = [[ask_button(locale)]] if reason == Verdict.UNCONFIRMED else None
            text = t(locale, f"ev.vote.{reason}")
            rows.extend(message_row(chat, text, now, dedupe_key=key, buttons=buttons))
        await uow.outbox.add(rows)

    async def _confirmed_since(
        self, uow: UnitOfWork, voters: dict[int, Voter]
    ) -> dict[int, Voter]:
        """Residents read as unconfirmed (kept up to VOTER_TTL) are asked again: one who has
        just confirmed their phone and votes right away is not told it is unconfirmed. Few
        voters are unconfirmed, so this is a small read, and only in batches that have one."""
        waiting = {v.id for v in voters.values() if v.unconfirmed_resident}
        if not waiting:
            return voters
        people = await uow.people.by_ids(waiting)
        confirmed = {pid for pid, p in people.items() if p.phone_confirmed}
        if not confirmed:
            return voters

        def fresh(found: dict[int, Voter]) -> None:
            for tg, voter in list(found.items()):
                if voter.id in confirmed:
                    found[tg] = replace(voter, phone_confirmed=True)

        for roster in self._rosters.values():
            fresh(roster.voters)
        for tg, (read_at, voter) in list(self._voters.items()):
            if voter.id in confirmed:
                self._voters[tg] = (read_at, replace(voter, phone_confirmed=True))
        updated = dict(voters)
        fresh(updated)
        return updated

    # -- closing

    async def close_early(self, actor: Actor, evaluation_id: int) -> Evaluation:
        """提前结束: the opener (or whoever manages the branch) closes now, after confirming."""
        await self.drain()  # the votes already taken are written first, and counted
        now = self.clock.now()
        async with self.db.uow() as uow:
            me = await self._staff(uow, actor)
            evaluation = await uow.evaluations.get(evaluation_id)
            if evaluation is None:
                raise DomainError("ev.gone")
            if not await self._may_manage(uow, me, evaluation):
                raise Forbidden("ev.not_your_branch")
            if evaluation.status is not EvalStatus.OPEN:
                raise DomainError("ev.already_closed")
            await self._close(uow, evaluation, now)
            closed = await uow.evaluations.get(evaluation_id)
        assert closed is not None
        return closed

    async def tick(self, quiet: Any = None) -> CloseReport:
        """Close what is due (exactly once, derived from the database) and queue the one
        reminder to non-voters before closing."""
        # Votes taken before closing time and still in the ballot box are written first:
        # judged by when they came, they count, so they must be in the tally.
        await self.drain()
        now = self.clock.now()
        report = CloseReport()
        async with self.db.uow() as uow:
            for evaluation in await uow.evaluations.open_ones():
                if evaluation.closes_at <= now:
                    status = await self._close(uow, evaluation, now)
                    if status is EvalStatus.CLOSED:
                        report.closed += 1
                    elif status is EvalStatus.VOID:
                        report.void += 1
                    report.ids.append(evaluation.id)
                elif now >= self.remind_at(evaluation):
                    quiet_now = quiet is not None and quiet.contains(now.astimezone(self.clock.tz))
                    closes_soon = evaluation.closes_at - now <= timedelta(hours=10)
                    if not quiet_now or closes_soon:
                        report.reminded += await self._remind(uow, evaluation, now)
        return report

    @staticmethod
    def remind_at(evaluation: Evaluation) -> datetime:
        """24 hours before closing; half-way for an evaluation shorter than two days."""
        span = evaluation.closes_at - evaluation.created_at
        if span >= 2 * REMIND_BEFORE:
            return evaluation.closes_at - REMIND_BEFORE
        return evaluation.created_at + span / 2

    async def _remind(self, uow: UnitOfWork, evaluation: Evaluation, now: datetime) -> int:
        swept = f"ev:{evaluation.id}:reminded"  # the sweep is done: later ticks look no more
        if await uow.reminders.already_queued([swept]):
            return 0
        ids = await uow.evaluations.non_voters(evaluation.id)
        keys = {pid: f"ev:{evaluation.id}:remind:{pid}" for pid in ids}
        done = await uow.reminders.already_queued(keys.values())
        todo = [pid for pid in ids if keys[pid] not in done]
        await uow.reminders.record([log_row(swept, None, now)])
        if not todo:
            return 0
        org = await uow.orgs.get(evaluation.org_id)
        people = await uow.people.by_ids(todo)
        rows: list[dict[str, Any]] = []
        logged = []
        for pid in todo:
            logged.append(log_row(keys[pid], pid, now))
            person = people.get(pid)
            if person is None or person.tg_user_id is None:
                continue
            text = t(
                person.locale,
                "ev.remind",
                org=org.name if org else "",
                closes=format_moment(evaluation.closes_at, self.clock.tz, person.locale),
            )
            rows.extend(message_row(person.tg_user_id, text, now))
        await uow.reminders.record(logged)
        await uow.outbox.add(rows)
        return len(rows)

    async def _close(self, uow: UnitOfWork, evaluation: Evaluation, now: datetime) -> EvalStatus:
        """Count, write the results, stop the polls, tell everyone: once."""
        repo = uow.evaluations
        # A resident's ballot counts once their phone is confirmed (by closing time): the
        # ballots of those still unconfirmed are left out, found by their keyed hashes. The
        # turnout is counted by the same rule as the live one (EvaluationRepo.turnout).
        voted, total = await repo.turnout(evaluation.id)
        excluded = {
            voter_hash(self._key, evaluation.id, pid) for pid in await repo.held(evaluation.id)
        }
        # Slips (现场票) and the paper box (纸质票) count toward turnout and quorum.
        extra = await extra_turnout(uow, evaluation.id)
        voted += extra.voted
        total += extra.listed
        status = EvalStatus.CLOSED if voted >= evaluation.quorum else EvalStatus.VOID
        if not await repo.finish(evaluation.id, status, voted, now):
            return EvalStatus.OPEN  # closed by someone else meanwhile
        org = await uow.orgs.get(evaluation.org_id)
        assert org is not None
        subjects = await repo.subjects(evaluation.id)
        tallies: dict[int, Tally] = {}
        if status is EvalStatus.CLOSED:
            counts = add_paper(await repo.tally(evaluation.id, excluded), extra.paper_counts)
            results = []
            for subject in subjects:
                tally = tally_of(counts.get(subject.id, {}))
                tallies[subject.id] = tally
                results.append(
                    {
                        "sid": subject.id,
                        "r_satisfied": tally.satisfied,
                        "r_basic": tally.basic,
                        "r_unsatisfied": tally.unsatisfied,
                        "r_rate": tally.rate_permille(),
                        "r_passed": tally.passed(evaluation.pass_permille),
                    }
                )
            await repo.set_results(results)
        # Stop every ballot poll: the voters' clients show them closed.
        stops = [
            close_ballot_row(ref.chat_id, ref.message_id, now)
            for ref in await repo.polls_of(evaluation.id)
            if ref.message_id is not None
        ]
        await uow.outbox.add(stops)
        named = await _subject_names(uow, org, subjects)
        if status is EvalStatus.CLOSED:
            await self._announce(uow, evaluation, org, named, tallies, voted, total, now, extra)
        else:
            await self._announce_void(uow, evaluation, org, voted, total, now)
        if org.board_chat_id is not None:  # the final turnout
            await uow.outbox.refresh_view(turnout_row(org.board_chat_id, evaluation.id, now))
        log.info(
            "evaluation %s %s: %d of %d voted (quorum %d)",
            evaluation.id,
            status.value,
            voted,
            total,
            evaluation.quorum,
        )
        if status is EvalStatus.CLOSED:
            await _rectification_hook(uow, self.clock, evaluation.id)
        return status

    async def _announce(
        self,
        uow: UnitOfWork,
        evaluation: Evaluation,
        org: Org,
        named: list[tuple[int, str, int | None]],
        tallies: dict[int, Tally],
        voted: int,
        total: int,
        now: datetime,
        extra: Extra,
    ) -> None:
        rows: list[dict[str, Any]] = []
        opener = await uow.people.get(evaluation.opened_by)
        told: set[int] = set()

        def full(locale: str | None) -> str:
            text = results_text(locale, org, evaluation, named, tallies, voted, total)
            return text + extra_line(locale, extra)

        if opener is not None and opener.tg_user_id is not None:
            rows.extend(message_row(opener.tg_user_id, full(opener.locale), now))
            told.add(opener.id)
        # The committee above: its committee staff.
        if org.parent_id is not None:
            for person in await uow.people.in_org(org.parent_id, [Role.COMMITTEE.value]):
                if person.tg_user_id is not None and person.id not in told:
                    rows.extend(message_row(person.tg_user_id, full(person.locale), now))
                    told.add(person.id)
        # Each subject: a member their own result; the branch its secretaries.
        members = await uow.people.by_ids(pid for _, _, pid in named if pid is not None)
        for sid, name, pid in named:
            tally = tallies.get(sid, Tally(0, 0, 0))
            if pid is None:
                targets = await uow.people.in_org(org.id, [Role.SECRETARY.value])
            else:
                targets = [members[pid]] if pid in members else []
            for person in targets:
                if person.tg_user_id is None or (pid is None and person.id in told):
                    continue
                text = t(
                    person.locale,
                    "ev.result.subject",
                    org=org.name,
                    line=result_line(person.locale, name, tally, evaluation.pass_permille),
                )
                rows.extend(message_row(person.tg_user_id, text, now))
        if org.board_chat_id is not None:
            rows.extend(message_row(org.board_chat_id, full(None), now))
            caption = t(None, "ev.chart.caption", org=org.name)
            chart = file_row(
                org.board_chat_id, CHART_RENDER, now, caption=caption, evaluation_id=evaluation.id
            )
            rows.append(chart)
        await uow.outbox.add(rows)

    async def _announce_void(
        self,
        uow: UnitOfWork,
        evaluation: Evaluation,
        org: Org,
        voted: int,
        total: int,
        now: datetime,
    ) -> None:
        rows: list[dict[str, Any]] = []
        opener = await uow.people.get(evaluation.opened_by)
        if opener is not None and opener.tg_user_id is not None:
            loc = opener.locale
            rows.extend(
                message_row(
                    opener.tg_user_id,
                    t(
                        loc,
                        "ev.void.opener",
                        org=org.name,
                        voted=voted,
                        total=total,
                        quorum=evaluation.quorum,
                    ),
                    now,
                    buttons=[[button(t(loc, "ev.btn.reschedule"), "re", evaluation.id)]],
                )
            )
        if org.board_chat_id is not None:
            rows.extend(
                message_row(
                    org.board_chat_id,
                    t(None, "ev.void.board", org=org.name, voted=voted, quorum=evaluation.quorum),
                    now,
                )
            )
        await uow.outbox.add(rows)

    # -- outbox views and renderers

    async def turnout_view(
        self, uow: UnitOfWork, chat_id: int, payload: dict[str, Any]
    ) -> tuple[str, Rows | None] | None:
        """The board group's turnout as it stands when the outbox sends it."""
        evaluation = await uow.evaluations.get(int(payload["evaluation_id"]))
        if evaluation is None:
            return None
        org = await uow.orgs.get(evaluation.org_id)
        if org is None:
            return None
        voted, total = await uow.evaluations.turnout(evaluation.id)
        extra = await extra_turnout(uow, evaluation.id)
        text = turnout_text(
            None, org, evaluation, voted + extra.voted, total + extra.listed, self.clock.tz
        )
        return text + extra_line(None, extra), None

    async def chart(self, uow: UnitOfWork, payload: dict[str, Any]) -> Callable[[], bytes]:
        """The results chart (PNG) when the outbox sends it: its figures read here, the
        drawing returned (the outbox draws it once the unit of work is over)."""
        from bot.charts import satisfaction_chart

        evaluation = await uow.evaluations.get(int(payload["evaluation_id"]))
        if evaluation is None:
            raise DomainError("ev.gone")
        org = await uow.orgs.get(evaluation.org_id)
        assert org is not None
        subjects = await uow.evaluations.subjects(evaluation.id)
        named = await _subject_names(uow, org, subjects)
        rows = []
        for (_, name, _), subject in zip(named, subjects, strict=True):
            if subject.valid < MIN_PUBLISHED_VOTES:
                rows.append((name, 0, 0, 0))  # drawn as "too few votes", no figures
            else:
                rows.append(
                    (name, subject.satisfied or 0, subject.basic or 0, subject.unsatisfied or 0)
                )
        title = t(None, "ev.chart.title", org=org.name)
        return functools.partial(
            satisfaction_chart, title, rows, pass_percent=evaluation.pass_permille / 10
        )

    async def on_poll_sent(self, uow: UnitOfWork, row: Any, sent: Sent) -> None:
        """Outbox hook: a ballot went out; remember its ballot id and message id."""
        await remember_poll(uow, row.chat_id, row.payload, sent)


async def remember_poll(
    uow: UnitOfWork, chat_id: int, payload: dict[str, Any], sent: Sent
) -> None:
    """Record a sent ballot (the id its channel reports answers under, and its message)."""
    if sent.ballot_id is None:
        return
    await uow.evaluations.add_poll(
        poll_id=sent.ballot_id,
        evaluation_id=int(payload["evaluation_id"]),
        subject_id=int(payload["subject_id"]),
        person_id=int(payload["person_id"]),
        chat_id=chat_id,
        message_id=sent.message_id,
    )


async def _rectification_hook(uow: UnitOfWork, clock: Clock, evaluation_id: int) -> None:
    """Tell rectification (整改) that results are written, if that feature is installed."""
    try:
        from bot.domain import rectification
    except ImportError:
        return
    hook = getattr(rectification, "on_evaluation_closed", None)
    if hook is not None:
        await hook(uow, clock, evaluation_id)


# --------------------------------------------------------------------------- texts


def result_line(locale: str | None, name: str, tally: Tally, pass_permille: int) -> str:
    """One subject's result, or "票数不足5票，不公布"."""
    if not tally.published:
        return t(locale, "ev.result.hidden", name=name, min=MIN_PUBLISHED_VOTES)
    rate = tally.rate_permille()
    assert rate is not None
    passed = tally.passed(pass_permille)
    return t(
        locale,
        "ev.result.line",
        name=name,
        satisfied=tally.satisfied,
        basic=tally.basic,
        unsatisfied=tally.unsatisfied,
        rate=percent(rate),
        verdict=t(locale, "ev.result.pass" if passed else "ev.result.fail"),
    )


def results_text(
    locale: str | None,
    org: Org,
    evaluation: Evaluation,
    named: Sequence[tuple[int, str, int | None]],
    tallies: dict[int, Tally],
    voted: int,
    total: int,
) -> str:
    """The whole result: turnout, then one line per subject."""
    lines = [
        t(
            locale,
            "ev.result.title",
            org=org.name,
            voted=voted,
            total=total,
            quorum=evaluation.quorum,
            mark=percent(evaluation.pass_permille),
        )
    ]
    if evaluation.quorum_reason:
        lines.append(t(locale, "ev.result.reason", reason=evaluation.quorum_reason))
    for n, (sid, name, _) in enumerate(named, start=1):
        tally = tallies.get(sid, Tally(0, 0, 0))
        lines.append(f"{n}. " + result_line(locale, name, tally, evaluation.pass_permille))
    return "\n".join(lines)


def turnout_text(
    locale: str | None,
    org: Org,
    evaluation: Evaluation,
    voted: int,
    total: int,
    tz: Any,
) -> str:
    """The live turnout line for the board group."""
    closes = format_moment(evaluation.closes_at, tz, locale)
    if evaluation.status is EvalStatus.OPEN:
        missing = max(0, evaluation.quorum - voted)
        quorum_line = (
            t(locale, "ev.turnout.quorum_met", quorum=evaluation.quorum)
            if missing == 0
            else t(locale, "ev.turnout.quorum_short", quorum=evaluation.quorum, missing=missing)
        )
        return t(
            locale,
            "ev.turnout.open",
            org=org.name,
            voted=voted,
            total=total,
            quorum_line=quorum_line,
            closes=closes,
        )
    return t(
        locale,
        f"ev.turnout.{evaluation.status.value}",
        org=org.name,
        voted=voted,
        total=total,
    )


def extra_line(locale: str | None, extra: Extra) -> str:
    """The votes from outside the chat, apart (现场票, 纸质票); empty without any. Counts of
    voters only, never per slip nor per subject."""
    if not extra.any:
        return ""
    return "\n" + t(
        locale,
        "ev.extra",
        slips_voted=extra.slips_voted,
        slips=extra.slips_issued,
        paper=extra.paper,
    )


def participant_kinds(participants: Sequence[Participant]) -> tuple[int, int]:
    """(members, residents) on a list."""
    members = sum(1 for p in participants if p.kind == "member")
    return members, len(participants) - members
