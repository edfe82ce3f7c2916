"""AiohttpRequest (bot/http.py), the bot's HTTP client, against a local aiohttp server: what
arrives (form fields, uploads as PTB builds them), timeouts, errors, its life cycle."""

from __future__ import annotations

import asyncio
import gc
import io
import json
import re
import socket
import time
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from unittest.mock import Mock

import pytest
from aiohttp import web
from telegram import Bot, InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot.http import AiohttpRequest
from bot.update_journal import JournalingRequest

TOKEN = "123456:TEST"
USER = {"id": 123456, "is_bot": True, "first_name": "Jiannuo", "username": "jiannuo_bot"}
MESSAGE = {"message_id": 7, "date": 0, "chat": {"id": 42, "type": "private"}}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class Received:
    method: str  # the Bot API method (the URL's last segment)
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        assert self.headers["Content-Type"] == "application/json"
        result: dict[str, Any] = json.loads(self.body)
        return result

    def parts(self) -> list[Part]:
        """The multipart body, split by hand (not by aiohttp: its encoder is under test)."""
        content_type = self.headers["Content-Type"]
        assert content_type.startswith("multipart/form-data; boundary=")
        boundary = content_type.split("boundary=", 1)[1].encode()
        assert int(self.headers["Content-Length"]) == len(self.body)
        assert self.body.endswith(b"--" + boundary + b"--\r\n")
        parts = []
        for chunk in self.body.split(b"--" + boundary)[1:-1]:
            assert chunk.startswith(b"\r\n") and chunk.endswith(b"\r\n")
            head, data = chunk[2:-2].split(b"\r\n\r\n", 1)
            lines = dict(line.split(": ", 1) for line in head.decode("utf-8").split("\r\n"))
            params = dict(re.findall(r'(\w+)="([^"]*)"', lines["Content-Disposition"]))
            assert lines["Content-Disposition"].startswith("form-data; ")
            parts.append(
                Part(params["name"], params.get("filename"), lines.get("Content-Type"), data)
            )
        return parts


