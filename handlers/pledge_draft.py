"""定诺 in conversation: /pledge (and /oral for a secretary recording for a member).

The conversation's next question is derived from the stored draft (``next_step``), so a
restart, a lost state or an old button never loses or confuses what was entered.
"""

from __future__ import annotations

from datetime import timedelta

from bot.chat import features
from bot.chat.actions import Button, Keyboard, action
from bot.chat.events import Command, Event, Pressed, Text
from bot.chat.router import Conversation, Router, Turn
from bot.domain.dates import format_date
from bot.domain.enums import Category, Horizon, PledgerKind, PledgeStatus, Role
from bot.domain.errors import DomainError
from bot.domain.pledge_rules import cadre_gaps, categories_for
from bot.domain.pledges import ITEM_FIELDS, DraftView, Step
from bot.domain.render import pledge_card
from bot.domain.templates import suggested_topics
from bot.i18n import t

QUICK_DEADLINES = {"y": "年底", "m": "下月底"}
DRAFT = features.DRAFT  # the feature of every drafting button

router = Router()
# The draft is stored as it is answered: the dialog only points at it, and waits under
# whatever comes between (stays_open); a step is always derived from the stored draft.
drafting = router.dialog(
    "pledge_draft",
    resume="pledge",
    ttl=timedelta(hours=1),
    features=frozenset({DRAFT}),
    stays_open=True,
    expired="draft.timeout",
)
DRAFTING = "drafting"


def _b(text: str, name: str, *args: object) -> Button:
    return Button(text, action(DRAFT, name, *args))


def render_step(view: DraftView, loc: str) -> tuple[str, Keyboard]:
    """The question (and its buttons) for the draft's next step."""
    pledge = view.pledge
    key = (pledge.id, pledge.version)  # every button is for this version of the pledge
    step = view.step
    header = t(loc, "draft.header", name=view.pledger_name) if pledge.is_oral else ""
    pending = pledge.pending_item
    editing = pending is not None and pending.editing_item_id is not None
    # The item's number: its position when an existing item is re-asked, else the next one.
    n = len(pledge.items) + 1
    if pending is not None and pending.editing_item_id is not None:
        n = next(
            (k + 1 for k, i in enumerate(pledge.items) if i.id == pending.editing_item_id),
            len(pledge.items),
        )
    drop_row = [[_b(t(loc, "draft.btn.drop_item"), "drop", *key)]] if pledge.items else []
    text: str
    buttons: list[list[Button]]
    if step is Step.HORIZON:
        text = t(loc, "draft.ask.horizon")
        if view.annual_closed is not None:  # warned before the choice, not at submitting
            text += "\n\n" + _annual_closed(view, loc)
        buttons = [[_b(t(loc, f"horizon.{h.value}"), "hz", *key, h.value)] for h in Horizon]
    elif step is Step.CATEGORY:
        text = t(loc, "draft.ask.category", n=n)
        buttons = [
            [_b(t(loc, f"category.{c.value}"), "cat", *key, c.value)]
            for c in categories_for(pledge.pledger_kind)
        ] + drop_row
    elif step is Step.CONTENT:
        topics = suggested_topics(view.org.type, view.kind, loc)
        lines = [t(loc, "draft.ask.content", n=n)]
        if topics and not editing:
            lines.append(t(loc, "draft.topics"))
            lines += [f"{i + 1}. {topic}" for i, topic in enumerate(topics)]
        text = "\n".join(lines)
        buttons = (
            [[_b(f"{i + 1}", "tpl", *key, i) for i in range(len(topics))]]
            if topics and not editing
            else []
        ) + drop_row
    elif step is Step.TARGET:
        text = t(loc, "draft.ask.target")
        buttons = drop_row
    elif step is Step.DEADLINE:
        text = t(loc, "draft.ask.deadline")
        buttons = [
            [_b(t(loc, f"draft.btn.deadline.{k}"), "dl", *key, k) for k in QUICK_DEADLINES],
            *drop_row,
        ]
    elif step is Step.RESPONSIBLE:
        text = t(loc, "draft.ask.responsible")
        me = t(loc, _whose("draft.btn.me", view), name=view.pledger_name)
        buttons = [[_b(me, "me", *key)], *drop_row]
    else:
        text, buttons = _summary(view, loc)
    if step is not Step.HORIZON and _annual_blocked(view):
        text = f"{_annual_closed(view, loc)}\n\n{text}"
    return (f"{header}\n{text}" if header else text), buttons


