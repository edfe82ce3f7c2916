"""群众评议 as people do it: open in chat, vote in polls, ineligible votes, closing, results."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.domain.enums import Role
from bot.domain.evaluation import voter_hash
from bot.menu import commands_for
from bot.playground.simulator import BotApiSimulator
from storage import schema
from tests.e2e.evaluation_support import (
    BOARD,
    Branch,
    evaluation_world,
    open_in_chat,
    rows,
    tick,
)
from tests.e2e.harness import World

SATISFIED, BASIC, UNSATISFIED = 0, 1, 2


@pytest.fixture
async def branch(sim: BotApiSimulator, tmp_path: Path) -> AsyncIterator[tuple[World, Branch]]:
    async for pair in evaluation_world(sim, tmp_path):
        yield pair


async def test_full_evaluation_with_ineligible_changed_and_late_votes(
    branch: tuple[World, Branch],
) -> None:
    world, hs = branch
    people = hs.people
    assert len(people) == 35  # 1 secretary, 4 members, 4 + 26 resident representatives
    secretary = people["沈宝方"]
    await open_in_chat(secretary)
    await hs.wait_polls(35)
    names = sorted(people)
    voters = [people[n] for n in names if n != "居民26"][:33]  # 33 will try to vote
    late = voters.pop()  # votes after closing
    assert len(voters) == 32
    for human in voters:
        assert len(hs.polls(human)) == 1
        assert human.seen("谁能看到什么") == 1  # the ballot's introduction

    # 24 满意, 5 基本满意, 3 不满意 in the end; two voters change their minds first.
    plan = [SATISFIED] * 24 + [BASIC] * 5 + [UNSATISFIED] * 3
    first, second = voters[0], voters[24]
    hs.vote(first, UNSATISFIED)  # changes to 满意 below
    hs.vote(second, SATISFIED)  # changes to 基本满意 below
    for human, choice in zip(voters, plan, strict=True):
        hs.vote(human, choice)

    # Three ineligible votes: a participant on someone else's (forwarded) ballot, a member of
    # another branch, and a Telegram user who is on no roster at all.
    other_poll = hs.polls(voters[5])[-1]
    assert other_poll.poll is not None
    hs.sim.forward_poll(voters[5].user_id, other_poll.poll.id, people["居民26"].user_id)
    hs.vote(people["居民26"], UNSATISFIED, other_poll)
    outsider = world.human("吴静")  # 东园社区's secretary, not bound here: an unknown account
    hs.sim.forward_poll(voters[5].user_id, other_poll.poll.id, outsider.user_id)
    hs.vote(outsider, UNSATISFIED, other_poll)
    committee = people.get("刘晓燕") or world.people["刘晓燕"]
    hs.sim.forward_poll(voters[5].user_id, other_poll.poll.id, committee.user_id)
    hs.vote(committee, UNSATISFIED, other_poll)

    await people["居民26"].receive("转发来的")
    await committee.receive("不在这场群众评议的参评名单上")
    await outsider.receive("不在这场群众评议的参评名单上")

    # Turnout in the board group, edited in place.
    def turnout_shows(text: str) -> bool:
        return any(text in m.content for m in hs.sim.bot_messages(BOARD))

    await hs.sim.wait_until(lambda: turnout_shows("已投票：32 / 35 人"), 15)
    assert turnout_shows("已达到有效人数（30 人）")
    turnouts = [m for m in hs.sim.bot_messages(BOARD) if "群众评议进行中" in m.content]
    assert len(turnouts) == 1  # one message, edited

    # The opener sees who has not voted, never how anyone voted.
    await secretary.send("/evaluations", expect="群众评议（点一项查看）")
    await secretary.tap("黄思村党总支", expect="投票：32 / 35 人")
    listing = await secretary.tap("未投票名单", expect="还没有投票的 3 人")
    assert late.name in listing.content and "居民26" in listing.content
    assert "满意" not in listing.content

    # Closing time passes; one more vote comes too late.
    hs.clock.advance(timedelta(days=3, hours=12))
    hs.vote(late, SATISFIED)
    await late.receive("已经截止")
    report = await tick(world)
    assert report.closed == 1
    await tick(world)  # exactly once: a second tick finds nothing to close

    line = "黄思村党总支：满意 24，基本满意 5，不满意 3，满意率 90.6%（合格）"
    result = await secretary.receive("群众评议结果")
    assert line in result.content and "投票人数：32 / 35 人" in result.content
    committee_result = await committee.receive("群众评议结果")
    assert line in committee_result.content
    await hs.sim.wait_until(lambda: turnout_shows(line), 15)
    await hs.sim.wait_until(
        lambda: any(m.photo is not None for m in hs.sim.bot_messages(BOARD)), 20
    )
    await hs.sim.wait_until(lambda: turnout_shows("群众评议已结束：32 / 35 人投票"), 15)

    [evaluation] = await rows(world, schema.evaluations)
    assert evaluation["status"] == "closed" and evaluation["valid_voters"] == 32
    [subject] = await rows(world, schema.evaluation_subjects)
    assert (subject["satisfied"], subject["basic"], subject["unsatisfied"]) == (24, 5, 3)
    assert subject["rate_permille"] == 906 and subject["passed"] is True
    assert len(await rows(world, schema.ballots)) == 32

    # Every ballot poll is stopped.
    await world.outbox_settled(20)
    for human in voters:
        poll = hs.polls(human)[-1].poll
        assert poll is not None and hs.sim.poll(poll.id).is_closed


async def test_quorum_missed_is_void_and_the_opener_reschedules(
    branch: tuple[World, Branch],
) -> None:
    world, hs = branch
    people = hs.people
    secretary = people["沈宝方"]
    await open_in_chat(secretary, when="明天下午3点")
    await hs.wait_polls(35)
    names = sorted(people)
    for name in names[:12]:
        hs.vote(people[name], SATISFIED)
    await hs.sim.wait_until(
        lambda: any("已投票：12 / 35 人" in m.content for m in hs.sim.bot_messages(BOARD)), 15
    )
    hs.clock.advance(timedelta(days=2))
    report = await tick(world)
    assert report.void == 1
    void = await secretary.receive("评议无效")
    assert "只有 12 / 35 人投票" in void.content and "没有达到 30 人" in void.content
    await hs.sim.wait_until(
        lambda: any("评议无效，将另行安排" in m.content for m in hs.sim.bot_messages(BOARD)), 15
    )
    [first] = await rows(world, schema.evaluations)
    assert first["status"] == "void" and first["valid_voters"] == 12
    assert all(s["rate_permille"] is None for s in await rows(world, schema.evaluation_subjects))

    await secretary.tap("重新安排评议", expect="请发送新的投票截止时间")
    await secretary.send("昨天", expect="没有看懂")  # not a time we accept
    await secretary.send("3天后", expect="已重新发起评议")
    await hs.wait_polls(70)
    for name in names[:31]:
        assert len(hs.polls(people[name])) == 2  # a fresh ballot
        hs.vote(people[name], SATISFIED if name != names[0] else UNSATISFIED)
    await hs.sim.wait_until(
        lambda: any("已投票：31 / 35 人" in m.content for m in hs.sim.bot_messages(BOARD)), 15
    )
    hs.clock.advance(timedelta(days=4))
    assert (await tick(world)).closed == 1
    result = await secretary.receive("投票人数：31 / 35 人")
    assert "满意 30，基本满意 0，不满意 1，满意率 96.8%（合格）" in result.content
    evaluations = sorted(await rows(world, schema.evaluations), key=lambda r: r["id"])
    assert [e["status"] for e in evaluations] == ["void", "closed"]
    assert evaluations[1]["quorum"] == 30


@pytest.fixture
async def big_branch(sim: BotApiSimulator, tmp_path: Path) -> AsyncIterator[tuple[World, Branch]]:
    async for pair in evaluation_world(sim, tmp_path, extra=191):
        yield pair


async def test_two_hundred_random_voters_through_the_simulator(
    big_branch: tuple[World, Branch],
) -> None:
    world, hs = big_branch
    people = hs.people
    assert len(people) == 200
    await open_in_chat(people["沈宝方"], when="2天后", quorum="100")
    await hs.wait_polls(200)
    rng = random.Random(7)
    truth: dict[str, int | None] = {}
    for _ in range(450):  # random voters, random changes, some retractions
        name = rng.choice(sorted(people))
        option = rng.choice([SATISFIED, SATISFIED, BASIC, UNSATISFIED, None])
        if option is None and truth.get(name) is None:
            continue  # nothing to retract
        hs.vote(people[name], option)
        truth[name] = option
    expected = Counter(o for o in truth.values() if o is not None)
    voted = sum(expected.values())

    async def tally() -> Counter[int]:
        found: Counter[int] = Counter()
        for ballot in await rows(world, schema.ballots):
            found[["satisfied", "basic", "unsatisfied"].index(ballot["choice"])] += 1
        return found

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while await tally() != expected or hs.sim.updates_pending():
        assert loop.time() < deadline, (await tally(), expected)
        await asyncio.sleep(0.1)
    await hs.sim.wait_until(
        lambda: any(f"已投票：{voted} / 200 人" in m.content for m in hs.sim.bot_messages(BOARD)),
        20,
    )
    hs.clock.advance(timedelta(days=3))
    assert (await tick(world)).closed == 1
    [subject] = await rows(world, schema.evaluation_subjects)
    got = (subject["satisfied"], subject["basic"], subject["unsatisfied"])
    assert got == (expected[SATISFIED], expected[BASIC], expected[UNSATISFIED])
    voted_flags = {
        r["person_id"] for r in await rows(world, schema.evaluation_participants) if r["has_voted"]
    }
    assert len(voted_flags) == voted


async def test_secrecy_no_command_log_or_outbox_row_names_a_choice(
    branch: tuple[World, Branch], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    world, hs = branch
    people = hs.people
    secretary = people["沈宝方"]
    await open_in_chat(secretary, kind="逐一评议每名党员")
    subjects = ["沈宝方", "王建国", "杨友林", "沈红梅", "朱德顺"]
    await hs.wait_polls(35 * 5 - 5)  # nobody gets a ballot about themselves
    async with world.db.engine.connect() as conn:
        mark = max(r["id"] for r in (await conn.execute(select(schema.outbox.c.id))).mappings())

    voters = sorted(people)[:32]
    for name in voters:
        human = people[name]
        for poll in hs.polls(human):
            assert poll.poll is not None
            about = next(s for s in subjects if f"“{s}”" in poll.poll.question)
            if about == "朱德顺" and name not in voters[:4]:
                continue  # only four vote on him: too few to publish
            if name == "居民07" and about == "王建国":
                hs.vote(human, UNSATISFIED, poll)  # the only dissatisfied ballot
            else:
                hs.vote(human, SATISFIED, poll)
    await hs.sim.wait_until(
        lambda: any("已投票：32 / 35 人" in m.content for m in hs.sim.bot_messages(BOARD)), 20
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while hs.sim.updates_pending() or len(await rows(world, schema.ballots)) < 32 * 4 + 4 - 4:
        assert loop.time() < deadline
        await asyncio.sleep(0.1)

    # A vote writes no outbox row but the (coalesced) turnout view, which names no one.
    async with world.db.engine.connect() as conn:
        added = [
            dict(r)
            for r in (
                await conn.execute(select(schema.outbox).where(schema.outbox.c.id > mark))
            ).mappings()
        ]
    assert added and all(r["kind"] == "view" for r in added)
    assert all(set(r["payload"]) == {"view", "evaluation_id"} for r in added)

    # Every command a secretary has, and every button of /evaluations.
    for command in commands_for(Role.SECRETARY):
        if command in ("cancel", "lang", "evaluate"):
            continue
        with contextlib.suppress(AssertionError):  # what matters is what they do show
            await secretary.send(f"/{command}", timeout=3)
        await secretary.send("/cancel", timeout=3)
    await secretary.send("/evaluations", expect="群众评议（点一项查看）")
    await secretary.tap("黄思村党总支", expect="投票：32 / 35 人")
    await secretary.tap("未投票名单", expect="还没有投票的 3 人")

    hs.clock.advance(timedelta(days=4))
    assert (await tick(world)).closed == 1
    result = await secretary.receive("群众评议结果")
    assert "朱德顺：票数不足5票，不公布" in result.content
    on_wang = sum(1 for v in voters if v != "王建国")
    assert "居民07" in voters
    assert f"王建国：满意 {on_wang - 1}，基本满意 0，不满意 1" in result.content
    await people["朱德顺"].receive("票数不足5票，不公布")
    await secretary.send("/evaluations", expect="群众评议（点一项查看）")
    await secretary.tap("黄思村党总支", expect="已结束")
    shown = await secretary.tap("查看结果", expect="朱德顺：票数不足5票，不公布")
    assert f"王建国：满意 {on_wang - 1}，基本满意 0，不满意 1" in shown.content
    await world.outbox_settled(20)

    # No line anyone on the staff side saw puts a voter's name next to a choice.
    seen = [m.content for m in hs.sim.bot_messages(secretary.user_id)]
    seen += [m.content for m in hs.sim.bot_messages(BOARD)]
    seen += [m.content for m in hs.sim.bot_messages(world.people["刘晓燕"].user_id)]
    voter_only = [n for n in people if n not in subjects]
    for text in seen:
        for line in text.splitlines():
            if "满意" in line and "：" in line.split("满意")[0]:
                assert not any(n in line for n in voter_only), line
    # Logs, DEBUG included: no raw poll answer, no voter hash (PTB's and the database
    # drivers' debug lines about them are filtered; ours never carry one).
    key = world.settings.ballot_key_path.read_bytes().strip()
    [evaluation] = await rows(world, schema.evaluations)
    hashes = {
        voter_hash(key, evaluation["id"], p["person_id"])
        for p in await rows(world, schema.evaluation_participants)
    }
    assert {b["voter"] for b in await rows(world, schema.ballots)} <= hashes
    for record in caplog.records:
        message = record.getMessage()
        assert "option_ids" not in message and "poll_answer" not in message, message
        assert not any(h in message for h in hashes), message


async def test_who_may_open_vote_and_close(branch: tuple[World, Branch]) -> None:
    world, hs = branch
    people = hs.people
    secretary, member, resident = people["沈宝方"], people["王建国"], people["居民01"]
    await member.send("/evaluate", expect="支部书记")  # a member may not open one
    await resident.send("/evaluations", expect="支部书记")
    await open_in_chat(secretary)
    await hs.wait_polls(35)
    [evaluation] = await rows(world, schema.evaluations)
    eid = evaluation["id"]
    # Another branch's secretary, and a member, cannot close it (a forged or stale button).
    other = world.human("吴静")
    await other.send(f"/start {world.invites['吴静']}", expect="吴静")
    assert "不能管理" in await other.tap_forged(f"ev:cly:{eid}")
    assert "支部书记" in await member.tap_forged(f"ev:cly:{eid}")
    assert "不能管理" in await other.tap_forged(f"ev:nv:{eid}")
    # The committee above may see and close it; a second tap finds it closed.
    committee = world.people["刘晓燕"]
    await committee.send("/evaluations", expect="群众评议（点一项查看）")
    await committee.tap("黄思村党总支", expect="投票：0 / 35 人")
    await committee.tap("提前结束", expect="确定现在结束")
    await committee.tap("确认结束并计票", expect="已结束并计票")
    assert "已经结束" in await committee.tap_forged(f"ev:cly:{eid}")
    void = await secretary.receive("评议无效")
    assert "0 / 35" in void.content