@dataclass
class Server:
    """A Bot API stand-in: records each request, answers like Telegram after ``delay`` s."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    delay: float = 0.0

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await request.read()
        self.received.append(Received(method, dict(request.headers), body))
        if self.delay:
            await asyncio.sleep(self.delay)
        result: Any = {"getMe": USER, "getUpdates": []}.get(method, MESSAGE)
        if method == "getUpdates" and body:
            result = [{"update_id": 5, "message": {**MESSAGE, "text": "hi"}}]
        return web.json_response({"ok": True, "result": result})

    @property
    def last(self) -> Received:
        return self.received[-1]


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    srv = Server()
    app = web.Application()
    app.router.add_route("*", "/{path:.*}/{method}", srv.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    srv.url = f"http://{host}:{port}"
    try:
        yield srv
    finally:
        await runner.cleanup()


@pytest.fixture
async def request_() -> AsyncIterator[AiohttpRequest]:
    req = AiohttpRequest()
    await req.initialize()
    try:
        yield req
    finally:
        await req.shutdown()


def data(**params: Any) -> RequestData:
    return RequestData([RequestParameter.from_input(k, v) for k, v in params.items()])


def api(server: Server, method: str) -> str:
    return f"{server.url}/bot{TOKEN}/{method}"


# -- what arrives


async def test_parameters_arrive_as_a_json_body(server: Server, request_: AiohttpRequest) -> None:
    text = '我的承诺 & a=b + 100% "引号"'
    code, body = await request_.do_request(
        api(server, "sendMessage"), "POST", data(chat_id=42, text=text, reply_markup={"a": [1]})
    )
    assert code == 200 and json.loads(body)["result"] == MESSAGE
    assert server.last.method == "sendMessage"
    assert server.last.json() == {"chat_id": 42, "text": text, "reply_markup": {"a": [1]}}
    assert "我的承诺".encode() in server.last.body  # UTF-8 as it is, not \u-escaped
    assert server.last.headers["User-Agent"] == BaseRequest.USER_AGENT


async def test_a_multipart_upload_arrives_intact(server: Server, request_: AiohttpRequest) -> None:
    xlsx = bytes(range(256)) * 40  # every byte value, CR and LF included
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    handle = io.BytesIO(png)
    handle.read(10)  # a handle's position does not matter: it is sent from its start
    request_data = data(
        chat_id=42,
        caption="统计表 (2026)",
        document=InputFile(xlsx, filename="承诺统计表.xlsx"),
        thumbnail=InputFile(handle, filename='a "quoted"\\name.png', read_file_handle=False),
    )
    code, _ = await request_.do_request(api(server, "sendDocument"), "POST", request_data)
    assert code == 200
    assert server.last.parts() == [
        Part("chat_id", None, None, b"42"),
        Part("caption", None, None, "统计表 (2026)".encode()),
        Part("document", "承诺统计表.xlsx", XLSX, xlsx),
        Part("thumbnail", "a %22quoted%22\\\\name.png", "image/png", png),
    ]
    # raw UTF-8 in the header (as httpx and browsers send it), not percent-encoded
    assert 'filename="承诺统计表.xlsx"'.encode() in server.last.body
    assert server.last.headers["User-Agent"] == BaseRequest.USER_AGENT


async def test_ptb_sends_documents_and_photos_through_it(server: Server) -> None:
    xlsx, png = b"PK\x03\x04" + b"x" * 5000, b"\x89PNG\r\n\x1a\n" + b"y" * 3000
    async with Bot(TOKEN, base_url=f"{server.url}/bot", request=AiohttpRequest()) as bot:
        assert (await bot.get_me()).username == "jiannuo_bot"
        sent = await bot.send_document(42, xlsx, filename="台账.xlsx", caption="台账")
        assert sent.message_id == 7
        document = server.last.parts()
        await bot.send_photo(42, io.BytesIO(png), caption="chart", filename="chart.png")
        photo = server.last.parts()
        await bot.send_message(42, "好")
        message = server.last.json()
    assert Part("document", "台账.xlsx", XLSX, xlsx) in document
    assert Part("caption", None, None, "台账".encode()) in document
    assert Part("photo", "chart.png", "image/png", png) in photo
    assert message["text"] == "好" and message["chat_id"] == 42


# -- timeouts


async def test_a_slow_server_times_out(server: Server) -> None:
    server.delay = 2.0
    async with AiohttpRequest(read_timeout=0.2) as req:
        started = time.monotonic()
        with pytest.raises(TimedOut):
            await req.do_request(api(server, "sendMessage"), "POST", data(chat_id=1))
        assert time.monotonic() - started < 1.5


async def test_a_per_call_timeout_overrides_the_default(server: Server) -> None:
    server.delay = 0.5
    async with AiohttpRequest(read_timeout=0.1) as req:
        code, _ = await req.do_request(
            api(server, "sendMessage"), "POST", data(chat_id=1), read_timeout=3
        )
        assert code == 200
    async with AiohttpRequest(read_timeout=30) as req:
        with pytest.raises(TimedOut):
            await req.do_request(
                api(server, "sendMessage"), "POST", data(chat_id=1), read_timeout=0.1
            )


async def test_a_long_poll_is_not_cut(server: Server) -> None:
    """getUpdates waits up to its timeout; PTB adds it to the default read timeout."""
    server.delay = 0.8
    request = AiohttpRequest(read_timeout=0.3)
    async with Bot(TOKEN, base_url=f"{server.url}/bot", get_updates_request=request) as bot:
        updates = await bot.get_updates(timeout=1)
    assert [u.update_id for u in updates] == [5]


async def test_a_full_pool_times_out(server: Server) -> None:
    server.delay = 1.0
    async with AiohttpRequest(connection_pool_size=1, pool_timeout=0.1) as req:
        url = api(server, "sendMessage")
        busy = asyncio.create_task(req.do_request(url, "POST", data(chat_id=1)))
        await asyncio.sleep(0.1)
        with pytest.raises(TimedOut, match="not\\* sent"):
            await req.do_request(url, "POST", data(chat_id=2), connect_timeout=0.1)
        assert (await busy)[0] == 200
    assert [r.json()["chat_id"] for r in server.received] == [1]


# -- errors and life cycle


def refused_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_refused_connection_is_a_network_error() -> None:
    port = refused_port()
    async with AiohttpRequest() as req:
        with pytest.raises(NetworkError, match=r"aiohttp\.ClientConnectorError") as raised:
            await req.do_request(f"http://127.0.0.1:{port}/botX/getMe", "POST", data())
    assert not isinstance(raised.value, TimedOut)


async def test_requests_need_an_initialized_request(server: Server) -> None:
    req = AiohttpRequest()
    with pytest.raises(RuntimeError, match="not initialized"):
        await req.do_request(api(server, "getMe"), "POST")
    await req.initialize()
    await req.shutdown()
    with pytest.raises(RuntimeError, match="not initialized"):
        await req.do_request(api(server, "getMe"), "POST")


async def test_initialize_and_shutdown_are_idempotent(server: Server) -> None:
    req = AiohttpRequest()
    await req.shutdown()  # never initialized: nothing to do
    await req.initialize()
    session = req._session
    await req.initialize()
    assert req._session is session
    assert (await req.do_request(api(server, "getMe"), "POST"))[0] == 200
    await req.shutdown()
    await req.shutdown()
    assert session is not None and session.closed
    await req.initialize()  # again after a shutdown, like HTTPXRequest
    assert (await req.do_request(api(server, "getMe"), "POST"))[0] == 200
    await req.shutdown()


async def test_nothing_is_left_open_at_shutdown(server: Server) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        req = AiohttpRequest()
        await req.initialize()
        for _ in range(3):  # two connections in the pool
            await asyncio.gather(
                *(
                    req.do_request(api(server, "sendMessage"), "POST", data(chat_id=i))
                    for i in [1, 2]
                )
            )
        await req.shutdown()
        del req
        gc.collect()
    assert [w.message for w in caught if issubclass(w.category, ResourceWarning)] == []

    # The same check sees a session left open.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        leaky = AiohttpRequest()
        await leaky.initialize()
        leaky._session = None  # dropped without closing
        del leaky
        gc.collect()
    assert any("Unclosed client session" in str(w.message) for w in caught)


async def test_the_journal_keeps_get_updates_answers(server: Server) -> None:
    journal = Mock()
    request = JournalingRequest(journal, connection_pool_size=1)
    async with Bot(TOKEN, base_url=f"{server.url}/bot", get_updates_request=request) as bot:
        [update] = await bot.get_updates(timeout=0)
    journal.keep.assert_called_once()
    body, ids = journal.keep.call_args.args
    assert ids == [update.update_id] == [5] and json.loads(body)["result"][0]["update_id"] == 5


async def test_the_environments_proxy_is_used(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", server.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with AiohttpRequest() as req:
        code, _ = await req.do_request(f"http://api.telegram.invalid/bot{TOKEN}/getMe", "POST")
    assert code == 200 and server.last.method == "getMe"
    assert server.last.headers["Host"] == "api.telegram.invalid"
    # NO_PROXY: straight to the host (the proxy named refuses connections)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{refused_port()}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with AiohttpRequest() as req:
        assert (await req.do_request(api(server, "getMe"), "POST"))[0] == 200


async def test_the_fetcher_asks_for_room_before_each_get_updates_only(server: Server) -> None:
    asked: list[str] = []

    async def before_poll() -> None:
        asked.append("room")

    request = JournalingRequest(Mock(), connection_pool_size=1)
    request.before_poll = before_poll
    async with request:
        await request.do_request(f"{server.url}/bot{TOKEN}/getUpdates", "POST")
        assert asked == ["room"]
        await request.do_request(f"{server.url}/bot{TOKEN}/getMe", "POST")
        assert asked == ["room"]
