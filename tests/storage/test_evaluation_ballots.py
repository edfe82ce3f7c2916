"""The ballot box on a real database: 2,000 voters with changes and retractions, a seeded RNG;
the tally equals the ground truth. Also the reminder (once), closing (once), the join hook and
the interfaces for rectification and rankings."""

from __future__ import annotations

import asyncio
import hashlib
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.chat.intents import Sent
from bot.domain import evaluation as evaluation_module
from bot.domain.clock import FakeClock
from bot.domain.evaluation import (
    CHOICES,
    Answer,
    EvaluationService,
    Verdict,
    latest_satisfaction,
    on_joined,
    open_reevaluation,
    remember_poll,
    voter_hash,
)
from bot.domain.evaluation_models import Choice, SubjectKind
from bot.domain.roster import load_roster
from bot.domain.roster_import import import_roster
from storage import evaluation_repo, schema
from storage.db import Database
from tests.accounts import actor_for, insert_people, set_telegram
from tests.databases import postgres_server

DEMO = Path(__file__).resolve().parents[2] / "bot" / "playground" / "demo"
TZ = ZoneInfo("Asia/Shanghai")
REASON = "a small test branch"  # a quorum under the rule's needs one
SECRETARY_TG = 6000
FIRST_TG = 100_000
KEY = b"test-ballot-key"


