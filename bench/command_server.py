"""The Bot API simulator in a process of its own, with a closed-loop driver (bench_commands).

    python -m bench.command_server --first-user 700000 --users 1000

Prints ``PORT <n>`` once it listens, then serves until stdin closes. Control route:

* ``POST /bench/run`` {"users": [ids], "updates": n, "target": "bot" | "echo", "seed": s,
  "limit": seconds}: runs a busy evening and answers when it is over, with one record per
  update (kind, arrival, answer, done; seconds on this process's monotonic clock) and what
  went wrong (updates never answered, answers nobody waited for, scripts that broke).

The driver runs here, next to the simulator, so a simulated person reacts to the bot's answer
the moment the bot's request arrives, without an extra hop. Each person runs the script of
a busy evening over and over — /mypledges, /board, /progress, tap an item, write what was
done, tap 完成 — and sends the next update only once the bot answered the previous one, until
``updates`` have been sent in all. ``len(users)`` people act at the same time.

An update's *answer* is the first bot request that answers it: a sendMessage or
editMessageText to the person's chat, or answerCallbackQuery of the tap's query id (both on
this process's clock, as is its arrival: the moment it is queued for getUpdates). An update
is *done* when the message the person waits for has arrived (for a tap: the query answered
and the message sent or edited); then the person goes on.

The echo bot (the baseline) gets updates of the same shapes: the same commands and texts,
and taps (forged: its messages have no buttons) with callback data shaped like the bot's.
"""

from __future__ import annotations

import argparse
import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bench.child import serve
from bot.playground.sim_state import RateLimits
from bot.playground.simulator import BotApiSimulator

TOKEN = "123456:BENCH"
PROGRESS_TEXT = "今晚参加了社区志愿服务，帮助楼道清理杂物，走访了两户独居老人"
# One person's busy evening, in order; the kinds are what the figures are broken down by.
SCRIPT: tuple[tuple[str, str], ...] = (
    ("mypledges", "/mypledges"),
    ("board", "/board"),
    ("progress", "/progress"),
    ("tap", "item"),
    ("text", PROGRESS_TEXT),
    ("tap", "done"),
)
ECHO_TAP = {"item": "pg:it:1", "done": "pg:done:1"}  # forged on the echo bot's messages


@dataclass
class Waiting:
    """The update a person waits on an answer to."""

    kind: str
    arrival: float
    query_id: str | None = None  # a tap's callback query
    answer: float | None = None
    acked: bool = False  # a tap's query answered
    messaged: bool = False  # the message it waits for arrived


@dataclass
class Person:
    user_id: int
    step: int = 0
    message: dict[str, Any] | None = None  # the last message the bot sent or edited here
    waiting: Waiting | None = None


