"""The Bot API simulator in a process of its own, for benchmarks.

    python -m bench.sim_server --users 5000 --first-user 500000 --limits telegram|off

Prints ``PORT <n>`` once it listens, then serves until stdin closes. ``GET /bench/stats``
answers the server's counters and, for the users' chats, how many bot messages each has and
the server's own times of the sends (so a rate is measured where Telegram would see it).
Running it apart from the measured process gives the bot a CPU core of its own, as a real
deployment has (Telegram is not on the bot's machine).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from aiohttp import web

from bot.playground.sim_state import RateLimits
from bot.playground.simulator import BotApiSimulator

TOKEN = "123456:BENCH"
SENDER = 1001


def _stats_route(sim: BotApiSimulator, first: int, count: int) -> web.RouteTableDef:
    routes = web.RouteTableDef()

    @routes.get("/bench/stats")
    async def stats(request: web.Request) -> web.Response:
        chats = range(first, first + count)
        per_chat = [len(sim.bot_messages(chat)) for chat in chats]
        times = sorted(
            r.at
            for r in sim.request_log
            if r.status == 200
            and r.method.lower() == "sendmessage"
            and isinstance(r.chat_id, int)
            and first <= r.chat_id < first + count
        )
        return web.json_response(
            {
                "requests": sim.stats.requests,
                "served_429": sim.stats.served_429,
                "served_5xx": sim.stats.served_5xx,
                "messages": sum(per_chat),
                "chats_reached": sum(1 for n in per_chat if n),
                "chats_twice": sum(1 for n in per_chat if n > 1),
                "first_send": times[0] if times else None,
                "last_send": times[-1] if times else None,
                "sends": len(times),
            }
        )

    return routes


async def _serve(users: int, first: int, limits: str) -> None:
    rate_limits = RateLimits() if limits == "telegram" else RateLimits.off()
    sim = BotApiSimulator(token=TOKEN, bot_username="jiannuo_bot", rate_limits=rate_limits)

    def setup(app: web.Application) -> None:
        app.add_routes(_stats_route(sim, first, users))

    sim.add_routes(setup)
    sim.add_user(SENDER, "沈宝方")  # the sender, who gets the live report
    for n in range(users):
        sim.add_user(first + n, f"用户{n}")
    await sim.start()
    sys.stdout.write(f"PORT {sim.port}\n")
    sys.stdout.flush()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await reader.read()  # the parent closes stdin (or dies): stop
    await sim.stop()


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--first-user", type=int, default=500_000)
    parser.add_argument("--limits", choices=("telegram", "off"), default="telegram")
    args = parser.parse_args()
    asyncio.run(_serve(args.users, args.first_user, args.limits))


if __name__ == "__main__":
    main()
