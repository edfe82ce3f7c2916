"""One-time ballot slips (现场票) and paper ballot boxes (纸质票) of a mass evaluation.

Residents' representatives who are not on the roster vote at the meeting: the secretary
prints N slips, each with a QR code and its address, and hands them out at random. A slip is a
random token of 140 bits (28 characters of Crockford's base 32, printed in groups of four so it
can be typed); the database keeps only its SHA-256, bound to one evaluation and to nobody. The
slip's ballots are stored with the chat ballots under HMAC(ballot key, "slip:" + hash), so the
tally at closing counts chat and slip votes together, and nobody holding the database alone
can even link a slip's row to its ballots.

A paper box is what is left of a meeting held entirely on paper: the secretary enters, per
subject, the counts of the signed tally sheet, with its photo as evidence. Slip voters and
paper ballots count toward turnout and quorum, shown apart as 现场票 and 纸质票 (never per
slip); the published tally per subject is always the sum, and a subject under 5 votes in
total is not published.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bot.chat.actor import Actor
from bot.domain.clock import Clock
from bot.domain.errors import DomainError
from bot.domain.evaluation_models import CHOICES, Choice, EvalStatus, Evaluation, SubjectKind
from storage.db import Database
from storage.secrecy import MIN_PUBLISHED_VOTES
from storage.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.domain.evaluation import EvaluationService

log = logging.getLogger(__name__)

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base 32: no i, l, o, u
TOKEN_CHARS = 28  # 28 × 5 = 140 bits
GROUP = 4
MAX_SLIPS = 500  # one print run
MAX_PAPER = 100_000
_SEPARATORS = re.compile(r"[\s\-_.]+")
_LOOKALIKE = str.maketrans({"i": "1", "l": "1", "o": "0", "u": "v"})


# --------------------------------------------------------------------------- tokens


def new_token() -> str:
    """A fresh slip token: 28 random characters of Crockford's base 32 (140 bits)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(TOKEN_CHARS))


def normalize_token(raw: str) -> str | None:
    """The token in a typed or scanned address (any case, dashes or spaces, O for 0 …);
    None when it cannot be one."""
    text = _SEPARATORS.sub("", raw or "").lower().translate(_LOOKALIKE)
    if len(text) != TOKEN_CHARS or any(ch not in ALPHABET for ch in text):
        return None
    return text


def grouped(token: str) -> str:
    """abcd-efgh-…: the token as printed (groups of four, easy to type)."""
    return "-".join(token[i : i + GROUP] for i in range(0, len(token), GROUP))


def token_hash(token: str) -> str:
    """What the database keeps of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def slip_voter(key: bytes, hashed: str) -> str:
    """The ballots' voter of a slip: HMAC-SHA256(key, "slip:" + token hash), hex."""
    return hmac.new(key, f"slip:{hashed}".encode(), hashlib.sha256).hexdigest()


def slip_url(base_url: str, token: str) -> str:
    """The slip's full address, as printed and in its QR code."""
    return f"{base_url.rstrip('/')}/v/{grouped(token)}"


async def issue_slips(
    uow: UnitOfWork,
    evaluation: Evaluation,
    count: int,
    now: datetime,
    tokens: Sequence[str] | None = None,
) -> list[str]:
    """Make ``count`` slips of an open evaluation in the caller's unit of work (``tokens``:
    those already laid out for printing); the tokens (the only time they exist outside the
    printed slips: the database keeps their hashes)."""
    check_issuable(evaluation, now)
    check_slip_count(count)
    made = list(tokens) if tokens is not None else [new_token() for _ in range(count)]
    if len(made) != count:
        raise ValueError("one token per slip")
    await uow.slips.add_slips(evaluation.id, [token_hash(tok) for tok in made])
    return made


def check_issuable(evaluation: Evaluation, now: datetime) -> None:
    """Slips are issued only for an evaluation still open."""
    if evaluation.status is not EvalStatus.OPEN or evaluation.closes_at <= now:
        raise DomainError("slip.not_open")


def check_slip_count(count: int) -> None:
    """One print run: 1 to MAX_SLIPS slips."""
    if not 1 <= count <= MAX_SLIPS:
        raise DomainError("slip.count.range", limit=MAX_SLIPS)


# --------------------------------------------------------------------------- turnout


@dataclass(frozen=True)
class Extra:
    """Votes from outside the chat: slips (现场票) and the paper box (纸质票)."""

    slips_voted: int = 0
    slips_issued: int = 0
    paper: int = 0
    paper_counts: dict[int, tuple[int, int, int]] = field(default_factory=dict)

    @property
    def voted(self) -> int:
        """Slips that hold a vote plus paper ballots."""
        return self.slips_voted + self.paper

    @property
    def listed(self) -> int:
        """Slips issued plus paper ballots (who could have voted outside the chat)."""
        return self.slips_issued + self.paper

    @property
    def any(self) -> bool:
        """Whether the evaluation has slips or a paper box at all."""
        return bool(self.slips_issued or self.paper)


