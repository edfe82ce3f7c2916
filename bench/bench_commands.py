"""Command latency and throughput: a busy evening of commands, texts and taps.

    python -m bench.bench_commands                 # 3,000 updates, 250 people at once, 1 round
    python -m bench.bench_commands --quick         # 1,000 updates, 1 round
    python -m bench.bench_commands --updates 6000 --rounds 3 --people 400

The simulator and its closed-loop driver run in a child process (bench/command_server.py), so
the bot has a core of its own. Set-up (not measured): 50 branches of 20 bound members (1,000
people), each member with a published pledge of 1–2 items, written with bulk inserts.

Each round runs two bots back to back against the same simulator and driver, each after a
short warm-up (not counted):

* baseline: a bare PTB echo bot — a MessageHandler sending the text back, a
  CallbackQueryHandler answering the query and sending its data back (the same requests per
  update as the bot's answers);
* the bot: the real Application of ``bot.app.build_application`` (guard, update journal,
  persistence, every feature's handlers, the outbox running).

``--people`` simulated members act at once, each running a busy evening over and over
(/mypledges, /board, /progress, tap an item, write what was done, tap 完成), sending the next
update once the bot answered the previous one, until ``--updates`` updates were sent. Every
update must be answered (none lost) and the bot's answers must be the expected ones.

Figures: updates/s of the bot vs the echo bot (target: ratio ≥ 0.6, best round of each), and
the bot's p50/p99 latency from an update's arrival at the simulator to the bot's answer
(the echo bot's in the same round as baseline), overall and per kind of update.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bench.child import Child, quantile
from bench.child import cpu_seconds as cpu
from bench.report import Figure, Target, emit
from bot.app import ALLOWED_UPDATES, build_application, on_shutdown, on_start, on_stop
from bot.outbox import SendLimits
from config.settings import Settings
from storage import schema as s
from storage.accounts import telegram_accounts, without_telegram
from storage.db import Database

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:BENCH"
BENCH = "commands"
FIRST_USER = 700_000
BRANCHES = 50
MEMBERS_PER_BRANCH = 20  # the district's branches have 27 members on average
STEADY_AFTER = 2.0  # seconds after start before anything is sent (the jobs' first runs)
WARM_UP = 120  # updates before each measured run, not counted
CATEGORIES = ["study", "excellence", "serve", "discipline", "integrity"]
KINDS = ("mypledges", "board", "progress", "text", "tap")
# In the first line of the bot's answer to each kind of update (zh_CN), as the script expects.
EXPECTED = {
    "mypledges": "我的承诺",
    "board": "公开承诺（共",
    "progress": "请选择要记录进展的承诺事项",
    "text": "已记下",
    "tap": "",  # the item's "承诺事项：…" or "✅ 已保存…": either, checked below
}
TAP_ANSWERS = ("承诺事项：", "✅ 已保存")


# ---- the simulator process -------------------------------------------------------------------


class Server(Child):
    """The simulator child process (bench/command_server.py)."""

    async def run(
        self, users: list[int], updates: int, target: str, seed: int, limit: float = 300
    ) -> dict[str, Any]:
        """Drive a busy evening; the driver's records once it is over."""
        body = {"users": users, "updates": updates, "target": target, "seed": seed}
        result: dict[str, Any] = await self.post(
            "/bench/run", {**body, "limit": limit}, timeout=limit + 30
        )
        return result


async def start_server(users: int) -> Server:
    return await Server.start(
        "bench.command_server", "--users", str(users), "--first-user", str(FIRST_USER)
    )


# ---- the data ---------------------------------------------------------------------------------


def settings_for(server: Server, tmp: Path) -> Settings:
    return Settings(
        bot_api_url=server.api,
        database_url=f"sqlite+aiosqlite:///{tmp / 'commands.db'}",
        ballot_key_path=tmp / "ballot.key",
        # Production's outbox poll (0.5 s); the ticks out of the way of the measured runs.
        evaluation_tick_seconds=3600.0,
        reminder_tick_seconds=3600.0,
        bot_username="jiannuo_bot",
    )


