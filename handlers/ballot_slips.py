"""现场票 and 纸质票 in chat: one-time ballot slips printed with /evaluate (or later from
/evaluations), and the counts of a paper ballot box entered with the tally sheet's photo.

These steps live in the /evaluate conversation (handlers/evaluation.py wires them in): a
slip count asked at the quorum step, and two buttons on an open evaluation. The slips' PDF is
sent as a file; its addresses exist nowhere else (the database keeps only their hashes).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, ConversationHandler, MessageHandler
from telegram.ext import filters as tg_filters
from telegram.ext.filters import BaseFilter

from bot.channels.telegram.files import incoming_of
from bot.context import Ctx
from bot.domain.errors import DomainError
from bot.domain.evaluation import button, extra_line
from bot.domain.evaluation_models import EvalStatus
from bot.domain.slips import MAX_PAPER, MAX_SLIPS, parse_counts
from bot.i18n import t
from handlers.common import actor_of, answer_callback, guarded, locale_of, reply, text_of
from handlers.evaluation_setup import (
    SLIP_STEP_KEYS,
    SLIPS_KEY,
    EvaluateState,
    _data,
    _int_arg,
    _pattern,
    _preview,
    _stop,
    _stops,
    ask_quorum,
)

UPLOAD_TIMEOUT = 60.0
MORE_KEY, PAPER_KEY = SLIP_STEP_KEYS  # the evaluation more slips are for; the paper box
# being entered (JSON-friendly: persisted)


class SlipStep(StrEnum):
    """What the conversation waits for in these steps."""

    MORE = "more_slips"
    PAPER_BALLOTS = "paper_ballots"
    PAPER_COUNTS = "paper_counts"
    PAPER_PHOTO = "paper_photo"
    PAPER_CONFIRM = "paper_confirm"


def _number(text: str, unit: str) -> int | None:
    digits = text.strip().rstrip(unit).strip()
    return int(digits) if digits.isdigit() and len(digits) <= 6 else None


async def send_slips(
    update: Update, ctx: Ctx, loc: str, evaluation_id: int, tokens: tuple[str, ...]
) -> None:
    """Lay out the slips just issued and send the PDF to the chat."""
    try:
        printed = await ctx.svc.slips.render(
            evaluation_id, tokens, ctx.svc.settings.ballot_base(), loc
        )
    except DomainError as exc:
        await reply(update, exc.render(loc))
        return
    await _send(update, loc, printed.name, printed.data, printed.count, printed.org_name)


async def _send(update: Update, loc: str, name: str, data: bytes, count: int, org: str) -> None:
    chat = update.effective_chat
    assert chat is not None
    await chat.send_document(
        document=data,
        filename=name,
        caption=t(loc, "slip.sent", count=count, org=org),
        write_timeout=UPLOAD_TIMEOUT,
        read_timeout=UPLOAD_TIMEOUT,
    )


# ---- slips while opening (/evaluate, at the quorum step) ------------------------------------


@_stops
async def ask_count(update: Update, ctx: Ctx) -> EvaluateState | int:
    """🎫 on the quorum question: how many slips."""
    loc = await locale_of(update, ctx)
    if not ctx.svc.settings.ballot_base():
        await answer_callback(update, t(loc, "slip.no_address")[:200], alert=True)
        return EvaluateState.QUORUM
    await answer_callback(update)
    await reply(update, t(loc, "slip.ask_count", limit=MAX_SLIPS))
    return EvaluateState.SLIPS


async def receive_count(update: Update, ctx: Ctx) -> int:
    """The number of slips: the quorum question again, slips counted in."""
    loc = await locale_of(update, ctx)
    count = _number(text_of(update), "张")
    if count is None:
        await reply(update, t(loc, "slip.not_number"))
        _stop(EvaluateState.SLIPS)
    data = _data(ctx)
    previous = data.get(SLIPS_KEY)
    data[SLIPS_KEY] = count
    try:
        plan = await _preview(update, ctx)
    except DomainError as exc:
        await reply(update, exc.render(loc))
        if exc.key == "slip.count.range":
            data[SLIPS_KEY] = previous
            _stop(EvaluateState.SLIPS)
        data[SLIPS_KEY] = previous
        _stop(EvaluateState.QUORUM)
    await ask_quorum(update, ctx, loc, plan)
    _stop(EvaluateState.QUORUM)


# ---- more slips for an open evaluation (/evaluations) ---------------------------------------


@guarded
async def ask_more(update: Update, ctx: Ctx) -> SlipStep | int:
    """🎫 加印现场票 on an open evaluation."""
    loc = await locale_of(update, ctx)
    evaluation_id = _int_arg(update)
    if evaluation_id is None:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return ConversationHandler.END
    view = await ctx.svc.evaluations.overview(await actor_of(update, ctx), evaluation_id)
    if view.evaluation.status is not EvalStatus.OPEN:
        raise DomainError("slip.not_open")
    if not ctx.svc.settings.ballot_base():
        raise DomainError("slip.no_address")
    _data(ctx)[MORE_KEY] = evaluation_id
    await answer_callback(update)
    await reply(update, t(loc, "slip.ask_count", limit=MAX_SLIPS))
    return SlipStep.MORE


async def receive_more(update: Update, ctx: Ctx) -> int:
    """The number: the slips are issued and their PDF sent."""
    loc = await locale_of(update, ctx)
    data = _data(ctx)
    evaluation_id = data.get(MORE_KEY)
    if evaluation_id is None:
        await reply(update, t(loc, "ev.expired"))
        _stop(ConversationHandler.END)
    count = _number(text_of(update), "张")
    if count is None:
        await reply(update, t(loc, "slip.not_number"))
        _stop(SlipStep.MORE)
    try:
        printed = await ctx.svc.slips.print_for(
            await actor_of(update, ctx),
            int(evaluation_id),
            count,
            ctx.svc.settings.ballot_base(),
            loc,
        )
    except DomainError as exc:
        await reply(update, exc.render(loc))
        if exc.key == "slip.count.range":
            _stop(SlipStep.MORE)
        data.pop(MORE_KEY, None)
        _stop(ConversationHandler.END)
    data.pop(MORE_KEY, None)
    await _send(update, loc, printed.name, printed.data, printed.count, printed.org_name)
    _stop(ConversationHandler.END)


# ---- the paper ballot box (纸质票) ----------------------------------------------------------


def _paper(ctx: Ctx) -> dict[str, Any]:
    found = _data(ctx).get(PAPER_KEY)
    if not isinstance(found, dict):
        raise DomainError("ev.expired")
    return found


async def _paper_or_end(update: Update, ctx: Ctx, loc: str) -> dict[str, Any]:
    """The paper box being entered; a stale step is said and ended."""
    try:
        return _paper(ctx)
    except DomainError as exc:
        await reply(update, exc.render(loc))
        _stop(ConversationHandler.END)


@guarded
async def ask_paper(update: Update, ctx: Ctx) -> SlipStep | int:
    """📝 录入纸质票: how many ballots the box held."""
    loc = await locale_of(update, ctx)
    evaluation_id = _int_arg(update)
    if evaluation_id is None:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return ConversationHandler.END
    view = await ctx.svc.evaluations.overview(await actor_of(update, ctx), evaluation_id)
    if view.evaluation.status is not EvalStatus.OPEN:
        raise DomainError("ev.already_closed")
    _data(ctx)[PAPER_KEY] = {
        "eid": evaluation_id,
        "org": view.org.name,
        "subjects": [[s.id, name] for s, name in view.subjects],
        "counts": [],
    }
    await answer_callback(update)
    await reply(update, t(loc, "paper.ask_ballots", org=view.org.name))
    return SlipStep.PAPER_BALLOTS


async def _ask_subject(update: Update, loc: str, paper: dict[str, Any]) -> None:
    number = len(paper["counts"]) + 1
    subjects = paper["subjects"]
    name = subjects[number - 1][1]
    total = len(subjects)
    await reply(update, t(loc, "paper.ask_counts", number=number, total=total, name=name))


async def receive_ballots(update: Update, ctx: Ctx) -> int:
    """The number of paper ballots: then the first subject's counts."""
    loc = await locale_of(update, ctx)
    paper = await _paper_or_end(update, ctx, loc)
    ballots = _number(text_of(update), "张")
    if ballots is None or not 1 <= ballots <= MAX_PAPER:
        await reply(update, t(loc, "paper.ballots.range", limit=MAX_PAPER))
        _stop(SlipStep.PAPER_BALLOTS)
    paper["ballots"] = ballots
    await _ask_subject(update, loc, paper)
    _stop(SlipStep.PAPER_COUNTS)


