"""District-sized data (seed 004 with a year of progress): the bot as it runs in production.

    python -m bench.bench_district [--quick] [--postgres]

``--postgres``: the same on PostgreSQL, in a throwaway cluster (scripts/postgres.sh) on a
Unix socket, instead of a SQLite file (BENCHMARKS.md shows both side by side).

Targets (the issue): reminder tick < 200 ms; ``/ledger`` for a committee < 1 s; process
memory < 200 MB; start-up < 3 s. Every figure has a baseline measured in the same run.

How it runs:

1. ``bench.district --year-of-progress`` builds the district in a child process (37,199
   members, 1,376 branches, 45,936 items, ~220k progress records over the twelve months up
   to today, claims verified and waiting, a bound clerk in every committee). ``today`` is
   the real date in Asia/Shanghai, because the bot runs on the real clock.
2. The reminder tick, measured here while no bot runs, on the same database file: the first
   tick (it queues the year's backlog of deadline reminders; no target) and then the steady
   tick, against the bare SQL scan of the due items (as bench_reminder_tick). The backlog's
   outbox rows are then marked sent: a bot restarted mid-year has sent its reminders long
   ago, and draining 40k messages is bench_broadcast's subject, not this one's.
3. The simulator runs in this process (Telegram's rate limits on); the bot runs as its own
   process, ``python -m bot.cli run`` with JIANNUO_* settings, exactly as in production.
   The baseline process is a bare PTB echo bot (``bench.echo_bot``) against the same
   simulator. Start-up: from spawning the process to its first answer, to a message that
   waited for it (the clerk's /help; for the echo bot, a text). Both are started
   ``STARTS`` times, alternating; the median is reported.
4. In the last bot process: its own reminder tick (PTB's job queue runs it one second after
   start; quiet hours are switched off for it so the tick does its work whatever the hour
   of the run), then rounds of /help and /ledger from the district committee's clerk and a
   township committee's clerk, timed from the update's arrival (the long poll is waiting, so
   queueing it is its arrival) to the answer (the whole first page). The baseline is the
   same clerk's /help in the same process. Then a branch button of the district ledger,
   /stats (charts) and /review, and the process's peak resident memory (VmHWM) is read from
   /proc, against the echo bot's VmHWM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy import text, update

from bench.district import DISTRICT_CLERK_TG, TOWNSHIP_CLERK_TG
from bench.report import Figure, Target, emit
from bot.domain.campaign_calendar import load_calendar
from bot.domain.clock import FakeClock
from bot.domain.reminders import QuietHours, ReminderService
from bot.playground.sim_state import RateLimits, SimTimeout
from bot.playground.simulator import BotApiSimulator, SimMessage
from storage import schema as s
from storage.db import Database

ROOT = Path(__file__).resolve().parents[1]
TZ = ZoneInfo("Asia/Shanghai")
TOKEN = "123456:BENCH"
BENCH = "district"
ECHO_USER = 7_000_001
TOWNSHIP_CLERK = TOWNSHIP_CLERK_TG + 3  # the clerk of township committee 3 (56 branches)
NEVER_QUIET = QuietHours(clock_time(0, 0), clock_time(0, 0))  # an empty span
TARGET_STARTUP_S = 3.0
TARGET_MEMORY_MB = 200.0
TARGET_LEDGER_MS = 1000.0
TARGET_TICK_MS = 200.0
CHAT_GAP_S = 1.05  # between two requests in one private chat: Telegram's ~1 msg/s per chat
ANSWER_TIMEOUT_S = 60.0


@dataclass
class Plan:
    """How many repetitions: the full run, or ``--quick`` (same data, fewer repetitions)."""

    starts: int  # start-ups of each process
    rounds: int  # rounds of /help and /ledger per clerk
    ticks: int  # steady ticks (and baseline scans)

    @classmethod
    def of(cls, quick: bool) -> Plan:
        return cls(starts=1, rounds=3, ticks=5) if quick else cls(starts=3, rounds=7, ticks=9)


@dataclass
class Seen:
    """What the run measured (seconds, megabytes)."""

    scan: list[float] = field(default_factory=list)
    first_tick: float = 0.0
    first_tick_queued: int = 0
    due: int = 0
    ticks: list[float] = field(default_factory=list)
    echo_start: list[float] = field(default_factory=list)
    bot_start: list[float] = field(default_factory=list)
    echo_hwm: float = 0.0
    bot_hwm: float = 0.0
    bot_rss: float = 0.0
    help_rt: list[float] = field(default_factory=list)
    ledger_district: list[float] = field(default_factory=list)
    ledger_township: list[float] = field(default_factory=list)
    extras: dict[str, float] = field(default_factory=dict)
    stages: list[tuple[str, float]] = field(default_factory=list)  # (after what, VmHWM MB)
    unasked_sends: int = 0
    bot_tick: float | None = None  # the bot's own first tick, from its log (job start to end)


# ---- the reminder tick (no bot running) ----------------------------------------------------


async def measure_ticks(url: str, now: datetime, plan: Plan, seen: Seen) -> None:
    """Baseline scans, the first tick (backlog), steady ticks; then the backlog counts sent."""
    db = Database(url)
    clock = FakeClock(now)
    service = ReminderService(db, clock, load_calendar(), NEVER_QUIET)
    today = now.date()
    for _ in range(plan.ticks):
        started = time.perf_counter()
        async with db.engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT id, deadline FROM pledge_items WHERE deadline <= :d"),
                {"d": today + timedelta(days=7)},
            )
            seen.due = len(rows.all())
        seen.scan.append(time.perf_counter() - started)
    started = time.perf_counter()
    first = await service.tick()
    seen.first_tick = time.perf_counter() - started
    seen.first_tick_queued = first.total
    for _ in range(plan.ticks):
        clock.advance(timedelta(minutes=1))
        started = time.perf_counter()
        report = await service.tick()
        seen.ticks.append(time.perf_counter() - started)
        assert report.total == 0, "a steady tick must queue nothing new"
    async with db.engine.begin() as conn:  # a bot restarted mid-year sent these long ago
        await conn.execute(
            update(s.outbox)
            .where(s.outbox.c.status == "pending")
            .values(status="sent", sent_at=now, attempts=1)
        )
    await db.dispose()


# ---- processes -----------------------------------------------------------------------------


def _env(sim: BotApiSimulator, url: str, tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "JIANNUO_BOT_TOKEN": TOKEN,
        "JIANNUO_BOT_API_URL": sim.base_url,
        "JIANNUO_DATABASE_URL": url,
        "JIANNUO_BALLOT_KEY_PATH": str(tmp / "ballot.key"),
        "JIANNUO_UPDATE_JOURNAL_DIR": str(tmp / "updates"),
        "JIANNUO_BOT_USERNAME": "jiannuo_bot",
        # Quiet hours off: the bot's own tick scans the district whatever the hour of the run.
        "JIANNUO_QUIET_HOURS": "00:00-00:00",
        "PTB_TIMEDELTA": "true",
    }


async def _spawn(
    module: str, args: list[str], env: dict[str, str], log: Path
) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", module, *args, cwd=ROOT, env=env, stdout=out, stderr=out
        )


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), 30)
    except TimeoutError:
        proc.kill()
        await proc.wait()


def _job_lines(log: Path, offset: int, job: str) -> tuple[str | None, str | None]:
    """The log lines of a job's first run after ``offset``: (started, finished)."""
    with log.open("rb") as f:
        f.seek(offset)
        lines = f.read().decode(errors="replace").splitlines()
    started = next((x for x in lines if f'Running job "{job} (' in x), None)
    finished = next(
        (x for x in lines if f'Job "{job} (' in x and "executed successfully" in x), None
    )
    return started, finished


