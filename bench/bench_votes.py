"""Ballot answers: 10,000 poll answers as fast as the simulator delivers them.

    python -m bench.bench_votes                  # 5,000 voters × 2 answers, best of 3 rounds
    python -m bench.bench_votes --rounds 1

The simulator runs in a child process (bench/vote_server.py) so the bot has a core of its own.
Set-up (not measured): 5,000 resident representatives of one branch, an evaluation opened by
the service, its 5,000 ballot polls sent by the outbox and their poll ids recorded.

Each round queues 10,000 answers (every voter votes, then changes or retracts) and measures
from the start of polling until the last one is handled:

* baseline: a bare PTB Application whose only handler takes each poll answer (no database);
* the bot: the real Application (guard, every feature's handlers, the ballot box writing the
  ballots in batched transactions). After each round the ballots in the database must equal
  the ground truth (the last answer of each voter), exactly.

Target: the bot handles ≥ 0.6 of the baseline's rate. Figures and the ratio are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, PollAnswerHandler

from bench.actors import actor_for
from bench.child import Child
from bench.child import cpu_seconds as cpu
from bench.report import Figure, Target, emit
from bot.app import ALLOWED_UPDATES, build_application, on_shutdown, on_start, on_stop
from bot.domain.clock import SystemClock
from bot.domain.evaluation_models import SubjectKind
from bot.domain.roster import load_roster
from bot.domain.roster_import import import_roster
from bot.outbox import SendLimits
from config.settings import Settings
from storage import schema
from storage.accounts import insert_people
from storage.db import Database

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "bot" / "playground" / "demo"
TOKEN = "123456:BENCH"
SECRETARY_TG = 1001
FIRST_USER = 600_000
CHOICES = ("satisfied", "basic", "unsatisfied")
STEADY_AFTER = 2.0  # seconds after start before polling begins (both bots)


class Server(Child):
    """The simulator child process (bench/vote_server.py)."""

    async def vote(self, votes: list[tuple[int, str, int]]) -> None:
        for start in range(0, len(votes), 2000):
            await self.post("/bench/vote", [list(v) for v in votes[start : start + 2000]])


async def start_server(users: int) -> Server:
    return await Server.start(
        "bench.vote_server", "--users", str(users), "--first-user", str(FIRST_USER)
    )


def settings_for(server: Server, tmp: Path) -> Settings:
    return Settings(
        bot_api_url=server.api,
        database_url=f"sqlite+aiosqlite:///{tmp / 'votes.db'}",
        ballot_key_path=tmp / "ballot.key",
        # Production's outbox poll (0.5 s), not the tests' 0.05 s.
        evaluation_tick_seconds=3600.0,
        reminder_tick_seconds=3600.0,
        bot_username="jiannuo_bot",
    )


async def seed(url: str, voters: int) -> int:
    """The demo roster plus ``voters`` bound resident representatives of 黄思村; its org id."""
    db = Database(url)
    try:
        await db.migrate()
        clock = SystemClock()
        await import_roster(db, clock, load_roster(DEMO / "orgs.csv", DEMO / "people.csv"))
        now = datetime.now(UTC)
        async with db.uow() as uow:
            org = await uow.orgs.by_code("XH-HS")
            assert org is not None
            secretary = next(p for p in await uow.people.in_org(org.id, ["secretary"]))
            await uow.people.bind(secretary.id, SECRETARY_TG, "zh_CN")
            await insert_people(
                uow,
                [
                    {
                        "name": f"居民{n:05d}",
                        "org_id": org.id,
                        "role": "resident",
                        "phone": f"139{n:08d}",
                        "tg_user_id": FIRST_USER + n,
                        "phone_confirmed": True,
                        "locale": "zh_CN",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in range(voters)
                ],
                now,
            )
            return org.id
    finally:
        await db.dispose()


async def count(db: Database, table: Any) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def pending(db: Database) -> int:
    """Outbox rows not sent yet."""
    async with db.uow() as uow:
        return (await uow.outbox.counts()).get("pending", 0)


async def until_sent(db: Database, voters: int) -> None:
    """Until every ballot is sent and recorded and nothing else waits in the outbox."""
    for _ in range(3000):
        if await count(db, schema.evaluation_polls) >= voters and not await pending(db):
            return
        await asyncio.sleep(0.2)
    raise TimeoutError("the ballots were not sent")


async def open_evaluation(settings: Settings, org_id: int, voters: int) -> None:
    """The bot opens the evaluation and its outbox sends every ballot (not measured)."""
    app = build_application(settings, token=TOKEN, limits=SendLimits.off())
    await app.initialize()
    await on_start(app)
    await app.start()
    services = app.bot_data.services
    try:
        closes = datetime.now(UTC) + timedelta(days=2)
        secretary = await actor_for(services.db, SECRETARY_TG)
        await services.evaluations.open(secretary, org_id, SubjectKind.BRANCH, closes, 100)
        services.outbox.wake()
        await asyncio.sleep(1.5)  # the reminder tick's first run queues what it queues
        await until_sent(services.db, voters)
    finally:
        await app.stop()
        await on_stop(app)
        await app.shutdown()
        await on_shutdown(app)


def answers(polls: dict[int, str], rng: random.Random) -> tuple[list[Any], dict[int, int]]:
    """Two answers per voter (a vote, then a change or a retraction), interleaved; the truth."""
    first = [(user, poll, rng.choice([0, 0, 1, 2])) for user, poll in polls.items()]
    second = [(user, poll, rng.choice([0, 1, 2, 0, -1])) for user, poll in polls.items()]
    rng.shuffle(first)
    rng.shuffle(second)
    truth = {user: option for user, _, option in second}
    return first + second, truth


async def wait_for(cond: Any, limit: float) -> None:
    deadline = time.perf_counter() + limit
    while not cond():
        if time.perf_counter() > deadline:
            raise TimeoutError("benchmark round did not finish")
        await asyncio.sleep(0.001)


async def run_bare(server: Server, total: int) -> tuple[float, float]:
    """A bare PTB bot taking each poll answer; (seconds, cpu seconds)."""
    handled = 0

    async def take(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        nonlocal handled
        handled += 1

    app: Application[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder().token(TOKEN).base_url(server.api).build()
    )
    app.add_handler(PollAnswerHandler(take))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await asyncio.sleep(STEADY_AFTER)  # the same wait as the bot's
    t0, c0 = time.perf_counter(), cpu()
    await app.updater.start_polling(
        poll_interval=0.0, timeout=1, allowed_updates=[Update.POLL_ANSWER]
    )
    await wait_for(lambda: handled >= total, 300)
    seconds, cpu_seconds = time.perf_counter() - t0, cpu() - c0
    await app.updater.stop()
    await app.stop()
    await app.shutdown()
    return seconds, cpu_seconds


async def run_bot(settings: Settings, total: int) -> tuple[float, float, int]:
    """The real bot; (seconds, cpu seconds, transactions used for the votes)."""
    app = build_application(settings, token=TOKEN, limits=SendLimits.off())
    await app.initialize()
    await on_start(app)
    await app.start()
    svc = app.bot_data.services.evaluations
    assert app.updater is not None
    try:
        # Steady state: the jobs' first runs (1 s after start; then every 30-60 s) are over.
        await asyncio.sleep(STEADY_AFTER)
        t0, c0 = time.perf_counter(), cpu()
        await app.updater.start_polling(
            poll_interval=0.0, timeout=1, allowed_updates=ALLOWED_UPDATES
        )
        await wait_for(lambda: svc.answered >= total, 300)
        seconds, cpu_seconds = time.perf_counter() - t0, cpu() - c0
        batches = svc.batches
    finally:
        await app.updater.stop()
        await app.stop()
        await on_stop(app)
        await app.shutdown()
        await on_shutdown(app)
    return seconds, cpu_seconds, batches


def expected_tally(truth: dict[int, int]) -> Counter[str]:
    """Ballots by choice that the truth (each voter's last answer; -1: retracted) leaves."""
    return Counter(CHOICES[o] for o in truth.values() if o >= 0)


async def tally(url: str) -> tuple[Counter[str], int]:
    """(ballots by choice, participants marked as having voted) in the database."""
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            rows = await conn.execute(
                select(schema.ballots.c.choice, func.count()).group_by(schema.ballots.c.choice)
            )
            got = Counter({str(c): int(n) for c, n in rows})
            voted = (
                await conn.execute(
                    select(func.count()).where(schema.evaluation_participants.c.has_voted)
                )
            ).scalar_one()
        return got, int(voted)
    finally:
        await db.dispose()


async def check(url: str, truth: dict[int, int]) -> None:
    """The ballots equal the truth: the last answer of each voter, exactly."""
    expected = expected_tally(truth)
    got, voted = await tally(url)
    if got != expected or voted != sum(expected.values()):
        raise AssertionError(f"tally {dict(got)} (voted {voted}) != truth {dict(expected)}")


async def main_async(voters: int, rounds: int) -> list[Figure]:
    figures: list[Figure] = []
    server = await start_server(voters)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = settings_for(server, Path(tmp))
            org_id = await seed(settings.database_url, voters)
            await open_evaluation(settings, org_id, voters)
            polls = {int(u): ids[0] for u, ids in (await server.get("/bench/polls")).items()}
            assert len(polls) == voters, len(polls)
            total = 2 * voters
            rng = random.Random(2026)
            bare: list[tuple[float, float]] = []
            bot: list[tuple[float, float, int]] = []
            for n in range(rounds):
                votes, _ = answers(polls, rng)
                await server.vote(votes)
                bare.append(await run_bare(server, total))
                votes, truth = answers(polls, rng)
                await server.vote(votes)
                bot.append(await run_bot(settings, total))
                await check(settings.database_url, truth)
                print(
                    f"round {n + 1}: bare {total / bare[-1][0]:,.0f}/s, "
                    f"bot {total / bot[-1][0]:,.0f}/s, {bot[-1][2]} vote transactions in all; "
                    "tally exact"
                )
            best_bare = min(bare)
            best_bot = min(bot)
            bare_rate = total / best_bare[0]
            bot_rate = total / best_bot[0]
            print(f"\n{total:,} poll answers ({voters:,} voters × 2), best of {rounds}:")
            print(
                f"  bare PTB bot   {bare_rate:8,.0f} answers/s  "
                f"({best_bare[0]:.2f} s, CPU {1e6 * best_bare[1] / total:.0f} µs/answer)"
            )
            print(
                f"  jiannuo        {bot_rate:8,.0f} answers/s  "
                f"({best_bot[0]:.2f} s, CPU {1e6 * best_bot[1] / total:.0f} µs/answer)"
            )
            paired = sorted(b[0] / o[0] for b, o in zip(bare, bot, strict=True))
            print(f"  ratio          {bot_rate / bare_rate:.2f} best of each (target ≥ 0.60)")
            print(
                f"  paired ratios  {', '.join(f'{r:.2f}' for r in paired)} (each round's two runs "
                f"back to back; median {paired[len(paired) // 2]:.2f}); all counted"
            )
            print(f"  CPU ratio      {best_bare[1] / best_bot[1]:.2f} (bare CPU / bot CPU)")
            figures.append(
                Figure(
                    "votes",
                    f"poll answers handled ({voters:,} voters × 2), best of {rounds}",
                    bot_rate,
                    "/s",
                    bare_rate,
                    "bare PTB bot, best",
                    Target("ratio", ">=", 0.6),
                    note="paired " + ", ".join(f"{r:.2f}" for r in paired),
                )
            )
            figures.append(
                Figure(
                    "votes",
                    "rounds whose ballots equal the truth exactly",
                    float(rounds),
                    "",
                    float(rounds),
                    "rounds",
                    Target("ratio", "==", 1.0),
                )
            )
    finally:
        await server.close()
    return figures


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--voters", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="2 rounds")
    args = parser.parse_args()
    emit(asyncio.run(main_async(args.voters, 2 if args.quick else args.rounds)))


if __name__ == "__main__":
    main()
