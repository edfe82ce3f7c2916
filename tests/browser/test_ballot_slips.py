"""One-time ballot slips (现场票) in real headless Chromium, as residents' phones use them.

The playground's demo evaluation of 新华镇机关党支部 is open. The secretary prints 30 slips with
``jiannuo ballots``; the addresses are read back from the PDF's text (and its QR codes). Three
members vote in chat, 25 residents scan a slip and vote on a phone with JavaScript switched
off (some change their mind, one tries to after closing, one has the page open twice); the
secretary closes, and every figure adds up. A brute-force attempt on slip addresses is
throttled and finds nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, expect
from sqlalchemy import select

from bot import cli
from bot.domain.evaluation_models import EvalStatus
from bot.domain.slips import ALPHABET, normalize_token
from bot.playground.run import Playground
from storage import schema
from tests.accounts import actor_for
from tests.browser.conftest import WAIT_MS
from tests.pdf_check import pdf_text

PHONE: ViewportSize = {"width": 390, "height": 844}
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 13; V2134A) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 MicroMessenger/8.0.47.2560(0x28002F35) "
    "WeChat/arm64 Weixin NetType/WIFI Language/zh_CN"
)
ADDRESS = re.compile(r"https?://[0-9a-z.:]+/v/[0-9a-z-]+")
SATISFIED, BASIC, UNSATISFIED = "满意", "基本满意", "不满意"


async def _open_evaluation(playground: Playground) -> tuple[int, int, list[int]]:
    """The demo's open evaluation: its id, the opener's account, the members' accounts."""
    assert playground.app is not None
    db = playground.app.bot_data.services.db
    async with db.uow() as uow:
        org = await uow.orgs.by_code("XH-JG")
        assert org is not None
        evaluation = next(
            e for e in await uow.evaluations.for_orgs([org.id]) if e.status is EvalStatus.OPEN
        )
        opener = await uow.people.get(evaluation.opened_by)
        members = [
            p.tg_user_id
            for p in await uow.people.in_org(org.id, ["member", "secretary"])
            if p.tg_user_id is not None
        ]
    assert opener is not None and opener.tg_user_id is not None
    return evaluation.id, opener.tg_user_id, members


async def _print_slips(
    playground: Playground,
    evaluation_id: int,
    count: int,
    out: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> list[str]:
    """``jiannuo ballots`` as the operator runs it; the addresses read back from the PDF."""
    monkeypatch.setenv("JIANNUO_DATABASE_URL", playground.bot_settings.database_url)
    argv = ["ballots", "--evaluation", str(evaluation_id), "--count", str(count)]
    argv += ["--out", str(out), "--base-url", playground.sim.root_url]
    assert await asyncio.to_thread(cli.main, argv) == 0
    pages = pdf_text(await asyncio.to_thread(out.read_bytes))
    assert all("支部：新华镇机关党支部" in page for page in pages)
    return [a for page in pages for a in ADDRESS.findall(page)]


def _database_files(folder: Path) -> bytes:
    """The playground database's bytes (with its WAL and journal files)."""
    return b"".join(p.read_bytes() for p in sorted(folder.glob("playground.db*")))


async def _phone(browser: Browser) -> BrowserContext:
    """A phone in WeChat's in-app browser, with JavaScript switched off."""
    context = await browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        locale="zh-CN",
        user_agent=WECHAT_UA,
        java_script_enabled=False,
    )
    context.set_default_timeout(WAIT_MS)
    return context


async def _choose(page: Page, label: str) -> None:
    await page.get_by_label(label, exact=True).check()
    await page.get_by_role("button", name="提交").click()


async def _vote(page: Page, address: str, label: str) -> None:
    """Scan the slip, choose, submit: the page says it is saved and shows the choice."""
    await page.goto(address)
    await expect(page.locator("h1")).to_have_text("【新华镇机关党支部】群众评议")
    await _choose(page, label)
    await expect(page.locator(".ok")).to_contain_text("已保存")
    await expect(page.get_by_label(label, exact=True)).to_be_checked()