async def seed(url: str) -> list[int]:
    """Branches of bound members, each with a published pledge; the members' Telegram ids."""
    rng = random.Random(2026)
    db = Database(url)
    try:
        await db.migrate()
        now = datetime.now(UTC)
        today = now.date()
        orgs: list[dict[str, Any]] = [
            {"id": 1, "code": "D", "name": "区委", "type": "committee", "parent_id": None}
        ]
        people: list[dict[str, Any]] = []
        pledges: list[dict[str, Any]] = []
        items: list[dict[str, Any]] = []
        members: list[int] = []
        for b in range(BRANCHES):
            oid = 100 + b
            org_name = f"第{b + 1}社区党支部"
            orgs.append(
                {"id": oid, "code": f"B{b}", "name": org_name, "type": "community", "parent_id": 1}
            )
            people.append(_person(len(people) + 1, oid, "secretary", None, now))
            for _ in range(MEMBERS_PER_BRANCH):
                pid = len(people) + 1
                tg = FIRST_USER + len(members)
                members.append(tg)
                people.append(_person(pid, oid, "member", tg, now))
                pledge_id = len(pledges) + 1
                number = f"B{b}-{today.year}-{pledge_id:06d}"
                mine = []
                for position in range(1, rng.choice((1, 1, 2)) + 1):
                    deadline = today + timedelta(days=rng.randrange(60, 240))
                    item: dict[str, Any] = {
                        "id": len(items) + 1,
                        "pledge_id": pledge_id,
                        "position": position,
                        "category": rng.choice(CATEGORIES),
                        "content": f"每月参加一次社区志愿服务，帮助孤寡老人（{len(items) + 1}）",
                        "target": "全年不少于12次",
                        "deadline": deadline,
                        "responsible": "本人",
                    }
                    items.append(item)
                    mine.append({**item, "deadline": deadline.isoformat()})
                pledges.append(
                    {
                        "id": pledge_id,
                        "number": number,
                        "pledger_kind": "member",
                        "person_id": pid,
                        "org_id": oid,
                        "drafter_id": pid,
                        "horizon": "annual",
                        "status": "published",
                        "is_oral": False,
                        "version": 2,
                        "published_snapshot": {
                            "number": number,
                            "pledger_name": people[-1]["name"],
                            "org_name": org_name,
                            "horizon": "annual",
                            "is_oral": False,
                            "amended": False,
                            "items": [
                                {k: v for k, v in i.items() if k not in ("pledge_id", "position")}
                                for i in mine
                            ],
                            "published_at": now.isoformat(),
                        },
                        "created_at": now,
                        "updated_at": now,
                        "published_at": now,
                    }
                )
        async with db.engine.begin() as conn:
            for table, rows in (
                (s.orgs, orgs),
                (s.people, without_telegram(people)),
                (s.accounts, telegram_accounts(people)),
                (s.pledges, pledges),
                (s.pledge_items, items),
            ):
                await conn.execute(insert(table), rows)
        return members
    finally:
        await db.dispose()


def _person(pid: int, oid: int, role: str, tg: int | None, now: datetime) -> dict[str, Any]:
    return {
        "id": pid,
        "name": f"党员{pid:04d}",
        "org_id": oid,
        "role": role,
        "phone": f"139{pid:08d}",
        "cadre": pid % 5 == 0,
        "oral": False,
        "tg_user_id": tg,
        "locale": "zh_CN",
        "is_admin": False,
        "created_at": now,
        "updated_at": now,
    }


async def entries(url: str) -> int:
    """Progress entries written so far."""
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            query = select(func.count()).select_from(s.progress_entries)
            return int((await conn.execute(query)).scalar_one())
    finally:
        await db.dispose()


# ---- the two bots -----------------------------------------------------------------------------


