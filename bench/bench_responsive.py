"""Responsiveness under load: a member's /mypledges while a 20,000-recipient broadcast runs.

    python -m bench.bench_responsive                   # 20,000 recipients, 150 pings
    python -m bench.bench_responsive --quick           # 60 pings

The simulator (bench/sim_server.py) runs in its own process with Telegram's free-tier limits
(30 msg/s overall, about 1/s per chat); the bot is the real Application, in this process, with
its default limits. A member of another branch sends /mypledges every 0.2 s; the simulator
times each one from its arrival in the update queue to the bot's answer in the chat, on its
own clock. A task in the bot's event loop samples the loop's lag (how late a 20 ms sleep
wakes).

Two phases in the same run, the same bot:

* baseline: the pings with nothing else running;
* load: the secretary queues a broadcast to 20,000 members (the notice, its recipients and
  outbox rows in one transaction, as /broadcast does) just after the pings start, and the
  outbox sends it at the limit for the whole phase.

Targets: /mypledges answered within 1 s at p99, the event loop's lag under 100 ms at p99,
both under load; the broadcast keeps ≥ 28 msg/s with no 429 while the member is served.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert

from bench.actors import actor_for
from bench.bench_broadcast import (
    SECRETARY_TG,
    TOKEN,
    Simulator,
    roster_with_members,
    start_simulator,
)
from bench.child import quantile
from bench.report import Figure, Target, emit
from bot.app import ALLOWED_UPDATES, build_application, on_shutdown, on_start, on_stop
from bot.domain.broadcast import Audience, AudienceKind, BroadcastService, Notice
from bot.domain.clock import SystemClock
from bot.outbox import SendLimits
from config.settings import Settings
from storage import schema
from storage.db import Database

DEMO = Path(__file__).resolve().parents[1] / "bot" / "playground" / "demo"
# Members of another branch who ask for /mypledges (not among the broadcast's recipients),
# each once a second (Telegram lets a bot send about one message a second to a chat), staggered.
PINGERS = [499_990 + n for n in range(3)]
INTERVAL = 1.5
LAG_STEP = 0.02
BENCH = "responsive"
ITEMS = [
    ("serve", "为村里独居老人每月上门服务一次"),
    ("study", "每月参加支部主题党日学习"),
    ("excellence", "带头做好垃圾分类宣传"),
]


async def seed(url: str, recipients: int) -> None:
    """The demo roster, ``recipients`` bound members of 黄思村, the pingers with a pledge each."""
    db = Database(url)
    try:
        org = await roster_with_members(db, recipients)
        now = datetime.now(UTC)
        async with db.uow() as uow:
            members = [
                p
                for o in await uow.orgs.all()
                if o.id != org.id
                for p in await uow.people.in_org(o.id, ["member"])
            ][: len(PINGERS)]
            assert len(members) == len(PINGERS)
            for member, tg in zip(members, PINGERS, strict=True):
                await uow.people.bind(member.id, tg, "zh_CN")
            conn = uow.orgs.conn
            for number, member in enumerate(members, start=1):
                pledge = await conn.execute(
                    insert(schema.pledges).values(
                        number=f"P-{now.year}-{number:06d}",
                        pledger_kind="member",
                        person_id=member.id,
                        org_id=member.org_id,
                        drafter_id=member.id,
                        horizon="annual",
                        status="published",
                        is_oral=False,
                        version=2,
                        created_at=now,
                        updated_at=now,
                        published_at=now,
                    )
                )
                key = pledge.inserted_primary_key
                assert key is not None
                await conn.execute(
                    insert(schema.pledge_items),
                    [
                        {
                            "pledge_id": key[0],
                            "position": n,
                            "category": category,
                            "content": content,
                            "target": "每月至少一次，年底前完成",
                            "deadline": date(now.year, 12, 20) - timedelta(days=30 * n),
                            "responsible": "本人",
                        }
                        for n, (category, content) in enumerate(ITEMS, start=1)
                    ],
                )
    finally:
        await db.dispose()


class LagSampler:
    """How late the event loop wakes a short sleep: its lag, sampled every ``LAG_STEP``."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(LAG_STEP)
            self.samples.append(max(0.0, loop.time() - started - LAG_STEP))

    def start(self) -> None:
        self.samples = []
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> list[float]:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        return self.samples


def p99(values: list[float]) -> float:
    return quantile(values, 0.99)