async def test_thirty_slips_printed_twenty_five_vote_and_every_figure_adds_up(
    playground: Playground,
    browser: Browser,
    artifacts: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    evaluation_id, opener, members = await _open_evaluation(playground)
    assert playground.app is not None
    services = playground.app.bot_data.services
    sim = playground.sim

    pdf = tmp_path / "slips.pdf"
    addresses = await _print_slips(playground, evaluation_id, 30, pdf, monkeypatch)
    assert len(addresses) == 30 and len(set(addresses)) == 30
    # The QR codes say what the slips print.
    image = pypdfium2.PdfDocument(str(pdf))[0].render(scale=2).to_pil()
    assert sorted(code.text for code in zxingcpp.read_barcodes(image)) == sorted(addresses[:8])
    # The database keeps only the tokens' hashes: no token is anywhere in its files.
    tokens = [normalize_token(a.rsplit("/", 1)[1]) for a in addresses]
    assert all(tokens)
    async with services.db.engine.connect() as conn:
        stored = set((await conn.execute(select(schema.ballot_slips.c.token_hash))).scalars())
    assert {hashlib.sha256(str(tok).encode()).hexdigest() for tok in tokens} <= stored
    files = await asyncio.to_thread(_database_files, tmp_path)
    assert not any(str(tok).encode() in files for tok in tokens)

    # Three members vote in chat: two satisfied, one not.
    for account, option in zip(members[:3], (0, 0, 2), strict=True):

        def has_ballot(account: int = account) -> bool:
            return any(m.poll for m in sim.bot_messages(account))

        await sim.wait_until(has_ballot, 20)
        poll = next(m.poll for m in sim.bot_messages(account) if m.poll is not None)
        sim.vote(account, poll.id, [option])

    as_opener = await actor_for(services.db, opener)

    async def chat_voters() -> int:
        view = await services.evaluations.overview(as_opener, evaluation_id)
        return view.voted - view.extra.voted

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while await chat_voters() < 3:
        assert loop.time() < deadline, "the chat votes were not counted"
        await asyncio.sleep(0.05)

    plan = [SATISFIED] * 15 + [BASIC] * 6 + [UNSATISFIED] * 4
    context = await _phone(browser)
    try:
        page = await context.new_page()
        for n, (address, label) in enumerate(zip(addresses, plan, strict=False)):
            await _vote(page, address, label)
            if n == 0:
                await page.screenshot(path=str(artifacts / "slip-saved.png"), full_page=True)
                html = await page.content()
                assert "<script" not in html and "http" not in html.split("<body", 1)[1]
        # Some change their mind: three satisfied become dissatisfied, one basic satisfied.
        for n, label in ((0, UNSATISFIED), (1, UNSATISFIED), (2, UNSATISFIED), (20, SATISFIED)):
            await _vote(page, addresses[n], label)
        # One has the page open twice: the second, older form is not applied.
        first, second = page, await context.new_page()
        await first.goto(addresses[5])
        await second.goto(addresses[5])
        await _choose(first, BASIC)  # the first tab saves (slip 5 now basic)
        await second.get_by_label(UNSATISFIED, exact=True).check()
        await second.get_by_role("button", name="提交").click()
        await expect(second.locator(".warn")).to_contain_text("没有重复计票")
        await expect(second.get_by_label(BASIC, exact=True)).to_be_checked()
        await _vote(first, addresses[5], SATISFIED)  # and back to satisfied, as planned

        # A turnout the secretary sees: slips apart, never per slip.
        view = await services.evaluations.overview(as_opener, evaluation_id)
        assert (view.extra.slips_voted, view.extra.slips_issued) == (25, 30)

        # Slip 3 has its page open when the secretary closes; its change comes too late.
        late = await context.new_page()
        await late.goto(addresses[3])
        await services.evaluations.close_early(as_opener, evaluation_id)
        await _choose(late, UNSATISFIED)
        await expect(late.locator(".warn")).to_contain_text("评议已经截止，刚才的提交没有计入")
        result = "满意 15，基本满意 5，不满意 8，满意率 71.4%（未达到，需整改）"
        await expect(late.locator("ul.results")).to_contain_text(result)
        # An unused slip shows the result too, and no form.
        await page.goto(addresses[29])
        await expect(page.locator(".note")).to_contain_text("不能再投票")
        await expect(page.locator("ul.results")).to_contain_text(result)
        await expect(page.locator("form")).to_have_count(0)
        await page.screenshot(path=str(artifacts / "slip-closed.png"), full_page=True)
    finally:
        await context.close()

    # The count: chat and slips add up exactly; the slips are shown apart.
    async with services.db.uow() as uow:
        closed = await uow.evaluations.get(evaluation_id)
        (subject,) = await uow.evaluations.subjects(evaluation_id)
    assert closed is not None and closed.status is EvalStatus.CLOSED
    assert (subject.satisfied, subject.basic, subject.unsatisfied) == (15, 5, 8)
    assert closed.valid_voters == 28
    await sim.wait_until(
        lambda: any(
            "其中现场票 25 / 30 张已投" in (m.text or "") for m in sim.bot_messages(opener)
        ),
        20,
    )


async def test_guessing_slip_addresses_is_throttled_and_finds_nothing(
    playground: Playground,
    browser: Browser,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    evaluation_id, _, _ = await _open_evaluation(playground)
    (real,) = await _print_slips(playground, evaluation_id, 1, tmp_path / "one.pdf", monkeypatch)
    base = real.rsplit("/", 1)[0]
    context = await _phone(browser)
    try:
        page = await context.new_page()
        statuses = []
        for _ in range(25):
            guess = "".join(secrets.choice(ALPHABET) for _ in range(28))
            response = await page.goto(f"{base}/{guess}")
            assert response is not None
            statuses.append(response.status)
            assert "【新华镇机关党支部】" not in await page.locator("body").inner_text()
        assert statuses[:10] == [404] * 10, "a wrong address gets a clear page at first"
        assert set(statuses[10:]) == {429}, "then the address is held back"
        await expect(page.locator("h1")).to_have_text("尝试次数太多")
        # While held back, even a real slip's address tells this address nothing.
        response = await page.goto(real)
        assert response is not None and response.status == 429
    finally:
        await context.close()