async def seed(db: Database, clock: FakeClock, residents: int) -> tuple[int, dict[int, int]]:
    """The demo roster with ``residents`` more resident representatives in 黄思村, everyone of
    the branch bound; (org id, tg → person id)."""
    await import_roster(db, clock, load_roster(DEMO / "orgs.csv", DEMO / "people.csv"))
    now = clock.now()
    async with db.uow() as uow:
        org = await uow.orgs.by_code("XH-HS")
        assert org is not None
        await insert_people(
            uow,
            [
                {
                    "name": f"居民{n:04d}",
                    "org_id": org.id,
                    "role": "resident",
                    "phone": f"139{n:08d}",
                    "tg_user_id": FIRST_TG + n,
                    "phone_confirmed": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(residents)
            ],
            now,
        )
        tg: dict[int, int] = {}
        for person in await uow.people.in_org(org.id):
            if person.name == "沈宝方":
                await uow.people.bind(person.id, SECRETARY_TG, "zh_CN")
                tg[SECRETARY_TG] = person.id
            elif person.tg_user_id is not None:
                tg[person.tg_user_id] = person.id
    return org.id, tg


async def polls_for(db: Database, evaluation_id: int) -> dict[int, str]:
    """Pretend the outbox sent every ballot poll: record poll ids as its hook would."""
    found: dict[int, str] = {}
    async with db.uow() as uow:
        rows = await uow.outbox.due(datetime(2100, 1, 1, tzinfo=TZ), 100_000)
        for row in rows:
            if row.kind == "ballot" and row.payload["evaluation_id"] == evaluation_id:
                poll_id = f"poll-{row.id}"
                sent = Sent(message_id=row.id, ballot_id=poll_id)
                await remember_poll(uow, row.chat_id, row.payload, sent)
                found[row.chat_id] = poll_id
    return found


@pytest.fixture
async def box(db: Database) -> tuple[Database, FakeClock, EvaluationService]:
    clock = FakeClock(datetime(2026, 9, 25, 9, 0, tzinfo=TZ))
    service = EvaluationService(db, clock, KEY)
    return db, clock, service


# The JSON batches are SQLite's (json_each); PostgreSQL runs the per-row statements only.
BOX_WRITES = (
    [pytest.param(False, id="per-row")]
    if postgres_server()
    else [pytest.param(True, id="json-batches"), pytest.param(False, id="per-row")]
)


@pytest.mark.parametrize("bulk", BOX_WRITES)
async def test_two_thousand_voters_random_changes_and_retractions(
    box: tuple[Database, FakeClock, EvaluationService], monkeypatch: pytest.MonkeyPatch, bulk: bool
) -> None:
    """On SQLite the box writes a batch as one JSON array per statement; other engines run
    a prepared statement per row. Both are checked against the same truth."""
    monkeypatch.setattr(evaluation_repo, "_bulk_json", lambda dialect: bulk)
    db, clock, service = box
    org_id, tg = await seed(db, clock, 2000)
    closes = clock.now() + timedelta(days=2)
    opened = await service.open(
        await actor_for(db, SECRETARY_TG), org_id, SubjectKind.BRANCH, closes, 1000
    )
    polls = await polls_for(db, opened.evaluation_id)
    assert len(polls) == len(tg) == 2001  # the bound ones: 沈宝方 and 2,000 residents

    rng = random.Random(20260925)
    truth: dict[int, int | None] = {}
    answers: list[Answer] = []
    update = 1
    voters = [t for t in tg if rng.random() < 0.9]
    for voter in voters:  # each votes 1-4 times; the last one counts (empty: retracted)
        for _ in range(rng.randint(1, 4)):
            option = rng.choice([0, 1, 2, 0, 0, None])
            truth[voter] = option
            answers.append(
                Answer(update, voter, polls[voter], () if option is None else (option,))
            )
            update += 1
    # The order of different voters' answers interleaves; one voter's stay in order.
    queues = {v: [a for a in answers if a.tg_user_id == v] for v in voters}
    mixed: list[Answer] = []
    while queues:
        voter = rng.choice(list(queues))
        mixed.append(queues[voter].pop(0))
        if not queues[voter]:
            del queues[voter]
    # A few redelivered updates change nothing twice.
    mixed += rng.sample(mixed, 50)
    verdicts = await asyncio.gather(*(service.vote(a) for a in mixed))
    assert verdicts.count(Verdict.DUPLICATE) == 50
    assert service.batches < len(mixed) / 50  # batched, not a transaction per vote

    expected = {c: 0 for c in CHOICES}
    for option in truth.values():
        if option is not None:
            expected[CHOICES[option]] += 1
    voted = sum(expected.values())
    clock.advance(timedelta(days=3))
    report = await service.tick()
    assert report.closed == 1
    async with db.uow() as uow:
        [subject] = await uow.evaluations.subjects(opened.evaluation_id)
        evaluation = await uow.evaluations.get(opened.evaluation_id)
        participants = await uow.evaluations.participants(opened.evaluation_id)
    assert evaluation is not None and evaluation.valid_voters == voted
    assert (subject.satisfied, subject.basic, subject.unsatisfied) == (
        expected[Choice.SATISFIED],
        expected[Choice.BASIC],
        expected[Choice.UNSATISFIED],
    )
    good = expected[Choice.SATISFIED] + expected[Choice.BASIC]
    assert subject.rate_permille == (2000 * good + voted) // (2 * voted)
    has_voted = {p.person_id for p in participants if p.has_voted}
    assert has_voted == {tg[v] for v, option in truth.items() if option is not None}


async def test_ballots_name_no_one_without_the_key(
    box: tuple[Database, FakeClock, EvaluationService],
) -> None:
    db, clock, service = box
    org_id, tg = await seed(db, clock, 10)
    opened = await service.open(
        await actor_for(db, SECRETARY_TG),
        org_id,
        SubjectKind.BRANCH,
        clock.now() + timedelta(hours=2),
        5,
        REASON,
    )
    polls = await polls_for(db, opened.evaluation_id)
    await service.record_answers(
        [Answer(n, voter, polls[voter], (n % 3,)) for n, voter in enumerate(sorted(polls))]
    )
    async with db.engine.connect() as conn:
        ballots = [dict(r._mapping) for r in await conn.execute(select(schema.ballots))]
    assert set(ballots[0]) == {"subject_id", "voter", "evaluation_id", "choice"}  # no time
    eid = opened.evaluation_id
    plain = {hashlib.sha256(f"{eid}:{pid}".encode()).hexdigest() for pid in tg.values()}
    keyed = {voter_hash(KEY, eid, pid) for pid in tg.values()}
    for ballot in ballots:
        assert ballot["voter"] not in plain  # not a plain hash anyone could recompute
        assert ballot["voter"] in keyed  # only with the key


async def test_one_reminder_before_closing_and_closing_once(
    box: tuple[Database, FakeClock, EvaluationService],
) -> None:
    db, clock, service = box
    org_id, _ = await seed(db, clock, 3)
    opened = await service.open(
        await actor_for(db, SECRETARY_TG),
        org_id,
        SubjectKind.BRANCH,
        clock.now() + timedelta(days=3),
        3,
        REASON,
    )
    await polls_for(db, opened.evaluation_id)
    clock.advance(timedelta(days=1, hours=12))  # not yet: 24 h before closing
    assert (await service.tick()).reminded == 0
    clock.advance(timedelta(hours=13))
    first = await service.tick()
    assert first.reminded == 4  # the bound non-voters (沈宝方 and the three residents)
    assert (await service.tick()).reminded == 0  # exactly one
    clock.advance(timedelta(hours=24))
    closing = await service.tick()
    assert closing.void == 1 and closing.closed == 0
    assert (await service.tick()).total == 0  # closed once


async def test_join_hook_and_interfaces_for_others(
    box: tuple[Database, FakeClock, EvaluationService],
) -> None:
    db, clock, service = box
    org_id, _ = await seed(db, clock, 6)
    opened = await service.open(
        await actor_for(db, SECRETARY_TG),
        org_id,
        SubjectKind.BRANCH,
        clock.now() + timedelta(days=1),
        5,
        REASON,
    )
    async with db.uow() as uow:
        unbound = [p for p in await uow.people.in_org(org_id) if p.tg_user_id is None]
        assert unbound
        person = unbound[0]
        await uow.people.bind(person.id, 7777, "zh_CN")
        bound = await uow.people.get(person.id)
        assert bound is not None
        assert await on_joined(uow, clock, bound) == 1
        assert await on_joined(uow, clock, bound) == 0  # queued once
    polls = await polls_for(db, opened.evaluation_id)
    assert 7777 in polls
    choices: dict[int, int] = {}
    for n, voter in enumerate(sorted(polls)):
        choices[voter] = 2 if n == 0 else 0
    await service.record_answers(
        [Answer(n, v, polls[v], (c,)) for n, (v, c) in enumerate(choices.items())]
    )
    clock.advance(timedelta(days=2))
    assert (await service.tick()).closed == 1
    async with db.uow() as uow:
        result = await latest_satisfaction(uow, org_id=org_id)
        assert result is not None and result.rate_permille is not None
        assert result.unsatisfied == 1 and result.passed is False  # 7 of 8: 875‰
        [subject] = await uow.evaluations.subjects(opened.evaluation_id)
        again = await open_reevaluation(
            uow, clock, opened.evaluation_id, 1, [subject.id], clock.now() + timedelta(days=5)
        )
        evaluation = await uow.evaluations.get(again)
    assert evaluation is not None
    assert (evaluation.reevaluation_of, evaluation.rectification_id) == (opened.evaluation_id, 1)
    assert evaluation.quorum == 5 and evaluation.status.value == "open"


async def test_a_residents_ballot_counts_once_the_phone_is_confirmed(
    box: tuple[Database, FakeClock, EvaluationService],
) -> None:
    db, clock, service = box
    org_id, tg = await seed(db, clock, 8)
    opened = await service.open(
        await actor_for(db, SECRETARY_TG),
        org_id,
        SubjectKind.BRANCH,
        clock.now() + timedelta(days=1),
        5,
        REASON,
    )
    polls = await polls_for(db, opened.evaluation_id)
    late, never = FIRST_TG + 0, FIRST_TG + 1  # two residents who have not confirmed yet
    async with db.uow() as uow:
        for voter in (late, never):
            await uow.people.set_phone_confirmed(tg[voter], False)
    verdicts = await service.record_answers(
        [Answer(n, v, polls[v], (2 if v in (late, never) else 0,)) for n, v in enumerate(polls)]
    )
    assert verdicts.count(Verdict.UNCONFIRMED) == 2
    async with db.uow() as uow:
        told = [r for r in await uow.outbox.due(clock.now(), 1000) if r.chat_id in (late, never)]
        assert all("/phone" in r.payload.get("text", "") for r in told[-1:])
        await uow.people.set_phone_confirmed(tg[late], True)  # confirmed before closing
    clock.advance(timedelta(days=2))
    assert (await service.tick()).closed == 1
    async with db.uow() as uow:
        [subject] = await uow.evaluations.subjects(opened.evaluation_id)
        evaluation = await uow.evaluations.get(opened.evaluation_id)
    assert (subject.satisfied, subject.unsatisfied) == (len(polls) - 2, 1)
    assert evaluation is not None and evaluation.valid_voters == len(polls) - 1


async def test_an_account_bound_to_someone_else_is_seen_within_a_minute(
    box: tuple[Database, FakeClock, EvaluationService], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ballot box reads an evaluation's voters once (not per vote) and again after
    VOTER_TTL: an account moved to another person meanwhile votes as that person then."""
    db, clock, service = box
    org_id, tg = await seed(db, clock, 3)
    opened = await service.open(
        await actor_for(db, SECRETARY_TG),
        org_id,
        SubjectKind.BRANCH,
        clock.now() + timedelta(hours=2),
        3,
        REASON,
    )
    polls = await polls_for(db, opened.evaluation_id)
    first, second = FIRST_TG, FIRST_TG + 1
    seconds = [1000.0]
    monkeypatch.setattr(evaluation_module, "monotonic", lambda: seconds[0])
    assert await service.record_answers([Answer(1, first, polls[first], (0,))]) == [
        Verdict.COUNTED
    ]
    async with db.engine.begin() as conn:  # the first resident's account is the second's now
        for pid, account in ((tg[second], None), (tg[first], None), (tg[second], first)):
            await set_telegram(conn, pid, account)
    seconds[0] += evaluation_module.VOTER_TTL - 1  # still the list as read
    assert await service.record_answers([Answer(2, first, polls[first], (1,))]) == [
        Verdict.COUNTED
    ]
    seconds[0] += 2  # read again: the account is the second resident's, the poll is not
    assert await service.record_answers([Answer(3, first, polls[first], (2,))]) == [
        Verdict.NOT_YOURS
    ]
    async with db.engine.connect() as conn:
        choices = [r.choice for r in await conn.execute(select(schema.ballots))]
    assert choices == [Choice.BASIC.value]  # the vote before the move, changed once


async def test_a_vote_taken_before_closing_counts_though_written_after(
    box: tuple[Database, FakeClock, EvaluationService],
) -> None:
    """An answer is judged when the bot took it, and the closing tick writes what the ballot
    box holds before it counts: a vote in the last second is in the result."""
    db, clock, service = box
    org_id, _ = await seed(db, clock, 6)
    closes = clock.now() + timedelta(hours=2)
    opened = await service.open(
        await actor_for(db, SECRETARY_TG), org_id, SubjectKind.BRANCH, closes, 5, REASON
    )
    polls = await polls_for(db, opened.evaluation_id)
    voters = [FIRST_TG + n for n in range(6)]
    for n, voter in enumerate(voters[:5]):
        await service.vote(Answer(n + 1, voter, polls[voter], (0,)))
    clock.advance(timedelta(hours=2) - timedelta(seconds=1))
    last_second = Answer(10, voters[5], polls[voters[5]], (1,), clock.now())
    clock.advance(timedelta(seconds=2))  # the batch is written after closing time
    service.drop_in(last_second)  # still in the box when the tick comes
    report = await service.tick()
    assert report.closed == 1
    async with db.uow() as uow:
        [subject] = await uow.evaluations.subjects(opened.evaluation_id)
    assert (subject.satisfied, subject.basic, subject.unsatisfied) == (5, 1, 0)
    late = Answer(11, voters[0], polls[voters[0]], (2,), clock.now())
    assert await service.vote(late) == Verdict.CLOSED  # taken after closing: not counted


async def test_a_batch_that_fails_once_is_written_on_the_next_try(
    box: tuple[Database, FakeClock, EvaluationService], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, clock, service = box
    org_id, _ = await seed(db, clock, 3)
    opened = await service.open(
        await actor_for(db, SECRETARY_TG),
        org_id,
        SubjectKind.BRANCH,
        clock.now() + timedelta(hours=2),
        3,
        REASON,
    )
    polls = await polls_for(db, opened.evaluation_id)
    monkeypatch.setattr(evaluation_module, "BATCH_RETRY_DELAYS", (0.01, 0.01))
    original = service.record_answers
    calls: list[int] = []

    async def busy_once(*args: Any, **kwargs: Any) -> list[str]:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("database is locked")
        return await original(*args, **kwargs)

    monkeypatch.setattr(service, "record_answers", busy_once)
    voters = [FIRST_TG, FIRST_TG + 1]
    verdicts = await asyncio.gather(
        *(service.vote(Answer(n + 1, v, polls[v], (0,))) for n, v in enumerate(voters))
    )
    assert verdicts == [Verdict.COUNTED, Verdict.COUNTED] and len(calls) == 2
    async with db.engine.connect() as conn:
        assert len((await conn.execute(select(schema.ballots))).all()) == 2


async def test_a_hidden_result_leaves_the_store_without_a_figure(
    box: tuple[Database, FakeClock, EvaluationService],
) -> None:
    """Three people vote on the branch (quorum 3): closed, but under 5 votes its result is
    never shown, so whatever asks for the latest result gets no count, rate or verdict."""
    db, clock, service = box
    org_id, _ = await seed(db, clock, 6)
    opened = await service.open(
        await actor_for(db, SECRETARY_TG),
        org_id,
        SubjectKind.BRANCH,
        clock.now() + timedelta(days=1),
        3,
        REASON,
    )
    polls = await polls_for(db, opened.evaluation_id)
    voters = sorted(polls)[:3]
    await service.record_answers(
        [Answer(n, v, polls[v], (2 if n == 0 else 0,)) for n, v in enumerate(voters)]
    )
    clock.advance(timedelta(days=2))
    assert (await service.tick()).closed == 1
    async with db.uow() as uow:
        result = await latest_satisfaction(uow, org_id=org_id)
        [subject] = await uow.evaluations.subjects(opened.evaluation_id)
    assert subject.valid == 3  # the store holds the tally (for the rule), not the reader
    assert result is not None and result.published is False
    figures = (result.satisfied, result.basic, result.unsatisfied, result.rate_permille)
    assert figures == (None, None, None, None) and result.passed is None


async def test_an_answer_that_came_before_the_polls_id_is_not_overtaken_by_a_newer_one(
    box: tuple[Database, FakeClock, EvaluationService], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A resident answers the ballot before the bot has recorded its poll id, then changes
    the answer once it has: the newer choice is the ballot, not the older one tried again."""
    db, clock, service = box
    monkeypatch.setattr(evaluation_module, "UNKNOWN_POLL_RETRY", 0.05)
    org_id, _ = await seed(db, clock, 3)
    opened = await service.open(
        await actor_for(db, SECRETARY_TG),
        org_id,
        SubjectKind.BRANCH,
        clock.now() + timedelta(hours=2),
        3,
        REASON,
    )
    voter = FIRST_TG
    async with db.uow() as uow:
        rows = await uow.outbox.due(datetime(2100, 1, 1, tzinfo=TZ), 100_000)
    [row] = [r for r in rows if r.kind == "ballot" and r.chat_id == voter]
    poll_id = f"poll-{row.id}"  # the id polls_for records for this row

    first = service.submit(Answer(1, voter, poll_id, (0,), clock.now()))  # satisfied
    await asyncio.sleep(0)  # taken into the box before the poll's id is known
    await service.drain()
    assert await polls_for(db, opened.evaluation_id)  # now the id is recorded
    newer = service.submit(Answer(2, voter, poll_id, (2,), clock.now()))  # unsatisfied
    assert await asyncio.wait_for(asyncio.gather(first, newer), 5) == [
        Verdict.COUNTED,
        Verdict.COUNTED,
    ]
    async with db.engine.connect() as conn:
        choices = (await conn.execute(select(schema.ballots.c.choice))).scalars().all()
    assert choices == [Choice.UNSATISFIED.value]
