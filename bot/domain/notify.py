"""Writing to the outbox: every message the bot sends on its own goes through here.

Rows are channel-neutral intents (``bot.chat.intents``): a message, a live view, a ballot and
its closing, an edit of a message sent earlier, a file made when it is sent. They are written
in the caller's unit of work, so a message exists exactly when the state change that caused
it was committed; each channel's renderer turns them into its own calls within its limits
(splitting a long text is the renderer's business, not the domain's).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.chat.actions import Keyboard, stored
from bot.chat.intents import BALLOT, CLOSE_BALLOT, EDIT, FILE, MESSAGE
from bot.domain.models import Person
from bot.i18n import t
from bot.outbox.rows import intent_row, view_row
from storage.uow import UnitOfWork

__all__ = [
    "ballot_row",
    "close_ballot_row",
    "edit_row",
    "file_row",
    "message_row",
    "tell",
    "tell_text",
    "view_row",
]

# The longest text the domain puts on one screen it renders itself (a page of /ledger, the
# rankings): Telegram's, the channel with the longest messages; the outbox splits its own.
TEXT_LIMIT = 4096


def message_row(
    chat_id: int,
    text: str,
    now: datetime,
    *,
    buttons: Keyboard | None = None,
    title: str | None = None,
    attachment: dict[str, Any] | None = None,
    ref: str | None = None,
    sender_id: int | None = None,
    dedupe_key: str | None = None,
    broadcast_id: int | None = None,
) -> list[dict[str, Any]]:
    """The outbox row of one message (in a list, as rows are gathered for one insert).

    ``title`` heads the text (and is the attachment's caption when the whole does not fit in
    one); ``attachment``: ``{"type": "photo" | "document", "file": stored file id}``;
    ``ref``: the message is kept current under it (a later message with the ref replaces it
    where the channel can)."""
    payload: dict[str, Any] = {"text": text}
    if title:
        payload["title"] = title
    if buttons:
        payload["buttons"] = stored(buttons)
    if attachment:
        payload["attachment"] = attachment
    return [
        intent_row(
            chat_id,
            MESSAGE,
            payload,
            now,
            ref=ref,
            sender_id=sender_id,
            # ":0": the key as messages were stored when the domain split them (part 0), so a
            # key taken before still counts (evaluation.outbox_key_taken).
            dedupe_key=f"{dedupe_key}:0" if dedupe_key else None,
            broadcast_id=broadcast_id,
        )
    ]


def ballot_row(
    chat_id: int,
    question: str,
    options: Sequence[str],
    now: datetime,
    *,
    on_sent: str | None = None,
    dedupe_key: str | None = None,
    **tags: Any,
) -> dict[str, Any]:
    """A ballot: one question answered by choosing an option, the answer tied to the voter;
    ``tags`` (evaluation, subject, addressee) go with it to the ``on_sent`` hook."""
    payload: dict[str, Any] = {"question": question, "options": list(options), **tags}
    if on_sent:
        payload["on_sent"] = on_sent
    return intent_row(chat_id, BALLOT, payload, now, dedupe_key=dedupe_key)


def close_ballot_row(chat_id: int, message_id: int, now: datetime) -> dict[str, Any]:
    """The ballot sent as ``message_id`` (the outbox's record of it) takes no more answers."""
    return intent_row(chat_id, CLOSE_BALLOT, {"message_id": message_id}, now)


def edit_row(
    chat_id: int, message_id: int, buttons: Keyboard, now: datetime, *, text: str | None = None
) -> dict[str, Any]:
    """New buttons (and text) for a message the outbox sent earlier as ``message_id``."""
    payload: dict[str, Any] = {"message_id": message_id, "buttons": stored(buttons)}
    if text is not None:
        payload["text"] = text
    return intent_row(chat_id, EDIT, payload, now)


def file_row(
    chat_id: int,
    render: str,
    now: datetime,
    *,
    caption: str | None = None,
    kind: str = "photo",
    **params: Any,
) -> dict[str, Any]:
    """A file made when it is sent by the renderer registered as ``render`` (``params`` tell
    it what to make); shown as a picture (``photo``) or a document."""
    payload: dict[str, Any] = {"render": render, "type": kind, **params}
    if caption:
        payload["caption"] = caption
    return intent_row(chat_id, FILE, payload, now)


async def tell(
    uow: UnitOfWork,
    person: Person | None,
    key: str,
    now: datetime,
    *,
    buttons: Keyboard | None = None,
    **params: Any,
) -> bool:
    """Queue a message for a person in their language; False if they have no chat yet."""
    if person is None or person.tg_user_id is None:
        return False
    await uow.outbox.add(
        message_row(person.tg_user_id, t(person.locale, key, **params), now, buttons=buttons)
    )
    return True


async def tell_text(
    uow: UnitOfWork,
    person: Person | None,
    text: str,
    now: datetime,
    *,
    buttons: Keyboard | None = None,
) -> bool:
    """Queue an already rendered text for a person."""
    if person is None or person.tg_user_id is None:
        return False
    await uow.outbox.add(message_row(person.tg_user_id, text, now, buttons=buttons))
    return True
