"""领导点评 in chat: /comment (choose a subject, grade, comment, points to rectify, a
rectification deadline for overdue items, publish or not, confirm), the rectification
statement (整改表态) on a delivered review, and /comments (received and given).

The conversation runs in its own handler group before the features: only while it waits for a
comment, points or a statement does it take text, and then nothing after it sees that text.
The draft lives in user_data (persisted), so a restart resumes where the reviewer was.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any, NoReturn

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.channels.telegram.callbacks import actions_pattern
from bot.chat.actions import Button, Rows
from bot.context import Ctx
from bot.domain.dates import format_date, format_day
from bot.domain.errors import DomainError
from bot.domain.leader_review import (
    FEATURE,
    RECTIFY_DAYS,
    Grade,
    History,
    LeaderReviewService,
    PeriodKind,
    ReviewDraft,
    ReviewLine,
    SubjectCard,
    SubjectKind,
    SubjectList,
    button,
    grade_label,
    last_progress_label,
    period_label,
)
from bot.i18n import t
from handlers.common import (
    actor_of,
    answer_callback,
    guarded,
    locale_of,
    pressed,
    reply,
    text_of,
)
from handlers.dialog import dialog

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 1800
PAGE = 8
LABEL_CHARS = 24

DRAFT_KEY = "lr_draft"
OVERDUE_KEY = "lr_overdue"
BOARD_KEY = "lr_board"
RESPOND_KEY = "lr_respond"
NAME_KEY = "lr_name"


class ReviewState(StrEnum):
    """What the conversation waits for (stored by the persistence as strings)."""

    GRADE = "grade"
    COMMENT = "comment"
    POINTS = "points"
    RECTIFY = "rectify"
    PUBLISH = "publish"
    CONFIRM = "confirm"
    RESPONSE = "response"  # the reviewed person's rectification statement


def _data(ctx: Ctx) -> dict[Any, Any]:
    return ctx.user_data if ctx.user_data is not None else {}


def _args(update: Update) -> tuple[str, ...]:
    data = pressed(update)
    return data.args if data else ()


def _stop(state: object) -> NoReturn:
    """Keep the update from going further and set the conversation's state (None: keep)."""
    raise ApplicationHandlerStop(state)


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _kind(raw: str) -> PeriodKind:
    try:
        return PeriodKind(raw)
    except ValueError:
        raise DomainError("error.stale_button") from None


def _service(ctx: Ctx) -> LeaderReviewService:
    return ctx.svc.leader_reviews


def _cancel_row(loc: str) -> list[Button]:
    return [button(t(loc, "lr.btn.cancel"), "x")]