def _whose(key: str, view: DraftView) -> str:
    """The form of ``key`` for whose pledge it is: one's own, a member's oral pledge recorded
    by the secretary (the secretary is not the pledger), or the branch's."""
    if view.kind is PledgerKind.BRANCH:
        return f"{key}.branch"
    return f"{key}.oral" if view.pledge.is_oral else key


def _annual_blocked(view: DraftView) -> bool:
    """An annual draft that could not be submitted today (outside the pledge window)."""
    pledge = view.pledge
    return (
        view.annual_closed is not None
        and pledge.horizon is Horizon.ANNUAL
        and pledge.status is PledgeStatus.DRAFT
    )


def _annual_closed(view: DraftView, loc: str) -> str:
    assert view.annual_closed is not None
    start, end = (format_date(day, loc) for day in view.annual_closed)
    return t(loc, "draft.annual_closed", start=start, end=end)


def _summary(view: DraftView, loc: str) -> tuple[str, list[list[Button]]]:
    pledge = view.pledge
    key = (pledge.id, pledge.version)
    parts = [
        t(loc, _whose("draft.summary", view), name=view.pledger_name),
        pledge_card(loc, pledge, view.pledger_name, view.org.name),
    ]
    # Warn a cadre before submitting; the reviewer sees the same flag.
    if pledge.pledger_kind is PledgerKind.MEMBER and view.pledger_is_cadre:
        gaps = cadre_gaps([i.category for i in pledge.items])
        if gaps:
            names = "、".join(t(loc, f"cadre.gap.{g}") for g in gaps)
            parts.append(t(loc, "draft.cadre_warning", gaps=names))
    buttons = [
        [_b(t(loc, "draft.btn.add"), "add", *key), _b(t(loc, "draft.btn.edit"), "edits", *key)],
        [_b(t(loc, "draft.btn.remove"), "rms", *key), _b(t(loc, "draft.btn.submit"), "sub", *key)],
        [_b(t(loc, "draft.btn.change_horizon"), "chz", *key)],
    ]
    if pledge.status is PledgeStatus.AMENDING:
        buttons.append([_b(t(loc, "draft.btn.abandon"), "abandon", *key)])
    elif pledge.status is PledgeStatus.DRAFT:
        buttons.append([_b(t(loc, "draft.btn.discard"), "disc", *key)])
    return "\n\n".join(parts), buttons


async def _show(turn: Turn, view: DraftView, *, edit: bool) -> None:
    """Ask the draft's next question; the dialog points at this draft."""
    _point_at(turn, view.pledge.id)
    text, buttons = render_step(view, turn.locale)
    if edit:
        await turn.out.edit(text, buttons)
    else:
        await turn.out.reply(text, buttons)


def _conversation(turn: Turn) -> Conversation:
    return turn.dialog(drafting)


def _point_at(turn: Turn, pledge_id: int | None) -> None:
    """The dialog waits at this draft (staged: written with the step's effect)."""
    conversation = _conversation(turn)
    current = conversation.data.get("pledge_id") if conversation.step else None
    if conversation.step != DRAFTING or current != pledge_id:
        if pledge_id is None:
            conversation.go(DRAFTING)
        else:
            conversation.go(DRAFTING, pledge_id=pledge_id)