def _log_time(line: str) -> datetime:
    """A log line's time (the bot's local time; only differences are used)."""
    return datetime.strptime(line[:23] + "+0000", "%Y-%m-%d %H:%M:%S,%f%z")


async def _job_seconds(log: Path, offset: int, job: str) -> float | None:
    """Wait for the job's first run in the bot's log; its duration from the log's times
    (APScheduler logs both ends; the timestamps have milliseconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ANSWER_TIMEOUT_S
    while loop.time() < deadline:
        started, finished = _job_lines(log, offset, job)
        if started and finished:
            at = [_log_time(x) for x in (started, finished)]
            return (at[1] - at[0]).total_seconds()
        await asyncio.sleep(0.1)
    return None


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


def _memory_mb(pid: int) -> tuple[float, float]:
    """(VmHWM, VmRSS) of a live process, in MB."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            fields[name] = int(rest.split()[0]) / 1024  # kB
    return fields["VmHWM"], fields["VmRSS"]


async def _answer(
    sim: BotApiSimulator, chat: int, after: int, proc: asyncio.subprocess.Process, log: Path
) -> SimMessage:
    """The bot's next new message in ``chat``; fails early if the process died."""
    waiter = asyncio.ensure_future(
        sim.wait_bot_message(chat, after=after, timeout=ANSWER_TIMEOUT_S)
    )
    died = asyncio.ensure_future(proc.wait())
    done, _ = await asyncio.wait({waiter, died}, return_when=asyncio.FIRST_COMPLETED)
    if waiter not in done:
        waiter.cancel()
        tail = _tail(log)
        raise RuntimeError(f"the process exited ({proc.returncode}) before answering:\n{tail}")
    died.cancel()
    return waiter.result()


