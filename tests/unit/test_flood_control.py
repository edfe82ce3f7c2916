"""FloodControl (bot/outbox.py): a reply to someone in chat does not queue behind a broadcast."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.channels.telegram.flood import FloodControl
from bot.outbox import SendLimits

RATE = 50.0  # requests a second overall: a slot every 20 ms


async def _run(bulk_lane: bool) -> tuple[float, list[str]]:
    """16 outbox workers at the limit, then a reply: the reply's wait and the send order."""
    limiter = FloodControl(SendLimits(global_per_second=RATE, headroom=1.0, global_burst=1))
    order: list[str] = []
    stop = asyncio.Event()

    async def send(name: str) -> bool:
        order.append(name)
        return True

    async def worker(n: int) -> None:
        args: dict[str, Any] = {"retries": 0, "bulk": True} if bulk_lane else {"retries": 0}
        while not stop.is_set():
            await limiter.process_request(
                send, (f"bulk{n}",), {}, "sendMessage", {"chat_id": 1000 + n}, args
            )

    workers = [asyncio.create_task(worker(n)) for n in range(16)]
    await asyncio.sleep(0.3)  # the broadcast runs at the limit
    started = time.perf_counter()
    await limiter.process_request(send, ("reply",), {}, "sendMessage", {"chat_id": 7}, None)
    waited = time.perf_counter() - started
    stop.set()
    await asyncio.gather(*workers)
    return waited, order


async def test_a_reply_waits_one_slot_not_the_whole_broadcasts() -> None:
    waited, order = await _run(bulk_lane=True)
    assert waited < 3 / RATE, f"the reply waited {waited * 1000:.0f} ms"
    # The broadcast kept the pace: nothing was sent faster than the limit.
    assert len(order) <= RATE * 0.3 + 16 + 2


async def test_without_the_bulk_lane_the_reply_would_wait_behind_every_worker() -> None:
    # The case the bulk lane exists for: first come, first served, 16 slots ahead.
    waited, _ = await _run(bulk_lane=False)
    assert waited > 10 / RATE