@router.command("pledge")
async def start_pledge(ev: Command, turn: Turn) -> None:
    """/pledge: resume the open draft or start one (secretaries choose: own or branch)."""
    loc = turn.locale
    if ev.actor is not None and ev.actor.role is Role.SECRETARY:
        buttons = [
            [_b(t(loc, "draft.btn.kind.me"), "kind", "me")],
            [_b(t(loc, "draft.btn.kind.branch"), "kind", "br")],
        ]
        _point_at(turn, None)
        await turn.out.reply(t(loc, "draft.ask.kind"), buttons)
        return
    view = await turn.svc.pledges.open_draft(ev.person)
    if view.pledge.items or view.pledge.horizon:
        await turn.out.reply(t(loc, "draft.resumed"))
    await _show(turn, view, edit=False)


@router.command("oral")
async def start_oral(ev: Command, turn: Turn) -> None:
    """/oral: a secretary picks the member whose oral pledge they record."""
    loc = turn.locale
    members = await turn.svc.pledges.oral_candidates(ev.person)
    if not members:
        _conversation(turn).end()
        await turn.out.reply(t(loc, "oral.no_members"))
        return
    buttons = [[_b(("🗣 " if m.oral else "") + m.name, "oral", m.id)] for m in members[:90]]
    _point_at(turn, None)
    await turn.out.reply(t(loc, "oral.pick"), buttons)


@router.action(DRAFT)
async def on_button(ev: Pressed, turn: Turn) -> None:
    """Every drafting button: call one service method, show the next step."""
    assert ev.action is not None
    me = ev.person
    svc = turn.svc.pledges
    name, args = ev.action.name, ev.action.args
    if not args:
        _conversation(turn).end()
        raise DomainError("error.stale_button")
    try:
        if name == "kind":
            kind = PledgerKind.BRANCH if args[0] == "br" else PledgerKind.MEMBER
            view = await svc.open_draft(me, kind=kind)
        elif name == "oral":
            view = await svc.open_draft(me, on_behalf_of=ev.action.int_arg(0))
        else:
            pid, version = ev.action.int_arg(0), ev.action.int_arg(1)
            _point_at(turn, pid)  # written with the step's effect
            result = await _pledge_action(ev, turn, name, (pid, version), args[2:])
            if result is None:
                return
            view = result
    except (ValueError, IndexError, KeyError):  # malformed or tampered action
        raise DomainError("error.stale_button") from None
    await turn.out.notice()
    await _show(turn, view, edit=True)


async def _pledge_action(
    ev: Pressed, turn: Turn, name: str, key: tuple[int, int], args: tuple[str, ...]
) -> DraftView | None:
    """Run one button's action; a DraftView to show, or None if already answered.

    ``key``: the pledge and the version the button was made for; a button of an older
    version (e.g. "submit" on a pledge since submitted and returned) changes nothing."""
    me = ev.person
    loc = turn.locale
    svc = turn.svc.pledges
    pid, version = key
    if name == "open":  # only shows the draft as it is now, with buttons for this version
        return await svc.current_draft(me, pid)
    if name == "amend":
        return await svc.amend(me, pid, version=version)
    if name == "hz":
        return await svc.set_horizon(me, pid, Horizon(args[0]), version=version)
    if name == "cat":
        return await svc.answer(me, pid, Category(args[0]).value, version=version)
    if name == "tpl":
        view = await svc.current_draft(me, pid, version=version)
        topics = suggested_topics(view.org.type, view.kind, loc)
        return await svc.answer(me, pid, topics[int(args[0])], version=version)
    if name == "dl":
        return await svc.answer(me, pid, QUICK_DEADLINES[args[0]], version=version)
    if name == "me":
        return await svc.answer(me, pid, await svc.default_responsible(me, pid), version=version)
    if name == "chz":
        return await svc.change_horizon(me, pid, version=version)
    if name == "add":
        return await svc.start_item(me, pid, version=version)
    if name == "drop":
        return await svc.drop_pending(me, pid, version=version)
    if name in {"edits", "rms"}:
        view = await svc.current_draft(me, pid, version=version)
        follow = "ei" if name == "edits" else "rm"
        # Numbered as the card numbers them (positions keep gaps after a removal).
        rows = [
            [_b(f"{k}. {i.content[:30]}", follow, *key, i.id)]
            for k, i in enumerate(view.pledge.items, start=1)
        ]
        rows.append([_b(t(loc, "draft.btn.back"), "open", *key)])
        await turn.out.notice()
        question = "draft.ask.which_edit" if name == "edits" else "draft.ask.which_remove"
        await turn.out.edit(t(loc, question), rows)
        return None
    if name == "ei":
        item_id = int(args[0])
        rows = [
            [_b(t(loc, f"field.{f.value}"), "ef", *key, item_id, f.value)] for f in ITEM_FIELDS
        ]
        rows.append([_b(t(loc, "draft.btn.back"), "open", *key)])
        await turn.out.notice()
        await turn.out.edit(t(loc, "draft.ask.which_field"), rows)
        return None
    if name == "ef":
        return await svc.edit_item(me, pid, int(args[0]), Step(args[1]), version=version)
    if name == "rm":
        return await svc.remove_item(me, pid, int(args[0]), version=version)
    if name in {"sub", "disc", "abandon"}:
        await _finish(ev, turn, name, key)
        return None
    raise DomainError("error.stale_button")


