"""The ballot slip's page over HTTP (aiohttp's test server, a real database): a forged form,
from another site or without the page's anti-forgery value, changes nothing; a name with
markup is shown as text; a slip that saves too often is held back; the page says so in
English too."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import update

from bot.domain.clock import FakeClock
from bot.domain.slips import SlipService
from bot.web.ballot_page import BallotPage, Limits
from storage import schema
from storage.db import Database
from tests.storage.test_slips import START, _open

FORM = re.compile(r'name="csrf" value="([0-9a-f]+)".*?name="rev" value="([0-9]+)"', re.S)


@pytest.fixture
async def slip_page(db: Database) -> AsyncIterator[tuple[TestClient, SlipService, list[str], int]]:
    clock = FakeClock(START)
    _, slips, evaluation_id = await _open(db, clock)
    tokens = await slips.issue(evaluation_id, 2)
    app = web.Application()
    BallotPage(slips, clock, Limits(slip_saves=3)).setup(app)
    async with TestClient(TestServer(app)) as client:
        yield client, slips, tokens, evaluation_id


async def _form(client: TestClient, token: str) -> tuple[str, str, int]:
    response = await client.get(f"/v/{token}")
    assert response.status == 200
    html = await response.text()
    found = FORM.search(html)
    assert found is not None
    sid = re.search(r'name="s([0-9]+)"', html)
    assert sid is not None
    return found[1], found[2], int(sid[1])


async def test_a_forged_form_changes_nothing(
    slip_page: tuple[TestClient, SlipService, list[str], int],
) -> None:
    client, slips, tokens, _ = slip_page
    csrf, rev, sid = await _form(client, tokens[0])
    vote = {f"s{sid}": "unsatisfied", "rev": rev}
    # Without the page's value, with another slip's, or from another site: refused.
    for data, headers in (
        (vote, {}),
        ({**vote, "csrf": (await _form(client, tokens[1]))[0]}, {}),
        ({**vote, "csrf": csrf}, {"Origin": "https://evil.example"}),
    ):
        response = await client.post(
            f"/v/{tokens[0]}", data=data, headers=headers, allow_redirects=False
        )
        assert response.status == 403
        assert "没有保存" in await response.text()
    assert (await slips.page(tokens[0])).choices == {}
    # The page's own form saves, and answers with a redirect (a reload does not post again).
    response = await client.post(
        f"/v/{tokens[0]}", data={**vote, "csrf": csrf}, allow_redirects=False
    )
    assert response.status == 303 and response.headers["Location"].endswith("?done=saved")
    assert (await slips.page(tokens[0])).voted


async def test_markup_in_a_name_is_shown_as_text_and_english_is_offered(
    slip_page: tuple[TestClient, SlipService, list[str], int], db: Database
) -> None:
    client, _, tokens, _ = slip_page
    async with db.engine.begin() as conn:
        await conn.execute(
            update(schema.orgs)
            .where(schema.orgs.c.code == "XH-HS")
            .values(name='<script>alert("x")</script>黄思村')
        )
    response = await client.get(f"/v/{tokens[0]}")
    html = await response.text()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response.headers["Cache-Control"]
    english = await (await client.get(f"/v/{tokens[0]}?lang=en")).text()
    assert "Submit" in english and "names nobody" in english
    missing = await client.get("/v/not-a-slip")
    assert missing.status == 404 and "找不到这张票" in await missing.text()


async def test_a_slip_that_saves_too_often_is_held_back(
    slip_page: tuple[TestClient, SlipService, list[str], int],
) -> None:
    client, slips, tokens, _ = slip_page
    statuses = []
    for choice in ("satisfied", "basic", "unsatisfied", "satisfied"):
        csrf, rev, sid = await _form(client, tokens[0])
        response = await client.post(
            f"/v/{tokens[0]}",
            data={f"s{sid}": choice, "rev": rev, "csrf": csrf},
            allow_redirects=False,
        )
        statuses.append(response.status)
    assert statuses == [303, 303, 303, 429]
    page = await slips.page(tokens[0])
    assert [c.value for c in page.choices.values()] == ["unsatisfied"]
