"""定诺: drafting, editing, submitting and amending pledges; listing them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from bot.chat.actor import Actor
from bot.domain import access
from bot.domain import pledge_rules as rules
from bot.domain.access import pledger_name
from bot.domain.campaign_calendar import CampaignCalendar
from bot.domain.clock import Clock
from bot.domain.dates import DeadlineError, local_date, parse_deadline
from bot.domain.enums import Category, Horizon, PledgerKind, PledgeStatus, Role
from bot.domain.errors import DomainError, Forbidden
from bot.domain.models import ItemDraft, Org, Person, Pledge
from bot.domain.names import name_key
from bot.domain.notify import tell_text
from bot.domain.render import describe_changes, pledge_card
from bot.i18n import t
from storage.db import Database
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)


class Step(StrEnum):
    """What the drafting conversation asks next; derived from the stored draft alone."""

    HORIZON = "horizon"
    CATEGORY = "category"
    CONTENT = "content"
    TARGET = "target"
    DEADLINE = "deadline"
    RESPONSIBLE = "responsible"
    SUMMARY = "summary"


ITEM_FIELDS: tuple[Step, ...] = (
    Step.CATEGORY,
    Step.CONTENT,
    Step.TARGET,
    Step.DEADLINE,
    Step.RESPONSIBLE,
)


def next_step(pledge: Pledge) -> Step:
    """The next question for a draft: so a restart resumes exactly where the person was."""
    if pledge.horizon is None:
        return Step.HORIZON
    pending = pledge.pending_item
    if pending is None:
        return Step.CATEGORY if not pledge.items else Step.SUMMARY
    for step in ITEM_FIELDS:
        if getattr(pending, step.value) is None:
            return step
    return Step.SUMMARY


@dataclass(frozen=True)
class DraftView:
    """A draft with the names needed to show it."""

    pledge: Pledge
    pledger_name: str
    org: Org
    step: Step
    pledger_is_cadre: bool = False
    # Set while annual pledges cannot be submitted (outside the pledge window): its days.
    annual_closed: tuple[date, date] | None = None

    @property
    def kind(self) -> PledgerKind:
        """Member or branch pledge."""
        return self.pledge.pledger_kind


@dataclass(frozen=True)
class PledgeView:
    """A pledge with names, for lists."""

    pledge: Pledge
    pledger_name: str
    org_name: str
    editable: bool = False  # the viewer may change it (access.may_edit)
    recorder: str = ""  # who recorded an oral pledge


class PledgeService:
    """Drafting and submitting pledges."""

    def __init__(
        self, db: Database, clock: Clock, calendar: CampaignCalendar | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.calendar = calendar

    # ---- loading and permission -------------------------------------------------------

    async def _view(self, uow: UnitOfWork, pledge: Pledge) -> DraftView:
        org = await uow.orgs.get(pledge.org_id)
        assert org is not None
        pledger = await uow.people.get(pledge.person_id) if pledge.person_id else None
        return DraftView(
            pledge,
            await pledger_name(uow, pledge, org),
            org,
            next_step(pledge),
            pledger_is_cadre=bool(pledger and pledger.cadre),
            annual_closed=self._annual_closed(),
        )

    def _annual_closed(self) -> tuple[date, date] | None:
        """While annual pledges cannot be submitted: the days of the next pledge window (this
        year's before it opens, next year's once it has passed), in the campaign's zone."""
        calendar = self.calendar
        today = local_date(self.clock.now(), self.clock.tz)
        window = calendar.pledge_window if calendar is not None else None
        if calendar is None or window is None or calendar.annual_pledges_open(today):
            return None
        year = today.year if today < window.start_on(today.year) else today.year + 1
        return window.start_on(year), window.end_on(year)

    async def _editable(
        self, uow: UnitOfWork, actor: Actor, pledge_id: int, version: int | None = None
    ) -> Pledge:
        """A pledge the actor may edit now (and, with ``version``, still at that version: a
        button made for an earlier one, e.g. before a submit and a return, changes nothing)."""
        me = await access.person_of(uow, actor)
        pledge = await uow.pledges.get(pledge_id)
        if pledge is None:
            raise DomainError("pledge.not_found")
        await self._may_edit(uow, me, pledge)
        if pledge.status not in rules.EDITABLE:
            raise DomainError("pledge.cannot.edit", status=pledge.status)
        if version is not None and pledge.version != version:
            raise DomainError("error.stale_button")
        return pledge

    @staticmethod
    async def _may_edit(uow: UnitOfWork, me: Person, pledge: Pledge) -> None:
        """Refuse who may not change this pledge; an oral pledge's member is told who does."""
        if access.may_edit(pledge, me):
            return
        if pledge.is_oral and pledge.person_id == me.id:
            recorder = await uow.people.get(pledge.drafter_id)
            raise Forbidden("oral.recorder_revises", recorder=recorder.name if recorder else "")
        raise Forbidden("pledge.not_yours")

    async def _touch(self, uow: UnitOfWork, pledge: Pledge, **values: Any) -> Pledge:
        await uow.pledges.update(pledge.id, updated_at=self.clock.now(), **values)
        fresh = await uow.pledges.get(pledge.id)
        assert fresh is not None
        return fresh

    # ---- starting ---------------------------------------------------------------------

    async def open_draft(
        self,
        actor: Actor,
        *,
        kind: PledgerKind = PledgerKind.MEMBER,
        on_behalf_of: int | None = None,
    ) -> DraftView:
        """Resume the pledger's open draft, or start a new one.

        ``kind=BRANCH`` is a secretary drafting the branch's pledge; ``on_behalf_of`` is a
        secretary recording an oral pledge for a member of the branch.
        """
        now = self.clock.now()
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            if not access.can_pledge(me):
                raise Forbidden("pledge.residents_do_not_pledge")
            is_oral = False
            if kind is PledgerKind.BRANCH:
                access.require_role(me, Role.SECRETARY)
                person_id: int | None = None
                org_id = me.org_id
                existing = await uow.pledges.find(
                    org_id=org_id,
                    pledger_kind=PledgerKind.BRANCH.value,
                    statuses=[s.value for s in rules.EDITABLE],
                )
            elif on_behalf_of is not None:
                access.require_role(me, Role.SECRETARY)
                member = await uow.people.get(on_behalf_of)
                if member is None or member.org_id != me.org_id:
                    raise DomainError("oral.not_in_branch")
                if not access.can_pledge(member) or member.id == me.id:
                    raise DomainError("oral.not_a_member")
                person_id, org_id, is_oral = member.id, member.org_id, True
                existing = await uow.pledges.find(
                    person_id=member.id,
                    pledger_kind=PledgerKind.MEMBER.value,
                    statuses=[s.value for s in rules.EDITABLE],
                )
            else:
                person_id, org_id = me.id, me.org_id
                existing = await uow.pledges.find(
                    person_id=me.id,
                    pledger_kind=PledgerKind.MEMBER.value,
                    statuses=[s.value for s in rules.EDITABLE],
                )
            if existing:
                pledge = existing[-1]
                # An oral pledge the secretary is recording is theirs to finish, not the member's;
                # and a member writing their own is not taken over by the secretary.
                if pledge.drafter_id != me.id:
                    if on_behalf_of is not None:
                        raise DomainError("oral.member_is_drafting")
                    raise DomainError("pledge.open_elsewhere")
                return await self._view(uow, pledge)
            pledge_id = await uow.pledges.create(
                pledger_kind=kind.value,
                person_id=person_id,
                org_id=org_id,
                drafter_id=me.id,
                horizon=None,
                status=PledgeStatus.DRAFT.value,
                is_oral=is_oral,
                version=1,
                created_at=now,
                updated_at=now,
            )
            created = await uow.pledges.get(pledge_id)
            assert created is not None
            return await self._view(uow, created)

    async def current_draft(
        self, actor: Actor, pledge_id: int, *, version: int | None = None
    ) -> DraftView:
        """The draft as it stands, with its next step."""
        async with self.db.uow() as uow:
            return await self._view(uow, await self._editable(uow, actor, pledge_id, version))

    async def latest_open_draft(self, actor: Actor) -> DraftView | None:
        """The most recently touched editable pledge this person drafts (for resuming)."""
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            drafts = await uow.pledges.find(
                drafter_id=me.id, statuses=[s.value for s in rules.EDITABLE]
            )
            own = await uow.pledges.find(
                person_id=me.id, statuses=[s.value for s in rules.EDITABLE]
            )
            candidates = {p.id: p for p in [*drafts, *own] if access.may_edit(p, me)}
            if not candidates:
                return None
            latest = max(candidates.values(), key=lambda p: (p.updated_at, p.id))
            return await self._view(uow, latest)

    # ---- editing ----------------------------------------------------------------------

    async def set_horizon(
        self, actor: Actor, pledge_id: int, horizon: Horizon, *, version: int | None = None
    ) -> DraftView:
        """长期 / 年度 / 即时."""
        async with self.db.uow() as uow:
            pledge = await self._editable(uow, actor, pledge_id, version)
            values: dict[str, Any] = {"horizon": horizon.value}
            if not pledge.items and pledge.pending_item is None:
                values["pending_item"] = ItemDraft().model_dump(mode="json")
            return await self._view(uow, await self._touch(uow, pledge, **values))

    async def change_horizon(
        self, actor: Actor, pledge_id: int, *, version: int | None = None
    ) -> DraftView:
        """Ask the type again; the items stay (e.g. annual → instant outside the window)."""
        async with self.db.uow() as uow:
            pledge = await self._editable(uow, actor, pledge_id, version)
            return await self._view(uow, await self._touch(uow, pledge, horizon=None))

    async def start_item(
        self, actor: Actor, pledge_id: int, *, version: int | None = None
    ) -> DraftView:
        """Begin a new item."""
        async with self.db.uow() as uow:
            pledge = await self._editable(uow, actor, pledge_id, version)
            if len(pledge.items) >= rules.MAX_ITEMS:
                raise DomainError("draft.too_many_items", limit=rules.MAX_ITEMS)
            fresh = await self._touch(
                uow, pledge, pending_item=ItemDraft().model_dump(mode="json")
            )
            return await self._view(uow, fresh)

    async def edit_item(
        self,
        actor: Actor,
        pledge_id: int,
        item_id: int,
        field: Step,
        *,
        version: int | None = None,
    ) -> DraftView:
        """Re-ask one field of an existing item."""
        if field not in ITEM_FIELDS:
            raise DomainError("draft.bad_field")
        async with self.db.uow() as uow:
            pledge = await self._editable(uow, actor, pledge_id, version)
            item = next((i for i in pledge.items if i.id == item_id), None)
            if item is None:
                raise DomainError("draft.item_gone")
            draft = ItemDraft(
                category=item.category,
                content=item.content,
                target=item.target,
                deadline=item.deadline,
                responsible=item.responsible,
                editing_item_id=item.id,
            )
            draft = draft.model_copy(update={field.value: None})
            fresh = await self._touch(uow, pledge, pending_item=draft.model_dump(mode="json"))
            return await self._view(uow, fresh)

    async def remove_item(
        self, actor: Actor, pledge_id: int, item_id: int, *, version: int | None = None
    ) -> DraftView:
        """Delete an item of a draft."""
        async with self.db.uow() as uow:
            pledge = await self._editable(uow, actor, pledge_id, version)
            if await uow.pledges.items_with_progress([item_id]):
                # Its progress is part of the record (记实); keep the item, let it be edited.
                raise DomainError("draft.item_has_progress")
            if not await uow.pledges.remove_item(pledge.id, item_id):
                raise DomainError("draft.item_gone")
            return await self._view(uow, await self._touch(uow, pledge))

    async def drop_pending(
        self, actor: Actor, pledge_id: int, *, version: int | None = None
    ) -> DraftView:
        """Abandon the item being entered (keeps the finished ones)."""
        async with self.db.uow() as uow:
            pledge = await self._editable(uow, actor, pledge_id, version)
            return await self._view(uow, await self._touch(uow, pledge, pending_item=None))

    async def answer(
        self, actor: Actor, pledge_id: int, value: str, *, version: int | None = None
    ) -> DraftView:
        """Apply the person's answer to the draft's current question."""
        async with self.db.uow() as uow:
            pledge = await self._editable(uow, actor, pledge_id, version)
            step = next_step(pledge)
            pending = pledge.pending_item
            if step not in ITEM_FIELDS or pending is None:
                raise DomainError("draft.no_question")
            update: dict[str, Any] = {}
            if step is Step.CATEGORY:
                try:
                    category = Category(value)
                except ValueError:
                    raise DomainError("draft.category.choose") from None
                if category not in rules.categories_for(pledge.pledger_kind):
                    raise DomainError("draft.category.choose")
                update["category"] = category
            elif step is Step.CONTENT:
                update["content"] = rules.clean_text(value, rules.MAX_CONTENT, "draft.content")
            elif step is Step.TARGET:
                update["target"] = rules.clean_text(value, rules.MAX_TARGET, "draft.target")
            elif step is Step.DEADLINE:
                try:
                    update["deadline"] = parse_deadline(value, self.clock.now().date())
                except DeadlineError as exc:
                    raise DomainError(exc.key, **exc.params) from None
            elif step is Step.RESPONSIBLE:
                update["responsible"] = rules.clean_text(
                    value, rules.MAX_RESPONSIBLE, "draft.responsible"
                )
            filled = pending.model_copy(update=update)
            fresh = await self._store_pending(uow, pledge, filled)
            return await self._view(uow, fresh)

    async def _store_pending(self, uow: UnitOfWork, pledge: Pledge, draft: ItemDraft) -> Pledge:
        """Keep a partial item, or turn a complete one into an item row."""
        if any(getattr(draft, f.value) is None for f in ITEM_FIELDS):
            return await self._touch(uow, pledge, pending_item=draft.model_dump(mode="json"))
        values = {
            "category": draft.category.value if draft.category else None,
            "content": draft.content,
            "target": draft.target,
            "deadline": draft.deadline,
            "responsible": draft.responsible,
        }
        if draft.editing_item_id is not None:
            if not await uow.pledges.update_item(pledge.id, draft.editing_item_id, **values):
                raise DomainError("draft.item_gone")
        else:
            await uow.pledges.add_item(pledge.id, **values)
        return await self._touch(uow, pledge, pending_item=None)

    async def default_responsible(self, actor: Actor, pledge_id: int) -> str:
        """The pledger's own name (the default responsible person)."""
        view = await self.current_draft(actor, pledge_id)
        return view.pledger_name

    async def discard(self, actor: Actor, pledge_id: int, *, version: int | None = None) -> None:
        """Delete a draft that was never submitted."""
        async with self.db.uow() as uow:
            pledge = await self._editable(uow, actor, pledge_id, version)
            rules.transition(pledge.status, "discard")
            await uow.pledges.delete(pledge.id)

    # ---- submitting -------------------------------------------------------------------

    async def submit(
        self, actor: Actor, pledge_id: int, *, version: int | None = None
    ) -> DraftView:
        """Send the pledge to its reviewer (审诺); the reviewer is told through the outbox."""
        now = self.clock.now()
        async with self.db.uow() as uow:
            pledge = await self._editable(uow, actor, pledge_id, version)
            if pledge.horizon is None:
                raise DomainError("submit.no_horizon")
            if pledge.pending_item is not None:
                raise DomainError("submit.pending_item")
            if not pledge.items:
                raise DomainError("submit.no_items")
            new_status = rules.transition(pledge.status, "submit")
            self._check_window(pledge)
            pledger = await uow.people.get(pledge.person_id) if pledge.person_id else None
            gaps: list[str] = []
            if pledger is not None and pledger.cadre:
                gaps = rules.cadre_gaps([i.category for i in pledge.items])
            previous = (pledge.submitted_snapshot or {}).get("items")
            if pledge.status is PledgeStatus.AMENDING and pledge.published_snapshot:
                previous = pledge.published_snapshot["items"]
            items = pledge.items_snapshot()
            fresh = await self._touch(
                uow,
                pledge,
                status=new_status.value,
                version=pledge.version + 1,
                submitted_at=now,
                cadre_gaps=gaps,
                submitted_snapshot={"items": items, "previous": previous},
            )
            await self._notify_reviewers(uow, fresh, previous)
            return await self._view(uow, fresh)

    def _check_window(self, pledge: Pledge) -> None:
        """Annual pledges are first submitted inside the calendar's pledge window."""
        calendar = self.calendar
        if (
            calendar is None
            or pledge.horizon is not Horizon.ANNUAL
            or pledge.status is not PledgeStatus.DRAFT
        ):
            return
        closed = self._annual_closed()
        if closed is not None:
            raise DomainError("submit.window_closed", start=closed[0], end=closed[1])

    async def _notify_reviewers(
        self, uow: UnitOfWork, pledge: Pledge, previous: list[dict[str, Any]] | None
    ) -> None:
        from bot.domain.review import review_buttons

        org = await uow.orgs.get(pledge.org_id)
        assert org is not None
        name = await pledger_name(uow, pledge, org)
        now = self.clock.now()
        for reviewer in await access.reviewers_for(uow, pledge):
            loc = reviewer.locale
            parts = [
                t(loc, "review.incoming", name=name),
                pledge_card(loc, pledge, name, org.name, show_cadre_gaps=True),
            ]
            changes = describe_changes(loc, previous, pledge.items_snapshot())
            if changes:
                parts.append(changes)
            await tell_text(
                uow, reviewer, "\n\n".join(parts), now, buttons=review_buttons(loc, pledge)
            )

    async def amend(
        self, actor: Actor, pledge_id: int, *, version: int | None = None
    ) -> DraftView:
        """Reopen a published pledge for amendment; it goes back through review."""
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            pledge = await uow.pledges.get(pledge_id)
            if pledge is None:
                raise DomainError("pledge.not_found")
            await self._may_edit(uow, me, pledge)
            if version is not None and pledge.version != version:
                raise DomainError("error.stale_button")
            others = await uow.pledges.find(
                person_id=pledge.person_id,
                org_id=pledge.org_id,
                pledger_kind=pledge.pledger_kind.value,
                statuses=[s.value for s in rules.EDITABLE],
            )
            if any(p.id != pledge.id for p in others):
                raise DomainError("amend.other_draft_open")
            new_status = rules.transition(pledge.status, "amend")
            fresh = await self._touch(uow, pledge, status=new_status.value, last_comment=None)
            return await self._view(uow, fresh)

    async def abandon_amendment(
        self, actor: Actor, pledge_id: int, *, version: int | None = None
    ) -> DraftView:
        """Drop the amendment: the published version stands unchanged."""
        async with self.db.uow() as uow:
            pledge = await self._editable(uow, actor, pledge_id, version)
            new_status = rules.transition(pledge.status, "abandon_amendment")
            snapshot = pledge.published_snapshot or {}
            published = [
                {**item, "deadline": _date(item["deadline"])} for item in snapshot.get("items", [])
            ]
            kept = {item.get("id") for item in published}
            added = [i.id for i in pledge.items if i.id not in kept]
            if await uow.pledges.items_with_progress(added):
                raise DomainError("amend.abandon_has_progress")
            await uow.pledges.restore_items(pledge.id, published)
            fresh = await self._touch(
                uow,
                pledge,
                status=new_status.value,
                pending_item=None,
                horizon=snapshot.get("horizon", pledge.horizon),
            )
            return await self._view(uow, fresh)

    # ---- lists ------------------------------------------------------------------------

    async def my_pledges(self, actor: Actor) -> tuple[Person, list[PledgeView]]:
        """The person's own pledges, then the branch's and the oral pledges they drafted
        (what they may change is marked: PledgeView.editable)."""
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            own = await uow.pledges.find(person_id=me.id)
            drafted = await uow.pledges.find(drafter_id=me.id)
            recorded = [p for p in drafted if p.person_id != me.id]
            return me, await self._views(uow, [*own, *recorded], me)

    async def board(self, actor: Actor) -> tuple[Org, list[dict[str, Any]]]:
        """The published pledges (as published) of the person's branch."""
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            org = await uow.orgs.get(me.org_id)
            assert org is not None
            published = await uow.pledges.find(org_id=org.id, published=True)
            return org, [p.published_snapshot for p in published if p.published_snapshot]

    async def oral_candidates(self, actor: Actor) -> list[Person]:
        """Members of the secretary's branch, those marked for oral pledges first."""
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            access.require_role(me, Role.SECRETARY)
            members = await uow.people.in_org(me.org_id, [Role.MEMBER.value, Role.SECRETARY.value])
            members = [m for m in members if m.id != me.id]
            return sorted(members, key=lambda m: (not m.oral, name_key(m.name)))

    async def _views(
        self, uow: UnitOfWork, pledges: list[Pledge], me: Person | None = None
    ) -> list[PledgeView]:
        result = []
        for pledge in pledges:
            org = await uow.orgs.get(pledge.org_id)
            assert org is not None
            recorder = await uow.people.get(pledge.drafter_id) if pledge.is_oral else None
            result.append(
                PledgeView(
                    pledge,
                    await pledger_name(uow, pledge, org),
                    org.name,
                    editable=me is not None and access.may_edit(pledge, me),
                    recorder=recorder.name if recorder is not None else "",
                )
            )
        return result


def _date(value: str) -> Any:
    from datetime import date

    return date.fromisoformat(value)