async def _finish(ev: Pressed, turn: Turn, name: str, key: tuple[int, int]) -> None:
    """Submit, discard or abandon: the draft is done, and so is the dialog (with it)."""
    me, loc, svc = ev.person, turn.locale, turn.svc.pledges
    pid, version = key
    _conversation(turn).end()  # written with the submission, the discard, the abandon
    if name == "sub":
        view = await svc.submit(me, pid, version=version)
        turn.svc.outbox.wake()
        await turn.out.notice()
        card = pledge_card(loc, view.pledge, view.pledger_name, view.org.name)
        submitted = t(loc, _whose("draft.submitted", view), name=view.pledger_name)
        await turn.out.edit(submitted + "\n\n" + card)
    elif name == "disc":
        await svc.discard(me, pid, version=version)
        await turn.out.notice()
        await turn.out.edit(t(loc, "draft.discarded"))
    else:
        await svc.abandon_amendment(me, pid, version=version)
        await turn.out.notice()
        await turn.out.edit(t(loc, "draft.amendment_abandoned"))


@drafting.on(Text)
async def on_text(ev: Text, turn: Turn) -> None:
    """A typed answer to the current question."""
    me = ev.person
    loc = turn.locale
    svc = turn.svc.pledges
    pid = _conversation(turn).data.get("pledge_id")
    if pid is None:
        latest = await svc.latest_open_draft(me)
        if latest is None:
            _conversation(turn).end()
            await turn.out.reply(t(loc, "draft.none_open"))
            return
        pid = latest.pledge.id
    view = await svc.current_draft(me, int(pid))
    if view.step not in ITEM_FIELDS or view.step is Step.CATEGORY:
        await turn.out.reply(t(loc, "draft.use_buttons"))
        await _show(turn, view, edit=False)
        return
    _point_at(turn, view.pledge.id)  # written with the answer
    try:
        view = await svc.answer(me, int(pid), ev.text)
    except DomainError as exc:
        await turn.out.reply(exc.render(loc))
    await _show(turn, view, edit=False)


@drafting.off_topic
async def not_text(ev: Event, turn: Turn) -> None:
    """A photo, sticker, location…: say what the current step needs and ask it again."""
    loc = turn.locale
    pid = _conversation(turn).data.get("pledge_id")
    if pid is None:  # still choosing whose pledge it is: the buttons above
        await turn.out.reply(t(loc, "dialog.wants_button"))
        return
    view = await turn.svc.pledges.current_draft(ev.person, int(pid))
    wants_words = view.step in ITEM_FIELDS and view.step is not Step.CATEGORY
    await turn.out.reply(t(loc, "dialog.wants_words" if wants_words else "draft.use_buttons"))
    await _show(turn, view, edit=False)


@drafting.cancel
async def cancel(ev: Event, turn: Turn) -> None:
    """/cancel: leave; the draft stays and /pledge resumes it."""
    await turn.out.reply(t(turn.locale, "draft.cancelled"))
