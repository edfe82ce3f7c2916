"""The Bot API simulator in a process of its own, driven to cast votes (bench_votes).

    python -m bench.vote_server --users 2500 --first-user 600000

Prints ``PORT <n>`` once it listens, then serves until stdin closes. Control routes:

* ``GET /bench/polls``: {user id: [poll ids of the polls the bot sent them]}
* ``POST /bench/vote``: [[user, poll id, option or -1 to retract], ...] queued as answers
* ``GET /bench/pending``: updates queued and not yet confirmed by the bot
"""

from __future__ import annotations

import argparse
import asyncio

from aiohttp import web

from bench.child import serve
from bot.playground.sim_state import RateLimits
from bot.playground.simulator import BotApiSimulator

TOKEN = "123456:BENCH"


def _routes(sim: BotApiSimulator, first: int, count: int) -> web.RouteTableDef:
    routes = web.RouteTableDef()

    @routes.get("/bench/polls")
    async def polls(request: web.Request) -> web.Response:
        found: dict[str, list[str]] = {}
        for user in range(first, first + count):
            ids = [m.poll.id for m in sim.bot_messages(user) if m.poll is not None]
            if ids:
                found[str(user)] = ids
        return web.json_response(found)

    @routes.post("/bench/vote")
    async def vote(request: web.Request) -> web.Response:
        for user, poll_id, option in await request.json():
            sim.vote(int(user), str(poll_id), [] if option < 0 else [int(option)])
        return web.json_response({"pending": sim.updates_pending()})

    @routes.get("/bench/pending")
    async def pending(request: web.Request) -> web.Response:
        return web.json_response({"pending": sim.updates_pending()})

    return routes


async def _serve(users: int, first: int) -> None:
    sim = BotApiSimulator(token=TOKEN, bot_username="jiannuo_bot", rate_limits=RateLimits.off())

    def setup(app: web.Application) -> None:
        app.add_routes(_routes(sim, first, users))

    sim.add_routes(setup)
    sim.add_user(1001, "沈宝方")
    for n in range(users):
        sim.add_user(first + n, f"用户{n}")
    await serve(sim)


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=2500)
    parser.add_argument("--first-user", type=int, default=600_000)
    args = parser.parse_args()
    asyncio.run(_serve(args.users, args.first_user))


if __name__ == "__main__":
    main()