async def _drop_buttons(update: Update) -> None:
    """Take the buttons off the step just answered (a second tap cannot repeat it)."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    try:
        await query.edit_message_reply_markup(None)
    except TelegramError as exc:  # e.g. too old to edit: the step's state still guards it
        log.debug("could not drop the buttons: %s", exc.message)


async def _refuse(update: Update, loc: str, exc: DomainError) -> None:
    text = exc.render(loc)
    if update.callback_query is not None:
        await answer_callback(update, text, alert=True)
        if len(text) > 200:
            await reply(update, text)
    else:
        await reply(update, text)


# ---- the subject list ---------------------------------------------------------------------


def render_list(loc: str, view: SubjectList, page: int) -> tuple[str, Rows]:
    """The period, the kind switch and one page of subjects (due first)."""
    org_arg = view.org_id or 0
    due = sum(1 for s in view.subjects if s.due)
    lines = [t(loc, "lr.list.title", period=period_label(loc, view.period))]
    if not view.subjects:
        lines.append(t(loc, "lr.list.empty_branch" if view.branch_view else "lr.list.empty"))
    else:
        if view.org_id is not None and view.subjects:
            lines.append(t(loc, "lr.list.members_of", org=view.subjects[0].org_name))
        lines.append(t(loc, "lr.list.pick", due=due, count=len(view.subjects)))
    rows: Rows = [
        [
            button(
                ("✓ " if kind is view.kind else "") + t(loc, f"lr.kind.{kind.value}"),
                "ls",
                kind.value,
                0,
                org_arg,
            )
            for kind in PeriodKind
        ]
    ]
    pages = max(1, -(-len(view.subjects) // PAGE))
    page = min(max(page, 0), pages - 1)
    for subject in view.subjects[page * PAGE : (page + 1) * PAGE]:
        mark = "🔔 " if subject.due else "✅ "
        if subject.kind is SubjectKind.BRANCH:
            label = f"{mark}🏢 {_short(subject.name)}"
            rows.append(
                [
                    button(label, "s", view.kind.value, subject.key),
                    button(
                        t(loc, "lr.btn.members", org=_short(subject.name)),
                        "ls",
                        view.kind.value,
                        0,
                        subject.id,
                    ),
                ]
            )
        else:
            rows.append(
                [button(f"{mark}{_short(subject.name)}", "s", view.kind.value, subject.key)]
            )
    nav = []
    if page > 0:
        nav.append(button(t(loc, "lr.btn.prev"), "ls", view.kind.value, page - 1, org_arg))
    if page < pages - 1:
        nav.append(button(t(loc, "lr.btn.next"), "ls", view.kind.value, page + 1, org_arg))
    if nav:
        rows.append(nav)
        lines.append(t(loc, "lr.list.page", page=page + 1, pages=pages))
    if view.org_id is not None:
        rows.append([button(t(loc, "lr.btn.back_branches"), "ls", view.kind.value, 0, 0)])
    return "\n".join(lines), rows


@guarded
async def show_subjects(update: Update, ctx: Ctx) -> None:
    """/comment: who to review this period, due first."""
    loc = await locale_of(update, ctx)
    view = await _service(ctx).subjects(await actor_of(update, ctx))
    text, rows = render_list(loc, view, 0)
    await reply(update, text, rows)


@guarded
async def list_page(update: Update, ctx: Ctx) -> None:
    """A kind, page or branch button of the list."""
    loc = await locale_of(update, ctx)
    args = _args(update)
    try:
        kind, page, org = _kind(args[0]), int(args[1]), int(args[2])
    except (IndexError, ValueError):
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
        return
    view = await _service(ctx).subjects(await actor_of(update, ctx), kind, org or None)
    await answer_callback(update)
    text, rows = render_list(loc, view, page)
    await reply(update, text, rows, edit=True)


# ---- writing a review ----------------------------------------------------------------------


def render_card(loc: str, card: SubjectCard, ctx: Ctx) -> str:
    """The computed figures that help the reviewer grade."""
    subject = card.subject
    who = (
        t(loc, "lr.card.member", name=subject.name, org=subject.org_name)
        if subject.kind is SubjectKind.MEMBER
        else t(loc, "lr.card.branch", name=subject.name)
    )
    f = card.figures
    lines = [
        who,
        t(loc, "lr.card.period", period=period_label(loc, card.period)),
        t(loc, "lr.card.figures", items=f.items, fulfilled=f.fulfilled, overdue=f.overdue),
        t(loc, "lr.card.last", last=last_progress_label(loc, f.last_progress_at, ctx.svc.clock)),
    ]
    if card.overdue:
        lines.append(t(loc, "lr.card.overdue_title"))
        lines += [
            t(
                loc,
                "lr.card.overdue_item",
                content=_short(item.content, 40),
                deadline=format_date(item.deadline, loc),
            )
            for item in card.overdue[:10]
        ]
    if card.reviewed_before:
        lines.append(t(loc, "lr.card.again"))
    lines.append("")
    lines.append(t(loc, "lr.ask_grade"))
    return "\n".join(lines)


def _grade_rows(loc: str) -> Rows:
    return [[button(grade_label(loc, g.value), "g", g.value) for g in Grade], _cancel_row(loc)]


async def pick_subject(update: Update, ctx: Ctx) -> ReviewState | int:
    """A subject button: check the scope, show the figures, ask for the grade."""
    loc = await locale_of(update, ctx)
    args = _args(update)
    try:
        if len(args) < 2:
            raise DomainError("error.stale_button")
        card = await _service(ctx).open_subject(
            await actor_of(update, ctx), args[1], _kind(args[0])
        )
    except DomainError as exc:
        await _refuse(update, loc, exc)
        _stop(ConversationHandler.END)
    data = _data(ctx)
    data[DRAFT_KEY] = ReviewDraft(subject=card.subject.key, period=card.period).dump()
    data[OVERDUE_KEY] = len(card.overdue)
    data[BOARD_KEY] = card.has_board
    data[NAME_KEY] = card.subject.name
    await answer_callback(update)
    await reply(update, render_card(loc, card, ctx), _grade_rows(loc))
    _stop(ReviewState.GRADE)


def _draft(ctx: Ctx) -> ReviewDraft | None:
    return ReviewDraft.load(_data(ctx).get(DRAFT_KEY))


def _save(ctx: Ctx, draft: ReviewDraft) -> None:
    _data(ctx)[DRAFT_KEY] = draft.dump()


def _forget(ctx: Ctx) -> None:
    data = _data(ctx)
    for key in (DRAFT_KEY, OVERDUE_KEY, BOARD_KEY, RESPOND_KEY, NAME_KEY):
        data.pop(key, None)


async def _lost(update: Update, ctx: Ctx, loc: str) -> NoReturn:
    """The draft is gone (e.g. timed out): say so and end."""
    _forget(ctx)
    if update.callback_query is not None:
        await answer_callback(update, t(loc, "error.stale_button"), alert=True)
    else:
        await reply(update, t(loc, "error.stale_button"))
    _stop(ConversationHandler.END)


async def choose_grade(update: Update, ctx: Ctx) -> int:
    """A grade button: ask for the comment."""
    loc = await locale_of(update, ctx)
    draft = _draft(ctx)
    args = _args(update)
    if draft is None or not args or args[0] not in {g.value for g in Grade}:
        await _lost(update, ctx, loc)
    draft.grade = args[0]
    _save(ctx, draft)
    await answer_callback(update)
    await _drop_buttons(update)
    await reply(
        update,
        t(loc, "lr.ask_comment", grade=grade_label(loc, draft.grade)),
        [_cancel_row(loc)],
        edit=False,
    )
    _stop(ReviewState.COMMENT)


async def receive_comment(update: Update, ctx: Ctx) -> int:
    """The comment: checked, then ask for points to rectify."""
    loc = await locale_of(update, ctx)
    draft = _draft(ctx)
    if draft is None:
        await _lost(update, ctx, loc)
    try:
        draft.comment = LeaderReviewService.check_comment(text_of(update))
    except DomainError as exc:
        await reply(update, exc.render(loc))
        _stop(ReviewState.COMMENT)
    _save(ctx, draft)
    await reply(
        update,
        t(loc, "lr.ask_points"),
        [[button(t(loc, "lr.btn.no_points"), "np")], _cancel_row(loc)],
    )
    _stop(ReviewState.POINTS)


async def _after_points(update: Update, ctx: Ctx, loc: str, draft: ReviewDraft) -> NoReturn:
    overdue = int(_data(ctx).get(OVERDUE_KEY) or 0)
    if overdue:
        rows = [
            [button(t(loc, "lr.btn.rectify_days", days=d), "rd", d) for d in RECTIFY_DAYS],
            [button(t(loc, "lr.btn.rectify_none"), "rd", 0)],
            _cancel_row(loc),
        ]
        await reply(update, t(loc, "lr.ask_rectify", count=overdue), rows)
        _stop(ReviewState.RECTIFY)
    await _ask_publish(update, ctx, loc, draft)


async def _ask_publish(update: Update, ctx: Ctx, loc: str, draft: ReviewDraft) -> NoReturn:
    if _data(ctx).get(BOARD_KEY):
        rows = [
            [
                button(t(loc, "lr.btn.publish"), "pb", 1),
                button(t(loc, "lr.btn.no_publish"), "pb", 0),
            ],
            _cancel_row(loc),
        ]
        await reply(update, t(loc, "lr.ask_publish"), rows)
        _stop(ReviewState.PUBLISH)
    draft.publish = False
    _save(ctx, draft)
    await _ask_confirm(update, ctx, loc, draft, no_board=True)


async def _ask_confirm(
    update: Update, ctx: Ctx, loc: str, draft: ReviewDraft, *, no_board: bool = False
) -> NoReturn:
    lines = [
        t(
            loc,
            "lr.confirm.title",
            name=str(_data(ctx).get(NAME_KEY) or ""),
            period=period_label(loc, draft.period),
        ),
        t(loc, "lr.line.grade", grade=grade_label(loc, draft.grade or "")),
        t(loc, "lr.line.comment", comment=draft.comment or ""),
        t(loc, "lr.line.points", points=draft.points or t(loc, "lr.confirm.no_points")),
    ]
    if draft.rectify_days:
        lines.append(t(loc, "lr.confirm.rectify", days=draft.rectify_days))
    if no_board:
        lines.append(t(loc, "lr.confirm.no_board"))
    else:
        lines.append(t(loc, "lr.confirm.publish" if draft.publish else "lr.confirm.private"))
    rows = [[button(t(loc, "lr.btn.send"), "ok")], _cancel_row(loc)]
    await reply(update, "\n".join(lines), rows)
    _stop(ReviewState.CONFIRM)


async def receive_points(update: Update, ctx: Ctx) -> int:
    """Points to rectify in words."""
    loc = await locale_of(update, ctx)
    draft = _draft(ctx)
    if draft is None:
        await _lost(update, ctx, loc)
    try:
        draft.points = LeaderReviewService.check_points(text_of(update))
    except DomainError as exc:
        await reply(update, exc.render(loc))
        _stop(ReviewState.POINTS)
    _save(ctx, draft)
    await _after_points(update, ctx, loc, draft)


async def skip_points(update: Update, ctx: Ctx) -> int:
    """无需整改."""
    loc = await locale_of(update, ctx)
    draft = _draft(ctx)
    if draft is None:
        await _lost(update, ctx, loc)
    draft.points = None
    _save(ctx, draft)
    await answer_callback(update)
    await _drop_buttons(update)
    await _after_points(update, ctx, loc, draft)


async def choose_rectify(update: Update, ctx: Ctx) -> int:
    """A rectification deadline (days from today), or none."""
    loc = await locale_of(update, ctx)
    draft = _draft(ctx)
    args = _args(update)
    if draft is None or not args or not args[0].isdigit():
        await _lost(update, ctx, loc)
    days = int(args[0])
    if days not in (0, *RECTIFY_DAYS):
        await _lost(update, ctx, loc)
    draft.rectify_days = days
    _save(ctx, draft)
    await answer_callback(update)
    await _drop_buttons(update)
    await _ask_publish(update, ctx, loc, draft)


async def choose_publish(update: Update, ctx: Ctx) -> int:
    """Publish to the branch group, or not."""
    loc = await locale_of(update, ctx)
    draft = _draft(ctx)
    args = _args(update)
    if draft is None or not args or args[0] not in ("0", "1"):
        await _lost(update, ctx, loc)
    draft.publish = args[0] == "1"
    _save(ctx, draft)
    await answer_callback(update)
    await _drop_buttons(update)
    await _ask_confirm(update, ctx, loc, draft)


async def confirm(update: Update, ctx: Ctx) -> int:
    """✅ 确认发送: store, deliver, publish (one unit of work in the service)."""
    loc = await locale_of(update, ctx)
    draft = _draft(ctx)
    if draft is None:
        await _lost(update, ctx, loc)
    try:
        done = await _service(ctx).submit(await actor_of(update, ctx), draft)
    except DomainError as exc:
        await _refuse(update, loc, exc)
        _forget(ctx)
        _stop(ConversationHandler.END)
    _forget(ctx)
    ctx.svc.outbox.wake()
    await answer_callback(update, t(loc, "lr.sent_short"))
    lines = [t(loc, "lr.sent", name=done.subject.name, period=period_label(loc, done.period))]
    lines.append(
        t(loc, "lr.sent.delivered", count=done.delivered)
        if done.delivered
        else t(loc, "lr.sent.nobody")
    )
    if done.published:
        lines.append(t(loc, "lr.sent.published"))
    if done.rectify_by is not None:
        lines.append(
            t(
                loc,
                "lr.sent.rectify",
                count=done.rectify_items,
                date=format_date(done.rectify_by, loc),
            )
        )
    lines.append(t(loc, "lr.sent.more"))
    await reply(update, "\n".join(lines), edit=True)
    _stop(ConversationHandler.END)


async def abort(update: Update, ctx: Ctx) -> int:
    """取消 (button) during a review: nothing is stored."""
    loc = await locale_of(update, ctx)
    _forget(ctx)
    await answer_callback(update)
    await reply(update, t(loc, "lr.cancelled"), edit=True)
    _stop(ConversationHandler.END)


async def cancel(update: Update, ctx: Ctx) -> int:
    """/cancel during a review or a statement: nothing is stored."""
    loc = await locale_of(update, ctx)
    data = _data(ctx)
    key = "lr.respond.cancelled" if data.get(RESPOND_KEY) else "lr.cancelled"
    _forget(ctx)
    await reply(update, t(loc, key))
    _stop(ConversationHandler.END)


async def stale_step(update: Update, ctx: Ctx) -> None:
    """A step button of this feature that the current step does not expect: say so, keep."""
    loc = await locale_of(update, ctx)
    await answer_callback(update, t(loc, "error.stale_button"), alert=True)
    _stop(None)


async def wrong_input(update: Update, ctx: Ctx) -> None:
    """Text while a button is expected: point at the buttons, keep the step."""
    loc = await locale_of(update, ctx)
    await reply(update, t(loc, "lr.use_buttons"))
    _stop(None)


# ---- the rectification statement (整改表态) ------------------------------------------------


async def ask_response(update: Update, ctx: Ctx) -> int:
    """✍️ 整改表态 on a delivered review: may I still answer? Then ask for it."""
    loc = await locale_of(update, ctx)
    args = _args(update)
    try:
        if not args or not args[0].isdigit():
            raise DomainError("error.stale_button")
        await _service(ctx).check_respond(await actor_of(update, ctx), int(args[0]))
    except DomainError as exc:
        await _refuse(update, loc, exc)
        _stop(ConversationHandler.END)
    _forget(ctx)
    _data(ctx)[RESPOND_KEY] = int(args[0])
    await answer_callback(update)
    await reply(update, t(loc, "lr.ask_response"))
    _stop(ReviewState.RESPONSE)


async def receive_response(update: Update, ctx: Ctx) -> int:
    """The statement: kept and sent to the reviewer."""
    loc = await locale_of(update, ctx)
    review_id = _data(ctx).get(RESPOND_KEY)
    if review_id is None:
        await _lost(update, ctx, loc)
    try:
        await _service(ctx).respond(await actor_of(update, ctx), int(review_id), text_of(update))
    except DomainError as exc:
        await reply(update, exc.render(loc))
        if exc.key.startswith("lr.response."):
            _stop(ReviewState.RESPONSE)
        _forget(ctx)
        _stop(ConversationHandler.END)
    _forget(ctx)
    ctx.svc.outbox.wake()
    await reply(update, t(loc, "lr.response.sent"))
    _stop(ConversationHandler.END)


# ---- history -------------------------------------------------------------------------------


def _history_line(loc: str, line: ReviewLine, received: bool, ctx: Ctx) -> str:
    review = line.review
    when = format_day(review.created_at, ctx.svc.clock.tz, loc)
    key = "lr.history.received_line" if received else "lr.history.given_line"
    text = t(
        loc,
        key,
        date=when,
        period=period_label(loc, review.period),
        reviewer=line.reviewer_name,
        subject=line.subject_name,
        grade=grade_label(loc, review.grade),
        comment=_short(review.comment, 60),
    )
    if review.response:
        text += "\n" + t(loc, "lr.history.response", text=_short(review.response, 60))
    elif received:
        text += "\n" + t(loc, "lr.history.no_response")
    return text


def _history_section(loc: str, key: str, lines: list[str]) -> list[str]:
    """A titled list; an empty one says so in its title ("the latest 0" says nothing)."""
    if not lines:
        return [t(loc, f"{key}.none")]
    return [t(loc, key, count=len(lines)), *lines]


def render_history(loc: str, history: History, ctx: Ctx) -> str:
    """Reviews received (newest first), then reviews given."""
    received = [_history_line(loc, line, True, ctx) for line in history.received]
    lines = _history_section(loc, "lr.history.received", received)
    if history.given or history.me.role.value in ("secretary", "committee", "leader"):
        given = [_history_line(loc, line, False, ctx) for line in history.given]
        lines += ["", *_history_section(loc, "lr.history.given", given)]
    return "\n".join(lines)


@guarded
async def show_history(update: Update, ctx: Ctx) -> None:
    """/comments: reviews received and given, with statements; unanswered ones get a button."""
    loc = await locale_of(update, ctx)
    history = await _service(ctx).history(await actor_of(update, ctx))
    rows = [
        [
            button(
                t(loc, "lr.btn.respond_to", period=period_label(loc, line.review.period)),
                "resp",
                line.review.id,
            )
        ]
        for line in history.received
        if line.review.response is None
    ][:5]
    await reply(update, render_history(loc, history, ctx), rows or None)


@guarded
async def stale_button(update: Update, ctx: Ctx) -> None:
    """A step button of a review that is no longer being written."""
    loc = await locale_of(update, ctx)
    await answer_callback(update, t(loc, "error.stale_button"), alert=True)


# ---- wiring --------------------------------------------------------------------------------


def _pattern(*actions: str) -> str:
    return actions_pattern(FEATURE, *actions)


STEP_ACTIONS = ("g", "np", "rd", "pb", "ok")


def build() -> list[BaseHandler[Update, Ctx, object]]:
    """Among the features: /comment, /comments, list paging, stale step buttons."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("comment", show_subjects, filters=private),
        CommandHandler("comments", show_history, filters=private),
        CallbackQueryHandler(list_page, pattern=_pattern("ls")),
        CallbackQueryHandler(stale_button, pattern=_pattern(*STEP_ACTIONS, "x")),
    ]