async def start_and_answer(
    sim: BotApiSimulator,
    module: str,
    args: list[str],
    env: dict[str, str],
    log: Path,
    chat: int,
    message: str,
) -> tuple[asyncio.subprocess.Process, float]:
    """Queue ``message`` from ``chat``, spawn the process, time it to its first answer."""
    after = sim.state.last_message_id(chat)
    sim.send_text(chat, message)
    started = time.perf_counter()
    proc = await _spawn(module, args, env, log)
    try:
        await _answer(sim, chat, after, proc, log)
    except BaseException:
        await _stop(proc)
        raise
    return proc, time.perf_counter() - started


class Conversation:
    """A person's requests in their private chat, timed from arrival to the bot's answer."""

    def __init__(
        self, sim: BotApiSimulator, user: int, proc: asyncio.subprocess.Process, log: Path
    ) -> None:
        self.sim, self.user, self.proc, self.log = sim, user, proc, log
        self.last = 0.0

    async def _pace(self) -> None:
        wait = self.last + CHAT_GAP_S - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)

    async def ask(self, command: str) -> tuple[float, SimMessage]:
        """Send a command; the time to the bot's first new message in the chat."""
        await self._pace()
        after = self.sim.state.last_message_id(self.user)
        self.sim.send_text(self.user, command)
        started = time.perf_counter()
        message = await _answer(self.sim, self.user, after, self.proc, self.log)
        self.last = time.perf_counter()
        return self.last - started, message

    async def ask_all(self, command: str, quiet: float = 1.5) -> tuple[float, int]:
        """Send a command that may answer with several messages (charts): the time until the
        last of them, taken as settled once ``quiet`` seconds pass without another."""
        elapsed, _ = await self.ask(command)
        count = 1
        while True:
            mark = self.sim.state.last_message_id(self.user)
            try:
                await self.sim.wait_bot_message(self.user, after=mark, timeout=quiet)
            except SimTimeout:  # nothing more: settled
                break
            count += 1
            elapsed = time.perf_counter() - (self.last - elapsed)
        self.last = time.perf_counter()
        return elapsed, count

    async def tap(self, message: SimMessage, data_prefix: str) -> float:
        """Tap the first button whose callback data starts so; the time until the message is
        edited."""
        await self._pace()
        button = next(
            b for b in message.iter_buttons() if (b.callback_data or "").startswith(data_prefix)
        )
        assert button.callback_data is not None
        before = message.content
        self.sim.tap(self.user, self.user, message.message_id, button.callback_data)
        started = time.perf_counter()
        await self.sim.wait_until(
            lambda: self.sim.message(self.user, message.message_id).content != before,
            timeout=ANSWER_TIMEOUT_S,
        )
        self.last = time.perf_counter()
        return self.last - started


