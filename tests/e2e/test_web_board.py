"""The public web board (网上晒) over HTTP: what a resident's phone browser gets.

Only public data: published pledges (no draft, no pledge under review), no phone number (not
even one typed into an item), no participant, no ballot; aggregates of closed evaluations with
at least 5 votes. Escaped HTML, 404 for unknown codes, ETag/304, paging.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestClient, TestServer

from bot.domain.clock import FakeClock
from bot.web.board import PLEDGES_PER_PAGE, PublicBoard, mask_phones, start_server, stop_server
from storage.db import Database
from tests.webboard_data import (
    DRAFT_TEXT,
    HIDDEN_SUBJECT,
    NOW,
    SUBMITTED_TEXT,
    TYPED_PHONE,
    VOTER_HASH,
    Seeded,
    seed,
)

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


async def client_for(db: Database, clock: FakeClock | None = None) -> Client:
    app = web.Application()
    PublicBoard(db, clock or FakeClock(NOW)).setup(app)
    client: Client = TestClient(TestServer(app))
    await client.start_server()
    return client


@pytest.fixture
async def seeded(db: Database) -> Seeded:
    return await seed(db)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def client(db: Database, seeded: Seeded, clock: FakeClock) -> AsyncIterator[Client]:
    c = await client_for(db, clock)
    try:
        yield c
    finally:
        await c.close()


def text_of(html: str) -> str:
    """What a reader sees: the page without tags (and unescaped)."""
    import html as h

    return h.unescape(re.sub(r"<[^>]+>", " ", html))


async def test_branch_page_shows_published_pledges_only(client: Client, seeded: Seeded) -> None:
    response = await client.get("/board/XH-HS")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/html")
    html = await response.text()
    seen = text_of(html)
    for expected in (
        "黄思村党总支 · 公开承诺",
        "承诺编号 XH-HS-2026-0001",
        "承诺人：王建国",
        "每月参加支部学习",
        "全年不少于12次",
        "2026年12月31日",
        "✅ 已兑现",
        "⚠️ 逾期",  # the second item's deadline (30 June) has passed unfulfilled
        "2026年9月27日",  # last progress of the first item, local date
        "公开承诺 1 份，承诺事项 2 项，已兑现 1 项，兑现率 50.0%",
        "满意 20，基本满意 5，不满意 1，满意率 96.2%",
    ):
        assert expected in seen, expected
    # Never a draft, a pledge under review, a phone number, a voter or a tiny tally.
    assert DRAFT_TEXT not in seen and SUBMITTED_TEXT not in seen
    for phone in [*seeded.phones, TYPED_PHONE]:
        assert phone not in html
    assert VOTER_HASH not in html and "unsatisfied" not in html
    assert HIDDEN_SUBJECT not in seen
    assert "张桂英" not in seen  # a participant is never named


async def test_pledge_text_is_escaped(client: Client) -> None:
    html = await (await client.get("/board/XH-HS")).text()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;调解邻里纠纷" in html
    assert (
        "default-src 'none'"
        in (await client.get("/board/XH-HS")).headers["Content-Security-Policy"]
    )


async def test_unknown_codes_are_404(client: Client) -> None:
    for path in ("/board/NOPE", "/board/%3Cscript%3E", "/board/XH-HS-9"):
        response = await client.get(path)
        assert response.status == 404
        html = await response.text()
        assert "没有找到这个党组织" in html and "<script>" not in html


async def test_tree_and_committee_pages(client: Client) -> None:
    response = await client.get("/board", allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == "/board/"
    tree = await (await client.get("/board/")).text()
    for code, name in (
        ("XH", "新华镇党委"),
        ("XH-HS", "黄思村党总支"),
        ("XH-DY", "东园社区党支部"),
    ):
        assert f'href="/board/{code}"' in tree and name in tree
    committee = text_of(await (await client.get("/board/XH")).text())
    assert "新华镇党委 · 各支部承诺兑现情况" in committee
    assert "共 4 个支部，公开承诺 1 份，承诺事项 2 项，已兑现 1 项，兑现率 50.0%" in committee
    row = re.search(r"黄思村党总支\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+%)", committee)
    assert row is not None and row.groups() == ("1", "2", "1", "50.0%")
    assert re.search(r"东园社区党支部\s+0\s+0\s+0\s+—", committee)


async def test_etag_and_cache_headers(client: Client, clock: FakeClock) -> None:
    first = await client.get("/board/XH-HS")
    etag = first.headers["ETag"]
    assert "max-age=60" in first.headers["Cache-Control"]
    again = await client.get("/board/XH-HS", headers={"If-None-Match": etag})
    assert again.status == 304 and await again.read() == b""
    # A minute later the footer's time differs, the board does not: still 304.
    clock.advance(timedelta(minutes=5))
    later = await client.get("/board/XH-HS", headers={"If-None-Match": etag})
    assert later.status == 304
    missing = await client.get("/board/NOPE")
    assert missing.headers["Cache-Control"] == "no-store"


async def test_large_branch_is_paged(db: Database) -> None:
    seeded = await seed(db, extra_pledges=44)  # 45 published pledges in 黄思村
    client = await client_for(db)
    try:
        first = text_of(await (await client.get("/board/XH-HS")).text())
        assert first.count("承诺编号 ") == PLEDGES_PER_PAGE and "第 1/3 页" in first
        assert "群众评议结果" in first
        last_html = await (await client.get("/board/XH-HS?page=3")).text()
        last = text_of(last_html)
        assert last.count("承诺编号 ") == 5 and seeded.numbers[-1] in last
        assert 'href="/board/XH-HS?page=2"' in last_html and "群众评议结果" not in last
        # Out of range or malformed pages are clamped, never an error.
        assert "第 3/3 页" in text_of(await (await client.get("/board/XH-HS?page=99")).text())
        assert "第 1/3 页" in text_of(await (await client.get("/board/XH-HS?page=x")).text())
    finally:
        await client.close()


async def test_the_bot_process_serves_the_board_on_its_own_port(
    db: Database, seeded: Seeded, unused_tcp_port: int
) -> None:
    key = object()
    await start_server(key, PublicBoard(db, FakeClock(NOW)), "127.0.0.1", unused_tcp_port)
    try:
        async with (
            ClientSession() as session,
            session.get(f"http://127.0.0.1:{unused_tcp_port}/board/XH-HS") as response,
        ):
            assert response.status == 200 and "XH-HS-2026-0001" in await response.text()
    finally:
        await stop_server(key)


def test_phone_numbers_in_free_text_are_masked() -> None:
    assert mask_phones("王建国 13912345678") == "王建国 ***"
    assert mask_phones("电话 139-1234-5678 或 0571-88886666") == "电话 *** 或 ***"
    assert mask_phones("全年调解5起，走访120户") == "全年调解5起，走访120户"
    assert mask_phones("编号 XH-HS-2026-0001") == "编号 XH-HS-2026-0001"
