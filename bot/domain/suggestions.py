"""调研提诺: residents (and members) send suggestions to a branch; its secretary sees them,
links the pledge item that answers one, and marks it solved (the author is told).

Permissions are checked here: anyone who joined may suggest to their own branch or to another
branch of the same committee; only the branch's secretary (or the committee above) may see
and handle its suggestions.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.chat import features
from bot.chat.actions import Button, action
from bot.chat.actor import Actor
from bot.domain import access
from bot.domain import pledge_rules as rules
from bot.domain.clock import Clock
from bot.domain.enums import OrgType, Role
from bot.domain.errors import DomainError, Forbidden
from bot.domain.models import Org, Person
from bot.domain.notify import tell
from bot.domain.progress_models import ReportableItem
from bot.domain.suggestion_models import Suggestion, SuggestionStatus
from storage.db import Database
from storage.uow import UnitOfWork

FEATURE = features.SUGGEST  # actions: sg:<action>:<id>[:<id>]
MAX_TEXT = 500
PAGE_SIZE = 8
MAX_TARGETS = 24  # branches offered to choose from (own first)
MAX_ITEMS = 30  # pledge items offered to link
SNIPPET = 60


def snippet(text: str, limit: int = SNIPPET) -> str:
    """A suggestion shortened to one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(frozen=True)
class SuggestTargets:
    """Where a person may send a suggestion: their own branch first."""

    me: Person
    orgs: list[Org]


@dataclass(frozen=True)
class SuggestionView:
    """A suggestion with its author, branch and the item that answers it."""

    suggestion: Suggestion
    author_name: str
    org_name: str
    item: ReportableItem | None = None
    notified: int = 0


@dataclass(frozen=True)
class SuggestionPage:
    """One page of a branch's suggestions, with the totals."""

    org: Org
    rows: list[SuggestionView]
    page: int
    pages: int
    collected: int
    solved: int


def _is_handler(me: Person) -> bool:
    return me.role in (Role.SECRETARY, Role.COMMITTEE) or me.is_admin