async def measure_processes(url: str, tmp: Path, plan: Plan, seen: Seen) -> None:
    """Start-ups of the echo bot and the bot, then the last bot's answers and memory."""
    sim = BotApiSimulator(token=TOKEN, bot_username="jiannuo_bot", rate_limits=RateLimits())
    sim.add_user(ECHO_USER, "回声")
    sim.add_user(DISTRICT_CLERK_TG, "区委工作人员")
    sim.add_user(TOWNSHIP_CLERK, "镇党委工作人员")
    await sim.start()
    env = _env(sim, url, tmp)
    echo_log, bot_log = tmp / "echo.log", tmp / "bot.log"
    bot: asyncio.subprocess.Process | None = None
    try:
        for n in range(plan.starts):
            log_from = bot_log.stat().st_size if bot_log.exists() else 0
            echo, elapsed = await start_and_answer(
                sim, "bench.echo_bot", [], env, echo_log, ECHO_USER, f"你好 {n}"
            )
            seen.echo_start.append(elapsed)
            seen.echo_hwm = max(seen.echo_hwm, _memory_mb(echo.pid)[0])
            await _stop(echo)
            bot, elapsed = await start_and_answer(
                sim, "bot.cli", ["run"], env, bot_log, DISTRICT_CLERK_TG, "/help"
            )
            seen.bot_start.append(elapsed)
            if n < plan.starts - 1:
                await _stop(bot)
                bot = None
        assert bot is not None
        seen.stages.append(("start-up", _memory_mb(bot.pid)[0]))
        # Its own reminder tick (PTB's job queue runs it a second after start): wait for it.
        seen.bot_tick = await _job_seconds(bot_log, log_from, "reminder-tick")
        seen.stages.append(("its tick", _memory_mb(bot.pid)[0]))
        sends_before = _unasked_sends(sim)
        district = Conversation(sim, DISTRICT_CLERK_TG, bot, bot_log)
        township = Conversation(sim, TOWNSHIP_CLERK, bot, bot_log)
        district.last = township.last = time.perf_counter()
        page: SimMessage | None = None
        for _ in range(plan.rounds):
            elapsed, _ = await district.ask("/help")
            seen.help_rt.append(elapsed)
            elapsed, page = await district.ask("/ledger")
            assert "所辖支部汇总" in page.content, page.content[:200]
            seen.ledger_district.append(elapsed)
            elapsed, _ = await township.ask("/help")
            seen.help_rt.append(elapsed)
            elapsed, message = await township.ask("/ledger")
            assert "所辖支部汇总" in message.content, message.content[:200]
            seen.ledger_township.append(elapsed)
        assert page is not None
        seen.stages.append(("/ledger rounds", _memory_mb(bot.pid)[0]))
        # A few other commands a committee clerk uses, for the memory figure.
        seen.extras["ledger branch button"] = await district.tap(page, "ld:b:")
        seen.extras["/stats (district)"], charts = await district.ask_all("/stats")
        seen.stages.append(("/stats", _memory_mb(bot.pid)[0]))
        seen.extras["/review"], _ = await district.ask("/review")
        seen.extras["/ranking"], _ = await township.ask("/ranking")
        seen.extras["stats messages"] = charts
        seen.bot_hwm, seen.bot_rss = _memory_mb(bot.pid)
        seen.unasked_sends = _unasked_sends(sim) - sends_before
    finally:
        if bot is not None:
            await _stop(bot)
        await sim.stop()


def _unasked_sends(sim: BotApiSimulator) -> int:
    """Sends to chats other than the clerks' (reminders the bot's own tick queued)."""
    asked = {DISTRICT_CLERK_TG, TOWNSHIP_CLERK, ECHO_USER}
    return sum(
        1
        for r in sim.request_log
        if r.method.lower() in ("sendmessage", "sendphoto", "senddocument")
        and r.chat_id not in asked
    )


# ---- the report ----------------------------------------------------------------------------


def figures(seen: Seen, plan: Plan, bench: str = BENCH) -> list[Figure]:
    """The figures of the run, with their baselines and targets."""
    ms = 1000.0
    med = statistics.median
    help_ms = med(seen.help_rt) * ms
    help_what = "the same clerk's /help, same bot process"
    in_bot = (
        "the bot's own tick job at its start: "
        + ("?" if seen.bot_tick is None else f"{seen.bot_tick * ms:.0f} ms")
        + " (log times; with the board refresh, beside the evaluation tick)"
    )
    return [
        Figure(
            bench,
            f"start-up: spawn to first answer (median of {plan.starts})",
            med(seen.bot_start),
            "s",
            med(seen.echo_start),
            "bare PTB echo bot process",
            Target("value", "<", TARGET_STARTUP_S),
            note=f"max {max(seen.bot_start):.2f} s",
        ),
        Figure(
            bench,
            "bot process peak memory (VmHWM) after start, tick, /ledger, /stats …",
            seen.bot_hwm,
            "MB",
            seen.echo_hwm,
            "bare PTB echo bot VmHWM",
            Target("value", "<", TARGET_MEMORY_MB),
            note=f"RSS at the end {seen.bot_rss:.0f} MB",
        ),
        Figure(
            bench,
            f"/ledger district committee, arrival to answer (median of {plan.rounds})",
            med(seen.ledger_district) * ms,
            "ms",
            help_ms,
            help_what,
            Target("value", "<", TARGET_LEDGER_MS),
        ),
        Figure(
            bench,
            "/ledger district committee, max (the first is cold)",
            max(seen.ledger_district) * ms,
            "ms",
            max(seen.help_rt) * ms,
            "max of /help",
            Target("value", "<", TARGET_LEDGER_MS),
        ),
        Figure(
            bench,
            f"/ledger township committee (median of {plan.rounds})",
            med(seen.ledger_township) * ms,
            "ms",
            help_ms,
            help_what,
            Target("value", "<", TARGET_LEDGER_MS),
            note=f"max {max(seen.ledger_township) * ms:.0f} ms",
        ),
        Figure(
            bench,
            f"reminder tick, steady (median of {plan.ticks})",
            med(seen.ticks) * ms,
            "ms",
            med(seen.scan) * ms,
            f"bare SQL scan of {seen.due} due items",
            Target("value", "<", TARGET_TICK_MS),
            note=in_bot,
        ),
        Figure(
            bench,
            "reminder tick, steady, max",
            max(seen.ticks) * ms,
            "ms",
            max(seen.scan) * ms,
            "max of the scan",
            Target("value", "<", TARGET_TICK_MS),
        ),
        Figure(
            bench,
            f"reminder tick, first (queues the backlog: {seen.first_tick_queued} messages)",
            seen.first_tick * ms,
            "ms",
            med(seen.scan) * ms,
            "bare SQL scan",
        ),
    ]


