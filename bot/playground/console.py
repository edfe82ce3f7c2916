"""A terminal chat with the playground: be any persona, type, tap buttons, watch replies."""

from __future__ import annotations

import asyncio
import sys

from bot.playground.demo import Persona
from bot.playground.sim_state import SimError, SimMessage
from bot.playground.simulator import BotApiSimulator


class Console:
    """Reads lines from stdin and acts as the chosen persona in the simulator."""

    def __init__(self, sim: BotApiSimulator, cast: list[Persona]) -> None:
        self.sim = sim
        self.cast = cast
        self.current: Persona | None = cast[0] if cast else None
        self.chat_id: int | None = self.current.user_id if self.current else None
        self._seen: dict[tuple[int, int], int] = {}

    def forget(self) -> None:
        """Forget what was shown (after a reset the chats start again from message 1)."""
        self._seen.clear()
        if self.current is not None:
            self.current = next(
                (p for p in self.cast if p.user_id == self.current.user_id), self.current
            )

    def _out(self, text: str) -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def _show_new(self) -> None:
        if self.chat_id is None:
            return
        for message in self.sim.bot_messages(self.chat_id):
            key = (message.chat_id, message.message_id)
            if self._seen.get(key) == message.edits:
                continue
            mark = "✎ " if key in self._seen else ""
            self._seen[key] = message.edits
            self._out(f"\n🤖 {mark}{message.content}")
            for row in message.buttons:
                self._out(
                    "   " + "  ".join(f"[{self._index(message, b.text)}] {b.text}" for b in row)
                )

    @staticmethod
    def _index(message: SimMessage, label: str) -> int:
        labels = [b.text for row in message.buttons for b in row]
        return labels.index(label) + 1

    async def _watch(self) -> None:
        while True:
            self._show_new()
            await asyncio.sleep(0.2)

    async def run(self, stop: asyncio.Event) -> None:
        """Read commands until EOF or stop."""
        watcher = asyncio.create_task(self._watch())
        loop = asyncio.get_running_loop()
        try:
            while not stop.is_set():
                line = await loop.run_in_executor(None, sys.stdin.readline)
                if not line:
                    break
                self._handle(line.strip())
        finally:
            watcher.cancel()
            stop.set()

    def _handle(self, line: str) -> None:
        if not line:
            return
        if line == "/who":
            for p in self.cast:
                self._out(f"  {p.person.name}  {p.person.role.value}  {p.org.name}")
            return
        if line.startswith("/as "):
            name = line[4:].strip()
            found = next((p for p in self.cast if p.person.name == name), None)
            if found is None:
                self._out(f"no persona called {name}; /who lists them")
                return
            self.current, self.chat_id = found, found.user_id
            self._seen.clear()
            self._out(f"— you are {name} ({found.person.role.value}, {found.org.name}) —")
            self._show_new()
            return
        if self.current is None or self.chat_id is None:
            self._out("no persona; /who then /as NAME")
            return
        if line == "/board":
            board = self.current.org.board_chat_id
            self.chat_id = board if board is not None else self.current.user_id
            self._seen.clear()
            self._show_new()
            return
        if line == "/private":
            self.chat_id = self.current.user_id
            self._seen.clear()
            self._show_new()
            return
        try:
            if line.startswith("/tap "):
                self._tap(int(line[5:].strip()))
            else:
                self.sim.send_text(self.current.user_id, line, chat_id=self.chat_id)
        except (SimError, ValueError) as exc:
            self._out(f"(could not do that: {exc})")

    def _tap(self, number: int) -> None:
        assert self.current is not None and self.chat_id is not None
        for message in reversed(self.sim.bot_messages(self.chat_id)):
            data = [b.callback_data for row in message.buttons for b in row]
            if data:
                target = data[number - 1]
                if target is None:
                    raise ValueError("that button is a link")
                self.sim.tap(self.current.user_id, self.chat_id, message.message_id, target)
                return
        raise ValueError("no message with buttons")
