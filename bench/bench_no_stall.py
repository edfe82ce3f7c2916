"""No stall: a member's /help while the district's big jobs run at once (issue 15).

    python -m bench.bench_no_stall             # the district, 40,000 recipients, 120 pings
    python -m bench.bench_no_stall --quick     # the same jobs, 60 pings

The database is the district of seed 004 (bench/district.py: 1,376 branches, 37,199 members,
45,936 items, everyone bound) with 40,000 more bound members in 黄思村's place (the first
branch) for the broadcast. The simulator (bench/sim_server.py) runs in its own process with
Telegram's limits; the bot is the real Application in this process (its periodic jobs taken
off, so that the first tick runs when the benchmark says). Members of the district send
/help every 1.5 s; the simulator times each one from its arrival to the bot's answer on its
own clock. A task in the bot's event loop samples the loop's lag (how late a 20 ms sleep
wakes).

Two phases in the same run, the same bot:

* baseline: the pings with nothing else running;
* load: the pings while, all at once, the first district reminder tick (quiet hours off),
  a 40,000-recipient broadcast being queued (/broadcast's service), the district's /stats
  charts (read, then drawn) and the district's statistics export (read, then built) run;
  the outbox sends what they queue at Telegram's limit meanwhile.

Targets (the issue): under load, /help p99 < 100 ms and max < 250 ms; the loop's lag max
< 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import delete, func, insert, select

from bench.actors import actor_for
from bench.bench_broadcast import FIRST_USER, SECRETARY_TG, TOKEN, start_simulator
from bench.bench_responsive import PINGERS, LagSampler, p99, pings
from bench.district import DISTRICT_CLERK_TG, build_district
from bench.report import Figure, Target, emit
from bot.app import ALLOWED_UPDATES, build_application, on_shutdown, on_start, on_stop
from bot.domain.broadcast import Audience, AudienceKind, BroadcastService, Notice
from bot.domain.clock import SystemClock
from bot.domain.exports import ExportKind, ExportService
from bot.domain.stats import StatsService, render
from bot.outbox import SendLimits
from config.settings import Settings
from storage import schema
from storage.accounts import TELEGRAM, insert_people
from storage.db import Database

BENCH = "no stall"
TZ = ZoneInfo("Asia/Shanghai")
RECIPIENTS = 40_000


async def seed(url: str, recipients: int) -> None:
    """The district; its first branch's secretary (SECRETARY_TG) with ``recipients`` more
    bound members; a district clerk; three members of other branches as the pingers."""
    await build_district(url, datetime.now(TZ).date())
    db = Database(url)
    now = datetime.now(UTC)
    try:
        async with db.uow() as uow:
            conn = uow.orgs.conn
            p = schema.people.c
            branch = (
                await conn.execute(
                    select(p.org_id).where(p.role == "secretary").order_by(p.id).limit(1)
                )
            ).scalar_one()
            secretary = (
                await conn.execute(
                    select(p.id).where(p.org_id == branch, p.role == "secretary").limit(1)
                )
            ).scalar_one()
            accounts = {secretary: SECRETARY_TG}
            pingers = (
                (
                    await conn.execute(
                        select(p.id)
                        .where(p.org_id != branch, p.role == "member")
                        .order_by(p.id.desc())
                        .limit(len(PINGERS))
                    )
                )
                .scalars()
                .all()
            )
            accounts.update(zip(pingers, PINGERS, strict=True))
            last = (await conn.execute(select(func.max(p.id)))).scalar_one()
            row = {
                "org_id": 1,
                "role": "committee",
                "phone": "13800000000",
                "cadre": False,
                "oral": False,
                "locale": "zh_CN",
                "is_admin": False,
                "created_at": now,
                "updated_at": now,
            }
            await conn.execute(
                insert(schema.people).values(id=last + 1, name="区委工作人员", **row)
            )
            accounts[last + 1] = DISTRICT_CLERK_TG
            await conn.execute(  # the district gave them accounts of its own
                delete(schema.accounts).where(schema.accounts.c.person_id.in_(list(accounts)))
            )
            await uow.accounts.bind_many(
                TELEGRAM, {pid: str(tg) for pid, tg in accounts.items()}, now
            )
            await insert_people(
                uow,
                [
                    {
                        **row,
                        "name": f"党员{n:05d}",
                        "org_id": branch,
                        "role": "member",
                        "phone": f"136{n:08d}",
                        "tg_user_id": FIRST_USER + n,
                    }
                    for n in range(recipients)
                ],
                now,
            )
    finally:
        await db.dispose()


async def big_jobs(db: Database, services: object, recipients: int) -> dict[str, float]:
    """The four jobs at once; each one's seconds."""
    clock = SystemClock()
    took: dict[str, float] = {}

    async def timed(name: str, job: object) -> None:
        started = time.perf_counter()
        await job  # type: ignore[misc]
        took[name] = time.perf_counter() - started

    async def chart() -> None:
        figures = await StatsService(db, clock).figures(await actor_for(db, DISTRICT_CLERK_TG))
        await asyncio.to_thread(render, "zh_CN", figures, 90.0)  # type: ignore[arg-type]

    async def broadcast() -> None:
        sent = await BroadcastService(db, clock).send(
            await actor_for(db, SECRETARY_TG),
            Notice("全体党员：本周六上午九点在村部集中学习，请准时参加。"),
            Audience(AudienceKind.MEMBERS),
        )
        assert sent.reachable >= recipients, sent

    reminders = services.reminders  # type: ignore[attr-defined]
    exports = ExportService(db, clock)
    await asyncio.gather(
        timed("first district tick", reminders.tick()),
        timed(f"{recipients:,}-recipient broadcast queued", broadcast()),
        timed("district /stats charts", chart()),
        timed(
            "district export",
            exports.export_for_operator(ExportKind.STATS, "D", None, "zh_CN"),
        ),
    )
    services.outbox.wake()  # type: ignore[attr-defined]
    return took


