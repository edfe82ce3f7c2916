"""Buttons survive a deploy: a message queued before buttons were channel-neutral (its row
holds Telegram's own button dicts) goes out with the same buttons, and they still work."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.enums import PledgeStatus
from bot.domain.notify import message_row
from tests.e2e.flows import button_data, only_pledge, pledge, submit_one_item_pledge
from tests.e2e.harness import World


async def test_a_review_request_queued_before_the_deploy_still_approves(world: World) -> None:
    member = await world.join("王建国")
    secretary = await world.join("沈宝方")
    await submit_one_item_pledge(member)
    await secretary.receive("王建国 提交了承诺")
    submitted = await only_pledge(world, member)
    ok = f"rv:ok:{submitted.id}:{submitted.version}"
    # The request as the old code queued it: the Bot API's {"text", "callback_data"} dicts.
    [row] = message_row(secretary.user_id, "（升级前排队）王建国 的承诺待审核", datetime.now(UTC))
    row["payload"]["buttons"] = [
        [
            {"text": "通过", "callback_data": ok},
            {"text": "退回", "callback_data": f"rv:ret:{submitted.id}:{submitted.version}"},
        ]
    ]
    async with world.db.uow() as uow:
        await uow.outbox.add([row])
    queued = await secretary.receive("升级前排队")
    assert button_data(queued, "通过") == ok  # the very data the old code gave it
    await secretary.tap("通过", expect="已通过")  # the newest 通过: the queued message's
    assert (await pledge(world, submitted.id)).status is PledgeStatus.PUBLISHED
