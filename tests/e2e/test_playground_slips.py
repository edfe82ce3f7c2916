"""The playground shows ballot slips (现场票): the demo branch's secretary prints two slips of
the open evaluation from /evaluations, gets the PDF, and its addresses open the playground's
own ballot page."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp

from bot.playground.simulator import BotApiSimulator
from tests.pdf_check import pdf_text
from tests.playground_support import running_playground

WAIT = 20.0


async def _tap(sim: BotApiSimulator, chat: int, label: str, expect: str) -> None:
    query = sim.tap_button(chat, chat, label)
    await sim.wait_callback_answer(query, WAIT)
    await _see(sim, chat, expect)


async def _see(sim: BotApiSimulator, chat: int, expect: str) -> None:
    await sim.wait_until(lambda: any(expect in m.content for m in sim.bot_messages(chat)), WAIT)


async def test_the_demo_secretary_prints_slips_that_open_in_the_playground(
    tmp_path: Path,
) -> None:
    async with running_playground(tmp_path) as playground:
        sim = playground.sim
        assert playground.app is not None
        async with playground.app.bot_data.services.db.uow() as uow:
            org = await uow.orgs.by_code("XH-JG")
            assert org is not None
            (secretary,) = await uow.people.in_org(org.id, ["secretary"])
        chat = secretary.tg_user_id
        assert chat is not None

        sim.send_text(chat, "/evaluations")
        await _see(sim, chat, "点一项查看")
        await _tap(sim, chat, "进行中", "评议对象")
        await _tap(sim, chat, "加印现场票", "现场票张数")
        sim.send_text(chat, "2")
        await _see(sim, chat, "现场票 2 张")
        sheet = next(m for m in sim.bot_messages(chat) if m.document is not None)
        assert sheet.document is not None
        pattern = re.compile(re.escape(sim.root_url) + r"/v/[0-9a-z-]+")
        addresses = [a for page in pdf_text(sheet.document.data) for a in pattern.findall(page)]
        assert len(addresses) == 2

        async with aiohttp.ClientSession() as session, session.get(addresses[0]) as response:
            assert response.status == 200
            page = await response.text()
        assert "【新华镇机关党支部】群众评议" in page and "<form" in page
