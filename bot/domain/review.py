"""审诺 and 亮诺: the reviewer's queue and decisions; approval signs and publishes."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.chat import features
from bot.chat.actions import Button, Rows, action
from bot.chat.actor import Actor
from bot.domain import access
from bot.domain import pledge_rules as rules
from bot.domain.access import pledger_name
from bot.domain.board import board_ref, queue_board_post
from bot.domain.clock import Clock
from bot.domain.enums import PledgerKind, PledgeStatus, ReviewAction, Role
from bot.domain.errors import DomainError, Forbidden
from bot.domain.models import Org, Person, Pledge
from bot.domain.notify import tell
from bot.domain.render import board_post
from bot.i18n import t
from storage.db import Database
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)


def review_buttons(locale: str | None, pledge: Pledge) -> Rows:
    """Approve / return buttons bound to this version of the pledge (stale taps are caught)."""
    return [
        [
            Button(
                t(locale, "review.btn.approve"),
                action=action(features.REVIEW, "ok", pledge.id, pledge.version),
            ),
            Button(
                t(locale, "review.btn.return"),
                action=action(features.REVIEW, "ret", pledge.id, pledge.version),
            ),
        ]
    ]


@dataclass(frozen=True)
class QueueEntry:
    """A submitted pledge waiting for this reviewer."""

    pledge: Pledge
    pledger_name: str
    org_name: str


@dataclass(frozen=True)
class Decision:
    """What a decision did."""

    pledge: Pledge
    pledger_name: str
    action: ReviewAction


class ReviewService:
    """Reviewing submitted pledges."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def queue(self, actor: Actor) -> list[QueueEntry]:
        """Submitted pledges this person may review, oldest first."""
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            if me.role not in (Role.SECRETARY, Role.COMMITTEE) and not me.is_admin:
                raise Forbidden("review.not_a_reviewer")
            org_ids = await self._scope(uow, me)
            submitted = await uow.pledges.find(
                org_ids=org_ids, statuses=[PledgeStatus.SUBMITTED.value]
            )
            result = []
            for pledge in submitted:
                if await access.may_review(uow, me, pledge):
                    org = await uow.orgs.get(pledge.org_id)
                    assert org is not None
                    result.append(
                        QueueEntry(pledge, await pledger_name(uow, pledge, org), org.name)
                    )
            return result

    async def _scope(self, uow: UnitOfWork, me: Person) -> list[int]:
        """The orgs whose pledges the person could review: own org and everything below."""
        all_orgs = await uow.orgs.all()
        scope = [me.org_id]
        frontier = [me.org_id]
        while frontier:
            children = [o.id for o in all_orgs if o.parent_id in frontier]
            scope.extend(children)
            frontier = children
        return scope

    async def _decidable(
        self, uow: UnitOfWork, actor: Actor, pledge_id: int, version: int
    ) -> tuple[Person, Pledge]:
        me = await access.person_of(uow, actor)
        pledge = await uow.pledges.get(pledge_id)
        if pledge is None:
            raise DomainError("pledge.not_found")
        if pledge.person_id == me.id or (
            pledge.pledger_kind is PledgerKind.BRANCH and pledge.drafter_id == me.id
        ):
            raise Forbidden("review.own_pledge")
        if pledge.drafter_id == me.id:
            raise Forbidden("review.own_recording")
        if not await access.may_review(uow, me, pledge):
            raise Forbidden("review.not_your_scope")
        if pledge.status is not PledgeStatus.SUBMITTED:
            raise DomainError(
                "review.already_decided", status=t(me.locale, f"status.{pledge.status.value}")
            )
        if pledge.version != version:
            raise DomainError("review.stale")
        return me, pledge

    async def approve(self, actor: Actor, pledge_id: int, version: int) -> Decision:
        """Approve: sign, number and publish the pledge (亮诺)."""
        now = self.clock.now()
        async with self.db.uow() as uow:
            me, pledge = await self._decidable(uow, actor, pledge_id, version)
            new_status = rules.transition(pledge.status, "approve")
            org = await uow.orgs.get(pledge.org_id)
            assert org is not None
            amended = pledge.number is not None
            number = pledge.number or await uow.pledges.next_number(f"{org.code}-{now.year}")
            name = await pledger_name(uow, pledge, org)
            snapshot: dict[str, Any] = {
                "number": number,
                "pledger_name": name,
                "org_name": org.name,
                "horizon": pledge.horizon.value if pledge.horizon else None,
                "is_oral": pledge.is_oral,
                "amended": amended,
                "items": pledge.items_snapshot(),
                "published_at": now.isoformat(),
            }
            if not await uow.pledges.update(
                pledge.id,
                expected_version=version,
                status=new_status.value,
                number=number,
                version=version + 1,
                published_snapshot=snapshot,
                published_at=now,
                updated_at=now,
                last_comment=None,
            ):
                raise DomainError("review.stale")
            await uow.reviews.add(
                pledge_id=pledge.id,
                reviewer_id=me.id,
                action=ReviewAction.APPROVE.value,
                comment=None,
                version=version,
                at=now,
            )
            fresh = await uow.pledges.get(pledge.id)
            assert fresh is not None
            await self._announce_publication(uow, fresh, org, snapshot, amended, me.id)
            return Decision(fresh, name, ReviewAction.APPROVE)

    async def _announce_publication(
        self,
        uow: UnitOfWork,
        pledge: Pledge,
        org: Org,
        snapshot: dict[str, Any],
        amended: bool,
        reviewer_id: int,
    ) -> None:
        now = self.clock.now()
        base = "review.result.amendment_approved" if amended else "review.result.approved"
        recorder = await _recorder_name(uow, pledge)
        for person in await _pledger_people(uow, pledge, exclude=reviewer_id):
            await tell(
                uow,
                person,
                _result_key(base, pledge, person),
                now,
                name=snapshot["pledger_name"],
                number=snapshot["number"],
                recorder=recorder,
            )
        if org.board_chat_id is not None:
            # The board speaks the branch's language: the default locale.
            # A live view: rendered when sent, with each item's status (kept current).
            await queue_board_post(uow, org.board_chat_id, board_ref(pledge.id), pledge.id, now)
        pledger = await uow.people.get(pledge.person_id) if pledge.person_id else None
        if pledger is not None and pledger.origin_org_id is not None:
            # A mobile member pledges where they live now; the origin branch is informed.
            origin = await uow.orgs.get(pledger.origin_org_id)
            for secretary in await uow.people.in_org(
                pledger.origin_org_id, [Role.SECRETARY.value]
            ):
                await tell(
                    uow,
                    secretary,
                    "mobile.origin_informed",
                    now,
                    name=pledger.name,
                    origin=origin.name if origin else "",
                    org=org.name,
                    number=snapshot["number"],
                    post=board_post(secretary.locale, snapshot),
                )
        if pledger is not None and pledger.residence_org_id is not None:
            # An in-service member's pledge is also shown to their residential community.
            residence = await uow.orgs.get(pledger.residence_org_id)
            if residence is not None and residence.board_chat_id is not None:
                await queue_board_post(
                    uow, residence.board_chat_id, board_ref(pledge.id, True), pledge.id, now
                )

    async def return_for_revision(
        self, actor: Actor, pledge_id: int, version: int, comment: str
    ) -> Decision:
        """Return the pledge with a comment; the pledger may revise and resubmit."""
        now = self.clock.now()
        text = rules.clean_text(comment, rules.MAX_COMMENT, "review.comment")
        async with self.db.uow() as uow:
            me, pledge = await self._decidable(uow, actor, pledge_id, version)
            new_status = rules.transition(pledge.status, "return")
            if not await uow.pledges.update(
                pledge.id,
                expected_version=version,
                status=new_status.value,
                version=version + 1,
                last_comment=text,
                updated_at=now,
            ):
                raise DomainError("review.stale")
            await uow.reviews.add(
                pledge_id=pledge.id,
                reviewer_id=me.id,
                action=ReviewAction.RETURN.value,
                comment=text,
                version=version,
                at=now,
            )
            fresh = await uow.pledges.get(pledge.id)
            assert fresh is not None
            org = await uow.orgs.get(pledge.org_id)
            assert org is not None
            name = await pledger_name(uow, fresh, org)
            recorder = await _recorder_name(uow, fresh)
            for person in await _pledger_people(uow, fresh, exclude=me.id):
                revise = Button(
                    t(person.locale, "review.btn.revise"),
                    action=action(features.DRAFT, "open", fresh.id, fresh.version),
                )
                await tell(
                    uow,
                    person,
                    _result_key("review.result.returned", fresh, person),
                    now,
                    # Only who may revise gets the button: an oral pledge's recorder, not
                    # the member it was recorded for (access.may_edit).
                    buttons=[[revise]] if access.may_edit(fresh, person) else None,
                    comment=text,
                    reviewer=me.name,
                    name=name,
                    recorder=recorder,
                )
            return Decision(fresh, name, ReviewAction.RETURN)

    async def check_decidable(self, actor: Actor, pledge_id: int, version: int) -> Pledge:
        """Before asking for a return comment: may this person still decide this version?"""
        async with self.db.uow() as uow:
            _, pledge = await self._decidable(uow, actor, pledge_id, version)
            return pledge


def _result_key(base: str, pledge: Pledge, person: Person) -> str:
    """How a review's result is told to one who hears it: to the member (an oral pledge's
    member: as recorded for him by someone else), to who recorded it for him, to the branch."""
    if pledge.pledger_kind is PledgerKind.BRANCH:
        # An amended branch pledge: the secretary who amended it hears it as theirs.
        return base if base.endswith("amendment_approved") else f"{base}_branch"
    if person.id != pledge.person_id:
        return f"{base}_for"
    return f"{base}_oral" if pledge.is_oral else base


async def _recorder_name(uow: UnitOfWork, pledge: Pledge) -> str:
    """Who recorded an oral pledge ("" for any other pledge)."""
    if not pledge.is_oral:
        return ""
    recorder = await uow.people.get(pledge.drafter_id)
    return recorder.name if recorder is not None else ""


async def _pledger_people(uow: UnitOfWork, pledge: Pledge, exclude: int) -> list[Person]:
    """Who hears the result: the pledger, and the drafter if someone else (oral, branch).

    The reviewer is left out: they see the outcome in their own reply.
    """
    ids = [i for i in {pledge.person_id, pledge.drafter_id} if i is not None and i != exclude]
    people = await uow.people.by_ids(ids)
    return list(people.values())
