"""The Bot API simulator in a process of its own, for benchmarks.

    python -m bench.sim_server --users 5000 --first-user 500000 --limits telegram|off

Prints ``PORT <n>`` once it listens, then serves until stdin closes. ``GET /bench/stats``
answers the server's counters and, for the users' chats, how many bot messages each has and
the server's own times of the sends (so a rate is measured where Telegram would see it).
Running it apart from the measured process gives the bot a CPU core of its own, as a real
deployment has (Telegram is not on the bot's machine).

``POST /bench/users`` ([ids]) adds users (chats the bot may write to).
``POST /bench/ping`` ({"users", "text", "count", "interval"}) starts users who each send
``text`` ``count`` times, every ``interval`` seconds (staggered), and times, on the server's
clock, each message's way from its arrival in the update queue to the bot's answer in the
chat; ``GET /bench/pings`` answers those latencies (seconds) once the pings are over.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from aiohttp import web

from bench.child import serve
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
        # Every message the bot sent (to anyone) while the users' messages went out.
        window = (
            sum(
                1
                for r in sim.request_log
                if r.status == 200
                and r.method.lower() == "sendmessage"
                and times[0] <= r.at <= times[-1]
            )
            if times
            else 0
        )
        return web.json_response(
            {
                "requests": sim.stats.requests,
                "sends_in_window": window,
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

    pings: list[float] = []
    pinging: list[asyncio.Task[Any]] = []

    async def ping(user: int, text: str, count: int, interval: float, delay: float) -> None:
        if user not in sim.state.users:
            sim.add_user(user, f"计时用户{user}")
        loop = asyncio.get_running_loop()
        await asyncio.sleep(delay)
        next_at = loop.time()
        for _ in range(count):
            after = sim.state.last_message_id(user)
            started = time.perf_counter()
            sim.send_text(user, text)
            await sim.wait_bot_message(user, after=after + 1, timeout=60)
            pings.append(time.perf_counter() - started)
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - loop.time()))

    @routes.post("/bench/users")
    async def add_users(request: web.Request) -> web.Response:
        for user in await request.json():
            if int(user) not in sim.state.users:
                sim.add_user(int(user), f"用户{user}")
        return web.json_response({"users": len(sim.state.users)})

    @routes.post("/bench/ping")
    async def start_ping(request: web.Request) -> web.Response:
        body = await request.json()
        users = [int(u) for u in body["users"]]
        interval = float(body["interval"])
        pings.clear()
        pinging[:] = [
            asyncio.create_task(
                ping(
                    user,
                    str(body["text"]),
                    int(body["count"]),
                    interval,
                    n * interval / len(users),
                )
            )
            for n, user in enumerate(users)
        ]
        return web.json_response({"started": True})

    @routes.get("/bench/pings")
    async def ping_results(request: web.Request) -> web.Response:
        await asyncio.gather(*pinging)
        pinging.clear()
        return web.json_response({"latencies": pings})

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
    await serve(sim)


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
