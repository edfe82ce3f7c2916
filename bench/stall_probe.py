"""Which code holds the event loop: each big job of bench_no_stall alone, under a watchdog.

    python -m bench.stall_probe                       # every job, one after the other
    python -m bench.stall_probe --job tick --job export
    python -m bench.stall_probe --keep /tmp/district.db   # build once, reuse next time

A diagnostic, not a benchmark (it is not in ``python -m bench``). A heartbeat on the event
loop beats every 2 ms; a watchdog thread looks every 2 ms and, while the last beat is older
than ``--over`` (20 ms), samples the loop thread's stack. Each stall is reported with its
length and the frames of the project's code seen most often in it (where the time went), so
a step that holds the loop is named by file and line, not only by its task.

Each job runs on a fresh copy of the same district database (bench_no_stall.seed), in this
process, without the bot: the services are called as bench_no_stall calls them.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType

ROOT = str(Path(__file__).resolve().parents[1])
BEAT = 0.002
JOBS = ["tick", "broadcast", "charts", "export"]


@dataclass
class Stall:
    """One time the loop did not beat for longer than the threshold."""

    began: float
    seconds: float = 0.0
    frames: Counter[str] = field(default_factory=Counter)
    samples: int = 0


def _where(frame: FrameType | None, depth: int = 6) -> str:
    """The innermost frame of a stack, then the innermost frames of the project's code (not
    the venv's)."""
    ours: list[str] = []
    if frame is not None:
        name = frame.f_code.co_filename
        ours.append(f"[{'/'.join(name.split('/')[-2:])}:{frame.f_lineno} {frame.f_code.co_name}]")
    while frame is not None and len(ours) < depth:
        name = frame.f_code.co_filename
        if name.startswith(ROOT) and "/.venv/" not in name and "stall_probe" not in name:
            ours.append(f"{name[len(ROOT) + 1 :]}:{frame.f_lineno} {frame.f_code.co_name}")
        frame = frame.f_back
    return " < ".join(ours)


class LoopWatch:
    """Heartbeat on the loop, watchdog in a thread; the stalls it saw."""

    def __init__(self, over: float) -> None:
        self.over = over
        self.stalls: list[Stall] = []
        self._beat = time.perf_counter()
        self._stop = threading.Event()
        self._loop_thread = threading.get_ident()
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None

    async def _heart(self) -> None:
        # The heart's own gaps are the true stalls: the watchdog needs the GIL to look, so a
        # pause that holds it (a collection, a long C call) ends before the watchdog sees it.
        # With each gap: the CPU time the loop's thread and the whole process spent in it (a
        # gap with little of either is the machine's other processes, not this one).
        self.gaps: list[tuple[float, float, float, float]] = []
        cpu, process = time.thread_time(), time.process_time()
        while True:
            now = time.perf_counter()
            now_cpu, now_process = time.thread_time(), time.process_time()
            if now - self._beat > self.over + BEAT:
                gap = now - self._beat - BEAT
                self.gaps.append((self._beat, gap, now_cpu - cpu, now_process - process))
            self._beat, cpu, process = now, now_cpu, now_process
            await asyncio.sleep(BEAT)

    def _watch(self) -> None:
        current: Stall | None = None
        while not self._stop.wait(BEAT):
            now = time.perf_counter()
            late = now - self._beat
            if late > self.over:
                frames = sys._current_frames()
                if current is None:
                    current = Stall(self._beat)
                    self.stalls.append(current)
                current.seconds = late
                current.samples += 1
                current.frames[_where(frames.get(self._loop_thread))] += 1
                for ident, frame in frames.items():
                    if ident not in (self._loop_thread, threading.get_ident()):
                        where = _where(frame)
                        if "/threading.py" not in where.split(" < ")[0]:
                            current.frames["other thread: " + where] += 1
            else:
                current = None

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_began = time.thread_time()
        else:
            took = time.thread_time() - self._gc_began
            if took > 0.005:
                self.collections.append((info["generation"], took, info["collected"]))
            if info["generation"] == 2:
                self.heap = len(gc.get_objects())

    def start(self) -> None:
        self.collections: list[tuple[int, float, int]] = []
        self.heap = len(gc.get_objects())
        self._gc_began = 0.0
        gc.callbacks.append(self._gc)
        self._task = asyncio.create_task(self._heart())
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        assert self._task is not None and self._thread is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._stop.set()
        self._thread.join()
        gc.callbacks.remove(self._gc)


