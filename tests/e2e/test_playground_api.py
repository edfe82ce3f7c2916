"""The playground's JSON API (/play/api): what the web page does, and every bad request."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.playground.run import Playground
from bot.playground.sim_state import MAX_FILE_SIZE, tiny_png
from tests.playground_support import running_playground

WAIT = 10.0


@pytest.fixture
async def playground(tmp_path: Path) -> AsyncIterator[Playground]:
    async with running_playground(tmp_path) as running:
        yield running


@pytest.fixture
async def http(playground: Playground) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=playground.sim.root_url) as session:
        yield session


def uid(playground: Playground, name: str) -> int:
    return next(p.user_id for p in playground.cast if p.person.name == name)


def board_of(playground: Playground, name: str) -> int:
    board = next(p.org.board_chat_id for p in playground.cast if p.person.name == name)
    assert board is not None
    return board


async def get(http: aiohttp.ClientSession, path: str) -> tuple[int, Any]:
    async with http.get("/play/api" + path) as response:
        return response.status, await response.json()


async def post(
    http: aiohttp.ClientSession, path: str, body: Any = None, **kw: Any
) -> tuple[int, Any]:
    if body is not None:
        kw["json"] = body
    async with http.post("/play/api" + path, **kw) as response:
        return response.status, await response.json()


async def messages(http: aiohttp.ClientSession, persona: int, chat: int) -> list[dict[str, Any]]:
    status, body = await get(http, f"/personas/{persona}/chats/{chat}/messages")
    assert status == 200, body
    result: list[dict[str, Any]] = body["messages"]
    return result


# ---------------------------------------------------------------------- happy paths


async def test_page_is_served_on_loopback(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    assert playground.url.startswith("http://127.0.0.1:")
    async with http.get("/", allow_redirects=False) as response:
        assert response.status == 302 and response.headers["Location"] == "/play/"
    async with http.get("/play/") as response:
        assert response.status == 200
        assert "charset=utf-8" in response.headers["Content-Type"]
        page = await response.text()
    assert "践诺" in page and "/play/static/app.js" in page
    for asset in ("app.js", "style.css"):
        async with http.get(f"/play/static/{asset}") as response:
            assert response.status == 200
    # The Bot API keeps working beside the page.
    async with http.get(f"/bot{playground.sim.token}/getMe") as response:
        assert (await response.json())["result"]["username"] == "jiannuo_bot"


async def test_personas_cover_the_demo_district(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    status, body = await get(http, "/personas")
    assert status == 200 and body["ok"] is True
    people = {p["name"]: p for p in body["personas"]}
    assert people["沈红梅"]["role"] == "member"
    assert people["沈红梅"]["org"]["name"] == "黄思村党总支"
    assert people["沈红梅"]["role_label"] == {"zh_CN": "党员", "en": "member"}
    assert people["沈宝方"]["role"] == "secretary"
    assert people["刘晓燕"]["role"] == "committee"
    assert people["王建国"]["cadre"] is True
    assert people["朱德顺"]["oral"] is True
    assert people["唐勇"]["origin_org"] == "黄思村党总支"  # a mobile member
    assert people["黄晓明"]["residence_org"] == "东园社区党支部"  # an in-service member
    assert people["张桂英"]["role"] == "resident"
    assert {p["org"]["type"] for p in body["personas"]} >= {
        "rural",
        "community",
        "private",
        "organ",
    }
    assert body["bot"]["username"] == "jiannuo_bot"


async def test_chats_and_menus_of_a_persona(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    member, secretary = uid(playground, "沈红梅"), uid(playground, "沈宝方")
    status, body = await get(http, f"/personas/{member}/chats")
    assert status == 200
    chats = body["chats"]
    assert [c["type"] for c in chats] == ["private", "group"]
    assert chats[0]["id"] == member and chats[0]["title"] == "践诺"
    assert chats[1]["id"] == board_of(playground, "沈红梅")
    assert chats[1]["title"] == "黄思村党总支公示栏" and chats[1]["members"] > 2

    status, body = await get(http, f"/personas/{member}/chats/{member}/messages")
    assert status == 200 and body["chat"]["id"] == member
    member_menu = [c["command"] for c in body["commands"]]
    assert "pledge" in member_menu and "review" not in member_menu
    assert {"command": "pledge", "description": "填写或继续承诺"} in body["commands"]
    secretary_menu = [
        c["command"]
        for c in (await get(http, f"/personas/{secretary}/chats/{secretary}/messages"))[1][
            "commands"
        ]
    ]
    assert {"review", "oral", "linkboard"} <= set(secretary_menu)
    # The seeded publications are on the board (the outbox posts them just after the start:
    # a board post is rendered when it is sent, so it may take a moment).
    group = board_of(playground, "沈红梅")
    await playground.sim.wait_until(
        lambda: any("XH-HS-" in m.content for m in playground.sim.bot_messages(group)), 10
    )
    board = await messages(http, member, group)
    assert any("XH-HS-" in (m["text"] or "") for m in board)


async def test_send_text_reaches_the_bot_as_telegram_would_send_it(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    member = uid(playground, "沈红梅")
    status, body = await post(http, f"/personas/{member}/chats/{member}/send", {"text": "/help"})
    assert status == 200 and body["message"]["outgoing"] is True
    assert body["message"]["text"] == "/help"
    reply = await playground.sim.wait_bot_message(
        member, after=body["message"]["id"], timeout=WAIT
    )
    assert "/pledge" in reply.content
    update = next(
        u
        for u in playground.sim.delivered_updates()
        if u.get("message", {}).get("text") == "/help"
    )
    assert update["message"]["from"]["id"] == member
    assert update["message"]["chat"] == {"id": member, "type": "private", "first_name": "沈红梅"}
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 5}]
    shown = await messages(http, member, member)
    assert shown[-1]["from_bot"] is True and "/pledge" in shown[-1]["text"]


async def test_tap_edits_the_message_in_place_and_returns_the_answer(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    member = uid(playground, "沈红梅")
    base = f"/personas/{member}/chats/{member}"
    _, sent = await post(http, base + "/send", {"text": "/pledge"})
    question = await playground.sim.wait_bot_message(
        member, lambda m: bool(m.buttons), after=sent["message"]["id"], timeout=WAIT
    )
    annual = next(b for b in question.iter_buttons() if b.text == "年度承诺")
    status, body = await post(
        http, base + "/tap", {"message_id": question.message_id, "data": annual.callback_data}
    )
    assert status == 200 and "answer" in body
    await playground.sim.wait_until(lambda: question.edits > 0, WAIT)
    shown = next(m for m in await messages(http, member, member) if m["id"] == question.message_id)
    assert shown["edits"] == 1 and "请选择类别" in shown["text"]
    assert shown["buttons"] and shown["buttons"][0][0]["data"]


async def test_vote_in_a_poll(playground: Playground, http: aiohttp.ClientSession) -> None:
    member, board = uid(playground, "沈红梅"), board_of(playground, "沈红梅")
    assert playground.app is not None
    poll = await playground.app.bot.send_poll(board, "满意吗？", ["满意", "基本满意", "不满意"])
    status, body = await post(
        http,
        f"/personas/{member}/chats/{board}/vote",
        {"message_id": poll.message_id, "options": [1]},
    )
    assert status == 200 and body["poll"]["chosen"] == [1]
    shown = next(m for m in await messages(http, member, board) if m["id"] == poll.message_id)
    assert shown["poll"]["chosen"] == [1]
    assert [o["votes"] for o in shown["poll"]["options"]] == [0, 1, 0]
    other = uid(playground, "沈宝方")
    seen_by_other = next(
        m for m in await messages(http, other, board) if m["id"] == poll.message_id
    )
    assert seen_by_other["poll"]["chosen"] == [] and seen_by_other["poll"]["total"] == 1
    status, _ = await post(
        http,
        f"/personas/{member}/chats/{board}/vote",
        {"message_id": poll.message_id, "options": []},
    )
    assert poll.poll is not None
    assert status == 200 and playground.sim.poll(poll.poll.id).votes == {}


async def test_upload_a_photo_and_a_file(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    member = uid(playground, "王建国")
    base = f"/personas/{member}/chats/{member}"
    form = aiohttp.FormData()
    form.add_field("caption", "水渠修复现场")
    form.add_field("file", tiny_png(8, 6), filename="现场.png", content_type="image/png")
    status, body = await post(http, base + "/upload", data=form)
    assert status == 200, body
    photo = body["message"]
    assert photo["caption"] == "水渠修复现场" and photo["photo"]["width"] == 8
    async with http.get(photo["photo"]["url"]) as response:
        assert response.status == 200 and await response.read() == tiny_png(8, 6)

    form = aiohttp.FormData()
    form.add_field("file", "心得".encode(), filename="心得.txt", content_type="text/plain")
    status, body = await post(http, base + "/upload", data=form)
    assert status == 200, body
    document = body["message"]["document"]
    assert document["name"] == "心得.txt" and document["mime"] == "text/plain"
    async with http.get(document["url"]) as response:
        assert await response.read() == "心得".encode()
        assert "attachment" in response.headers["Content-Disposition"]

    def delivered(kind: str) -> bool:
        return any(
            kind in u.get("message", {}) and u["message"]["from"]["id"] == member
            for u in playground.sim.delivered_updates()
        )

    await playground.sim.wait_until(lambda: delivered("photo") and delivered("document"), WAIT)


async def test_events_tell_the_page_what_changed(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    member = uid(playground, "沈红梅")
    async with http.get("/play/api/events") as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        assert await _next_event(stream) == ("hello", {"generation": 0})
        playground.sim.send_text(member, "你好")
        event, data = await _next_event(stream)
        assert event == "changed" and member in data["chats"]


async def _next_event(stream: aiohttp.ClientResponse) -> tuple[str, Any]:
    event, data = "", ""
    while True:
        line = (await asyncio.wait_for(stream.content.readline(), WAIT)).decode().rstrip("\n")
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            data = line[6:]
        elif not line and event:
            return event, json.loads(data)


async def test_reset_restores_the_seeded_demo(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    member, board = uid(playground, "沈红梅"), board_of(playground, "沈红梅")
    base = f"/personas/{member}/chats/{member}"
    _, sent = await post(http, base + "/send", {"text": "/pledge"})
    question = await playground.sim.wait_bot_message(
        member, lambda m: bool(m.buttons), after=sent["message"]["id"], timeout=WAIT
    )
    annual = next(b for b in question.iter_buttons() if b.text == "年度承诺")
    await post(
        http, base + "/tap", {"message_id": question.message_id, "data": annual.callback_data}
    )
    await playground.sim.wait_until(lambda: question.edits > 0, WAIT)  # a draft with a horizon
    await post(http, f"/personas/{member}/chats/{board}/send", {"text": "大家好"})
    old_app = playground.app

    async with http.get("/play/api/events") as stream:
        await _next_event(stream)
        status, body = await post(http, "/reset")
        assert status == 200 and body["personas"] == len(playground.cast) > 30
        # Changes made before the reset (the bot still answering in the chats) may be told
        # first; the reset must follow them.
        event = (await _next_event(stream))[0]
        while event == "changed":
            event = (await _next_event(stream))[0]
        assert event == "reset"

    assert playground.app is not None and playground.app is not old_app
    assert playground.app.running and old_app is not None and not old_app.running
    assert playground.db_path.exists()
    assert await messages(http, member, member) == []
    assert uid(playground, "沈红梅") == member  # the same demo accounts
    await playground.sim.wait_until(  # the seeded publications are posted again
        lambda: any("XH-HS-" in m.content for m in playground.sim.bot_messages(board)), WAIT
    )
    assert not any(m.content == "大家好" for m in playground.sim.messages(board))
    # The bot works after the reset, on a fresh database: the draft is gone.
    _, sent = await post(http, base + "/send", {"text": "/pledge"})
    fresh = await playground.sim.wait_bot_message(
        member, after=sent["message"]["id"], timeout=WAIT
    )
    assert "请选择承诺类型" in fresh.content
    assert not any("上次保存的草稿" in m.content for m in playground.sim.bot_messages(member))


# ---------------------------------------------------------------------- bad requests


async def test_unknown_persona_is_404(playground: Playground, http: aiohttp.ClientSession) -> None:
    for path in ("/personas/1/chats", "/personas/abc/chats", "/personas/42/chats/42/messages"):
        status, body = await get(http, path)
        assert status == 404 and body["ok"] is False and "unknown persona" in body["error"]
    status, body = await post(http, "/personas/1/chats/1/send", {"text": "hi"})
    assert status == 404 and "unknown persona" in body["error"]


async def test_unknown_chat_is_404(playground: Playground, http: aiohttp.ClientSession) -> None:
    member = uid(playground, "沈红梅")
    for chat in ("-5", "123", "x"):
        status, body = await get(http, f"/personas/{member}/chats/{chat}/messages")
        assert status == 404 and "unknown chat" in body["error"]


async def test_a_chat_the_persona_is_not_in_is_403(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    member = uid(playground, "沈红梅")
    someone_else = uid(playground, "吴静")
    other_board = board_of(playground, "吴静")
    for chat in (someone_else, other_board):
        status, body = await get(http, f"/personas/{member}/chats/{chat}/messages")
        assert status == 403 and "沈红梅" in body["error"] and "not in chat" in body["error"]
        status, body = await post(http, f"/personas/{member}/chats/{chat}/send", {"text": "hi"})
        assert status == 403
    before = len(playground.sim.messages(other_board))
    assert len(playground.sim.messages(other_board)) == before  # nothing was sent


async def test_malformed_json_is_400(playground: Playground, http: aiohttp.ClientSession) -> None:
    member = uid(playground, "沈红梅")
    base = f"/personas/{member}/chats/{member}"
    cases: list[tuple[str, bytes, str]] = [
        ("/send", b"{not json", "malformed JSON"),
        ("/send", b"[1, 2]", "JSON object"),
        ("/send", b"", "JSON object"),
        ("/send", b'{"text": ""}', '"text"'),
        ("/send", b'{"text": 5}', '"text"'),
        ("/send", json.dumps({"text": "长" * 4097}).encode(), "4096"),
        ("/tap", b'{"data": "x"}', '"message_id" is required'),
        ("/tap", b'{"message_id": "1", "data": "x"}', "integer"),
        ("/tap", b'{"message_id": 1}', '"data"'),
        ("/vote", b'{"message_id": 1, "options": "0"}', '"options"'),
        ("/vote", b'{"message_id": 1, "options": [true]}', '"options"'),
    ]
    for path, raw, expected in cases:
        async with http.post(
            "/play/api" + base + path, data=raw, headers={"Content-Type": "application/json"}
        ) as response:
            body = await response.json()
            assert 400 <= response.status < 500, (path, raw, body)
            assert body["ok"] is False and expected in body["error"], (path, raw, body)


async def test_buttons_polls_and_messages_that_are_not_there(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    member = uid(playground, "王建国")
    base = f"/personas/{member}/chats/{member}"
    newest = (await messages(http, member, member))[-1]
    status, body = await post(http, base + "/tap", {"message_id": 9999, "data": "x"})
    assert status == 404 and "no message 9999" in body["error"]
    status, body = await post(http, base + "/tap", {"message_id": newest["id"], "data": "forged"})
    assert status == 409 and "no button" in body["error"]
    status, body = await post(http, base + "/vote", {"message_id": newest["id"], "options": [0]})
    assert status == 400 and "not a poll" in body["error"]
    status, body = await post(http, base + "/send", {"text": "hi", "reply_to": 9999})
    assert status == 404


async def test_uploads_that_are_refused(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    member = uid(playground, "王建国")
    base = f"/personas/{member}/chats/{member}"
    before = len(playground.sim.messages(member))

    big = aiohttp.FormData()
    big.add_field(
        "file",
        io.BytesIO(b"\0" * (MAX_FILE_SIZE + 1)),  # bytes this big would warn (an error here)
        filename="big.bin",
        content_type="application/octet-stream",
    )
    status, body = await post(http, base + "/upload", data=big)
    assert status == 413 and "too big" in body["error"] and "20 MB" in body["error"]

    status, body = await post(http, base + "/upload", {"file": "x"})
    assert status == 400 and "multipart" in body["error"]
    empty_form = aiohttp.FormData()
    empty_form.add_field("caption", "no file")
    status, body = await post(http, base + "/upload", data=empty_form)
    assert status == 400 and "'file'" in body["error"]
    not_image = aiohttp.FormData()
    not_image.add_field("kind", "photo")
    not_image.add_field("file", b"plain text", filename="a.png", content_type="image/png")
    status, body = await post(http, base + "/upload", data=not_image)
    assert status == 400 and "not a PNG" in body["error"]
    long_caption = aiohttp.FormData()
    long_caption.add_field("caption", "长" * 1025)
    long_caption.add_field("file", tiny_png(), filename="a.png", content_type="image/png")
    status, body = await post(http, base + "/upload", data=long_caption)
    assert status == 400 and "1024" in body["error"]
    assert len(playground.sim.messages(member)) == before  # none of them was sent


async def test_unknown_api_and_reset_in_progress(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    status, body = await get(http, "/nothing-here")
    assert status == 404 and "no such API" in body["error"]
    status, body = await get(http, "/reset")  # reset is POST only
    assert status == 404 and body["ok"] is False
    playground.resetting = True
    try:
        status, body = await get(http, "/personas")
        assert status == 503 and "reset" in body["error"]
    finally:
        playground.resetting = False


async def test_other_sites_cannot_drive_the_playground(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    member = uid(playground, "沈红梅")
    before = len(playground.sim.messages(member))
    path = f"/personas/{member}/chats/{member}/send"
    headers = {"Origin": "http://evil.example"}
    status, body = await post(http, path, {"text": "hi"}, headers=headers)
    assert status == 403 and "another site" in body["error"]
    status, body = await post(http, "/reset", headers=headers)
    assert status == 403
    status, body = await post(http, path, {"text": "hi"}, headers={"Host": "rebound.example"})
    assert status == 403 and "127.0.0.1 only" in body["error"]
    assert len(playground.sim.messages(member)) == before
    own = {"Origin": playground.sim.root_url}
    status, _ = await post(http, path, {"text": "hi"}, headers=own)
    assert status == 200


async def test_a_restarted_playground_answers_at_once(tmp_path: Path) -> None:
    """The playground's database outlives its process; the next run's updates must not carry
    ids the bot already handled (it would ignore them as delivered twice)."""
    await ask_for_help(tmp_path)
    await ask_for_help(tmp_path)  # the same database, a new simulator


async def ask_for_help(tmp: Path) -> None:
    async with running_playground(tmp) as playground:
        user = playground.cast[0].user_id
        before = len(playground.sim.bot_messages(user))
        playground.sim.send_text(user, "/help")
        await playground.sim.wait_until(
            lambda: len(playground.sim.bot_messages(user)) > before, 10
        )