async def extra_turnout(uow: UnitOfWork, evaluation_id: int) -> Extra:
    """An evaluation's slip and paper votes (aggregates only)."""
    voted, issued = await uow.slips.slip_turnout(evaluation_id)
    box = await uow.slips.paper_box(evaluation_id)
    counts = await uow.slips.paper_counts(evaluation_id) if box is not None else {}
    return Extra(voted, issued, box.ballots if box is not None else 0, counts)


def add_paper(
    counts: dict[int, dict[str, int]], paper: Mapping[int, tuple[int, int, int]]
) -> dict[int, dict[str, int]]:
    """The tally of chat and slip ballots plus the paper box's counts, per subject."""
    total = {sid: dict(c) for sid, c in counts.items()}
    for sid, numbers in paper.items():
        row = total.setdefault(sid, {})
        for choice, n in zip(CHOICES, numbers, strict=True):
            row[choice.value] = row.get(choice.value, 0) + n
    return total


# --------------------------------------------------------------------------- the slip's page


class SlipState:
    """What a slip's page can show."""

    UNKNOWN = "unknown"  # no such slip (a typo, a guess)
    OPEN = "open"
    COUNTING = "counting"  # past its closing time, the count not yet written
    CLOSED = "closed"
    VOID = "void"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class SubjectLine:
    """A subject on the page: its name, and (closed) its published tally."""

    id: int
    name: str
    satisfied: int = 0
    basic: int = 0
    unsatisfied: int = 0
    rate_permille: int | None = None  # None: not published (fewer than 5 votes)
    passed: bool | None = None


@dataclass(frozen=True)
class SlipPage:
    """Everything a slip's page shows (and nothing about anyone)."""

    state: str
    org_name: str = ""
    kind: SubjectKind = SubjectKind.BRANCH
    closes_at: datetime | None = None
    subjects: tuple[SubjectLine, ...] = ()
    choices: Mapping[int, Choice] = field(default_factory=dict)
    revision: int = 0
    voted: bool = False
    pass_permille: int = 900


class Cast:
    """What became of a submitted form."""

    SAVED = "saved"
    STALE = "stale"  # submitted twice, or from an older page: nothing changed
    CLOSED = "closed"
    UNKNOWN = "unknown"


def _state_of(evaluation: Evaluation, now: datetime) -> str:
    if evaluation.status is EvalStatus.OPEN:
        return SlipState.OPEN if now < evaluation.closes_at else SlipState.COUNTING
    return {
        EvalStatus.CLOSED: SlipState.CLOSED,
        EvalStatus.VOID: SlipState.VOID,
        EvalStatus.CANCELLED: SlipState.CANCELLED,
    }[evaluation.status]


async def _subject_lines(uow: UnitOfWork, evaluation: Evaluation) -> list[SubjectLine]:
    org = await uow.orgs.get(evaluation.org_id)
    subjects = await uow.evaluations.subjects(evaluation.id)
    people = await uow.people.by_ids(s.person_id for s in subjects if s.person_id is not None)
    lines = []
    for s in subjects:
        if s.person_id is None:
            name = org.name if org else ""
        else:
            who = people.get(s.person_id)
            name = who.name if who else "?"
        published = evaluation.status is EvalStatus.CLOSED and s.valid >= MIN_PUBLISHED_VOTES
        lines.append(
            SubjectLine(
                s.id,
                name,
                (s.satisfied or 0) if published else 0,
                (s.basic or 0) if published else 0,
                (s.unsatisfied or 0) if published else 0,
                s.rate_permille if published else None,
                s.passed if published else None,
            )
        )
    return lines


@dataclass(frozen=True)
class SlipFile:
    """A printed run of slips: the PDF and what it holds."""

    name: str
    data: bytes
    count: int
    evaluation_id: int
    org_name: str


def slip_file_name(evaluation_id: int, closes_at: datetime, clock: Clock, count: int) -> str:
    """slips-<evaluation>-<closing day>-<count>.pdf"""
    day = closes_at.astimezone(clock.tz).date().isoformat()
    return f"slips-{evaluation_id}-{day}-{count}.pdf"


