"""build_application: wires storage, services, handlers and the outbox into a PTB Application."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from telegram import BotCommand, BotCommandScopeAllPrivateChats, Update
from telegram.ext import ApplicationBuilder, ContextTypes

from bot import runtime, scheduler
from bot.channels.telegram.adapter import TelegramAdapter
from bot.channels.telegram.files import TelegramFiles
from bot.channels.telegram.flood import FloodControl
from bot.channels.telegram.renderer import TelegramRenderer
from bot.chat.router import Router
from bot.context import BotData, Ctx, JiannuoApp, Services
from bot.domain import rectification_tick
from bot.domain.archive import ArchiveService
from bot.domain.board import BOARD_VIEW, BoardService
from bot.domain.broadcast import REPORT_VIEW, BroadcastService
from bot.domain.campaign_calendar import load_calendar
from bot.domain.clock import Clock, SystemClock
from bot.domain.evaluation import (
    CHART_RENDER,
    POLL_SENT,
    TURNOUT_VIEW,
    EvaluationService,
    load_ballot_key,
)
from bot.domain.exports import ExportService
from bot.domain.leader_review import LeaderReviewService
from bot.domain.ledger import LedgerService
from bot.domain.onboarding import OnboardingService
from bot.domain.pledges import PledgeService
from bot.domain.progress import ProgressService
from bot.domain.rectification import RectificationService
from bot.domain.reminders import QuietHours, ReminderService
from bot.domain.resident_phone import PhoneService
from bot.domain.review import ReviewService
from bot.domain.selection import SelectionService
from bot.domain.slips import SlipService
from bot.domain.stats import StatsService
from bot.domain.suggestions import SuggestionService
from bot.http import AiohttpRequest
from bot.i18n import t
from bot.menu import commands_for
from bot.outbox import OutboxDispatcher, SendLimits
from bot.update_journal import JournalingRequest, UpdateJournal
from bot.web.ballot_page import BallotPage
from bot.web.board import PublicBoard
from bot.web.board import start_server as start_board_server
from bot.web.board import stop_server as stop_board_server
from config.settings import Settings
from handlers import (
    broadcast,
    errors,
    evaluation,
    exports,
    fallback,
    leader_review,
    onboarding,
    pledge_draft,
    pledge_review,
    progress,
    publication,
    rectification,
    reminders,
    reports,
    resident_phone,
    selection,
    stats,
    suggestions,
)
from storage.db import Database
from storage.files import DbFileStore, DiskBlobs
from storage.persistence import DbPersistence

log = logging.getLogger(__name__)

# Handler groups: PTB runs at most one handler per group, groups in ascending order.
GROUP_GUARD = -100  # idempotency: drops a redelivered update before anything sees it
GROUP_RECTIFY = -7  # writing a rectification plan or an acceptor's send-back comment: takes
# text only while it waits for goals, measures, a deadline or the comment
GROUP_EVALUATION = -6  # /evaluate: the closing time and quorum it asks for, only while it waits
GROUP_PROGRESS = -5  # writing progress (text, then photos/files) or a verifier's send-back
# comment: like the review comment, it takes text and files only while it waits for them
GROUP_LEADER_REVIEW = -4  # writing a leader review or a rectification statement: takes
# text only while it waits for a comment, points or a statement
GROUP_BROADCAST = -3  # composing a notice: takes its text or file only while it waits for it
GROUP_SUGGEST = -2  # writing a suggestion (/suggest): takes text only while it waits for it
GROUP_ROUTER = 0  # the channel-neutral handlers and dialogs (bot/chat/router.py): after the PTB
# dialogs not converted yet, so these still see every command first and say when they are
# left, and a dialog opened on top of a draft (a return comment, progress…) takes the text
# first while the draft waits
GROUP_FEATURES = 1  # the features; then the fallback hint, which in the same group runs only
# when no feature took the update

UPDATE_ID_MEMORY = timedelta(days=3)
PLACEHOLDER_TOKEN = "123456:PLAYGROUND"  # the simulator accepts any token it was given


def build_router() -> Router:
    """Every channel-neutral handler module's routes, in one router."""
    router = Router()
    router.include(onboarding.router)  # /start, /help, /lang
    # A return comment takes the words before the draft does (the draft waits under it).
    router.include(pledge_review.router)  # /review, approve, return with a comment
    router.include(pledge_draft.router)  # /pledge, /oral and the drafting dialog
    router.include(reminders.router)  # /mute
    return router


def file_url_for(api_url: str) -> str:
    """Telegram's file URL beside its API URL (…/bot → …/file/bot)."""
    if api_url.endswith("/bot"):
        return api_url[: -len("/bot")] + "/file/bot"
    return api_url.rstrip("/") + "/file/bot"