async def receive_counts(update: Update, ctx: Ctx) -> int:
    """One subject's 满意 基本满意 不满意: the next subject, or the tally sheet's photo."""
    loc = await locale_of(update, ctx)
    paper = await _paper_or_end(update, ctx, loc)
    try:
        counts = parse_counts(text_of(update))
    except DomainError as exc:
        await reply(update, exc.render(loc))
        _stop(SlipStep.PAPER_COUNTS)
    number = len(paper["counts"]) + 1
    if sum(counts) > int(paper["ballots"]):
        await reply(update, t(loc, "paper.too_many", number=number, ballots=paper["ballots"]))
        _stop(SlipStep.PAPER_COUNTS)
    paper["counts"].append(list(counts))
    if len(paper["counts"]) < len(paper["subjects"]):
        await _ask_subject(update, loc, paper)
        _stop(SlipStep.PAPER_COUNTS)
    await reply(update, t(loc, "paper.ask_photo"))
    _stop(SlipStep.PAPER_PHOTO)


async def receive_photo(update: Update, ctx: Ctx) -> int:
    """The photo of the signed tally sheet: then the summary to confirm."""
    loc = await locale_of(update, ctx)
    paper = await _paper_or_end(update, ctx, loc)
    incoming = incoming_of(update.effective_message)
    assert incoming is not None  # the step takes photos only
    try:
        stored = await ctx.svc.files.receive(ctx.bot, incoming)
    except DomainError as exc:
        await reply(update, exc.render(loc))
        _stop(SlipStep.PAPER_PHOTO)
    paper["photo"] = stored.id  # kept by Jiannuo
    lines = [
        t(
            loc,
            "paper.summary.line",
            number=n,
            name=name,
            satisfied=a,
            basic=b,
            unsatisfied=c,
        )
        for n, ((_, name), (a, b, c)) in enumerate(
            zip(paper["subjects"], paper["counts"], strict=True), start=1
        )
    ]
    text = t(
        loc, "paper.summary", org=paper["org"], ballots=paper["ballots"], lines="\n".join(lines)
    )
    buttons = [
        [button(t(loc, "paper.btn.confirm"), "ppok"), button(t(loc, "paper.btn.cancel"), "ppno")]
    ]
    await reply(update, text, buttons)
    _stop(SlipStep.PAPER_CONFIRM)