@dataclass
class Outcome:
    """One measured run."""

    updates: int
    seconds: float  # first arrival to the last update done
    latencies: dict[str, list[float]]  # kind -> seconds from arrival to answer
    raw: dict[str, Any]
    cpu: float = 0.0  # CPU seconds of this process (every thread) during the run

    @property
    def cpu_per_update(self) -> float:
        return self.cpu / self.updates

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    def all_latencies(self) -> list[float]:
        return [x for values in self.latencies.values() for x in values]


def outcome(raw: dict[str, Any]) -> Outcome:
    records = raw["records"]
    if not records:
        raise RuntimeError(f"nothing was answered: {raw}")
    first = min(r[1] for r in records)
    last = max(r[3] for r in records)
    latencies: dict[str, list[float]] = {}
    for kind, arrival, answer, _ in records:
        latencies.setdefault(kind, []).append(answer - arrival)
    return Outcome(len(records), last - first, latencies, raw)


async def drive(
    server: Server, people: list[int], updates: int, target: str, seed: int
) -> Outcome:
    """A warm-up, then the measured run."""
    await server.run(people[:20], WARM_UP, target, seed)
    c0 = cpu()
    raw = await server.run(people, updates, target, seed + 1)
    out = outcome(raw)
    out.cpu = cpu() - c0
    return out


