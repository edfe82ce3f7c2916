"""The public web board (网上晒) in real headless Chromium, as a resident's phone shows it.

The playground mounts the board on its own port; its demo district has published pledges, a
pledge under review, a draft, and everyone's phone number in the roster. A closed evaluation
with a secret ballot is added. The branch page shows the published pledges and nothing else.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Browser, expect
from sqlalchemy import select

from bot.playground.run import Playground
from storage import schema
from storage.db import Database
from tests.browser.conftest import WAIT_MS
from tests.webboard_data import HIDDEN_SUBJECT, VOTER_HASH, seed_evaluation

PHONE = (390, 844)  # a phone's viewport, CSS pixels
PUBLISHED = (
    "每月参加支部集中学习并撰写心得",
    "帮助三组解决灌溉水渠破损问题",
    "义务看护村口小游园",
)
UNDER_REVIEW = "帮带5户种植户发展大棚蔬菜"  # submitted, not approved: never public


async def phones_of(db: Database) -> list[str]:
    async with db.engine.connect() as conn:
        return [p for (p,) in await conn.execute(select(schema.people.c.phone)) if p]


async def test_branch_page_shows_published_pledges_and_no_draft_phone_or_vote(
    playground: Playground, browser: Browser, artifacts: Path
) -> None:
    db = Database(playground.bot_settings.database_url)
    try:
        await seed_evaluation(db)
        phones = await phones_of(db)
    finally:
        await db.dispose()
    assert phones, "the demo roster has phone numbers to leak"

    context = await browser.new_context(
        viewport={"width": PHONE[0], "height": PHONE[1]}, device_scale_factor=2, locale="zh-CN"
    )
    page = await context.new_page()
    try:
        await page.goto(f"{playground.sim.root_url}/board/", wait_until="load")
        await expect(page.locator("h1")).to_have_text("公开承诺", timeout=WAIT_MS)
        await page.screenshot(path=str(artifacts / "tree.png"), full_page=True)
        await page.get_by_role("link", name="黄思村党总支").click()

        await expect(page.locator("h1")).to_have_text("黄思村党总支 · 公开承诺", timeout=WAIT_MS)
        await expect(page.locator("article.pledge")).to_have_count(2)
        body = await page.locator("body").inner_text()
        for content in PUBLISHED:
            assert content in body, content
        assert "承诺人：王建国" in body and "承诺人：朱德顺" in body
        assert "口头承诺" in body
        assert "🔄 进行中" in body and "责任人" in body and "完成时限" in body
        assert "满意 20，基本满意 5，不满意 1，满意率 96.2%" in body
        # Never: a pledge under review or a draft, a phone number, a voter, a small tally.
        assert UNDER_REVIEW not in body and "孙立新" not in body
        html = await page.content()
        for phone in phones:
            assert phone not in html, phone
        assert VOTER_HASH not in html and HIDDEN_SUBJECT not in body and "张桂英" not in body
        # Readable on the phone: nothing wider than the screen, text at a readable size.
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        size = await page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('.item-content')).fontSize)"
        )
        assert size >= 15
        await page.screenshot(path=str(artifacts / "branch-on-phone.png"), full_page=True)

        await page.get_by_role("link", name=re.compile("新华镇党委")).first.click()
        await expect(page.locator("h1")).to_contain_text("各支部承诺兑现情况", timeout=WAIT_MS)
        row = page.locator("tr", has_text="黄思村党总支")
        await expect(row).to_contain_text("2")  # two published pledges
        await page.screenshot(path=str(artifacts / "committee.png"), full_page=True)
    finally:
        await context.close()
