"""What the benchmarks share: the simulator's child process, CPU time, quantiles.

A benchmark starts the Bot API simulator as ``python -m bench.<server> …`` in a process of
its own (the bot gets a core to itself, as it would in production, where Telegram is not on
its machine). The child prints ``PORT <n>`` once it listens and serves until its stdin closes.
"""

from __future__ import annotations

import asyncio
import resource
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import httpx

from bot.playground.simulator import BotApiSimulator

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Child:
    """A simulator child process and its loopback port."""

    process: asyncio.subprocess.Process
    port: int

    @classmethod
    async def start(cls, module: str, *args: str) -> Self:
        """Start ``python -m module args…`` and wait until it listens."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            *args,
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None
        line = (await process.stdout.readline()).decode()
        if not line.startswith("PORT "):
            raise RuntimeError(f"simulator did not start: {line!r}")
        return cls(process, int(line.split()[1]))

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        """The Bot API base URL the bot is given."""
        return f"{self.base}/bot"

    async def get(self, path: str, timeout: float = 120) -> Any:  # noqa: ASYNC109
        """GET one of the child's control routes; its JSON answer."""
        async with httpx.AsyncClient() as client:
            return (await client.get(self.base + path, timeout=timeout)).json()

    async def post(self, path: str, body: Any, timeout: float = 120) -> Any:  # noqa: ASYNC109
        """POST JSON to one of the child's control routes; its JSON answer."""
        async with httpx.AsyncClient() as client:
            return (await client.post(self.base + path, json=body, timeout=timeout)).json()

    async def close(self) -> None:
        """Close its stdin (it stops) and wait for it."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        await self.process.wait()


async def serve(sim: BotApiSimulator) -> None:
    """The child's side: start the simulator, say ``PORT <n>``, stop when stdin closes."""
    await sim.start()
    sys.stdout.write(f"PORT {sim.port}\n")
    sys.stdout.flush()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await reader.read()  # the parent closes stdin (or dies): stop
    await sim.stop()


def cpu_seconds() -> float:
    """CPU time of this process so far (all its threads): user + system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def quantile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of the values, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]
