"""The board chat (公示栏): a group the secretary links to the branch."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from bot.chat.actor import Actor
from bot.domain import access
from bot.domain.clock import Clock
from bot.domain.dates import format_day
from bot.domain.enums import Role
from bot.domain.models import Org
from bot.domain.notify import view_row
from bot.domain.progress_models import ItemProgress, ItemStatus
from bot.domain.render import item_lines, pledger_line
from bot.i18n import t
from storage.db import Database
from storage.uow import UnitOfWork


class BoardService:
    """Linking a group as an organisation's board."""

    def __init__(self, db: Database, clock: Clock, public_base_url: str | None = None) -> None:
        self.db = db
        self.clock = clock
        self.public_base_url = public_base_url
        self._swept_on: date | None = None  # the day the overdue sweep last ran

    async def link_board(self, actor: Actor, chat_id: int) -> tuple[Org, int]:
        """Make this group the board of the secretary's (or clerk's) organisation.

        Pledges already published are posted to the new board; returns the org and how many.
        """
        now = self.clock.now()
        async with self.db.uow() as uow:
            me = await access.person_of(uow, actor)
            access.require_role(me, Role.SECRETARY, Role.COMMITTEE)
            org = await uow.orgs.get(me.org_id)
            assert org is not None
            await uow.orgs.set_board(org.id, chat_id)
            published = [
                p
                for p in await uow.pledges.find(org_id=org.id, published=True)
                if p.published_snapshot
            ]
            for pledge in published:
                assert pledge.published_snapshot is not None
                ref = board_ref(pledge.id)
                known = await uow.outbox.posted(ref)
                if known is None or known[0] != chat_id:
                    await queue_board_post(uow, chat_id, ref, pledge.id, now)
            return org.model_copy(update={"board_chat_id": chat_id}), len(published)

    async def overdue_tick(self) -> int:
        """Once a local day: refresh the posts whose items fell overdue (逾期) since.

        Each item is refreshed once (a key in the reminder log); a bot that was down for a
        few days catches up on the last OVERDUE_CATCH_UP_DAYS. Returns the posts queued.
        """
        now = self.clock.now()
        today = now.astimezone(self.clock.tz).date()
        if self._swept_on == today:
            return 0
        queued = 0
        async with self.db.uow() as uow:
            due = await uow.boards.newly_overdue(
                today - timedelta(days=OVERDUE_CATCH_UP_DAYS), today - timedelta(days=1)
            )
            keys = {f"board:overdue:{item}": pledge for item, pledge in due}
            seen = await uow.reminders.already_queued(keys)
            fresh = {key: pledge for key, pledge in keys.items() if key not in seen}
            if fresh:
                await uow.reminders.record(
                    [{"key": key, "person_id": None, "queued_at": now} for key in fresh]
                )
                for pledge_id in sorted(set(fresh.values())):
                    queued += await refresh_board(uow, pledge_id, now)
        self._swept_on = today
        return queued

    def web_url(self, org_code: str) -> str | None:
        """The branch's page on the public web board, when its address is configured."""
        if not self.public_base_url:
            return None
        return self.public_base_url.rstrip("/") + "/" + org_code

    async def board_view(
        self, uow: UnitOfWork, chat_id: int, payload: dict[str, Any]
    ) -> tuple[str, None] | None:
        """The outbox's live view of a pledge's board post (rendered when it is sent)."""
        pledge = await uow.pledges.get(int(payload["pledge"]))
        if pledge is None or not pledge.published_snapshot:
            return None
        snapshot = pledge.published_snapshot
        ids = [int(i["id"]) for i in snapshot.get("items", []) if i.get("id") is not None]
        progress = {i: await uow.progress.item_progress(i) for i in ids}
        org = await uow.orgs.get(pledge.org_id)
        today = self.clock.now().astimezone(self.clock.tz).date()
        url = self.web_url(org.code) if org is not None else None
        # The board speaks the branch's language: the default locale.
        return live_board_post(None, snapshot, progress, today, self.clock.tz, url), None


# ---- the board kept current (亮诺): each post is a live view of its pledge -----------------

