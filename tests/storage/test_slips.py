"""Ballot slips (现场票) and the paper box (纸质票) on a real database: a slip votes, changes,
is refused a stale form and a vote after closing; the tally at closing is chat + slips +
paper, exactly; the slip page never shows a hidden subject; ``jiannuo ballots`` refuses
cleanly. Tokens and the rate limiter on their own."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import ballots_cli
from bot.domain.clock import FakeClock
from bot.domain.errors import DomainError, Forbidden
from bot.domain.evaluation import Answer, EvaluationService
from bot.domain.evaluation_models import Choice, EvalStatus, SubjectKind
from bot.domain.slips import (
    TOKEN_CHARS,
    Cast,
    SlipService,
    SlipState,
    grouped,
    new_token,
    normalize_token,
    parse_counts,
)
from bot.web.throttle import Throttle
from config.settings import Settings
from storage import schema
from storage.db import Database
from tests.accounts import actor_for
from tests.storage.test_evaluation_ballots import KEY, SECRETARY_TG, TZ, polls_for, seed

START = datetime(2026, 9, 25, 9, 0, tzinfo=TZ)


async def _open(db: Database, clock: FakeClock) -> tuple[EvaluationService, SlipService, int]:
    await seed(db, clock, residents=2)
    evaluations = EvaluationService(db, clock, KEY)
    opened = await evaluations.open(
        await actor_for(db, SECRETARY_TG),
        (await _org(db)),
        SubjectKind.BRANCH,
        START + timedelta(hours=2),
        quorum=3,
        reason="支部名册上只有十几人",
    )
    return evaluations, SlipService(db, clock, KEY, evaluations), opened.evaluation_id


async def _org(db: Database) -> int:
    async with db.uow() as uow:
        org = await uow.orgs.by_code("XH-HS")
        assert org is not None
        return org.id


async def test_slips_chat_and_paper_add_up_exactly_at_closing(db: Database) -> None:
    clock = FakeClock(START)
    evaluations, slips, eid = await _open(db, clock)
    tokens = await slips.issue(eid, 6)
    assert len(set(tokens)) == 6
    page = await slips.page(tokens[0])
    assert page.state == SlipState.OPEN and page.org_name == "黄思村党总支"
    (subject,) = page.subjects
    sid = subject.id

    # A slip votes, then its old form comes again (a double tap): nothing changes twice.
    assert await slips.cast(tokens[0], 0, {sid: Choice.SATISFIED}) == Cast.SAVED
    assert await slips.cast(tokens[0], 0, {sid: Choice.UNSATISFIED}) == Cast.STALE
    assert (await slips.page(tokens[0])).choices == {sid: Choice.SATISFIED}
    # It changes its mind with the current form; a subject of another evaluation is ignored.
    assert await slips.cast(tokens[0], 1, {sid: Choice.BASIC, 999_999: Choice.BASIC}) == Cast.SAVED
    assert (await slips.page(tokens[0])).choices == {sid: Choice.BASIC}
    assert await slips.cast(tokens[1], 0, {sid: Choice.UNSATISFIED}) == Cast.SAVED
    # A slip that leaves everything blank has not voted.
    assert await slips.cast(tokens[2], 0, {sid: None}) == Cast.SAVED
    assert not (await slips.page(tokens[2])).voted
    assert await slips.cast("0" * TOKEN_CHARS, 0, {sid: Choice.BASIC}) == Cast.UNKNOWN

    # A member votes in chat (satisfied).
    polls = await polls_for(db, eid)
    member_tg = next(tg for tg in polls if tg != SECRETARY_TG)
    await evaluations.vote(Answer(1, member_tg, polls[member_tg], (0,), clock.now()))

    # The paper box: 4 ballots, 2 / 1 / 1, with the tally sheet's photo; a wrong one refused.
    async with db.uow() as uow:
        sheet = await uow.files.add(
            sha256="0" * 64, size=3, media_type="image/jpeg", name=None, created_at=clock.now()
        )
    with pytest.raises(DomainError) as refused:
        await slips.enter_paper(
            await actor_for(db, SECRETARY_TG), eid, 3, {sid: (2, 1, 1)}, sheet.id
        )
    assert refused.value.key == "paper.too_many"
    with pytest.raises(Forbidden):
        await slips.enter_paper(await actor_for(db, member_tg), eid, 4, {sid: (2, 1, 1)}, sheet.id)
    extra = await slips.enter_paper(
        await actor_for(db, SECRETARY_TG), eid, 4, {sid: (2, 1, 1)}, sheet.id
    )
    assert (extra.slips_voted, extra.slips_issued, extra.paper) == (2, 6, 4)

    view = await evaluations.overview(await actor_for(db, SECRETARY_TG), eid)
    assert (view.voted, view.participants - view.extra.listed) == (
        1 + 2 + 4,
        view.participants - 10,
    )

    clock.advance(timedelta(hours=3))
    report = await evaluations.tick()
    assert report.closed == 1
    async with db.uow() as uow:
        closed = await uow.evaluations.get(eid)
        (counted,) = await uow.evaluations.subjects(eid)
    assert closed is not None and closed.status is EvalStatus.CLOSED and closed.valid_voters == 7
    # chat 1 satisfied; slips basic + unsatisfied; paper 2 / 1 / 1
    assert (counted.satisfied, counted.basic, counted.unsatisfied) == (3, 2, 2)

    # After closing: the slip shows the result, and a change counts for nothing.
    assert await slips.cast(tokens[0], 2, {sid: Choice.UNSATISFIED}) == Cast.CLOSED
    after = await slips.page(tokens[0])
    assert after.state == SlipState.CLOSED and after.choices == {}
    assert (after.subjects[0].satisfied, after.subjects[0].rate_permille) == (3, 714)
    with pytest.raises(DomainError):
        await slips.issue(eid, 1)


async def test_a_slip_page_never_shows_a_subject_under_five_votes(db: Database) -> None:
    clock = FakeClock(START)
    evaluations, slips, eid = await _open(db, clock)
    tokens = await slips.issue(eid, 4)
    sid = (await slips.page(tokens[0])).subjects[0].id
    for token in tokens:
        assert await slips.cast(token, 0, {sid: Choice.SATISFIED}) == Cast.SAVED
    await evaluations.close_early(await actor_for(db, SECRETARY_TG), eid)
    page = await slips.page(tokens[0])
    assert page.state == SlipState.CLOSED
    assert (page.subjects[0].satisfied, page.subjects[0].rate_permille) == (0, None)


async def test_only_hashes_are_stored_and_a_person_is_never_involved(db: Database) -> None:
    clock = FakeClock(START)
    _, slips, eid = await _open(db, clock)
    tokens = await slips.issue(eid, 3)
    async with db.engine.connect() as conn:
        rows = (await conn.execute(select(schema.ballot_slips))).mappings().all()
    assert set(rows[0]) == {"id", "evaluation_id", "token_hash", "voted", "revision"}
    assert {r["token_hash"] for r in rows} == {
        hashlib.sha256(t.encode()).hexdigest() for t in tokens
    }


def test_tokens_carry_140_bits_and_read_back_however_typed() -> None:
    tokens = {new_token() for _ in range(2000)}
    assert len(tokens) == 2000 and all(len(t) == TOKEN_CHARS == 28 for t in tokens)
    token = sorted(tokens)[0]
    typed = grouped(token).upper().replace("0", "O").replace("1", "l")
    assert normalize_token(typed) == token
    assert normalize_token(" ".join(grouped(token).split("-"))) == token
    assert normalize_token(token[:-1]) is None and normalize_token(token + "a") is None
    assert normalize_token("<script>alert(1)</script>") is None


def test_paper_counts_are_three_whole_numbers() -> None:
    assert parse_counts("20 5 1") == (20, 5, 1)
    assert parse_counts("20，5，1") == (20, 5, 1)
    for bad in ("20 5", "20 5 1 0", "a b c", "-1 2 3", "1.5 2 3"):
        with pytest.raises(DomainError):
            parse_counts(bad)


def test_the_throttle_holds_back_and_lets_go_after_its_window() -> None:
    now = [0.0]
    throttle = Throttle(3, 60.0, lambda: now[0])
    assert [throttle.hit("a") for _ in range(4)] == [True, True, True, False]
    assert throttle.full("a") and not throttle.full("b")
    assert 0 < throttle.retry_after("a") <= 61
    now[0] = 61.0
    assert throttle.hit("a") and not throttle.full("a")


def test_the_command_refuses_a_closed_evaluation_and_writes_nothing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"

    async def prepare() -> int:
        db = Database(url)
        try:
            await db.migrate()
            clock = FakeClock(START)
            evaluations, _, eid = await _open(db, clock)
            await evaluations.close_early(await actor_for(db, SECRETARY_TG), eid)
            return eid
        finally:
            await db.dispose()

    eid = asyncio.run(prepare())
    settings = Settings(_env_file=None, database_url=url)
    out = tmp_path / "slips.pdf"
    args = argparse.Namespace(evaluation=eid, count=5, out=out, base_url="https://example.org")
    assert ballots_cli.run(settings, args) == 2
    assert not out.exists()
    args.evaluation = eid + 100
    assert ballots_cli.run(settings, args) == 2
    args.base_url = None
    assert ballots_cli.run(settings, args) == 2  # no address to point the slips to
    assert not out.exists()
