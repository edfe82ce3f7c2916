"""Typed wiring: the services reach handlers through ``context.svc``, never bot_data['x']."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.channels.telegram.files import TelegramFiles
from bot.chat.events import Event
from bot.chat.router import Turn
from bot.domain.archive import ArchiveService
from bot.domain.board import BoardService
from bot.domain.broadcast import BroadcastService
from bot.domain.clock import Clock
from bot.domain.evaluation import EvaluationService
from bot.domain.exports import ExportService
from bot.domain.leader_review import LeaderReviewService
from bot.domain.ledger import LedgerService
from bot.domain.onboarding import OnboardingService
from bot.domain.pledges import PledgeService
from bot.domain.progress import ProgressService
from bot.domain.rectification import RectificationService
from bot.domain.reminders import ReminderService
from bot.domain.resident_phone import PhoneService
from bot.domain.review import ReviewService
from bot.domain.selection import SelectionService
from bot.domain.slips import SlipService
from bot.domain.stats import StatsService
from bot.domain.suggestions import SuggestionService
from bot.outbox import OutboxDispatcher
from bot.runtime import GcState
from bot.update_journal import UpdateJournal
from config.settings import Settings
from storage.db import Database


@dataclass
class Services:
    """Everything built once in build_application."""

    settings: Settings
    db: Database
    clock: Clock
    onboarding: OnboardingService
    pledges: PledgeService
    reviews: ReviewService
    reminders: ReminderService
    boards: BoardService
    outbox: OutboxDispatcher
    broadcasts: BroadcastService
    progress: ProgressService
    ledger: LedgerService
    evaluations: EvaluationService
    slips: SlipService
    exports: ExportService
    archive: ArchiveService
    selection: SelectionService
    rectifications: RectificationService
    leader_reviews: LeaderReviewService
    phones: PhoneService
    stats: StatsService
    suggestions: SuggestionService
    journal: UpdateJournal
    files: TelegramFiles  # files people send, kept by Jiannuo; sent by Telegram's cached ids


class BotData:
    """PTB's bot_data: holds the services (PTB instantiates it without arguments)."""

    def __init__(self) -> None:
        self._services: Services | None = None
        # The collector's settings before start (bot/runtime.py), put back at shutdown.
        self.gc_state: GcState | None = None

    @property
    def services(self) -> Services:
        """The wired services."""
        if self._services is None:
            raise RuntimeError("services are not wired yet")
        return self._services

    def wire(self, services: Services) -> None:
        """Attach the services."""
        self._services = services


class Ctx(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]):
    """Our callback context (one per update, shared by every handler group)."""

    # The update as a neutral event with its turn, set by the Telegram adapter's guard.
    inbound: tuple[Event, Turn] | None = None

    @property
    def svc(self) -> Services:
        """The services."""
        return self.bot_data.services


JiannuoApp = Application[ExtBot[Any], Ctx, dict[Any, Any], dict[Any, Any], BotData, Any]
