"""Chat lanes (bot/lanes.py): one chat's updates in order, other chats meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from telegram import Chat, Message, Update, User

from bot.lanes import ChatLanes, lane_key


def _update(update_id: int, chat_id: int) -> Update:
    user = User(chat_id, "用户", is_bot=False)
    chat = Chat(chat_id, Chat.PRIVATE)
    message = Message(update_id, None, chat, from_user=user, text=f"m{update_id}")  # type: ignore[arg-type]
    return Update(update_id, message=message)


class Recorder:
    """Handles updates slowly in chat 1 and fast elsewhere; records starts and ends."""

    def __init__(self, slow: float = 0.05) -> None:
        self.slow = slow
        self.events: list[tuple[str, int]] = []
        self.running = 0
        self.most = 0
        self.tasks: list[asyncio.Task[None]] = []

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> object:
        task = asyncio.create_task(coroutine)
        self.tasks.append(task)
        return task

    async def process(self, update: object) -> None:
        assert isinstance(update, Update) and update.effective_chat is not None
        self.running += 1
        self.most = max(self.most, self.running)
        self.events.append(("start", update.update_id))
        await asyncio.sleep(self.slow if update.effective_chat.id == 1 else 0)
        if update.update_id == 13:
            self.running -= 1
            raise RuntimeError("a handler's bug")
        self.events.append(("end", update.update_id))
        self.running -= 1

    async def settle(self) -> None:
        while any(not t.done() for t in self.tasks):
            await asyncio.gather(*self.tasks)


async def test_one_chat_in_order_others_meanwhile() -> None:
    recorder = Recorder()
    lanes = ChatLanes(recorder.process, recorder.spawn)
    for update_id, chat in [(1, 1), (2, 1), (3, 2), (4, 1), (5, 2)]:
        lanes.submit(_update(update_id, chat))
    await recorder.settle()
    ends = [u for kind, u in recorder.events if kind == "end"]
    # Chat 2's updates did not wait for chat 1's slow ones ...
    assert ends.index(3) < ends.index(1) and ends.index(5) < ends.index(1)
    # ... and each chat's own went strictly one after the other, in the order they came.
    chat1 = [(k, u) for k, u in recorder.events if u in (1, 2, 4)]
    assert chat1 == [("start", 1), ("end", 1), ("start", 2), ("end", 2), ("start", 4), ("end", 4)]
    assert lanes.busy == 0


async def test_a_failing_update_does_not_stop_its_chat() -> None:
    recorder = Recorder(slow=0)
    lanes = ChatLanes(recorder.process, recorder.spawn)
    for update_id in (12, 13, 14):
        lanes.submit(_update(update_id, 7))
    await recorder.settle()
    assert [u for kind, u in recorder.events if kind == "end"] == [12, 14]
    assert lanes.busy == 0


async def test_at_most_limit_updates_at_once() -> None:
    recorder = Recorder(slow=0.01)
    lanes = ChatLanes(recorder.process, recorder.spawn, limit=3)
    for n in range(20):
        lanes.submit(_update(100 + n, 1000 + n))  # 20 chats
    await recorder.settle()
    assert recorder.most == 3
    assert len([1 for kind, _ in recorder.events if kind == "end"]) == 20


def test_lane_keys() -> None:
    assert lane_key(_update(1, 42)) == 42
    assert lane_key(Update(2)) is None
    assert lane_key("not an update") is None


async def test_the_fetcher_waits_for_room_a_moment_at_most() -> None:
    recorder = Recorder(slow=0.2)
    lanes = ChatLanes(recorder.process, recorder.spawn, limit=2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await lanes.room(5.0)  # nothing pending: no wait
    assert loop.time() - started < 0.05
    lanes.submit(_update(1, 1))  # slow (0.2 s)
    lanes.submit(_update(2, 1))  # behind it in chat 1
    lanes.submit(_update(3, 2))  # fast
    assert lanes.pending == 3
    await asyncio.sleep(0.01)  # chat 2's update is done; two pending: no room yet
    assert lanes.pending == 2
    started = loop.time()
    await lanes.room(0.05)  # gives up after its most
    assert 0.04 <= loop.time() - started < 0.15
    started = loop.time()
    await lanes.room(5.0)  # the slow update ends at 0.2 s: room at once then
    waited = loop.time() - started
    assert 0.1 <= waited < 0.3 and lanes.pending == 1
    await recorder.settle()
    assert lanes.pending == 0


async def test_a_failed_update_still_makes_room() -> None:
    recorder = Recorder()
    lanes = ChatLanes(recorder.process, recorder.spawn, limit=1)
    lanes.submit(_update(13, 2))  # raises
    await recorder.settle()
    assert lanes.pending == 0