class SuggestionService:
    """Sending suggestions, and the secretary's list, linking and solving."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    # ---- sending ---------------------------------------------------------------------------

    async def _targets(self, uow: UnitOfWork, me: Person) -> list[Org]:
        own = await uow.orgs.get(me.org_id)
        assert own is not None
        result = [own]
        if own.parent_id is not None:
            siblings = [
                o
                for o in await uow.suggestions.children(own.parent_id)
                if o.id != own.id and o.type is not OrgType.COMMITTEE
            ]
            result += siblings[: MAX_TARGETS - 1]
        return result

    async def targets(self, actor: Actor) -> SuggestTargets:
        """/suggest: the branches this person may write to (own branch first)."""
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            return SuggestTargets(me, await self._targets(uow, me))

    async def check_target(self, actor: Actor, org_id: int) -> Org:
        """The chosen branch, if this person may write to it (a stale or forged button not)."""
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            for org in await self._targets(uow, me):
                if org.id == org_id:
                    return org
            raise DomainError("suggest.bad_branch")

    @staticmethod
    def clean(text: str) -> str:
        """The suggestion's text, trimmed; refused when empty or too long."""
        return rules.clean_text(text, MAX_TEXT, "suggest.text")

    async def submit(self, actor: Actor, org_id: int, text: str) -> SuggestionView:
        """Store the suggestion; the branch's secretaries are told (outbox)."""
        cleaned = self.clean(text)
        now = self.clock.now()
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            org = next((o for o in await self._targets(uow, me) if o.id == org_id), None)
            if org is None:
                raise DomainError("suggest.bad_branch")
            sid = await uow.suggestions.add(org_id=org.id, author_id=me.id, text=cleaned, at=now)
            suggestion = await uow.suggestions.get(sid)
            assert suggestion is not None
            told = 0
            for handler in await _handlers_for(uow, org, me.id):
                if await tell(
                    uow,
                    handler,
                    "suggest.incoming",
                    now,
                    buttons=[
                        [
                            _button("suggest.btn.open", handler.locale, "show", sid),
                        ]
                    ],
                    name=me.name,
                    org=org.name,
                    text=cleaned,
                ):
                    told += 1
            return SuggestionView(suggestion, me.name, org.name, notified=told)

    async def mine(self, actor: Actor, limit: int = 10) -> list[SuggestionView]:
        """A person's own suggestions, newest first."""
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            rows = await uow.suggestions.by_author(me.id, limit)
            return [await self._view(uow, s) for s in rows]

    # ---- handling --------------------------------------------------------------------------

    async def _may_handle(self, uow: UnitOfWork, me: Person, org_id: int) -> bool:
        if me.role is Role.SECRETARY:
            return me.org_id == org_id
        if me.role is Role.COMMITTEE or me.is_admin:
            return me.org_id == org_id or await uow.ledger.in_scope(me.org_id, org_id)
        return False

    async def _view(self, uow: UnitOfWork, suggestion: Suggestion) -> SuggestionView:
        author = await uow.people.get(suggestion.author_id)
        org = await uow.orgs.get(suggestion.org_id)
        item = (
            await uow.progress.item(suggestion.item_id) if suggestion.item_id is not None else None
        )
        return SuggestionView(
            suggestion, author.name if author else "?", org.name if org else "?", item
        )

    async def _handled(self, uow: UnitOfWork, actor: Actor, sid: int) -> tuple[Person, Suggestion]:
        me = await access.person_of(uow, actor)
        if not _is_handler(me):
            raise Forbidden("suggest.not_allowed")
        suggestion = await uow.suggestions.get(sid)
        if suggestion is None:
            raise DomainError("suggest.gone")
        if not await self._may_handle(uow, me, suggestion.org_id):
            raise Forbidden("suggest.not_your_branch")
        return me, suggestion

    async def page(self, actor: Actor, page: int = 0) -> SuggestionPage:
        """/suggestions: a page of the branch's suggestions (open first, newest first)."""
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            if not _is_handler(me):
                raise Forbidden("suggest.not_allowed")
            org = await uow.orgs.get(me.org_id)
            assert org is not None
            collected, solved = await uow.suggestions.counts([org.id])
            pages = max(1, -(-collected // PAGE_SIZE))
            page = min(max(page, 0), pages - 1)
            rows = await uow.suggestions.page(org.id, PAGE_SIZE, page * PAGE_SIZE)
            views = [await self._view(uow, s) for s in rows]
            return SuggestionPage(org, views, page, pages, collected, solved)

    async def show(self, actor: Actor, sid: int) -> SuggestionView:
        """One suggestion, for whoever handles its branch."""
        async with self.db.uow() as uow:
            _me, suggestion = await self._handled(uow, actor, sid)
            return await self._view(uow, suggestion)

    async def linkable(
        self, actor: Actor, sid: int
    ) -> tuple[SuggestionView, list[ReportableItem]]:
        """The items of the branch's published pledges that could answer the suggestion."""
        async with self.db.uow() as uow:
            _me, suggestion = await self._handled(uow, actor, sid)
            items = await uow.suggestions.branch_items(suggestion.org_id, MAX_ITEMS)
            return await self._view(uow, suggestion), items

    async def link(self, actor: Actor, sid: int, item_id: int) -> SuggestionView:
        """Link the pledge item that answers the suggestion; the author is told."""
        now = self.clock.now()
        async with self.db.uow() as uow:
            me, suggestion = await self._handled(uow, actor, sid)
            item = await uow.progress.item(item_id)
            if item is None or item.org_id != suggestion.org_id or item.number is None:
                raise DomainError("suggest.bad_item")
            if suggestion.item_id == item.item_id:
                raise DomainError("suggest.already_linked")
            await uow.suggestions.link_item(suggestion.id, item.item_id)
            author = await uow.people.get(suggestion.author_id)
            if author is not None and author.id != me.id:
                await tell(
                    uow,
                    author,
                    "suggest.told.linked",
                    now,
                    text=snippet(suggestion.text),
                    number=item.number,
                    content=item.content,
                )
            fresh = await uow.suggestions.get(suggestion.id)
            assert fresh is not None
            return await self._view(uow, fresh)

    async def solve(self, actor: Actor, sid: int) -> SuggestionView:
        """Mark the suggestion solved; the author is told (once, even on a double tap)."""
        now = self.clock.now()
        async with self.db.uow() as uow:
            me, suggestion = await self._handled(uow, actor, sid)
            if suggestion.status is SuggestionStatus.SOLVED:
                raise DomainError("suggest.already_solved")
            if not await uow.suggestions.solve(suggestion.id, me.id, now):
                raise DomainError("suggest.already_solved")
            fresh = await uow.suggestions.get(suggestion.id)
            assert fresh is not None
            view = await self._view(uow, fresh)
            author = await uow.people.get(suggestion.author_id)
            if author is not None and author.id != me.id:
                if view.item is not None and view.item.number is not None:
                    await tell(
                        uow,
                        author,
                        "suggest.told.solved_item",
                        now,
                        org=view.org_name,
                        text=snippet(suggestion.text),
                        number=view.item.number,
                        content=view.item.content,
                    )
                else:
                    await tell(
                        uow,
                        author,
                        "suggest.told.solved",
                        now,
                        org=view.org_name,
                        text=snippet(suggestion.text),
                    )
            return view


def _button(key: str, locale: str | None, name: str, *args: object) -> Button:
    from bot.i18n import t

    return Button(t(locale, key), action=action(FEATURE, name, *args))


async def _handlers_for(uow: UnitOfWork, org: Org, author_id: int) -> list[Person]:
    """Who hears of a suggestion: the branch's secretaries, else the nearest committee staff."""
    levels = [await uow.people.in_org(org.id, [Role.SECRETARY.value, Role.COMMITTEE.value])]
    for above in await uow.orgs.ancestors(org.id):
        levels.append(await uow.people.in_org(above.id, [Role.COMMITTEE.value]))
    for level in levels:
        reachable = [p for p in level if p.id != author_id and p.tg_user_id is not None]
        if reachable:
            return reachable
    return []
