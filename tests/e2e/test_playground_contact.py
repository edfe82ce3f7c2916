"""The playground shows the bot's reply keyboard; its request_contact button shares the
persona's own phone, which confirms a resident's number."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.playground.run import Playground
from storage.db import Database
from tests.playground_support import running_playground

WAIT = 10.0


@pytest.fixture
async def playground(tmp_path: Path) -> AsyncIterator[Playground]:
    async with running_playground(tmp_path) as running:
        yield running


async def _messages(http: aiohttp.ClientSession, persona: int) -> dict[str, Any]:
    async with http.get(f"/play/api/personas/{persona}/chats/{persona}/messages") as response:
        assert response.status == 200
        body: dict[str, Any] = await response.json()
        return body


async def _until(http: aiohttp.ClientSession, persona: int, text: str) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while True:
        body = await _messages(http, persona)
        if any(text in (m.get("text") or "") for m in body["messages"] if m["from_bot"]):
            return body
        assert loop.time() < deadline, [m.get("text") for m in body["messages"]][-3:]
        await asyncio.sleep(0.05)


async def test_request_contact_button_confirms_the_residents_phone(
    playground: Playground,
) -> None:
    resident = next(p for p in playground.cast if p.person.name == "张桂英")
    uid = resident.user_id
    base = f"/play/api/personas/{uid}/chats/{uid}"
    async with aiohttp.ClientSession(base_url=playground.sim.root_url) as http:
        async with http.post(base + "/send", json={"text": "/start"}) as response:
            assert response.status == 200
        body = await _until(http, uid, "请确认您的手机号")
        keyboard = body["reply_keyboard"]
        assert keyboard and keyboard[0][0]["request_contact"] is True
        assert "发送我的手机号" in keyboard[0][0]["text"]

        async with http.post(base + "/contact", json={}) as response:
            assert response.status == 200
            sent = (await response.json())["message"]
        assert sent["contact"]["phone_number"] == resident.person.phone
        body = await _until(http, uid, "手机号已确认")
        assert body["reply_keyboard"] is None

        group = resident.org.board_chat_id
        assert group is not None
        async with http.post(f"/play/api/personas/{uid}/chats/{group}/contact", json={}) as r:
            assert r.status == 400
    db = Database(f"sqlite+aiosqlite:///{playground.db_path}")
    try:
        async with db.uow() as uow:
            person = await uow.people.by_tg(uid)
    finally:
        await db.dispose()
    assert person is not None and person.phone_confirmed