@contextlib.contextmanager
def _database(tmp: Path, postgres: bool) -> Iterator[tuple[str, Callable[[], int]]]:
    """The district's database URL and a way to read its size: a SQLite file in ``tmp``, or a
    database in a PostgreSQL cluster started in ``tmp`` for the run (and stopped after)."""
    if not postgres:
        path = tmp / "district.db"
        yield f"sqlite+aiosqlite:///{path}", lambda: path.stat().st_size
        return
    # Its own directory, not one inside ``tmp``: run as root, the cluster belongs to the
    # `postgres` user, who cannot reach into a private temporary directory of root's.
    cluster = Path(tempfile.mkdtemp(prefix="jiannuo-pg."))
    script = str(ROOT / "scripts/postgres.sh")
    server = subprocess.run(
        ["bash", script, "start", str(cluster)], check=True, capture_output=True, text=True
    ).stdout.strip()
    try:
        url = server.replace("/postgres?", "/district?")

        async def admin(statement: str) -> int:
            conn = await asyncpg.connect(server.replace("+asyncpg", ""))
            try:
                return int(await conn.fetchval(statement) or 0)
            finally:
                await conn.close()

        asyncio.run(admin("CREATE DATABASE district"))
        yield url, lambda: asyncio.run(admin("SELECT pg_database_size('district')"))
    finally:
        subprocess.run(["bash", script, "stop", str(cluster)], check=False)


def main() -> None:
    """Build the district, measure the tick here, then the bot in its own process."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (same data)")
    parser.add_argument(
        "--postgres", action="store_true", help="on PostgreSQL (a throwaway cluster), not SQLite"
    )
    args = parser.parse_args()
    plan = Plan.of(args.quick)
    now = datetime.now(TZ)
    today: date = now.date()
    out = sys.stdout.write
    seen = Seen()
    with tempfile.TemporaryDirectory() as name, _database(Path(name), args.postgres) as db:
        tmp = Path(name)
        url, size = db
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.district",
                url,
                "--today",
                today.isoformat(),
                "--year-of-progress",
            ],
            check=True,
            cwd=ROOT,
        )
        asyncio.run(measure_ticks(url, now, plan, seen))
        out(f"database: {size() / 2**20:.0f} MB; today {today}\n")
        try:
            asyncio.run(measure_processes(url, tmp, plan, seen))
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                out("bot log (tail):\n" + (tmp / "bot.log").read_text(errors="replace")[-3000:])
            raise
    out(
        "start-ups: bot "
        + ", ".join(f"{x:.2f}" for x in seen.bot_start)
        + " s; echo "
        + ", ".join(f"{x:.2f}" for x in seen.echo_start)
        + " s\n"
    )
    out(
        "/ledger district: "
        + ", ".join(f"{x * 1000:.0f}" for x in seen.ledger_district)
        + " ms; township: "
        + ", ".join(f"{x * 1000:.0f}" for x in seen.ledger_township)
        + " ms; /help: "
        + ", ".join(f"{x * 1000:.0f}" for x in seen.help_rt)
        + " ms\n"
    )
    out(
        "other commands: "
        + ", ".join(
            f"{k} {v:.0f}" if k == "stats messages" else f"{k} {v * 1000:.0f} ms"
            for k, v in seen.extras.items()
        )
        + f"; messages the bot sent on its own during the run: {seen.unasked_sends}\n"
    )
    out("bot VmHWM after: " + ", ".join(f"{k} {v:.0f} MB" for k, v in seen.stages) + "\n")
    out(
        "steady ticks: "
        + ", ".join(f"{x * 1000:.0f}" for x in seen.ticks)
        + " ms; scans: "
        + ", ".join(f"{x * 1000:.1f}" for x in seen.scan)
        + " ms\n"
    )
    emit(figures(seen, plan, f"{BENCH} (PostgreSQL)" if args.postgres else BENCH))


if __name__ == "__main__":
    main()