def _jobs(url: str) -> dict[str, Callable[[], Awaitable[object]]]:
    from bench.actors import actor_for
    from bench.bench_broadcast import SECRETARY_TG
    from bench.district import DISTRICT_CLERK_TG
    from bot.domain.broadcast import Audience, AudienceKind, BroadcastService, Notice
    from bot.domain.campaign_calendar import load_calendar
    from bot.domain.clock import SystemClock
    from bot.domain.exports import ExportKind, ExportService
    from bot.domain.reminders import QuietHours, ReminderService
    from bot.domain.stats import StatsService, render
    from storage.db import Database

    clock = SystemClock()

    def with_db(job: Callable[[Database], Awaitable[object]]) -> Callable[[], Awaitable[object]]:
        async def run() -> object:
            db = Database(url)
            try:
                return await job(db)
            finally:
                await db.dispose()

        return run

    async def tick(db: Database) -> object:
        quiet = QuietHours(datetime.min.time(), datetime.min.time())
        return await ReminderService(db, clock, load_calendar(None), quiet).tick()

    async def broadcast(db: Database) -> object:
        return await BroadcastService(db, clock).send(
            await actor_for(db, SECRETARY_TG),
            Notice("全体党员：本周六上午九点在村部集中学习，请准时参加。"),
            Audience(AudienceKind.MEMBERS),
        )

    async def charts(db: Database) -> object:
        figures = await StatsService(db, clock).figures(await actor_for(db, DISTRICT_CLERK_TG))
        return await asyncio.to_thread(render, "zh_CN", figures, 90.0)  # type: ignore[arg-type]

    async def export(db: Database) -> object:
        return await ExportService(db, clock).export_for_operator(
            ExportKind.STATS, "D", None, "zh_CN"
        )

    return {
        "tick": with_db(tick),
        "broadcast": with_db(broadcast),
        "charts": with_db(charts),
        "export": with_db(export),
    }


async def probe(job: str, url: str, over: float, show: int) -> None:
    run = _jobs(url)[job]
    watch = LoopWatch(over)
    watch.start()
    started, cpu = time.perf_counter(), time.process_time()
    await run()
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    await watch.stop()
    stalls = sorted(watch.stalls, key=lambda s: -s.seconds)
    gaps = sorted(watch.gaps, key=lambda g: -g[2])
    worst = 1000 * gaps[0][1] if gaps else 0.0
    print(f"\n== {job}: {took:.2f} s ({cpu:.2f} s CPU), ", end="")
    print(f"{len(gaps)} stalls over {1000 * over:.0f} ms, ", end="")
    print(f"longest {worst:.0f} ms; heap {watch.heap:,} objects at the last full collection")
    print("  by the loop thread's CPU: wall ms / loop CPU ms / process CPU ms at +s")
    for b, g, c, p in gaps[:show]:
        print(f"    {1000 * g:4.0f} / {1000 * c:4.0f} / {1000 * p:4.0f} at +{b - started:.2f}")
    print(f"  loop thread CPU over 20 ms in one step: {sum(1 for g in gaps if g[2] > 0.02)}")
    for generation, seconds, collected in watch.collections:
        print(f"  gc gen {generation}: {1000 * seconds:.0f} ms CPU ({collected} collected)")
    for stall in stalls[:show]:
        print(f"  {1000 * stall.seconds:6.0f} ms at +{stall.began - started:5.2f} s")
        for where, count in stall.frames.most_common(3):
            print(f"      {count:3d}/{stall.samples} {where}")


async def main_async(
    jobs: list[str], keep: Path | None, over: float, show: int, freeze: bool
) -> None:
    from bench.bench_no_stall import RECIPIENTS, seed

    with tempfile.TemporaryDirectory() as tmp:
        base = keep or Path(tmp) / "base.db"
        if not base.exists():
            started = time.perf_counter()
            await seed(f"sqlite+aiosqlite:///{base}", RECIPIENTS)
            print(f"district built in {time.perf_counter() - started:.0f} s")
        _jobs(str(base))  # the bot's modules are imported before any job runs
        if freeze:  # what if: the start-up heap is out of every collection (not the bot's way)
            gc.collect()
            gc.freeze()
            print(f"gc.freeze(): {gc.get_freeze_count():,} objects frozen")
        for job in jobs:
            copy = Path(tmp) / f"{job}.db"
            shutil.copyfile(base, copy)
            await probe(job, f"sqlite+aiosqlite:///{copy}", over, show)
            copy.unlink()


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--job", action="append", choices=JOBS)
    parser.add_argument("--keep", type=Path, help="the district database, built if missing")
    parser.add_argument("--over", type=float, default=20.0, help="ms: a stall is longer")
    parser.add_argument("--show", type=int, default=8, help="stalls shown per job")
    parser.add_argument(
        "--freeze", action="store_true", help="what if: gc.freeze() once the modules are in"
    )
    args = parser.parse_args()
    jobs = args.job or JOBS
    asyncio.run(main_async(jobs, args.keep, args.over / 1000, args.show, args.freeze))


if __name__ == "__main__":
    main()