async def run_echo(server: Server, people: list[int], updates: int, seed: int) -> Outcome:
    """A bare PTB echo bot: text back for a message, answer + data back for a tap."""

    async def echo(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.text is not None
        await message.reply_text(message.text)

    async def tapped(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer()
        await query.message.chat.send_message(query.data or "")

    app: Application[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder().token(TOKEN).base_url(server.api).build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.add_handler(CallbackQueryHandler(tapped))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    try:
        await app.updater.start_polling(
            poll_interval=0.0, timeout=10, allowed_updates=ALLOWED_UPDATES
        )
        await asyncio.sleep(STEADY_AFTER)  # the same wait as the bot's
        return await drive(server, people, updates, "echo", seed)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def run_bot(
    settings: Settings, server: Server, people: list[int], updates: int, seed: int
) -> Outcome:
    """The real bot."""
    app = build_application(settings, token=TOKEN, limits=SendLimits.off())
    await app.initialize()
    await on_start(app)
    await app.start()
    assert app.updater is not None
    try:
        await app.updater.start_polling(
            poll_interval=0.0, timeout=10, allowed_updates=ALLOWED_UPDATES
        )
        await asyncio.sleep(STEADY_AFTER)  # the jobs' first runs are over
        return await drive(server, people, updates, "bot", seed)
    finally:
        await app.updater.stop()
        await app.stop()
        await on_stop(app)
        await app.shutdown()
        await on_shutdown(app)


# ---- checks and figures -----------------------------------------------------------------------


def check(out: Outcome, what: str, expected_updates: int) -> None:
    """Every update answered, once, as the script expects."""
    raw = out.raw
    problems = []
    if raw["lost"] or out.updates != expected_updates:
        problems.append(f"{raw['lost']} updates never answered {raw['lost_kinds']}")
    if raw["unexpected"]:
        problems.append(f"{raw['unexpected']} answers nobody waited for")
    if raw["broken"]:
        problems.append(f"{raw['broken']} taps without the button to tap")
    if what == "bot":
        for line, n in raw["answers"].items():
            kind, _, first = line.partition(": ")
            want = EXPECTED.get(kind, "")
            if (kind == "tap" and not first.startswith(TAP_ANSWERS)) or want not in first:
                problems.append(f"{n}× {kind} answered {first!r}")
    if problems:
        raise AssertionError(f"{what}: " + "; ".join(problems))


def ms(x: float) -> float:
    return round(1000 * x, 1)


def figures(echo: list[Outcome], bot: list[Outcome], people: int) -> list[Figure]:
    best_echo = max(echo, key=lambda o: o.rate)
    best_bot = max(bot, key=lambda o: o.rate)
    paired = sorted(b.rate / e.rate for e, b in zip(echo, bot, strict=True))
    out = [
        Figure(
            BENCH,
            "updates/s",
            round(best_bot.rate, 1),
            "/s",
            baseline=round(best_echo.rate, 1),
            baseline_what="bare PTB echo bot",
            target=Target("ratio", ">=", 0.6),
            note=(
                f"{best_bot.updates:,} updates, {people} people at once, best of "
                f"{len(bot)}; paired ratios {', '.join(f'{r:.2f}' for r in paired)}"
            ),
        )
    ]
    # Latency: the best round's run (the one whose rate is reported) against the echo
    # bot's run of the same round.
    echo_same = echo[bot.index(best_bot)]
    for q, name in ((0.5, "p50"), (0.99, "p99")):
        out.append(
            Figure(
                BENCH,
                f"{name} latency, arrival to answer",
                ms(quantile(best_bot.all_latencies(), q)),
                "ms",
                baseline=ms(quantile(echo_same.all_latencies(), q)),
                baseline_what="echo bot, same round",
            )
        )
    for kind in KINDS:
        values = best_bot.latencies.get(kind)
        if values:
            out.append(
                Figure(
                    BENCH,
                    f"p99 latency, {kind}",
                    ms(quantile(values, 0.99)),
                    "ms",
                    baseline=ms(quantile(echo_same.latencies.get(kind, values), 0.99)),
                    baseline_what="echo bot",
                    note=f"{len(values):,} updates, p50 {ms(statistics.median(values))} ms",
                )
            )
    return out


async def main_async(updates: int, rounds: int, people: int) -> None:
    server = await start_server(BRANCHES * MEMBERS_PER_BRANCH)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = settings_for(server, Path(tmp))
            members = await seed(settings.database_url)
            rng = random.Random(7)
            echo: list[Outcome] = []
            bot: list[Outcome] = []
            for n in range(rounds):
                chosen = rng.sample(members, people)
                started = time.perf_counter()
                echo.append(await run_echo(server, chosen, updates, 100 * n))
                check(echo[-1], "echo bot", updates)
                before = await entries(settings.database_url)
                bot.append(await run_bot(settings, server, chosen, updates, 100 * n))
                check(bot[-1], "bot", updates)
                texts = len(bot[-1].latencies.get("text", []))
                written = await entries(settings.database_url) - before
                if written < texts:  # the warm-up writes some too
                    raise AssertionError(f"{texts} progress texts, {written} entries written")
                e, b = echo[-1], bot[-1]
                print(
                    f"round {n + 1}: echo {e.rate:,.0f}/s, bot {b.rate:,.0f}/s "
                    f"(ratio {b.rate / e.rate:.2f}); "
                    f"bot p50 {ms(quantile(b.all_latencies(), 0.5))} ms "
                    f"p99 {ms(quantile(b.all_latencies(), 0.99))} ms; echo p99 "
                    f"{ms(quantile(e.all_latencies(), 0.99))} ms; CPU/update echo "
                    f"{1e6 * e.cpu_per_update:.0f} µs, bot {1e6 * b.cpu_per_update:.0f} µs; "
                    f"all {updates:,} answered "
                    f"({time.perf_counter() - started:.0f} s)",
                    flush=True,
                )
            emit(figures(echo, bot, people))
    finally:
        await server.close()


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--updates", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--people", type=int, default=250, help="members acting at once")
    parser.add_argument("--quick", action="store_true", help="1,000 updates, 1 round")
    args = parser.parse_args()
    if args.quick:
        args.updates, args.rounds = min(args.updates, 1000), 1
    if not 0 < args.people <= BRANCHES * MEMBERS_PER_BRANCH:
        parser.error(f"--people: 1 to {BRANCHES * MEMBERS_PER_BRANCH}")
    asyncio.run(main_async(args.updates, args.rounds, args.people))


if __name__ == "__main__":
    main()
