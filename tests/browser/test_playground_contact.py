"""In real Chromium: a resident taps the bot's "share my phone number" keyboard button."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.conftest import ChatPage


async def test_resident_shares_phone_from_the_reply_keyboard(chat: ChatPage) -> None:
    page = chat.page
    await chat.be("张桂英")
    await chat.type("/start")
    await chat.see("请确认您的手机号")
    button = page.locator("#reply-keyboard .reply-kb-button", has_text="发送我的手机号")
    await expect(button).to_be_visible()
    await chat.shot("reply-keyboard")
    await button.click()
    await chat.see("手机号已确认")
    await expect(page.locator("#reply-keyboard")).to_be_hidden()
    await expect(page.locator("#messages .msg.out", has_text="13800000151")).to_be_visible()
    await chat.shot("phone-confirmed")