BOARD_VIEW = "board"
POST_ITEM_LIMIT = 3600  # characters of items in one post (Telegram's limit is 4096)
OVERDUE_CATCH_UP_DAYS = 7


def board_ref(pledge_id: int, residence: bool = False) -> str:
    """The ref a pledge's post is named by on its branch's board (or a residence board)."""
    return f"board2:pledge:{pledge_id}" if residence else f"board:pledge:{pledge_id}"


async def queue_board_post(
    uow: UnitOfWork, chat_id: int, ref: str, pledge_id: int, now: datetime
) -> bool:
    """Queue the pledge's post under ``ref``: rendered when sent, edited in place later.

    At most one refresh waits per post, so a burst of ticks makes one edit.
    """
    return await uow.outbox.refresh_view(
        view_row(chat_id, ref, {"view": BOARD_VIEW, "pledge": pledge_id}, now)
    )


async def refresh_board(uow: UnitOfWork, pledge_id: int, now: datetime) -> int:
    """The pledge changed (an item ticked off, progress recorded): refresh its board posts.

    Returns how many posts were queued (0 when the branch has no board).
    """
    pledge = await uow.pledges.get(pledge_id)
    if pledge is None or not pledge.published_snapshot:
        return 0
    queued = 0
    org = await uow.orgs.get(pledge.org_id)
    if org is not None and org.board_chat_id is not None:
        queued += await queue_board_post(
            uow, org.board_chat_id, board_ref(pledge.id), pledge.id, now
        )
    if pledge.person_id is not None:
        pledger = await uow.people.get(pledge.person_id)
        if pledger is not None and pledger.residence_org_id is not None:
            residence = await uow.orgs.get(pledger.residence_org_id)
            if residence is not None and residence.board_chat_id is not None:
                queued += await queue_board_post(
                    uow, residence.board_chat_id, board_ref(pledge.id, True), pledge.id, now
                )
    return queued


def item_state(progress: ItemProgress | None, deadline: date, today: date) -> str:
    """fulfilled, overdue or open: what the board says of an item."""
    if progress is not None and progress.status is ItemStatus.FULFILLED:
        return "fulfilled"
    return "overdue" if deadline < today else "open"


def live_board_post(
    locale: str | None,
    snapshot: dict[str, Any],
    progress: dict[int, ItemProgress],
    today: date,
    tz: tzinfo,
    web_url: str | None = None,
) -> str:
    """The board post: the pledge as published, each item with its status and last progress."""
    head = [
        t(locale, "board.post.title", number=snapshot["number"]),
        pledger_line(locale, snapshot["pledger_name"], snapshot["org_name"]),
        t(locale, "board.post.horizon", horizon=t(locale, f"horizon.{snapshot['horizon']}")),
    ]
    if snapshot.get("is_oral"):
        head.append(t(locale, "card.oral"))
    if snapshot.get("amended"):
        head.append(t(locale, "board.post.amended"))
    items = snapshot.get("items", [])
    body: list[str] = []
    done = 0
    shown = 0
    for index, item in enumerate(items, start=1):
        state = progress.get(int(item["id"])) if item.get("id") is not None else None
        deadline = date.fromisoformat(item["deadline"])
        status = item_state(state, deadline, today)
        done += status == "fulfilled"
        last = state.last_progress_at if state is not None else None
        lines = [
            *item_lines(locale, index, item),
            t(
                locale,
                "webboard.post.item_status",
                status=t(locale, f"webboard.status.{status}"),
                last=format_day(last, tz, locale or "zh_CN")
                if last is not None
                else t(locale, "webboard.no_progress"),
            ),
        ]
        if sum(len(x) + 1 for x in body) + sum(len(x) + 1 for x in lines) > POST_ITEM_LIMIT:
            break
        body.extend(lines)
        shown += 1
    tail = [t(locale, "webboard.post.summary", done=done, total=len(items))]
    if shown < len(items):
        tail.append(t(locale, "webboard.post.more", count=len(items) - shown))
    if web_url:
        tail.append(t(locale, "webboard.post.web", url=web_url))
    return "\n".join([*head, "", *(body or [t(locale, "card.no_items")]), "", *tail])
