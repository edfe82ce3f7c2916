"""The demo's rectifications (整改): two evaluations closed yesterday with subjects under 90%.

东园社区 evaluated its members: 孙立新 came out under the pass mark and has filed his plan,
which waits for 吴静 (the branch secretary) to accept or send back. 新华精密机械 was evaluated
as a branch and came out under the mark: 何志强 (its secretary) is asked to file the plan,
which 刘晓燕 (the committee) will accept.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.domain.access import as_actor
from bot.domain.clock import Clock
from bot.domain.enums import Role
from bot.domain.models import Person
from bot.domain.rectification import RectificationService, on_evaluation_closed
from bot.domain.rectification_models import RectificationStatus
from storage.db import Database
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

PASS_PERMILLE = 900


async def _closed_evaluation(
    uow: UnitOfWork,
    clock: Clock,
    org_code: str,
    tallies: list[tuple[str | None, int, int, int]],
) -> None:
    """A closed evaluation of one branch; tallies: (member name or None, 满意, 基本, 不满意)."""
    now = clock.now()
    org = await uow.orgs.by_code(org_code)
    if org is None:
        return
    people = await uow.people.in_org(org.id)
    by_name: dict[str, Person] = {p.name: p for p in people}
    secretary = next(p for p in people if p.role is Role.SECRETARY)
    evaluation_id = await uow.evaluations.create(
        org_id=org.id,
        subject_kind="branch" if tallies[0][0] is None else "members",
        opened_by=secretary.id,
        status="closed",
        quorum=len(people),
        pass_permille=PASS_PERMILLE,
        closes_at=now - timedelta(days=1),
        valid_voters=len(people),
        created_at=now - timedelta(days=8),
        closed_at=now - timedelta(days=1),
    )
    await uow.evaluations.add_subjects(
        [
            {
                "evaluation_id": evaluation_id,
                "position": n,
                "person_id": by_name[name].id if name else None,
                "org_id": org.id,
            }
            for n, (name, *_counts) in enumerate(tallies, start=1)
        ]
    )
    subjects = await uow.evaluations.subjects(evaluation_id)
    results = []
    for subject, (_name, good, basic, bad) in zip(subjects, tallies, strict=True):
        valid = good + basic + bad
        rate = (2000 * (good + basic) + valid) // (2 * valid)
        results.append(
            {
                "sid": subject.id,
                "r_satisfied": good,
                "r_basic": basic,
                "r_unsatisfied": bad,
                "r_rate": rate,
                "r_passed": (good + basic) * 1000 >= PASS_PERMILLE * valid,
            }
        )
    await uow.evaluations.set_results(results)
    await uow.evaluations.add_participants(
        [
            {
                "evaluation_id": evaluation_id,
                "person_id": p.id,
                "kind": "resident" if p.role is Role.RESIDENT else "member",
                "has_voted": True,
            }
            for p in people
        ]
    )
    await on_evaluation_closed(uow, clock, evaluation_id)


async def seed_rectifications(db: Database, clock: Clock) -> None:
    """Two evaluations under the mark; one member's plan already filed."""
    async with db.uow() as uow:
        await _closed_evaluation(uow, clock, "XH-DY", [("孙立新", 5, 1, 2), ("郑家明", 7, 1, 0)])
        await _closed_evaluation(uow, clock, "XH-JX", [(None, 6, 1, 1)])
        org = await uow.orgs.by_code("XH-DY")
        people = await uow.people.in_org(org.id) if org else []
        sun = next((p for p in people if p.name == "孙立新"), None)
        if sun is None or sun.tg_user_id is None:
            return
        rects = await uow.rectifications.in_progress([RectificationStatus.DUE], person_id=sun.id)
    if not rects:
        return
    today = clock.now().astimezone(clock.tz).date()
    await RectificationService(db, clock).submit_plan(
        as_actor(sun),
        rects[0].id,
        "群众满意度提升到95%以上，楼道问题当周回应",
        "每周走访3号楼住户一次，问题登记在册、办结销号；每月在楼道公示栏公布办理情况",
        today + timedelta(days=45),
    )
    log.info("demo rectifications seeded")
