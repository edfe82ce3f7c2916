"""Mass evaluations (群众评议): evaluations, subjects, participants, ballot polls, secret ballots.

Ballots name their voter only by a keyed hash and carry no time; nothing here returns a
ballot with anything that could name its voter. Writes are batched (one statement per kind
of change), so a burst of votes costs a few statements per transaction, not a few per vote.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.evaluation_models import (
    EvalStatus,
    Evaluation,
    Participant,
    PollRef,
    SatisfactionResult,
    Subject,
    Voter,
)
from storage import schema as s
from storage.accounts import telegram_chat, telegram_id, with_telegram
from storage.bulk import json_each, json_text
from storage.secrecy import MIN_PUBLISHED_VOTES

CHUNK = 400  # keeps IN (...) lists well under every engine's parameter limit


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class EvaluationRepo:
    """Everything of mass evaluations, on the unit of work's connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    # -- evaluations

    async def create(self, **values: Any) -> int:
        """Insert an evaluation; its id."""
        result = await self.conn.execute(insert(s.evaluations).values(**values))
        pk = result.inserted_primary_key
        assert pk is not None
        return int(pk[0])

    async def get(self, evaluation_id: int) -> Evaluation | None:
        """One evaluation."""
        row = (
            await self.conn.execute(
                select(s.evaluations).where(s.evaluations.c.id == evaluation_id)
            )
        ).first()
        return Evaluation.model_validate(row._mapping) if row else None

    async def for_orgs(self, org_ids: Sequence[int], limit: int = 20) -> list[Evaluation]:
        """The newest evaluations of these organisations, open ones first."""
        if not org_ids:
            return []
        e = s.evaluations.c
        rows = await self.conn.execute(
            select(s.evaluations)
            .where(e.org_id.in_(list(org_ids)))
            .order_by((e.status == EvalStatus.OPEN.value).desc(), e.id.desc())
            .limit(limit)
        )
        return [Evaluation.model_validate(r._mapping) for r in rows]

    async def open_ones(self) -> list[Evaluation]:
        """Every open evaluation (the tick looks at them: few at any time)."""
        rows = await self.conn.execute(
            select(s.evaluations)
            .where(s.evaluations.c.status == EvalStatus.OPEN.value)
            .order_by(s.evaluations.c.id)
        )
        return [Evaluation.model_validate(r._mapping) for r in rows]

    async def finish(
        self,
        evaluation_id: int,
        status: EvalStatus,
        valid_voters: int,
        at: datetime,
    ) -> bool:
        """Close an open evaluation; False if it was no longer open (exactly once)."""
        result = await self.conn.execute(
            update(s.evaluations)
            .where(
                and_(
                    s.evaluations.c.id == evaluation_id,
                    s.evaluations.c.status == EvalStatus.OPEN.value,
                )
            )
            .values(status=status.value, valid_voters=valid_voters, closed_at=at)
        )
        return bool(result.rowcount)

    async def set_closes_at(self, evaluation_id: int, closes_at: datetime) -> None:
        """Move the closing time of an open evaluation."""
        await self.conn.execute(
            update(s.evaluations)
            .where(s.evaluations.c.id == evaluation_id)
            .values(closes_at=closes_at)
        )

    # -- subjects and participants

    async def add_subjects(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert subjects in one batch."""
        if rows:
            await self.conn.execute(insert(s.evaluation_subjects), list(rows))

    async def subjects(self, evaluation_id: int) -> list[Subject]:
        """The subjects of an evaluation, in order."""
        c = s.evaluation_subjects.c
        rows = await self.conn.execute(
            select(s.evaluation_subjects)
            .where(c.evaluation_id == evaluation_id)
            .order_by(c.position)
        )
        return [Subject.model_validate(r._mapping) for r in rows]

    async def set_results(self, rows: Sequence[dict[str, Any]]) -> None:
        """Write each subject's tally (rows: sid, satisfied, basic, unsatisfied, rate, passed)."""
        if not rows:
            return
        c = s.evaluation_subjects.c
        await self.conn.execute(
            update(s.evaluation_subjects)
            .where(c.id == bindparam("sid"))
            .values(
                satisfied=bindparam("r_satisfied"),
                basic=bindparam("r_basic"),
                unsatisfied=bindparam("r_unsatisfied"),
                rate_permille=bindparam("r_rate"),
                passed=bindparam("r_passed"),
            ),
            list(rows),
        )

    async def add_participants(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert participants in one batch."""
        for chunk in _chunks(list(rows)):
            await self.conn.execute(insert(s.evaluation_participants), list(chunk))

    async def participants(self, evaluation_id: int) -> list[Participant]:
        """Everyone on the list."""
        c = s.evaluation_participants.c
        rows = await self.conn.execute(
            select(s.evaluation_participants)
            .where(c.evaluation_id == evaluation_id)
            .order_by(c.person_id)
        )
        return [Participant.model_validate(r._mapping) for r in rows]

    async def participations(self, pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
        """Which (evaluation id, person id) pairs are on a list."""
        wanted = sorted(set(pairs))
        found: set[tuple[int, int]] = set()
        c = s.evaluation_participants.c
        for chunk in _chunks(wanted):
            rows = await self.conn.execute(
                select(c.evaluation_id, c.person_id).where(
                    tuple_(c.evaluation_id, c.person_id).in_(list(chunk))
                )
            )
            found.update((int(e), int(p)) for e, p in rows)
        return found

    async def open_participations(self, person_id: int) -> list[Evaluation]:
        """Open evaluations this person is on the list of."""
        p = s.evaluation_participants.c
        rows = await self.conn.execute(
            select(s.evaluations)
            .join(s.evaluation_participants, p.evaluation_id == s.evaluations.c.id)
            .where(
                and_(
                    p.person_id == person_id,
                    s.evaluations.c.status == EvalStatus.OPEN.value,
                )
            )
            .order_by(s.evaluations.c.id)
        )
        return [Evaluation.model_validate(r._mapping) for r in rows]

    async def turnout(self, evaluation_id: int) -> tuple[int, int]:
        """(participants whose vote counts, participants): a resident's vote counts once
        their phone is confirmed, so one held until then is not in the turnout (the board,
        /evaluations, 提前结束 and the closing count agree)."""
        c = s.evaluation_participants.c
        row = (
            await self.conn.execute(
                select(
                    func.count(),
                    func.coalesce(
                        func.sum(case((and_(c.has_voted.is_(True), ~_held()), 1), else_=0)), 0
                    ),
                )
                .select_from(_with_people())
                .where(c.evaluation_id == evaluation_id)
            )
        ).one()
        return int(row[1]), int(row[0])

    async def held(self, evaluation_id: int) -> list[int]:
        """Ids of residents on the list whose phone is not confirmed: their ballots are kept
        but count only once it is (whether they voted is not asked here)."""
        c = s.evaluation_participants.c
        rows = await self.conn.execute(
            select(c.person_id)
            .select_from(_with_people())
            .where(and_(c.evaluation_id == evaluation_id, _held()))
            .order_by(c.person_id)
        )
        return [int(r[0]) for r in rows]

    async def non_voters(self, evaluation_id: int) -> list[int]:
        """Ids of participants who have not voted."""
        c = s.evaluation_participants.c
        rows = await self.conn.execute(
            select(c.person_id)
            .where(and_(c.evaluation_id == evaluation_id, c.has_voted.is_(False)))
            .order_by(c.person_id)
        )
        return [int(r[0]) for r in rows]

    async def has_voted(self, evaluation_id: int, person_id: int) -> bool:
        """Whether this participant has a ballot in the evaluation (never which)."""
        c = s.evaluation_participants.c
        row = (
            await self.conn.execute(
                select(c.has_voted).where(
                    and_(c.evaluation_id == evaluation_id, c.person_id == person_id)
                )
            )
        ).first()
        return bool(row and row[0])

    async def held_voters(self, evaluation_id: int) -> list[int]:
        """Ids of participants who voted but whose vote does not count yet (a resident whose
        phone is not confirmed)."""
        c = s.evaluation_participants.c
        rows = await self.conn.execute(
            select(c.person_id)
            .select_from(_with_people())
            .where(and_(c.evaluation_id == evaluation_id, c.has_voted.is_(True), _held()))
            .order_by(c.person_id)
        )
        return [int(r[0]) for r in rows]

    # -- polls

    async def add_poll(self, **values: Any) -> None:
        """Remember a sent ballot poll (a re-sent one replaces nothing: poll ids are unique)."""
        known = (
            await self.conn.execute(
                select(s.evaluation_polls.c.poll_id).where(
                    s.evaluation_polls.c.poll_id == values["poll_id"]
                )
            )
        ).first()
        if known is None:
            await self.conn.execute(insert(s.evaluation_polls).values(**values))

    async def polls(self, poll_ids: Iterable[str]) -> dict[str, PollRef]:
        """Ballot polls by their Telegram poll id."""
        wanted = sorted(set(poll_ids))
        found: dict[str, PollRef] = {}
        for chunk in _chunks(wanted):
            rows = await self.conn.execute(_polls_by_id(), {"ids": list(chunk)})
            for row in rows:
                ref = PollRef(*row)
                found[ref.poll_id] = ref
        return found

    async def polls_of(self, evaluation_id: int) -> list[PollRef]:
        """Every ballot poll of an evaluation (to stop them at closing; to know them all
        once the first answer to one of them arrives)."""
        c = s.evaluation_polls.c
        rows = await self.conn.execute(
            select(*_poll_columns())
            .where(c.evaluation_id == evaluation_id)
            .order_by(c.chat_id, c.message_id)
        )
        return [PollRef(*row) for row in rows]

    async def roster(self, evaluation_id: int) -> tuple[list[int], dict[int, Voter]]:
        """An evaluation's list in one read: every participant's person id, and the Telegram
        account → voter of those bound to one (what a vote needs of them)."""
        ep = s.evaluation_participants.c
        p = s.people.c
        rows = await self.conn.execute(
            select(ep.person_id, telegram_id(p.id), p.role, p.phone_confirmed, p.locale)
            .join(s.people, p.id == ep.person_id)
            .where(ep.evaluation_id == evaluation_id)
        )
        listed: list[int] = []
        voters: dict[int, Voter] = {}
        for pid, tg, role, confirmed, locale in rows:
            listed.append(int(pid))
            if tg is not None:
                voters[int(tg)] = Voter(int(pid), str(role), bool(confirmed), locale)
        return listed, voters

    # -- ballots

    async def apply_ballots(
        self,
        set_rows: Sequence[dict[str, Any]],
        retract: Sequence[tuple[int, str]],
    ) -> None:
        """Last choice wins: replace the ballots of ``set_rows`` (subject_id, voter,
        evaluation_id, choice) and delete the retracted (subject_id, voter) ones."""
        if _bulk_json(self.conn.dialect.name):
            # One statement each, whatever the batch's size: the rows travel as one JSON
            # array (see _BulkJson).
            bulk = _BulkJson.get()
            if retract:
                await self.conn.execute(bulk.retract, {"rows": json_text(sorted(set(retract)))})
            if set_rows:
                rows = [
                    [r["subject_id"], r["voter"], r["evaluation_id"], r["choice"]]
                    for r in set_rows
                ]
                await self.conn.execute(bulk.upsert, {"rows": json_text(rows)})
            return
        c = s.ballots.c
        upsert = _upsert_ballots(self.conn.dialect.name)
        gone = (
            set(retract)
            if upsert is not None
            else set(retract) | {(r["subject_id"], r["voter"]) for r in set_rows}
        )
        if gone:  # one prepared statement, many parameter sets (no IN list to expand)
            await self.conn.execute(
                delete(s.ballots).where(
                    and_(c.subject_id == bindparam("b_sid"), c.voter == bindparam("b_voter"))
                ),
                [{"b_sid": sid, "b_voter": voter} for sid, voter in gone],
            )
        if set_rows:
            await self.conn.execute(
                upsert if upsert is not None else insert(s.ballots), list(set_rows)
            )

    async def sync_has_voted(
        self,
        evaluation_id: int,
        subject_ids: Sequence[int],
        voters: dict[int, str],
        holding: set[str] | None = None,
    ) -> None:
        """has_voted := whether the participant has a ballot in the evaluation (voters:
        person id → voter hash). Ballots are looked up by their key (subject, voter), never
        by scanning the evaluation's ballots; ``holding``: the hashes known to hold one."""
        if not voters:
            return
        bulk = _BulkJson.get() if _bulk_json(self.conn.dialect.name) else None
        b = s.ballots.c
        hashes: list[str] = []
        if holding is None:
            holding = set()
            hashes = sorted(set(voters.values()))
        if bulk is not None and hashes:
            rows = await self.conn.execute(
                bulk.holding,
                {"subjects": json_text(sorted(subject_ids)), "hashes": json_text(hashes)},
            )
            holding.update(str(r[0]) for r in rows)
            hashes = []
        for chunk in _chunks(hashes):
            rows = await self.conn.execute(
                select(b.voter)
                .where(
                    and_(
                        b.subject_id.in_(list(subject_ids)),
                        b.voter.in_(bindparam("hashes", expanding=True)),
                    )
                )
                .distinct(),
                {"hashes": list(chunk)},
            )
            holding.update(str(r[0]) for r in rows)
        if bulk is not None:
            await self.conn.execute(
                bulk.has_voted,
                {
                    "eid": evaluation_id,
                    "ids": json_text(sorted(voters)),
                    "voted": json_text(
                        sorted(pid for pid, key in voters.items() if key in holding)
                    ),
                },
            )
            return
        for flag in (True, False):
            ids = sorted(pid for pid, key in voters.items() if (key in holding) is flag)
            for chunk in _chunks(ids):
                await self.conn.execute(
                    _set_has_voted(), {"eid": evaluation_id, "flag": flag, "ids": list(chunk)}
                )

    async def tally(
        self, evaluation_id: int, excluded: Iterable[str] = ()
    ) -> dict[int, dict[str, int]]:
        """subject id → {choice: count}: the aggregate, never a ballot (the ``excluded``
        voter hashes left out)."""
        c = s.ballots.c
        query = select(c.subject_id, c.choice, func.count()).where(
            c.evaluation_id == evaluation_id
        )
        left_out = sorted(set(excluded))
        if left_out:
            query = query.where(c.voter.not_in(left_out))
        rows = await self.conn.execute(query.group_by(c.subject_id, c.choice))
        found: dict[int, dict[str, int]] = {}
        for subject_id, choice, count in rows:
            found.setdefault(int(subject_id), {})[str(choice)] = int(count)
        return found

    async def outbox_key_taken(self, dedupe_key: str) -> bool:
        """Whether an outbox row with this dedupe key exists (a notice told once)."""
        row = (
            await self.conn.execute(
                select(s.outbox.c.id).where(s.outbox.c.dedupe_key == dedupe_key).limit(1)
            )
        ).first()
        return row is not None

    async def voters_by_tg(self, tg_ids: Iterable[int]) -> dict[int, Voter]:
        """Bound people by Telegram account, only what a vote needs (a burst's voters in one
        narrow query per chunk)."""
        wanted = sorted(set(tg_ids))
        found: dict[int, Voter] = {}
        for chunk in _chunks(wanted):
            rows = await self.conn.execute(_voters_by_tg(), {"ids": [str(i) for i in chunk]})
            for tg, pid, role, confirmed, locale in rows:
                found[int(tg)] = Voter(int(pid), str(role), bool(confirmed), locale)
        return found

    # -- results for others (rankings, exports, the web board)

    async def latest_results(
        self, *, org_id: int | None = None, person_id: int | None = None
    ) -> SatisfactionResult | None:
        """The latest closed evaluation's result of a branch (org_id, the branch as subject)
        or of a member (person_id); a result under the publication rule (storage/secrecy.py)
        comes back marked unpublished, without counts, rate or verdict."""
        sub = s.evaluation_subjects.c
        ev = s.evaluations.c
        query = (
            select(
                sub.evaluation_id,
                sub.id.label("subject_id"),
                sub.org_id,
                sub.person_id,
                sub.satisfied,
                sub.basic,
                sub.unsatisfied,
                sub.rate_permille,
                sub.passed,
                ev.closed_at,
            )
            .join(s.evaluations, ev.id == sub.evaluation_id)
            .where(ev.status == EvalStatus.CLOSED.value)
        )
        if person_id is not None:
            query = query.where(sub.person_id == person_id)
        elif org_id is not None:
            query = query.where(and_(sub.org_id == org_id, sub.person_id.is_(None)))
        else:
            return None
        row = (await self.conn.execute(query.order_by(ev.closed_at.desc(), ev.id.desc()))).first()
        if row is None:
            return None
        m = dict(row._mapping)
        counts = ("satisfied", "basic", "unsatisfied")
        m["published"] = sum(m[key] or 0 for key in counts) >= MIN_PUBLISHED_VOTES
        for key in counts:
            m[key] = (m[key] or 0) if m["published"] else None
        if not m["published"]:  # the secrecy rule: a hidden result leaves this module unread
            m["rate_permille"] = m["passed"] = None
        return SatisfactionResult.model_validate(m)


def _with_people() -> Any:
    """Participants with their person (for the resident's confirmed phone)."""
    return s.evaluation_participants.join(
        s.people, s.people.c.id == s.evaluation_participants.c.person_id
    )


def _held() -> Any:
    """A participant whose ballot does not count yet: a resident (on the list as one, and
    still one) whose phone is not confirmed."""
    return and_(
        s.evaluation_participants.c.kind == "resident",
        s.people.c.role == "resident",
        s.people.c.phone_confirmed.is_(False),
    )


@cache
def _upsert_ballots(dialect: str) -> Any:
    """INSERT … ON CONFLICT (subject, voter) DO UPDATE on the engines that have it (SQLite and
    PostgreSQL spell it alike): a changed vote is one write instead of a delete and an insert.
    None elsewhere (the caller deletes, then inserts)."""
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        stmt: Any = sqlite.insert(s.ballots)
    elif dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        stmt = postgresql.insert(s.ballots)
    else:
        return None
    return stmt.on_conflict_do_update(
        index_elements=[s.ballots.c.subject_id, s.ballots.c.voter],
        set_={"choice": stmt.excluded.choice, "evaluation_id": stmt.excluded.evaluation_id},
    )


def _poll_columns() -> tuple[Any, ...]:
    """A ballot poll's columns in PollRef's order."""
    c = s.evaluation_polls.c
    return (c.poll_id, c.evaluation_id, c.subject_id, c.person_id, c.chat_id, c.message_id)


@cache
def _polls_by_id() -> Any:
    """Ballot polls by id: one statement, the ids bound as an expanding list (built once; a
    literal IN list would be built and coerced value by value for every batch of votes)."""
    return select(*_poll_columns()).where(
        s.evaluation_polls.c.poll_id.in_(bindparam("ids", expanding=True))
    )


@cache
def _voters_by_tg() -> Any:
    """What a vote needs of the people behind some Telegram accounts (ids expanding)."""
    p = s.people.c
    return (
        select(telegram_chat(), p.id, p.role, p.phone_confirmed, p.locale)
        .select_from(with_telegram(s.people))
        .where(s.accounts.c.external_id.in_(bindparam("ids", expanding=True)))
    )


@cache
def _set_has_voted() -> Any:
    """has_voted := flag for some participants of an evaluation (ids expanding)."""
    p = s.evaluation_participants.c
    return (
        update(s.evaluation_participants)
        .where(
            and_(
                p.evaluation_id == bindparam("eid"),
                p.person_id.in_(bindparam("ids", expanding=True)),
            )
        )
        .values(has_voted=bindparam("flag"))
    )


def _bulk_json(dialect: str) -> bool:
    """Whether the ballot box's writes take their rows as one JSON array (SQLite's json_each);
    elsewhere they are prepared statements executed per row."""
    return dialect == "sqlite"


@dataclass(frozen=True)
class _BulkJson:
    """The ballot box's writes on SQLite, each one statement for a whole batch: the rows are
    bound as one JSON array and read back with json_each. A prepared statement executed per
    row (executemany) steps the engine once a row, and each step hands the interpreter lock
    to the database thread and back: in a burst of votes, while the event loop is busy
    reading updates, that handoff, not the write, was most of a batch's time."""

    upsert: Any
    retract: Any
    holding: Any
    has_voted: Any

    @staticmethod
    @cache
    def get() -> _BulkJson:
        from sqlalchemy.dialects import sqlite

        def item(table: Any, index: int) -> Any:
            return func.json_extract(table.c.value, f"$[{index}]")

        b = s.ballots.c
        rows = json_each("rows")
        # WHERE true: SQLite's parser needs it between INSERT … SELECT and ON CONFLICT.
        chosen = select(*(item(rows, n) for n in range(4))).where(true())
        insert_rows = sqlite.insert(s.ballots).from_select(
            ["subject_id", "voter", "evaluation_id", "choice"], chosen
        )
        upsert = insert_rows.on_conflict_do_update(
            index_elements=[b.subject_id, b.voter],
            set_={
                "choice": insert_rows.excluded.choice,
                "evaluation_id": insert_rows.excluded.evaluation_id,
            },
        )
        keys = json_each("rows")
        retract = delete(s.ballots).where(
            tuple_(b.subject_id, b.voter).in_(select(item(keys, 0), item(keys, 1)))
        )
        subjects, hashes = json_each("subjects"), json_each("hashes")
        holding = (
            select(b.voter)
            .where(
                and_(
                    b.subject_id.in_(select(subjects.c.value)),
                    b.voter.in_(select(hashes.c.value)),
                )
            )
            .distinct()
        )
        p = s.evaluation_participants.c
        ids, voted = json_each("ids"), json_each("voted")
        has_voted = (
            update(s.evaluation_participants)
            .where(and_(p.evaluation_id == bindparam("eid"), p.person_id.in_(select(ids.c.value))))
            .values(has_voted=p.person_id.in_(select(voted.c.value)))
        )
        return _BulkJson(upsert, retract, holding, has_voted)