class SlipService:
    """Issuing slips, showing a slip's page, taking its votes; the paper box."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        ballot_key: bytes,
        evaluations: EvaluationService | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self._key = ballot_key
        self.evaluations = evaluations  # who may manage an evaluation (chat requests)

    async def print_for(
        self,
        actor: Actor,
        evaluation_id: int,
        count: int,
        base_url: str | None,
        locale: str | None,
    ) -> SlipFile:
        """Slips asked for in chat: by whoever may manage the evaluation."""
        if self.evaluations is None:
            raise DomainError("auth.forbidden")
        await self.evaluations.overview(actor, evaluation_id)  # refused unless theirs
        return await self.print(evaluation_id, count, base_url, locale)

    async def print(
        self, evaluation_id: int, count: int, base_url: str | None, locale: str | None
    ) -> SlipFile:
        """Lay out ``count`` new slips of an open evaluation, then issue them: a run whose
        PDF cannot be made issues nothing, so every slip counted as issued was printed (the
        tokens exist only in this PDF; the database keeps their hashes)."""
        if not base_url:
            raise DomainError("slip.no_address")
        check_slip_count(count)
        async with self.db.uow() as uow:
            check_issuable(await self._evaluation(uow, evaluation_id), self.clock.now())
        tokens = [new_token() for _ in range(count)]
        printed = await self.render(evaluation_id, tokens, base_url, locale)
        async with self.db.uow() as uow:
            evaluation = await self._evaluation(uow, evaluation_id)
            await issue_slips(uow, evaluation, count, self.clock.now(), tokens)
        return printed

    @staticmethod
    async def _evaluation(uow: UnitOfWork, evaluation_id: int) -> Evaluation:
        evaluation = await uow.evaluations.get(evaluation_id)
        if evaluation is None:
            raise DomainError("ev.gone")
        return evaluation

    async def render(
        self, evaluation_id: int, tokens: Sequence[str], base_url: str | None, locale: str | None
    ) -> SlipFile:
        """The PDF of these slips of an evaluation (``slip.pdf_failed`` if it cannot be made)."""
        if not base_url:
            raise DomainError("slip.no_address")
        async with self.db.uow() as uow:
            evaluation = await self._evaluation(uow, evaluation_id)
            org = await uow.orgs.get(evaluation.org_id)
            subjects = await uow.evaluations.subjects(evaluation_id)
        org_name = org.name if org else ""
        data = await self.layout(
            org_name,
            evaluation.subject_kind,
            len(subjects),
            evaluation.closes_at,
            tokens,
            base_url,
            locale,
        )
        return SlipFile(
            slip_file_name(evaluation_id, evaluation.closes_at, self.clock, len(tokens)),
            data,
            len(tokens),
            evaluation_id,
            org_name,
        )

    async def layout(
        self,
        org_name: str,
        kind: SubjectKind,
        subjects: int,
        closes_at: datetime,
        tokens: Sequence[str],
        base_url: str,
        locale: str | None,
    ) -> bytes:
        """The slips' PDF (nothing is written); ``slip.pdf_failed`` if it cannot be made."""
        from bot.exports import slips_pdf

        sheet = slips_pdf.SlipSheet(org_name, kind, subjects, closes_at, self.clock.tz, locale)
        urls = [slip_url(base_url, token) for token in tokens]
        try:
            return await asyncio.to_thread(slips_pdf.slips_pdf, sheet, urls)
        except Exception as exc:
            log.exception("the slips' PDF could not be made")
            raise DomainError("slip.pdf_failed") from exc

    # -- issuing

    async def issue_in(self, uow: UnitOfWork, evaluation: Evaluation, count: int) -> list[str]:
        """Make ``count`` slips of an open evaluation in the caller's unit of work."""
        return await issue_slips(uow, evaluation, count, self.clock.now())

    async def issue(self, evaluation_id: int, count: int) -> list[str]:
        """Make slips of an open evaluation (the operator's ``jiannuo ballots``)."""
        async with self.db.uow() as uow:
            evaluation = await uow.evaluations.get(evaluation_id)
            if evaluation is None:
                raise DomainError("ev.gone")
            return await self.issue_in(uow, evaluation, count)

    # -- the page

    async def page(self, token: str) -> SlipPage:
        """A slip's page: its evaluation, the subjects, its own choices (or the result)."""
        hashed = token_hash(token)
        async with self.db.uow() as uow:
            slip = await uow.slips.by_hash(hashed)
            if slip is None:
                return SlipPage(SlipState.UNKNOWN)
            evaluation = await uow.evaluations.get(slip.evaluation_id)
            if evaluation is None:
                return SlipPage(SlipState.UNKNOWN)
            org = await uow.orgs.get(evaluation.org_id)
            state = _state_of(evaluation, self.clock.now())
            lines = await _subject_lines(uow, evaluation)
            choices: dict[int, Choice] = {}
            if state == SlipState.OPEN:
                own = await uow.slips.choices(evaluation.id, slip_voter(self._key, hashed))
                choices = {sid: Choice(c) for sid, c in own.items()}
        return SlipPage(
            state,
            org.name if org else "",
            evaluation.subject_kind,
            evaluation.closes_at,
            tuple(lines),
            choices,
            slip.revision,
            slip.voted,
            evaluation.pass_permille,
        )

    async def cast(self, token: str, revision: int, choices: Mapping[int, Choice | None]) -> str:
        """Save a slip's choices (its ballots become exactly these) if the form is the
        current one and the evaluation still open."""
        hashed = token_hash(token)
        now = self.clock.now()
        async with self.db.uow() as uow:
            slip = await uow.slips.by_hash(hashed)
            if slip is None:
                return Cast.UNKNOWN
            evaluation = await uow.evaluations.get(slip.evaluation_id)
            if evaluation is None:
                return Cast.UNKNOWN
            if _state_of(evaluation, now) != SlipState.OPEN:
                return Cast.CLOSED
            subject_ids = {s.id for s in await uow.evaluations.subjects(evaluation.id)}
            chosen = {
                sid: c.value for sid, c in choices.items() if c is not None and sid in subject_ids
            }
            if not await uow.slips.bump(slip.id, revision, bool(chosen)):
                return Cast.STALE
            voter = slip_voter(self._key, hashed)
            await uow.slips.replace_choices(evaluation.id, voter, chosen)
            org = await uow.orgs.get(evaluation.org_id)
            if org is not None and org.board_chat_id is not None:
                from bot.domain.evaluation import turnout_row

                await uow.outbox.refresh_view(turnout_row(org.board_chat_id, evaluation.id, now))
        return Cast.SAVED

    # -- the paper box

    async def enter_paper(
        self,
        actor: Actor,
        evaluation_id: int,
        ballots: int,
        counts: Mapping[int, tuple[int, int, int]],
        photo_file: int,
    ) -> Extra:
        """纸质票: the counts of the paper ballot box per subject (满意, 基本满意, 不满意), with
        the photo of the signed tally sheet (a stored file's id); entered again, it replaces
        the earlier entry.
        Only while the evaluation is open (it is counted at closing)."""
        if self.evaluations is None:
            raise DomainError("auth.forbidden")
        view = await self.evaluations.overview(actor, evaluation_id)  # refused unless theirs
        now = self.clock.now()
        async with self.db.uow() as uow:
            evaluation = await uow.evaluations.get(evaluation_id)
            if evaluation is None:
                raise DomainError("ev.gone")
            if _state_of(evaluation, now) != SlipState.OPEN:
                raise DomainError("ev.already_closed")
            subject_ids = [s.id for s in await uow.evaluations.subjects(evaluation_id)]
            check_paper(ballots, counts, subject_ids)
            await uow.slips.set_paper(
                evaluation_id, ballots, photo_file, actor.person_id, now, counts
            )
            if view.org.board_chat_id is not None:
                from bot.domain.evaluation import turnout_row

                row = turnout_row(view.org.board_chat_id, evaluation_id, now)
                await uow.outbox.refresh_view(row)
            return await extra_turnout(uow, evaluation_id)

    def form_key(self, token: str, revision: int) -> str:
        """The form's anti-forgery value: bound to the slip and the revision it shows."""
        message = f"form:{token_hash(token)}:{revision}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    def form_key_ok(self, token: str, revision: int, given: str) -> bool:
        """Whether a submitted form's anti-forgery value is the one its page carried."""
        return hmac.compare_digest(self.form_key(token, revision), given or "")


def parse_counts(text: str) -> tuple[int, int, int]:
    """满意 基本满意 不满意 as typed: "20 5 1", "20，5，1" (three whole numbers)."""
    parts = [p for p in re.split(r"[\s,，、/;；]+", text.strip()) if p]
    if len(parts) != 3 or not all(p.isdigit() and len(p) <= 6 for p in parts):
        raise DomainError("paper.counts.format")
    a, b, c = (int(p) for p in parts)
    return a, b, c


def check_paper(
    ballots: int, counts: Mapping[int, tuple[int, int, int]], subject_ids: Sequence[int]
) -> None:
    """A paper box adds up: every subject counted, none with more votes than ballots."""
    if not 1 <= ballots <= MAX_PAPER:
        raise DomainError("paper.ballots.range", limit=MAX_PAPER)
    if set(counts) != set(subject_ids):
        raise DomainError("paper.incomplete")
    for n, sid in enumerate(subject_ids, start=1):
        if sum(counts[sid]) > ballots:
            raise DomainError("paper.too_many", number=n, ballots=ballots)
