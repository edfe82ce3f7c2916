"""The conversation helper: what every dialog shares, built once here.

A dialog (drafting a pledge, writing progress, a return comment, a notice, …) is a
python-telegram-bot ConversationHandler in a handler group of its own, before the features.
``dialog`` builds it with the rules every dialog keeps:

- What it takes goes no further: each of its handlers stops the update (ApplicationHandlerStop),
  so no later group also answers it ("我没有看懂" under a question) or takes it as input. A
  button that opens a dialog is the exception: the dialogs in later groups see it too, and
  so learn that they were left (no feature takes those buttons).
- Something a step cannot use (a sticker where words are asked, a photo where a button is)
  gets an answer that says what the step needs; the dialog stays where it was.
- ``/cancel`` is the dialog's own way out.
- Any other command, or a button of another feature, ends the dialog and the person is told
  so: what is kept, and how to come back. Then the command or button goes on to its feature.
  Only the dialog's own way back in (``resume``) and the buttons that finish it
  (``finishing_buttons``) end it without a word.

Dialogs move one by one onto the channel-neutral router (bot/chat/router.py, state in the
dialogs table); the pledge draft is there already, after these groups.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

from telegram import Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.context import Ctx
from bot.i18n import t
from handlers.common import locale_of, reply

Callback = Callable[[Update, Ctx], Coroutine[Any, Any, object]]
Handler = BaseHandler[Update, Ctx, object]


def _stopping(callback: Any) -> Callback:
    """The callback, then stop the update (its new state goes with the stop)."""

    @functools.wraps(callback)
    async def wrapper(update: Update, ctx: Ctx) -> object:
        state = await callback(update, ctx)
        raise ApplicationHandlerStop(state)

    return wrapper


def _taking(handler: Handler) -> Handler:
    handler.callback = _stopping(handler.callback)
    return handler


def _entry(handler: Handler) -> Handler:
    """A command that opens the dialog stops there; a button goes on to the later groups."""
    return handler if isinstance(handler, CallbackQueryHandler) else _taking(handler)


def command_of(update: Update) -> str | None:
    """The command a message starts with (``/progress@bot x`` → ``progress``), else None."""
    message = update.effective_message
    text = message.text if message is not None else None
    if not text or not text.startswith("/"):
        return None
    return text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else None


def dialog(
    *,
    name: str,
    entry_points: Sequence[Handler],
    states: Mapping[object, Sequence[Handler]],
    cancel: Callback,
    forget: Callable[[Ctx], None],
    resume: str,
    timeout: float,
    fallbacks: Sequence[Handler] = (),
    finishing_buttons: str | None = None,
    passing_buttons: str | None = None,
) -> ConversationHandler[Ctx]:
    """A dialog with the shared rules (see the module's docstring).

    ``name``: the persistence's name and the catalog's ``dialog.left.<name>`` (what is kept
    when the dialog is left); ``resume``: the command that comes back to it (without "/");
    ``forget``: drops what the dialog keeps in user_data when it ends; ``fallbacks``: the
    dialog's own, tried before the shared ones; ``finishing_buttons``: buttons that end it
    without a word; ``passing_buttons``: buttons that go on to their feature and leave it
    open. A message a step cannot use is answered with whether the step wants words or a
    button.
    """
    finishing = re.compile(finishing_buttons) if finishing_buttons else None

    async def left(update: Update, ctx: Ctx) -> int:
        """Another command or button: end, say so (unless it comes back here), let it go on."""
        forget(ctx)
        query = update.callback_query
        if query is not None:
            quiet = finishing is not None and finishing.match(query.data or "") is not None
        else:
            quiet = command_of(update) == resume
        if not quiet:
            await reply(update, t(await locale_of(update, ctx), f"dialog.left.{name}"))
        return ConversationHandler.END

    leaving: list[Handler] = [
        MessageHandler(filters.COMMAND, left),
        CallbackQueryHandler(left, pattern=f"^(?!{passing_buttons})" if passing_buttons else None),
    ]
    private = filters.ChatType.PRIVATE
    unusable = private & ~filters.COMMAND
    steps: dict[object, list[Handler]] = {}
    for state, handlers in states.items():
        if state == ConversationHandler.TIMEOUT:
            steps[state] = list(handlers)
            continue
        wants_words = any(
            isinstance(h, MessageHandler) and h.filters.check_update(_SAMPLE_TEXT)
            for h in handlers
        )
        answer = _ask_for_words if wants_words else _ask_for_a_button
        steps[state] = [_taking(h) for h in handlers]
        steps[state].append(MessageHandler(unusable, _stopping(answer)))
    with warnings.catch_warnings():
        # per_message=False is intended: a dialog is per person, buttons included.
        warnings.simplefilter("ignore", PTBUserWarning)
        return ConversationHandler(
            entry_points=[_entry(h) for h in entry_points],
            states=steps,
            fallbacks=[
                _taking(CommandHandler("cancel", cancel)),
                *(_taking(h) for h in fallbacks),
                *leaving,
            ],
            name=name,
            persistent=True,
            allow_reentry=True,
            conversation_timeout=timeout,
        )


async def _ask_for_words(update: Update, ctx: Ctx) -> None:
    await reply(update, t(await locale_of(update, ctx), "dialog.wants_words"))


async def _ask_for_a_button(update: Update, ctx: Ctx) -> None:
    await reply(update, t(await locale_of(update, ctx), "dialog.wants_button"))


def _sample_text() -> Update:
    """A private text message, to ask a step's handlers whether they take words."""
    return Update.de_json(
        {
            "update_id": 0,
            "message": {
                "message_id": 0,
                "date": 0,
                "chat": {"id": 1, "type": "private"},
                "from": {"id": 1, "is_bot": False, "first_name": "-"},
                "text": "-",
            },
        },
        None,
    )


_SAMPLE_TEXT = _sample_text()
