"""A unit of work: one transaction, every repository on the same connection."""

from __future__ import annotations

import asyncio
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.board_repo import BoardRepo
from storage.broadcast_repo import BroadcastRepo
from storage.evaluation_repo import EvaluationRepo
from storage.export_repo import ExportRepo
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
from storage.stats_repo import StatsRepo
from storage.suggestion_repo import SuggestionRepo


class UnitOfWork:
    """Commits on a clean exit, rolls back on an exception: all or nothing."""

    orgs: OrgRepo
    people: PersonRepo
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
    selection: SelectionRepo
    rectifications: RectificationRepo
    evaluations: EvaluationRepo
    leader_reviews: LeaderReviewRepo
    stats: StatsRepo
    suggestions: SuggestionRepo
    boards: BoardRepo

    def __init__(self, engine: AsyncEngine, lock: asyncio.Lock | None = None) -> None:
        self._engine = engine
        self._lock = lock
        self._conn: AsyncConnection | None = None

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
        self.orgs = OrgRepo(conn)
        self.people = PersonRepo(conn)
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
        self.selection = SelectionRepo(conn)
        self.rectifications = RectificationRepo(conn)
        self.evaluations = EvaluationRepo(conn)
        self.leader_reviews = LeaderReviewRepo(conn)
        self.stats = StatsRepo(conn)
        self.suggestions = SuggestionRepo(conn)
        self.boards = BoardRepo(conn)
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
                await conn.commit()
            else:
                await conn.rollback()
        finally:
            await conn.close()
            self._conn = None
            if self._lock is not None:
                self._lock.release()