async def pings(sim: Simulator, count: int, text: str = "/mypledges") -> list[float]:
    """About ``count`` ``text`` from the pingers, one each INTERVAL seconds; each one's
    latency in seconds."""
    async with httpx.AsyncClient(timeout=900) as client:
        base = f"http://127.0.0.1:{sim.port}/bench"
        per_user = max(1, count // len(PINGERS))
        body = {"users": PINGERS, "text": text, "count": per_user, "interval": INTERVAL}
        await client.post(f"{base}/ping", json=body)
        # The answer comes when the last ping is answered; the bot's loop is not blocked.
        answer = await client.get(f"{base}/pings")
        return [float(x) for x in answer.json()["latencies"]]


async def measure(recipients: int, count: int) -> list[Figure]:
    sim = await start_simulator(recipients, "telegram")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            await seed(url, recipients)
            async with httpx.AsyncClient() as client:  # the pingers' chats exist from the start
                await client.post(f"http://127.0.0.1:{sim.port}/bench/users", json=PINGERS)
            settings = Settings(
                bot_api_url=sim.api,
                database_url=url,
                ballot_key_path=Path(tmp) / "ballot.key",
                bot_username="jiannuo_bot",
            )
            app = build_application(settings, token=TOKEN, limits=SendLimits())
            await app.initialize()
            await on_start(app)
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(
                poll_interval=0.0, timeout=10, allowed_updates=ALLOWED_UPDATES
            )
            services = app.bot_data.services
            lag = LagSampler()
            try:
                await asyncio.sleep(2.0)  # the jobs' first runs are over
                lag.start()
                idle = await pings(sim, count // 3)
                idle_lag = await lag.stop()

                before = await sim.stats()
                lag.start()
                pinging = asyncio.create_task(pings(sim, count))
                await asyncio.sleep(0.5)
                secretary = await actor_for(services.db, SECRETARY_TG)
                started = time.perf_counter()
                await BroadcastService(services.db, SystemClock()).send(
                    secretary,
                    Notice("全体党员：本周六上午九点在村部集中学习，请准时参加。"),
                    Audience(AudienceKind.MEMBERS),
                )
                queued_ms = (time.perf_counter() - started) * 1000
                services.outbox.wake()
                loaded = await pinging
                loaded_lag = await lag.stop()
                after = await sim.stats()
            finally:
                await app.updater.stop()
                await app.stop()
                await on_stop(app)
                await app.shutdown()
                await on_shutdown(app)
    finally:
        await sim.close()

    sends = after["sends"] - before["sends"]
    window = after["last_send"] - after["first_send"] if sends > 1 else float("nan")
    rate = (after["sends"] - 1) / window if sends > 1 else 0.0
    total_rate = (after["sends_in_window"] - 1) / window if sends > 1 else 0.0
    served_429 = after["served_429"] - before["served_429"]
    print(
        f"idle: {len(idle)} pings, p50 {1000 * statistics.median(idle):.0f} ms, "
        f"p99 {1000 * p99(idle):.0f} ms; lag p99 {1000 * p99(idle_lag):.1f} ms"
    )
    print(
        f"load: {len(loaded)} pings, p50 {1000 * statistics.median(loaded):.0f} ms, "
        f"p99 {1000 * p99(loaded):.0f} ms, max {1000 * max(loaded):.0f} ms; lag p99 "
        f"{1000 * p99(loaded_lag):.1f} ms, max {1000 * max(loaded_lag):.1f} ms; "
        f"broadcast queued in {queued_ms:.0f} ms, {sends:,} sent at {rate:.1f}/s, "
        f"all sends {total_rate:.1f}/s, {served_429} × 429"
    )
    ms = 1000.0
    return [
        Figure(
            BENCH,
            f"/mypledges p99 during a {recipients:,}-recipient broadcast",
            ms * p99(loaded),
            "ms",
            ms * p99(idle),
            "same, no broadcast",
            Target("value", "<", 1000),
            note=f"{len(loaded)} pings, p50 {ms * statistics.median(loaded):.0f} ms",
        ),
        Figure(
            BENCH,
            "event-loop lag p99 during the broadcast",
            ms * p99(loaded_lag),
            "ms",
            ms * p99(idle_lag),
            "same, no broadcast",
            Target("value", "<", 100),
            note=f"max {ms * max(loaded_lag):.0f} ms",
        ),
        Figure(
            BENCH,
            "all sends while serving (broadcast and answers)",
            total_rate,
            "msg/s",
            30.0,
            "Telegram's limit",
            Target("value", ">=", 28),
            note=f"broadcast {rate:.1f}/s, {sends:,} sent; queued in {queued_ms:.0f} ms",
        ),
        Figure(
            BENCH,
            "429s served during the broadcast",
            float(served_429),
            "",
            target=Target("value", "==", 0),
        ),
    ]


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--pings", type=int, default=150)
    parser.add_argument("--quick", action="store_true", help="60 pings")
    args = parser.parse_args()
    count = 60 if args.quick else args.pings
    emit(asyncio.run(measure(args.recipients, count)))


if __name__ == "__main__":
    main()