async def photo_please(update: Update, ctx: Ctx) -> int:
    """Text where the tally sheet's photo is awaited."""
    await reply(update, t(await locale_of(update, ctx), "paper.photo_please"))
    _stop(SlipStep.PAPER_PHOTO)


@_stops
@guarded
async def confirm_paper(update: Update, ctx: Ctx) -> int:
    """✅ 确认录入: the paper box is recorded (and counted at closing)."""
    loc = await locale_of(update, ctx)
    paper = _paper(ctx)
    counts = {
        int(sid): (int(a), int(b), int(c))
        for (sid, _), (a, b, c) in zip(paper["subjects"], paper["counts"], strict=True)
    }
    _data(ctx).pop(PAPER_KEY, None)
    extra = await ctx.svc.slips.enter_paper(
        await actor_of(update, ctx),
        int(paper["eid"]),
        int(paper["ballots"]),
        counts,
        int(paper["photo"]),
    )
    ctx.svc.outbox.wake()
    await answer_callback(update)
    text = t(loc, "paper.entered", org=paper["org"], ballots=paper["ballots"])
    await reply(update, text + extra_line(loc, extra), edit=True)
    return ConversationHandler.END


@_stops
async def cancel_paper(update: Update, ctx: Ctx) -> int:
    """取消 on the summary: nothing is entered."""
    _data(ctx).pop(PAPER_KEY, None)
    await answer_callback(update)
    await reply(update, t(await locale_of(update, ctx), "paper.cancelled"), edit=True)
    return ConversationHandler.END


# ---- wiring (into the /evaluate conversation) -----------------------------------------------


def entry_points() -> list[BaseHandler[Update, Ctx, object]]:
    """The buttons of an open evaluation that start these steps."""
    return [
        CallbackQueryHandler(ask_more, pattern=_pattern("sl")),
        CallbackQueryHandler(ask_paper, pattern=_pattern("pp")),
    ]


def states(
    text: BaseFilter, private: BaseFilter
) -> dict[object, list[BaseHandler[Update, Ctx, object]]]:
    """The conversation states of these steps."""
    return {
        SlipStep.MORE: [MessageHandler(text, receive_more)],
        SlipStep.PAPER_BALLOTS: [MessageHandler(text, receive_ballots)],
        SlipStep.PAPER_COUNTS: [MessageHandler(text, receive_counts)],
        SlipStep.PAPER_PHOTO: [
            MessageHandler(tg_filters.PHOTO & private, receive_photo),
            MessageHandler(text, photo_please),
        ],
        SlipStep.PAPER_CONFIRM: [
            CallbackQueryHandler(confirm_paper, pattern=_pattern("ppok")),
            CallbackQueryHandler(cancel_paper, pattern=_pattern("ppno")),
        ],
    }