def build_conversation() -> list[BaseHandler[Update, Ctx, object]]:
    """Writing a review and answering one (a dialog in its own group before the features)."""
    private = filters.ChatType.PRIVATE
    text = filters.TEXT & ~filters.COMMAND & private
    anything = ~filters.COMMAND & private  # where a button is asked: text, sticker, photo…
    return [
        dialog(
            name="leader_review",
            entry_points=[
                CallbackQueryHandler(pick_subject, pattern=_pattern("s")),
                CallbackQueryHandler(ask_response, pattern=_pattern("resp")),
            ],
            states={
                ReviewState.GRADE: [
                    CallbackQueryHandler(choose_grade, pattern=_pattern("g")),
                    MessageHandler(anything, wrong_input),
                ],
                ReviewState.COMMENT: [MessageHandler(text, receive_comment)],
                ReviewState.POINTS: [
                    MessageHandler(text, receive_points),
                    CallbackQueryHandler(skip_points, pattern=_pattern("np")),
                ],
                ReviewState.RECTIFY: [
                    CallbackQueryHandler(choose_rectify, pattern=_pattern("rd")),
                    MessageHandler(anything, wrong_input),
                ],
                ReviewState.PUBLISH: [
                    CallbackQueryHandler(choose_publish, pattern=_pattern("pb")),
                    MessageHandler(anything, wrong_input),
                ],
                ReviewState.CONFIRM: [
                    CallbackQueryHandler(confirm, pattern=_pattern("ok")),
                    MessageHandler(anything, wrong_input),
                ],
                ReviewState.RESPONSE: [MessageHandler(text, receive_response)],
            },
            cancel=cancel,
            forget=_forget,
            resume="comment",
            timeout=TIMEOUT_SECONDS,
            fallbacks=[
                CallbackQueryHandler(abort, pattern=_pattern("x")),
                CallbackQueryHandler(stale_step, pattern=_pattern(*STEP_ACTIONS)),
            ],
        )
    ]
