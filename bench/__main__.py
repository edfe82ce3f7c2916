"""The performance suite: every benchmark, each in its own process, and one table.

    python -m bench                      # all six, full size (about 20 minutes)
    python -m bench --quick              # smaller runs of the same (about 10 minutes)
    python -m bench --only votes,district
    python -m bench --record             # also write the table into BENCHMARKS.md

Each benchmark runs as ``python -m bench.<module>`` in a child process of its own and starts
the playground's Bot API simulator in another (or, for the district, runs the bot as its own
process), so the bot, the simulator and this runner never share an interpreter. Every figure
is measured against a baseline taken in the same run; the table has the figure, its value,
the baseline, the ratio, the target and whether it passed. The exit status is 1 when a target
is missed or a benchmark fails.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.report import Figure, parse, table

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "BENCHMARKS.md"
START, END = "<!-- suite:start -->", "<!-- suite:end -->"


@dataclass(frozen=True)
class Bench:
    name: str
    module: str
    what: str
    quick: tuple[str, ...] = ("--quick",)
    full: tuple[str, ...] = ()


SUITE = (
    Bench(
        "commands",
        "bench.bench_commands",
        "3,000 updates of a busy evening vs an echo bot",
        full=("--rounds", "3"),
    ),
    Bench("responsive", "bench.bench_responsive", "/mypledges during a 20,000 broadcast"),
    Bench(
        "broadcast",
        "bench.bench_broadcast",
        "outbox vs bare httpx; sustained rate at Telegram's limits",
        full=("--limited", "3000"),
    ),
    Bench("votes", "bench.bench_votes", "10,000 ballot answers vs a bare PTB bot"),
    Bench("district", "bench.bench_district", "tick, /ledger, memory, start-up on a district"),
    Bench(
        "no stall",
        "bench.bench_no_stall",
        "/help while the district tick, a 40,000 broadcast, /stats and an export run",
    ),
)


def machine() -> str:
    """One line about where the figures come from."""
    cpu = platform.processor() or platform.machine()
    with_cpuinfo = Path("/proc/cpuinfo")
    if with_cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", with_cpuinfo.read_text())
        if found:
            cpu = found.group(1).strip()
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        found = re.search(r"MemTotal:\s*(\d+)", meminfo.read_text())
        if found:
            memory = f", {int(found.group(1)) / 1024**2:.0f} GB RAM"
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; commit {head or '?'}"
    )


def run(bench: Bench, quick: bool, log: Path) -> tuple[list[Figure], int, float]:
    """Run one benchmark in its own process; its figures, exit status and seconds."""
    args = [sys.executable, "-m", bench.module, *(bench.quick if quick else bench.full)]
    print(f"\n=== {bench.name}: {bench.what}\n    {' '.join(args[1:])}", flush=True)
    started = time.perf_counter()
    lines: list[str] = []
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n=== {bench.name}: {' '.join(args)}\n")
        process = subprocess.Popen(
            args,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        assert process.stdout is not None
        for line in process.stdout:
            out.write(line)
            lines.append(line)
            # The benchmark's own summary lines; its log lines go to the file only.
            if not re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", line) and not line.startswith(
                "BENCH-FIGURES"
            ):
                print("    " + line.rstrip(), flush=True)
        status = process.wait()
    return parse(lines), status, time.perf_counter() - started


def record(text: str) -> None:
    """Put the table between the suite markers of BENCHMARKS.md (added at the top if none)."""
    current = RECORD.read_text(encoding="utf-8") if RECORD.exists() else "# Benchmarks\n"
    block = f"{START}\n{text}\n{END}"
    if START in current and END in current:
        before, rest = current.split(START, 1)
        after = rest.split(END, 1)[1]
        updated = before + block + after
    else:
        head, _, rest = current.partition("\n")
        updated = f"{head}\n\n{block}\n{rest}"
    RECORD.write_text(updated, encoding="utf-8")


def main() -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs of each benchmark")
    parser.add_argument(
        "--only", help="comma-separated: " + ",".join(b.name for b in SUITE), default=""
    )
    parser.add_argument("--record", action="store_true", help="write the table to BENCHMARKS.md")
    parser.add_argument("--log", type=Path, default=ROOT / "bench" / "last-run.log")
    args = parser.parse_args()
    chosen = [b for b in SUITE if not args.only or b.name in args.only.split(",")]
    unknown = set(filter(None, args.only.split(","))) - {b.name for b in SUITE}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    args.log.write_text("", encoding="utf-8")
    started = datetime.now(UTC)
    figures: list[Figure] = []
    failed: list[str] = []
    durations: list[str] = []
    for bench in chosen:
        found, status, seconds = run(bench, args.quick, args.log)
        durations.append(f"{bench.name} {seconds:.0f} s")
        figures += found
        if status != 0 or not found:
            failed.append(f"{bench.name} (exit {status}, {len(found)} figures)")
    missed = [f for f in figures if f.passed is False]
    summary = [
        f"Run {started:%Y-%m-%d %H:%M} UTC{' (--quick)' if args.quick else ''}: {machine()}.",
        f"Time: {'; '.join(durations)}.",
        "",
        table(figures),
    ]
    if failed:
        summary += ["", "Benchmarks that did not finish: " + "; ".join(failed)]
    text = "\n".join(summary)
    print("\n" + text)
    passed = sum(1 for f in figures if f.passed)
    targets = sum(1 for f in figures if f.passed is not None)
    print(f"\n{passed}/{targets} targets met; full output in {args.log}")
    if args.record:
        record(text)
        print(f"recorded in {RECORD}")
    return 1 if missed or failed else 0


if __name__ == "__main__":
    sys.exit(main())
