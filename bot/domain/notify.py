"""Writing to the outbox: every message the bot sends on its own goes through here.

Rows are written in the caller's unit of work, so a message exists exactly when the state
change that caused it was committed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.chat.actions import Keyboard, stored
from bot.domain.models import Person
from bot.i18n import t
from storage.uow import UnitOfWork

# Telegram's limits count UTF-16 code units (an emoji such as 📢 counts two), not characters.
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


def utf16_len(text: str) -> int:
    """The length of ``text`` as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _fitting(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` UTF-16 code units (pairs kept whole)."""
    head = text[:limit]
    if utf16_len(head) <= limit:
        return len(head)
    # Characters outside the BMP take two units: keep whole ones (a cut pair is dropped).
    return len(head.encode("utf-16-le")[: 2 * limit].decode("utf-16-le", errors="ignore"))


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split a long text into Telegram-sized parts (``limit`` UTF-16 code units each),
    preferring line breaks."""
    parts: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        hard = _fitting(rest, limit)
        cut = rest.rfind("\n", 0, hard)
        if cut <= hard // 2:
            cut = hard
        parts.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    if rest or not parts:
        parts.append(rest)
    return parts


def message_row(
    chat_id: int,
    text: str,
    now: datetime,
    *,
    buttons: Keyboard | None = None,
    ref: str | None = None,
    sender_id: int | None = None,
    dedupe_key: str | None = None,
    method: str = "sendMessage",
) -> list[dict[str, Any]]:
    """Outbox rows for one text (split if long; buttons go with the last part)."""
    parts = split_text(text)
    rows: list[dict[str, Any]] = []
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        payload: dict[str, Any] = {"text": part}
        if last and buttons:
            payload["buttons"] = stored(buttons)
        rows.append(
            {
                "chat_id": chat_id,
                # Only a one-part message can be edited in place later.
                "method": method if len(parts) == 1 else "sendMessage",
                "payload": payload,
                "ref": ref if len(parts) == 1 else None,
                "status": "pending",
                "attempts": 0,
                "not_before": now,
                "sender_id": sender_id,
                "dedupe_key": f"{dedupe_key}:{index}" if dedupe_key else None,
                "created_at": now,
            }
        )
    return rows


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


async def post_board(uow: UnitOfWork, chat_id: int, ref: str, text: str, now: datetime) -> None:
    """Post to a board chat, or edit the post already made under ``ref``."""
    await uow.outbox.add(message_row(chat_id, text, now, ref=ref, method="upsert"))
