"""In the playground, the secretary of every demo branch opens a mass evaluation in chat: each
demo branch is smaller than the rule's quorum, so each learns the rule and opens with a lower
quorum and its reason (新华镇机关党支部 already has its branch evaluation open: it evaluates
its members)."""

from __future__ import annotations

from pathlib import Path

from bot.playground.simulator import BotApiSimulator
from tests.playground_support import running_playground

# secretary, what is evaluated, people on the list, the rule's quorum for the branch's type
BRANCHES = {
    "黄思村党总支": ("沈宝方", "评议支部", 9, 30),
    "东园社区党支部": ("吴静", "评议支部", 9, 30),
    "新华精密机械有限公司党支部": ("何志强", "评议支部", 8, 20),  # non-public: 20
    "新华镇机关党支部": ("曹建军", "逐一评议每名党员", 7, 30),
}


class _Chat:
    """A persona's private chat with the bot, as the page drives it."""

    def __init__(self, sim: BotApiSimulator, user_id: int) -> None:
        self.sim = sim
        self.user_id = user_id

    def _mark(self) -> dict[int, int]:
        return {m.message_id: m.edits for m in self.sim.bot_messages(self.user_id)}

    async def _expect(self, mark: dict[int, int], expect: str) -> str:
        found: list[str] = []

        def changed() -> bool:
            for message in self.sim.bot_messages(self.user_id):
                if mark.get(message.message_id) == message.edits:
                    continue
                if expect in message.content:
                    found.append(message.content)
                    return True
            return False

        await self.sim.wait_until(changed, 15)
        return found[0]

    async def send(self, text: str, expect: str) -> str:
        mark = self._mark()
        self.sim.send_text(self.user_id, text)
        return await self._expect(mark, expect)

    async def tap(self, label: str, expect: str) -> str:
        mark = self._mark()
        query = self.sim.tap_button(self.user_id, self.user_id, label)
        await self.sim.wait_callback_answer(query, 15)
        return await self._expect(mark, expect)


async def test_every_demo_secretary_opens_an_evaluation(tmp_path: Path) -> None:
    async with running_playground(tmp_path) as playground:
        for branch, (name, kind, count, rule) in BRANCHES.items():
            user_id = next(p.user_id for p in playground.cast if p.person.name == name)
            chat = _Chat(playground.sim, user_id)
            if kind != "评议支部":  # its branch evaluation is open: said at the closing time
                await chat.send("/evaluate", expect=f"【{branch}】群众评议")
                await chat.tap("评议支部", expect="截止时间")
                await chat.send("3天后", expect="已经有一场同类的群众评议正在进行")
            await chat.send("/evaluate", expect=f"【{branch}】群众评议")
            await chat.tap(kind, expect="截止时间")
            ask = await chat.send("3天后", expect="至少要有")
            assert f"至少要有 {rule} 人" in ask and f"只有 {count} 人" in ask
            await chat.send(str(count), expect="原因")
            preview = await chat.send(f"名册上只有{count}人", expect="请核对群众评议")
            assert f"低于规定的 {rule} 人" in preview
            await chat.tap("确认发起", expect="群众评议已发起")
            assert not any("我没有看懂" in m.content for m in playground.sim.bot_messages(user_id))