async def measure(recipients: int, count: int) -> list[Figure]:
    sim = await start_simulator(recipients, "telegram")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            started = time.perf_counter()
            await seed(url, recipients)
            print(
                f"district and {recipients:,} members built in "
                f"{time.perf_counter() - started:.0f} s"
            )
            async with httpx.AsyncClient() as client:
                await client.post(f"http://127.0.0.1:{sim.port}/bench/users", json=PINGERS)
            settings = Settings(
                bot_api_url=sim.api,
                database_url=url,
                ballot_key_path=Path(tmp) / "ballot.key",
                bot_username="jiannuo_bot",
                quiet_hours="00:00-00:00",  # the tick does its work whatever the hour
            )
            app = build_application(settings, token=TOKEN, limits=SendLimits())
            assert app.job_queue is not None
            for job in app.job_queue.jobs():  # the first tick runs when the load phase says
                job.schedule_removal()
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
                await asyncio.sleep(2.0)
                lag.start()
                idle = await pings(sim, count // 2, "/help")
                idle_lag = await lag.stop()

                lag.start()
                pinging = asyncio.create_task(pings(sim, count, "/help"))
                await asyncio.sleep(1.0)
                took = await big_jobs(services.db, services, recipients)
                loaded = await pinging
                loaded_lag = await lag.stop()
            finally:
                await app.updater.stop()
                await app.stop()
                await on_stop(app)
                await app.shutdown()
                await on_shutdown(app)
    finally:
        await sim.close()

    ms = 1000.0
    jobs = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in took.items())
    print(
        f"idle: {len(idle)} pings, p50 {ms * statistics.median(idle):.0f} ms, p99 "
        f"{ms * p99(idle):.0f} ms, max {ms * max(idle):.0f} ms; "
        f"lag max {ms * max(idle_lag):.1f} ms"
    )
    print(
        f"load: {len(loaded)} pings, p50 {ms * statistics.median(loaded):.0f} ms, p99 "
        f"{ms * p99(loaded):.0f} ms, max {ms * max(loaded):.0f} ms; lag p99 "
        f"{ms * p99(loaded_lag):.1f} ms, max {ms * max(loaded_lag):.1f} ms; {jobs}"
    )
    return [
        Figure(
            BENCH,
            "/help p99 while the big jobs run",
            ms * p99(loaded),
            "ms",
            ms * p99(idle),
            "same, nothing running",
            Target("value", "<", 100),
            note=f"{len(loaded)} pings, p50 {ms * statistics.median(loaded):.0f} ms",
        ),
        Figure(
            BENCH,
            "/help max while the big jobs run",
            ms * max(loaded),
            "ms",
            ms * max(idle),
            "same, nothing running",
            Target("value", "<", 250),
            note=jobs,
        ),
        Figure(
            BENCH,
            "event-loop lag max while the big jobs run",
            ms * max(loaded_lag),
            "ms",
            ms * max(idle_lag),
            "same, nothing running",
            Target("value", "<", 50),
            note=f"p99 {ms * p99(loaded_lag):.1f} ms",
        ),
    ]


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=RECIPIENTS)
    parser.add_argument("--pings", type=int, default=120)
    parser.add_argument("--quick", action="store_true", help="60 pings")
    args = parser.parse_args()
    count = 60 if args.quick else args.pings
    emit(asyncio.run(measure(args.recipients, count)))


if __name__ == "__main__":
    main()