def build_application(
    settings: Settings,
    *,
    db: Database | None = None,
    clock: Clock | None = None,
    token: str | None = None,
    limits: SendLimits | None = None,
) -> JiannuoApp:
    """Build the bot: storage, services, handlers in an explicit order, the outbox.

    ``limits``: the channel's flood limits (default: Telegram's); one FloodControl paces
    every request, the outbox paces each chat.
    """
    limits = limits or SendLimits()
    db = db or Database(settings.database_url)
    clock = clock or SystemClock(settings.timezone)
    secret = settings.bot_token.get_secret_value() if settings.bot_token else None
    context_types = ContextTypes(context=Ctx, bot_data=BotData)
    ballot_key = load_ballot_key(
        settings.ballot_key.get_secret_value() if settings.ballot_key else None,
        settings.ballot_key_path,
    )
    # Every getUpdates answer is in the database before Telegram is told it arrived.
    journal = UpdateJournal(settings.journal_dir(), db, ballot_key)
    fetcher = JournalingRequest(journal, connection_pool_size=1)
    app: JiannuoApp = (
        ApplicationBuilder()
        .token(token or secret or PLACEHOLDER_TOKEN)
        .base_url(settings.bot_api_url)
        .base_file_url(file_url_for(settings.bot_api_url))
        .context_types(context_types)
        .persistence(DbPersistence(db, update_interval=settings.persistence_flush_seconds))
        .rate_limiter(FloodControl(limits, max_retries=3))
        # aiohttp: half httpx's CPU per request (bot/http.py); PTB's pool sizes (256, 1).
        .request(AiohttpRequest(connection_pool_size=256))
        .get_updates_request(fetcher)
        # Poll answers (群众评议 ballots) take a fast lane into the batched ballot box.
        .application_class(evaluation.VotingApplication)
        .post_init(on_start)
        .post_stop(on_stop)
        .post_shutdown(on_shutdown)
        .build()
    )
    assert isinstance(app, evaluation.VotingApplication)
    fetcher.before_poll = app.room_for_updates  # fetched together while the lanes are full
    calendar = load_calendar(settings.calendar_path)
    if settings.enforce_pledge_window is not None:
        calendar = calendar.model_copy(
            update={"enforce_pledge_window": settings.enforce_pledge_window}
        )
    # Files people send are kept by Jiannuo (content-addressed, beside the database); Telegram
    # sends them by the file_id it knows them under, uploading once where it knows none.
    files = TelegramFiles(DbFileStore(db, DiskBlobs(settings.files_root())))
    dispatcher = OutboxDispatcher(
        db,
        TelegramRenderer(app.bot, files=files),
        clock,
        poll_seconds=settings.outbox_poll_seconds,
        limits=limits,
    )
    broadcasts = BroadcastService(db, clock)
    # The sender's delivery report is a live view of the outbox, refreshed as rows settle.
    dispatcher.register_view(REPORT_VIEW, broadcasts.report_view)
    dispatcher.on_settled(broadcasts.on_settled)
    # A board post (亮诺) is a live view of its pledge: item statuses kept current, edits
    # coalesced (one refresh waits per post) and paced at the group's limit.
    boards = BoardService(db, clock, settings.public_base_url)
    dispatcher.register_view(BOARD_VIEW, boards.board_view)
    rectification_tick.configure(settings.reevaluation_days)
    # 群众评议: ballots are polls whose ids the outbox remembers when sent; the board's
    # turnout is a live view; the results chart is drawn when it is sent.
    evaluations = EvaluationService(
        db,
        clock,
        ballot_key,
        quorum_default=settings.quorum_default,
        quorum_small=settings.quorum_small,
        pass_percent=settings.satisfaction_pass_percent,
    )
    evaluations.on_handled = journal.handled  # votes are handled once their batch commits
    dispatcher.register_view(TURNOUT_VIEW, evaluations.turnout_view)
    dispatcher.on_sent(POLL_SENT, evaluations.on_poll_sent)
    dispatcher.register_file(CHART_RENDER, evaluations.chart)
    export_service = ExportService(db, clock)
    app.bot_data.wire(
        Services(
            settings=settings,
            db=db,
            clock=clock,
            onboarding=OnboardingService(db, clock, settings.admin_ids, settings.invite_ttl_days),
            pledges=PledgeService(db, clock, calendar),
            reviews=ReviewService(db, clock),
            reminders=ReminderService(db, clock, calendar, QuietHours(*settings.quiet_span())),
            boards=boards,
            outbox=dispatcher,
            broadcasts=broadcasts,
            progress=ProgressService(db, clock),
            ledger=LedgerService(db, clock),
            evaluations=evaluations,
            slips=SlipService(db, clock, ballot_key, evaluations),
            exports=export_service,
            archive=ArchiveService(db, clock, export_service),
            selection=SelectionService(db, clock, settings),
            rectifications=RectificationService(db, clock),
            leader_reviews=LeaderReviewService(db, clock),
            phones=PhoneService(db, clock),
            stats=StatsService(db, clock),
            suggestions=SuggestionService(db, clock),
            journal=journal,
            files=files,
        )
    )
    # Order matters: the guard first; conversations before plain commands of the same words.
    adapter = TelegramAdapter(build_router())
    app.add_handlers(adapter.guard(), group=GROUP_GUARD)
    app.add_handlers(broadcast.build_compose(), group=GROUP_BROADCAST)
    app.add_handlers(progress.build_conversation(), group=GROUP_PROGRESS)
    app.add_handlers(evaluation.build_conversation(), group=GROUP_EVALUATION)
    app.add_handlers(rectification.build_conversation(), group=GROUP_RECTIFY)
    app.add_handlers(leader_review.build_conversation(), group=GROUP_LEADER_REVIEW)
    app.add_handlers(suggestions.build_conversation(), group=GROUP_SUGGEST)
    app.add_handlers(adapter.routed(), group=GROUP_ROUTER)
    app.add_handlers(
        [
            *publication.build(),  # /linkboard, /board, /mypledges
            *broadcast.build(),  # /broadcasts, 收到 and the report's buttons
            *progress.build(),  # /progress, /record, claim / verify / evidence buttons
            *reports.build(),  # /ledger and its page buttons
            *evaluation.build(),  # /evaluations, its buttons, the ballots' poll answers
            *exports.build(),  # /export: tables, ledger, letters, statistics form
            *selection.build(),  # /ranking, /awards, /assess and their buttons
            *stats.build(),  # /stats: charts as photos
            *rectification.build(),  # /rectify and the accept button
            *leader_review.build(),  # /comment, /comments and the list's buttons
            *resident_phone.build(),  # /phone and a shared contact (residents confirm)
            *suggestions.build(),  # /suggestions and its buttons (调研提诺)
            *fallback.build(),  # last in the group: only what no feature took
        ],
        group=GROUP_FEATURES,
    )
    app.add_error_handler(errors.on_error)
    scheduler.install(app, settings.reminder_tick_seconds)
    scheduler.install_evaluations(app, settings.evaluation_tick_seconds)
    scheduler.install_files(app)
    return app


