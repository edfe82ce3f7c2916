"""A unit of work: one transaction, every repository on the same connection."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.chat.dialogs import staged_here
from storage.accounts import AccountRepo
from storage.archive_repo import ArchiveRepo
from storage.board_repo import BoardRepo
from storage.broadcast_repo import BroadcastRepo
from storage.dialog_repo import DialogRepo
from storage.evaluation_repo import EvaluationRepo
from storage.export_repo import ExportRepo
from storage.file_repo import FileRepo
from storage.leader_review_repo import LeaderReviewRepo
from storage.progress_repo import LedgerRepo, ProgressRepo
from storage.rectification_repo import RectificationRepo
from storage.reminder_repo import ReminderRepo
from storage.repositories import (
    InviteRepo,
    KvRepo,
    OrgRepo,
    OutboxRepo,
    PersonRepo,
    PledgeRepo,
    ReviewRepo,
    UpdateRepo,
)
from storage.selection_repo import SelectionRepo
from storage.slip_repo import SlipRepo
from storage.stats_repo import StatsRepo
from storage.suggestion_repo import SuggestionRepo
from storage.update_claim import READ_ONLY, WROTE, UpdateSeenBefore, unclaimed_update


class UnitOfWork:
    """Commits on a clean exit, rolls back on an exception: all or nothing.

    A writer (Database.uow) takes the lock, if any (SQLite's single writer); a reader
    (Database.read) takes none and may not write. The first writer of an update in hand
    records the update as handled in its own transaction (storage/update_claim.py), and a
    writer carries the dialog changes staged by the event in hand (bot/chat/dialogs.py)."""

    orgs: OrgRepo
    people: PersonRepo
    accounts: AccountRepo
    invites: InviteRepo
    pledges: PledgeRepo
    reviews: ReviewRepo
    outbox: OutboxRepo
    updates: UpdateRepo
    kv: KvRepo
    reminders: ReminderRepo
    broadcasts: BroadcastRepo
    progress: ProgressRepo
    ledger: LedgerRepo
    exports: ExportRepo
    archive: ArchiveRepo
    selection: SelectionRepo
    rectifications: RectificationRepo
    evaluations: EvaluationRepo
    slips: SlipRepo
    leader_reviews: LeaderReviewRepo
    stats: StatsRepo
    suggestions: SuggestionRepo
    boards: BoardRepo
    dialogs: DialogRepo
    files: FileRepo

    def __init__(
        self,
        engine: AsyncEngine,
        lock: asyncio.Lock | None = None,
        *,
        read_only: bool = False,
        claims_update: bool = True,
    ) -> None:
        self._engine = engine
        self._lock = lock
        self._read_only = read_only
        self._claims_update = claims_update
        self._conn: AsyncConnection | None = None
        self._info: dict[Any, Any] = {}

    async def __aenter__(self) -> UnitOfWork:
        if self._lock is not None:
            await self._lock.acquire()
        try:
            # The transaction begins with the first statement (SQLAlchemy's autobegin): an
            # explicit begin() was one more call through the greenlet bridge, for nothing.
            conn = await self._engine.connect()
        except BaseException:  # cancelled (or failed) here, the lock must not stay taken
            if self._lock is not None:
                self._lock.release()
            raise
        self._conn = conn
        # The pooled connection's info: the write hook reads it (storage/update_claim.py).
        self._info = conn.sync_connection.info if conn.sync_connection is not None else {}
        self._info[READ_ONLY] = self._read_only
        self._info[WROTE] = False
        self.orgs = OrgRepo(conn)
        self.people = PersonRepo(conn)
        self.accounts = AccountRepo(conn)
        self.invites = InviteRepo(conn)
        self.pledges = PledgeRepo(conn)
        self.reviews = ReviewRepo(conn)
        self.outbox = OutboxRepo(conn)
        self.updates = UpdateRepo(conn)
        self.kv = KvRepo(conn)
        self.reminders = ReminderRepo(conn)
        self.broadcasts = BroadcastRepo(conn)
        self.progress = ProgressRepo(conn)
        self.ledger = LedgerRepo(conn)
        self.exports = ExportRepo(conn)
        self.archive = ArchiveRepo(conn)
        self.selection = SelectionRepo(conn)
        self.rectifications = RectificationRepo(conn)
        self.evaluations = EvaluationRepo(conn)
        self.slips = SlipRepo(conn)
        self.leader_reviews = LeaderReviewRepo(conn)
        self.stats = StatsRepo(conn)
        self.suggestions = SuggestionRepo(conn)
        self.boards = BoardRepo(conn)
        self.dialogs = DialogRepo(conn)
        self.files = FileRepo(conn)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self._conn
        assert conn is not None
        try:
            if exc_type is None:
                # A bookkeeping unit of work (Database.bookkeeping) carries neither the
                # dialog's next step nor the update's mark: those go with the effects.
                wrote = self._info.get(WROTE) and self._claims_update
                staged = staged_here() if wrote else None
                if staged is not None:  # the dialog's next step goes with the step's effect
                    await self.dialogs.write(staged.take())
                hand = unclaimed_update() if wrote else None
                if hand is not None:  # the update's effects: it is handled with them
                    if not await self.updates.claim(hand.update_id, hand.at):
                        raise UpdateSeenBefore(hand.update_id)  # rolled back on close
                    hand.claimed = True
                await conn.commit()
            else:
                await conn.rollback()
        finally:
            self._info.pop(READ_ONLY, None)
            self._info.pop(WROTE, None)
            await conn.close()
            self._conn = None
            if self._lock is not None:
                self._lock.release()
