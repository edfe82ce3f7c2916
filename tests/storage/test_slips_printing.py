"""Slips issued are slips printed: a run whose PDF cannot be made issues nothing (the total of
issued slips stays true), and slips handed out for an evaluation that went void stay valid
for its rescheduled one (residents keep the slip they were given and vote again)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.clock import FakeClock
from bot.domain.errors import DomainError
from bot.domain.evaluation_models import Choice, EvalStatus
from bot.domain.slips import Cast, SlipState, extra_turnout
from bot.exports import slips_pdf
from storage.db import Database
from tests.accounts import actor_for
from tests.storage.test_evaluation_ballots import SECRETARY_TG
from tests.storage.test_slips import START, _open

BASE = "https://jiannuo.example/ballot"


async def test_a_run_that_cannot_be_printed_issues_nothing(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(START)
    _, slips, eid = await _open(db, clock)

    def broken(*_: object) -> bytes:
        raise OSError("the CJK font is missing")

    monkeypatch.setattr(slips_pdf, "slips_pdf", broken)
    with pytest.raises(DomainError) as refused:
        await slips.print(eid, 5, BASE, "zh_CN")
    assert refused.value.key == "slip.pdf_failed"
    async with db.uow() as uow:
        assert (await extra_turnout(uow, eid)).slips_issued == 0

    monkeypatch.undo()
    printed = await slips.print(eid, 5, BASE, "zh_CN")
    assert printed.count == 5 and printed.data.startswith(b"%PDF")
    async with db.uow() as uow:
        assert (await extra_turnout(uow, eid)).slips_issued == 5


async def test_slips_handed_out_stay_valid_when_a_void_evaluation_is_rescheduled(
    db: Database,
) -> None:
    clock = FakeClock(START)
    evaluations, slips, eid = await _open(db, clock)  # quorum 3
    tokens = await slips.issue(eid, 4)
    first = await slips.page(tokens[0])
    assert await slips.cast(tokens[0], 0, {first.subjects[0].id: Choice.SATISFIED}) == Cast.SAVED
    clock.advance(timedelta(hours=3))
    assert (await evaluations.tick()).void == 1  # one vote of three

    closes = clock.now() + timedelta(days=2)
    again = await evaluations.reschedule(await actor_for(db, SECRETARY_TG), eid, closes)
    page = await slips.page(tokens[0])
    assert page.state == SlipState.OPEN and page.closes_at == closes
    assert page.choices == {} and not page.voted  # a new vote: the void one counted nothing
    sid = page.subjects[0].id
    async with db.uow() as uow:
        assert [s.id for s in await uow.evaluations.subjects(again)] == [sid]
        assert (await extra_turnout(uow, again)).slips_issued == 4
    for token in tokens[:3]:
        fresh = await slips.page(token)
        assert await slips.cast(token, fresh.revision, {sid: Choice.BASIC}) == Cast.SAVED
    clock.advance(timedelta(days=3))
    assert (await evaluations.tick()).closed == 1
    async with db.uow() as uow:
        evaluation = await uow.evaluations.get(again)
        (counted,) = await uow.evaluations.subjects(again)
    assert evaluation is not None and evaluation.status is EvalStatus.CLOSED
    assert (counted.satisfied, counted.basic, counted.unsatisfied) == (0, 3, 0)
