"""Real headless Chromium (Debian's) driven by Playwright against an in-process playground."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, async_playwright, expect

from bot.playground.run import Playground
from tests.playground_support import running_playground

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
WAIT_MS = 10_000


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22.x warns inside RetryAfter unless PTB_TIMEDELTA is set (filterwarnings=error).
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def playground(tmp_path: Path) -> AsyncIterator[Playground]:
    """The playground on a free loopback port with a database in tmp_path."""
    async with running_playground(tmp_path) as running:
        yield running


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium; when it is missing the test FAILS (it is never skipped)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium; scripts/test.sh "
            "installs it (apt-get install chromium chromium-driver fonts-noto-cjk)"
        )
    return CHROMIUM


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    """Chromium launched headless through Playwright (never ``playwright install``)."""
    async with async_playwright() as driver:
        launched = await driver.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """This test's screenshot folder under test-artifacts/ (emptied first)."""
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return folder


class ChatPage:
    """The playground page in one browser tab, driven as a person would use it."""

    def __init__(self, page: Page, playground: Playground, artifacts: Path) -> None:
        self.page = page
        self.playground = playground
        self.artifacts = artifacts
        self.errors: list[str] = []
        self._shots = 0
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    async def open(self) -> None:
        """Load the page."""
        await self.page.goto(self.playground.url)
        # Live once the roster is loaded and the event stream is open.
        await expect(self.page.locator("#live-status")).to_have_attribute("data-state", "live")

    async def shot(self, name: str) -> Path:
        """Save a numbered screenshot of the whole page as a test artefact."""
        self._shots += 1
        path = self.artifacts / f"{self._shots:02d}-{name}.png"
        await self.page.screenshot(path=str(path))
        return path

    async def be(self, name: str) -> None:
        """Switch to the persona called ``name`` through the roster."""
        roster = self.page.locator("#roster")
        if not await roster.is_visible():
            await self.page.click("#persona-button")
        await self.page.locator(f"#roster-list .person[data-name='{name}']").click()
        await expect(self.page.locator("#persona-name")).to_have_text(name)
        await expect(roster).to_be_hidden()

    async def open_chat(self, title: str) -> None:
        """Open a chat from the list by its title."""
        await self.page.locator("#chat-list .chat-item", has_text=title).click()
        await expect(self.page.locator("#chat-name")).to_have_text(title)

    def messages(self) -> Locator:
        """Every message bubble of the open chat."""
        return self.page.locator("#messages .msg")

    def bot_message(self, text: str) -> Locator:
        """The newest bot message containing ``text``."""
        return self.page.locator("#messages .msg.from-bot", has_text=text).last

    async def see(self, text: str) -> Locator:
        """Wait until a bot message with ``text`` is shown; return that bubble (by its id)."""
        message = self.bot_message(text)
        await expect(message).to_be_visible(timeout=WAIT_MS)
        return self.by_id(await self.message_id(message))

    def by_id(self, message_id: str | int) -> Locator:
        """The bubble of one message, whatever its text becomes."""
        return self.page.locator(f"#messages .msg[data-message-id='{message_id}']")

    async def type(self, text: str) -> None:
        """Type into the composer and press Enter."""
        box = self.page.locator("#text-input")
        await box.fill(text)
        await box.press("Enter")
        await expect(self.page.locator("#messages .msg.out", has_text=text).last).to_be_visible()

    async def tap(self, message: Locator, label: str, *, exact: bool = False) -> None:
        """Tap an inline button of a message."""
        await message.get_by_role("button", name=label, exact=exact).click()

    async def message_id(self, message: Locator) -> str:
        """The simulator's message id behind a bubble."""
        value = await message.get_attribute("data-message-id")
        assert value is not None
        return value


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile in Chinese, desktop sized."""
    ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    ctx.set_default_timeout(WAIT_MS)
    try:
        yield ctx
    finally:
        await ctx.close()


@pytest.fixture
async def chat(
    context: BrowserContext, playground: Playground, artifacts: Path
) -> AsyncIterator[ChatPage]:
    """The page, opened; fails the test on any JavaScript error."""
    page = ChatPage(await context.new_page(), playground, artifacts)
    await page.open()
    yield page
    assert not page.errors, page.errors