@dataclass
class Run:
    """One busy evening: ``total`` updates from ``people`` acting at once."""

    sim: CommandSimulator
    people: dict[int, Person]
    total: int
    echo: bool
    sent: int = 0
    records: list[tuple[str, float, float, float]] = field(default_factory=list)
    unexpected: int = 0  # bot requests to a chat nobody was waiting in
    broken: int = 0  # a tap with no button to tap (the bot's previous answer was not as planned)
    answers: Counter[str] = field(default_factory=Counter)  # kind + first line of the answer
    over: asyncio.Event = field(default_factory=asyncio.Event)

    def start(self) -> None:
        for person in self.people.values():
            self.act(person)

    def act(self, person: Person) -> None:
        """The person's next update (none once ``total`` are sent)."""
        if self.sent >= self.total:
            if all(p.waiting is None for p in self.people.values()):
                self.over.set()
            return
        self.sent += 1
        kind, what = SCRIPT[person.step % len(SCRIPT)]
        person.step += 1
        arrival = self.sim.clock()
        uid = person.user_id
        if kind != "tap":
            person.waiting = Waiting(kind, arrival)
            self.sim.send_text(uid, what)
            return
        message = person.message or {}
        data = ECHO_TAP[what] if self.echo else _first_button(message)
        if data is None:
            self.broken += 1
            data = ECHO_TAP[what]
        message_id = int(message.get("message_id", 0))
        person.waiting = Waiting(kind, arrival)
        # A forged tap for the echo bot (its messages carry no buttons) or a broken script.
        if self.echo or _first_button(message) != data:
            query_id = self.sim.tap_forged(uid, uid, message_id, data)
        else:
            query_id = self.sim.tap(uid, uid, message_id, data)
        person.waiting.query_id = query_id
        self.sim.queries[query_id] = uid

    def on_message(self, chat_id: int, message: dict[str, Any], at: float) -> None:
        person = self.people.get(chat_id)
        if person is None or person.waiting is None:
            self.unexpected += 1
            return
        waiting = person.waiting
        if waiting.answer is None:
            waiting.answer = at
        if waiting.messaged:  # a second message for one update (e.g. a long text split)
            self.unexpected += 1
            return
        waiting.messaged = True
        person.message = message
        text = str(message.get("text") or "")
        self.answers[f"{waiting.kind}: {text.split(chr(10), 1)[0][:40]}"] += 1
        if waiting.query_id is None or waiting.acked:
            self.done(person, at)

    def on_callback_answer(self, chat_id: int, at: float) -> None:
        person = self.people.get(chat_id)
        if person is None or person.waiting is None or person.waiting.query_id is None:
            self.unexpected += 1
            return
        waiting = person.waiting
        waiting.acked = True
        if waiting.answer is None:
            waiting.answer = at
        if waiting.messaged:
            self.done(person, at)

    def done(self, person: Person, at: float) -> None:
        waiting = person.waiting
        assert waiting is not None and waiting.answer is not None
        self.records.append((waiting.kind, waiting.arrival, waiting.answer, at))
        person.waiting = None
        asyncio.get_running_loop().call_soon(self.act, person)

    def result(self) -> dict[str, Any]:
        lost = [p.waiting.kind for p in self.people.values() if p.waiting is not None]
        return {
            "records": self.records,
            "sent": self.sent,
            "lost": len(lost),
            "lost_kinds": dict(Counter(lost)),
            "unexpected": self.unexpected,
            "broken": self.broken,
            "answers": dict(self.answers),
        }


def _first_button(message: dict[str, Any]) -> str | None:
    """The callback data of the message's first inline button."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    for row in rows:
        for button in row:
            if "callback_data" in button:
                return str(button["callback_data"])
    return None


class CommandSimulator(BotApiSimulator):
    """The simulator, telling the running driver of every answer as the bot sends it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run: Run | None = None
        self.queries: dict[str, int] = {}  # callback query id -> the person who tapped

    def _told(self, result: Any) -> None:
        if self.run is not None and isinstance(result, dict):
            chat = (result.get("chat") or {}).get("id")
            if isinstance(chat, int):
                self.run.on_message(chat, result, self.clock())

    async def _send_message(self, p: Any) -> Any:
        result = await super()._send_message(p)
        self._told(result)
        return result

    async def _edit_message_text(self, p: Any) -> Any:
        result = await super()._edit_message_text(p)
        self._told(result)
        return result

    async def _answer_callback_query(self, p: Any) -> bool:
        result = await super()._answer_callback_query(p)
        user = self.queries.pop(p.get_str("callback_query_id") or "", None)
        if self.run is not None:
            if user is None:
                self.run.unexpected += 1
            else:
                self.run.on_callback_answer(user, self.clock())
        return result


def _routes(sim: CommandSimulator) -> web.RouteTableDef:
    routes = web.RouteTableDef()

    @routes.post("/bench/run")
    async def run(request: web.Request) -> web.Response:
        body = await request.json()
        users = [int(u) for u in body["users"]]
        random.Random(int(body.get("seed", 0))).shuffle(users)
        # Staggered: a third start at /mypledges, a third at /board, a third at /progress.
        people = {u: Person(u, step=n % 3) for n, u in enumerate(users)}
        current = Run(sim, people, int(body["updates"]), body.get("target") == "echo")
        sim.run = current
        current.start()
        try:
            await asyncio.wait_for(current.over.wait(), float(body.get("limit", 300)))
        except TimeoutError:
            pass
        finally:
            sim.run = None
            sim.queries.clear()
        return web.json_response(current.result())

    return routes


async def _serve(users: int, first: int) -> None:
    sim = CommandSimulator(token=TOKEN, bot_username="jiannuo_bot", rate_limits=RateLimits.off())

    def setup(app: web.Application) -> None:
        app.add_routes(_routes(sim))

    sim.add_routes(setup)
    for n in range(users):
        sim.add_user(first + n, f"党员{n}")
    await serve(sim)


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--first-user", type=int, default=700_000)
    args = parser.parse_args()
    asyncio.run(_serve(args.users, args.first_user))


if __name__ == "__main__":
    main()
