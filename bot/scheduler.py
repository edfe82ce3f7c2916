"""Jobs on PTB's JobQueue: thin, they call services. No per-pledge job: one periodic tick."""

from __future__ import annotations

import logging
from typing import Any

from telegram.error import NetworkError

from bot.context import Ctx

log = logging.getLogger(__name__)

REMINDER_JOB = "reminder-tick"
EVALUATION_JOB = "evaluation-tick"
FILES_JOB = "fetch-held-files"
FILES_EVERY_SECONDS = 3600.0


async def reminder_tick(ctx: Ctx) -> None:
    """Queue the reminders due now and wake the outbox."""
    # A broadcast a crash stopped half-queued goes on from its watermark first.
    resumed = await ctx.svc.broadcasts.resume()
    report = await ctx.svc.reminders.tick()
    # 亮诺 kept current: once a day, board posts whose items fell overdue are refreshed.
    refreshed = await ctx.svc.boards.overdue_tick()
    if report.total or refreshed or resumed:
        ctx.svc.outbox.wake()


async def evaluation_tick(ctx: Ctx) -> None:
    """Close the mass evaluations that are due and queue the reminder before closing."""
    report = await ctx.svc.evaluations.tick(ctx.svc.reminders.quiet)
    if report.total:
        ctx.svc.outbox.wake()


async def fetch_held_files(ctx: Ctx) -> None:
    """Fetch the bytes of files that Telegram alone held (file ids carried over from before
    Jiannuo kept files); once all are here this is one empty query."""
    try:
        fetched = await ctx.svc.files.fetch_held(ctx.bot)
    except NetworkError as exc:  # Telegram unreachable: the next run tries again
        log.info("carried-over files not fetched now: %s", exc)
        return
    if fetched:
        log.info("%d carried-over files fetched from Telegram", fetched)


def install_files(app: Any) -> None:
    """Schedule the fetching of carried-over files (soon after start, then hourly)."""
    job_queue = app.job_queue
    assert job_queue is not None
    job_queue.run_repeating(
        fetch_held_files, interval=FILES_EVERY_SECONDS, first=2.0, name=FILES_JOB
    )


def install_evaluations(app: Any, tick_seconds: float) -> None:
    """Schedule the evaluation tick (closing is derived from the database: exactly once)."""
    job_queue = app.job_queue
    assert job_queue is not None
    job_queue.run_repeating(evaluation_tick, interval=tick_seconds, first=1.0, name=EVALUATION_JOB)


def install(app: Any, tick_seconds: float) -> None:
    """Schedule the reminder tick (it starts with the Application)."""
    job_queue = app.job_queue
    if job_queue is None:  # PTB without the job-queue extra: refuse loudly, reminders matter
        raise RuntimeError("python-telegram-bot[job-queue] is required for reminders")
    job_queue.run_repeating(reminder_tick, interval=tick_seconds, first=1.0, name=REMINDER_JOB)
    log.info("reminder tick every %.0f s", tick_seconds)
