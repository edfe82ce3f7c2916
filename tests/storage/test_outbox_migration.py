"""Migration 0014 on a database holding outbox rows of the old shape (Bot API calls, with
Telegram file ids, which 0012 carries into the file store): the pending ones become intents
and go out as the same Bot API calls they were; settled rows keep their history and get their
kind."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.channels.telegram.files import TelegramFiles
from storage.db import Database
from storage.files import DbFileStore, DiskBlobs
from tests.storage.outbox_fakes import FakeBot, dispatcher, drained
from tests.storage.test_migrations_cli import alembic

AT = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
ACK = [[{"text": "收到", "callback_data": "bc:ack:7:1"}]]
KEYBOARD = {"inline_keyboard": ACK}
OLD_ROWS: list[tuple[int, str, dict[str, Any], str | None, str]] = [
    (1001, "sendMessage", {"text": "📢 通知｜请按时缴纳党费。", "buttons": ACK}, None, "pending"),
    (-100, "upsert", {"text": "公示：沈红梅的承诺"}, "board:pledge:1", "pending"),
    (-100, "view", {"view": "turnout", "evaluation_id": 1}, "ev:1:turnout", "pending"),
    (
        1002,
        "sendPoll",
        {
            "question": "黄思村党总支：沈红梅",
            "options": ["满意", "基本满意", "不满意"],
            "is_anonymous": False,
            "on_sent": "ev_poll",
            "evaluation_id": 1,
            "subject_id": 3,
            "person_id": 9,
        },
        None,
        "pending",
    ),
    (1003, "stopPoll", {"message_id": 55}, None, "pending"),
    (1001, "editMessageReplyMarkup", {"message_id": 41, "buttons": ACK}, None, "pending"),
    (
        1004,
        "sendPhoto",
        {"file_id": "AgAD-photo", "caption": "📢 通知｜见图", "buttons": ACK},
        None,
        "pending",
    ),
    (1005, "sendDocument", {"file_id": "BQAD-doc", "caption": "📢 通知｜附件"}, None, "pending"),
    (
        -100,
        "sendPhoto",
        {"render": "chart", "evaluation_id": 1, "caption": "结果"},
        None,
        "pending",
    ),
    (1001, "sendMessage", {"text": "已发送的通知", "buttons": ACK}, None, "sent"),
    (1001, "sendPoll", {"question": "q", "options": ["a", "b"]}, None, "failed"),
]


async def _populate(url: str, tmp_path: Path) -> None:
    assert alembic(url, "downgrade", "base", cwd=tmp_path).returncode == 0
    before = alembic(url, "upgrade", "0011", cwd=tmp_path)
    assert before.returncode == 0, before.stderr
    database = Database(url)
    try:
        async with database.engine.begin() as conn:
            for n, (chat, method, payload, ref, status) in enumerate(OLD_ROWS, start=1):
                await conn.execute(
                    text(
                        "INSERT INTO outbox (id, chat_id, method, payload, ref, status, "
                        "attempts, not_before, created_at, message_id) VALUES (:id, :chat, "
                        ":method, :payload, :ref, :status, 0, :at, :at, :mid)"
                    ),
                    {
                        "id": n,
                        "chat": chat,
                        "method": method,
                        "payload": json.dumps(payload, ensure_ascii=False),
                        "ref": ref,
                        "status": status,
                        "at": AT.replace(tzinfo=None),  # stored as UTC, naive
                        "mid": 40 + n if status == "sent" else None,
                    },
                )
            await conn.execute(
                text("INSERT INTO posted_messages VALUES ('board:pledge:1', -100, 77)")
            )
    finally:
        await database.dispose()
    after = alembic(url, "upgrade", "head", cwd=tmp_path)
    assert after.returncode == 0, after.stderr


async def test_pending_rows_of_the_old_shape_become_intents(
    database_url: str, tmp_path: Path
) -> None:
    await _populate(database_url, tmp_path)
    db = Database(database_url)
    try:
        async with db.read() as uow:
            rows = await uow.outbox.rows(list(range(1, len(OLD_ROWS) + 1)))
    finally:
        await db.dispose()
    kinds = [(row.kind, row.status) for row in rows]
    assert kinds == [
        ("message", "pending"),
        ("message", "pending"),
        ("view", "pending"),
        ("ballot", "pending"),
        ("close_ballot", "pending"),
        ("edit", "pending"),
        ("message", "pending"),
        ("message", "pending"),
        ("file", "pending"),
        ("message", "sent"),
        ("ballot", "failed"),
    ]
    neutral = [[{"label": "收到", "action": ["bc", "ack", "7", "1"]}]]
    assert rows[0].payload == {"text": "📢 通知｜请按时缴纳党费。", "buttons": neutral}
    photo = rows[6].payload
    assert photo["text"] == "📢 通知｜见图" and photo["buttons"] == neutral
    assert photo["attachment"]["type"] == "photo" and isinstance(photo["attachment"]["file"], int)
    assert rows[7].payload["attachment"]["type"] == "document"
    assert "is_anonymous" not in rows[3].payload
    assert rows[8].payload["type"] == "photo" and rows[8].payload["render"] == "chart"
    assert rows[9].payload["buttons"] == ACK  # history stays as it was sent
    assert all(row.parts_sent == 0 for row in rows)


async def test_the_converted_rows_go_out_as_the_calls_they_were(
    database_url: str, tmp_path: Path
) -> None:
    await _populate(database_url, tmp_path)
    db = Database(database_url)
    bot = FakeBot()
    bot.answers["SendPoll"] = lambda mid: {"message_id": mid, "poll": {"id": "P-1"}}
    files = TelegramFiles(DbFileStore(db, DiskBlobs(tmp_path / "files")))
    outbox = dispatcher(db, bot, files=files)

    async def turnout(_uow: Any, _chat: int, _payload: dict[str, Any]) -> tuple[str, None]:
        return "投票进度 3/30", None

    async def chart(_uow: Any, _payload: dict[str, Any]) -> Any:
        return lambda: b"PNG"

    async def send_photo(chat_id: int, photo: bytes, **kw: Any) -> Any:
        bot.calls.append(("send_photo", {"chat_id": chat_id, "photo": photo, **kw}))
        return type("Message", (), {"message_id": 900})()

    bot.send_photo = send_photo  # type: ignore[attr-defined]
    outbox.register_view("turnout", turnout)
    outbox.register_file("chart", chart)
    await outbox.start()
    try:
        counts = await drained(db)
    finally:
        await outbox.stop()
        await db.dispose()
    assert counts == {"sent": 10, "failed": 1}
    calls = [(m, {k: v for k, v in p.items() if k != "chat_id"}) for m, p in bot.calls]
    # Chats go in parallel: the calls as a set (each chat's own rows keep their order).
    assert sorted(calls, key=repr) == sorted(EXPECTED_CALLS, key=repr)


EXPECTED_CALLS = [
    ("SendMessage", {"text": "📢 通知｜请按时缴纳党费。", "reply_markup": KEYBOARD}),
    ("EditMessageText", {"text": "公示：沈红梅的承诺", "message_id": 77}),
    ("SendMessage", {"text": "投票进度 3/30"}),
    (
        "SendPoll",
        {
            "question": "黄思村党总支：沈红梅",
            "options": ["满意", "基本满意", "不满意"],
            "is_anonymous": False,
        },
    ),
    ("StopPoll", {"message_id": 55}),
    ("EditMessageReplyMarkup", {"message_id": 41, "reply_markup": KEYBOARD}),
    (
        "SendPhoto",
        {"photo": "AgAD-photo", "caption": "📢 通知｜见图", "reply_markup": KEYBOARD},
    ),
    ("SendDocument", {"document": "BQAD-doc", "caption": "📢 通知｜附件"}),
    ("send_photo", {"photo": b"PNG", "caption": "结果"}),
]
