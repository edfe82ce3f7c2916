"""The outbox holds intents and the Telegram renderer makes the Bot API calls: a long text in
parts (its buttons on the last, a retry going on from the part that failed), a live view
edited in place (or posted anew by a channel that cannot edit), a ballot as a poll."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from telegram.error import NetworkError

from bot.channels.telegram.renderer import TELEGRAM
from bot.chat.actions import Button, action
from bot.chat.intents import Sent
from bot.domain.notify import ballot_row, message_row, view_row
from storage.db import Database
from tests.storage.outbox_fakes import FakeBot, dispatcher, drained

NOW = datetime(2026, 9, 25, 1, 0, tzinfo=UTC)
ACK = [[Button("收到", action=action("bc", "ack", "7", "1"))]]


async def test_a_long_text_goes_out_in_parts_with_the_buttons_on_the_last(db: Database) -> None:
    bot = FakeBot()
    outbox = dispatcher(db, bot)
    async with db.uow() as uow:
        await uow.outbox.add(message_row(1001, "字" * 5000, NOW, buttons=ACK))
    await outbox.start()
    try:
        assert await drained(db) == {"sent": 1}
    finally:
        await outbox.stop()
    parts = bot.sent("SendMessage")
    assert [len(p["text"]) for p in parts] == [4096, 904]
    assert "reply_markup" not in parts[0]
    keyboard = [[{"text": "收到", "callback_data": "bc:ack:7:1"}]]
    assert parts[1]["reply_markup"] == {"inline_keyboard": keyboard}
    async with db.read() as uow:
        [row] = await uow.outbox.rows([1])
    assert row.message_id == 102  # the part with the buttons: the one a later edit changes


async def test_a_retry_goes_on_from_the_part_that_failed(db: Database) -> None:
    bot = FakeBot()
    bot.fail(2, NetworkError("Bad Gateway"))  # the second part, once
    outbox = dispatcher(db, bot)
    text = "第一部分" * 1000 + "\n" + "第二部分" * 300  # cut at the line break
    async with db.uow() as uow:
        await uow.outbox.add(message_row(1001, text, NOW))
    await outbox.start()
    try:
        assert await drained(db) == {"sent": 1}
    finally:
        await outbox.stop()
    texts = [p["text"] for p in bot.sent("SendMessage")]
    # The first part went once; the second was tried again, alone.
    assert [t[:4] for t in texts] == ["第一部分", "第二部分", "第二部分"]
    assert outbox.stats.postponed_network == 1


async def _show_twice(db: Database, bot: FakeBot, can_edit: bool) -> OutboxDispatcherType:
    outbox = dispatcher(db, bot, replace(TELEGRAM, can_edit=can_edit))
    shown = {"delivered": 0}

    async def report(_uow: Any, _chat: int, _payload: dict[str, Any]) -> tuple[str, None]:
        return f"已送达 {shown['delivered']}", None

    outbox.register_view("report", report)
    await outbox.start()
    try:
        for delivered in (1, 2):
            shown["delivered"] = delivered
            async with db.uow() as uow:
                await uow.outbox.refresh_view(
                    view_row(1001, "bc:7:report", {"view": "report"}, NOW)
                )
            outbox.wake()
            await drained(db)
    finally:
        await outbox.stop()
    return outbox


OutboxDispatcherType = Any


async def test_a_live_view_is_edited_in_place(db: Database) -> None:
    bot = FakeBot()
    await _show_twice(db, bot, can_edit=True)
    assert [p["text"] for p in bot.sent("SendMessage")] == ["已送达 1"]
    assert [(p["message_id"], p["text"]) for p in bot.sent("EditMessageText")] == [
        (101, "已送达 2")
    ]
    async with db.read() as uow:
        assert await uow.outbox.posted("bc:7:report") == (1001, 101)


async def test_a_channel_that_cannot_edit_posts_the_view_anew(db: Database) -> None:
    bot = FakeBot()
    await _show_twice(db, bot, can_edit=False)
    assert [p["text"] for p in bot.sent("SendMessage")] == ["已送达 1", "已送达 2"]
    assert bot.sent("EditMessageText") == []
    async with db.read() as uow:  # the ref follows the newest post
        assert await uow.outbox.posted("bc:7:report") == (1001, 102)


async def test_a_ballot_is_a_non_anonymous_poll_whose_id_its_hook_gets(db: Database) -> None:
    bot = FakeBot()
    bot.answers["SendPoll"] = lambda mid: {"message_id": mid, "poll": {"id": "P-1"}}
    outbox = dispatcher(db, bot)
    heard: list[tuple[int, Sent]] = []

    async def remember(_uow: Any, row: Any, sent: Sent) -> None:
        heard.append((row.payload["subject_id"], sent))

    outbox.on_sent("ev_poll", remember)
    async with db.uow() as uow:
        row = ballot_row(
            1001,
            "黄思村党总支：沈红梅",
            ["满意", "基本满意", "不满意"],
            NOW,
            on_sent="ev_poll",
            evaluation_id=1,
            subject_id=3,
            person_id=9,
        )
        await uow.outbox.add([row])
    await outbox.start()
    try:
        assert await drained(db) == {"sent": 1}
    finally:
        await outbox.stop()
    [poll] = bot.sent("SendPoll")
    assert poll["is_anonymous"] is False and poll["options"] == ["满意", "基本满意", "不满意"]
    assert heard == [(3, Sent(message_id=101, ballot_id="P-1"))]