async def on_start(app: Any) -> None:
    """Migrate the database, set the default command menus, resume the outbox.

    run_polling calls it as post_init; whoever drives the Application by hand calls it
    after ``initialize()`` (tests, the playground).
    """
    services: Services = app.bot_data.services
    await services.db.migrate()
    async with services.db.uow() as uow:
        await uow.updates.prune(services.clock.now() - UPDATE_ID_MEMORY)
    # Updates taken before a crash and never handled go first, in order (bot/update_journal.py).
    for raw in await services.journal.unhandled():
        try:
            update = Update.de_json(raw, app.bot)
        except Exception:  # an update this PTB cannot read: said, and not tried again
            log.exception("a journaled update could not be read: dropped")
            services.journal.handled((int(raw["update_id"]),))
            continue
        await app.update_queue.put(update)
    await set_default_menus(app)
    await services.outbox.start()
    # The start-up heap out of the collector's way (see bot/runtime.py); put back at shutdown.
    app.bot_data.gc_state = runtime.tune()
    if services.settings.web_port is not None:
        # 网上晒: the public web board, read-only, served by this process; beside it the
        # ballot slips' page (现场票, /v/<token>).
        ballots = BallotPage(
            services.slips, services.clock, behind_proxy=services.settings.web_behind_proxy
        )
        await start_board_server(
            app,
            PublicBoard(services.db, services.clock),
            services.settings.web_host,
            services.settings.web_port,
            beside=[ballots.setup],
        )
    log.info("bot started")


async def set_default_menus(app: Any) -> None:
    """The menu before anyone is known: zh_CN as default, English for English clients."""
    for language_code, locale in (("", "zh_CN"), ("en", "en")):
        commands = [BotCommand(c, t(locale, f"cmd.{c}")) for c in commands_for(None)]
        await app.bot.set_my_commands(
            commands, scope=BotCommandScopeAllPrivateChats(), language_code=language_code or None
        )


async def on_stop(app: Any) -> None:
    """Stop the outbox after the messages in flight (post_stop); every poll answer taken is
    committed first."""
    await app.bot_data.services.evaluations.drain()
    app.bot_data.services.journal.close()
    await app.bot_data.services.outbox.stop()
    await stop_board_server(app)


async def on_shutdown(app: Any) -> None:
    """Close the database (post_shutdown); the collector as it was before start."""
    await app.bot_data.services.db.dispose()
    state = app.bot_data.gc_state
    if state is not None:
        app.bot_data.gc_state = None
        runtime.restore(state)


ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
    Update.POLL_ANSWER,
]
