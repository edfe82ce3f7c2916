"""The playground's demo has an open mass evaluation: a demo persona gets the ballot and votes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select

from storage import schema
from tests.playground_support import running_playground


async def test_demo_branch_votes_in_its_open_evaluation(tmp_path: Path) -> None:
    async with running_playground(tmp_path) as playground:
        sim = playground.sim
        app = playground.app
        assert app is not None
        db = app.bot_data.services.db
        async with db.uow() as uow:
            org = await uow.orgs.by_code("XH-JG")
            assert org is not None
            people = await uow.people.in_org(org.id)
        member = next(p for p in people if p.name == "韩雪")
        chat = member.tg_user_id
        assert chat is not None

        await sim.wait_until(lambda: any(m.poll for m in sim.bot_messages(chat)), 20)
        poll = next(m.poll for m in sim.bot_messages(chat) if m.poll is not None)
        assert "新华镇机关党支部" in poll.question and not poll.is_anonymous
        sim.vote(chat, poll.id, [0])

        async def ballots() -> int:
            async with db.engine.connect() as conn:
                query = select(func.count()).select_from(schema.ballots)
                return int((await conn.execute(query)).scalar_one())

        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while await ballots() != 1:
            assert loop.time() < deadline, "the demo vote was not counted"
            await asyncio.sleep(0.05)
