"""The demo's mass evaluation (群众评议): 新华镇机关党支部 is being evaluated right now.

曹建军 (its secretary) opened it; everyone of the branch (韩雪, 黄晓明 and four resident
representatives) gets the ballot (a poll) when the playground starts and can vote, change or
retract; the board group shows the turnout, and /evaluations lists who has not voted. It closes
in three days (or at once with 提前结束). Not 黄思村: its personas are the ones the other demo
stories (and their tests) talk to, and a ballot arriving in the middle would only confuse them.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.domain.access import as_actor
from bot.domain.clock import Clock
from bot.domain.evaluation import EvaluationService
from bot.domain.evaluation_models import SubjectKind
from storage.db import Database

log = logging.getLogger(__name__)

DEMO_BRANCH = "XH-JG"
DEMO_QUORUM = 5  # the demo branch has seven people on its list, not thirty
DEMO_REASON = "支部名册上只有7人（演示）"


async def seed_evaluation(db: Database, clock: Clock) -> int | None:
    """Open the demo evaluation as 沈宝方 would; its id (None if the roster lacks them)."""
    async with db.uow() as uow:
        org = await uow.orgs.by_code(DEMO_BRANCH)
        if org is None:
            return None
        secretary = next(
            (p for p in await uow.people.in_org(org.id, ["secretary"]) if p.tg_user_id), None
        )
    if secretary is None or secretary.tg_user_id is None:
        return None
    # Opening hashes no voter: the service's key is not needed here.
    service = EvaluationService(db, clock, b"")
    opened = await service.open(
        as_actor(secretary),
        org.id,
        SubjectKind.BRANCH,
        clock.now() + timedelta(days=3),
        DEMO_QUORUM,
        DEMO_REASON,
    )
    log.info("demo evaluation %s open in %s", opened.evaluation_id, org.name)
    return opened.evaluation_id
